"""Scenarios from cardiology, pneumology and infectious disease (pure data; see ``vocab`` for the
spec format).

All phrases were written for this demo; clinical details are textbook-typical, not taken
from any published case.
"""

from .vocab import Scenario

PNEUMONIA = Scenario(
    key="pneumonia",
    age_years=(25, 90),
    diagnoses=(
        "community-acquired pneumonia | ambulant erworbene Pneumonie",
        "right lower lobe pneumonia | Unterlappenpneumonie rechts",
        "pneumococcal pneumonia | Pneumokokkenpneumonie",
    ),
    secondary=(
        "sepsis | Sepsis",
        "parapneumonic pleural effusion | parapneumonischer Pleuraerguss",
        "acute hypoxemic respiratory failure | akute hypoxämische respiratorische Insuffizienz",
    ),
    differentials=(
        "pulmonary embolism | Lungenembolie",
        "acute bronchitis | akute Bronchitis",
        "lung cancer | Lungenkarzinom",
        "pulmonary tuberculosis | Lungentuberkulose",
    ),
    symptoms=(
        ("fever for {v} days | Fieber seit {v} Tagen", 2, 7),
        "productive cough with yellow sputum | produktiver Husten mit gelblichem Auswurf",
        "pleuritic chest pain on the right side | atemabhängige Thoraxschmerzen rechts",
        ("shortness of breath for {v} days | Luftnot seit {v} Tagen", 2, 5),
        "chills | Schüttelfrost",
        "marked fatigue | ausgeprägte Abgeschlagenheit",
        "loss of appetite | Appetitlosigkeit",
    ),
    exam=(
        ("temperature of {v} °C | Temperatur {v} °C", 38.1, 40.2, 1),
        ("respiratory rate of {v} breaths per minute | Atemfrequenz {v}/min", 22, 34),
        ("oxygen saturation of {v}% on room air | Sauerstoffsättigung {v} % unter Raumluft", 84, 93),
        "crackles over the right lower lung field | feuchte Rasselgeräusche rechts basal",
        "dullness to percussion at the right base | Klopfschalldämpfung rechts basal",
    ),
    tests=(
        "chest radiograph showing consolidation of the right lower lobe | "
        "Röntgen-Thorax mit Konsolidierung im rechten Unterlappen",
        "blood cultures | Blutkulturen",
        "sputum culture growing Streptococcus pneumoniae | Sputumkultur mit Nachweis von Streptococcus pneumoniae",
        "pneumococcal urinary antigen test, positive | Pneumokokken-Antigentest im Urin, positiv",
        "CT of the chest showing lobar consolidation with air bronchogram | "
        "CT-Thorax mit lobärer Konsolidierung und Aerobronchogramm",
        "thoracic ultrasound showing a small pleural effusion | Thoraxsonographie mit kleinem Pleuraerguss",
    ),
    labs=(
        ("white blood cell count {v} × 10^9/L | Leukozyten {v} × 10^9/l", 12.0, 24.0, 1),
        ("C-reactive protein {v} mg/L | C-reaktives Protein {v} mg/l", 80, 320),
        ("procalcitonin {v} ng/mL | Procalcitonin {v} ng/ml", 0.6, 12.0, 1),
        ("sodium {v} mmol/L | Natrium {v} mmol/l", 128, 136),
        ("creatinine {v} mg/dL | Kreatinin {v} mg/dl", 0.8, 2.1, 1),
        ("lactate {v} mmol/L | Laktat {v} mmol/l", 1.2, 4.5, 1),
    ),
    drugs=(
        [
            (
                "ceftriaxone 2 g intravenously once daily for {v} days | "
                "Ceftriaxon 2 g intravenös einmal täglich für {v} Tage",
                5,
                7,
            ),
            ("amoxicillin 1 g three times daily for {v} days | Amoxicillin 1 g dreimal täglich für {v} Tage", 5, 7),
        ],
        ("azithromycin 500 mg once daily for {v} days | Azithromycin 500 mg einmal täglich für {v} Tage", 3, 5),
        "paracetamol 1 g as needed | Paracetamol 1 g bei Bedarf",
        ("supplemental oxygen at {v} L/min via nasal cannula | Sauerstoffgabe {v} l/min über Nasenbrille", 2, 4),
    ),
    interventions=(
        "ultrasound-guided chest tube drainage of the pleural effusion with rapid improvement | "
        "sonographisch gesteuerte Thoraxdrainage des Pleuraergusses mit rascher Besserung",
    ),
    p_interventions=0.15,
    outcomes=(
        ("discharged home on day {v} | Entlassung nach Hause am Tag {v}", 4, 10),
        "afebrile within 48 hours | innerhalb von 48 Stunden fieberfrei",
        (
            "free of symptoms at the follow-up visit after {v} weeks | "
            "beschwerdefrei bei der Kontrolle nach {v} Wochen",
            3,
            8,
        ),
        "found to have complete radiological resolution after 6 weeks | "
        "radiologisch vollständige Rückbildung nach 6 Wochen",
    ),
    comorbidities=("COPD GOLD stage 2 | COPD GOLD-Stadium 2",),
    social=("recent travel to Southeast Asia | kürzliche Reise nach Südostasien",),
    exclude=("chronic obstructive pulmonary disease",),
    discussion=(
        "Streptococcus pneumoniae remains the most frequently identified pathogen in community-acquired "
        "pneumonia. | Streptococcus pneumoniae ist weiterhin der am häufigsten nachgewiesene Erreger der "
        "ambulant erworbenen Pneumonie.",
        "Severity scores help to decide between outpatient and inpatient treatment. | "
        "Schweregrad-Scores helfen bei der Entscheidung zwischen ambulanter und stationärer Behandlung.",
    ),
)

