"""The facts in gpu-drivers/data/ and the node expectations built from them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import yaml

from kubeforge.gpu.expectations import ExpectationError, from_options, from_stack
from kubeforge.gpu.facts import DATA_DIR, FactsError, facts, load_facts
from kubeforge.gpu.versions import CudaVersion


def test_the_projects_facts_load_with_the_ltsb_branch_and_cuda_rows():
    data = facts()
    assert data.branch(580).type == "ltsb"
    assert data.toolkit(CudaVersion.parse("12.8")).ga.min_driver == "570.26"


@pytest.mark.parametrize("name", sorted(p.name for p in DATA_DIR.glob("*.yaml")))
def test_every_row_of_every_fact_file_cites_a_url(name):
    def rows(node):
        if isinstance(node, dict):
            if "source" in node or "sources" in node:
                yield node
            for value in node.values():
                yield from rows(value)
        elif isinstance(node, list):
            for value in node:
                yield from rows(value)

    data = yaml.safe_load((DATA_DIR / name).read_text())
    cited = list(rows(data))
    assert cited, f"{name} has no rows with a source"
    for row in cited:
        urls = row.get("sources") or [row["source"]]
        assert all(str(u).startswith("https://") for u in urls), row


def test_every_toolkit_row_and_branch_row_has_a_source():
    data = facts()
    assert all(b.source for b in data.branches) and all(t.source for t in data.toolkits)


def test_a_malformed_fact_file_is_reported_with_its_path(tmp_path):
    for path in DATA_DIR.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "cuda_toolkits.yaml").write_text("toolkits:\n  - cuda: '12.8'\n    releases: []\n    source: x\n")
    with pytest.raises(FactsError, match="cuda_toolkits.yaml"):
        load_facts(tmp_path)


def test_native_cuda_of_a_branch_follows_nvidias_table():
    data = facts()
    assert data.native_cuda(580).cuda == "13.0" and data.native_cuda(535).cuda == "12.2"


# -- node expectations ------------------------------------------------------------------------------


def test_options_without_a_driver_are_rejected_with_what_to_pass():
    with pytest.raises(ExpectationError, match="pass --driver"):
        from_options(driver=None)


def test_fabric_manager_is_required_on_an_hgx_a100_8_gpu_node_even_with_a_gpu_missing():
    expectation = from_options(driver="580.95.05", gpu_model="a100-80gb", gpu_count=8)
    assert expectation.fabric_manager_required(["NVIDIA A100-SXM4-80GB"] * 7)


def test_fabric_manager_is_not_required_on_a_4_gpu_node():
    expectation = from_options(driver="580.95.05", gpu_model="a100-80gb", gpu_count=4)
    assert not expectation.fabric_manager_required(["NVIDIA A100-SXM4-80GB"] * 4)


def test_an_exact_gpu_name_is_accepted_as_the_model():
    expectation = from_options(driver="580.95.05", gpu_model="NVIDIA A100-PCIE-40GB")
    assert expectation.accepted_names() == ("NVIDIA A100-PCIE-40GB",)


def _stack(mig=None):
    pool = SimpleNamespace(driver="580.95.05", model="a100-80gb", gpus_per_node=8, mig=mig)
    images = {"nb": SimpleNamespace(cuda="12.8"), "train": SimpleNamespace(cuda="13.0")}
    return SimpleNamespace(gpu_pools={"a100": pool}, cpu_pools={"cpu": SimpleNamespace()},
                           release=SimpleNamespace(images=images))


def test_from_stack_reads_the_shipped_stack_of_the_project_it_runs_in(monkeypatch):
    from tests.conftest import ROOT

    monkeypatch.chdir(ROOT / "stacks")  # found upward, as the CLI finds it
    expectation = from_stack("aws-prod", "a100")
    assert (expectation.driver, expectation.gpu_count, expectation.mig) == ("580.159.03", 8, None)


def test_from_stack_reads_driver_gpus_mig_and_the_newest_image_cuda():
    mig = SimpleNamespace(strategy="mixed", layout="3g.40gb,2g.20gb,1g.10gb*2",
                          profiles={"3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 2})
    expectation = from_stack("aws-prod", "a100", load_stack=lambda name: _stack(mig))
    assert (expectation.driver, expectation.cuda_min, expectation.gpu_count, expectation.pins) == \
        ("580.95.05", "13.0", 8, "pool a100")
    assert expectation.mig == {"3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 2}


def test_from_stack_rejects_a_pool_that_is_not_a_gpu_pool():
    with pytest.raises(ExpectationError, match="not a GPU pool"):
        from_stack("aws-prod", "cpu", load_stack=lambda name: _stack())


def test_from_stack_names_the_pools_when_the_pool_is_unknown():
    with pytest.raises(ExpectationError, match="its pools are a100, cpu"):
        from_stack("aws-prod", "h100", load_stack=lambda name: _stack())
