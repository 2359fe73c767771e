"""Scenarios from surgery, urology, gastroenterology and dermato-oncology (pure data)."""

from .vocab import Scenario

APPENDICITIS = Scenario(
    key="appendicitis",
    age_years=(18, 70),
    diagnoses=(
        "acute appendicitis | akute Appendizitis",
        "acute phlegmonous appendicitis | akute phlegmonöse Appendizitis",
        "perforated appendicitis | perforierte Appendizitis",
    ),
    secondary=("localized peritonitis | lokale Peritonitis", "periappendiceal abscess | perityphlitischer Abszess"),
    differentials=(
        "mesenteric lymphadenitis | Lymphadenitis mesenterialis",
        "right ureteral colic | Harnleiterkolik rechts",
        "Crohn's disease | Morbus Crohn",
        "F:ovarian torsion | Ovarialtorsion",
    ),
    symptoms=(
        (
            "periumbilical pain migrating to the right lower quadrant over {v} hours | "
            "periumbilikale Schmerzen mit Wanderung in den rechten Unterbauch innerhalb von {v} Stunden",
            6,
            24,
        ),
        "nausea | Übelkeit",
        ("vomiting {v} times | {v}-maliges Erbrechen", 2, 5),
        "loss of appetite | Appetitlosigkeit",
        ("low-grade fever of {v} °C | subfebrile Temperatur von {v} °C", 37.6, 38.4, 1),
    ),
    exam=(
        "tenderness at McBurney's point | Druckschmerz am McBurney-Punkt",
        "rebound tenderness | Loslassschmerz",
        "positive Rovsing sign | positives Rovsing-Zeichen",
        "positive psoas sign | positives Psoaszeichen",
        ("heart rate of {v} beats per minute | Herzfrequenz {v}/min", 92, 118),
    ),
    tests=(
        "abdominal ultrasound showing a non-compressible appendix with a diameter of 9 mm | "
        "Abdomensonographie mit nicht komprimierbarer Appendix mit einem Durchmesser von 9 mm",
        "CT of the abdomen showing periappendiceal fat stranding | "
        "CT-Abdomen mit periappendizitischer Fettgewebsimbibierung",
        "urinalysis without abnormalities | Urinstatus ohne pathologischen Befund",
        "F:pregnancy test, negative | Schwangerschaftstest, negativ",
        ("Alvarado score of {v} | Alvarado-Score von {v}", 6, 9),
    ),
    biopsy="histopathological examination of the resected appendix | "
    "histopathologische Untersuchung der resezierten Appendix",
    p_biopsy=0.7,
    pathology_after_treatment=True,
    pathology=(
        "transmural neutrophilic infiltration | transmurale neutrophile Infiltration",
        "fibrinopurulent serositis | fibrinös-eitrige Serositis",
        "mucosal ulceration | Schleimhautulzerationen",
        "no evidence of malignancy | kein Anhalt für Malignität",
    ),
    labs=(
        ("white blood cell count {v} × 10^9/L | Leukozyten {v} × 10^9/l", 11.5, 19.8, 1),
        ("C-reactive protein {v} mg/L | C-reaktives Protein {v} mg/l", 15, 140),
        ("neutrophils {v}% | Neutrophile {v} %", 76, 91),
        ("bilirubin {v} mg/dL | Bilirubin {v} mg/dl", 0.4, 1.6, 1),
    ),
    drugs=(
        [
            "cefuroxime 1.5 g and metronidazole 500 mg intravenously before surgery | "
            "Cefuroxim 1,5 g und Metronidazol 500 mg intravenös präoperativ",
            (
                "piperacillin-tazobactam 4.5 g three times daily for {v} days | "
                "Piperacillin-Tazobactam 4,5 g dreimal täglich für {v} Tage",
                3,
                5,
            ),
        ],
        "metamizole 1 g four times daily | Metamizol 1 g viermal täglich",
        "ibuprofen 400 mg as needed | Ibuprofen 400 mg bei Bedarf",
    ),
    p_drugs=0.7,
    interventions=(
        [
            "laparoscopic appendectomy without complications | laparoskopische Appendektomie ohne Komplikationen",
            "open appendectomy with peritoneal lavage | offene Appendektomie mit Peritoneallavage",
            "CT-guided drainage of the abscess followed by interval appendectomy | "
            "CT-gesteuerte Abszessdrainage mit anschließender Intervall-Appendektomie",
        ],
    ),
    p_interventions=1.0,
    n_interventions=(1, 1),
    outcomes=(
        ("discharged on postoperative day {v} | Entlassung am {v}. postoperativen Tag", 1, 5),
        "free of complaints at the wound check after 10 days | beschwerdefrei bei der Wundkontrolle nach 10 Tagen",
        "able to return to work after 2 weeks | Wiederaufnahme der Arbeit nach 2 Wochen möglich",
    ),
    exclude=("appendectomy",),
    discussion=(
        "Acute appendicitis is the most common cause of acute abdominal pain requiring surgery. | "
        "Die akute Appendizitis ist die häufigste Ursache eines akuten Abdomens mit Operationsindikation.",
        "Ultrasound is the first-line imaging method, particularly in young patients. | "
        "Die Sonographie ist insbesondere bei jungen Patienten das bildgebende Verfahren der ersten Wahl.",
    ),
)

