"""GPU driver/CUDA facts, the pre-deploy compatibility check, and node-validation helpers.

Facts live in gpu-drivers/data/; :mod:`kubeforge.gpu.compat` applies them,
:mod:`kubeforge.gpu.cli` exposes ``kubeforge gpu``, :mod:`kubeforge.gpu.node` parses what a
GPU node prints, and :mod:`kubeforge.gpu.expectations` says what a node of a pool must show.
"""
