"""Serving: KServe in raw deployment mode, kubeforge's Triton runtime on GPUs, and the example."""

from __future__ import annotations

import json

import pytest
import yaml

from components.cluster.gpu_nodes import GPU_TAINT
from components.ml.serving import CONFIG_MAP, TRITON_RUNTIME, VLLM_RUNTIME, triton_runtime_spec, vllm_runtime_spec
from kubeforge.config.loader import load_stack
from tests.conftest import ROOT
from tests.crd_schemas import validate_custom_resource

# KServe v0.16.0's CRDs are not in ../shared/reference; an object valid against both
# neighbours (v0.15.2 in extra/, v0.20.0 in the main set) uses no field either lacks.
NEIGHBOURS = ("kserve-v0.15.2", None)


def _patch(graph) -> dict:
    (patch,) = graph.of_type("kubernetes:core/v1:ConfigMapPatch")
    return patch.inputs


def test_raw_deployment_is_the_default_and_kserve_creates_no_plain_http_ingress(local_graph):
    patch = _patch(local_graph)
    assert patch["metadata"] == {"name": CONFIG_MAP, "namespace": "kubeflow", "annotations": {
        "pulumi.com/patchForce": "true", "kubeforge.io/kserve-version": "v0.16.0"}}
    assert json.loads(patch["data"]["deploy"]) == {"defaultDeploymentMode": "Standard"}
    ingress = json.loads(patch["data"]["ingress"])
    assert ingress["disableIngressCreation"] is True
    assert ingress["ingressGateway"] == "kubeflow/kubeflow-gateway"


def test_the_config_is_patched_after_kserves_manifests(local_graph):
    (patch,) = local_graph.of_type("kubernetes:core/v1:ConfigMapPatch")
    manifests = {r.urn for r in local_graph.of_type("kubernetes:kustomize/v2:Directory")
                 if r.name.startswith("serving-manifests")}
    assert len(manifests) == 2 and manifests <= set(patch.dependencies)


@pytest.mark.parametrize(("runtime_name", "server"), [(TRITON_RUNTIME, "nvcr.io/nvidia/tritonserver"),
                                                      (VLLM_RUNTIME, "kserve/huggingfaceserver")])
def test_each_gpu_runtime_runs_the_catalogs_cuda_image_on_one_gpu(local_graph, runtime_name, server):
    stack = load_stack("local", ROOT)
    runtimes = {r.inputs["metadata"]["name"]: r
                for r in local_graph.of_type("kubernetes:serving.kserve.io/v1alpha1:ClusterServingRuntime")}
    assert set(runtimes) == {TRITON_RUNTIME, VLLM_RUNTIME}
    runtime = runtimes[runtime_name]
    (container,) = runtime.inputs["spec"]["containers"]
    (image,) = [i for i in stack.release.images.values() if i.image == container["image"]]
    assert image.image.startswith(server + ":") and image.role == "serving" and image.cuda
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert runtime.inputs["spec"]["tolerations"][0]["key"] == GPU_TAINT["key"]


def test_the_vllm_runtime_is_asked_for_by_name_and_uses_the_vllm_backend():
    spec = vllm_runtime_spec("kserve/huggingfaceserver:v0.16.0-gpu")
    # The distribution's CPU runtime stays the default for the format: a GPU is never taken unasked.
    assert spec["supportedModelFormats"] == [{"name": "huggingface", "version": "1", "autoSelect": False}]
    assert "--backend=vllm" in spec["containers"][0]["args"]


@pytest.mark.parametrize("extra", NEIGHBOURS, ids=["v0.15.2", "v0.20.0"])
def test_the_runtimes_and_the_example_validate_against_kserves_crds(extra):
    for name, spec in ((TRITON_RUNTIME, triton_runtime_spec("x:1")), (VLLM_RUNTIME, vllm_runtime_spec("x:1"))):
        validate_custom_resource({"apiVersion": "serving.kserve.io/v1alpha1", "kind": "ClusterServingRuntime",
                                  "metadata": {"name": name}, "spec": spec}, extra)
    service, route = yaml.safe_load_all((ROOT / "examples" / "serve-triton-gpu.yaml").read_text())
    validate_custom_resource(service, extra)
    validate_custom_resource(route)


def test_the_example_uses_kubeforges_runtime_one_gpu_and_the_tenants_nas():
    example, _ = yaml.safe_load_all((ROOT / "examples" / "serve-triton-gpu.yaml").read_text())
    model = example["spec"]["predictor"]["model"]
    assert model["runtime"] == TRITON_RUNTIME
    assert model["resources"]["limits"]["nvidia.com/gpu"] == "1"
    # The tenant's NAS claim is <tenant>-nas (components/storage/tenant.py).
    assert model["storageUri"].startswith("pvc://TENANT-nas/")


@pytest.fixture(scope="module")
def serverless_graph(tmp_path_factory):
    from tests.conftest import TENANT, Project, variant

    def serverless(platform):
        platform.setdefault("components", {}).update(
            kserve={"deploymentMode": "Serverless"}, knative={"enabled": True})
    return variant(Project(tmp_path_factory.mktemp("serverless")), TENANT, "aws-prod", serverless).preview()


def test_knative_is_not_installed_for_raw_deployment(local_graph):
    assert not [r for r in local_graph.of_type("kubernetes:kustomize/v2:Directory") if "knative" in r.inputs["directory"]]
    namespaces = {r.inputs["metadata"]["name"] for r in local_graph.of_type("kubernetes:core/v1:Namespace")}
    assert "knative-serving" not in namespaces


def test_serverless_mode_installs_knative_and_the_cluster_local_gateway_at_the_distributions_pin(serverless_graph):
    directories = sorted(r.inputs["directory"] for r in serverless_graph.of_type("kubernetes:kustomize/v2:Directory")
                         if r.name.startswith("knative-manifests"))
    assert directories == [
        "https://github.com/kubeflow/community-distribution//common/istio/cluster-local-gateway/base?ref=26.03",
        "https://github.com/kubeflow/community-distribution//common/knative/knative-serving/overlays/gateways?ref=26.03",
    ]
    # Knative's manifests create their own namespace: kubeforge does not create it a second time.
    namespaces = {r.inputs["metadata"]["name"] for r in serverless_graph.of_type("kubernetes:core/v1:Namespace")}
    assert "knative-serving" not in namespaces


def test_serverless_mode_is_kserves_default_once_knative_is_there(serverless_graph):
    patch = _patch(serverless_graph)
    assert json.loads(patch["data"]["deploy"]) == {"defaultDeploymentMode": "Serverless"}
    knative = {r.urn for r in serverless_graph.of_type("kubernetes:kustomize/v2:Directory")
               if r.name.startswith("knative-manifests")}
    assert knative and knative <= set(serverless_graph.named("serving").dependencies)
    istio = serverless_graph.named("istio")
    assert set(serverless_graph.named("knative").dependencies) & {istio.urn, *(r.urn for r in serverless_graph.children(istio.urn))}
