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
