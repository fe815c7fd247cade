"""GPU enablement: the NVIDIA GPU Operator (device plugin, MIG manager, DCGM exporter, driver)."""

from components.gpu.operator import GpuOperator, GpuOperatorArgs, driver_install_path

__all__ = ["GpuOperator", "GpuOperatorArgs", "driver_install_path"]
