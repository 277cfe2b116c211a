"""Forms of the roadmap app. Each validates through its model (ModelForm runs full_clean); the
view then calls the service, which holds the rules that need the database (cycles, baselines)."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from charters.models import Charter
from governance.choices import Sector
from governance.fields import PortalForm, PortalModelForm
from governance.models import Organization, User
from roadmap import planning
from roadmap.choices import RAG, MilestoneStatus
from roadmap.models import Initiative, Milestone, ProgressReport, Roadmap, Theme


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class RoadmapForm(PortalModelForm):
    class Meta:
        model = Roadmap
        fields = ["committee", "title", "summary", "starts_on", "ends_on", "initiatives"]
        widgets = {
            "starts_on": DateInput(),
            "ends_on": DateInput(),
            "summary": forms.Textarea(attrs={"rows": 3}),
            "initiatives": forms.CheckboxSelectMultiple(),
        }
        labels = {"starts_on": "Starts on", "ends_on": "Ends on"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["committee"].disabled = True


class InitiativeForm(PortalModelForm):
    class Meta:
        model = Initiative
        fields = [
            "title",
            "summary",
            "national_impact_score",
            "priority",
            "themes",
            "sponsors",
            "charters",
            "owner",
            "starts_on",
            "report_cadence",
        ]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 3}),
            "starts_on": DateInput(),
            "themes": forms.CheckboxSelectMultiple(),
            "sponsors": forms.CheckboxSelectMultiple(),
            "charters": forms.CheckboxSelectMultiple(),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sponsors"].queryset = Organization.objects.order_by("sector", "name")
        self.fields["sponsors"].label_from_instance = lambda org: f"{org.name} ({Sector(org.sector).label.lower()})"
        self.fields["charters"].queryset = Charter.objects.visible_to(user).order_by("title")
        self.fields["owner"].queryset = User.objects.visible_to(user).filter(is_active=True).order_by("username")


class MilestoneForm(PortalModelForm):
    class Meta:
        model = Milestone
        fields = [
            "title",
            "description",
            "deliverables",
            "status",
            "percent_complete",
            "baseline_date",
            "forecast_date",
            "actual_date",
            "status_note",
            "depends_on",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "deliverables": forms.Textarea(attrs={"rows": 3}),
            "status_note": forms.Textarea(attrs={"rows": 2}),
            "baseline_date": DateInput(),
            "forecast_date": DateInput(),
            "actual_date": DateInput(),
            "depends_on": forms.CheckboxSelectMultiple(),
        }

    def __init__(self, *args, initiative: Initiative, baselined: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.initiative = initiative
        # A milestone may wait on any milestone of the roadmap versions its initiative is in.
        candidates = Milestone.objects.filter(initiative__roadmaps__in=initiative.roadmaps.all())
        candidates = (candidates | Milestone.objects.filter(initiative=initiative)).distinct()
        if self.instance.pk:
            candidates = candidates.exclude(pk=self.instance.pk)
        self.fields["depends_on"].queryset = candidates.select_related("initiative").order_by(
            "initiative__title", "forecast_date"
        )
        self.fields["depends_on"].label_from_instance = lambda m: f"{m.title} ({m.initiative.title}, {m.forecast_date})"
        self.fields["depends_on"].required = False
        if baselined:
            field = self.fields["baseline_date"]
            field.disabled = True
            field.help_text = (
                "This milestone is in a baseline: its committed date changes only by a re-baselining "
                "that a ballot adopts."
            )


class ReportForm(PortalModelForm):
    period_start = forms.TypedChoiceField(label="Period", coerce=lambda value: value)

    class Meta:
        model = ProgressReport
        fields = ["period_start", "rag", "summary", "risks", "issues", "next_steps"]
        widgets = {
            "rag": forms.RadioSelect(),
            "summary": forms.Textarea(attrs={"rows": 4}),
            "risks": forms.Textarea(attrs={"rows": 3}),
            "issues": forms.Textarea(attrs={"rows": 3}),
            "next_steps": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"rag": "Your RAG status"}

    def __init__(self, *args, initiative: Initiative, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.initiative = initiative
        self.fields["rag"].choices = RAG.choices
        today = timezone.localdate()
        current = planning.period_containing(today, initiative.report_cadence)
        reported = set(initiative.reports.values_list("period_start", flat=True))
        periods = [p for p in (planning.previous_period(current), current) if p.end >= initiative.starts_on]
        if self.instance.pk:
            periods = [planning.period_containing(self.instance.period_start, initiative.report_cadence)]
            self.fields["period_start"].disabled = True
        else:
            periods = [p for p in periods if p.start not in reported]
        self.fields["period_start"].choices = [(p.start.isoformat(), p.label) for p in periods]

    def clean_period_start(self):
        value = self.cleaned_data["period_start"]
        return forms.DateField().clean(value)


class RebaselineForm(PortalForm):
    """A name and a reason, and a proposed date per milestone (today's forecast by default)."""

    name = forms.CharField(max_length=200, help_text="The name the new baseline will carry.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Why the committed dates change.")

    def __init__(self, *args, milestones: list[Milestone], **kwargs):
        super().__init__(*args, **kwargs)
        self.milestones = milestones
        for m in milestones:
            # Today's forecast for open work; a done milestone keeps the date it was committed to.
            initial = m.baseline_date if m.status == MilestoneStatus.DONE and m.baseline_date else m.forecast_date
            self.fields[f"date_{m.pk}"] = forms.DateField(
                label=f"{m.title} ({m.initiative.title})", initial=initial, widget=DateInput()
            )

    def rows(self):
        """Each milestone with its current committed date, forecast and proposed-date field."""
        return [(m, self[f"date_{m.pk}"]) for m in self.milestones]

    def dates(self) -> dict[int, object]:
        return {m.pk: self.cleaned_data[f"date_{m.pk}"] for m in self.milestones}


class TimelineFilterForm(PortalForm):
    theme = forms.ChoiceField(required=False)
    sector = forms.ChoiceField(required=False, choices=[("", "Any sector"), *Sector.choices], label="Sponsor sector")
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *MilestoneStatus.choices], label="Milestone status"
    )

    def __init__(self, *args, themes: list[Theme], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = [("", "Any theme"), *((t.slug, t.name) for t in themes)]
