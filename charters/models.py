"""Models of the charters app: the project charter and what hangs off it — data use
agreements and their signatures, versions, technical reviews and the model provenance registry."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from charters.choices import (
    EDITABLE_STATUSES,
    AnonymizationStandard,
    CharterStatus,
    DataClassification,
    InsightsOwner,
    IPFramework,
    ReviewKind,
    ReviewVerdict,
    Transition,
    VersionStatus,
    transitions_from,
)
from governance import values
from governance.models import TimeStampedModel


def same_jurisdiction(a: str, b: str) -> bool:
    """Jurisdictions are free text ("EU", "eu ", "Eu"): compared trimmed and case-blind."""
    return a.strip().casefold() == b.strip().casefold()


def within(jurisdiction: str, allowed: list[str]) -> bool:
    return any(same_jurisdiction(jurisdiction, each) for each in allowed)


# The statuses in which a charter is part of the public record (DESIGN.md 2.8).
PUBLISHED_CHARTER_STATUSES = (CharterStatus.APPROVED, CharterStatus.ACTIVE, CharterStatus.COMPLETED)


class CharterQuerySet(models.QuerySet):
    def published(self) -> CharterQuerySet:
        """Approved, active and completed charters. A restricted one is among them, but the
        public view shows only that it exists, who leads it and its decisions
        (governance.public.selectors decides which fields)."""
        return self.filter(status__in=PUBLISHED_CHARTER_STATUSES)

    def visible_to(self, user) -> CharterQuerySet:
        """Drafts are seen by their author and the people of their lead organization; every
        charter past draft is part of the body's record and seen by every signed-in user."""
        if not (user and user.is_authenticated):
            return self.none()
        if user.is_superuser or user.is_staff:
            return self
        visible = ~Q(status=CharterStatus.DRAFT) | Q(created_by=user)
        if user.organization_id:
            visible |= Q(lead_organization_id=user.organization_id)
        return self.filter(visible)

    def for_listing(self) -> CharterQuerySet:
        """What a list of charters shows, fetched in a fixed number of queries."""
        return self.select_related("lead_organization", "committee", "created_by").prefetch_related(
            "participating_organizations",
            models.Prefetch(
                "step_consents",
                queryset=CharterStepConsent.objects.filter(closed_at__isnull=True).select_related("given_by"),
                to_attr="open_step_consents",
            ),
        )


