"""The driver/CUDA/MIG facts in gpu-drivers/data/, loaded once into typed models.

Every row in those files names its source; this module only reads and validates them and
answers the questions the checker asks (which branch is a driver on, which driver does a
CUDA release need). Nothing here restates an upstream number.
"""

from __future__ import annotations

import calendar
import datetime as dt
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kubeforge.gpu.versions import CudaVersion, DriverVersion

# Package data: kubeforge/gpu/data is gpu-drivers/data in a checkout (a link, so the facts
# keep one home) and a plain directory in an installed wheel.
DATA_DIR: Traversable = resources.files("kubeforge.gpu") / "data"

BranchType = Literal["ltsb", "production", "new-feature", "unknown"]

BRANCH_TYPE_NAMES: dict[str, str] = {
    "ltsb": "LTSB",
    "production": "production",
    "new-feature": "new-feature",
    "unknown": "type unknown",
}


class FactsError(Exception):
    """gpu-drivers/data/ is missing or malformed."""


class _Fact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _driver_text(value: str | None) -> str | None:
    if value is not None:
        DriverVersion.parse(value)
    return value


class Branch(_Fact):
    name: str = Field(pattern=r"^R\d+$")
    type: BranchType
    eol: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$")
    retired: bool = False
    first_driver: str | None = None
    source: str
    note: str | None = None

    @field_validator("first_driver")
    @classmethod
    def _valid_first_driver(cls, value: str | None) -> str | None:
        return _driver_text(value)

    @property
    def number(self) -> int:
        return int(self.name[1:])

    @property
    def type_name(self) -> str:
        return BRANCH_TYPE_NAMES[self.type]

    @property
    def eol_date(self) -> dt.date | None:
        """Last supported day: the end of the EOL month NVIDIA names."""
        if self.eol is None:
            return None
        year, month = (int(part) for part in self.eol.split("-"))
        return dt.date(year, month, calendar.monthrange(year, month)[1])

    def is_eol(self, today: dt.date) -> bool:
        if self.retired:
            return True
        end = self.eol_date
        return end is not None and today > end

    def lifecycle(self, today: dt.date) -> str:
        """A short phrase for messages, e.g. "R580, LTSB, supported until 2028-06"."""
        if self.is_eol(today):
            when = f" since {self.eol}" if self.eol else ""
            return f"{self.name}, end of life{when}"
        until = f", supported until {self.eol}" if self.eol else ", end of life not recorded"
        return f"{self.name}, {self.type_name}{until}"


class ToolkitRelease(_Fact):
    label: str
    version: str
    min_driver: str | None

    @field_validator("min_driver")
    @classmethod
    def _valid_min_driver(cls, value: str | None) -> str | None:
        return _driver_text(value)

    @property
    def min_driver_version(self) -> DriverVersion | None:
        return None if self.min_driver is None else DriverVersion.parse(self.min_driver)


class Toolkit(_Fact):
    cuda: str = Field(pattern=r"^\d+\.\d+$")
    releases: tuple[ToolkitRelease, ...] = Field(min_length=1)
    min_branch: int | None = None
    source: str
    note: str | None = None

    @property
    def version(self) -> CudaVersion:
        return CudaVersion.parse(self.cuda)

    @property
    def ga(self) -> ToolkitRelease:
        return self.releases[0]

    @property
    def latest(self) -> ToolkitRelease:
        return self.releases[-1]

    @model_validator(mode="after")
    def _unverified_ga_has_a_branch(self) -> "Toolkit":
        if self.ga.min_driver is None and self.min_branch is None:
            raise ValueError(f"CUDA {self.cuda}: a GA row without min_driver needs min_branch, or nothing is required")
        return self

    @property
    def verified(self) -> bool:
        return all(r.min_driver is not None for r in self.releases)

    def required_for(self, release: ToolkitRelease) -> DriverVersion | int:
        """NVIDIA's minimum for ``release``; where that is unverified, the newest verified
        minimum of an earlier release of this toolkit, else the branch ``min_branch``."""
        if release.min_driver_version is not None:
            return release.min_driver_version
        earlier = self.releases[: self.releases.index(release)]
        verified = [r.min_driver_version for r in earlier if r.min_driver_version is not None]
        return max(verified) if verified else self.min_branch  # type: ignore[return-value]

    def release(self, cuda: CudaVersion) -> ToolkitRelease:
        if cuda.patch is None:
            return self.ga
        for rel in self.releases:
            if CudaVersion.parse(rel.version) == cuda:
                return rel
        known = ", ".join(f"{r.version} ({r.label})" for r in self.releases)
        raise ValueError(f"CUDA {cuda} is not a release in NVIDIA's table; CUDA {self.cuda} has {known}")


class MinorCompat(_Fact):
    major: int
    min_driver: str
    max_driver_exclusive: str | None
    source: str
    note: str | None = None

    @field_validator("min_driver", "max_driver_exclusive")
    @classmethod
    def _valid_bound(cls, value: str | None) -> str | None:
        # NVIDIA writes some bounds as a bare branch ("580"); both forms are accepted.
        if value is not None and not value.isdigit():
            _driver_text(value)
        return value

    @property
    def min_version(self) -> DriverVersion:
        text = self.min_driver if not self.min_driver.isdigit() else f"{self.min_driver}.0"
        return DriverVersion.parse(text)

    def covers_branch(self, branch: int) -> bool:
        """Whether drivers of ``branch`` fall in this major's range (ignoring the patch floor)."""
        low = self.min_version.major
        high = None if self.max_driver_exclusive is None else int(self.max_driver_exclusive.split(".")[0])
        return branch >= low and (high is None or branch < high)


