"""Stack configuration: the typed model (``model``) and the loader (``loader``)."""

from kubeforge.config.loader import (
    GpuPool,
    StackConfig,
    available_stacks,
    load_platform,
    load_stack,
    project_root,
    read_stack_config,
)

__all__ = [
    "GpuPool",
    "StackConfig",
    "available_stacks",
    "load_platform",
    "load_stack",
    "project_root",
    "read_stack_config",
]
