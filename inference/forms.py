"""Forms of the run pages: start a run, filter candidates."""

from __future__ import annotations

from django import forms

from annotation.models import Split
from elmtex_site.errors import ApplicationError

from .models import CandidateStatus, ModelEndpoint, Strategy
from .services.runs import AVAILABLE_STRATEGIES


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
