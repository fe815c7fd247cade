"""The driver: the pinned version, new enough for the pool's CUDA, and loaded."""

import pytest

from kubeforge.gpu.versions import CudaVersion


def test_driver_version_equals_the_pin(gpus, expected, fail_if):
    found = sorted({g.driver for g in gpus})
    fail_if([f"driver {v} on the node, {expected.pins} pins {expected.driver}" for v in found if v != expected.driver])


def test_cuda_version_reported_by_nvidia_smi_reaches_the_minimum(gpu_node, expected, fail_if):
    if expected.cuda_min is None:
        pytest.skip("no minimum CUDA version given (--cuda, or --stack/--pool)")
    reported = gpu_node.cuda
    if reported is None:
        fail_if(["`nvidia-smi -q` printed no 'CUDA Version' line; the driver's user-space libraries may be missing"])
    elif CudaVersion.parse(reported) < CudaVersion.parse(expected.cuda_min):
        fail_if([
            f"nvidia-smi reports CUDA {reported} on the node; {expected.pins} needs CUDA {expected.cuda_min} or newer "
            f"for the images it offers; install driver {expected.driver}"
        ])


def test_nvidia_kernel_module_is_loaded(gpu_node, fail_if):
    if "nvidia" not in gpu_node.modules:
        fail_if([
            "kernel module nvidia is not loaded (lsmod); the driver is not built for the running kernel "
            "or the node was not rebooted after installing it"
        ])
