"""Parsers for what a GPU node prints: nvidia-smi, nv-fabricmanager, lsmod, nvidia-ctk.

Pure functions over text, so they are tested against genuine captures
(../shared/reference/nvidia-smi/) as well as the project's fixtures. The node validation
suite in gpu-drivers/validate/ runs the commands in :data:`COMMANDS` and feeds the output
here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# One query for everything per-GPU. Field names are nvidia-smi's (`nvidia-smi
# --help-query-gpu`). retired_pages.pending reads "[N/A]" on A100, which replaced page
# retirement with row remapping (see REMAPPED_ROWS_FIELDS).
QUERY_GPU_FIELDS: tuple[str, ...] = (
    "index",
    "name",
    "pci.bus_id",
    "driver_version",
    "persistence_mode",
    "ecc.mode.current",
    "mig.mode.current",
    "ecc.errors.uncorrected.volatile.total",
    "retired_pages.pending",
)

# A100 (GA100) uses row remapping instead of dynamic page retirement for HBM errors:
# https://docs.nvidia.com/deploy/a100-gpu-mem-error-mgmt/supported-gpus.html lists GA100
# under "Row remapping", and `nvidia-smi -q` on A100 prints "Retired Pages ... N/A" next to
# a "Remapped Rows" section (reference capture 10). A pending remap needs a GPU reset; a
# failed one means the GPU has run out of spare rows.
REMAPPED_ROWS_FIELDS: tuple[str, ...] = (
    "gpu_bus_id",
    "remapped_rows.correctable",
    "remapped_rows.uncorrectable",
    "remapped_rows.pending",
    "remapped_rows.failure",
)

COMMANDS = {
    "query_gpu": f"nvidia-smi --query-gpu={','.join(QUERY_GPU_FIELDS)} --format=csv,noheader",
    "smi_q": "nvidia-smi -q",
    "mig_lgi": "nvidia-smi mig -lgi",
    "remapped_rows": f"nvidia-smi --query-remapped-rows={','.join(REMAPPED_ROWS_FIELDS)} --format=csv,noheader",
    "fabric_manager_active": "systemctl is-active nvidia-fabricmanager",
    # NVIDIA's release notes: "Fabric Manager: <version> (Use nv-fabricmanager -v)".
    "fabric_manager_version": "nv-fabricmanager -v",
    "lsmod": "lsmod",
    "container_toolkit": "nvidia-ctk --version",
}

_NA = {"", "n/a", "[n/a]", "[not supported]", "not supported", "[unknown error]"}


def is_na(value: str | None) -> bool:
    return value is None or value.strip().lower() in _NA


def flag(value: str | None) -> bool | None:
    """nvidia-smi's booleans ("Enabled", "Yes", "1", ...) as True/False; None for N/A."""
    if is_na(value):
        return None
    text = value.strip().lower()
    if text in {"enabled", "yes", "true", "1", "on"}:
        return True
    if text in {"disabled", "no", "false", "0", "off"}:
        return False
    return None


def count(value: str | None) -> int | None:
    if is_na(value):
        return None
    text = value.strip()
    return int(text) if text.isdigit() else None


