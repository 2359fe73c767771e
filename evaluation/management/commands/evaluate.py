import json
import sys

from annotation.selectors import project_get
from elmtex_site.cli import ElmtexCommand
from elmtex_site.errors import ApplicationError
from elmtex_site.files import atomic_text_output, output_path_check
from elmtex_site.progress import progress_bar
from evaluation.metrics.entities import DEFAULT_FUZZY_THRESHOLD, MATCHERS
from evaluation.metrics.tokenize import DEFAULT_GERMAN_STEMMER, GERMAN_STEMMERS
from evaluation.models import EvaluationStatus
from evaluation.services import DEFAULT_METRICS, evaluation_queue, evaluation_run
from inference.selectors import run_get

TABLE_METRICS = ("rouge1", "rouge2", "rougeL", "entity_f1")
BERTSCORE_TABLE_METRICS = ("bertscore_f1",)


class Command(ElmtexCommand):
    help = (
        "Evaluate a run against gold per category (ROUGE-1/2/L with rouge-score, entity P/R/F1, BERTScore "
        "on request); store the report and print a table or write the JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--run", required=True, help="run id or name")
        parser.add_argument("--compare", help="a second run (id or name) of the project to compare with")
        parser.add_argument(
            "--metrics",
            default=",".join(DEFAULT_METRICS),
            help="comma-separated: rouge, entity, bertscore (default rouge,entity)",
        )
        parser.add_argument("--language", help="only documents in this language")
        parser.add_argument("--split", help="only documents of this split: train, val, test, none")
        parser.add_argument("--json", metavar="PATH", help="write the report JSON to PATH (- for standard output)")
        parser.add_argument(
            "--fuzzy-threshold",
            type=float,
            default=DEFAULT_FUZZY_THRESHOLD,
            help="entity matcher: least rapidfuzz token_set_ratio for a fuzzy match (default 90)",
        )
        parser.add_argument(
            "--matcher",
            default="default",
            choices=sorted(MATCHERS),
            help="entity matcher: default (CLI.md) or scispacy (scispaCy + UMLS linker, when installed)",
        )
        parser.add_argument("--scispacy-model", help="scispaCy model package or path (default en_core_sci_scibert)")
        parser.add_argument(
            "--gold-na",
            default="skip",
            choices=["skip", "score"],
            help="ROUGE/entity pairs whose gold is N/A: skip (the paper, default) or score them",
        )
        parser.add_argument(
            "--unparsed",
            default="skip",
            choices=["skip", "empty"],
            help="candidates that did not parse: skip (the paper, default) or score as empty predictions",
        )
        parser.add_argument(
            "--bertscore-pairs",
            default="all",
            choices=["all", "rouge"],
            help="BERTScore on all scored pairs incl. gold N/A (the paper, default) or on the same pairs as ROUGE",
        )
        parser.add_argument(
            "--bertscore-model", metavar="PATH", help="BERTScore model: a local path or a local model id"
        )
        parser.add_argument("--bertscore-baseline", metavar="PATH", help="bert-score baseline file for rescaling")
        parser.add_argument(
            "--bertscore-rescale",
            action="store_true",
            default=None,
            help="rescale BERTScore with the baseline (default: for the paper's model or with --bertscore-baseline)",
        )
        parser.add_argument(
            "--german-stemmer",
            default=DEFAULT_GERMAN_STEMMER,
            choices=list(GERMAN_STEMMERS),
            help="ROUGE on German documents: Unicode tokenizer with the Snowball German stemmer (default) or none",
        )
        parser.add_argument(
            "--async",
            dest="run_async",
            action="store_true",
            help="queue the evaluation for a worker (queue 'evaluation'; 'gpu' with bertscore) and print its id",
        )
        parser.add_argument("--progress", action="store_true", default=None, help="always draw a progress bar")

    def handle(self, *args, **opts):
        project = project_get(slug=opts["slug"])
        if opts["run_async"] and opts["json"]:
            raise ApplicationError(
                "--json: a queued evaluation has no result yet; drop --json, or evaluate without --async"
            )
        path = opts["json"]
        if path and path != "-":
            output_path_check(path, option="--json")  # before the work, not after it
        run = run_get(ref=opts["run"], project=project)
        compare = run_get(ref=opts["compare"], project=project) if opts["compare"] else None
        request = {
            "run": run,
            "compare": compare,
            "metrics": opts["metrics"],
            "language": opts["language"],
            "split": opts["split"],
            "fuzzy_threshold": opts["fuzzy_threshold"],
            "matcher": opts["matcher"],
            "scispacy_model": opts["scispacy_model"],
            "gold_na": opts["gold_na"],
            "unparsed": opts["unparsed"],
            "bertscore_pairs": opts["bertscore_pairs"],
            "german_stemmer": opts["german_stemmer"],
            "bertscore_model": opts["bertscore_model"],
            "bertscore_baseline": opts["bertscore_baseline"],
            "bertscore_rescale": opts["bertscore_rescale"],
        }
        if opts["run_async"]:
            report = evaluation_queue(**request)
            if report.status == EvaluationStatus.FAILED:
                raise ApplicationError(f"evaluation {report.pk} could not be queued: {report.error}")
            self.stdout.write(f"evaluation {report.pk} queued")
            return
        with progress_bar(total=None, desc="evaluate", unit="it", force=opts["progress"]) as bar:

            def progress(done: int, total: int) -> None:
                if bar.total != total:
                    bar.total = total
                bar.update(done - bar.n)

            report = evaluation_run(**request, progress=progress)
        results = report.results
        if path == "-":
            self.stdout.write(json.dumps(results, indent=2, ensure_ascii=False))
        elif path:
            with atomic_text_output(path, option="--json") as fh:
                json.dump(results, fh, indent=2, ensure_ascii=False)
                fh.write("\n")
        else:
            self.stdout.write(report_table(results))
        where = f"; wrote {path}" if path and path != "-" else ""
        sys.stderr.write(f"evaluation {report.pk} stored{where}\n")


