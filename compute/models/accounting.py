"""How an accounting system's names map onto the portal's: a Slurm account onto a charter, a
partition or a cluster onto a shared resource. Kept by administrators, every change audited."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from compute.choices import MappingKind
from governance.models import TimeStampedModel


class AccountingMapping(TimeStampedModel):
    """One name of an accounting system (`system`, e.g. a cluster's Slurm) and what it means here.

    An `account` names the charter its jobs are charged to; a `partition` (or, when the jobs'
    partition is not mapped, their `cluster`) names the resource they ran on."""

    system = models.CharField(max_length=64, default="slurm", help_text="Which accounting system the name is from.")
    kind = models.CharField(max_length=16, choices=MappingKind.choices)
    name = models.CharField(max_length=128, help_text="The account, partition or cluster as the system writes it.")
    charter = models.ForeignKey(
        "charters.Charter", on_delete=models.PROTECT, null=True, blank=True, related_name="accounting_names"
    )
    resource = models.ForeignKey(
        "compute.Resource", on_delete=models.PROTECT, null=True, blank=True, related_name="accounting_names"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["system", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "kind", "name"],
                name="accountingmapping_unique_name",
                violation_error_message="This name is already mapped.",
            ),
            models.CheckConstraint(
                condition=Q(kind=MappingKind.ACCOUNT, charter__isnull=False, resource__isnull=True)
                | Q(
                    kind__in=[MappingKind.PARTITION, MappingKind.CLUSTER], resource__isnull=False, charter__isnull=True
                ),
                name="accountingmapping_target_matches_kind",
                violation_error_message="An account maps to a charter; a partition or a cluster to a resource.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.kind} {self.name} → {self.charter or self.resource}"


class UsageImport(models.Model):
    """An accounting export imported in full, every row read and posted: the file's SHA-256, so
    that importing the very same file again (a re-run of a nightly job) answers at once that it
    charged nothing, without reading a million rows to find every key already posted
    (`import_usage --recheck` reads them anyway)."""

    source = models.CharField(max_length=64)
    format = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, help_text="SHA-256 of the file's bytes, hexadecimal.")
    rows = models.PositiveIntegerField()
    posted = models.PositiveIntegerField(help_text="Usage records it wrote (new keys).")
    credits = models.DecimalField(max_digits=18, decimal_places=4)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-imported_at", "-pk"]
        indexes = [models.Index(fields=["digest", "source", "format"], name="usageimport_file_idx")]

    def __str__(self) -> str:
        return f"{self.format} from {self.source}, {self.rows:,} rows ({self.digest[:12]}…)"
