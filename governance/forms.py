"""Forms of the governance app. They only collect input: the services validate and write,
and their ValidationErrors are shown on the form (see governance.web.add_service_errors)."""

from __future__ import annotations

from django import forms

from governance.choices import (
    BallotStatus,
    MeetingStatus,
    MembershipChangeKind,
    NotificationDelivery,
    Role,
    SOPCategory,
    SubjectType,
    SubstitutionScope,
    VoteChoice,
    VotingMethod,
)
from governance.fields import PortalForm, narrow
from governance.models import Ballot, Committee, Meeting, Membership, User
from governance.subjects import subject_module


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class BallotForm(PortalForm):
    """Prepare a draft ballot. The subject is picked from the committee's subjects awaiting a
    decision (a motion has none); method and quorum left empty take the committee's defaults;
    the quorum is typed in percent."""

    committee = forms.ModelChoiceField(queryset=Committee.objects.none())
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    subject = forms.ChoiceField(
        required=False,
        label="What the ballot decides",
        help_text="A charter, credit request, roadmap version or procedure waiting for a decision; "
        "leave it on “A motion” for a decision with no subject.",
    )
    subject_type = forms.ChoiceField(
        choices=SubjectType.choices, initial=SubjectType.MOTION, required=False, widget=forms.HiddenInput
    )
    subject_id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    method = forms.ChoiceField(
        choices=[("", "The committee's default for this subject"), *VotingMethod.choices], required=False
    )
    quorum = forms.DecimalField(
        required=False,
        min_value=1,
        max_value=100,
        decimal_places=1,
        label="Quorum (%)",
        help_text="Percent of each sector's eligible members who must take part, 1 to 100; "
        "empty for the committee's quorum.",
    )
    closes_at = forms.DateTimeField(
        required=False, widget=DateTimeInput(), help_text="Empty: a co-chair closes the ballot."
    )

    field_order = ["committee", "title", "description", "subject", "method", "quorum", "closes_at"]

    def __init__(self, *args, committees=None, **kwargs):
        super().__init__(*args, **kwargs)
        committees = committees if committees is not None else Committee.objects.none()
        narrow(self.fields["committee"], committees)
        if self.fields["committee"].empty_label is None:
            self.fields["committee"].initial = committees.first()
        ids = set(committees.values_list("pk", flat=True))
        groups: list = [("", "A motion (no subject)")]
        for value, label in SubjectType.choices:
            module = subject_module(value)
            if module is None:
                continue
            options = [(f"{value}:{pk}", text) for pk, text in module.candidates(ids)]
            if options:
                groups.append((label, options))
        self.fields["subject"].choices = groups

    def clean(self):
        data = super().clean()
        picked = data.get("subject")
        if picked:
            subject_type, _, subject_id = picked.partition(":")
            data["subject_type"], data["subject_id"] = subject_type, int(subject_id)
        elif not data.get("subject_type"):
            data["subject_type"] = SubjectType.MOTION
        if data.get("quorum") is not None:
            data["quorum"] = data["quorum"] / 100
        return data


class VoteForm(PortalForm):
    choice = forms.ChoiceField(choices=VoteChoice.choices, widget=forms.RadioSelect)
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Your reason",
        help_text="Optional. Shown beside your vote in the roll call and the minutes once the ballot closes.",
    )
    on_behalf_of = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


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
        narrow(self.fields["committee"], committees if committees is not None else Committee.objects.none())


class MeetingEditForm(PortalForm):
    title = forms.CharField(max_length=200)
    starts_at = forms.DateTimeField(widget=DateTimeInput())
    location = forms.CharField(max_length=200, required=False, help_text="A room, or the video link's name.")


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
        narrow(self.fields["committee"], committees if committees is not None else Committee.objects.none())


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


class SubstitutionForm(PortalForm):
    """Send a substitute to vote in one's seat: for one ballot, one meeting or a period. The
    choices are narrowed to the person's own seats and sector; the service checks it all again."""

    committee = forms.ModelChoiceField(queryset=Committee.objects.none(), label="Committee of your seat")
    substitute = forms.ModelChoiceField(
        queryset=User.objects.none(),
        label="Substitute",
        help_text="A person of an organization of your seat's sector who holds no voting seat on the committee.",
    )
    scope = forms.ChoiceField(choices=SubstitutionScope.choices, widget=forms.RadioSelect, label="For")
    ballot = forms.ModelChoiceField(queryset=Ballot.objects.none(), required=False, label="Ballot")
    meeting = forms.ModelChoiceField(queryset=Meeting.objects.none(), required=False, label="Meeting")
    starts_on = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(
        required=False,
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="For a period: the substitute votes on the committee's ballots from the first day to the last.",
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        seats = Membership.objects.active().filter(user=user, voting=True).select_related("organization")
        committee_ids = [seat.committee_id for seat in seats]
        sectors = {seat.organization.sector for seat in seats}
        self.fields["committee"].queryset = Committee.objects.filter(pk__in=committee_ids).order_by("name")
        self.fields["substitute"].queryset = (
            User.objects.filter(is_active=True, organization__sector__in=sectors)
            .exclude(pk=user.pk)
            .select_related("organization")
            .order_by("last_name", "first_name", "username")
        )
        self.fields["substitute"].label_from_instance = lambda person: f"{person} — {person.organization}"
        self.fields["ballot"].queryset = Ballot.objects.filter(
            committee_id__in=committee_ids, status__in=[BallotStatus.DRAFT, BallotStatus.OPEN]
        ).order_by("-created_at")
        self.fields["meeting"].queryset = Meeting.objects.filter(
            committee_id__in=committee_ids, status=MeetingStatus.SCHEDULED
        ).order_by("starts_at")


class NotificationDeliveryForm(PortalForm):
    notification_delivery = forms.ChoiceField(
        choices=NotificationDelivery.choices,
        widget=forms.RadioSelect,
        label="How the portal's e-mails reach you",
        help_text="Deadlines (a ballot opened, a closing reminder, a request to sign) always reach you at once.",
    )
