"""The metrics file kubeforge's DCGM exporter reads (the GPU Operator mounts it from a ConfigMap).

The GPU Operator's default file (``/etc/dcgm-exporter/dcp-metrics-included.csv``) leaves ECC
errors and throttling out, which the alert rules need; kubeforge's file is that default plus
those fields. Every field is one the exporter's own file lists at the pin (catalog
``metrics.dcgm``, tested). Format: ``<DCGM field>, <Prometheus type>, <help>``.
Ref: https://github.com/NVIDIA/dcgm-exporter/blob/4.5.3-4.8.2/etc/dcp-metrics-included.csv ;
https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/getting-started.html#custom-metrics-config
"""

from __future__ import annotations

CONFIG_MAP = "kubeforge-dcgm-metrics"
CONFIG_KEY = "dcgm-metrics.csv"
"""The key the GPU Operator mounts (controllers/object_controls.go MetricsConfigFileName, v26.7.0)."""

FIELDS: tuple[tuple[str, str, str], ...] = (
    # The operator's default set.
    ("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz)."),
    ("DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz)."),
    ("DCGM_FI_DEV_MEMORY_TEMP", "gauge", "Memory temperature (in C)."),
    ("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)."),
    ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W)."),
    ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter", "Total energy consumption since boot (in mJ)."),
    ("DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "counter", "Total number of PCIe retries."),
    ("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %)."),
    ("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %)."),
    ("DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered."),
    ("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB)."),
    ("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB)."),
    ("DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", "counter", "Total number of NVLink bandwidth counters for all lanes."),
    ("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "counter", "Number of remapped rows for uncorrectable errors."),
    ("DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", "counter", "Number of remapped rows for correctable errors."),
    ("DCGM_FI_DEV_ROW_REMAP_FAILURE", "gauge", "Whether remapping of rows has failed."),
    ("DCGM_FI_DRIVER_VERSION", "label", "Driver Version."),
    ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "gauge", "Ratio of time the graphics engine is active."),
    ("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "gauge", "Ratio of cycles the tensor (HMMA) pipe is active."),
    ("DCGM_FI_PROF_DRAM_ACTIVE", "gauge", "Ratio of cycles the device memory interface is active."),
    # Added for the alert rules: ECC errors and the time the GPU was slowed down.
    ("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "counter", "Total number of single-bit volatile ECC errors."),
    ("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "counter", "Total number of double-bit volatile ECC errors."),
    ("DCGM_FI_DEV_POWER_VIOLATION", "counter", "Throttling duration due to power constraints (in ns)."),
    ("DCGM_FI_DEV_THERMAL_VIOLATION", "counter", "Throttling duration due to thermal constraints (in ns)."),
)


def metrics_csv() -> str:
    return "".join(f"{field}, {kind}, {help_text}\n" for field, kind, help_text in FIELDS)


def enabled_fields() -> frozenset[str]:
    return frozenset(field for field, kind, _ in FIELDS if kind != "label")
