import sys

from annotation.demo import write_demo_files
from elmtex_site.cli import ElmtexCommand
from elmtex_site.errors import ApplicationError


class Command(ElmtexCommand):
    help = (
        "Write the synthetic ELMTEX demo dataset (invented case reports with gold summaries) as "
        "en.json and de.json into a folder; prints the paths of the two files."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, metavar="DIR", help="folder to write en.json and de.json into")
        parser.add_argument("--n", type=int, default=240, help="number of English records (default 240)")
        parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same files")

    def handle(self, *args, **opts):
        if opts["n"] < 1:
            raise ApplicationError(f"--n: expected a positive number of records, got {opts['n']}")
        try:
            paths = write_demo_files(opts["out"], n=opts["n"], seed=opts["seed"])
        except OSError as exc:
            raise ApplicationError(
                f"--out: cannot write into {opts['out']}: {exc.strerror}; choose a folder you can write to"
            ) from None
        sys.stderr.write(f"wrote the synthetic demo dataset (n={opts['n']}, seed={opts['seed']})\n")
        for path in paths.values():
            self.stdout.write(str(path))
