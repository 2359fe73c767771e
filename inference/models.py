"""Model endpoints, extraction runs and their candidates (DESIGN.md "Core data").

Inference reads annotation's documents and writes only its own tables.
"""

from django.conf import settings
from django.db import models

from annotation.models import Document, Project


class EndpointMode(models.TextChoices):
    GENERATE = "generate", "raw generate (/generate)"
    CHAT = "chat", "chat completions (/v1/chat/completions)"


class ModelEndpoint(models.Model):
    """A TGI server (or anything speaking its protocol). Names are global: several
    projects share one GPU server."""

    name = models.SlugField(max_length=64, unique=True)
    base_url = models.URLField(max_length=500)
    model_id = models.CharField(max_length=300, blank=True, help_text="From /info unless given.")
    mode = models.CharField(max_length=16, choices=EndpointMode.choices, default=EndpointMode.CHAT)
    concurrency = models.PositiveIntegerField(help_text="Requests in flight at most, across all workers.")
    info = models.JSONField(default=dict, blank=True, help_text="The server's /info when registered.")
    tokenizer_path = models.CharField(
        max_length=500,
        blank=True,
        help_text="Local tokenizer folder: raw-generate prompts are built with its chat template.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Strategy(models.TextChoices):
    NAIVE = "naive"
    ADVANCED = "advanced"
    FINETUNED = "finetuned"


class RunSource(models.TextChoices):
    LIVE = "live", "generated through an endpoint"
    IMPORTED = "imported", "imported predictions"


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"  # the endpoint keeps failing; resume_run continues
    CANCELLED = "cancelled"
    STALLED = "stalled"  # no worker progress for a while (derived when read, see selectors)
    FINISHED = "finished"
    FAILED = "failed"


ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class ModelRun(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="runs")
    name = models.CharField(max_length=200)
    endpoint = models.ForeignKey(
        ModelEndpoint, null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )  # null for imported predictions
    source = models.CharField(max_length=16, choices=RunSource.choices, default=RunSource.LIVE)
    strategy = models.CharField(max_length=16, choices=Strategy.choices, default=Strategy.NAIVE)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    # What was asked for: {"language": .., "split": .., "limit": ..}.
    selection = models.JSONField(default=dict, blank=True)
    # Frozen at creation: prompt template, schema, generation parameters, endpoint /info,
    # platform version. Never changed afterwards (traceability).
    config = models.JSONField(default=dict, blank=True)
    total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the run failed or paused.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last time a worker wrote progress: a running run without progress for a while is stalled.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="run_name_unique_in_project")]

    def __str__(self):
        return f"run {self.pk} ({self.name})"


class CandidateStatus(models.TextChoices):
    PENDING = "pending"  # not processed yet
    OK = "ok"
    PARSE_ERROR = "parse_error"  # the output did not parse; raw output kept
    TOO_LONG = "too_long"  # the report does not fit the endpoint's max_input_tokens
    FAILED = "failed"  # the endpoint refused or failed; error kept


DONE_CANDIDATE_STATUSES = (
    CandidateStatus.OK,
    CandidateStatus.PARSE_ERROR,
    CandidateStatus.TOO_LONG,
    CandidateStatus.FAILED,
)


class Candidate(models.Model):
    """One model draft for one document in one run. Unique on (run, document): writes are
    idempotent, so a batch redelivered after a worker died cannot duplicate anything."""

    run = models.ForeignKey(ModelRun, on_delete=models.CASCADE, related_name="candidates")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="candidates")
    status = models.CharField(max_length=16, choices=CandidateStatus.choices, default=CandidateStatus.PENDING)
    values = models.JSONField(null=True, blank=True, help_text="Parsed values {category key: text}.")
    raw_output = models.TextField(blank=True)
    error = models.TextField(blank=True)
    finish_reason = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    generated_tokens = models.PositiveIntegerField(null=True, blank=True)
    # Advanced strategy: the training-split documents shown as in-context examples (ids),
    # chosen once per run by retrieval, so every value can be traced to its prompt.
    prompt_examples = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["run", "document__external_id"]
        constraints = [models.UniqueConstraint(fields=["run", "document"], name="candidate_unique_per_run")]
        indexes = [models.Index(fields=["run", "status"], name="candidate_run_status")]

    def __str__(self):
        return f"candidate run={self.run_id} document={self.document_id} ({self.status})"


# What processing a candidate fills in: a batch writes these, the API shows them.
CANDIDATE_OUTCOME_FIELDS = (
    "status",
    "values",
    "raw_output",
    "error",
    "finish_reason",
    "attempts",
    "latency_ms",
    "prompt_tokens",
    "generated_tokens",
    "updated_at",
)
