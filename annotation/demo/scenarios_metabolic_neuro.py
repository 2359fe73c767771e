"""Scenarios from endocrinology, neurology and gastroenterology (pure data; see ``vocab``)."""

from .vocab import Scenario

KETOACIDOSIS = Scenario(
    key="diabetic_ketoacidosis",
    age_years=(18, 50),
    diagnoses=(
        "diabetic ketoacidosis | diabetische Ketoazidose",
        "severe diabetic ketoacidosis as the first manifestation of type 1 diabetes mellitus | "
        "schwere diabetische Ketoazidose als Erstmanifestation eines Diabetes mellitus Typ 1",
    ),
    secondary=(
        "acute kidney injury | akute Nierenschädigung",
        "hypokalemia during treatment | Hypokaliämie unter Therapie",
    ),
    differentials=(
        "alcoholic ketoacidosis | alkoholische Ketoazidose",
        "lactic acidosis | Laktatazidose",
        "acute pancreatitis | akute Pankreatitis",
    ),
    symptoms=(
        ("polyuria and polydipsia for {v} days | Polyurie und Polydipsie seit {v} Tagen", 3, 14),
        "nausea and vomiting | Übelkeit und Erbrechen",
        "diffuse abdominal pain | diffuse Bauchschmerzen",
        ("weight loss of {v} kg | Gewichtsverlust von {v} kg", 3, 8),
        "drowsiness | Somnolenz",
    ),
    exam=(
        "Kussmaul breathing | Kussmaul-Atmung",
        "acetone odor on the breath | Acetongeruch der Atemluft",
        "dry mucous membranes | trockene Schleimhäute",
        ("heart rate of {v} beats per minute | Herzfrequenz {v}/min", 105, 130),
        ("Glasgow Coma Scale score of {v} | Glasgow-Coma-Scale-Wert von {v}", 12, 14),
    ),
    tests=(
        "arterial blood gas analysis | arterielle Blutgasanalyse",
        "urinalysis with glucosuria and ketonuria | Urinstatus mit Glukosurie und Ketonurie",
        "ECG showing sinus tachycardia | EKG mit Sinustachykardie",
        "chest radiograph without infiltrates | Röntgen-Thorax ohne Infiltrate",
    ),
    labs=(
        ("blood glucose {v} mg/dL | Blutzucker {v} mg/dl", 380, 790),
        ("pH {v} | pH {v}", 6.95, 7.22, 2),
        ("bicarbonate {v} mmol/L | Bicarbonat {v} mmol/l", 4, 13),
        ("beta-hydroxybutyrate {v} mmol/L | Beta-Hydroxybutyrat {v} mmol/l", 4.1, 9.5, 1),
        ("potassium {v} mmol/L | Kalium {v} mmol/l", 4.8, 6.2, 1),
        ("anion gap {v} mmol/L | Anionenlücke {v} mmol/l", 20, 32),
        ("HbA1c {v}% | HbA1c {v} %", 9.5, 14.8, 1),
    ),
    core_drugs=(
        "intravenous fluid resuscitation with 0.9% saline | intravenöse Volumentherapie mit 0,9%iger Kochsalzlösung",
        "continuous intravenous insulin infusion at 0.1 U/kg/h | "
        "kontinuierliche intravenöse Insulininfusion mit 0,1 IE/kg/h",
    ),
    drugs=(
        "potassium chloride 20 mmol per liter of fluid | Kaliumchlorid 20 mmol pro Liter Infusionslösung",
        "insulin glargine 18 U once daily | Insulin glargin 18 IE einmal täglich",
        "insulin aspart according to a correction scheme | Insulin aspart nach Korrekturschema",
    ),
    p_drugs=0.97,
    interventions=("central venous catheter placement | Anlage eines zentralen Venenkatheters",),
    p_interventions=0.1,
    outcomes=(
        (
            "transferred from the intensive care unit to the ward after {v} days | "
            "Verlegung von der Intensivstation auf die Normalstation nach {v} Tagen",
            2,
            4,
        ),
        "discharged after diabetes education | Entlassung nach Diabetesschulung",
        "well controlled on basal-bolus insulin at the 3-month follow-up | "
        "gut eingestellt unter Basis-Bolus-Insulintherapie bei der Kontrolle nach 3 Monaten",
    ),
    comorbidities=("Hashimoto thyroiditis | Hashimoto-Thyreoiditis",),
    family=("type 1 diabetes mellitus in the mother | Diabetes mellitus Typ 1 der Mutter",),
    exclude=("diabetes mellitus", "obesity", "hypothyroidism"),
    discussion=(
        "Potassium must be monitored closely because insulin shifts it into the cells. | "
        "Kalium muss engmaschig kontrolliert werden, da Insulin es nach intrazellulär verschiebt.",
        "Structured diabetes education before discharge lowers the risk of recurrence. | "
        "Eine strukturierte Diabetesschulung vor Entlassung senkt das Rezidivrisiko.",
    ),
)

