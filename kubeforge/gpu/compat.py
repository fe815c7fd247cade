"""Does a pinned driver run the CUDA an image was built with, on this GPU, with this MIG layout?

The one question the seed platform learned to ask before anything is created. Every
number comes from gpu-drivers/data/ (see :mod:`kubeforge.gpu.facts`); this module holds
only the rules, and every message names the rule that failed, the values, and a fix.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Literal

from kubeforge.gpu.facts import Branch, Facts, facts
from kubeforge.gpu.mig import MIG_STRATEGIES, check_mig_layout, check_mig_strategy, format_mig_layout, parse_mig_layout
from kubeforge.gpu.versions import CudaVersion, DriverVersion

__all__ = [
    "CompatResult",
    "Finding",
    "MIG_STRATEGIES",
    "UnknownBranchError",
    "branch_of",
    "check",
    "check_mig_layout",
    "check_pool",
    "format_mig_layout",
    "min_driver",
    "parse_mig_layout",
    "recommended_branch",
]

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    rule: str  # e.g. "cuda-min-driver", "branch-eol", "mig-layout"
    severity: Severity
    message: str


@dataclass
class CompatResult:
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [f.message for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[str]:
        return [f.message for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def _add(self, rule: str, severity: Severity, message: str) -> None:
        finding = Finding(rule, severity, message)
        if finding not in self.findings:
            self.findings.append(finding)


class UnknownBranchError(ValueError):
    """A driver whose branch gpu-drivers/data/driver_branches.yaml does not list."""


def _data(data: Facts | None) -> Facts:
    return data or facts()


def branch_of(driver: str, *, data: Facts | None = None) -> Branch:
    """The branch a driver belongs to, e.g. "580.95.05" -> R580.

    Raises ValueError on bad syntax and UnknownBranchError for a branch with no row.
    """
    version = DriverVersion.parse(driver)
    branch = _data(data).branch(version.branch)
    if branch is None:
        raise UnknownBranchError(
            f"driver {version} is on R{version.branch}, which gpu-drivers/data/driver_branches.yaml does not list; "
            "add the branch with its NVIDIA source, or pin a listed branch"
        )
    return branch


def min_driver(cuda: str, *, data: Facts | None = None) -> DriverVersion | None:
    """NVIDIA's minimum driver for a CUDA release ("12.8" means GA); None where unverified."""
    version = CudaVersion.parse(cuda)
    toolkit = _data(data).toolkit(version)
    if toolkit is None:
        raise ValueError(f"CUDA {version} is not in gpu-drivers/data/cuda_toolkits.yaml")
    return toolkit.release(version).min_driver_version


def recommended_branch(needs_branch: int, today: dt.date, *, data: Facts | None = None) -> Branch | None:
    """The branch to suggest: supported, LTSB before production, oldest that is new enough."""
    candidates = [
        b for b in _data(data).branches
        if b.number >= needs_branch and not b.is_eol(today) and b.type in ("ltsb", "production")
    ]
    candidates.sort(key=lambda b: (b.type != "ltsb", b.number))
    return candidates[0] if candidates else None


def _pin_advice(needs: DriverVersion | int, today: dt.date, data: Facts) -> str:
    needs_branch = needs.branch if isinstance(needs, DriverVersion) else needs
    branch = recommended_branch(needs_branch, today, data=data)
    if branch is None:
        return (
            f"no supported LTSB or production branch in gpu-drivers/data reaches R{needs_branch}; "
            "use forward compatibility or update gpu-drivers/data from NVIDIA's lifecycle page"
        )
    if isinstance(needs, DriverVersion) and branch.number == needs.branch:
        return f"pin {needs} or newer on {branch.name} ({branch.lifecycle(today)[len(branch.name) + 2:]})"
    return f"pin {branch.name} ({branch.lifecycle(today)[len(branch.name) + 2:]})"


