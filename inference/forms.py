"""Forms of the run pages: start a run, filter candidates."""

from __future__ import annotations

from django import forms

from annotation.models import Split
from elmtex_site.errors import ApplicationError

from .models import CandidateStatus, ModelEndpoint, Strategy
from .services.examples import DEFAULT_K, MAX_K
from .services.runs import AVAILABLE_STRATEGIES, MAX_TEMPERATURE


class RunStartForm(forms.Form):
    endpoint = forms.ModelChoiceField(
        queryset=ModelEndpoint.objects.order_by("name"),
        to_field_name="name",
        empty_label=None,
        label="Endpoint",
        help_text="The TGI server that generates the candidates.",
    )
    # Only the strategies whose prompts exist; the API names the others with a reason.
    strategy = forms.ChoiceField(
        choices=[(value, label) for value, label in Strategy.choices if value in AVAILABLE_STRATEGIES],
        initial=Strategy.NAIVE,
        label="Strategy",
        help_text="naive: short instruction; advanced: guidelines plus the k most similar training "
        "documents with their gold; finetuned: the naive prompt for a fine-tuned model.",
    )
    k = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_K,
        label="Examples (k)",
        help_text=f"Advanced strategy only: in-context examples per prompt (default {DEFAULT_K}).",
    )
    temperature = forms.FloatField(
        required=False,
        min_value=0.0,
        max_value=MAX_TEMPERATURE,
        label="Temperature",
        help_text="Empty or 0: greedy. ELMTEX sampled at 0.1 (with a fixed seed).",
    )
    language = forms.ChoiceField(required=False, label="Language")
    split = forms.ChoiceField(required=False, choices=[("", "any"), *Split.choices], label="Split")
    limit = forms.IntegerField(
        required=False, min_value=1, label="Limit", help_text="Only the first N documents by patient_id."
    )
    name = forms.CharField(
        required=False, max_length=200, label="Name", help_text="Unique in the project; made up when left empty."
    )

    def __init__(self, *args, languages: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", "any"), *((lang, lang) for lang in languages)]

    def clean(self):
        data = super().clean()
        if data.get("k") is not None and data.get("strategy") != Strategy.ADVANCED:
            self.add_error("k", "Examples apply to the advanced strategy only; leave this empty.")
        return data


def form_add_problems(form: forms.Form, exc: ApplicationError) -> None:
    """Put a service's problems next to the fields they name, the rest above the form."""
    for problem in exc.problems:
        field = problem.field if problem.field in form.fields else None
        form.add_error(field, problem.message if field else problem.format()[len("error: ") :])


class CandidateFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "any"), *CandidateStatus.choices], label="Status")

    def status_filter(self) -> str:
        """The valid status filter; an unknown value filters nothing (its error is shown)."""
        self.is_valid()
        return self.cleaned_data.get("status") or ""