STROKE = Scenario(
    key="stroke",
    age_years=(45, 90),
    diagnoses=(
        "acute ischemic stroke in the left middle cerebral artery territory | "
        "akuter ischämischer Schlaganfall im Stromgebiet der linken Arteria cerebri media",
        "cardioembolic stroke | kardioembolischer Schlaganfall",
    ),
    secondary=(
        "newly diagnosed atrial fibrillation | neu diagnostiziertes Vorhofflimmern",
        "aspiration pneumonia | Aspirationspneumonie",
        "post-stroke depression | Post-Stroke-Depression",
    ),
    differentials=(
        "intracerebral hemorrhage | intrazerebrale Blutung",
        "Todd paralysis after a seizure | Todd-Parese nach Krampfanfall",
        "hypoglycemia | Hypoglykämie",
    ),
    symptoms=(
        "sudden right-sided weakness | plötzlich aufgetretene rechtsseitige Schwäche",
        "slurred speech | verwaschene Sprache",
        "difficulty finding words | Wortfindungsstörungen",
        "right facial droop | rechtsseitig hängender Mundwinkel",
        ("symptom onset {v} minutes before admission | Symptombeginn {v} Minuten vor Aufnahme", 45, 180),
    ),
    exam=(
        "right-sided hemiparesis | Hemiparese rechts",
        "expressive aphasia | expressive Aphasie",
        ("National Institutes of Health Stroke Scale score of {v} | NIHSS-Wert von {v}", 6, 18),
        "irregular pulse | unregelmäßiger Puls",
    ),
    tests=(
        "non-contrast CT of the head without hemorrhage | native CT des Schädels ohne Blutung",
        "CT angiography showing occlusion of the left M1 segment | CT-Angiographie mit Verschluss des linken M1-Segments",
        "MRI of the brain with diffusion restriction in the left frontal lobe | "
        "MRT des Schädels mit Diffusionsstörung links frontal",
        "24-hour Holter ECG showing paroxysmal atrial fibrillation | "
        "24-Stunden-Langzeit-EKG mit paroxysmalem Vorhofflimmern",
        "carotid duplex ultrasound without relevant stenosis | Karotis-Duplexsonographie ohne relevante Stenose",
        "transthoracic echocardiography | transthorakale Echokardiographie",
    ),
    labs=(
        ("blood glucose {v} mg/dL | Blutzucker {v} mg/dl", 95, 180),
        ("INR {v} | INR {v}", 0.9, 1.2, 1),
        ("platelets {v} × 10^9/L | Thrombozyten {v} × 10^9/l", 160, 380),
        ("LDL cholesterol {v} mg/dL | LDL-Cholesterin {v} mg/dl", 90, 190),
        ("HbA1c {v}% | HbA1c {v} %", 5.3, 7.8, 1),
    ),
    drugs=(
        "intravenous alteplase 0.9 mg/kg | intravenöse Alteplase 0,9 mg/kg",
        [
            "acetylsalicylic acid 100 mg once daily | Acetylsalicylsäure 100 mg einmal täglich",
            "apixaban 5 mg twice daily | Apixaban 5 mg zweimal täglich",
        ],
        "atorvastatin 40 mg once daily | Atorvastatin 40 mg einmal täglich",
    ),
    interventions=(
        "mechanical thrombectomy with successful recanalization (TICI 2b) | "
        "mechanische Thrombektomie mit erfolgreicher Rekanalisation (TICI 2b)",
        "speech therapy and physiotherapy | Logopädie und Physiotherapie",
    ),
    p_interventions=0.6,
    outcomes=(
        (
            "transferred to a rehabilitation unit on day {v} | Verlegung in eine Rehabilitationseinrichtung am Tag {v}",
            5,
            12,
        ),
        (
            "left with mild residual weakness and a modified Rankin Scale score of {v} at 90 days | "
            "leichte residuelle Schwäche mit einem modifizierten Rankin-Scale-Wert von {v} nach 90 Tagen",
            1,
            3,
        ),
        "able to walk independently at discharge | bei Entlassung selbstständig gehfähig",
    ),
    exclude=("atrial fibrillation",),
    discussion=(
        "Every minute of large-vessel occlusion costs millions of neurons. | "
        "Jede Minute eines Großgefäßverschlusses kostet Millionen von Nervenzellen.",
        "Prolonged rhythm monitoring detects atrial fibrillation in a relevant share of patients. | "
        "Ein verlängertes Rhythmusmonitoring deckt bei einem relevanten Anteil Vorhofflimmern auf.",
    ),
)

