"""Scenarios from haematology (lymphomas) and paediatrics (pure data).

Paediatric scenarios give the age in months (``age_months``); under two years it is
written in months, from two years on in years.
"""

from .vocab import Scenario

HODGKIN = Scenario(
    key="hodgkin_lymphoma",
    age_years=(18, 45),
    diagnoses=(
        "classical Hodgkin lymphoma, nodular sclerosis subtype | "
        "klassisches Hodgkin-Lymphom, nodulär-sklerosierender Subtyp",
        "classical Hodgkin lymphoma stage IIB | klassisches Hodgkin-Lymphom Stadium IIB",
    ),
    secondary=("anemia of chronic disease | Anämie bei chronischer Erkrankung",),
    differentials=(
        "sarcoidosis | Sarkoidose",
        "tuberculous lymphadenitis | tuberkulöse Lymphadenitis",
        "infectious mononucleosis | infektiöse Mononukleose",
        "non-Hodgkin lymphoma | Non-Hodgkin-Lymphom",
    ),
    symptoms=(
        (
            "painless swelling on the left side of the neck for {v} weeks | "
            "schmerzlose Schwellung links zervikal seit {v} Wochen",
            3,
            10,
        ),
        "drenching night sweats | ausgeprägter Nachtschweiß",
        ("unintentional weight loss of {v} kg | ungewollter Gewichtsverlust von {v} kg", 4, 12),
        "generalized pruritus | generalisierter Juckreiz",
        ("intermittent fever up to {v} °C | intermittierendes Fieber bis {v} °C", 38.0, 39.2, 1),
        "dry cough | trockener Husten",
    ),
    exam=(
        ("firm, non-tender cervical lymph node of {v} cm | derber, indolenter zervikaler Lymphknoten von {v} cm", 2, 5),
        "supraclavicular lymphadenopathy | supraklavikuläre Lymphadenopathie",
        "no hepatosplenomegaly | keine Hepatosplenomegalie",
    ),
    tests=(
        "cervical ultrasound showing enlarged lymph nodes with loss of the fatty hilum | "
        "Halssonographie mit vergrößerten Lymphknoten ohne Fetthilus",
        "PET-CT showing FDG-avid mediastinal and cervical lymph nodes | "
        "PET-CT mit FDG-aviden mediastinalen und zervikalen Lymphknoten",
        "echocardiography before chemotherapy with normal function | "
        "Echokardiographie vor Chemotherapie mit normaler Pumpfunktion",
        "pulmonary function testing before bleomycin | Lungenfunktionsprüfung vor Bleomycin-Gabe",
    ),
    biopsy="excisional biopsy of a cervical lymph node | Exzisionsbiopsie eines zervikalen Lymphknotens",
    p_biopsy=1.0,
    pathology=(
        "Hodgkin and Reed-Sternberg cells | Hodgkin- und Reed-Sternberg-Zellen",
        "tumor cells positive for CD30 and CD15 | Tumorzellen positiv für CD30 und CD15",
        "CD20-negative tumor cells | CD20-negative Tumorzellen",
        "fibrous bands dividing the lymph node into nodules | fibröse Bänder mit nodulärer Gliederung des Lymphknotens",
    ),
    labs=(
        ("erythrocyte sedimentation rate {v} mm/h | Blutsenkungsgeschwindigkeit {v} mm/h", 35, 90),
        ("hemoglobin {v} g/dL | Hämoglobin {v} g/dl", 9.5, 12.8, 1),
        ("lactate dehydrogenase {v} U/L | Laktatdehydrogenase {v} U/l", 220, 480),
        ("albumin {v} g/dL | Albumin {v} g/dl", 3.0, 3.9, 1),
        ("white blood cell count {v} × 10^9/L | Leukozyten {v} × 10^9/l", 9.0, 16.5, 1),
    ),
    core_drugs=(
        [
            (
                "{v} cycles of ABVD chemotherapy (doxorubicin, bleomycin, vinblastine, dacarbazine) | "
                "{v} Zyklen ABVD-Chemotherapie (Doxorubicin, Bleomycin, Vinblastin, Dacarbazin)",
                2,
                6,
            ),
            ("{v} cycles of escalated BEACOPP | {v} Zyklen BEACOPP eskaliert", 2, 4),
        ],
    ),
    drugs=(
        "ondansetron 8 mg before each cycle | Ondansetron 8 mg vor jedem Zyklus",
        "pegfilgrastim 6 mg after each cycle | Pegfilgrastim 6 mg nach jedem Zyklus",
    ),
    p_drugs=0.97,
    interventions=(
        "involved-site radiotherapy with 30 Gy | Involved-Site-Radiotherapie mit 30 Gy",
        "implantation of a central venous port | Implantation eines zentralvenösen Portsystems",
    ),
    p_interventions=0.5,
    outcomes=(
        "in complete metabolic remission on interim PET-CT | komplette metabolische Remission in der Interim-PET-CT",
        ("in continued remission after {v} months | anhaltende Remission nach {v} Monaten", 12, 36),
        "enrolled in a survivorship follow-up program | Aufnahme in ein Nachsorgeprogramm",
    ),
    discussion=(
        "Hodgkin lymphoma has a bimodal age distribution with a first peak in young adults. | "
        "Das Hodgkin-Lymphom zeigt eine zweigipflige Altersverteilung mit einem ersten Gipfel im jungen "
        "Erwachsenenalter.",
        "Cure rates exceed 80% with modern risk-adapted therapy. | "
        "Mit moderner risikoadaptierter Therapie liegen die Heilungsraten über 80 %.",
    ),
)

