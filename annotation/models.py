"""Projects, people, category schema, documents and gold (DESIGN.md "Core data").

Writes go through ``annotation.services``; nothing clever lives in ``save()``.
"""

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    RESEARCHER = "researcher", "Researcher"
    REVIEWER = "reviewer", "Reviewer"
    ANNOTATOR = "annotator", "Annotator"


class Split(models.TextChoices):
    TRAIN = "train", "train"
    VAL = "val", "val"
    TEST = "test", "test"
    NONE = "none", "none"


class Project(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.slug


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique")]
        ordering = ["project", "user__username"]

    def __str__(self):
        return f"{self.user} @ {self.project} ({self.role})"


class Category(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="categories")
    key = models.CharField(max_length=64)
    label = models.CharField(max_length=200)
    guideline = models.TextField(blank=True)
    text_metrics = models.BooleanField(default=True)
    entity_metrics = models.BooleanField(default=False)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="category_key_unique")]
        ordering = ["project", "order"]
        verbose_name_plural = "categories"

    def __str__(self):
        return f"{self.project}:{self.key}"


class Document(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="documents")
    external_id = models.CharField(max_length=200, help_text="The dataset's patient_id, as a string.")
    language = models.CharField(max_length=16, default="en")
    text = models.TextField()
    split = models.CharField(max_length=8, choices=Split.choices, default=Split.NONE)
    translation_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="translations"
    )
    metadata = models.JSONField(default=dict, blank=True)
    # sha256 of the imported record's content, so re-imports can tell "unchanged".
    content_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "external_id", "language"], name="document_unique")]
        indexes = [
            models.Index(fields=["project", "split", "language"], name="document_split_lang"),
            models.Index(fields=["project", "language", "external_id"], name="document_lang_id"),
        ]
        ordering = ["id"]

    def __str__(self):
        return f"{self.project}:{self.external_id} ({self.language})"


class GoldOrigin(models.TextChoices):
    IMPORTED = "imported", "imported"
    ADJUDICATED = "adjudicated", "adjudicated"


class Gold(models.Model):
    """The reference extraction of one document: ``values`` maps category key -> text."""

    document = models.OneToOneField(Document, on_delete=models.CASCADE, primary_key=True, related_name="gold")
    values = models.JSONField(default=dict)
    origin = models.CharField(max_length=16, choices=GoldOrigin.choices, default=GoldOrigin.IMPORTED)
    # Who or what produced these values: the import file, or the annotations adjudicated.
    provenance = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "gold"

    def __str__(self):
        return f"gold for {self.document}"


# --- Annotation work (issue 4): assignments, annotations, history, checks, access log ----


class Judgement(models.TextChoices):
    """The ELMTEX error types: an annotator's verdict on the draft value shown for a field."""

    CORRECT = "correct", "correct"
    PARTIALLY_CORRECT = "partially_correct", "partially correct"
    INCORRECT = "incorrect", "incorrect"
    MISSING = "missing", "missing"
    HALLUCINATED = "hallucinated", "hallucinated"
    WRONG_CATEGORY = "wrong_category", "wrong category"


class PrefillMode(models.TextChoices):
    RUN = "run", "a chosen run's candidate"
    EMPTY = "empty", "empty fields"


class AnnotationSettings(models.Model):
    """How a project's annotation form starts: which run's candidates pre-fill it."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="annotation_settings"
    )
    prefill = models.CharField(max_length=8, choices=PrefillMode.choices, default=PrefillMode.RUN)
    # String reference: inference imports annotation, never the other way round.
    prefill_run = models.ForeignKey(
        "inference.ModelRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grounding_threshold = models.PositiveSmallIntegerField(
        default=90, help_text="rapidfuzz partial_ratio at or above which an item counts as found in the report."
    )
    updated_at = models.DateTimeField(auto_now=True)


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", "assigned"
    IN_PROGRESS = "in_progress", "in progress"  # a draft was saved
    SUBMITTED = "submitted", "submitted"
    SKIPPED = "skipped", "skipped"
    WITHDRAWN = "withdrawn", "withdrawn"  # taken back by a researcher; finished work is kept


class Assignment(models.Model):
    """A document given to one annotator. Unique per (document, annotator): re-assigning
    the same pair re-opens the row instead of creating a second one."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    status = models.CharField(max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.ASSIGNED)
    # The run whose candidate pre-fills the form (null: empty form). Frozen at assignment.
    draft_run = models.ForeignKey(
        "inference.ModelRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    skip_reason = models.TextField(blank=True)
    time_spent_seconds = models.FloatField(default=0)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "annotator"], name="assignment_unique")]
        indexes = [
            models.Index(fields=["annotator", "project", "status", "id"], name="assignment_queue"),
            models.Index(fields=["project", "status"], name="assignment_project_status"),
        ]
        ordering = ["id"]

    def __str__(self):
        return f"{self.document} -> {self.annotator} ({self.status})"


