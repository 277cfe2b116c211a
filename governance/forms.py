"""Forms of the governance app. They only collect input: the services validate and write,
and their ValidationErrors are shown on the form (see governance.web.add_service_errors)."""

from __future__ import annotations

from django import forms

from governance.choices import MembershipChangeKind, Role, SOPCategory, SubjectType, VoteChoice, VotingMethod
from governance.fields import PortalForm
from governance.models import Committee, Membership, User


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class BallotForm(PortalForm):
    """Prepare a draft ballot. Method and quorum left empty take the committee's defaults."""

    committee = forms.ModelChoiceField(queryset=Committee.objects.none())
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    subject_type = forms.ChoiceField(choices=SubjectType.choices, initial=SubjectType.MOTION)
    subject_id = forms.IntegerField(
        required=False,
        min_value=1,
        help_text="The id of the charter, request, roadmap or SOP version; empty for a motion.",
    )
    method = forms.ChoiceField(
        choices=[("", "The committee's default for this subject"), *VotingMethod.choices], required=False
    )
    quorum = forms.DecimalField(
        required=False,
        min_value=0.01,
        max_value=1,
        decimal_places=3,
        help_text="Share of each sector's eligible members who must take part; empty for the committee's quorum.",
    )
    closes_at = forms.DateTimeField(
        required=False, widget=DateTimeInput(), help_text="Empty: a co-chair closes the ballot."
    )

    def __init__(self, *args, committees=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["committee"].queryset = committees if committees is not None else Committee.objects.none()


class VoteForm(PortalForm):
    choice = forms.ChoiceField(choices=VoteChoice.choices, widget=forms.RadioSelect)


class RecuseForm(PortalForm):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the conflict of interest is. It is shown with the tally and in the minutes.",
    )


class MeetingForm(PortalForm):
    committee = forms.ModelChoiceField(queryset=Committee.objects.none())
    title = forms.CharField(max_length=200)
    starts_at = forms.DateTimeField(widget=DateTimeInput())
    location = forms.CharField(max_length=200, required=False, help_text="A room, or the video link's name.")

    def __init__(self, *args, committees=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["committee"].queryset = committees if committees is not None else Committee.objects.none()


class AgendaItemForm(PortalForm):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    ballot = forms.ModelChoiceField(
        queryset=None, required=False, help_text="A ballot of this committee the meeting decides, if any."
    )

    def __init__(self, *args, ballots=None, **kwargs):
        from governance.models import Ballot

        super().__init__(*args, **kwargs)
        self.fields["ballot"].queryset = ballots if ballots is not None else Ballot.objects.none()


class MinutesForm(PortalForm):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Discussion and decisions. Attendance, ballots, tallies and recusals are added from the record.",
    )


class SOPForm(PortalForm):
    committee = forms.ModelChoiceField(queryset=Committee.objects.none())
    title = forms.CharField(max_length=200)
    category = forms.ChoiceField(choices=SOPCategory.choices)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 14}), label="Text of the procedure")

    def __init__(self, *args, committees=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["committee"].queryset = committees if committees is not None else Committee.objects.none()


class SOPVersionForm(PortalForm):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 14}), label="Text of the procedure")
    change_summary = forms.CharField(max_length=300, required=False, help_text="What this version changes, in a line.")


class MembershipChangeForm(PortalForm):
    """A proposed seat change on a constituted committee; the service checks it in full."""

    kind = forms.ChoiceField(choices=MembershipChangeKind.choices, label="Change")
    membership = forms.ModelChoiceField(
        queryset=Membership.objects.none(),
        required=False,
        label="Seat",
        help_text="For ending a term or changing a role: the seat it applies to.",
    )
    user = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True, organization__isnull=False).order_by("username"),
        required=False,
        label="Person",
        help_text="For a new seat: who sits, for their own organization.",
    )
    role = forms.ChoiceField(choices=[("", "—"), *Role.choices], required=False)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)

    def __init__(self, *args, committee: Committee, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = (
            Membership.objects.active().filter(committee=committee).select_related("user", "organization")
        )

    def clean(self):
        cleaned = super().clean()
        user = cleaned.get("user")
        if user is not None:
            cleaned["organization"] = user.organization
        return {name: value for name, value in cleaned.items() if value not in (None, "")}