DLBCL = Scenario(
    key="large_b_cell_lymphoma",
    age_years=(45, 85),
    diagnoses=(
        "diffuse large B-cell lymphoma | diffus großzelliges B-Zell-Lymphom",
        "diffuse large B-cell lymphoma, Ann Arbor stage III | "
        "diffus großzelliges B-Zell-Lymphom, Ann-Arbor-Stadium III",
    ),
    secondary=(
        "tumor lysis syndrome | Tumorlysesyndrom",
        "hydronephrosis due to lymphoma compression | Hydronephrose durch Lymphomkompression",
    ),
    differentials=(
        "metastatic carcinoma | metastasiertes Karzinom",
        "follicular lymphoma | follikuläres Lymphom",
        "tuberculosis | Tuberkulose",
    ),
    symptoms=(
        "abdominal fullness | abdominelles Völlegefühl",
        ("night sweats for {v} weeks | Nachtschweiß seit {v} Wochen", 2, 8),
        ("weight loss of {v} kg in 3 months | Gewichtsverlust von {v} kg in 3 Monaten", 5, 14),
        "painless axillary swelling | schmerzlose axilläre Schwellung",
        "fatigue | Abgeschlagenheit",
    ),
    exam=(
        "bulky lymphadenopathy in the left axilla | ausgeprägte Lymphadenopathie links axillär",
        "palpable splenomegaly | tastbare Splenomegalie",
        "palpable abdominal mass | tastbare abdominelle Raumforderung",
    ),
    tests=(
        "CT of the chest, abdomen and pelvis showing retroperitoneal lymph node conglomerates | "
        "CT von Thorax, Abdomen und Becken mit retroperitonealen Lymphknotenkonglomeraten",
        "PET-CT showing FDG-avid disease above and below the diaphragm | "
        "PET-CT mit FDG-aviden Manifestationen ober- und unterhalb des Zwerchfells",
        "bone marrow aspiration | Knochenmarkpunktion",
        "echocardiography with normal ejection fraction | Echokardiographie mit normaler Ejektionsfraktion",
    ),
    biopsy="core needle biopsy of an axillary lymph node | Stanzbiopsie eines axillären Lymphknotens",
    p_biopsy=1.0,
    pathology=(
        "diffuse infiltration by large atypical lymphoid cells | "
        "diffuse Infiltration durch große atypische lymphatische Zellen",
        "tumor cells positive for CD20 and BCL6 | Tumorzellen positiv für CD20 und BCL6",
        ("Ki-67 proliferation index of {v}% | Ki-67-Proliferationsindex von {v} %", 60, 95),
        "no MYC rearrangement on fluorescence in situ hybridization | "
        "kein MYC-Rearrangement in der Fluoreszenz-in-situ-Hybridisierung",
    ),
    labs=(
        ("lactate dehydrogenase {v} U/L | Laktatdehydrogenase {v} U/l", 320, 980),
        ("uric acid {v} mg/dL | Harnsäure {v} mg/dl", 5.5, 10.5, 1),
        ("beta-2 microglobulin {v} mg/L | Beta-2-Mikroglobulin {v} mg/l", 2.5, 6.8, 1),
        ("hemoglobin {v} g/dL | Hämoglobin {v} g/dl", 8.9, 12.5, 1),
        ("platelets {v} × 10^9/L | Thrombozyten {v} × 10^9/l", 110, 420),
    ),
    core_drugs=(
        [
            (
                "{v} cycles of R-CHOP (rituximab, cyclophosphamide, doxorubicin, vincristine, prednisone) | "
                "{v} Zyklen R-CHOP (Rituximab, Cyclophosphamid, Doxorubicin, Vincristin, Prednison)",
                4,
                6,
            ),
            ("{v} cycles of Pola-R-CHP | {v} Zyklen Pola-R-CHP", 4, 6),
        ],
    ),
    drugs=(
        "allopurinol 300 mg daily | Allopurinol 300 mg täglich",
        "cotrimoxazole prophylaxis three times weekly | Cotrimoxazol-Prophylaxe dreimal wöchentlich",
        "aciclovir 400 mg twice daily | Aciclovir 400 mg zweimal täglich",
    ),
    p_drugs=0.97,
    interventions=(
        "consolidative radiotherapy of residual bulky disease | konsolidierende Radiotherapie des residuellen Bulks",
        "ureteral stent placement | Einlage einer Harnleiterschiene",
    ),
    p_interventions=0.3,
    outcomes=(
        "in complete remission at the end of treatment | komplette Remission am Therapieende",
        ("alive without relapse after {v} months | rezidivfrei lebend nach {v} Monaten", 12, 30),
        "followed up every 3 months | Nachsorge alle 3 Monate",
    ),
    discussion=(
        "The International Prognostic Index remains useful for risk assessment. | "
        "Der Internationale Prognostische Index ist weiterhin hilfreich zur Risikoabschätzung.",
    ),
)