class ForwardCompat(_Fact):
    package: str
    gpu_classes: tuple[str, ...]
    requires_supported_branch: bool
    source: str
    note: str | None = None

    def package_for(self, cuda: CudaVersion) -> str:
        return self.package.format(major=cuda.major, minor=cuda.minor)


class FabricManagerSystem(_Fact):
    system: str
    gpus_per_node: int
    gpu_models: tuple[str, ...]
    source: str
    note: str | None = None


class FabricManager(_Fact):
    service: str
    version_command: str
    required_on: tuple[FabricManagerSystem, ...]
    version_must_equal_driver: bool
    sources: tuple[str, ...]
    note: str | None = None
    fabric_state_note: str | None = None

    def required_for(self, gpu_model: str | None, gpus_per_node: int) -> FabricManagerSystem | None:
        for system in self.required_on:
            if gpu_model in system.gpu_models and gpus_per_node == system.gpus_per_node:
                return system
        return None


class MigProfile(_Fact):
    name: str
    compute_slices: int = Field(ge=1)
    memory_slices: int = Field(ge=1)
    max_instances: int = Field(ge=1)
    memory_gib: float | None = None
    # None where a card's placements are not recorded; then only slice arithmetic applies.
    placements: tuple[int, ...] | None = None


class Gpu(_Fact):
    id: str
    smi_names: tuple[str, ...]
    memory_gb: int
    compute_slices: int
    memory_slices: int
    min_branch: int
    data_center: bool
    source: str
    note: str | None = None
    profiles: tuple[MigProfile, ...]

    @model_validator(mode="after")
    def _placements_fit_the_card(self) -> "Gpu":
        for p in self.profiles:
            for start in p.placements or ():
                if start < 0 or start + p.memory_slices > self.memory_slices:
                    raise ValueError(
                        f"{self.id}: placement {start} of {p.name} runs past the card's {self.memory_slices} memory slices"
                    )
        return self

    def profile(self, name: str) -> MigProfile | None:
        return next((p for p in self.profiles if p.name == name), None)

    @property
    def gb_per_memory_slice(self) -> float:
        return self.memory_gb / self.memory_slices


class Facts(_Fact):
    branches: tuple[Branch, ...]
    toolkits: tuple[Toolkit, ...]
    minor_compat: tuple[MinorCompat, ...]
    forward_compat: ForwardCompat
    fabric_manager: FabricManager
    gpus: tuple[Gpu, ...]

    # -- questions the checker asks ---------------------------------------------------

    def branch(self, number: int) -> Branch | None:
        return next((b for b in self.branches if b.number == number), None)

    def toolkit(self, cuda: CudaVersion) -> Toolkit | None:
        return next((t for t in self.toolkits if t.cuda == cuda.minor_release), None)

    def minor_compat_for(self, major: int) -> MinorCompat | None:
        return next((m for m in self.minor_compat if m.major == major), None)

    def gpu(self, gpu_id: str) -> Gpu | None:
        return next((g for g in self.gpus if g.id == gpu_id), None)

    def gpu_by_smi_name(self, name: str) -> Gpu | None:
        return next((g for g in self.gpus if name in g.smi_names), None)

    def max_cuda_major(self, branch: int) -> int | None:
        """Newest CUDA major a branch runs without the forward-compatibility package."""
        majors = [m.major for m in self.minor_compat if m.covers_branch(branch)]
        return max(majors) if majors else None

    def native_cuda(self, branch: int) -> Toolkit | None:
        """Newest CUDA minor whose GA driver is on this branch or an older one."""
        best = None
        for toolkit in self.toolkits:
            ga = toolkit.ga.min_driver_version
            needed = ga.branch if ga is not None else toolkit.min_branch
            if needed is not None and needed <= branch:
                best = toolkit
        return best


def _read(path: Traversable) -> dict:
    try:
        with path.open() as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise FactsError(f"{path} is missing; kubeforge's GPU facts live in gpu-drivers/data/") from None
    except yaml.YAMLError as exc:
        raise FactsError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise FactsError(f"{path} must hold a mapping at the top level")
    return data


def load_facts(data_dir: Traversable | Path = DATA_DIR) -> Facts:
    """Read and validate every file in ``data_dir``; raise FactsError naming the bad file."""
    files = {
        "branches": ("driver_branches.yaml", "branches"),
        "toolkits": ("cuda_toolkits.yaml", "toolkits"),
        "minor_compat": ("compatibility.yaml", "minor_version_compatibility"),
        "forward_compat": ("compatibility.yaml", "forward_compatibility"),
        "fabric_manager": ("fabric_manager.yaml", "fabric_manager"),
        "gpus": ("mig_profiles.yaml", "gpus"),
    }
    raw: dict[str, object] = {}
    for field, (name, key) in files.items():
        data = _read(data_dir / name)
        if key not in data:
            raise FactsError(f"{data_dir / name} has no top-level '{key}'")
        raw[field] = data[key]
    try:
        return Facts.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        file = files[str(first["loc"][0])][0] if first["loc"] else "?"
        raise FactsError(f"{data_dir / file}: {where}: {first['msg']}") from None


@lru_cache(maxsize=1)
def facts() -> Facts:
    """The project's facts, read once per process."""
    return load_facts()