def parse_csv(text: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of `--format=csv,noheader` output; a header line, if present, is skipped."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split(",")]
        if cells[0] == fields[0] or cells[0].startswith(fields[0] + " ["):
            continue  # header (`--format=csv` without noheader)
        if len(cells) != len(fields):
            raise ValueError(f"expected {len(fields)} comma-separated values, got {len(cells)}: {line.strip()!r}")
        rows.append(dict(zip(fields, cells)))
    return rows


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    bus_id: str
    driver: str
    persistence: bool | None
    ecc: bool | None
    mig: bool | None
    ecc_uncorrected: int | None
    retired_pages_pending: bool | None

    @property
    def label(self) -> str:
        return f"GPU {self.index} ({self.bus_id})"


def parse_gpus(text: str) -> list[Gpu]:
    gpus = []
    for row in parse_csv(text, QUERY_GPU_FIELDS):
        gpus.append(Gpu(
            index=int(row["index"]),
            name=row["name"],
            bus_id=row["pci.bus_id"],
            driver=row["driver_version"],
            persistence=flag(row["persistence_mode"]),
            ecc=flag(row["ecc.mode.current"]),
            mig=flag(row["mig.mode.current"]),
            ecc_uncorrected=count(row["ecc.errors.uncorrected.volatile.total"]),
            retired_pages_pending=flag(row["retired_pages.pending"]),
        ))
    return gpus


_CUDA_LINE = re.compile(r"CUDA Version\s*:\s*(\d+\.\d+)")


def parse_cuda_version(text: str) -> str | None:
    """The CUDA version the driver supports, from `nvidia-smi -q` or the plain table header."""
    match = _CUDA_LINE.search(text)
    return match.group(1) if match else None


_DRIVER_LINE = re.compile(r"Driver Version\s*:\s*(\d+\.\d+(?:\.\d+)?)")


def parse_driver_version(text: str) -> str | None:
    match = _DRIVER_LINE.search(text)
    return match.group(1) if match else None


# A GPU-instance row of `nvidia-smi mig -lgi`, in both the R450 and later layouts:
# "|   0  MIG 1g.5gb       19        7          0:1     |"
_LGI_ROW = re.compile(r"^\|\s*(\d+)\s+MIG\s+(\S+)\s+\d+\s+\d+\s+\d+:\d+\s*\|")


def parse_mig_instances(text: str) -> dict[int, dict[str, int]]:
    """GPU index -> {profile: count} from `nvidia-smi mig -lgi`; {} when none exist."""
    result: dict[int, dict[str, int]] = {}
    for line in text.splitlines():
        match = _LGI_ROW.match(line.strip())
        if match:
            gpu, profile = int(match.group(1)), match.group(2)
            per_gpu = result.setdefault(gpu, {})
            per_gpu[profile] = per_gpu.get(profile, 0) + 1
    return result


@dataclass(frozen=True)
class RemappedRows:
    bus_id: str
    correctable: int | None
    uncorrectable: int | None
    pending: bool | None
    failure: bool | None


def parse_remapped_rows(text: str) -> list[RemappedRows]:
    return [
        RemappedRows(
            bus_id=row["gpu_bus_id"],
            correctable=count(row["remapped_rows.correctable"]),
            uncorrectable=count(row["remapped_rows.uncorrectable"]),
            pending=flag(row["remapped_rows.pending"]),
            failure=flag(row["remapped_rows.failure"]),
        )
        for row in parse_csv(text, REMAPPED_ROWS_FIELDS)
    ]


_FM_VERSION = re.compile(r"version\s+is\s*:\s*(\d+\.\d+(?:\.\d+)?)", re.IGNORECASE)
_FM_MISMATCH = re.compile(
    r"interface version (\d+\.\d+(?:\.\d+)?) (?:don't|doesn't) match with driver version (\d+\.\d+(?:\.\d+)?)"
)


def parse_fabric_manager_version(text: str) -> str | None:
    """From `nv-fabricmanager -v`: "Fabric Manager version is : 580.95.05"."""
    match = _FM_VERSION.search(text)
    return match.group(1) if match else None


def parse_fabric_manager_mismatch(text: str) -> tuple[str, str] | None:
    """(fabric manager version, driver version) from Fabric Manager's mismatch log line."""
    match = _FM_MISMATCH.search(text)
    return (match.group(1), match.group(2)) if match else None


def parse_lsmod(text: str) -> set[str]:
    modules = set()
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] != "Module":  # skip the "Module Size Used by" header
            modules.add(parts[0])
    return modules


_CTK_VERSION = re.compile(r"version\s+(\d+\.\d+\.\d+)", re.IGNORECASE)


def parse_container_toolkit_version(text: str) -> str | None:
    """From `nvidia-ctk --version`: "NVIDIA Container Toolkit CLI version 1.17.8"."""
    match = _CTK_VERSION.search(text)
    return match.group(1) if match else None
