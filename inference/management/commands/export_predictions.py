import json
import sys

from annotation.selectors import project_get
from elmtex_site.cli import ElmtexCommand
from elmtex_site.files import atomic_text_output, output_path_check
from inference.selectors import run_get
from inference.services.predictions import predictions_export, predictions_export_count


class Command(ElmtexCommand):
    help = (
        "Export a run's predictions as JSON lines {patient_id, language, status, model_prediction} "
        "(the shape import_predictions reads); pending candidates are left out."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--run", required=True, help="run id or name")
        parser.add_argument("--out", required=True, help="output path, or - for standard output")
        parser.add_argument(
            "--config-out",
            help="where to write the run's frozen configuration (prompt template, schema, generation "
            "parameters, endpoint /info, platform version) as JSON; default OUT.run.json next to a file "
            "output, none for standard output; - for standard error",
        )

    def handle(self, *args, **opts):
        project = project_get(slug=opts["slug"])
        run = run_get(ref=opts["run"], project=project)
        _, pending = predictions_export_count(run=run)
        out_path = opts["out"]
        config_path = opts["config_out"] or (None if out_path == "-" else f"{out_path}.run.json")
        if out_path != "-":
            output_path_check(out_path)
        if config_path and config_path != "-":
            output_path_check(config_path, option="--config-out")
        with atomic_text_output(out_path) as fh:
            count = predictions_export(run=run, out=fh)
        skipped = f" ({pending} pending left out)" if pending else ""
        sys.stderr.write(f"exported {count} predictions of run {run.pk} to {out_path}{skipped}\n")
        if config_path:
            document = json.dumps(run_provenance(run), ensure_ascii=False, indent=2) + "\n"
            if config_path == "-":
                sys.stderr.write(document)
            else:
                with atomic_text_output(config_path, option="--config-out") as fh:
                    fh.write(document)
                sys.stderr.write(f"run configuration written to {config_path}\n")


def run_provenance(run) -> dict:
    """What produced the exported values: the run and its frozen configuration."""
    return {
        "run": {"id": run.pk, "name": run.name, "strategy": run.strategy, "source": run.source},
        "status": run.status,
        "endpoint": run.endpoint.name if run.endpoint_id else None,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "config": run.config,
    }
