"""Node validation suite: does this GPU node match the pool it belongs to?

    pytest gpu-drivers/validate --hosts=ssh://gpu-node-1 --stack aws-prod --pool a100
    pytest gpu-drivers/validate --hosts=local:// --driver 580.95.05 --cuda 12.8 \
        --gpu-model a100-80gb --gpu-count 8 --mig off

Hosts are reached by pytest-testinfra (local://, ssh://, kubectl://POD?namespace=NS&container=C);
every check runs read-only commands. See gpu-drivers/README.md.
"""

from __future__ import annotations

from functools import cached_property

import pytest

from kubeforge.gpu import node as smi
from kubeforge.gpu.expectations import ExpectationError, NodeExpectation, from_options, from_stack

_EXPECTATION = pytest.StashKey[NodeExpectation]()


def _add(group, *names, **kwargs) -> None:
    # An option another conftest or plugin already registered keeps its meaning; this
    # suite's value is then read from the same destination.
    try:
        group.addoption(*names, **kwargs)
    except ValueError:
        pass


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kubeforge-node", "kubeforge GPU node validation (gpu-drivers/validate)")
    _add(group, "--stack", help="read the expectations from this kubeforge stack (with --pool)")
    _add(group, "--pool", help="the node pool the node belongs to (with --stack)")
    _add(group, "--driver", help="driver version the node must run exactly, e.g. 580.95.05")
    _add(group, "--cuda", help="minimum CUDA version nvidia-smi must report, e.g. 12.8")
    _add(group, "--gpu-model", help="a100-40gb, a100-80gb, or an exact nvidia-smi GPU name")
    _add(group, "--gpu-count", type=int, help="number of GPUs the node must have")
    _add(group, "--mig", default=None, help='MIG layout every GPU must have, e.g. "3g.40gb,2g.20gb,1g.10gb*2", or "off"')
    _add(group, "--fabric-manager", default="auto", choices=["auto", "required", "absent"],
         help="auto: required on HGX A100 8-GPU (NVSwitch) nodes")
    _add(group, "--ecc-uncorrected-max", type=int, default=0,
         help="uncorrected ECC errors tolerated per GPU since the driver loaded (default 0)")


def pytest_configure(config: pytest.Config) -> None:
    opt = config.getoption
    if not opt("hosts", None):
        return  # gpu-drivers/conftest.py reports the missing host when the suite is collected
    try:
        if opt("stack", None) or opt("pool", None):
            if not (opt("stack", None) and opt("pool", None)):
                raise ExpectationError("--stack and --pool go together: name the stack and the pool the node belongs to")
            expectation = from_stack(
                opt("stack"), opt("pool"),
                ecc_uncorrected_max=opt("ecc_uncorrected_max", 0),
                fabric_manager=opt("fabric_manager", "auto"),
            )
        else:
            expectation = from_options(
                driver=opt("driver", None),
                cuda=opt("cuda", None),
                gpu_model=opt("gpu_model", None),
                gpu_count=opt("gpu_count", None),
                mig=opt("mig", None) or "off",
                fabric_manager=opt("fabric_manager", "auto"),
                ecc_uncorrected_max=opt("ecc_uncorrected_max", 0),
            )
    except ExpectationError as exc:
        raise pytest.UsageError(f"gpu-drivers/validate: {exc}") from None
    config.stash[_EXPECTATION] = expectation


def pytest_report_header(config: pytest.Config) -> str | None:
    expectation = config.stash.get(_EXPECTATION, None)
    return f"kubeforge node expectations ({expectation.describe()})" if expectation else None


class GpuNode:
    """What one host reports, each command run at most once."""

    def __init__(self, host):
        self.host = host

    def run(self, key: str):
        return self.host.run(smi.COMMANDS[key])

    def _ok(self, key: str) -> str:
        result = self.run(key)
        if result.rc != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            # A clean test failure (no traceback) in whichever test first needs the output.
            pytest.fail(
                f"`{smi.COMMANDS[key]}` failed on the node (exit {result.rc}"
                f"{': ' + detail[0] if detail else ''}); is the NVIDIA driver installed and loaded?",
                pytrace=False,
            )
        return result.stdout

    @cached_property
    def gpus(self) -> list[smi.Gpu]:
        return smi.parse_gpus(self._ok("query_gpu"))

    @cached_property
    def cuda(self) -> str | None:
        return smi.parse_cuda_version(self._ok("smi_q"))

    @cached_property
    def mig_instances(self) -> dict[int, dict[str, int]]:
        return smi.parse_mig_instances(self.run("mig_lgi").stdout)

    @cached_property
    def remapped_rows(self) -> list[smi.RemappedRows] | None:
        result = self.run("remapped_rows")
        return smi.parse_remapped_rows(result.stdout) if result.rc == 0 else None

    @cached_property
    def fabric_manager_state(self) -> str:
        return self.run("fabric_manager_active").stdout.strip() or "unknown"

    @cached_property
    def fabric_manager_version(self) -> tuple[int, str]:
        result = self.run("fabric_manager_version")
        return result.rc, result.stdout + result.stderr

    @cached_property
    def modules(self) -> set[str]:
        return smi.parse_lsmod(self._ok("lsmod"))

    @cached_property
    def container_toolkit(self):
        return self.run("container_toolkit")


_NODES: dict[str, GpuNode] = {}


@pytest.fixture
def expected(pytestconfig: pytest.Config) -> NodeExpectation:
    return pytestconfig.stash[_EXPECTATION]


@pytest.fixture
def gpu_node(host) -> GpuNode:
    key = host.backend.get_pytest_id()
    if key not in _NODES:
        _NODES[key] = GpuNode(host)
    return _NODES[key]


@pytest.fixture
def gpus(gpu_node: GpuNode) -> list[smi.Gpu]:
    return gpu_node.gpus


def _fail_if(problems: list[str]) -> None:
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def fail_if():
    """Fail the test with every problem as one sentence per line, without a traceback."""
    return _fail_if
