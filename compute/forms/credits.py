"""Forms of the compute app. They collect input only: the rules live in the models and in
compute.services, whose ValidationErrors the views put back on the form."""

from __future__ import annotations

from django import forms
from django.urls import reverse
from django.utils import timezone

from charters.models import Charter
from compute.choices import AccountKind, DecisionReason, ResourceStatus
from compute.models import CreditAccount, CreditPool, CreditRequest, Resource
from compute.models.ledger import charters_of
from compute.services.credits import refunds, requests
from governance.fields import PortalForm, PortalModelForm
from governance.roles import is_administrator


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"


class CreditRequestForm(PortalModelForm):
    """Ask for credits: the charter, the resource, the pool that funds it, how many, and why."""

    class Meta:
        model = CreditRequest
        fields = ["charter", "resource", "pool", "amount", "period_start", "period_end", "justification"]
        widgets = {
            "period_start": DateInput(),
            "period_end": DateInput(),
            "justification": forms.Textarea(attrs={"rows": 5}),
        }
        help_texts = {
            "period_start": "Leave empty for the pool's whole period.",
            "amount": "Credits, e.g. GPU-hours times the resource's rate.",
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        charters = Charter.objects.filter(status__in=requests.FUNDABLE_CHARTER_STATUSES).order_by("title")
        if not is_administrator(user):
            charters = charters.filter(pk__in=charters_of(user))
        self.fields["charter"].queryset = charters
        self.fields["resource"].queryset = Resource.objects.exclude(status=ResourceStatus.RETIRED).order_by("name")
        self.fields["pool"].queryset = CreditPool.objects.open_on(timezone.localdate()).order_by("period_end", "name")
        self.fields["period_start"].required = False
        self.fields["period_end"].required = False
        for name, trigger in (("resource", "change, load"), ("pool", "change")):
            # Ask the server for the pool's available credits and the resource's rate. The
            # resource asks once more when htmx starts, so a choice made before the script
            # ran (a slow network, a quick hand) is quoted too; the newest question replaces any
            # still in flight, so an older answer never lands last.
            self.fields[name].widget.attrs.update(
                {
                    "hx-get": reverse("compute:request-quote"),
                    "hx-trigger": trigger,
                    "hx-target": "#quote",
                    "hx-include": "#id_resource, #id_pool",
                    "hx-sync": "#quote:replace",
                }
            )

    def _post_clean(self):
        # The service validates the whole request (and the model's constraints) once; running
        # the model's full_clean here as well would only say the same things twice.
        pass


class SignForm(PortalForm):
    amount = forms.DecimalField(
        required=False,
        min_value=0,
        decimal_places=4,
        help_text="Leave empty to award what was requested; award less with a reason.",
        label="Credits to award",
    )
    reason_code = forms.ChoiceField(
        required=False,
        choices=[("", "—"), *[c for c in DecisionReason.choices if c[0] != DecisionReason.BALLOT_REJECTED]],
        label="Reason for a partial award",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RejectForm(PortalForm):
    """A co-chair's rejection of a request under dual control: the reason is chosen, never
    pre-selected, and "rejected by ballot" is not one of them (no ballot decides it)."""

    reason_code = forms.ChoiceField(
        choices=[
            ("", "Choose a reason"),
            *[c for c in DecisionReason.choices if c[0] != DecisionReason.BALLOT_REJECTED],
        ],
        label="Reason",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class TransferForm(PortalForm):
    target = forms.ModelChoiceField(queryset=CreditAccount.objects.none(), label="To the account of")
    amount = forms.DecimalField(min_value=0, decimal_places=4, label="Credits")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, source: CreditAccount, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = (
            CreditAccount.objects.filter(kind=AccountKind.CHARTER).exclude(pk=source.pk).select_related("charter")
        )


class RefundForm(PortalForm):
    """A refund names the fault's resource and hours; compute.services.credits.refunds finds the hours
    of usage charged during them, which the co-chairs then give back."""

    resource = forms.ModelChoiceField(queryset=Resource.objects.none(), label="Resource at fault")
    fault_start = forms.DateTimeField(
        label="Fault began", widget=DateTimeInput(), help_text=f"Within the last {refunds.REFUND_WINDOW_DAYS} days."
    )
    fault_end = forms.DateTimeField(label="Fault ended", widget=DateTimeInput())
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="What failed, and how it showed.")

    def __init__(self, *args, account: CreditAccount, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["resource"].queryset = Resource.objects.filter(
            pk__in=refunds.refundable_records(account).values("resource_id")
        ).order_by("name")

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            cleaned["records"] = refunds.records_in_fault(
                self.account, resource=cleaned["resource"], start=cleaned["fault_start"], end=cleaned["fault_end"]
            )
        return cleaned
