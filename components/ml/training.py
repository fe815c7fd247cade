"""Kubeflow Trainer v2 from the distribution's manifests, and kubeforge's ClusterTrainingRuntimes
that gang-schedule every TrainJob with Volcano in the tenant's queue: PyTorch distributed, and
the MPI runtimes Trainer v2.1.0 ships, DeepSpeed and MLX.

The runtimes the distribution ships (torch-distributed, deepspeed-distributed, ...) set no
``podGroupPolicy`` and no scheduler (applications/trainer/upstream/base/runtimes at 26.03), so
their pods go to the default scheduler one by one. kubeforge's runtime differs in what makes
a multi-node job safe on a shared GPU pool:

- ``podGroupPolicy.volcano``: Trainer's Volcano plugin creates a PodGroup named after the
  TrainJob with minMember = every pod, and annotates the pods with it
  (pkg/runtime/framework/plugins/volcano/volcano.go at v2.1.0);
- ``schedulerName: volcano`` in the pod template, which the plugin does not set itself;
- no queue: the PodGroup starts in ``default`` and Volcano's PodGroup webhook moves it to the
  queue the tenant's namespace names (``scheduling.volcano.sh/queue-name``, components/tenancy),
  where kubeforge's admission policy holds it (components/tenancy/queue_policy.py);
- the GPU nodes' taint tolerated, and no Istio sidecar: NCCL traffic between the job's pods
  does not go through Envoy, and a sidecar would keep a finished pod running;
- the image from the catalog (role training), whose CUDA every GPU pool's driver is checked against.

The MPI runtimes (``kubeforge-deepspeed-distributed``, ``kubeforge-mlx-distributed``) keep the
shape Trainer's MPI plugin expects (manifests/base/runtimes/{deepspeed,mlx}_distributed.yaml
at v2.1.0): a ``launcher`` job that also runs as a node, ``node`` jobs running sshd on 2222 as
``mpiuser`` (uid 1000), OpenMPI, and success when the launcher succeeds. The torchtune runtimes
(single-node LLM fine-tuning with initializers) stay the distribution's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.gpu_nodes import gpu_toleration
from components.component import ClusterAccess, PlatformComponent
from components.helm import custom_resource, manifest_set
from components.labels import recommended_labels
from components.ml.upstream import KubeflowApp, KubeflowAppArgs
from kubeforge.config.resolved import ResolvedComponent, ResolvedStack

TORCH_RUNTIME = "kubeforge-torch-distributed"
TORCH_REPOSITORY = "pytorch/pytorch"
# Trainer v2.1.0's MPI runtimes: the framework label -> the image repository the catalog pins.
MPI_RUNTIMES = {"deepspeed": "ghcr.io/kubeflow/trainer/deepspeed-runtime", "mlx": "ghcr.io/kubeflow/trainer/mlx-runtime"}
ANCESTOR_LABEL = "trainer.kubeflow.org/trainjob-ancestor-step"
TRAINER_API = "trainer.kubeflow.org/v1alpha1"


@dataclass(frozen=True)
class TrainingArgs:
    component: ResolvedComponent
    """The pinned Trainer manifests (controller, CRDs, JobSet, the distribution's runtimes)."""
    torch_image: str
    """The catalog's PyTorch training image (exact tag, CUDA checked against the pools)."""
    mpi_images: Mapping[str, str]
    """framework (deepspeed, mlx) -> the catalog's image of Trainer's MPI runtime for it."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


def _gang_pod(container: dict[str, Any]) -> dict[str, Any]:
    """A job's pod template: Volcano's scheduler, the GPU taint tolerated, no Istio sidecar."""
    return {
        "metadata": {"annotations": {"sidecar.istio.io/inject": "false"}},
        "spec": {"schedulerName": "volcano", "tolerations": [gpu_toleration()], "containers": [container]},
    }


def torch_runtime_spec(image: str) -> dict[str, Any]:
    """A ClusterTrainingRuntime spec for torchrun across nodes, gang-scheduled by Volcano.
    Ref: ../shared/reference/crds/extra/trainer-v2.1.0/trainer.kubeflow.org_clustertrainingruntimes.yaml"""
    pod = _gang_pod({"name": "node", "image": image})
    return {
        "mlPolicy": {"numNodes": 1, "torch": {"numProcPerNode": "auto"}},
        "podGroupPolicy": {"volcano": {}},
        "template": {"spec": {"replicatedJobs": [{
            "name": "node",
            "template": {
                # Trainer's torch plugin finds the trainer job by this label (v2.1.0 constants.go).
                "metadata": {"labels": {ANCESTOR_LABEL: "trainer"}},
                "spec": {"template": pod},
            },
        }]}},
    }


def mpi_runtime_spec(image: str) -> dict[str, Any]:
    """An MPI ClusterTrainingRuntime spec (DeepSpeed, MLX) across nodes, gang-scheduled by Volcano:
    the launcher and every node start together, or none does."""
    node = {"name": "node", "image": image, "securityContext": {"runAsUser": 1000}}
    sshd = {**node, "command": ["/usr/sbin/sshd"], "args": ["-De", "-f", "/home/mpiuser/.sshd_config"],
            "readinessProbe": {"tcpSocket": {"port": 2222}, "initialDelaySeconds": 5}}
    return {
        "mlPolicy": {"numNodes": 1, "mpi": {"numProcPerNode": 1, "mpiImplementation": "OpenMPI",
                                            "sshAuthMountPath": "/home/mpiuser/.ssh", "runLauncherAsNode": True}},
        "podGroupPolicy": {"volcano": {}},
        "template": {"spec": {
            "network": {"publishNotReadyAddresses": True},
            "successPolicy": {"operator": "All", "targetReplicatedJobs": ["launcher"]},
            "replicatedJobs": [
                {"name": "launcher", "template": {"metadata": {"labels": {ANCESTOR_LABEL: "trainer"}},
                                                  "spec": {"template": _gang_pod(node)}}},
                {"name": "node", "template": {"spec": {"template": _gang_pod(sshd)}}},
            ],
        }},
    }


def mpi_runtime_name(framework: str) -> str:
    return f"kubeforge-{framework}-distributed"


class Training(PlatformComponent):
    """Kubeflow Trainer (TrainJobs) with kubeforge's Volcano-scheduled PyTorch runtime."""

    key = "training"
    type_token = "kubeforge:ml:Training"
    section = "components.training"
    # The Trainer controller watches Volcano's PodGroups only if their CRD exists when it
    # starts (pkg/runtime/framework/plugins/volcano at v2.1.0): Volcano first.
    depends_on = ("namespaces", "volcano")
    args_type = TrainingArgs
    concern = "ml"

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, TrainingArgs]:
        component = stack.components.get(cls.key)
        if component is None:
            return {}
        return {cls.default_name(): TrainingArgs(
            component=component, torch_image=stack.workload_image("training", TORCH_REPOSITORY),
            mpi_images={framework: stack.workload_image("training", repository)
                        for framework, repository in MPI_RUNTIMES.items()},
            provider=cluster.provider,
        )}

    def __init__(self, name: str, args: TrainingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        self.manifests = manifest_set(f"{name}-manifests", args.component, provider=args.provider,
                                      opts=pulumi.ResourceOptions(parent=self))
        # After the CRDs and Trainer's validating webhook.
        after = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=self.manifests)
        runtimes = {"torch": (TORCH_RUNTIME, torch_runtime_spec(args.torch_image))}
        runtimes.update({framework: (mpi_runtime_name(framework), mpi_runtime_spec(image))
                         for framework, image in sorted(args.mpi_images.items())})
        for framework, (runtime, spec) in runtimes.items():
            labels = {**recommended_labels(name="trainer", instance=name, component=self.concern),
                      "trainer.kubeflow.org/framework": framework}
            custom_resource(f"{name}-{framework}-runtime", TRAINER_API, "ClusterTrainingRuntime", name=runtime,
                            namespace=None, labels=labels, spec=spec, opts=after)
        self.register_outputs({"version": args.component.version,
                               "runtimes": [runtime for runtime, _ in runtimes.values()]})