MYOCARDIAL_INFARCTION = Scenario(
    key="myocardial_infarction",
    age_years=(38, 88),
    male_share=0.7,
    diagnoses=(
        "acute anterior ST-elevation myocardial infarction | akuter Vorderwand-ST-Hebungsinfarkt",
        "acute ST-elevation myocardial infarction | akuter ST-Hebungsinfarkt",
    ),
    secondary=(
        "cardiogenic shock | kardiogener Schock",
        "ventricular fibrillation | Kammerflimmern",
        "ischemic cardiomyopathy | ischämische Kardiomyopathie",
    ),
    differentials=(
        "aortic dissection | Aortendissektion",
        "pulmonary embolism | Lungenembolie",
        "acute pericarditis | akute Perikarditis",
    ),
    symptoms=(
        (
            "retrosternal chest pain radiating to the left arm for {v} hours | "
            "retrosternale Schmerzen mit Ausstrahlung in den linken Arm seit {v} Stunden",
            2,
            6,
        ),
        "diaphoresis | Kaltschweißigkeit",
        "nausea | Übelkeit",
        "dyspnea on exertion | Belastungsdyspnoe",
        "sense of impending doom | Todesangst",
    ),
    exam=(
        ("blood pressure of {v}/85 mmHg | Blutdruck {v}/85 mmHg", 95, 165),
        ("heart rate of {v} beats per minute | Herzfrequenz {v}/min", 88, 120),
        "pale and sweaty skin | blasse, schweißige Haut",
        "bibasal crackles | beidseits basale Rasselgeräusche",
    ),
    tests=(
        "12-lead ECG showing ST-segment elevation in leads V1 to V4 | 12-Kanal-EKG mit ST-Hebungen in V1 bis V4",
        "coronary angiography showing occlusion of the proximal left anterior descending artery | "
        "Koronarangiographie mit Verschluss des proximalen Ramus interventricularis anterior",
        (
            "transthoracic echocardiography with a left ventricular ejection fraction of {v}% | "
            "transthorakale Echokardiographie mit einer linksventrikulären Ejektionsfraktion von {v} %",
            30,
            50,
        ),
        "chest radiograph without pulmonary congestion | Röntgen-Thorax ohne pulmonale Stauung",
    ),
    labs=(
        ("high-sensitivity troponin T {v} ng/L | hochsensitives Troponin T {v} ng/l", 120, 980),
        ("creatine kinase {v} U/L | Kreatinkinase {v} U/l", 350, 990),
        ("LDL cholesterol {v} mg/dL | LDL-Cholesterin {v} mg/dl", 110, 210),
        ("HbA1c {v}% | HbA1c {v} %", 5.2, 8.4, 1),
        ("potassium {v} mmol/L | Kalium {v} mmol/l", 3.6, 4.9, 1),
    ),
    drugs=(
        "acetylsalicylic acid 500 mg intravenously as loading dose | "
        "Acetylsalicylsäure 500 mg intravenös als Aufsättigungsdosis",
        "ticagrelor 180 mg loading dose followed by 90 mg twice daily | "
        "Ticagrelor 180 mg Aufsättigung, danach 90 mg zweimal täglich",
        "unfractionated heparin 5000 IU intravenously | unfraktioniertes Heparin 5000 IE intravenös",
        "atorvastatin 80 mg once daily | Atorvastatin 80 mg einmal täglich",
        "bisoprolol 2.5 mg once daily | Bisoprolol 2,5 mg einmal täglich",
        "ramipril 2.5 mg once daily | Ramipril 2,5 mg einmal täglich",
    ),
    interventions=(
        "primary percutaneous coronary intervention with implantation of a drug-eluting stent and "
        "TIMI 3 flow | primäre perkutane Koronarintervention mit Implantation eines "
        "medikamentenbeschichteten Stents und TIMI-3-Fluss",
        "thrombus aspiration | Thrombusaspiration",
    ),
    p_interventions=0.97,
    outcomes=(
        ("discharged on day {v} in stable condition | Entlassung am Tag {v} in stabilem Zustand", 4, 9),
        "referred to cardiac rehabilitation | Anschlussheilbehandlung in der kardiologischen Rehabilitation",
        ("free of angina at the {v}-month follow-up | angina-frei bei der Kontrolle nach {v} Monaten", 3, 6),
    ),
    comorbidities=("peripheral arterial disease | periphere arterielle Verschlusskrankheit",),
    discussion=(
        "Door-to-balloon time is a key determinant of myocardial salvage. | "
        "Die Door-to-Balloon-Zeit ist entscheidend für das Ausmaß des geretteten Myokards.",
        "Secondary prevention includes dual antiplatelet therapy, statins and life style modification. | "
        "Die Sekundärprävention umfasst eine duale Plättchenhemmung, Statine und eine Lebensstiländerung.",
    ),
)

