import json

from annotation.selectors import project_get
from annotation.services.splits import splits_assign, splits_ratios_parse
from elmtex_site.cli import ElmtexCommand
from elmtex_site.files import atomic_text_output, output_path_check


class Command(ElmtexCommand):
    help = (
        "Assign train/val/test splits to the documents without one (all with --force), stable for a seed; "
        "translations follow their original."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--ratios", required=True, help="train,val,test fractions summing to 1, e.g. 0.8,0.1,0.1")
        parser.add_argument("--seed", type=int, required=True, help="the same seed gives the same splits")
        parser.add_argument("--force", action="store_true", help="reassign documents that already have a split")
        parser.add_argument("--json", metavar="PATH", help="write the result JSON to PATH (- for standard output)")

    def handle(self, *args, **opts):
        project = project_get(slug=opts["slug"])
        ratios = splits_ratios_parse(opts["ratios"], field="--ratios")
        path = opts["json"]
        if path and path != "-":
            output_path_check(path, option="--json")  # before the work, not after it
        result = splits_assign(project=project, ratios=ratios, seed=opts["seed"], force=opts["force"])
        if path == "-":
            self.stdout.write(json.dumps(result.as_dict(), indent=2))
            return
        if path:
            with atomic_text_output(path, option="--json") as fh:
                json.dump(result.as_dict(), fh, indent=2)
                fh.write("\n")
        self.stdout.write(result.line())