GUILLAIN_BARRE = Scenario(
    key="guillain_barre",
    age_years=(20, 80),
    male_share=0.6,
    diagnoses=(
        "Guillain-Barré syndrome | Guillain-Barré-Syndrom",
        "acute inflammatory demyelinating polyneuropathy | akute inflammatorische demyelinisierende Polyneuropathie",
    ),
    secondary=(
        "respiratory insufficiency | respiratorische Insuffizienz",
        "autonomic dysfunction | autonome Dysfunktion",
    ),
    differentials=(
        "spinal cord compression | Rückenmarkskompression",
        "myasthenia gravis | Myasthenia gravis",
        "botulism | Botulismus",
        "hypokalemic paralysis | hypokaliämische Lähmung",
    ),
    symptoms=(
        ("ascending weakness of the legs for {v} days | aufsteigende Schwäche der Beine seit {v} Tagen", 3, 10),
        "tingling in the hands and feet | Kribbelparästhesien an Händen und Füßen",
        "lower back pain | Schmerzen im unteren Rücken",
        "difficulty climbing stairs | Schwierigkeiten beim Treppensteigen",
    ),
    exam=(
        "symmetric flaccid paraparesis | symmetrische schlaffe Paraparese",
        "areflexia | Areflexie",
        "bilateral facial weakness | beidseitige Fazialisparese",
        ("vital capacity of {v} mL/kg | Vitalkapazität {v} ml/kg", 14, 30),
    ),
    tests=(
        "lumbar puncture | Lumbalpunktion",
        "nerve conduction studies showing demyelinating polyneuropathy | "
        "Nervenleitungsuntersuchungen mit demyelinisierender Polyneuropathie",
        "MRI of the spine with enhancement of the cauda equina nerve roots | "
        "MRT der Wirbelsäule mit Kontrastmittelanreicherung der Nervenwurzeln der Cauda equina",
        "stool culture positive for Campylobacter jejuni | Stuhlkultur positiv für Campylobacter jejuni",
        "serial spirometry | serielle Spirometrie",
    ),
    labs=(
        ("cerebrospinal fluid protein {v} mg/dL | Liquoreiweiß {v} mg/dl", 80, 240),
        ("cerebrospinal fluid cell count {v} cells/µL | Liquorzellzahl {v} Zellen/µl", 2, 4),
        ("creatine kinase {v} U/L | Kreatinkinase {v} U/l", 60, 190),
        ("potassium {v} mmol/L | Kalium {v} mmol/l", 3.7, 4.8, 1),
        "anti-GM1 IgG antibodies positive | Anti-GM1-IgG-Antikörper positiv",
    ),
    drugs=(
        "intravenous immunoglobulin 0.4 g/kg per day for 5 days | "
        "intravenöse Immunglobuline 0,4 g/kg pro Tag für 5 Tage",
        "enoxaparin 40 mg subcutaneously once daily | Enoxaparin 40 mg subkutan einmal täglich",
        "gabapentin 300 mg three times daily | Gabapentin 300 mg dreimal täglich",
    ),
    p_drugs=0.85,
    interventions=(
        "plasma exchange with 5 sessions | Plasmapherese mit 5 Behandlungen",
        "intensive care monitoring with non-invasive ventilation | "
        "intensivmedizinische Überwachung mit nicht-invasiver Beatmung",
        "inpatient neurorehabilitation | stationäre neurologische Rehabilitation",
    ),
    p_interventions=0.5,
    outcomes=(
        "able to walk with a walker after 4 weeks | nach 4 Wochen mit Rollator gehfähig",
        "walking independently after 6 months | nach 6 Monaten selbstständig gehfähig",
        ("discharged to rehabilitation on day {v} | Verlegung in die Rehabilitation am Tag {v}", 10, 21),
    ),
    history=(("gastroenteritis {v} weeks before symptom onset | Gastroenteritis {v} Wochen vor Symptombeginn", 2, 4),),
    discussion=(
        "Serial measurement of vital capacity identifies patients who need ventilatory support. | "
        "Serielle Messungen der Vitalkapazität erkennen Patienten, die eine Beatmung benötigen.",
    ),
)

