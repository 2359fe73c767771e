import json

from django.contrib.auth import get_user_model

from annotation.selectors import project_get
from annotation.services.assignments import assignments_create
from elmtex_site.cli import ElmtexCommand
from elmtex_site.errors import ApplicationError


class Command(ElmtexCommand):
    help = (
        "Assign documents to annotators with an overlap (each document to k annotators), balanced and "
        "reproducible with a seed. Prints the result as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--annotators", required=True, help="comma-separated usernames (project members)")
        parser.add_argument("--overlap", type=int, default=1, help="annotators per document (default 1)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--split", help="only documents of this split")
        parser.add_argument("--language", help="only documents in this language")
        parser.add_argument("--ids", help="file with one patient_id per line: only these documents")
        parser.add_argument("--run", help="run (id or name) whose candidates pre-fill the forms")
        parser.add_argument("--limit", type=int, help="only the first N selected documents (in import order)")

    def handle(self, *args, **opts):
        project = project_get(slug=opts["slug"])
        names = [n.strip() for n in opts["annotators"].split(",") if n.strip()]
        users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
        missing = [n for n in names if n not in users]
        if missing:
            raise ApplicationError(f"--annotators: unknown users: {', '.join(missing)}")
        external_ids = None
        if opts["ids"]:
            try:
                with open(opts["ids"], encoding="utf-8") as fh:
                    external_ids = [line.strip() for line in fh if line.strip()]
            except (OSError, UnicodeDecodeError) as exc:
                raise ApplicationError(f"--ids: cannot read {opts['ids']}: {exc}") from None
        run = None
        if opts["run"]:
            from inference.models import ModelRun

            ref = opts["run"]
            qs = ModelRun.objects.filter(project=project)
            run = (qs.filter(pk=int(ref)) if ref.isdigit() else qs.filter(name=ref)).first()
            if run is None:
                raise ApplicationError(f"--run: no run {ref!r} in project {project.slug!r}")
        document_ids = None
        if opts["limit"] is not None:
            if opts["limit"] < 1:
                raise ApplicationError(f"--limit must be at least 1, got {opts['limit']}")
            from annotation.models import Document

            selected = Document.objects.filter(project=project)
            if opts["split"]:
                selected = selected.filter(split=opts["split"])
            if opts["language"]:
                selected = selected.filter(language=opts["language"])
            if external_ids is not None:
                selected = selected.filter(external_id__in=external_ids)
            document_ids = list(selected.order_by("id").values_list("id", flat=True)[: opts["limit"]])
            external_ids = None
        result = assignments_create(
            project=project,
            annotators=[users[n] for n in dict.fromkeys(names)],
            overlap=opts["overlap"],
            seed=opts["seed"],
            split=opts["split"],
            language=opts["language"],
            external_ids=external_ids,
            document_ids=document_ids,
            draft_run=run,
        )
        self.stdout.write(json.dumps(result))
