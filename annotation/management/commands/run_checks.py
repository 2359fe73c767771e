import json
import sys

from annotation.checks import CODES
from annotation.selectors import project_get
from annotation.services.checks import DEFAULT_TARGETS, checks_run, checks_targets_parse
from elmtex_site.cli import ElmtexCommand
from elmtex_site.files import atomic_text_output, output_path_check
from elmtex_site.progress import progress_bar


class Command(ElmtexCommand):
    help = (
        "Run the automated checks (grounding, wrong category, N/A, age, gender, length, translation) "
        "over a project's gold, candidates and submitted annotations; replaces the stored findings."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "--target",
            default=",".join(DEFAULT_TARGETS),
            help="what to check, comma-separated: gold, candidate, annotation (default: all three)",
        )
        parser.add_argument("--run", help="with candidate: only this run's candidates (name or id)")
        parser.add_argument("--json", metavar="PATH", help="write the result JSON to PATH (- for standard output)")
        parser.add_argument("--progress", action="store_true", default=None, help="always draw a progress bar")

    def handle(self, *args, **opts):
        project = project_get(slug=opts["slug"])
        targets = checks_targets_parse(targets=opts["target"])
        path = opts["json"]
        if path and path != "-":
            output_path_check(path, option="--json")  # before the work, not after it
        run = None
        if opts["run"]:
            from inference.selectors import run_get  # the CLI may read inference; models may not

            run = run_get(ref=opts["run"], project=project)
        with progress_bar(total=None, desc="checks", unit="doc", force=opts["progress"]) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

            result = checks_run(project=project, targets=targets, run=run, progress=progress)
        if path == "-":
            self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))
        elif path:
            with atomic_text_output(path, option="--json") as fh:
                json.dump(result, fh, indent=2, ensure_ascii=False)
                fh.write("\n")
        if path != "-":
            self.stdout.write(summary_text(result))
        where = f"; wrote {path}" if path and path != "-" else ""
        sys.stderr.write(f"checked {result['documents']} documents of {project.slug}{where}\n")


def summary_text(result: dict) -> str:
    lines = []
    for target in result["targets"]:
        lines.append(f"{target}: {result['checked'][target]} checked, {result['findings'][target]} findings")
    by_code = result["by_code"]
    if by_code:
        width = max(len(c) for c in by_code)
        lines.append("")
        lines.append(f"{'code'.ljust(width)}  {'severity':8}  {'findings':>8}  description")
        for code, n in sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0])):
            severity, description = CODES.get(code, ("", ""))
            lines.append(f"{code.ljust(width)}  {severity:8}  {n:>8}  {description}")
    return "\n".join(lines)
