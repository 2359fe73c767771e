from annotation.selectors import project_get
from elmtex_site.cli import ElmtexCommand
from elmtex_site.errors import ApplicationError
from inference.models import Strategy
from inference.selectors import endpoint_get
from inference.services.runs import run_create

from ._run_wait import run_follow


class Command(ElmtexCommand):
    help = "Start an extraction run over a project's documents on the Celery workers."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--endpoint", required=True, help="endpoint name (see add_endpoint)")
        parser.add_argument("--strategy", default=Strategy.NAIVE, choices=Strategy.values)
        parser.add_argument("--k", type=int, default=None, help="examples per prompt (advanced strategy; default 5)")
        parser.add_argument("--embedding-model", default=None, help="retrieval model path (advanced strategy)")
        parser.add_argument(
            "--temperature",
            type=float,
            default=None,
            help="sample at this temperature with the fixed seed (ELMTEX used 0.1; default 0 = greedy)",
        )
        parser.add_argument("--language", default=None, help="only documents in this language")
        parser.add_argument("--split", default=None, help="only documents of this split: train, val, test, none")
        parser.add_argument("--limit", type=int, default=None, help="only the first N documents by patient_id")
        parser.add_argument("--name", default=None, help="run name, unique in the project (default generated)")
        parser.add_argument("--wait", action="store_true", help="wait for the run, with progress on stderr")
        parser.add_argument("--progress", action="store_true", default=None, help="always draw the progress bar")

    def handle(self, *args, **opts):
        project = project_get(slug=opts["slug"])
        endpoint = endpoint_get(name=opts["endpoint"])
        if opts["strategy"] != Strategy.ADVANCED and (opts["k"] is not None or opts["embedding_model"]):
            raise ApplicationError("--k and --embedding-model apply to --strategy advanced only")
        run = run_create(
            project=project,
            endpoint=endpoint,
            strategy=opts["strategy"],
            name=opts["name"],
            language=opts["language"],
            split=opts["split"],
            limit=opts["limit"],
            k=opts["k"],
            embedding_model=opts["embedding_model"],
            temperature=opts["temperature"],
        )
        retrieval = run.config.get("retrieval")
        if retrieval and retrieval.get("fallback_reason"):
            self.stderr.write(f"note: examples are retrieved by TF-IDF: {retrieval['fallback_reason']}")
        self.stdout.write(f"run {run.pk}")
        self.stdout.flush()
        run_follow(run, stdout=self.stdout, wait=opts["wait"], force_progress=opts["progress"])