TRAINING_OPERATOR_DEPLOYMENT = "training-operator"
TRAINING_OPERATOR_CONTAINER = "training-operator"


class TrainingOperator(KubeflowApp):
    """The Training Operator v1 with Volcano as its gang scheduler: PyTorchJob, TFJob, MPIJob,
    XGBoostJob, JAXJob, PaddleJob. The distribution's Deployment starts ``/manager`` with no
    arguments (applications/training-operator/upstream/base/deployment.yaml at 26.03), so
    gang scheduling is off; a server-side-apply patch adds ``--gang-scheduler-name=volcano``,
    with which the operator creates a PodGroup per job in ``runPolicy.schedulingPolicy.queue``
    (default: the namespace's, moved there by Volcano's webhook) and sets the pods' scheduler
    (cmd/training-operator.v1/main.go at v1.9.2)."""

    key = "trainingOperator"
    type_token = "kubeforge:ml:TrainingOperator"
    section = "components.trainingOperator"
    # The operator exits at start if Volcano's PodGroup CRD is missing (v1.9.2).
    depends_on = ("namespaces", "volcano")

    def __init__(self, name: str, args: KubeflowAppArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        k8s.apps.v1.DeploymentPatch(
            f"{name}-gang-scheduler",
            metadata={"name": TRAINING_OPERATOR_DEPLOYMENT, "namespace": args.component.namespace, "annotations": {
                "pulumi.com/patchForce": "true", "kubeforge.io/training-operator-version": args.component.version}},
            spec={"template": {"spec": {"containers": [
                {"name": TRAINING_OPERATOR_CONTAINER, "args": ["--gang-scheduler-name=volcano"]},
            ]}}},
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=self.manifests),
        )