BRONCHIOLITIS = Scenario(
    key="bronchiolitis",
    age_years=None,
    age_months=(2, 18),
    diagnoses=("acute bronchiolitis | akute Bronchiolitis", "RSV bronchiolitis | RSV-Bronchiolitis"),
    secondary=("acute otitis media | akute Otitis media", "dehydration | Dehydratation"),
    differentials=("pneumonia | Pneumonie", "pertussis | Pertussis", "foreign body aspiration | Fremdkörperaspiration"),
    symptoms=(
        ("rhinorrhea for {v} days | Rhinorrhö seit {v} Tagen", 2, 5),
        "cough | Husten",
        "poor feeding | Trinkschwäche",
        ("fever up to {v} °C | Fieber bis {v} °C", 37.8, 39.2, 1),
        "fewer wet diapers | weniger nasse Windeln",
    ),
    exam=(
        ("respiratory rate of {v} breaths per minute | Atemfrequenz {v}/min", 48, 72),
        "subcostal retractions | subkostale Einziehungen",
        "nasal flaring | Nasenflügeln",
        "diffuse wheezing and fine crackles | diffuses Giemen und feinblasige Rasselgeräusche",
        ("oxygen saturation of {v}% on room air | Sauerstoffsättigung {v} % unter Raumluft", 86, 93),
    ),
    tests=(
        "rapid antigen test positive for respiratory syncytial virus | "
        "Antigen-Schnelltest positiv für Respiratorisches Synzytial-Virus",
        "multiplex PCR of a nasopharyngeal swab detecting RSV | "
        "Multiplex-PCR aus einem Nasopharyngealabstrich mit Nachweis von RSV",
        "chest radiograph showing hyperinflation and peribronchial thickening | "
        "Röntgen-Thorax mit Überblähung und peribronchialer Zeichnungsvermehrung",
        "capillary blood gas analysis | kapilläre Blutgasanalyse",
    ),
    labs=(
        ("C-reactive protein {v} mg/L | C-reaktives Protein {v} mg/l", 2, 25),
        ("capillary pCO2 {v} mmHg | kapillärer pCO2 {v} mmHg", 38, 58),
        ("white blood cell count {v} × 10^9/L | Leukozyten {v} × 10^9/l", 6.5, 15.5, 1),
        ("sodium {v} mmol/L | Natrium {v} mmol/l", 131, 143),
    ),
    p_labs=0.6,
    drugs=(
        "nebulized 3% hypertonic saline | Inhalation mit 3%iger hypertoner Kochsalzlösung",
        "saline nasal drops | physiologische Kochsalz-Nasentropfen",
        "paracetamol 15 mg/kg as needed | Paracetamol 15 mg/kg bei Bedarf",
        ("supplemental oxygen via nasal cannula for {v} days | Sauerstoffgabe über Nasenbrille für {v} Tage", 2, 5),
    ),
    p_drugs=0.6,
    interventions=(
        "high-flow nasal cannula therapy for 3 days | High-Flow-Therapie über Nasenbrille für 3 Tage",
        "nasogastric tube feeding | Ernährung über eine Magensonde",
        "nasal suctioning | nasales Absaugen",
    ),
    p_interventions=0.55,
    outcomes=(
        ("discharged home on day {v} | Entlassung nach Hause am Tag {v}", 3, 8),
        "feeding normally at discharge | bei Entlassung normale Trinkmenge",
        "followed up by the pediatrician after 1 week | Kontrolle beim Kinderarzt nach 1 Woche",
    ),
    discussion=(
        "Bronchiolitis is managed with supportive care; bronchodilators are not routinely recommended. | "
        "Die Bronchiolitis wird supportiv behandelt; Bronchodilatatoren werden nicht routinemäßig empfohlen.",
    ),
)

