"""Training: kubeforge's Volcano-gang-scheduled PyTorch runtime, Katib after it, and the
examples a tenant runs, checked against the pinned CRDs and the tenant-queue policy."""

from __future__ import annotations

from pathlib import Path

import celpy
import pytest
import yaml

from components.cluster.gpu_nodes import GPU_TAINT
from components.ml.spawner import POD_DEFAULT_LABELS
from components.ml.training import MPI_RUNTIMES, TORCH_RUNTIME, mpi_runtime_name, mpi_runtime_spec, torch_runtime_spec
from components.tenancy.queue_policy import VALIDATIONS, VARIABLES
from kubeforge.config.loader import load_stack
from tests.conftest import ROOT
from tests.crd_schemas import validate_custom_resource, validate_katib

EXAMPLES = ROOT / "examples"


def _example(name: str) -> dict:
    return yaml.safe_load((EXAMPLES / name).read_text())


def _runtime(graph, name: str = TORCH_RUNTIME):
    (runtime,) = [r for r in graph.of_type("kubernetes:trainer.kubeflow.org/v1alpha1:ClusterTrainingRuntime")
                  if r.inputs["metadata"]["name"] == name]
    return runtime


def test_kubeforge_offers_a_gang_scheduled_runtime_for_torch_deepspeed_and_mlx(local_graph):
    names = {r.inputs["metadata"]["name"]
             for r in local_graph.of_type("kubernetes:trainer.kubeflow.org/v1alpha1:ClusterTrainingRuntime")}
    assert names == {TORCH_RUNTIME, "kubeforge-deepspeed-distributed", "kubeforge-mlx-distributed"}


@pytest.mark.parametrize("framework", sorted(MPI_RUNTIMES))
def test_every_job_of_an_mpi_runtime_is_gang_scheduled_by_volcano_on_the_gpu_nodes(local_graph, framework):
    runtime = _runtime(local_graph, mpi_runtime_name(framework))
    assert runtime.inputs["metadata"]["labels"]["trainer.kubeflow.org/framework"] == framework
    spec = runtime.inputs["spec"]
    assert spec["podGroupPolicy"] == {"volcano": {}}
    assert spec["mlPolicy"]["mpi"]["runLauncherAsNode"] is True
    jobs = {job["name"]: job["template"]["spec"]["template"] for job in spec["template"]["spec"]["replicatedJobs"]}
    assert set(jobs) == {"launcher", "node"}
    for pod in jobs.values():
        assert pod["spec"]["schedulerName"] == "volcano"
        assert pod["spec"]["tolerations"][0]["key"] == GPU_TAINT["key"]
        assert pod["metadata"]["annotations"] == {"sidecar.istio.io/inject": "false"}
    stack = load_stack("local", ROOT)
    (container,) = jobs["node"]["spec"]["containers"]
    (image,) = [i for i in stack.release.images.values() if i.image == container["image"]]
    assert image.image.startswith(MPI_RUNTIMES[framework] + ":") and image.role == "training" and image.cuda
    assert "scheduling.volcano.sh/queue-name" not in str(spec)


@pytest.mark.parametrize("framework", sorted(MPI_RUNTIMES))
def test_the_mpi_runtimes_validate_against_trainers_crd_at_the_pin(framework):
    validate_custom_resource({"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "ClusterTrainingRuntime",
                              "metadata": {"name": mpi_runtime_name(framework)},
                              "spec": mpi_runtime_spec(f"{MPI_RUNTIMES[framework]}:v2.1.0")})


