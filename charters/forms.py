"""Forms of the charters app. They collect input; the rules live in the models and services,
whose ValidationErrors come back onto the form (governance.web.add_service_errors)."""

from __future__ import annotations

from django import forms

from charters.choices import REVIEW_CHECKLISTS, ReviewVerdict
from charters.models import Charter, Dataset, DataUseAgreement
from governance.fields import PortalForm, PortalModelForm
from governance.models import Organization


class JurisdictionsField(forms.CharField):
    """Jurisdictions typed as a comma-separated list ("EU, UK")."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value) -> list[str]:
        value = super().to_python(value)
        return [part.strip() for part in value.split(",") if part.strip()]


class CharterForm(PortalModelForm):
    allowed_jurisdictions = JurisdictionsField(
        required=False,
        label="Allowed jurisdictions",
        help_text="Where the project's data and compute may reside, separated by commas (e.g. EU, UK).",
    )

    class Meta:
        model = Charter
        fields = [
            "committee",
            "lead_organization",
            "title",
            "summary",
            "objectives",
            "national_impact",
            "participating_organizations",
            "ip_framework",
            "licence_terms",
            "commercialization_rights",
            "government_royalty_free_use",
            "data_classification",
            "allowed_jurisdictions",
            "requested_credits",
            "data_use_agreements",
            "resources",
        ]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 4}),
            "objectives": forms.Textarea(attrs={"rows": 4}),
            "national_impact": forms.Textarea(attrs={"rows": 3}),
            "licence_terms": forms.Textarea(attrs={"rows": 3}),
            "commercialization_rights": forms.Textarea(attrs={"rows": 3}),
            "participating_organizations": forms.CheckboxSelectMultiple,
            "ip_framework": forms.RadioSelect,
            "data_use_agreements": forms.CheckboxSelectMultiple,
            "resources": forms.CheckboxSelectMultiple,
        }
        help_texts = {
            "participating_organizations": "The other organizations taking part (not the lead).",
            "licence_terms": "Required for privately retained IP: the licence granted to the partnership.",
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        editing = self.instance.pk is not None
        if editing or not (user and (user.is_superuser or user.is_staff)):
            # The lead is the author's organization, fixed once drafted; the committee too.
            self.fields.pop("lead_organization", None)
        if editing:
            self.fields.pop("committee", None)
        elif "committee" in self.fields and self.fields["committee"].queryset.count() == 1:
            self.fields["committee"].initial = self.fields["committee"].queryset.first()
        self.fields["participating_organizations"].queryset = Organization.objects.order_by("sector", "name")
        self.fields["data_use_agreements"].queryset = DataUseAgreement.objects.order_by("title")
        self.fields["ip_framework"].choices = [c for c in self.fields["ip_framework"].choices if c[0]]


class AmendmentForm(CharterForm):
    change_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="What the amendment changes, and why",
    )

    class Meta(CharterForm.Meta):
        fields = ["change_note", *[f for f in CharterForm.Meta.fields if f not in ("committee", "lead_organization")]]

    def _post_clean(self):
        # The amendment is validated by propose_amendment against the charter it amends; the
        # form must not write the proposal onto the charter in force.
        pass


class ReasonForm(PortalForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ReviewForm(PortalForm):
    """A technical review: the reviewer's answers to the manual checklist items, a verdict, notes."""

    verdict = forms.ChoiceField(choices=ReviewVerdict.choices, widget=forms.RadioSelect)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.manual_keys = []
        for key, label, automatic in REVIEW_CHECKLISTS[kind]:
            if automatic:
                continue
            self.fields[f"item_{key}"] = forms.BooleanField(label=label, required=False)
            self.manual_keys.append(key)
        # Verdict and notes after the checklist.
        self.order_fields([f"item_{k}" for k in self.manual_keys] + ["verdict", "notes"])

    def checklist(self) -> dict[str, bool]:
        return {key: self.cleaned_data.get(f"item_{key}", False) for key in self.manual_keys}


class AgreementForm(PortalModelForm):
    class Meta:
        model = DataUseAgreement
        fields = [
            "title",
            "purpose",
            "parties",
            "datasets",
            "anonymization_standard",
            "anonymization_details",
            "insights_owner",
            "insights_terms",
            "audit_rights",
            "expires_on",
        ]
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 3}),
            "anonymization_details": forms.Textarea(attrs={"rows": 2}),
            "insights_terms": forms.Textarea(attrs={"rows": 2}),
            "audit_rights": forms.Textarea(attrs={"rows": 2}),
            "parties": forms.CheckboxSelectMultiple,
            "datasets": forms.CheckboxSelectMultiple,
            "expires_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parties"].queryset = Organization.objects.order_by("sector", "name")
        self.fields["datasets"].queryset = Dataset.objects.select_related("steward").order_by("name")


class RenewForm(PortalForm):
    expires_on = forms.DateField(label="New expiry date", widget=forms.DateInput(attrs={"type": "date"}))
