"""Choice values of the compute app (DESIGN.md 2.3 and 2.4)."""

from django.db import models


class ResourceKind(models.TextChoices):
    GPU_CLUSTER = "gpu_cluster", "GPU cluster"
    CPU_POOL = "cpu_pool", "CPU pool"
    STORAGE = "storage", "Storage"


class ResourceStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    MAINTENANCE = "maintenance", "Maintenance"
    RETIRED = "retired", "Retired"


# --- Metrics and security posture (DESIGN.md 2.4) --------------------------------------------


class MetricSourceKind(models.TextChoices):
    PROMETHEUS = "prometheus", "Prometheus"
    PUSH = "push", "Push API (agents)"
    LOCAL = "local", "Local host"


class Resolution(models.TextChoices):
    """Where a series is read from: raw samples, or the hourly or daily rollups."""

    RAW = "raw", "Raw samples"
    HOUR = "hour", "Hourly rollup"
    DAY = "day", "Daily rollup"


class ScanKind(models.TextChoices):
    OPENSCAP = "openscap", "OpenSCAP XCCDF results"
    LYNIS = "lynis", "Lynis report"
    TRIVY = "trivy", "Trivy JSON"
    GRYPE = "grype", "Grype JSON"
    ATTESTATION = "attestation", "TEE attestation"


class ScanOrigin(models.TextChoices):
    UPLOAD = "upload", "Uploaded on the portal"
    API = "api", "Posted to the API"
    WATCHED = "watched", "Found in a watched directory"


class AttestationStatus(models.TextChoices):
    VERIFIED = "verified", "Verified"
    FAILED = "failed", "Failed"


# The unit a resource's capacity and usage are counted in, per kind.
UNIT_OF_KIND = {
    ResourceKind.GPU_CLUSTER: "GPU-hour",
    ResourceKind.CPU_POOL: "core-hour",
    ResourceKind.STORAGE: "TB-hour",
}