CHOLECYSTITIS = Scenario(
    key="cholecystitis",
    age_years=(30, 88),
    male_share=0.4,
    diagnoses=(
        "acute calculous cholecystitis | akute kalkulöse Cholezystitis",
        "acute gangrenous cholecystitis | akute gangränöse Cholezystitis",
    ),
    secondary=("gallbladder empyema | Gallenblasenempyem", "choledocholithiasis | Choledocholithiasis"),
    differentials=(
        "acute pancreatitis | akute Pankreatitis",
        "right lower lobe pneumonia | Unterlappenpneumonie rechts",
        "peptic ulcer disease | peptisches Ulkus",
        "acute hepatitis | akute Hepatitis",
    ),
    symptoms=(
        ("right upper quadrant pain for {v} days | Schmerzen im rechten Oberbauch seit {v} Tagen", 2, 4),
        "pain after a fatty meal | Schmerzen nach einer fettreichen Mahlzeit",
        "nausea and vomiting | Übelkeit und Erbrechen",
        ("fever up to {v} °C | Fieber bis {v} °C", 38.0, 39.4, 1),
    ),
    exam=(
        "positive Murphy sign | positives Murphy-Zeichen",
        "tenderness in the right upper quadrant | Druckschmerz im rechten Oberbauch",
        "palpable gallbladder | tastbare Gallenblase",
    ),
    tests=(
        "abdominal ultrasound showing gallstones, gallbladder wall thickening of 6 mm and pericholecystic fluid | "
        "Abdomensonographie mit Gallensteinen, Gallenblasenwandverdickung auf 6 mm und perivesikaler Flüssigkeit",
        "CT of the abdomen | CT des Abdomens",
        "hepatobiliary scintigraphy | hepatobiliäre Sequenzszintigraphie",
    ),
    biopsy="histopathological examination of the gallbladder | histopathologische Untersuchung der Gallenblase",
    p_biopsy=0.6,
    pathology_after_treatment=True,
    pathology=(
        "acute transmural inflammation | akute transmurale Entzündung",
        "mucosal necrosis | Schleimhautnekrosen",
        "chronic cholecystitis with Rokitansky-Aschoff sinuses | chronische Cholezystitis mit Rokitansky-Aschoff-Sinus",
        "no evidence of malignancy | kein Anhalt für Malignität",
    ),
    labs=(
        ("white blood cell count {v} × 10^9/L | Leukozyten {v} × 10^9/l", 11.0, 19.5, 1),
        ("C-reactive protein {v} mg/L | C-reaktives Protein {v} mg/l", 40, 260),
        ("bilirubin {v} mg/dL | Bilirubin {v} mg/dl", 0.5, 2.4, 1),
        ("alkaline phosphatase {v} U/L | alkalische Phosphatase {v} U/l", 80, 290),
        ("gamma-glutamyl transferase {v} U/L | Gamma-Glutamyltransferase {v} U/l", 30, 240),
        ("lipase {v} U/L | Lipase {v} U/l", 20, 70),
    ),
    drugs=(
        [
            (
                "ampicillin-sulbactam 3 g intravenously three times daily for {v} days | "
                "Ampicillin-Sulbactam 3 g intravenös dreimal täglich für {v} Tage",
                3,
                7,
            ),
            (
                "ceftriaxone 2 g and metronidazole 500 mg intravenously for {v} days | "
                "Ceftriaxon 2 g und Metronidazol 500 mg intravenös für {v} Tage",
                3,
                7,
            ),
        ],
        "metamizole 1 g four times daily | Metamizol 1 g viermal täglich",
        "butylscopolamine 20 mg intravenously | Butylscopolamin 20 mg intravenös",
    ),
    p_drugs=0.75,
    interventions=(
        [
            "laparoscopic cholecystectomy within 48 hours without complications | "
            "laparoskopische Cholezystektomie innerhalb von 48 Stunden ohne Komplikationen",
            "percutaneous cholecystostomy followed by delayed cholecystectomy | "
            "perkutane Cholezystostomie mit anschließender verzögerter Cholezystektomie",
            "conversion from laparoscopic to open cholecystectomy because of adhesions | "
            "Konversion von laparoskopischer zu offener Cholezystektomie wegen Verwachsungen",
        ],
    ),
    p_interventions=1.0,
    n_interventions=(1, 1),
    outcomes=(
        ("discharged on postoperative day {v} | Entlassung am {v}. postoperativen Tag", 2, 6),
        "free of complaints at the follow-up after 4 weeks | beschwerdefrei bei der Kontrolle nach 4 Wochen",
        "noted to have uneventful wound healing | reizlose Wundheilung",
    ),
    exclude=("cholecystectomy",),
    discussion=(
        "Early laparoscopic cholecystectomy shortens the hospital stay compared with delayed surgery. | "
        "Die frühe laparoskopische Cholezystektomie verkürzt den Krankenhausaufenthalt gegenüber einer "
        "verzögerten Operation.",
    ),
)

