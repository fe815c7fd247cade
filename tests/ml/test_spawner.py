"""The Jupyter spawner configuration: upstream's shape at the pinned release, kubeforge's content."""

from __future__ import annotations

import copy
import dataclasses
import re
from functools import lru_cache
from typing import Any

import pytest
import yaml

from components.cluster.gpu_nodes import GPU_TAINT, POOL_LABEL
from components.ml.spawner import POD_DEFAULT_LABELS, spawner_config
from kubeforge.config.checks import gpu_drivers_run_the_images
from kubeforge.config.loader import load_stack
from kubeforge.config.resolved import ResolvedStack, frozen
from kubeforge.gpu.compat import check
from tests.conftest import REFERENCE, ROOT
from tests.conftest import IDENTITY_SECRET, kubeflow_platform

# The file the Kubeflow community distribution 26.03 ships for the Jupyter web app v1.10.0
# (identical to kubeflow/kubeflow v1.10.0 components/crud-web-apps/jupyter/manifests/base/configs/).
UPSTREAM = REFERENCE / "kubeflow/26.03/applications/jupyter/jupyter-web-app/upstream/base/configs/spawner_ui_config.yaml"
STACKS = ("local", "aws-prod", "gcp-prod")

# Keys kubeforge's document has and upstream's does not, each with its reason. Nothing of
# upstream's may be missing. Item keys of a list are written ``list[].key``.
DOCUMENTED_ADDITIONS = {
    "spawnerFormDefaults.workspaceVolume.value.newPvc.spec.storageClassName":
        "new workspaces go on the platform's NAS class; upstream leaves it commented out (the "
        "cluster's default class)",
    **{f"spawnerFormDefaults.affinityConfig.options[].{key}":
        "one choice per GPU pool; upstream ships options: [] with this item shape commented out "
        "(frontend src/app/types/affinity.ts: configKey, displayName, affinity)"
       for key in ("configKey", "displayName", "affinity")},
    **{f"spawnerFormDefaults.tolerationGroup.options[].{key}":
        "a group tolerating the GPU nodes' taint; upstream ships options: [] with this item shape "
        "commented out (frontend src/app/types/toleration.ts: groupKey, displayName, tolerations)"
       for key in ("groupKey", "displayName", "tolerations")},
}
# Kubernetes objects the web app copies into the pod spec as they are (backend
# apps/common/form.py set_notebook_affinity, set_notebook_tolerations): not its own keys.
OPAQUE = {"spawnerFormDefaults.affinityConfig.options[].affinity",
          "spawnerFormDefaults.tolerationGroup.options[].tolerations"}


def _shape(node: Any, path: str = "") -> dict[str, set[type]]:
    """Every mapping key path in ``node`` with the types of its values; a list's items share
    the path ``list[]``."""
    out: dict[str, set[type]] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}" if path else key
            out.setdefault(child, set()).add(type(value))
            if child not in OPAQUE:
                for sub, types in _shape(value, child).items():
                    out.setdefault(sub, set()).update(types)
    elif isinstance(node, list):
        for item in node:
            for sub, types in _shape(item, f"{path}[]").items():
                out.setdefault(sub, set()).update(types)
    return out


def _differences(ours: dict, upstream: dict) -> dict[str, set[str]]:
    """Keys upstream lacks (beyond the documented ones), keys of upstream's we lack, and keys
    whose values' types differ from upstream's."""
    mine, theirs = _shape(ours), _shape(upstream)
    return {
        "undocumented": set(mine) - set(theirs) - set(DOCUMENTED_ADDITIONS),
        "missing": set(theirs) - set(mine),
        "retyped": {k for k in set(mine) & set(theirs) if mine[k] != theirs[k]},
    }


@lru_cache(maxsize=None)
def _stack(name: str) -> ResolvedStack:
    return load_stack(name, ROOT)


@pytest.fixture(scope="module")
def upstream() -> dict:
    if not UPSTREAM.is_file():
        pytest.skip(f"upstream reference files not available: {UPSTREAM} is absent")
    return yaml.safe_load(UPSTREAM.read_text())


def _defaults(name: str = "local") -> dict:
    return spawner_config(_stack(name))["spawnerFormDefaults"]


@pytest.mark.parametrize("name", STACKS)
def test_the_document_has_upstreams_keys_and_types_plus_only_documented_ones(name, upstream):
    assert _differences(spawner_config(_stack(name)), upstream) == {
        "undocumented": set(), "missing": set(), "retyped": set()}


def test_every_documented_difference_is_used_by_the_local_stack(upstream):
    # No stale entry: each documented key is one the document really adds.
    assert set(_shape(spawner_config(_stack("local")))) - set(_shape(upstream)) == set(DOCUMENTED_ADDITIONS)