SARCOIDOSIS = Scenario(
    key="sarcoidosis",
    age_years=(22, 65),
    diagnoses=(
        "pulmonary sarcoidosis | pulmonale Sarkoidose",
        "sarcoidosis stage II | Sarkoidose Stadium II",
        "Löfgren syndrome | Löfgren-Syndrom",
    ),
    secondary=("erythema nodosum | Erythema nodosum", "hypercalcemia | Hyperkalzämie"),
    differentials=(
        "lymphoma | Lymphom",
        "tuberculosis | Tuberkulose",
        "hypersensitivity pneumonitis | exogen-allergische Alveolitis",
    ),
    symptoms=(
        ("dry cough for {v} months | trockener Husten seit {v} Monaten", 2, 6),
        "exertional dyspnea | Belastungsdyspnoe",
        "fatigue | Müdigkeit",
        "painful red nodules on both shins | schmerzhafte rote Knoten an beiden Unterschenkeln",
        ("weight loss of {v} kg | Gewichtsverlust von {v} kg", 3, 8),
    ),
    exam=(
        "swollen and tender ankles | geschwollene, druckschmerzhafte Sprunggelenke",
        "normal auscultation of the lungs | unauffälliger Auskultationsbefund der Lunge",
    ),
    tests=(
        "chest radiograph showing bilateral hilar lymphadenopathy | Röntgen-Thorax mit bihilärer Lymphadenopathie",
        "high-resolution CT showing perilymphatic nodules | hochauflösende CT mit perilymphatischen Knötchen",
        (
            "pulmonary function tests with a diffusing capacity of {v}% of predicted | "
            "Lungenfunktionsprüfung mit einer Diffusionskapazität von {v} % des Sollwerts",
            55,
            78,
        ),
        "bronchoalveolar lavage with a CD4/CD8 ratio of 5.2 | "
        "bronchoalveoläre Lavage mit einem CD4/CD8-Quotienten von 5,2",
        "interferon-gamma release assay, negative | Interferon-Gamma-Release-Assay, negativ",
        "ophthalmological examination without uveitis | augenärztliche Untersuchung ohne Uveitis",
    ),
    biopsy="endobronchial ultrasound-guided transbronchial needle aspiration of mediastinal lymph nodes | "
    "endobronchial-ultraschallgesteuerte transbronchiale Nadelaspiration mediastinaler Lymphknoten",
    p_biopsy=0.85,
    pathology=(
        "non-caseating epithelioid cell granulomas | nicht verkäsende epitheloidzellige Granulome",
        "multinucleated giant cells | mehrkernige Riesenzellen",
        "no acid-fast bacilli on Ziehl-Neelsen staining | keine säurefesten Stäbchen in der Ziehl-Neelsen-Färbung",
        "no evidence of malignancy | kein Anhalt für Malignität",
    ),
    labs=(
        ("angiotensin-converting enzyme {v} U/L | Angiotensin-Converting-Enzym {v} U/l", 70, 160),
        ("serum calcium {v} mmol/L | Serumcalcium {v} mmol/l", 2.3, 2.9, 2),
        ("soluble interleukin-2 receptor {v} U/mL | löslicher Interleukin-2-Rezeptor {v} U/ml", 900, 2800),
        ("C-reactive protein {v} mg/L | C-reaktives Protein {v} mg/l", 5, 40),
        ("lymphocytes {v} × 10^9/L | Lymphozyten {v} × 10^9/l", 0.6, 1.2, 1),
    ),
    drugs=(
        "prednisolone 40 mg daily, tapered over 6 months | Prednisolon 40 mg täglich, ausgeschlichen über 6 Monate",
        "naproxen 500 mg twice daily | Naproxen 500 mg zweimal täglich",
        "methotrexate 15 mg once weekly | Methotrexat 15 mg einmal wöchentlich",
        "pantoprazole 20 mg daily | Pantoprazol 20 mg täglich",
    ),
    p_drugs=0.8,
    outcomes=(
        "clinically improved after 3 months | nach 3 Monaten klinisch gebessert",
        "found to have regression of hilar lymphadenopathy on follow-up imaging | "
        "Rückbildung der hilären Lymphadenopathie in der Verlaufsbildgebung",
        "scheduled for pulmonary function tests every 6 months | Lungenfunktionskontrollen alle 6 Monate geplant",
    ),
    incidental_ok=True,
    discussion=(
        "Sarcoidosis is a diagnosis of exclusion that requires histological confirmation in most cases. | "
        "Die Sarkoidose ist eine Ausschlussdiagnose, die in den meisten Fällen eine histologische "
        "Sicherung erfordert.",
        "Many patients with stage I or II disease do not need systemic treatment. | "
        "Viele Patienten im Stadium I oder II benötigen keine systemische Therapie.",
    ),
)