PANCREATITIS = Scenario(
    key="pancreatitis",
    age_years=(25, 85),
    diagnoses=(
        "acute biliary pancreatitis | akute biliäre Pankreatitis",
        "acute alcoholic pancreatitis | akute alkoholtoxische Pankreatitis",
        "acute interstitial edematous pancreatitis | akute interstitiell-ödematöse Pankreatitis",
    ),
    secondary=(
        "choledocholithiasis | Choledocholithiasis",
        "acute peripancreatic fluid collection | akute peripankreatische Flüssigkeitsansammlung",
        "acute kidney injury | akute Nierenschädigung",
    ),
    differentials=(
        "perforated peptic ulcer | perforiertes Ulcus pepticum",
        "acute cholecystitis | akute Cholezystitis",
        "mesenteric ischemia | Mesenterialischämie",
        "inferior myocardial infarction | Hinterwandinfarkt",
    ),
    symptoms=(
        (
            "severe epigastric pain radiating to the back for {v} hours | "
            "starke epigastrische Schmerzen mit Ausstrahlung in den Rücken seit {v} Stunden",
            4,
            36,
        ),
        "nausea | Übelkeit",
        "repeated vomiting | rezidivierendes Erbrechen",
        "abdominal distension | abdominelle Distension",
        "anorexia | Appetitlosigkeit",
    ),
    exam=(
        "epigastric tenderness with guarding | epigastrischer Druckschmerz mit Abwehrspannung",
        "reduced bowel sounds | spärliche Darmgeräusche",
        "scleral icterus | Sklerenikterus",
        ("heart rate of {v} beats per minute | Herzfrequenz {v}/min", 95, 125),
    ),
    tests=(
        "abdominal ultrasound showing gallstones and a dilated common bile duct | "
        "Abdomensonographie mit Cholezystolithiasis und erweitertem Ductus choledochus",
        "contrast-enhanced CT of the abdomen showing peripancreatic fat stranding without necrosis | "
        "kontrastmittelverstärkte CT des Abdomens mit peripankreatischer Imbibierung ohne Nekrosen",
        "magnetic resonance cholangiopancreatography showing a stone in the distal common bile duct | "
        "Magnetresonanz-Cholangiopankreatikographie mit Konkrement im distalen Ductus choledochus",
        "endoscopic ultrasound | Endosonographie",
        ("BISAP score of {v} | BISAP-Score von {v}", 1, 3),
    ),
    labs=(
        ("lipase {v} U/L | Lipase {v} U/l", 650, 4800),
        ("bilirubin {v} mg/dL | Bilirubin {v} mg/dl", 0.8, 4.2, 1),
        ("alanine aminotransferase {v} U/L | Alanin-Aminotransferase {v} U/l", 40, 380),
        ("C-reactive protein {v} mg/L | C-reaktives Protein {v} mg/l", 20, 260),
        ("triglycerides {v} mg/dL | Triglyceride {v} mg/dl", 90, 280),
        ("calcium {v} mmol/L | Calcium {v} mmol/l", 2.0, 2.4, 2),
        ("hematocrit {v}% | Hämatokrit {v} %", 38, 50),
    ),
    core_drugs=(
        "goal-directed intravenous hydration with lactated Ringer's solution | "
        "zielgerichtete intravenöse Flüssigkeitstherapie mit Ringer-Laktat-Lösung",
    ),
    drugs=(
        "piritramide 7.5 mg intravenously as needed | Piritramid 7,5 mg intravenös bei Bedarf",
        "metamizole 1 g four times daily | Metamizol 1 g viermal täglich",
        "pantoprazole 40 mg intravenously | Pantoprazol 40 mg intravenös",
        "thiamine 100 mg daily | Thiamin 100 mg täglich",
    ),
    p_drugs=0.95,
    interventions=(
        "ERCP with endoscopic sphincterotomy and stone extraction | "
        "ERCP mit endoskopischer Papillotomie und Steinextraktion",
        "laparoscopic cholecystectomy during the same admission | "
        "laparoskopische Cholezystektomie im selben Aufenthalt",
    ),
    p_interventions=0.45,
    outcomes=(
        ("tolerating oral diet on day {v} | orale Kost ab Tag {v} toleriert", 2, 5),
        ("discharged on day {v} | Entlassung am Tag {v}", 5, 12),
        "advised to abstain from alcohol | Empfehlung zur Alkoholkarenz",
    ),
    exclude=("cholecystectomy",),
    discussion=(
        "Early oral refeeding is safe in mild acute pancreatitis. | "
        "Ein früher oraler Kostaufbau ist bei milder akuter Pankreatitis sicher.",
        "Gallstones and alcohol together account for most cases of acute pancreatitis. | "
        "Gallensteine und Alkohol verursachen zusammen die meisten Fälle akuter Pankreatitis.",
    ),
)

