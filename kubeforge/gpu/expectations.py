"""What a GPU node of a pool must show: the expectations the node validation suite checks.

Built either from command-line values (:func:`from_options`) or from a stack's config
(:func:`from_stack`, the one place that reads kubeforge's resolved stack model, so the
suite does not depend on its shape).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

from kubeforge.gpu.facts import Facts, facts
from kubeforge.gpu.mig import check_mig_layout, format_mig_layout, parse_mig_layout
from kubeforge.gpu.versions import CudaVersion, DriverVersion

FabricManagerMode = Literal["auto", "required", "absent"]


class ExpectationError(ValueError):
    """The expectations cannot be built; the message says which value and what fixes it."""


@dataclass(frozen=True)
class NodeExpectation:
    driver: str
    cuda_min: str | None
    gpu_model: str | None  # a kubeforge id (a100-80gb) or an exact nvidia-smi name
    gpu_count: int | None
    mig: dict[str, int] | None  # None: MIG must be off
    fabric_manager: FabricManagerMode = "auto"
    ecc_uncorrected_max: int = 0
    pins: str = "--driver"  # who sets the expectation, for messages: "pool a100" or "--driver"

    def accepted_names(self, data: Facts | None = None) -> tuple[str, ...] | None:
        if self.gpu_model is None:
            return None
        card = (data or facts()).gpu(self.gpu_model)
        return card.smi_names if card else (self.gpu_model,)

    def model_id(self, data: Facts | None = None) -> str | None:
        data = data or facts()
        if self.gpu_model is None:
            return None
        if data.gpu(self.gpu_model):
            return self.gpu_model
        card = data.gpu_by_smi_name(self.gpu_model)
        return card.id if card else None

    def fabric_manager_required(self, node_gpu_names: list[str], data: Facts | None = None) -> bool:
        """Whether Fabric Manager must run: by option, or (auto) on an HGX A100 8-GPU node.

        "auto" looks at both the expected count and what the node reports, so a node that
        has lost a GPU is still held to the Fabric Manager rule of its pool.
        """
        if self.fabric_manager != "auto":
            return self.fabric_manager == "required"
        data = data or facts()
        fm = data.fabric_manager
        expected_id = self.model_id(data)
        if expected_id and self.gpu_count and fm.required_for(expected_id, self.gpu_count):
            return True
        ids = {getattr(data.gpu_by_smi_name(n), "id", None) for n in node_gpu_names}
        return len(ids) == 1 and fm.required_for(ids.pop(), len(node_gpu_names)) is not None

    def describe(self) -> str:
        mig = "off" if self.mig is None else format_mig_layout(self.mig)
        return (
            f"{self.pins}: driver {self.driver}, CUDA >= {self.cuda_min or '(not checked)'}, "
            f"{self.gpu_count or '?'}x {self.gpu_model or '(any GPU)'}, MIG {mig}, "
            f"Fabric Manager {self.fabric_manager}, uncorrected ECC errors <= {self.ecc_uncorrected_max}"
        )


def from_options(
    *,
    driver: str | None,
    cuda: str | None = None,
    gpu_model: str | None = None,
    gpu_count: int | None = None,
    mig: str | None = "off",
    fabric_manager: str = "auto",
    ecc_uncorrected_max: int = 0,
    pins: str = "--driver",
    data: Facts | None = None,
) -> NodeExpectation:
    data = data or facts()
    if not driver:
        raise ExpectationError("say what the node must run: pass --driver (e.g. 580.95.05), or --stack and --pool")
    try:
        DriverVersion.parse(driver)
        if cuda:
            CudaVersion.parse(cuda)
        layout = None if mig in (None, "", "off") else parse_mig_layout(mig)
    except ValueError as exc:
        raise ExpectationError(str(exc)) from None
    if gpu_count is not None and gpu_count < 1:
        raise ExpectationError(f"--gpu-count {gpu_count} must be 1 or more")
    if fabric_manager not in ("auto", "required", "absent"):
        raise ExpectationError(f"--fabric-manager {fabric_manager!r} must be auto, required or absent")
    if ecc_uncorrected_max < 0:
        raise ExpectationError(f"--ecc-uncorrected-max {ecc_uncorrected_max} must be 0 or more")
    expectation = NodeExpectation(
        driver=driver,
        cuda_min=cuda,
        gpu_model=gpu_model,
        gpu_count=gpu_count,
        mig=layout,
        fabric_manager=fabric_manager,  # type: ignore[arg-type]
        ecc_uncorrected_max=ecc_uncorrected_max,
        pins=pins,
    )
    model_id = expectation.model_id(data)
    if layout is not None and model_id is not None:
        errors = check_mig_layout(model_id, layout, data=data)
        if errors:
            raise ExpectationError("; ".join(errors))
    return expectation


def _default_stack_loader() -> Callable[[str], Any]:
    """Load a stack of the project the suite runs in (found as the CLI finds it)."""
    from kubeforge.config.loader import load_stack  # noqa: PLC0415 - only needed with --stack
    from kubeforge.config.project import find_project  # noqa: PLC0415

    return lambda stack: load_stack(stack, find_project())


def _required_cuda(config: Any, pool: str) -> str | None:
    """The newest CUDA among the images the catalog release offers on GPU pools."""
    release = getattr(config, "release", None)
    images = getattr(release, "images", None) or {}
    versions = [CudaVersion.parse(img.cuda) for img in images.values() if getattr(img, "cuda", None)]
    return str(max(versions)) if versions else None


def from_stack(stack: str, pool: str, *, load_stack: Callable[[str], Any] | None = None,
               ecc_uncorrected_max: int = 0, fabric_manager: str = "auto") -> NodeExpectation:
    """Expectations for a node of ``pool`` in ``stack``, read from the stack's config.

    ``load_stack`` defaults to :func:`kubeforge.config.load_stack`; tests pass their own.
    """
    loader = load_stack or _default_stack_loader()
    try:
        config = loader(stack)
    except Exception as exc:  # the loader's own errors already say what is wrong
        raise ExpectationError(f"stack {stack!r} could not be loaded: {exc}") from None
    gpu_pools = getattr(config, "gpu_pools", None) or {}
    if pool not in gpu_pools:
        cpu_pools = getattr(config, "cpu_pools", None) or {}
        if pool in cpu_pools:
            raise ExpectationError(f"pool {pool!r} of stack {stack!r} is not a GPU pool (it has no 'gpu')")
        pools = sorted({*gpu_pools, *cpu_pools})
        raise ExpectationError(f"stack {stack!r} has no node pool {pool!r}; its pools are {', '.join(pools) or 'none'}")
    spec = gpu_pools[pool]
    if spec.mig is None:
        mig = "off"
    elif spec.mig.profiles:
        mig = format_mig_layout(dict(spec.mig.profiles))
    else:
        mig = spec.mig.layout
    return from_options(
        driver=spec.driver,
        cuda=_required_cuda(config, pool),
        gpu_model=spec.model,
        gpu_count=spec.gpus_per_node,
        mig=mig,
        fabric_manager=fabric_manager,
        ecc_uncorrected_max=ecc_uncorrected_max,
        pins=f"pool {pool}",
    )
