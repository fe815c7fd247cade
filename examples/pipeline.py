"""A pipeline a tenant runs: make a dataset on CPU, train on one GPU. Its artifacts (the
dataset and the model) land in your team's bucket, which kubeforge makes your pipelines'
root (kfp-launcher in your namespace), with your team's identity.

    pip install kfp==2.16.0 kfp-kubernetes==2.16.0   # the SDK of the platform's Pipelines
    python examples/pipeline.py                     # writes pipeline.yaml

Upload pipeline.yaml in the dashboard (Pipelines > Upload pipeline) and start a run in
your namespace.
"""

# No "from __future__ import annotations": KFP reads the components' annotations as types.
import sys

from kfp import compiler, dsl, kubernetes

# The catalog's PyTorch training image (`kubeforge versions`): an exact tag whose CUDA every
# GPU pool's driver runs.
IMAGE = "pytorch/pytorch:2.9.1-cuda12.8-cudnn9-runtime"


@dsl.component(base_image=IMAGE)
def make_dataset(rows: int, dataset: dsl.Output[dsl.Dataset]):
    import torch

    torch.manual_seed(0)
    x = torch.randn(rows, 32)
    torch.save({"x": x, "y": x @ torch.randn(32, 1)}, dataset.path)


@dsl.component(base_image=IMAGE)
def train(dataset: dsl.Input[dsl.Dataset], lr: float, model: dsl.Output[dsl.Model]) -> float:
    import torch

    data = torch.load(dataset.path)
    x, y = data["x"].cuda(), data["y"].cuda()
    w = torch.zeros(32, 1, device="cuda", requires_grad=True)
    optimiser = torch.optim.SGD([w], lr=lr)
    for _ in range(200):
        loss = ((x @ w - y) ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    torch.save(w.detach().cpu(), model.path)
    return loss.item()


@dsl.pipeline(name="train-on-gpu", description="A dataset on CPU, a model trained on one GPU")
def train_on_gpu(rows: int = 4096, lr: float = 0.05):
    data = make_dataset(rows=rows)
    step = train(dataset=data.outputs["dataset"], lr=lr)
    step.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1)
    step.set_cpu_limit("4").set_memory_limit("16G")
    # GPU nodes carry kubeforge's taint; the team's NAS preset (a PodDefault) mounts /mnt/nas.
    kubernetes.add_toleration(step, key="nvidia.com/gpu", operator="Equal", value="present", effect="NoSchedule")
    kubernetes.add_pod_label(step, "kubeforge.io/nas", "true")


if __name__ == "__main__":
    compiler.Compiler().compile(train_on_gpu, sys.argv[1] if len(sys.argv) > 1 else "pipeline.yaml")
