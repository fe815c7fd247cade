"""The ML stack: what Kubeflow's web apps offer a tenant (notebook images, GPUs, volumes, presets)."""
