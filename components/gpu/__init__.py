"""GPU enablement: the NVIDIA GPU Operator (device plugin, MIG manager, DCGM exporter, driver)
and, on GKE, the pinned driver through Google's COS installer."""

from components.gpu.cos_driver import CosDriverInstaller, CosDriverInstallerArgs
from components.gpu.operator import GpuOperator, GpuOperatorArgs

__all__ = ["CosDriverInstaller", "CosDriverInstallerArgs", "GpuOperator", "GpuOperatorArgs"]
