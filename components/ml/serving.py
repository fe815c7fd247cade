"""KServe from the distribution's manifests, raw deployment by default, with kubeforge's GPU runtimes.

The distribution configures KServe for Knative (``defaultDeploymentMode: Serverless`` in the
``inferenceservice-config`` ConfigMap, applications/kserve/kserve/kserve_kubeflow.yaml at
26.03). kubeforge makes raw deployment ("Standard" in v0.16.0; the ConfigMap's own
documentation) the default, so an InferenceService becomes a Deployment and a Service in the
tenant's namespace, and needs no Knative. ``components.kserve.deploymentMode: Serverless``
installs Knative Serving from the distribution's manifests (:class:`KnativeServing`) and
makes that the default: a model scales to zero between requests.
KServe's per-model Ingress (plain HTTP on ``<model>-<namespace>.<ingressDomain>``) is turned
off: a model is reached inside the cluster at ``<name>-predictor.<namespace>`` until the
platform's gateway routes to models (docs/UPGRADE.md, known limits).

Both keys are written whole with a server-side-apply patch after the manifests; the other
keys of that ConfigMap stay the distribution's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.access.gateway import GATEWAY_NAME
from components.cluster.gpu_nodes import gpu_toleration
from components.component import ClusterAccess, PlatformComponent
from components.helm import custom_resource, manifest_set
from components.labels import recommended_labels
from components.ml.upstream import KubeflowApp
from kubeforge.config.resolved import ResolvedComponent, ResolvedStack

CONFIG_MAP = "inferenceservice-config"
TRITON_RUNTIME = "kubeforge-triton"
VLLM_RUNTIME = "kubeforge-huggingface-vllm"
TRITON_REPOSITORY = "nvcr.io/nvidia/tritonserver"
VLLM_REPOSITORY = "kserve/huggingfaceserver"


@dataclass(frozen=True)
class ServingArgs:
    component: ResolvedComponent
    """The pinned KServe and models web app manifests."""
    triton_image: str
    """The catalog's Triton image (exact tag, CUDA checked against every GPU pool)."""
    vllm_image: str
    """The catalog's KServe Hugging Face server GPU image, with vLLM (exact tag, CUDA checked)."""
    gateway_namespace: str
    """Kubeflow's namespace, where the platform's Gateway lives."""
    deployment_mode: str
    """components.kserve.deploymentMode: Standard (raw deployment) or Serverless (Knative)."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


def deploy_config(mode: str) -> dict[str, Any]:
    return {"defaultDeploymentMode": mode}


def ingress_config(gateway_namespace: str) -> dict[str, Any]:
    """The distribution's ingress settings, with KServe's own per-model Ingress off."""
    return {
        "enableGatewayApi": False,
        "kserveIngressGateway": "kserve/kserve-ingress-gateway",
        "ingressGateway": f"{gateway_namespace}/{GATEWAY_NAME}",
        "localGateway": "knative-serving/knative-local-gateway",
        "localGatewayService": "knative-local-gateway.istio-system.svc.cluster.local",
        "ingressDomain": "example.com",
        "ingressClassName": "istio",
        "domainTemplate": "{{ .Name }}-{{ .Namespace }}.{{ .IngressDomain }}",
        "urlScheme": "http",
        "disableIstioVirtualHost": False,
        "disableIngressCreation": True,
    }


def triton_runtime_spec(image: str) -> dict[str, Any]:
    """Triton on one GPU for the formats it serves; the GPU nodes' taint tolerated.
    Ref: https://kserve.github.io/website/docs/model-serving/predictive-inference/frameworks/triton/
    (the distribution's kserve-tritonserver runs nvcr.io/nvidia/tritonserver:23.05-py3, CUDA 12.1)."""
    return {
        "annotations": {"prometheus.kserve.io/port": "8002", "prometheus.kserve.io/path": "/metrics"},
        "supportedModelFormats": [
            {"name": name, "version": version, "autoSelect": True}
            for name, version in (("tensorrt", "8"), ("onnx", "1"), ("pytorch", "1"), ("triton", "2"))
        ],
        "protocolVersions": ["v2", "grpc-v2"],
        "tolerations": [gpu_toleration()],
        "containers": [{
            "name": "kserve-container",
            "image": image,
            "args": ["tritonserver", "--model-store=/mnt/models", "--grpc-port=9000", "--http-port=8080",
                     "--allow-grpc=true", "--allow-http=true"],
            "resources": {"requests": {"cpu": "1", "memory": "4Gi", "nvidia.com/gpu": "1"},
                          "limits": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}},
        }],
    }