KAWASAKI = Scenario(
    key="kawasaki_disease",
    age_years=None,
    age_months=(6, 59),
    male_share=0.6,
    diagnoses=("Kawasaki disease | Kawasaki-Syndrom", "incomplete Kawasaki disease | inkomplettes Kawasaki-Syndrom"),
    secondary=("coronary artery aneurysm | Koronararterienaneurysma", "sterile pyuria | sterile Leukozyturie"),
    differentials=(
        "scarlet fever | Scharlach",
        "measles | Masern",
        "multisystem inflammatory syndrome in children | Multisystemisches Inflammationssyndrom bei Kindern",
        "viral exanthem | virales Exanthem",
    ),
    symptoms=(
        ("fever for {v} days | Fieber seit {v} Tagen", 5, 8),
        "irritability | Reizbarkeit",
        "polymorphous rash on the trunk | polymorphes Exanthem am Stamm",
        "red cracked lips | rote, rissige Lippen",
        "swelling of the hands and feet | Schwellung der Hände und Füße",
    ),
    exam=(
        "bilateral non-exudative conjunctival injection | beidseitige nicht-eitrige Konjunktivitis",
        "strawberry tongue | Erdbeerzunge",
        ("unilateral cervical lymph node of {v} cm | einseitiger zervikaler Lymphknoten von {v} cm", 2, 3),
        "periungual desquamation | periunguale Schuppung",
    ),
    tests=(
        [
            "echocardiography showing dilatation of the left anterior descending artery | "
            "Echokardiographie mit Dilatation des Ramus interventricularis anterior",
            "echocardiography with normal coronary arteries | Echokardiographie mit unauffälligen Koronararterien",
        ],
        "urinalysis with sterile pyuria | Urinstatus mit steriler Leukozyturie",
        "ECG without abnormalities | EKG ohne pathologischen Befund",
        "throat swab negative for group A streptococci | Rachenabstrich negativ für Streptokokken der Gruppe A",
    ),
    labs=(
        ("C-reactive protein {v} mg/L | C-reaktives Protein {v} mg/l", 80, 220),
        ("erythrocyte sedimentation rate {v} mm/h | Blutsenkungsgeschwindigkeit {v} mm/h", 60, 110),
        ("platelets {v} × 10^9/L | Thrombozyten {v} × 10^9/l", 450, 890),
        ("albumin {v} g/dL | Albumin {v} g/dl", 2.5, 3.3, 1),
        ("alanine aminotransferase {v} U/L | Alanin-Aminotransferase {v} U/l", 45, 160),
        ("white blood cell count {v} × 10^9/L | Leukozyten {v} × 10^9/l", 14.0, 22.5, 1),
    ),
    core_drugs=(
        "intravenous immunoglobulin 2 g/kg as a single infusion | intravenöse Immunglobuline 2 g/kg als Einzelinfusion",
    ),
    drugs=(
        "acetylsalicylic acid 40 mg/kg per day during the febrile phase | "
        "Acetylsalicylsäure 40 mg/kg pro Tag in der febrilen Phase",
        "low-dose acetylsalicylic acid 5 mg/kg per day for 6 weeks | "
        "niedrig dosierte Acetylsalicylsäure 5 mg/kg pro Tag für 6 Wochen",
        "prednisolone 2 mg/kg per day | Prednisolon 2 mg/kg pro Tag",
    ),
    p_drugs=0.97,
    outcomes=(
        "afebrile within 36 hours after immunoglobulin | fieberfrei innerhalb von 36 Stunden nach Immunglobulingabe",
        "found to have normal coronary arteries at the 6-week echocardiography | "
        "unauffällige Koronararterien in der Echokardiographie nach 6 Wochen",
        "scheduled for cardiology follow-up | kinderkardiologische Nachsorge geplant",
    ),
    discussion=(
        "Treatment within the first ten days of fever lowers the risk of coronary aneurysms. | "
        "Eine Behandlung innerhalb der ersten zehn Fiebertage senkt das Risiko von Koronaraneurysmen.",
    ),
)