CELIAC = Scenario(
    key="celiac_disease",
    age_years=(18, 60),
    male_share=0.35,
    diagnoses=(
        "celiac disease | Zöliakie",
        "adult-onset celiac disease | Zöliakie mit Erstmanifestation im Erwachsenenalter",
    ),
    secondary=(
        "iron deficiency anemia | Eisenmangelanämie",
        "osteopenia | Osteopenie",
        "dermatitis herpetiformis | Dermatitis herpetiformis",
    ),
    differentials=(
        "irritable bowel syndrome | Reizdarmsyndrom",
        "lactose intolerance | Laktoseintoleranz",
        "Crohn's disease | Morbus Crohn",
        "small intestinal bacterial overgrowth | bakterielle Fehlbesiedlung des Dünndarms",
    ),
    symptoms=(
        ("chronic diarrhea for {v} months | chronische Diarrhö seit {v} Monaten", 3, 18),
        "bloating | Blähungen",
        "abdominal cramps after meals | postprandiale Bauchkrämpfe",
        "fatigue | Müdigkeit",
        ("weight loss of {v} kg | Gewichtsverlust von {v} kg", 3, 9),
        "itchy blistering rash on the elbows | juckender bläschenförmiger Ausschlag an den Ellenbogen",
    ),
    exam=(
        "pale conjunctivae | blasse Konjunktiven",
        "distended abdomen | geblähtes Abdomen",
        ("body mass index of {v} kg/m² | Body-Mass-Index von {v} kg/m²", 17.5, 21.0, 1),
        "angular cheilitis | Mundwinkelrhagaden",
    ),
    tests=(
        "upper gastrointestinal endoscopy showing scalloping of the duodenal folds | "
        "Ösophagogastroduodenoskopie mit gezähnelten Duodenalfalten",
        "bone densitometry with a T-score of -1.8 | Knochendichtemessung mit einem T-Score von -1,8",
        "HLA typing positive for HLA-DQ2 | HLA-Typisierung positiv für HLA-DQ2",
        "abdominal ultrasound without abnormalities | Abdomensonographie ohne pathologischen Befund",
    ),
    biopsy="multiple duodenal biopsies | multiple Duodenalbiopsien",
    p_biopsy=0.95,
    pathology=(
        "total villous atrophy | totale Zottenatrophie",
        "crypt hyperplasia | Kryptenhyperplasie",
        (
            "intraepithelial lymphocytosis with {v} lymphocytes per 100 enterocytes | "
            "intraepitheliale Lymphozytose mit {v} Lymphozyten pro 100 Enterozyten",
            40,
            90,
        ),
        "Marsh type 3c lesion | Marsh-Typ-3c-Läsion",
    ),
    labs=(
        ("tissue transglutaminase IgA {v} U/mL | Gewebstransglutaminase-IgA {v} U/ml", 80, 250),
        ("hemoglobin {v} g/dL | Hämoglobin {v} g/dl", 9.1, 11.8, 1),
        ("ferritin {v} ng/mL | Ferritin {v} ng/ml", 3, 14),
        ("folate {v} ng/mL | Folat {v} ng/ml", 1.8, 4.0, 1),
        ("total IgA {v} g/L | Gesamt-IgA {v} g/l", 1.2, 3.1, 1),
        ("25-hydroxyvitamin D {v} ng/mL | 25-Hydroxy-Vitamin-D {v} ng/ml", 8, 19),
    ),
    drugs=(
        [
            "oral ferrous sulfate 100 mg daily | orales Eisen(II)-sulfat 100 mg täglich",
            "ferric carboxymaltose 1000 mg intravenously | Eisencarboxymaltose 1000 mg intravenös",
        ],
        "cholecalciferol 20000 IU weekly | Colecalciferol 20000 IE wöchentlich",
        "folic acid 5 mg daily | Folsäure 5 mg täglich",
        "dapsone 50 mg daily | Dapson 50 mg täglich",
    ),
    p_drugs=0.8,
    # A diet is not a drug; the dietary intervention is filed as (non-surgical) interventional therapy.
    interventions=(
        "dietary counselling and a strict lifelong gluten-free diet | "
        "Ernährungsberatung und strikte lebenslange glutenfreie Diät",
    ),
    p_interventions=0.95,
    n_interventions=(1, 1),
    outcomes=(
        "free of symptoms after 3 months of gluten-free diet | beschwerdefrei nach 3 Monaten glutenfreier Diät",
        (
            "found to have normalized transglutaminase antibodies after {v} months | "
            "Normalisierung der Transglutaminase-Antikörper nach {v} Monaten",
            9,
            18,
        ),
        ("noted to have gained {v} kg after 6 months | Gewichtszunahme um {v} kg nach 6 Monaten", 3, 7),
    ),
    family=(
        "celiac disease in a sister | Zöliakie bei einer Schwester",
        "autoimmune thyroiditis in the father | Autoimmunthyreoiditis des Vaters",
    ),
    exclude=("obesity",),
    incidental_ok=True,
    discussion=(
        "Serology should be tested while the patient still eats gluten. | "
        "Die Serologie sollte unter glutenhaltiger Ernährung bestimmt werden.",
        "Adult celiac disease often presents with iron deficiency rather than diarrhea. | "
        "Die Zöliakie des Erwachsenen zeigt sich oft eher durch Eisenmangel als durch Durchfall.",
    ),
)

METABOLIC_NEURO_SCENARIOS = (KETOACIDOSIS, STROKE, GUILLAIN_BARRE, CELIAC)