KIDNEY_STONE = Scenario(
    key="kidney_stone",
    age_years=(22, 75),
    male_share=0.65,
    diagnoses=(
        "right distal ureteral stone | distaler Harnleiterstein rechts",
        "obstructive ureterolithiasis on the right | obstruktive Ureterolithiasis rechts",
        "renal colic due to a right ureteral calculus | Nierenkolik bei Harnleiterkonkrement rechts",
    ),
    secondary=(
        "hydronephrosis grade 2 on the right | Hydronephrose Grad 2 rechts",
        "urinary tract infection | Harnwegsinfektion",
        "obstructive pyelonephritis | obstruktive Pyelonephritis",
    ),
    differentials=(
        "acute appendicitis | akute Appendizitis",
        "diverticulitis | Divertikulitis",
        "abdominal aortic aneurysm | Bauchaortenaneurysma",
    ),
    symptoms=(
        (
            "colicky right flank pain radiating to the groin for {v} hours | "
            "kolikartige Flankenschmerzen rechts mit Ausstrahlung in die Leiste seit {v} Stunden",
            2,
            18,
        ),
        "nausea and vomiting | Übelkeit und Erbrechen",
        "visible blood in the urine | sichtbares Blut im Urin",
        "urinary urgency | Harndrang",
        "restlessness | motorische Unruhe",
    ),
    exam=(
        "right costovertebral angle tenderness | Klopfschmerz im rechten Nierenlager",
        "soft abdomen without guarding | weiches Abdomen ohne Abwehrspannung",
        ("temperature of {v} °C | Temperatur {v} °C", 36.6, 37.8, 1),
    ),
    tests=(
        (
            "non-contrast CT of the abdomen and pelvis showing a {v} mm stone in the distal right ureter | "
            "native CT von Abdomen und Becken mit einem {v} mm großen Konkrement im distalen rechten Harnleiter",
            4,
            9,
        ),
        "renal ultrasound showing dilatation of the right renal pelvis | "
        "Nierensonographie mit Erweiterung des rechten Nierenbeckens",
        "urinalysis with microscopic hematuria | Urinstatus mit Mikrohämaturie",
        "urine culture without growth | Urinkultur ohne Keimwachstum",
        "infrared spectroscopy of the stone showing calcium oxalate monohydrate | "
        "Infrarotspektroskopie des Steins mit Calciumoxalat-Monohydrat",
    ),
    labs=(
        ("creatinine {v} mg/dL | Kreatinin {v} mg/dl", 0.8, 1.7, 1),
        ("white blood cell count {v} × 10^9/L | Leukozyten {v} × 10^9/l", 7.5, 14.5, 1),
        ("C-reactive protein {v} mg/L | C-reaktives Protein {v} mg/l", 3, 60),
        ("serum calcium {v} mmol/L | Serumcalcium {v} mmol/l", 2.2, 2.6, 2),
        ("uric acid {v} mg/dL | Harnsäure {v} mg/dl", 4.5, 8.9, 1),
    ),
    drugs=(
        [
            "metamizole 1 g intravenously | Metamizol 1 g intravenös",
            "diclofenac 75 mg intramuscularly | Diclofenac 75 mg intramuskulär",
        ],
        "tamsulosin 0.4 mg once daily as medical expulsive therapy | "
        "Tamsulosin 0,4 mg einmal täglich als medikamentöse Austreibungstherapie",
        "potassium citrate for stone prevention | Kaliumcitrat zur Steinprophylaxe",
        "metoclopramide 10 mg intravenously | Metoclopramid 10 mg intravenös",
    ),
    interventions=(
        [
            "ureteroscopy with laser lithotripsy and complete stone clearance | "
            "Ureterorenoskopie mit Laserlithotripsie und vollständiger Steinfreiheit",
            "extracorporeal shock wave lithotripsy | extrakorporale Stoßwellenlithotripsie",
        ],
        "placement of a double-J ureteral stent | Einlage einer Doppel-J-Harnleiterschiene",
    ),
    p_interventions=0.7,
    outcomes=(
        "stone-free on follow-up imaging | steinfrei in der Kontrollbildgebung",
        "discharged the following day | Entlassung am Folgetag",
        "advised to drink at least 2.5 liters per day | Empfehlung einer Trinkmenge von mindestens 2,5 Litern pro Tag",
    ),
    lifestyle=(
        "low fluid intake | geringe Trinkmenge",
        "high intake of animal protein | hoher Konsum tierischer Eiweiße",
    ),
    history=(("previous kidney stone {v} years ago | früherer Nierenstein vor {v} Jahren", 2, 10),),
    discussion=(
        "Stones smaller than 5 mm usually pass spontaneously. | Konkremente unter 5 mm gehen meist spontan ab.",
        "Stone analysis guides dietary advice for prevention. | "
        "Die Steinanalyse bestimmt die Ernährungsempfehlungen zur Prophylaxe.",
    ),
)