def vllm_runtime_spec(image: str) -> dict[str, Any]:
    """KServe's Hugging Face server on one GPU with its vLLM backend; the GPU nodes' taint tolerated.

    The distribution's ``kserve-huggingfaceserver`` runs the CPU image and stays the one
    auto-selected for the ``huggingface`` format; this runtime holds a GPU, so a model asks
    for it by name (``runtime: kubeforge-huggingface-vllm``).
    Ref: kserve v0.16.0 python/huggingfaceserver/huggingfaceserver/__main__.py (``--backend``
    auto|vllm|huggingface; vLLM 0.9.2 in python/huggingface_server.Dockerfile, published as
    ``kserve/huggingfaceserver:<tag>-gpu`` by .github/workflows/huggingface-docker-publish.yml);
    https://kserve.github.io/website/docs/model-serving/generative-inference/overview"""
    return {
        "annotations": {"prometheus.kserve.io/port": "8080", "prometheus.kserve.io/path": "/metrics"},
        "supportedModelFormats": [{"name": "huggingface", "version": "1", "autoSelect": False}],
        "protocolVersions": ["v2", "v1"],
        "tolerations": [gpu_toleration()],
        "containers": [{
            "name": "kserve-container",
            "image": image,
            "args": ["--model_name={{.Name}}", "--backend=vllm"],
            "resources": {"requests": {"cpu": "2", "memory": "16Gi", "nvidia.com/gpu": "1"},
                          "limits": {"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": "1"}},
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                "privileged": False, "runAsNonRoot": True},
            # vLLM's workers share tensors through /dev/shm (as the distribution's runtime mounts it).
            "volumeMounts": [{"name": "devshm", "mountPath": "/dev/shm"}],
        }],
        "volumes": [{"name": "devshm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}}],
    }


class KnativeServing(KubeflowApp):
    """Knative Serving with net-istio on the platform's gateway, and Istio's cluster-local
    gateway: what KServe's serverless mode runs on (off unless deploymentMode is Serverless)."""

    key = "knative"
    type_token = "kubeforge:ml:KnativeServing"
    section = "components.knative"
    # Its manifests create their namespace; they hold Istio Gateways and AuthorizationPolicies.
    depends_on = ("istio",)


class Serving(PlatformComponent):
    """KServe (raw deployment) and its models web app, with Triton and vLLM runtimes on GPUs."""

    key = "kserve"
    type_token = "kubeforge:ml:Serving"
    section = "components.kserve"
    # Its webhook serving certificate (cert-manager), the web app's VirtualService (Istio).
    depends_on = ("namespaces", "certManager", "istio")
    # KServe's controller enables serverless only if the Knative Service CRD exists when it starts.
    after = ("knative",)
    args_type = ServingArgs
    concern = "ml"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, ServingArgs]:
        component = stack.components.get(cls.key)
        if component is None:
            return {}
        return {cls.default_name(): ServingArgs(
            component=component, triton_image=stack.workload_image("serving", TRITON_REPOSITORY),
            vllm_image=stack.workload_image("serving", VLLM_REPOSITORY),
            gateway_namespace=stack.components["kubeflowCommon"].namespace,
            deployment_mode=component.settings.deployment_mode, provider=cluster.provider,
        )}

    @classmethod
    def default_name(cls) -> str:
        return "serving"

    def __init__(self, name: str, args: ServingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        self.manifests = manifest_set(f"{name}-manifests", args.component, provider=args.provider,
                                      opts=pulumi.ResourceOptions(parent=self))
        after = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=self.manifests)
        k8s.core.v1.ConfigMapPatch(
            f"{name}-config",
            metadata={"name": CONFIG_MAP, "namespace": args.component.namespace, "annotations": {
                "pulumi.com/patchForce": "true", "kubeforge.io/kserve-version": args.component.version}},
            data={"deploy": json.dumps(deploy_config(args.deployment_mode)), "ingress": json.dumps(ingress_config(args.gateway_namespace))},
            opts=after,
        )
        custom_resource(f"{name}-triton", "serving.kserve.io/v1alpha1", "ClusterServingRuntime", name=TRITON_RUNTIME,
                        namespace=None, labels=recommended_labels(name="kserve", instance=name, component=self.concern),
                        spec=triton_runtime_spec(args.triton_image), opts=after)
        custom_resource(f"{name}-vllm", "serving.kserve.io/v1alpha1", "ClusterServingRuntime", name=VLLM_RUNTIME,
                        namespace=None, labels=recommended_labels(name="kserve", instance=name, component=self.concern),
                        spec=vllm_runtime_spec(args.vllm_image), opts=after)
        self.register_outputs({"version": args.component.version, "runtimes": [TRITON_RUNTIME, VLLM_RUNTIME]})
