import json
import sys

from annotation.selectors import project_get
from elmtex_site.cli import ElmtexCommand
from elmtex_site.errors import ApplicationError
from elmtex_site.files import atomic_text_output, output_path_check
from elmtex_site.progress import progress_bar
from evaluation.metrics.entities import DEFAULT_FUZZY_THRESHOLD, MATCHERS
from evaluation.models import EvaluationStatus
from evaluation.services import DEFAULT_METRICS, evaluation_queue, evaluation_run
from inference.selectors import run_get

TABLE_METRICS = ("rouge1", "rouge2", "rougeL", "entity_f1")


class Command(ElmtexCommand):
    help = (
        "Evaluate a run against gold per category (ROUGE-1/2/L with rouge-score, entity P/R/F1); "
        "store the report and print a table or write the JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--run", required=True, help="run id or name")
        parser.add_argument("--compare", help="a second run (id or name) of the project to compare with")
        parser.add_argument(
            "--metrics", default=",".join(DEFAULT_METRICS), help="comma-separated: rouge, entity (default rouge,entity)"
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
        parser.add_argument("--matcher", default="default", choices=sorted(MATCHERS), help="entity matcher")
        parser.add_argument(
            "--async",
            dest="run_async",
            action="store_true",
            help="queue the evaluation for a worker (queue 'evaluation') and print its id",
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
        }
        if opts["run_async"]:
            report = evaluation_queue(**request)
            if report.status == EvaluationStatus.FAILED:
                raise ApplicationError(f"evaluation {report.pk} could not be queued: {report.error}")
            self.stdout.write(f"evaluation {report.pk} queued")
            return
        with progress_bar(total=None, desc="evaluate", unit="doc", force=opts["progress"]) as bar:
            report = evaluation_run(**request, on_row=bar.update)
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


def report_table(results: dict) -> str:
    """Categories x (n, ROUGE-1/2/L F, entity F1, n_entity), then the macro mean; with a
    comparison, the deltas (and bootstrap p-values) per category."""
    rows = [
        [key, str(cat["n"]), *(_number(cat[m]) for m in TABLE_METRICS), str(cat["n_entity"])]
        for key, cat in results["categories"].items()
    ]
    overall = results["overall"]
    footer = ["overall (macro mean)", str(overall["n"]), *(_number(overall[m]) for m in TABLE_METRICS)]
    footer.append(str(overall["n_entity"]))
    run = results["run"]
    lines = [f"run {run['id']} ({run['name']}), gold {results['gold_version']}"]
    lines += _table(["category", "n", *TABLE_METRICS, "n_entity"], rows, footer)
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