class Charter(TimeStampedModel):
    """A joint project the body decides on: who leads it, with what data, under which IP model.

    Its fields hold the version in force (or, before approval, the text being drafted); every
    version put to the committee is kept as a CharterVersion.
    """

    committee = models.ForeignKey("governance.Committee", on_delete=models.PROTECT, related_name="charters")
    title = models.CharField(max_length=200)
    summary = models.TextField()
    objectives = models.TextField(blank=True)
    national_impact = models.TextField(
        "national impact statement", blank=True, help_text="How the project serves the public interest."
    )
    lead_organization = models.ForeignKey(
        "governance.Organization", on_delete=models.PROTECT, related_name="led_charters"
    )
    participating_organizations = models.ManyToManyField(
        "governance.Organization", blank=True, related_name="participating_charters"
    )
    ip_framework = models.CharField("IP framework", max_length=32, choices=IPFramework.choices)
    licence_terms = models.TextField(blank=True)
    commercialization_rights = models.TextField(
        blank=True, help_text="Who may commercialize the results, and on what terms."
    )
    government_royalty_free_use = models.BooleanField(
        "government royalty-free use",
        default=True,
        help_text="The public sector may use the results for public purposes without royalties.",
    )
    data_classification = models.CharField(
        max_length=16, choices=DataClassification.choices, default=DataClassification.INTERNAL
    )
    allowed_jurisdictions = models.JSONField(
        default=list, blank=True, help_text="Jurisdictions where the project's data and compute may reside."
    )
    requested_credits = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    data_use_agreements = models.ManyToManyField(
        "charters.DataUseAgreement",
        blank=True,
        related_name="charters",
        help_text="The data use agreements under which the project uses shared data.",
    )
    resources = models.ManyToManyField(
        "compute.Resource",
        blank=True,
        related_name="charters",
        help_text="The shared resources the project intends to use.",
    )
    status = models.CharField(max_length=24, choices=CharterStatus.choices, default=CharterStatus.DRAFT)
    status_reason = models.TextField(
        blank=True, help_text="Why the charter last changed status, when a reason was given."
    )
    version = models.PositiveIntegerField(default=0, help_text="Number of the version in force; 0 before approval.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="charters_created")

    objects = CharterQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CharterStatus.values),
                name="charter_status_valid",
                violation_error_message="Unknown charter status.",
            ),
            models.CheckConstraint(
                condition=Q(requested_credits__gte=0),
                name="charter_requested_credits_non_negative",
                violation_error_message="Requested credits cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors: dict[str, str] = {}
        jurisdictions = self.allowed_jurisdictions
        if not isinstance(jurisdictions, list) or not all(isinstance(j, str) and j.strip() for j in jurisdictions):
            errors["allowed_jurisdictions"] = "List the allowed jurisdictions as names, e.g. EU, UK."
        elif unknown := [j for j in jurisdictions if j.strip().upper() not in values.JURISDICTIONS]:
            errors["allowed_jurisdictions"] = (
                f"“{values.printable(unknown[0])}” is not a jurisdiction: give country codes (ISO 3166, e.g. DE) "
                "or EU, EEA, UK."
            )
        else:
            # Trimmed, without repeats, in the order given.
            seen: list[str] = []
            for each in jurisdictions:
                if not within(each, seen):
                    seen.append(each.strip())
            self.allowed_jurisdictions = seen
            if self.data_classification in (DataClassification.SENSITIVE, DataClassification.RESTRICTED) and not seen:
                errors["allowed_jurisdictions"] = (
                    f"{DataClassification(self.data_classification).label} data needs at least one allowed "
                    "jurisdiction: say where it may reside."
                )
        if self.ip_framework == IPFramework.PRIVATE_LICENSED:
            if not self.licence_terms.strip():
                errors["licence_terms"] = "Privately retained IP needs the licence terms granted to the partnership."
            if not self.government_royalty_free_use:
                errors["government_royalty_free_use"] = (
                    "Under privately retained IP the government receives a royalty-free licence for public use."
                )
        if errors:
            raise ValidationError(errors)

    def party_organization_ids(self) -> set[int]:
        """The lead and participating organizations: their members recuse on this charter."""
        # From the prefetched participants where a page has them (Charter.objects.for_listing).
        return {self.lead_organization_id, *(o.pk for o in self.participating_organizations.all())}

    def pending_steps(self) -> dict[str, list[str]]:
        """{step: [sectors whose co-chair asked]} for the both-sector steps asked for and not
        yet taken (from `open_step_consents` when the queryset prefetched it)."""
        consents = getattr(self, "open_step_consents", None)
        if consents is None:
            consents = self.step_consents.filter(closed_at__isnull=True)
        pending: dict[str, list[str]] = {}
        for consent in consents:
            pending.setdefault(consent.step, []).append(consent.sector)
        return {step: sorted(sectors) for step, sectors in pending.items()}

    def transitions(self) -> list[Transition]:
        """The lifecycle steps that may start from the current status."""
        return transitions_from(self.status)

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES


class DatasetQuerySet(models.QuerySet):
    def visible_to(self, user) -> DatasetQuerySet:
        """The catalogue of shared datasets (names, stewards, where they reside) is known to every
        signed-in user; the data itself is not in the portal."""
        if not (user and user.is_authenticated):
            return self.none()
        return self


class Dataset(TimeStampedModel):
    """A dataset a member organization can share under a data use agreement."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    steward = models.ForeignKey(
        "governance.Organization",
        on_delete=models.PROTECT,
        related_name="datasets",
        help_text="The organization that holds the data and answers for it.",
    )
    jurisdiction = models.CharField(
        max_length=64, validators=[values.valid_jurisdiction], help_text="Where the data resides."
    )
    classification = models.CharField(
        max_length=16, choices=DataClassification.choices, default=DataClassification.INTERNAL
    )

    objects = DatasetQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                name="dataset_unique_name",
                violation_error_message="A dataset with this name already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DataUseAgreementQuerySet(models.QuerySet):
    def visible_to(self, user) -> DataUseAgreementQuerySet:
        """Data use agreements are part of the body's record: every signed-in user reads them."""
        if not (user and user.is_authenticated):
            return self.none()
        return self

    def with_signatures(self) -> DataUseAgreementQuerySet:
        """Parties and signatures prefetched, so signature status costs no query per agreement."""
        signatures = Signature.objects.select_related("signed_by", "organization")
        return self.prefetch_related("parties", "datasets", models.Prefetch("signatures", queryset=signatures))


class DataUseAgreement(TimeStampedModel):
    """The data contract that comes first: what data is shared, for what, under which safeguards
    and until when. In force only once every party has signed, and only until it expires."""

    title = models.CharField(max_length=200)
    purpose = models.TextField(help_text="What the data may be used for, and nothing else.")
    datasets = models.ManyToManyField(Dataset, related_name="agreements")
    parties = models.ManyToManyField("governance.Organization", related_name="data_use_agreements")
    anonymization_standard = models.CharField(max_length=32, choices=AnonymizationStandard.choices)
    anonymization_details = models.TextField(blank=True, help_text="Parameters (k, epsilon…) and who applies them.")
    insights_owner = models.CharField(
        "owner of derived insights", max_length=32, choices=InsightsOwner.choices, default=InsightsOwner.JOINT
    )
    insights_terms = models.TextField("terms on derived insights", blank=True)
    audit_rights = models.TextField(help_text="Who may audit the use of the data, how and how often.")
    expires_on = models.DateField(help_text="After this day the data may no longer be used under this agreement.")
    expired_flagged_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the portal flagged the agreement as expired."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = DataUseAgreementQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        verbose_name = "data use agreement"

    def __str__(self) -> str:
        return self.title

    def is_expired(self, on: datetime.date | None = None) -> bool:
        return self.expires_on < (on or timezone.localdate())

    def unsigned_parties(self) -> list:
        """The parties that have not signed, by name (uses prefetched parties and signatures)."""
        signed = {s.organization_id for s in self.signatures.all()}
        return sorted((p for p in self.parties.all() if p.pk not in signed), key=lambda p: p.name)

    @property
    def fully_signed(self) -> bool:
        return not self.unsigned_parties()

    @property
    def in_force(self) -> bool:
        """Signed by every party and not expired: the data may be used."""
        return self.fully_signed and not self.is_expired()

    def state_label(self) -> str:
        if self.is_expired():
            return "Expired"
        if not self.signatures.all():
            return "Unsigned"
        if not self.fully_signed:
            return "Partly signed"
        return "In force"


class Signature(models.Model):
    """One party's signature on a data use agreement, given by a person of that party."""

    agreement = models.ForeignKey(DataUseAgreement, on_delete=models.CASCADE, related_name="signatures")
    organization = models.ForeignKey("governance.Organization", on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "organization"],
                name="signature_once_per_party",
                violation_error_message="This party has already signed the agreement.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} on {self.agreement}"


class CharterVersionQuerySet(models.QuerySet):
    def visible_to(self, user) -> CharterVersionQuerySet:
        return self.filter(charter__in=Charter.objects.visible_to(user))


class CharterVersion(models.Model):
    """The text of a charter as it was put to the committee: at each submission, and at each
    amendment of an approved charter. Kept for ever, so earlier versions stay readable."""

    charter = models.ForeignKey(Charter, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    is_amendment = models.BooleanField(default=False)
    status = models.CharField(max_length=24, choices=VersionStatus.choices, default=VersionStatus.PROPOSED)
    content = models.JSONField(help_text="The charter's fields as proposed (see charters.versions.snapshot).")
    change_note = models.TextField(blank=True, help_text="What this version changes, and why.")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = CharterVersionQuerySet.as_manager()

    class Meta:
        ordering = ["charter", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["charter", "number"],
                name="charterversion_unique_number",
                violation_error_message="This charter already has a version with this number.",
            ),
            models.UniqueConstraint(
                fields=["charter"],
                condition=Q(status=VersionStatus.PROPOSED),
                name="charterversion_one_proposed",
                violation_error_message="This charter already has a version before the committee.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=VersionStatus.values),
                name="charterversion_status_valid",
                violation_error_message="Unknown version status.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.charter} v{self.number}"


class CharterStepConsent(models.Model):
    """A co-chair's request that a charter be suspended, resumed or terminated. The step is
    taken once the co-chair of every sector has asked for it while the charter stood in the
    same status; a change of status closes every open consent, so none is reused later."""

    charter = models.ForeignKey(Charter, on_delete=models.CASCADE, related_name="step_consents")
    step = models.CharField(max_length=20)
    sector = models.CharField(max_length=20, help_text="The sector the co-chair asked for.")
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    given_at = models.DateTimeField(default=timezone.now, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["given_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["charter", "step", "sector"],
                condition=Q(closed_at__isnull=True),
                name="charterstepconsent_once_per_sector",
                violation_error_message="This sector's co-chair has already asked for this step.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.given_by} asks to {self.step} {self.charter}"


class TechnicalReview(TimeStampedModel):
    """A reviewer's verdict on one version of a charter, as a checklist with notes."""

    version = models.ForeignKey(CharterVersion, on_delete=models.CASCADE, related_name="reviews")
    kind = models.CharField(max_length=24, choices=ReviewKind.choices)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(max_length=12, choices=ReviewVerdict.choices)
    notes = models.TextField(blank=True)
    checklist = models.JSONField(
        default=list, help_text='[{"key", "label", "met", "automatic", "findings"}] in the order of the checklist.'
    )

    class Meta:
        ordering = ["version", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "kind"],
                name="technicalreview_one_per_kind",
                violation_error_message="This version already has a review of this kind.",
            ),
            models.CheckConstraint(
                condition=Q(verdict__in=ReviewVerdict.values),
                name="technicalreview_verdict_valid",
                violation_error_message="Unknown verdict.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} review of {self.version}"


class RegisteredModelQuerySet(models.QuerySet):
    def visible_to(self, user) -> RegisteredModelQuerySet:
        """A model is seen by whoever sees the charter it was produced under."""
        return self.filter(charter__in=Charter.objects.visible_to(user))


digest_validator = RegexValidator(
    r"^sha256:[0-9a-f]{64}$", "Give the digest as sha256: followed by 64 lowercase hexadecimal digits."
)


class RegisteredModel(TimeStampedModel):
    """A model produced under a charter, with where it came from: the data it was trained on
    (through the agreements that allowed it), the compute it consumed and the model it derives from."""

    charter = models.ForeignKey(Charter, on_delete=models.PROTECT, related_name="models")
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=40)
    digest = models.CharField(max_length=71, validators=[digest_validator], help_text="sha256:… of the weights.")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", help_text="The base model."
    )
    datasets = models.ManyToManyField(Dataset, through="TrainingData", related_name="models", blank=True)
    trained_at = models.DateTimeField(default=timezone.now)
    credits_consumed = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    gpu_hours = models.DecimalField(
        "GPU-hours", max_digits=12, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    bias_audit_summary = models.TextField(blank=True)
    bias_audit_results = models.JSONField(
        default=dict, blank=True, help_text='Metric name to value, e.g. {"demographic_parity_gap": 0.03}.'
    )
    intended_use = models.TextField(blank=True)
    limitations = models.TextField(blank=True)
    evaluation = models.TextField(blank=True, help_text="How it was evaluated, and the results.")
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = RegisteredModelQuerySet.as_manager()

    class Meta:
        ordering = ["name", "version"]
        verbose_name = "model"
        constraints = [
            models.UniqueConstraint(
                fields=["name", "version"],
                name="registeredmodel_unique_version",
                violation_error_message="A model with this name and version is already registered.",
            ),
            models.CheckConstraint(
                condition=Q(credits_consumed__gte=0) & Q(gpu_hours__gte=0),
                name="registeredmodel_compute_non_negative",
                violation_error_message="Compute consumed cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"

    def clean(self) -> None:
        if not isinstance(self.bias_audit_results, dict):
            raise ValidationError({"bias_audit_results": "Give the bias-audit results as metric names and values."})
        if self.parent_id and self.pk and self.parent_id == self.pk:
            raise ValidationError({"parent": "A model cannot derive from itself."})

    def lineage(self) -> list[RegisteredModel]:
        """Its ancestors, nearest first (one query per generation; lineages are short)."""
        chain, seen, node = [], {self.pk}, self.parent
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return chain


class TrainingData(models.Model):
    """A dataset a model was trained on, and the data use agreement that allowed it."""

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="training_data")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="+")
    agreement = models.ForeignKey(DataUseAgreement, on_delete=models.PROTECT, related_name="training_data")

    class Meta:
        ordering = ["dataset__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "dataset"],
                name="trainingdata_once_per_dataset",
                violation_error_message="This dataset is already listed for the model.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} under {self.agreement}"
