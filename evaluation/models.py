"""Stored evaluation reports (DESIGN.md "Core data"). Evaluation reads gold and
candidates and writes only its own tables."""

from django.conf import settings
from django.db import models

from annotation.models import Project
from inference.models import ModelRun


class EvaluationStatus(models.TextChoices):
    QUEUED = "queued"  # evaluate --async: waiting for a worker on the "evaluation" queue
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class EvaluationReport(models.Model):
    """One evaluation of a run against gold: the CLI.md JSON shape in ``results``."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="evaluations")
    run = models.ForeignKey(ModelRun, on_delete=models.CASCADE, related_name="evaluations")
    compare_run = models.ForeignKey(
        ModelRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="compared_in"
    )
    metrics = models.JSONField(default=list, help_text='Metric families asked for, e.g. ["rouge"].')
    # Metric configuration (N/A policy, tokenizer, matcher, language, split, ...).
    config = models.JSONField(default=dict, blank=True)
    gold_version = models.CharField(max_length=64, help_text="Fingerprint of the gold values evaluated against.")
    results = models.JSONField(default=dict, help_text="The CLI.md evaluate JSON.")
    # Per-document scores {document id: {category key: {metric: value}}}, for error analysis.
    per_document = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=EvaluationStatus.choices, default=EvaluationStatus.DONE)
    error = models.TextField(blank=True, help_text="Why a queued evaluation failed.")
    # Background progress (pairs scored / to score), for BERTScore jobs on the gpu queue.
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"evaluation {self.pk} of run {self.run_id}"


class BertScoreCache(models.Model):
    """One BERTScore of one (prediction, reference) pair under one scorer configuration, so
    re-evaluation only scores new pairs. ``scorer_key`` = sha256 of the model's weight hash
    + num_layers + idf + rescale settings; ``pair_key`` = sha256 of prediction NUL reference."""

    scorer_key = models.CharField(max_length=64)
    pair_key = models.CharField(max_length=64)
    precision = models.FloatField()
    recall = models.FloatField()
    f1 = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scorer_key", "pair_key"], name="bertscore_cache_unique")]


class AgreementReport(models.Model):
    """Inter-annotator agreement of a project (the CLI.md ``agreement`` JSON in ``results``)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="agreement_reports")
    config = models.JSONField(default=dict, blank=True)  # language, split, package versions, ...
    # Fingerprint of the submitted annotations scored (a later annotation makes it stale).
    annotations_version = models.CharField(max_length=64, blank=True)
    results = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=EvaluationStatus.choices, default=EvaluationStatus.DONE)
    error = models.TextField(blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class ComparisonCache(models.Model):
    """Paired significance of a model comparison (reports vs a reference report), computed
    once from the reports' per-document scores and reused by the comparison page and API.
    ``key`` = sha256 of the sorted report ids, the reference report id and the method
    settings; a newer evaluation of a run gives new report ids, hence a new key."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="comparison_caches")
    key = models.CharField(max_length=64, unique=True)
    report_ids = models.JSONField(default=list)
    reference_report = models.ForeignKey(EvaluationReport, on_delete=models.CASCADE, related_name="+")
    results = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=EvaluationStatus.choices, default=EvaluationStatus.QUEUED)
    error = models.TextField(blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
