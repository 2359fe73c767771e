"""Output shapes shared by the run APIs (and the data the run pages show)."""

from __future__ import annotations

from rest_framework import serializers

from annotation.apis.common import ProjectScopedMixin

from ..models import ModelRun, RunStatus
from ..selectors import RunProgress, run_get

# Plain strings in the schema: enums named "status" here would collide with other apps'
# status enums (drf-spectacular warns, and the schema test fails on warnings).
RUN_STATUS_HELP = f"one of: {', '.join(RunStatus.values)}; stalled = running without recent worker progress"


class ProgressSerializer(serializers.Serializer):
    class Meta:
        ref_name = "RunProgress"

    status = serializers.CharField(help_text=RUN_STATUS_HELP)
    total = serializers.IntegerField(help_text="documents in the run")
    done = serializers.IntegerField(help_text="processed: ok + parse_error + too_long + failed")
    pending = serializers.IntegerField()
    ok = serializers.IntegerField()
    parse_error = serializers.IntegerField(help_text="the output did not parse (raw output kept)")
    too_long = serializers.IntegerField(help_text="the report does not fit the endpoint's input limit")
    failed = serializers.IntegerField(help_text="the endpoint refused or failed")
    prompt_tokens = serializers.IntegerField()
    generated_tokens = serializers.IntegerField()
    elapsed_s = serializers.FloatField(allow_null=True, help_text="since the run started (until it ended)")
    docs_per_s = serializers.FloatField(allow_null=True)
    tokens_per_s = serializers.FloatField(allow_null=True, help_text="prompt + generated tokens per second")
    eta_s = serializers.FloatField(allow_null=True, help_text="seconds left at the current rate; null when unknown")
    reason = serializers.CharField(
        help_text="why the run is paused, failed, cancelled or stalled (what to do next); empty otherwise"
    )


class RunOutputSerializer(serializers.Serializer):
    """A run as lists show it (no frozen config)."""

    class Meta:
        ref_name = "Run"

    id = serializers.IntegerField()
    name = serializers.CharField()
    project = serializers.CharField(help_text="project slug")
    status = serializers.CharField(help_text=RUN_STATUS_HELP)
    source = serializers.CharField(help_text="live (generated through an endpoint) or imported")
    strategy = serializers.CharField()
    endpoint = serializers.CharField(allow_null=True, help_text="endpoint name; null for imported predictions")
    model_id = serializers.CharField(allow_null=True)
    selection = serializers.JSONField(help_text="what was asked for: language, split, limit")
    error = serializers.CharField(help_text="why the run failed or paused")
    progress = ProgressSerializer()
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    heartbeat_at = serializers.DateTimeField(allow_null=True, help_text="last time a worker wrote progress")


class RunDetailOutputSerializer(RunOutputSerializer):
    class Meta:
        ref_name = "RunDetail"

    config = serializers.JSONField(
        help_text="frozen at creation: prompt template, schema, generation parameters, endpoint /info, platform version"
    )


def run_data(run: ModelRun, progress: RunProgress, *, with_config: bool = False) -> dict:
    endpoint = run.endpoint
    data = {
        "id": run.pk,
        "name": run.name,
        "project": run.project.slug,
        "status": progress.status,
        "source": run.source,
        "strategy": run.strategy,
        "endpoint": endpoint.name if endpoint else None,
        "model_id": (endpoint.model_id or None) if endpoint else (run.config or {}).get("model_id"),
        "selection": run.selection,
        "error": run.error,
        "progress": progress.as_dict(),
        "created_by": run.created_by.get_username() if run.created_by_id else None,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "heartbeat_at": run.heartbeat_at,
    }
    if with_config:
        data["config"] = run.config
    return data


class RunScopedMixin(ProjectScopedMixin):
    """Resolves ``<slug>`` and ``<pk>``: a run of a project the user may see the runs of."""

    project_need = "documents"

    def get_run(self) -> ModelRun:
        if not hasattr(self, "_run"):
            self._run = run_get(ref=self.kwargs["pk"], project=self.get_project())
        return self._run