class AnnotationSource(models.TextChoices):
    WEB = "web", "annotated here"
    IMPORTED = "imported", "imported (import_annotations)"


class Annotation(models.Model):
    """One annotator's work on one document: corrected values, per-field judgements of the
    draft shown, evidence spans. ``version`` is the optimistic lock: a save names the
    version it started from and is refused (409) when another save got there first."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="annotation")
    values = models.JSONField(default=dict, blank=True)  # {category key: text}
    judgements = models.JSONField(default=dict, blank=True)  # {category key: Judgement value}
    spans = models.JSONField(default=dict, blank=True)  # {category key: [[start, end], ...]}
    # The draft values shown when the form opened (what the judgements refer to).
    draft = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=16, choices=AnnotationSource.choices, default=AnnotationSource.WEB)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"annotation of {self.assignment}"


class AnnotationRevision(models.Model):
    """History of an annotation: who changed what, when (old -> new per field)."""

    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField(help_text="The annotation's version after this change.")
    # {"values.<key>": [old, new], "judgements.<key>": [old, new], "spans.<key>": [old, new], "status": [..]}
    changes = models.JSONField(default=dict)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["annotation", "version"]


class GoldRevision(models.Model):
    """History of gold values (imports, adjudication, edits): old -> new per field."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="gold_revisions")
    version = models.PositiveIntegerField(help_text="Gold.version after this change.")
    origin = models.CharField(max_length=16, choices=GoldOrigin.choices)
    changes = models.JSONField(default=dict)  # {"<key>": [old, new]}
    provenance = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "version"]


class CheckTarget(models.TextChoices):
    GOLD = "gold", "gold"
    CANDIDATE = "candidate", "model candidate"
    ANNOTATION = "annotation", "annotation"


class CheckSeverity(models.TextChoices):
    INFO = "info", "info"
    WARNING = "warning", "warning"
    ERROR = "error", "error"


class CheckResult(models.Model):
    """One automated-check finding on one field of gold, a candidate or an annotation.
    ``target_id``: the document id for gold, the candidate id, or the annotation id."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="check_results")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="check_results")
    target = models.CharField(max_length=16, choices=CheckTarget.choices)
    target_id = models.PositiveBigIntegerField()
    category = models.CharField(max_length=64, blank=True, help_text="Category key; blank for whole-record findings.")
    code = models.CharField(max_length=48, help_text="Check code, e.g. not_grounded.")
    severity = models.CharField(max_length=8, choices=CheckSeverity.choices, default=CheckSeverity.WARNING)
    message = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "target", "target_id"], name="checkresult_target"),
            models.Index(fields=["document", "target"], name="checkresult_document"),
            models.Index(fields=["project", "code"], name="checkresult_project_code"),
        ]
        ordering = ["id"]


class AccessAction(models.TextChoices):
    VIEW = "view", "opened"
    SAVE = "save", "saved a draft"
    SUBMIT = "submit", "submitted"
    SKIP = "skip", "skipped"
    ADJUDICATE = "adjudicate", "adjudicated"
    EDIT_GOLD = "edit_gold", "edited gold"
    EXPORT = "export", "exported"


class AccessLog(models.Model):
    """Who opened or changed which document, when (append-only)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="access_log")
    document = models.ForeignKey(Document, null=True, blank=True, on_delete=models.CASCADE, related_name="access_log")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=16, choices=AccessAction.choices)
    detail = models.CharField(max_length=200, blank=True, help_text="Ids only, never patient text.")
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["project", "-at"], name="accesslog_project_at")]
        ordering = ["-at", "-id"]


# --- Exports (issue 6): large gold exports run as Celery jobs ----------------------------


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    DONE = "done", "done"
    FAILED = "failed", "failed"


class ExportJob(models.Model):
    """One gold export run by a worker (queue ``evaluation``); the file is downloadable
    when done. ``options`` holds the format and filters as the service takes them."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="export_jobs")
    format = models.CharField(max_length=16)
    options = models.JSONField(default=dict, blank=True)  # language, split, only_adjudicated, min_agreement, ...
    status = models.CharField(max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    # Path of the finished file relative to settings.ELMTEX_EXPORT_DIR ("" until done).
    file_path = models.CharField(max_length=500, blank=True)
    file_name = models.CharField(max_length=200, blank=True, help_text="Download name.")
    file_bytes = models.PositiveBigIntegerField(default=0)
    manifest = models.JSONField(default=dict, blank=True)  # counts and a sha256 per file
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last time a worker wrote progress: a running job without progress for a while is stalled.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"export {self.pk} of {self.project} ({self.format}, {self.status})"