def test_the_runtime_gang_schedules_with_volcano_on_the_gpu_nodes(local_graph):
    spec = _runtime(local_graph).inputs["spec"]
    assert spec["podGroupPolicy"] == {"volcano": {}}
    pod = spec["template"]["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]
    assert pod["spec"]["schedulerName"] == "volcano"
    assert {"key": GPU_TAINT["key"], "operator": "Equal", "value": GPU_TAINT["value"],
            "effect": GPU_TAINT["effect"]} in pod["spec"]["tolerations"]
    # No queue in the runtime: Volcano's webhook puts the PodGroup in the namespace's queue.
    assert "scheduling.volcano.sh/queue-name" not in str(spec)
    assert "priorityClassName" not in pod["spec"]


def test_the_runtime_runs_the_catalogs_training_image_whose_cuda_the_pools_run(local_graph):
    stack = load_stack("local", ROOT)
    (container,) = _runtime(local_graph).inputs["spec"]["template"]["spec"]["replicatedJobs"][0]["template"][
        "spec"]["template"]["spec"]["containers"]
    (image,) = [i for i in stack.release.images.values() if i.image == container["image"]]
    assert image.role == "training" and image.cuda


def test_the_runtime_validates_against_trainers_crd_at_the_pin():
    validate_custom_resource({"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "ClusterTrainingRuntime",
                              "metadata": {"name": TORCH_RUNTIME}, "spec": torch_runtime_spec("pytorch/pytorch:x")})


def test_trainer_waits_for_volcanos_crds_and_katib_for_trainers(local_graph):
    training, katib = local_graph.named("training"), local_graph.named("katib")
    volcano = {r.urn for r in local_graph.children(local_graph.named("volcano").urn)}
    assert volcano & set(training.dependencies)
    assert local_graph.named("training-manifests").urn in katib.dependencies
    runtime = _runtime(local_graph)
    assert local_graph.named("training-manifests").urn in runtime.dependencies


# --- the examples ------------------------------------------------------------------------------


def test_the_distributed_example_validates_and_uses_kubeforges_runtime_and_presets():
    job = _example("train-pytorch-distributed.yaml")
    validate_custom_resource(job)
    assert job["spec"]["runtimeRef"]["name"] == TORCH_RUNTIME
    assert job["spec"]["trainer"]["numNodes"] == 2
    labels = job["spec"]["podTemplateOverrides"][0]["metadata"]["labels"]
    assert set(labels) <= set(POD_DEFAULT_LABELS.values())
    assert "namespace" not in job["metadata"]  # applied in the tenant's own namespace


def test_the_katib_example_validates_and_its_trials_are_trainjobs_on_kubeforges_runtime():
    experiment = _example("katib-experiment.yaml")
    validate_katib(experiment)
    trial = experiment["spec"]["trialTemplate"]["trialSpec"]
    validate_custom_resource({**trial, "metadata": {"name": "trial"}})
    assert trial["spec"]["runtimeRef"]["name"] == TORCH_RUNTIME


def test_the_katib_schema_check_refuses_a_misspelt_field():
    import jsonschema

    experiment = _example("katib-experiment.yaml")
    experiment["spec"]["trialTemplate"]["primaryContainer"] = "node"
    with pytest.raises(jsonschema.ValidationError):
        validate_katib(experiment)


def test_no_example_names_an_image_the_catalog_does_not_pin():
    # The examples' own images: pipeline.py's is checked on its compiled form (test_example_pipeline).
    images = [line.split("image:", 1)[1].strip() for path in EXAMPLES.glob("*.yaml")
              for line in path.read_text().splitlines() if line.strip().startswith("image:")]
    assert images == []  # they run on the runtime's catalog image


# --- queues ------------------------------------------------------------------------------------


def _podgroup_for(job: dict, namespace_queue: str) -> dict:
    """The PodGroup Trainer v2.1.0's Volcano plugin creates for a TrainJob (named after it;
    queue from the TrainJob's spec.annotations, else the runtime's, else "default"), after
    Volcano's PodGroup webhook moved "default" to the namespace's queue."""
    annotations = job["spec"].get("annotations", {})
    queue = annotations.get("scheduling.volcano.sh/queue-name", "default")
    if queue == "default":
        queue = namespace_queue
    return {"metadata": {"name": job["metadata"]["name"]}, "spec": {"queue": queue, "minMember": 2}}


def _admit(namespace: str, podgroup: dict) -> list[str]:
    env = celpy.Environment()
    activation = {"request": {"resource": {"resource": "podgroups"}},
                  "namespaceObject": {"metadata": {"name": namespace, "labels": {"kubeforge.io/tenant": namespace}}},
                  "object": {**podgroup, "metadata": {**podgroup["metadata"], "namespace": namespace}}}

    def run(expression, variables):
        return env.program(env.compile(expression)).evaluate(celpy.json_to_cel({**activation, "variables": variables}))

    variables: dict = {}
    for variable in VARIABLES:
        variables[variable["name"]] = run(variable["expression"], variables)
    return [str(run(v["messageExpression"], variables)) for v in VALIDATIONS if not bool(run(v["expression"], variables))]


def test_the_example_lands_in_the_tenants_own_queue_and_is_admitted():
    job = _example("train-pytorch-distributed.yaml")
    assert _admit("vision", _podgroup_for(job, namespace_queue="vision")) == []


def test_the_example_naming_another_tenants_queue_is_rejected():
    job = _example("train-pytorch-distributed.yaml")
    job["spec"]["annotations"] = {"scheduling.volcano.sh/queue-name": "speech-ai"}
    (message,) = _admit("vision", _podgroup_for(job, namespace_queue="vision"))
    assert message == "PodGroups in namespace vision run in queue vision, not speech-ai"


def test_the_examples_are_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for path in [*EXAMPLES.glob("*.yaml"), *EXAMPLES.glob("*.py")]:
        assert f"examples/{path.name}" in readme, path.name
    assert Path(EXAMPLES).is_dir()


def test_the_training_operator_is_off_by_default(local_graph):
    assert not [r for r in local_graph.ordered() if r.type == "kubeforge:ml:TrainingOperator"]


def test_the_training_operator_instead_of_trainer_gang_schedules_with_volcano(project, tenant_spec):
    from tests.conftest import IDENTITY_SECRET, kubeflow_platform

    platform = kubeflow_platform()
    platform["components"] = {"training": {"enabled": False}, "trainingOperator": {"enabled": True}}
    graph = project.stack(platform, extra=IDENTITY_SECRET).tenant("team-a", tenant_spec).preview()
    assert not graph.of_type("kubernetes:trainer.kubeflow.org/v1alpha1:ClusterTrainingRuntime")
    (patch,) = [p for p in graph.of_type("kubernetes:apps/v1:DeploymentPatch")
                if p.inputs["metadata"]["name"] == "training-operator"]
    (container,) = patch.inputs["spec"]["template"]["spec"]["containers"]
    assert container == {"name": "training-operator", "args": ["--gang-scheduler-name=volcano"]}
    manifests = graph.named("training-operator-manifests")
    assert manifests.urn in patch.dependencies
    volcano = {r.urn for r in graph.children(graph.named("volcano").urn)}
    assert volcano & set(graph.named("training-operator").dependencies)
    assert graph.named("training-operator-manifests").urn in graph.named("katib").dependencies
