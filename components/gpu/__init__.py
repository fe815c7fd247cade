"""GPU enablement: the NVIDIA GPU Operator (device plugin, MIG manager, DCGM exporter, driver)
and, on GKE, the pinned driver through Google's COS installer."""
