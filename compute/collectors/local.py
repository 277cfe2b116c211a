"""The host the portal runs on: CPU and memory through psutil, GPUs through NVML when present.

GPU readings take the DCGM exporter's names so local and Prometheus data chart alike:
utilization in percent, framebuffer memory used in MiB, power in watts. The graphics-engine
activity (DCGM_FI_PROF_GR_ENGINE_ACTIVE) needs DCGM's profiling module, which NVML does not
offer, so a local source does not report it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psutil

from compute.collectors import catalogue


@dataclass
class Reading:
    values: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def read_host(cpu_interval: float = 0.5) -> Reading:
    """One reading of this host's CPU and memory, and of its NVIDIA GPUs when NVML answers."""
    reading = Reading()
    reading.values[catalogue.CPU_UTILIZATION] = float(psutil.cpu_percent(interval=cpu_interval))
    reading.values[catalogue.MEMORY_UTILIZATION] = float(psutil.virtual_memory().percent)
    gpus = read_gpus()
    reading.values.update(gpus.values)
    reading.notes.extend(gpus.notes)
    return reading


def read_gpus() -> Reading:
    """Aggregated readings over every NVIDIA GPU of this host, or a note saying why there are none."""
    reading = Reading()
    try:
        import pynvml
    except ImportError:
        reading.notes.append("GPU metrics skipped: nvidia-ml-py is not installed.")
        return reading
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as error:
        reading.notes.append(f"GPU metrics skipped: no NVIDIA driver here (NVML: {error}).")
        return reading
    try:
        count = pynvml.nvmlDeviceGetCount()
        if count == 0:
            reading.notes.append("GPU metrics skipped: NVML found no GPU.")
            return reading
        utilization, memory_mib, power_w = [], 0.0, 0.0
        power_known = False
        for index in range(count):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            utilization.append(float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu))
            memory_mib += pynvml.nvmlDeviceGetMemoryInfo(handle).used / (1024 * 1024)
            try:
                power_w += pynvml.nvmlDeviceGetPowerUsage(handle) / 1000.0
                power_known = True
            except pynvml.NVMLError:
                # Some boards (and MIG slices) do not report power: leave it missing, not zero.
                pass
        reading.values[catalogue.GPU_UTIL] = sum(utilization) / len(utilization)
        reading.values[catalogue.GPU_FB_USED] = memory_mib
        reading.values[catalogue.GPU_COUNT] = float(count)
        if power_known:
            reading.values[catalogue.GPU_POWER] = power_w
    except pynvml.NVMLError as error:
        reading.notes.append(f"GPU metrics skipped: NVML failed while reading ({error}).")
        reading.values.clear()
    finally:
        pynvml.nvmlShutdown()
    return reading