INTUSSUSCEPTION = Scenario(
    key="intussusception",
    age_years=None,
    age_months=(4, 36),
    male_share=0.65,
    diagnoses=("ileocolic intussusception | ileokolische Invagination",),
    secondary=("dehydration | Dehydratation", "Meckel diverticulum as lead point | Meckel-Divertikel als Leitpunkt"),
    differentials=(
        "acute gastroenteritis | akute Gastroenteritis",
        "incarcerated inguinal hernia | inkarzerierte Leistenhernie",
        "volvulus | Volvulus",
    ),
    symptoms=(
        "episodic inconsolable crying with drawing up of the legs | "
        "episodisches, untröstliches Schreien mit Anziehen der Beine",
        "vomiting | Erbrechen",
        "red currant jelly stool | johannisbeergeleeartiger Stuhl",
        "lethargy between episodes | Lethargie zwischen den Episoden",
        ("symptom duration of {v} hours | Symptomdauer von {v} Stunden", 6, 30),
    ),
    exam=(
        "sausage-shaped mass in the right upper abdomen | walzenförmige Resistenz im rechten Oberbauch",
        "empty right lower quadrant | leerer rechter Unterbauch",
        ("heart rate of {v} beats per minute | Herzfrequenz {v}/min", 130, 175),
    ),
    tests=(
        "abdominal ultrasound showing a target sign in the right upper quadrant | "
        "Abdomensonographie mit Kokardenphänomen im rechten Oberbauch",
        "abdominal radiograph without free air | Abdomenübersichtsaufnahme ohne freie Luft",
        "Doppler ultrasound with preserved bowel wall perfusion | Dopplersonographie mit erhaltener Darmwandperfusion",
    ),
    labs=(
        ("C-reactive protein {v} mg/L | C-reaktives Protein {v} mg/l", 5, 60),
        ("sodium {v} mmol/L | Natrium {v} mmol/l", 131, 141),
        ("lactate {v} mmol/L | Laktat {v} mmol/l", 1.1, 3.2, 1),
        ("white blood cell count {v} × 10^9/L | Leukozyten {v} × 10^9/l", 8.0, 17.5, 1),
    ),
    p_labs=0.6,
    drugs=(
        "intravenous fluid bolus of 20 mL/kg | intravenöser Flüssigkeitsbolus von 20 ml/kg",
        "intranasal fentanyl 1.5 µg/kg | intranasales Fentanyl 1,5 µg/kg",
        "cefuroxime 50 mg/kg intravenously | Cefuroxim 50 mg/kg intravenös",
    ),
    p_drugs=0.45,
    interventions=(
        [
            "ultrasound-guided hydrostatic reduction with success at the first attempt | "
            "sonographisch gesteuerte hydrostatische Desinvagination mit Erfolg im ersten Versuch",
            "pneumatic reduction under fluoroscopy | pneumatische Desinvagination unter Durchleuchtung",
            "laparoscopic reduction after two failed enema attempts | "
            "laparoskopische Desinvagination nach zwei erfolglosen Einlaufversuchen",
        ],
    ),
    p_interventions=1.0,
    n_interventions=(1, 1),
    outcomes=(
        ("discharged after {v} hours of observation | Entlassung nach {v} Stunden Beobachtung", 24, 48),
        "without recurrence at follow-up | ohne Rezidiv bei der Nachkontrolle",
        "tolerating feeds within 12 hours | Nahrungsaufbau innerhalb von 12 Stunden toleriert",
    ),
    discussion=(
        "Ultrasound has largely replaced contrast enema for the diagnosis of intussusception. | "
        "Die Sonographie hat den Kontrasteinlauf in der Diagnostik der Invagination weitgehend ersetzt.",
    ),
)

HAEM_PAED_SCENARIOS = (HODGKIN, DLBCL, BRONCHIOLITIS, KAWASAKI, INTUSSUSCEPTION)