def check(
    driver: str,
    cuda: str,
    *,
    gpu: str | None = None,
    mig: str | None = None,
    forward_compat: bool = False,
    allow_eol: bool = False,
    today: dt.date | None = None,
    pool: str | None = None,
    minor_compat: bool = False,
    mig_strategy: str | None = None,
    data: Facts | None = None,
) -> CompatResult:
    """Check one driver against one CUDA version (and optionally a GPU model and MIG layout).

    ``minor_compat`` accepts a driver below the toolkit's own minimum when it is inside
    NVIDIA's minor-version-compatibility range for that CUDA major (with a warning about
    the limited feature set); by default the toolkit's minimum is required, which is what
    the seed platform's "one validated combination" lesson asks for.

    ``mig_strategy`` is the GPU Operator's MIG strategy, ``single`` or ``mixed``; None
    checks the layout as ``mixed`` does (any layout that fits the card).

    Raises ValueError for a malformed driver, CUDA version, MIG layout or MIG strategy.
    """
    data = _data(data)
    today = today or dt.date.today()
    version = DriverVersion.parse(driver)
    wanted = CudaVersion.parse(cuda)
    layout = parse_mig_layout(mig) if mig is not None else None
    strategy = check_mig_strategy(mig_strategy) if mig_strategy is not None else "mixed"
    result = CompatResult()

    branch = data.branch(version.branch)
    lifecycle = branch.lifecycle(today) if branch else f"R{version.branch}, not in gpu-drivers/data"
    who = f"pool {pool} pins {version} ({lifecycle})" if pool else f"driver {version} ({lifecycle})"
    subject = f"pool {pool} pins {version}" if pool else f"driver {version}"

    # -- how much driver the CUDA release needs --------------------------------------------
    toolkit = data.toolkit(wanted)
    needs: DriverVersion | int | None = None
    if toolkit is None:
        known = f"{data.toolkits[0].cuda} to {data.toolkits[-1].cuda}"
        result._add(
            "cuda-known",
            "error",
            f"CUDA {wanted} is not in NVIDIA's table as recorded in gpu-drivers/data/cuda_toolkits.yaml ({known}); "
            "use a CUDA release from that range or add its row with its source",
        )
    else:
        try:
            release = toolkit.release(wanted)
        except ValueError as exc:
            result._add("cuda-known", "error", f"{exc}; use one of those versions")
            release = None
        if release is not None:
            needs = toolkit.required_for(release)
            if release.min_driver_version is None:
                floor = f"driver >= {needs}" if isinstance(needs, DriverVersion) else f"branch R{needs} or newer"
                result._add(
                    "cuda-unverified",
                    "warning",
                    f"CUDA {wanted}: NVIDIA's exact minimum driver is not verified in gpu-drivers/data/cuda_toolkits.yaml; "
                    f"kubeforge requires {floor} until it is (see {toolkit.source})",
                )

    # -- the branch's lifecycle ---------------------------------------------------------------
    advice_target = needs if needs is not None else version
    if isinstance(advice_target, DriverVersion) and advice_target < version:
        advice_target = version
    elif isinstance(advice_target, int) and advice_target < version.branch:
        advice_target = version.branch
    if branch is None:
        result._add(
            "branch-known",
            "error",
            f"{subject} is on R{version.branch}, which gpu-drivers/data/driver_branches.yaml does not list, so its "
            f"lifecycle is unknown; {_pin_advice(advice_target, today, data)}, or add the branch with its source",
        )
    else:
        if branch.is_eol(today):
            message = (
                f"{who}: NVIDIA no longer maintains this branch; {_pin_advice(advice_target, today, data)}"
            )
            if allow_eol:
                result._add("branch-eol", "warning", f"{message} (accepted because end-of-life drivers are allowed)")
            else:
                result._add("branch-eol", "error", f"{message}, or allow end-of-life drivers explicitly")
        elif branch.type == "new-feature":
            result._add(
                "branch-new-feature",
                "warning",
                f"{who} is a new-feature branch, meant for early adoption rather than production; "
                f"{_pin_advice(advice_target, today, data)}",
            )
        elif branch.type == "unknown":
            result._add(
                "branch-unverified",
                "warning",
                f"{who}: its branch type and end of life are not recorded in gpu-drivers/data/driver_branches.yaml; "
                "verify them on NVIDIA's data-center driver lifecycle page",
            )

    # -- the GPU -------------------------------------------------------------------------------
    card = None
    if gpu is not None:
        card = data.gpu(gpu)
        if card is None:
            known = ", ".join(g.id for g in data.gpus)
            result._add("gpu-known", "error", f"GPU model {gpu!r} is not one kubeforge knows; use one of {known}")
        elif version.branch < card.min_branch:
            result._add(
                "gpu-supported",
                "error",
                f"{gpu} needs driver branch R{card.min_branch} or newer; {subject}; "
                f"{_pin_advice(card.min_branch, today, data)}",
            )

    # -- does the driver reach the CUDA release ---------------------------------------------
    if needs is not None:
        enough = version >= needs if isinstance(needs, DriverVersion) else version.branch >= needs
        needs_text = f">= {needs}" if isinstance(needs, DriverVersion) else f"branch R{needs} or newer"
        if enough and forward_compat:
            result._add(
                "forward-compat-unneeded",
                "warning",
                f"CUDA {wanted} needs driver {needs_text} and {subject}; forward compatibility is not needed",
            )
        elif not enough:
            _below_minimum(result, data, version, wanted, needs_text, who, subject, branch, card,
                           forward_compat, minor_compat, today, needs)

    # -- MIG ------------------------------------------------------------------------------------
    if layout is not None:
        if gpu is None:
            result._add("mig-layout", "error", f"a MIG layout needs the GPU model ({' or '.join(g.id for g in data.gpus)}) to check it against")
        elif card is not None:
            for message in check_mig_layout(gpu, layout, strategy=strategy, data=data):
                result._add("mig-layout", "error", f"pool {pool}: {message}" if pool else message)
    return result


