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
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"evaluation {self.pk} of run {self.run_id}"
