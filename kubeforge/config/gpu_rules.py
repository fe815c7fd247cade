"""Driver/CUDA/MIG rules applied to every GPU pool at config load (facts: gpu-drivers/)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeforge.errors import Problem

if TYPE_CHECKING:
    from kubeforge.config.loader import StackConfig


def check_gpu_pools(config: "StackConfig", source: str, prefix: str) -> list[Problem]:
    return []
