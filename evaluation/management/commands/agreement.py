import json
import sys

from annotation.selectors import project_get
from elmtex_site.cli import ElmtexCommand
from elmtex_site.files import atomic_text_output, output_path_check
from elmtex_site.progress import progress_bar
from evaluation.services.agreement import agreement_run

COLUMNS = (
    ("items", "items"),
    ("annotators", "annotators"),
    ("krippendorff_alpha", "alpha"),
    ("fleiss_kappa", "fleiss"),
    ("cohen_kappa_mean", "cohen"),
    ("text_rougeL_mean", "rougeL"),
    ("text_entity_f1_mean", "entity_f1"),
    ("annotator_vs_gold_rougeL_mean", "vs_gold_rougeL"),
)


class Command(ElmtexCommand):
    help = (
        "Inter-annotator agreement of a project's submitted annotations per category: Krippendorff's alpha, "
        "Fleiss' and Cohen's kappa on the judgements, ROUGE-L and entity F1 between annotators and against gold; "
        "store the report and print a table or write the JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--language", help="only documents in this language")
        parser.add_argument("--split", help="only documents of this split: train, val, test, none")
        parser.add_argument("--json", metavar="PATH", help="write the report JSON to PATH (- for standard output)")
        parser.add_argument("--progress", action="store_true", default=None, help="always draw a progress bar")

    def handle(self, *args, **opts):
        project = project_get(slug=opts["slug"])
        path = opts["json"]
        if path and path != "-":
            output_path_check(path, option="--json")  # before the work, not after it
        with progress_bar(total=None, desc="agreement", unit="doc", force=opts["progress"]) as bar:

            def progress(done: int, total: int) -> None:
                if bar.total != total:
                    bar.total = total
                bar.update(done - bar.n)

            report = agreement_run(project=project, language=opts["language"], split=opts["split"], progress=progress)
        results = report.results
        if path == "-":
            self.stdout.write(json.dumps(results, indent=2, ensure_ascii=False))
        elif path:
            with atomic_text_output(path, option="--json") as fh:
                json.dump(results, fh, indent=2, ensure_ascii=False)
                fh.write("\n")
        else:
            self.stdout.write(agreement_table(results))
        where = f"; wrote {path}" if path and path != "-" else ""
        sys.stderr.write(f"agreement report {report.pk} stored{where}\n")


def _cell(value) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.4f}"


def agreement_table(results: dict) -> str:
    """Categories x (items, annotators, alpha, Fleiss, Cohen, ROUGE-L, entity F1), then overall."""
    header = ["category", *(title for _, title in COLUMNS)]
    rows = [[key, *(_cell(block.get(k)) for k, _ in COLUMNS)] for key, block in results["categories"].items()]
    footer = ["overall", *(_cell(results["overall"].get(k)) for k, _ in COLUMNS)]
    everything = [header, *rows, footer]
    widths = [max(len(r[i]) for r in everything) for i in range(len(header))]

    def line(cells):
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    selection = results.get("selection") or {}
    intro = (
        f"{selection.get('annotations')} submitted annotations by {len(selection.get('annotators') or [])} "
        f"annotators on {selection.get('documents')} documents "
        f"({selection.get('documents_with_two_or_more')} with two or more); annotations "
        f"{results.get('annotations_version')}"
    )
    notes = (
        "items/annotators: documents judged by two or more annotators and who judged them; alpha: Krippendorff "
        "(nominal, missing allowed); fleiss: on the documents with the most common number of annotators; cohen: "
        "mean over annotator pairs; rougeL / entity_f1: mean pairwise between annotators; vs_gold_rougeL: mean "
        "over annotators against gold; '-': undefined or not applicable"
    )
    return "\n".join([intro, line(header), rule, *(line(r) for r in rows), rule, line(footer), "", notes])
