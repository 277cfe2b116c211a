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


# The unit a resource's capacity and usage are counted in, per kind.
UNIT_OF_KIND = {
    ResourceKind.GPU_CLUSTER: "GPU-hour",
    ResourceKind.CPU_POOL: "core-hour",
    ResourceKind.STORAGE: "TB-hour",
}