def test_the_shape_check_fails_on_a_key_upstream_does_not_have(upstream):
    config = spawner_config(_stack("local"))
    config["spawnerFormDefaults"]["cpu"]["maxValue"] = "8"
    config["spawnerFormDefaults"]["gpus"]["value"]["vendors"][0]["icon"] = "nvidia.svg"
    assert _differences(config, upstream)["undocumented"] == {
        "spawnerFormDefaults.cpu.maxValue", "spawnerFormDefaults.gpus.value.vendors[].icon"}


def test_the_shape_check_fails_on_a_missing_key_or_another_type(upstream):
    config = spawner_config(_stack("local"))
    del config["spawnerFormDefaults"]["shm"]
    config["spawnerFormDefaults"]["cpu"]["value"] = 0.5
    found = _differences(config, upstream)
    assert found["missing"] == {"spawnerFormDefaults.shm", "spawnerFormDefaults.shm.readOnly",
                                "spawnerFormDefaults.shm.value"}
    assert found["retyped"] == {"spawnerFormDefaults.cpu.value"}


@pytest.mark.parametrize("name", STACKS)
def test_the_images_are_the_catalogs_notebook_images(name):
    stack = _stack(name)
    image = spawner_config(stack)["spawnerFormDefaults"]["image"]
    catalog = [i.image for i in stack.release.images.values() if i.role == "notebook" and i.ui == "jupyter"]
    assert image["options"] == catalog
    assert image["value"] == catalog[0]
    groups = spawner_config(stack)["spawnerFormDefaults"]
    assert groups["imageGroupOne"]["options"] == [i.image for i in stack.release.images.values() if i.ui == "vscode"]
    assert groups["imageGroupTwo"]["options"] == [i.image for i in stack.release.images.values() if i.ui == "rstudio"]


def test_the_release_offers_cpu_and_gpu_pytorch_and_tensorflow_notebooks():
    offered = {i.image.rsplit("/", 1)[-1]: i.cuda for i in _stack("local").release.images.values()
               if i.role == "notebook" and i.ui == "jupyter"}
    assert offered == {
        "jupyter-scipy:v1.10.0": None,
        "jupyter-pytorch-full:v1.10.0": None, "jupyter-pytorch-cuda-full:v1.10.0": "12.4",
        "jupyter-tensorflow-full:v1.10.0": None, "jupyter-tensorflow-cuda-full:v1.10.0": "12.3",
    }


@pytest.mark.parametrize("name", STACKS)
def test_every_offered_image_is_pinned_to_an_exact_tag(name):
    for image in _defaults(name)["image"]["options"]:
        assert "@" not in image
        assert re.fullmatch(r"[a-z0-9.-]+(/[a-z0-9._-]+)+:v\d+\.\d+\.\d+", image), image


@pytest.mark.parametrize("name", STACKS)
def test_every_gpu_pool_runs_the_cuda_of_every_notebook_image(name):
    stack = _stack(name)
    notebooks = [i for i in stack.release.images.values() if i.role == "notebook" and i.cuda]
    for pool in stack.gpu_pools.values():
        for image in notebooks:
            assert check(pool.driver, image.cuda, gpu=pool.model).ok, (pool.name, pool.driver, image.image)
    assert [p for p in gpu_drivers_run_the_images(stack) if not p.warning] == []


def test_the_image_pull_policy_is_pinned_read_only():
    assert _defaults()["imagePullPolicy"] == {"readOnly": True, "value": "IfNotPresent"}


def test_the_only_gpu_vendor_is_nvidia_and_no_gpu_is_the_default():
    assert _defaults()["gpus"] == {"readOnly": False, "value": {
        "vendor": "nvidia.com/gpu", "vendors": [{"limitsKey": "nvidia.com/gpu", "uiName": "NVIDIA"}], "num": "none"}}


@pytest.mark.parametrize("name", STACKS)
def test_new_workspaces_go_on_the_nas_readwritemany(name):
    spec = _defaults(name)["workspaceVolume"]["value"]["newPvc"]["spec"]
    assert spec["storageClassName"] == "kubeforge-nas"
    assert spec["accessModes"] == ["ReadWriteMany"]


def test_without_file_storage_new_workspaces_keep_upstreams_default_class():
    stack = _stack("local")
    storage = stack.storage.model_copy(update={"file": stack.storage.file.model_copy(update={"enabled": False})})
    config = spawner_config(dataclasses.replace(stack, storage=storage))["spawnerFormDefaults"]
    spec = config["workspaceVolume"]["value"]["newPvc"]["spec"]
    assert "storageClassName" not in spec
    assert spec["accessModes"] == ["ReadWriteOnce"]
    assert "kubeforge.io/nas" not in config["configurations"]["value"]


