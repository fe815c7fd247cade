"""Driver/CUDA/MIG rules applied to every GPU pool at config load (facts: gpu-drivers/data/).

A pool's pinned driver must run the CUDA version of every image the catalog release
offers (notebook, training and serving images declare theirs), its branch must not be
past end of life unless the pool allows it, and its MIG layout must fit the card.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeforge.errors import Problem
from kubeforge.gpu.compat import check_pool

if TYPE_CHECKING:
    from kubeforge.config.loader import StackConfig


def offered_cuda_versions(config: "StackConfig") -> list[str]:
    return sorted({image.cuda for image in config.release.images.values()})


def check_gpu_pools(config: "StackConfig", source: str, prefix: str) -> tuple[list[Problem], list[str]]:
    """(errors, warnings) for every GPU pool of the stack."""
    problems: list[Problem] = []
    warnings: list[str] = []
    cudas = offered_cuda_versions(config)
    for name, pool in config.gpu_pools.items():
        spec = pool.spec
        path = f"{prefix}.nodePools.{name}"
        mig = spec.gpu.mig.layout if spec.gpu.mig else None
        try:
            result = check_pool(
                spec.driver, cudas, gpu=spec.gpu.model, mig=mig, allow_eol=spec.allow_eol_driver, pool=name
            )
        except ValueError as exc:
            key = "gpu.mig.layout" if mig and "MIG" in str(exc) else "driver"
            problems.append(Problem(source, f"{path}.{key}", str(exc), value=mig if key != "driver" else spec.driver))
            continue
        for finding in result.findings:
            key = "gpu.mig.layout" if finding.rule == "mig-layout" else "driver"
            if finding.severity == "error":
                problems.append(Problem(source, f"{path}.{key}", finding.message, has_value=False))
            else:
                warnings.append(f"{source}: {path}.{key}: {finding.message}")
    problems += _one_operator_setting(config, source, prefix)
    return problems, warnings


def _one_operator_setting(config: "StackConfig", source: str, prefix: str) -> list[Problem]:
    """The GPU Operator has one driver version and one MIG strategy for the whole cluster."""
    problems = []
    pools = config.gpu_pools
    operator_driver = config.driver_install_path == "operator"
    drivers = sorted({p.spec.driver for p in pools.values()})
    if operator_driver and len(drivers) > 1:
        problems.append(Problem(
            source, f"{prefix}.nodePools",
            f"the GPU Operator installs one driver for the whole cluster, but pools pin {', '.join(drivers)}; "
            "pin the same driver on every GPU pool", has_value=False,
        ))
    strategies = sorted({p.spec.gpu.mig.strategy for p in pools.values() if p.spec.gpu.mig})
    if len(strategies) > 1:
        problems.append(Problem(
            source, f"{prefix}.nodePools",
            "the GPU Operator has one MIG strategy for the whole cluster, but pools ask for "
            f"{' and '.join(strategies)}; use one", has_value=False,
        ))
    return problems
