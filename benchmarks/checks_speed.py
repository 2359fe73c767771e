"""Benchmark: the automated checks over many documents.

    .venv/bin/python benchmarks/checks_speed.py [--documents 2000] [--records 6] [--chars 2500]
    DATABASE_URL=postgres://... .venv/bin/python benchmarks/checks_speed.py --db [--documents 2000]

Pure part: synthetic reports (``--chars`` long) and ``--records`` value records per document
(gold + 3 runs + 2 annotations = 6), 15 categories of 1-3 items each: half copied from the
report, a quarter with a typo, a quarter absent (so every grounding tier runs). Prints
documents/s, records/s and the time extrapolated to 60,000 documents.

``--db``: the same documents stored in a throwaway project (gold, 3 runs, 2 submitted
annotations each), then ``checks_run`` end to end (read, check, delete + bulk insert);
the project is deleted afterwards. Not part of the tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = (
    "patient presented fever cough dyspnea chest pain hypertension diabetes mellitus pneumonia left lower lobe "
    "biopsy showed adenocarcinoma treated with amoxicillin 500 mg three times daily for seven days follow-up "
    "revealed complete recovery echocardiography ejection fraction reduced creatinine elevated hemoglobin low "
    "smoker alcohol mother father breast cancer surgery appendectomy years ago admitted intensive care unit"
).split()


def synthetic(rng: random.Random, chars: int, keys: list[str], records: int):
    words = []
    while sum(len(w) + 1 for w in words) < chars:
        words.append(rng.choice(WORDS))
    report = f"A {rng.randint(1, 90)}-year-old woman. " + " ".join(words) + "."
    out = []
    for _ in range(records):
        values = {}
        for key in keys:
            if key == "age":
                values[key] = report.split("-")[0][2:] + " years"
                continue
            if key == "gender":
                values[key] = "female"
                continue
            if rng.random() < 0.2:
                values[key] = "N/A"
                continue
            items = []
            for _ in range(rng.randint(1, 3)):
                start = rng.randrange(0, max(1, len(words) - 4))
                item = " ".join(words[start : start + rng.randint(2, 5)])
                kind = rng.random()
                if kind < 0.25:
                    item = item[:3] + "x" + item[4:]
                elif kind < 0.5:
                    item = "novel " + " ".join(rng.sample(["zzfoo", "qqbar", "lorem", "ipsum"], 2))
                items.append(item)
            values[key] = "; ".join(items)
        out.append(values)
    return report, out


def pure(args, keys):
    from annotation.checks import Report, check_record

    rng = random.Random(0)
    data = [synthetic(rng, args.chars, keys, args.records) for _ in range(args.documents)]
    t0 = time.perf_counter()
    findings = 0
    for report_text, records in data:
        report = Report(report_text)
        for values in records:
            findings += len(check_record(report=report, values=values, keys=keys))
    elapsed = time.perf_counter() - t0
    n_records = args.documents * args.records
    print(f"pure: {args.documents} documents x {args.records} records, {args.chars}-char reports")
    print(f"  {elapsed:.2f} s; {args.documents / elapsed:,.0f} documents/s; {n_records / elapsed:,.0f} records/s")
    print(f"  {findings / n_records:.1f} findings per record")
    print(f"  extrapolated to 60,000 documents: {60000 / (args.documents / elapsed):,.0f} s")


def db(args, keys):
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from annotation.models import Annotation, Assignment, Document, Gold, Project
    from annotation.schema import ELMTEX_CATEGORIES
    from annotation.services.checks import checks_run
    from annotation.services.projects import categories_create
    from inference.models import Candidate, ModelRun

    rng = random.Random(0)
    with transaction.atomic():
        Project.objects.filter(slug="bench-checks").delete()
        project = Project.objects.create(slug="bench-checks", name="checks benchmark")
        categories_create(project=project, categories=list(ELMTEX_CATEGORIES))
        users = [get_user_model().objects.get_or_create(username=f"bench-ann-{i}")[0] for i in range(2)]
        runs = [ModelRun.objects.create(project=project, name=f"r{i}", status="finished") for i in range(3)]
        data = [synthetic(rng, args.chars, keys, 6) for _ in range(args.documents)]
        docs = Document.objects.bulk_create(
            Document(project=project, external_id=str(i), text=report, content_hash=str(i))
            for i, (report, _) in enumerate(data)
        )
        Gold.objects.bulk_create(Gold(document=d, values=r[0]) for d, (_, r) in zip(docs, data, strict=True))
        Candidate.objects.bulk_create(
            Candidate(run=run, document=d, status="ok", values=r[1 + k])
            for d, (_, r) in zip(docs, data, strict=True)
            for k, run in enumerate(runs)
        )
        assignments = Assignment.objects.bulk_create(
            Assignment(project=project, document=d, annotator=u, status="submitted") for d in docs for u in users
        )
        Annotation.objects.bulk_create(
            Annotation(assignment=a, values=data[i // 2][1][4 + i % 2]) for i, a in enumerate(assignments)
        )
    try:
        t0 = time.perf_counter()
        result = checks_run(project=project)
        elapsed = time.perf_counter() - t0
        t0 = time.perf_counter()
        checks_run(project=project)
        again = time.perf_counter() - t0
        print(f"db: {args.documents} documents (gold, 3 runs, 2 annotations each)")
        print(f"  checks_run: {elapsed:.2f} s ({args.documents / elapsed:,.0f} documents/s); again: {again:.2f} s")
        print(f"  findings: {sum(result['findings'].values()):,}")
        print(f"  extrapolated to 60,000 documents: {60000 / (args.documents / elapsed):,.0f} s")
        selectors(project, docs[len(docs) // 2])
    finally:
        if not args.keep:
            Project.objects.filter(slug="bench-checks").delete()


def selectors(project, document):
    """Server time of the reads behind the checks page, the API and the review page."""
    from annotation.selectors_checks import checks_for_document, checks_list, checks_summary

    def median_ms(fn, repeat=5):
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        return sorted(times)[len(times) // 2]

    print(f"  checks_summary: {median_ms(lambda: checks_summary(project=project)):.0f} ms (median of 5)")
    print(f"  checks_list page 1: {median_ms(lambda: checks_list(project=project)):.0f} ms")
    print(f"  checks_list page 1, code+target: "
          f"{median_ms(lambda: checks_list(project=project, target='gold', code='not_grounded')):.0f} ms")  # fmt: skip
    print(f"  checks_for_document: {median_ms(lambda: checks_for_document(document=document)):.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--records", type=int, default=6)
    parser.add_argument("--chars", type=int, default=2500)
    parser.add_argument("--db", action="store_true")
    parser.add_argument("--keep", action="store_true", help="--db: keep the project bench-checks afterwards")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "elmtex_site.settings")
    import django

    django.setup()
    from annotation.schema import ELMTEX_KEYS

    keys = list(ELMTEX_KEYS)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    if args.db:
        db(args, keys)
    else:
        pure(args, keys)


if __name__ == "__main__":
    main()