TUBERCULOSIS = Scenario(
    key="tuberculosis",
    age_years=(18, 80),
    male_share=0.6,
    diagnoses=(
        "pulmonary tuberculosis | Lungentuberkulose",
        "cavitary pulmonary tuberculosis | kavernöse Lungentuberkulose",
    ),
    secondary=("tuberculous pleurisy | tuberkulöse Pleuritis", "malnutrition | Mangelernährung"),
    differentials=(
        "lung cancer | Lungenkarzinom",
        "nontuberculous mycobacterial infection | Infektion mit nichttuberkulösen Mykobakterien",
        "fungal pneumonia | Pilzpneumonie",
        "sarcoidosis | Sarkoidose",
    ),
    symptoms=(
        ("productive cough for {v} weeks | produktiver Husten seit {v} Wochen", 3, 12),
        "hemoptysis | Hämoptysen",
        "night sweats | Nachtschweiß",
        ("weight loss of {v} kg | Gewichtsverlust von {v} kg", 4, 15),
        "low-grade evening fever | subfebrile Temperaturen am Abend",
        "fatigue | Abgeschlagenheit",
    ),
    exam=(
        "cachexia | Kachexie",
        "bronchial breathing over the right upper lobe | Bronchialatmen über dem rechten Oberlappen",
        ("body mass index of {v} kg/m² | Body-Mass-Index von {v} kg/m²", 16.5, 19.5, 1),
    ),
    tests=(
        "chest radiograph showing a cavity in the right upper lobe | Röntgen-Thorax mit Kaverne im rechten Oberlappen",
        "sputum smear positive for acid-fast bacilli | Sputumausstrich mit Nachweis säurefester Stäbchen",
        "GeneXpert MTB/RIF detecting Mycobacterium tuberculosis without rifampicin resistance | "
        "GeneXpert MTB/RIF mit Nachweis von Mycobacterium tuberculosis ohne Rifampicin-Resistenz",
        "sputum culture confirming drug-susceptible Mycobacterium tuberculosis | "
        "Sputumkultur mit Bestätigung eines sensiblen Mycobacterium tuberculosis",
        "CT of the chest showing tree-in-bud opacities | CT-Thorax mit Tree-in-Bud-Verdichtungen",
        "HIV test, negative | HIV-Test, negativ",
    ),
    biopsy="bronchoscopy with transbronchial biopsy | Bronchoskopie mit transbronchialer Biopsie",
    p_biopsy=0.35,
    pathology=(
        "caseating granulomatous inflammation | verkäsende granulomatöse Entzündung",
        "Langhans giant cells | Langhans-Riesenzellen",
        "acid-fast bacilli on Ziehl-Neelsen staining | säurefeste Stäbchen in der Ziehl-Neelsen-Färbung",
    ),
    labs=(
        ("C-reactive protein {v} mg/L | C-reaktives Protein {v} mg/l", 20, 110),
        ("hemoglobin {v} g/dL | Hämoglobin {v} g/dl", 9.2, 12.4, 1),
        ("albumin {v} g/dL | Albumin {v} g/dl", 2.6, 3.5, 1),
        ("erythrocyte sedimentation rate {v} mm/h | Blutsenkungsgeschwindigkeit {v} mm/h", 40, 100),
        ("alanine aminotransferase {v} U/L | Alanin-Aminotransferase {v} U/l", 18, 45),
    ),
    core_drugs=(
        "isoniazid, rifampicin, pyrazinamide and ethambutol for 2 months followed by isoniazid and "
        "rifampicin for 4 months | Isoniazid, Rifampicin, Pyrazinamid und Ethambutol für 2 Monate, "
        "gefolgt von Isoniazid und Rifampicin für 4 Monate",
    ),
    drugs=("pyridoxine 50 mg daily | Pyridoxin 50 mg täglich",),
    outcomes=(
        "found to be culture-negative after 2 months of treatment | Kulturkonversion nach 2 Monaten Therapie",
        "gaining weight under treatment | Gewichtszunahme unter Therapie",
        "cured at the end of 6 months of treatment | geheilt nach Abschluss der 6-monatigen Therapie",
        "reported to the public health office for contact tracing | "
        "Meldung an das Gesundheitsamt zur Umgebungsuntersuchung",
    ),
    social=(
        ("homeless for {v} months | seit {v} Monaten wohnungslos", 3, 24),
        "recent immigration from a high-incidence country | kürzliche Einwanderung aus einem Hochinzidenzland",
        "contact with a relative with tuberculosis | Kontakt zu einem an Tuberkulose erkrankten Verwandten",
    ),
    exclude=("obesity",),
    discussion=(
        "A negative HIV test should be documented in every patient with tuberculosis. | "
        "Bei jeder Tuberkulose sollte ein HIV-Test dokumentiert werden.",
        "Directly observed therapy improves adherence to the six-month regimen. | "
        "Eine direkt überwachte Therapie verbessert die Adhärenz über die sechs Monate.",
    ),
)