COLON_CANCER = Scenario(
    key="colon_cancer",
    age_years=(45, 88),
    diagnoses=(
        "adenocarcinoma of the sigmoid colon | Adenokarzinom des Sigmas",
        "adenocarcinoma of the sigmoid colon, pT3 pN1a, UICC stage III | "
        "Adenokarzinom des Sigmas, pT3 pN1a, UICC-Stadium III",
    ),
    secondary=(
        "iron deficiency anemia | Eisenmangelanämie",
        "incomplete large bowel obstruction | inkompletter Dickdarmileus",
    ),
    differentials=(
        "diverticular disease | Divertikelkrankheit",
        "inflammatory bowel disease | chronisch-entzündliche Darmerkrankung",
        "ischemic colitis | ischämische Kolitis",
    ),
    symptoms=(
        ("change in bowel habits for {v} months | veränderte Stuhlgewohnheiten seit {v} Monaten", 2, 8),
        "blood in the stool | Blut im Stuhl",
        ("weight loss of {v} kg | Gewichtsverlust von {v} kg", 3, 10),
        "left lower abdominal pain | Schmerzen im linken Unterbauch",
        "fatigue | Müdigkeit",
    ),
    exam=(
        "pallor | Blässe",
        "tenderness in the left lower quadrant | Druckschmerz im linken Unterbauch",
        "unremarkable digital rectal examination | unauffällige digital-rektale Untersuchung",
    ),
    tests=(
        "colonoscopy showing a circumferential stenosing tumor in the sigmoid colon | "
        "Koloskopie mit zirkulär stenosierendem Tumor im Sigma",
        "CT of the chest, abdomen and pelvis without distant metastases | "
        "CT von Thorax, Abdomen und Becken ohne Fernmetastasen",
        "positive fecal immunochemical test | positiver immunologischer Stuhltest",
        "molecular testing showing microsatellite stability and KRAS wild type | "
        "molekulare Testung mit Mikrosatellitenstabilität und KRAS-Wildtyp",
    ),
    biopsy="endoscopic biopsies | endoskopische Biopsien",
    p_biopsy=0.97,
    pathology=(
        "moderately differentiated adenocarcinoma | mäßig differenziertes Adenokarzinom",
        "tumor invading the subserosa | Tumorinfiltration bis in die Subserosa",
        ("metastases in {v} of 18 resected lymph nodes | Metastasen in {v} von 18 resezierten Lymphknoten", 1, 3),
        "tumor-free resection margins (R0) | tumorfreie Resektionsränder (R0)",
    ),
    labs=(
        ("hemoglobin {v} g/dL | Hämoglobin {v} g/dl", 7.8, 11.2, 1),
        ("ferritin {v} ng/mL | Ferritin {v} ng/ml", 4, 18),
        ("carcinoembryonic antigen {v} ng/mL | carcinoembryonales Antigen {v} ng/ml", 3.5, 28.0, 1),
        ("mean corpuscular volume {v} fL | mittleres korpuskuläres Volumen {v} fl", 68, 79),
    ),
    drugs=(
        [
            ("adjuvant CAPOX chemotherapy for {v} months | adjuvante CAPOX-Chemotherapie für {v} Monate", 3, 6),
            "adjuvant FOLFOX chemotherapy, 12 cycles | adjuvante FOLFOX-Chemotherapie, 12 Zyklen",
        ],
        "ferric carboxymaltose 1000 mg intravenously | Eisencarboxymaltose 1000 mg intravenös",
    ),
    p_drugs=0.6,
    interventions=(
        [
            "laparoscopic sigmoid resection with primary anastomosis | "
            "laparoskopische Sigmaresektion mit primärer Anastomose",
            "open sigmoid resection with a protective ileostomy | offene Sigmaresektion mit protektivem Ileostoma",
        ],
        "transfusion of 2 units of packed red blood cells | Transfusion von 2 Erythrozytenkonzentraten",
    ),
    p_interventions=0.97,
    outcomes=(
        "without evidence of recurrence after 2 years | ohne Anhalt für ein Rezidiv nach 2 Jahren",
        "enrolled in a structured oncological follow-up program | "
        "Aufnahme in ein strukturiertes onkologisches Nachsorgeprogramm",
        ("discharged on postoperative day {v} | Entlassung am {v}. postoperativen Tag", 6, 12),
    ),
    incidental_ok=True,
    discussion=(
        "Screening colonoscopy detects many colorectal cancers at a curable stage. | "
        "Die Vorsorgekoloskopie entdeckt viele kolorektale Karzinome in einem heilbaren Stadium.",
        "Adjuvant chemotherapy is recommended for stage III disease. | "
        "Im Stadium III wird eine adjuvante Chemotherapie empfohlen.",
    ),
)