def test_gpu_nodes_taint_is_a_toleration_group_never_chosen_by_default():
    tolerations = _defaults()["tolerationGroup"]
    assert tolerations["value"] == ""
    (group,) = tolerations["options"]
    assert group["tolerations"] == [{"key": GPU_TAINT["key"], "operator": "Equal", "value": GPU_TAINT["value"],
                                     "effect": GPU_TAINT["effect"]}]


def test_each_gpu_pool_is_an_affinity_choice_by_its_pool_label():
    affinity = _defaults("gcp-prod")["affinityConfig"]
    assert affinity["value"] == ""
    pools = {}
    for option in affinity["options"]:
        (term,) = option["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
            "nodeSelectorTerms"]
        (expression,) = term["matchExpressions"]
        assert expression["key"] == POOL_LABEL and expression["operator"] == "In"
        pools[option["configKey"]] = expression["values"]
    assert pools == {"gpu-pool-a100-40": ["a100-40"], "gpu-pool-a100-80": ["a100-80"]}


def test_a_stack_without_gpu_pools_offers_no_gpu_toleration_or_pool():
    config = spawner_config(dataclasses.replace(_stack("local"), gpu_pools=frozen({})))["spawnerFormDefaults"]
    assert config["tolerationGroup"]["options"] == []
    assert config["affinityConfig"]["options"] == []


def _tenant_pod_default_labels(monkeypatch, project, onprem_platform, tenant_spec) -> tuple[ResolvedStack, dict]:
    """A Kubeflow-line on-prem stack whose tenant gets all three PodDefaults, resolved and
    recorded: PodDefault name -> its label."""
    from kubeforge.config.credentials import OBJECT_STORE_CREDENTIALS_KEY
    from tests.storage.helpers import CREDENTIALS

    platform = kubeflow_platform()
    # The same platform without the keys: a stack file may not hold them in clear text, and
    # the spawner does not read them.
    project.stack(platform, name="plain", extra=IDENTITY_SECRET)
    project.stack(platform, extra={OBJECT_STORE_CREDENTIALS_KEY: CREDENTIALS, **IDENTITY_SECRET}).tenant(
        "team-a", tenant_spec)
    graph = project.preview()
    labels = {}
    for r in graph.of_type("kubernetes:kubeflow.org/v1alpha1:PodDefault"):
        # The form offers a PodDefault by the first key of its selector (backend
        # apps/common/routes/get.py get_poddefaults).
        labels[r.inputs["metadata"]["name"]] = next(iter(r.inputs["spec"]["selector"]["matchLabels"]))
    return load_stack("plain", project.path), labels


def test_the_pod_default_labels_are_the_ones_tenants_get(monkeypatch, project, onprem_platform, tenant_spec):
    _, labels = _tenant_pod_default_labels(monkeypatch, project, onprem_platform, tenant_spec)
    assert labels == {f"team-a-{suffix}": label for suffix, label in POD_DEFAULT_LABELS.items()}


def test_the_nas_and_bucket_presets_are_preselected_but_not_the_gpu_toleration(
        monkeypatch, project, onprem_platform, tenant_spec):
    stack, labels = _tenant_pod_default_labels(monkeypatch, project, onprem_platform, tenant_spec)
    preselected = spawner_config(stack)["spawnerFormDefaults"]["configurations"]["value"]
    assert set(preselected) <= set(labels.values())
    # A GPU toleration on by default would let CPU-only notebooks onto GPU nodes.
    assert set(labels.values()) - set(preselected) == {"kubeforge.io/gpu"}


def test_no_preset_is_preselected_without_the_pod_defaults_webhook():
    stack = _stack("local")
    without = {k: v for k, v in stack.components.items() if k != "podDefaults"}
    config = spawner_config(dataclasses.replace(stack, components=frozen(without)))
    assert config["spawnerFormDefaults"]["configurations"]["value"] == []


def test_a_release_without_notebook_images_is_refused():
    stack = _stack("local")
    images = {k: v for k, v in stack.release.images.items() if v.role != "notebook"}
    release = stack.release.model_copy(update={"images": images})
    with pytest.raises(ValueError, match="no notebook image"):
        spawner_config(dataclasses.replace(stack, release=release))


def test_the_document_is_plain_yaml_and_fresh_on_every_call():
    config = spawner_config(_stack("local"))
    assert yaml.safe_load(yaml.safe_dump(config)) == config
    before = copy.deepcopy(config)
    config["spawnerFormDefaults"]["gpus"]["value"]["vendors"].append({"limitsKey": "amd.com/gpu", "uiName": "AMD"})
    assert spawner_config(_stack("local")) == before
