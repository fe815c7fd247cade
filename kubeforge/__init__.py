"""kubeforge: a multi-tenant GPU MLOps platform on Kubernetes, as one Pulumi program.

Package layout:
- ``kubeforge.config``: the typed stack configuration model and its loader (the edge
  where raw YAML becomes validated data);
- ``kubeforge.catalog``: the release catalog pinning every upstream component;
- ``kubeforge.machines``: GPU machine types per cloud, with vendor sources;
- ``kubeforge.gpu``: NVIDIA driver/CUDA/MIG facts and compatibility checks;
- ``kubeforge.engine``: the offline engine (Pulumi mock runtime that records the graph);
- ``kubeforge.cli``: the ``kubeforge`` command.
"""
