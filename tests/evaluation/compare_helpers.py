"""Three runs of one project evaluated against gold, for the comparison tests."""

from evaluation.services import evaluation_run
from tests.factories import CandidateFactory, RunFactory

from .helpers import add_document, values

GOLD = [
    {"diagnosis": "Pneumonia; sepsis", "life_style": "Smoker, 20 pack-years", "signs_symptoms": "fever; cough"},
    {"diagnosis": "Heart failure", "signs_symptoms": "dyspnea; edema", "family_history": "father with diabetes"},
    {"diagnosis": "Ischemic stroke", "life_style": "alcohol use", "signs_symptoms": "hemiparesis; aphasia"},
    {"diagnosis": "Asthma exacerbation", "signs_symptoms": "wheezing", "family_history": "mother with asthma"},
    {"diagnosis": "Acute appendicitis", "signs_symptoms": "abdominal pain; nausea", "life_style": "non-smoker"},
    {"diagnosis": "Type 2 diabetes", "signs_symptoms": "polyuria; polydipsia", "family_history": "no relevant history"},
    {"diagnosis": "Pulmonary embolism", "signs_symptoms": "chest pain; tachycardia", "life_style": "sedentary"},
    {"diagnosis": "Migraine", "signs_symptoms": "headache; photophobia", "family_history": "sister with migraine"},
]
# Per run: how its prediction of document i differs (a function of the gold value).
STYLES = {
    "baseline": lambda i, key, gold: gold.split(";")[0] if i % 2 else f"possible {gold.lower()}",
    "finetuned": lambda i, key, gold: gold if i % 3 else gold.split(";")[-1].strip(),
    "advanced": lambda i, key, gold: gold if i % 2 == 0 else "unremarkable",
}


def build_runs(project, *, split="test", language="en"):
    """Documents with gold, three runs with candidates (latency, tokens, one parse error
    each but the first) and each run's evaluation. Returns {name: (run, report)}."""
    documents = [
        add_document(project, gold=gold, split=split, language=language, external_id=f"c{i}")
        for i, gold in enumerate(GOLD)
    ]
    out = {}
    for r, (name, style) in enumerate(STYLES.items()):
        run = RunFactory(project=project, name=name)
        for i, (document, gold) in enumerate(zip(documents, GOLD, strict=True)):
            if r and i == r:
                CandidateFactory(
                    run=run, document=document, status="parse_error", values=None, latency_ms=900 + r, prompt_tokens=400
                )
                continue
            predicted = {key: style(i, key, text) for key, text in gold.items()}
            CandidateFactory(
                run=run,
                document=document,
                status="ok",
                values=values(**predicted),
                latency_ms=100 * (r + 1) + i,
                prompt_tokens=400 + 10 * i,
                generated_tokens=50 + r + i,
            )
        report = evaluation_run(run=run, split=split, language=language)
        out[name] = (run, report)
    return out