MELANOMA = Scenario(
    key="melanoma",
    age_years=(25, 85),
    diagnoses=(
        "superficial spreading melanoma | superfiziell spreitendes Melanom",
        "nodular melanoma | noduläres Melanom",
        "cutaneous melanoma, stage IIIA | kutanes Melanom, Stadium IIIA",
    ),
    secondary=("actinic keratoses | aktinische Keratosen",),
    differentials=(
        "dysplastic nevus | dysplastischer Nävus",
        "pigmented basal cell carcinoma | pigmentiertes Basalzellkarzinom",
        "seborrheic keratosis | seborrhoische Keratose",
    ),
    symptoms=(
        (
            "changing pigmented lesion on the back for {v} months | "
            "sich verändernde pigmentierte Läsion am Rücken seit {v} Monaten",
            3,
            12,
        ),
        "occasional bleeding of the lesion | gelegentliche Blutung der Läsion",
        "itching of the lesion | Juckreiz im Bereich der Läsion",
    ),
    exam=(
        (
            "asymmetric, irregularly bordered lesion of {v} mm with color variegation | "
            "asymmetrische, unscharf begrenzte Läsion von {v} mm mit mehrfarbiger Pigmentierung",
            8,
            22,
        ),
        "no palpable lymph nodes | keine tastbaren Lymphknoten",
    ),
    tests=(
        "dermoscopy showing an atypical pigment network and blue-white veil | "
        "Dermatoskopie mit atypischem Pigmentnetz und blau-weißem Schleier",
        "ultrasound of the regional lymph nodes | Sonographie der regionären Lymphknoten",
        "CT of the chest and abdomen without distant metastases | CT von Thorax und Abdomen ohne Fernmetastasen",
        "BRAF mutation testing, V600E positive | BRAF-Mutationsanalyse, V600E positiv",
        "MRI of the brain without metastases | MRT des Schädels ohne Metastasen",
    ),
    biopsy="excisional biopsy with 2 mm margins | Exzisionsbiopsie mit 2 mm Sicherheitsabstand",
    p_biopsy=1.0,
    pathology=(
        ("Breslow thickness of {v} mm | Tumordicke nach Breslow {v} mm", 0.8, 3.9, 1),
        "ulceration | Ulzeration",
        ("mitotic rate of {v} per mm² | Mitoserate von {v} pro mm²", 2, 9),
        "Clark level IV | Clark-Level IV",
        "no lymphovascular invasion | keine Lymphgefäßinvasion",
    ),
    labs=(
        ("lactate dehydrogenase {v} U/L | Laktatdehydrogenase {v} U/l", 160, 260),
        ("S100B {v} µg/L | S100B {v} µg/l", 0.04, 0.15, 2),
    ),
    p_labs=0.4,
    drugs=(
        [
            "adjuvant nivolumab 480 mg every 4 weeks for 12 months | "
            "adjuvant Nivolumab 480 mg alle 4 Wochen für 12 Monate",
            "adjuvant dabrafenib 150 mg twice daily and trametinib 2 mg once daily | "
            "adjuvant Dabrafenib 150 mg zweimal täglich und Trametinib 2 mg einmal täglich",
        ],
    ),
    p_drugs=0.35,
    interventions=(
        "wide local excision with 2 cm margins | Nachexzision mit 2 cm Sicherheitsabstand",
        "sentinel lymph node biopsy | Sentinel-Lymphknotenbiopsie",
    ),
    p_interventions=1.0,
    outcomes=(
        ("free of recurrence after {v} months | rezidivfrei nach {v} Monaten", 6, 36),
        "enrolled in dermatological follow-up every 3 months | dermatologische Nachsorge alle 3 Monate",
        "advised on sun protection | Beratung zum Sonnenschutz",
    ),
    lifestyle=(
        "frequent sunburns in childhood | häufige Sonnenbrände in der Kindheit",
        "regular use of tanning beds | regelmäßige Solariumbesuche",
        "Y:outdoor work as a gardener | Arbeit im Freien als Gärtner",
    ),
    family=("melanoma in the mother | Melanom der Mutter",),
    incidental_ok=True,
    discussion=(
        "The ABCDE rule helps patients and physicians to recognise suspicious lesions. | "
        "Die ABCDE-Regel hilft Patienten und Ärzten, verdächtige Läsionen zu erkennen.",
        "Tumor thickness is the most important prognostic factor in localized melanoma. | "
        "Die Tumordicke ist der wichtigste Prognosefaktor beim lokalisierten Melanom.",
    ),
)

SURGERY_SCENARIOS = (APPENDICITIS, CHOLECYSTITIS, PANCREATITIS, KIDNEY_STONE, COLON_CANCER, MELANOMA)
