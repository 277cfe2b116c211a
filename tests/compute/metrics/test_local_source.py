"""The local host source: CPU and memory through psutil, GPUs through NVML where present."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from compute.collectors import local
from compute.models import MetricSource, Resource, Sample
from compute.services.metrics import collection, sources
from governance.models import User

pytestmark = pytest.mark.django_db


def nvml_absent_reason() -> str | None:
    """Why NVML cannot be read here, or None on a machine with an NVIDIA driver and GPU."""
    try:
        import pynvml
    except ImportError:
        return "nvidia-ml-py is not installed"
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as error:
        return f"no NVIDIA driver on this machine (NVML: {error})"
    try:
        if pynvml.nvmlDeviceGetCount() == 0:
            return "NVML found no GPU"
    finally:
        pynvml.nvmlShutdown()
    return None


@pytest.fixture
def local_source():
    admin = User.objects.create_superuser("admin", "admin@example.org", "correct-horse-battery-staple")
    host = Resource.objects.create(name="Portal host", kind="cpu_pool", capacity=2, jurisdiction="EU")
    return sources.create_source(admin, name="This host", kind="local", resource=host)


def test_a_local_pass_stores_this_hosts_cpu_and_memory(local_source):
    result = collection.collect_source(local_source.pk)
    names = set(Sample.objects.filter(resource=local_source.resource).values_list("metric__name", flat=True))
    assert {"cpu_utilization", "memory_utilization"} <= names
    assert result.stored >= 2
    for value in Sample.objects.filter(resource=local_source.resource).values_list("value", flat=True):
        assert value >= 0


def test_two_passes_in_the_same_step_keep_one_reading(local_source):
    collection.collect_source(local_source.pk)
    collection.collect_source(local_source.pk)
    per_metric = Sample.objects.filter(resource=local_source.resource, metric__name="cpu_utilization").count()
    assert per_metric in (1, 2)  # two only when the passes straddled a minute boundary


def test_without_an_nvidia_driver_the_gpu_part_is_skipped_with_its_reason(local_source):
    reason = nvml_absent_reason()
    if reason is None:
        pytest.skip("this machine has an NVIDIA GPU: the NVML test below covers it")
    collection.collect_source(local_source.pk)
    local_source.refresh_from_db()
    assert local_source.status_note.startswith("GPU metrics skipped")
    assert not Sample.objects.filter(metric__name__startswith="DCGM_").exists()
    assert local_source.last_error == ""


def test_the_gpus_are_read_through_nvml_under_dcgm_names():
    reason = nvml_absent_reason()
    if reason:
        pytest.skip(f"NVML path not testable here: {reason}")
    reading = local.read_gpus()
    assert reading.notes == []
    assert 0 <= reading.values["DCGM_FI_DEV_GPU_UTIL"] <= 100
    assert reading.values["DCGM_FI_DEV_FB_USED"] >= 0
    assert reading.values["gpu_count"] >= 1
    if "DCGM_FI_DEV_POWER_USAGE" in reading.values:
        assert reading.values["DCGM_FI_DEV_POWER_USAGE"] > 0


def test_the_collect_metrics_command_runs_one_pass(local_source, capsys):
    call_command("collect_metrics")
    out = capsys.readouterr().out
    assert "This host:" in out
    assert "Collected from 1 metric source(s)." in out
    assert MetricSource.objects.get(pk=local_source.pk).last_success_at is not None