PULMONARY_EMBOLISM = Scenario(
    key="pulmonary_embolism",
    age_years=(25, 85),
    diagnoses=(
        "acute pulmonary embolism | akute Lungenembolie",
        "bilateral central pulmonary embolism | beidseitige zentrale Lungenembolie",
        "intermediate-high-risk pulmonary embolism | Lungenembolie mit intermediär-hohem Risiko",
    ),
    secondary=(
        "deep vein thrombosis of the left leg | tiefe Beinvenenthrombose links",
        "pulmonary infarction | Lungeninfarkt",
        "right ventricular dysfunction | rechtsventrikuläre Dysfunktion",
    ),
    differentials=(
        "acute coronary syndrome | akutes Koronarsyndrom",
        "pneumonia | Pneumonie",
        "pneumothorax | Pneumothorax",
    ),
    symptoms=(
        ("sudden dyspnea {v} hours before admission | plötzliche Luftnot {v} Stunden vor Aufnahme", 2, 12),
        "pleuritic chest pain | atemabhängige Thoraxschmerzen",
        "syncope | Synkope",
        "painful swelling of the left calf | schmerzhafte Schwellung der linken Wade",
        "hemoptysis | Hämoptysen",
    ),
    exam=(
        ("heart rate of {v} beats per minute | Herzfrequenz {v}/min", 104, 135),
        ("oxygen saturation of {v}% on room air | Sauerstoffsättigung {v} % unter Raumluft", 82, 93),
        ("blood pressure of {v}/70 mmHg | Blutdruck {v}/70 mmHg", 95, 140),
        "distended jugular veins | gestaute Halsvenen",
    ),
    tests=(
        "CT pulmonary angiography showing filling defects in both main pulmonary arteries | "
        "CT-Pulmonalisangiographie mit Füllungsdefekten in beiden Pulmonalarterienhauptstämmen",
        "compression ultrasound of the leg veins showing thrombosis of the left popliteal vein | "
        "Kompressionssonographie der Beinvenen mit Thrombose der linken Vena poplitea",
        "echocardiography showing a dilated right ventricle | Echokardiographie mit dilatiertem rechtem Ventrikel",
        "ECG with an S1Q3T3 pattern | EKG mit S1Q3T3-Muster",
        ("Wells score of {v} | Wells-Score von {v}", 5, 9),
    ),
    labs=(
        ("D-dimer {v} mg/L | D-Dimere {v} mg/l", 2.1, 9.8, 1),
        ("high-sensitivity troponin T {v} ng/L | hochsensitives Troponin T {v} ng/l", 15, 90),
        ("NT-proBNP {v} pg/mL | NT-proBNP {v} pg/ml", 450, 3900),
        ("partial pressure of oxygen {v} mmHg | Sauerstoffpartialdruck {v} mmHg", 52, 72),
        ("creatinine {v} mg/dL | Kreatinin {v} mg/dl", 0.7, 1.4, 1),
    ),
    drugs=(
        [
            "unfractionated heparin infusion | unfraktionierte Heparin-Infusion",
            ("enoxaparin 1 mg/kg twice daily for {v} days | Enoxaparin 1 mg/kg zweimal täglich für {v} Tage", 3, 7),
        ],
        [
            "rivaroxaban 15 mg twice daily for 21 days, then 20 mg once daily | "
            "Rivaroxaban 15 mg zweimal täglich für 21 Tage, danach 20 mg einmal täglich",
            "apixaban 10 mg twice daily for 7 days, then 5 mg twice daily | "
            "Apixaban 10 mg zweimal täglich für 7 Tage, danach 5 mg zweimal täglich",
        ],
        "systemic thrombolysis with alteplase 100 mg over 2 hours | "
        "systemische Thrombolyse mit Alteplase 100 mg über 2 Stunden",
    ),
    p_drugs=0.97,
    interventions=(
        "catheter-directed thrombolysis with rapid hemodynamic improvement | "
        "kathetergesteuerte Thrombolyse mit rascher hämodynamischer Besserung",
    ),
    p_interventions=0.15,
    outcomes=(
        ("discharged on day {v} on oral anticoagulation | Entlassung am Tag {v} unter oraler Antikoagulation", 4, 9),
        "advised to continue anticoagulation for at least 3 months | "
        "Empfehlung zur Fortführung der Antikoagulation für mindestens 3 Monate",
        "free of dyspnea at the 3-month follow-up | ohne Luftnot bei der Kontrolle nach 3 Monaten",
    ),
    history=(
        ("knee replacement surgery {v} weeks earlier | Knie-Totalendoprothese vor {v} Wochen", 2, 6),
        "F:combined oral contraceptive use | Einnahme eines kombinierten oralen Kontrazeptivums",
    ),
    social=(("long-haul flight {v} days before symptom onset | Langstreckenflug {v} Tage vor Symptombeginn", 2, 10),),
    discussion=(
        "Risk stratification with imaging and biomarkers guides the choice of reperfusion therapy. | "
        "Die Risikostratifizierung mit Bildgebung und Biomarkern bestimmt die Wahl der Reperfusionstherapie.",
    ),
)

HEART_LUNG_SCENARIOS = (PNEUMONIA, MYOCARDIAL_INFARCTION, SARCOIDOSIS, TUBERCULOSIS, PULMONARY_EMBOLISM)
