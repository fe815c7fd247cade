"""The NVIDIA Container Toolkit, which gives containers the GPUs."""

from kubeforge.gpu import node as smi


def test_nvidia_container_toolkit_is_installed(gpu_node, fail_if):
    result = gpu_node.container_toolkit
    if result.rc != 0 or smi.parse_container_toolkit_version(result.stdout) is None:
        fail_if([
            f"nvidia-container-toolkit is not installed on the node (`nvidia-ctk --version` exit {result.rc}); "
            "install it, or enable the GPU Operator's toolkit component"
        ])