def _number(value) -> str:
    return "-" if value is None else f"{value:.4f}"


def _table(header: list[str], rows: list[list[str]], footer: list[str] | None = None) -> list[str]:
    """Fixed-width lines: first column left-aligned, the numbers right-aligned."""
    everything = [header, *rows, *([footer] if footer else [])]
    widths = [max(len(r[i]) for r in everything) for i in range(len(header))]

    def line(cells):
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    lines = [line(header), rule, *(line(r) for r in rows)]
    if footer:
        lines += [rule, line(footer)]
    return lines


def _scores_table(categories: dict, overall: dict) -> list[str]:
    bert = overall.get("n_bertscore")
    metrics = TABLE_METRICS + (BERTSCORE_TABLE_METRICS if bert else ())
    counts = ("n_entity", "n_bertscore") if bert else ("n_entity",)
    rows = [
        [key, str(cat["n"]), *(_number(cat[m]) for m in metrics), *(str(cat[c]) for c in counts)]
        for key, cat in categories.items()
    ]
    footer = ["overall (macro mean)", str(overall["n"]), *(_number(overall[m]) for m in metrics)]
    footer += [str(overall[c]) for c in counts]
    return _table(["category", "n", *metrics, *counts], rows, footer)


def report_table(results: dict) -> str:
    """Categories x (n, ROUGE-1/2/L F, entity F1, n_entity), then the macro mean; with a
    comparison, the deltas (and bootstrap p-values) per category."""
    lines = [f"run {results['run']['id']} ({results['run']['name']}), gold {results['gold_version']}"]
    lines += _scores_table(results["categories"], results["overall"])
    languages = results.get("languages") or {}
    if len(languages) > 1:
        for language, section in languages.items():
            count = section["documents"]
            lines += ["", f"language {language} ({count} document{'' if count == 1 else 's'})"]
            lines += _scores_table(section["categories"], section["overall"])
    compare = results.get("compare")
    if compare:
        other = compare["run"]
        lines += ["", f"minus run {other['id']} ({other['name']}) on the documents both scored: delta (p bootstrap)"]
        rows = []
        for key, cat in compare["categories"].items():
            cells = [key, str(cat["rouge1"]["n"])]
            for m in TABLE_METRICS:
                d = cat[m]
                cells.append("-" if d["delta"] is None else f"{d['delta']:+.4f} ({d['p_bootstrap']:.3f})")
            rows.append(cells)
        lines += _table(["category", "n", *TABLE_METRICS], rows)
    return "\n".join(lines)