def _below_minimum(result, data, version, wanted, needs_text, who, subject, branch, card,
                   forward_compat, minor_compat, today, needs) -> None:
    if forward_compat:
        package = data.forward_compat.package_for(wanted)
        if card is not None and not card.data_center:
            result._add("forward-compat", "error",
                        f"forward compatibility ({package}) works only on data-center GPUs; {card.id} is not one")
            return
        if branch is None or branch.is_eol(today):
            result._add(
                "forward-compat",
                "error",
                f"CUDA {wanted} needs driver {needs_text}; forward compatibility ({package}) is accepted only on a "
                f"supported branch and {who} is not one; {_pin_advice(needs, today, data)}",
            )
            return
        result._add(
            "forward-compat",
            "warning",
            f"CUDA {wanted} needs driver {needs_text}; {subject} runs it only through forward compatibility: "
            f"install {package} in the image and put its libraries first on LD_LIBRARY_PATH",
        )
        return
    window = data.minor_compat_for(wanted.major)
    in_window = window is not None and version >= window.min_version and window.covers_branch(version.branch)
    if minor_compat and in_window:
        result._add(
            "minor-compat",
            "warning",
            f"CUDA {wanted} needs driver {needs_text}; {subject} runs it only through CUDA {wanted.major}.x "
            f"minor version compatibility (driver >= {window.min_driver}), with a limited feature set: "
            "PTX newer than the driver cannot be JIT-compiled",
        )
        return
    hint = ""
    if in_window:
        hint = (f" (CUDA {wanted.major}.x minor version compatibility would accept it with a limited feature "
                "set; pass minor_compat / --minor-compat to allow that)")
    result._add("cuda-min-driver", "error",
                f"CUDA {wanted} needs driver {needs_text}; {who}; {_pin_advice(needs, today, data)}{hint}")


def check_pool(
    driver: str,
    cuda_versions: Iterable[str],
    *,
    mig_strategy: str | None = None,
    **options,
) -> CompatResult:
    """Check a pool's driver against every CUDA version offered on it; findings are merged.

    ``options`` are :func:`check`'s keywords; ``mig_strategy`` is passed through to it.
    """
    merged = CompatResult()
    for cuda in cuda_versions:
        for finding in check(driver, cuda, mig_strategy=mig_strategy, **options).findings:
            merged._add(finding.rule, finding.severity, finding.message)
    return merged
