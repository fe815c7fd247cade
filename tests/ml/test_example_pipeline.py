"""examples/pipeline.py compiles with the SDK of the pinned Pipelines, runs only the catalog's
image, asks for one GPU where it trains, tolerates the GPU nodes and takes the NAS preset."""

from __future__ import annotations

import importlib.util

import yaml

from components.cluster.gpu_nodes import GPU_TAINT
from components.ml.spawner import POD_DEFAULT_LABELS
from kubeforge.config.loader import load_stack
from tests.conftest import ROOT


def _compiled(tmp_path) -> list[dict]:
    spec = importlib.util.spec_from_file_location("example_pipeline", ROOT / "examples" / "pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "pipeline.yaml"
    module.compiler.Compiler().compile(module.train_on_gpu, str(out))
    return list(yaml.safe_load_all(out.read_text()))


def test_the_pipeline_runs_only_the_catalogs_training_image(tmp_path):
    pipeline = _compiled(tmp_path)[0]
    executors = pipeline["deploymentSpec"]["executors"]
    images = {e["container"]["image"] for e in executors.values()}
    release = load_stack("local", ROOT).release
    assert images == {i.image for i in release.images.values() if i.role == "training" and "pytorch" in i.image}


def test_the_training_step_gets_one_gpu_the_taints_toleration_and_the_nas_preset(tmp_path):
    pipeline, platform = _compiled(tmp_path)
    (trainer,) = [e["container"] for name, e in pipeline["deploymentSpec"]["executors"].items() if "train" in name]
    accelerator = trainer["resources"]["accelerator"]
    assert accelerator["resourceType"] == "nvidia.com/gpu" and accelerator["resourceCount"] == "1"
    config = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-train"]
    (toleration,) = config["tolerations"]
    assert {toleration[k] for k in ("key", "operator", "value", "effect")} == {
        GPU_TAINT["key"], "Equal", GPU_TAINT["value"], GPU_TAINT["effect"]}
    assert config["podMetadata"]["labels"] == {POD_DEFAULT_LABELS["nas"]: "true"}
