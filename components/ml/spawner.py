"""The Jupyter web app's spawner configuration, generated from the catalog and the resolved stack.

Kubeflow's Jupyter web app reads one document, ``spawner_ui_config.yaml`` (top-level
``spawnerFormDefaults``), from ``/etc/config`` on its pod: the distribution's kustomization
generates it into the ConfigMap ``jupyter-web-app-config``.
Ref: https://github.com/kubeflow/kubeflow/blob/v1.10.0/components/crud-web-apps/jupyter/backend/apps/common/utils.py
(``CONFIGS``, ``load_spawner_ui_config``) and .../jupyter/manifests/base/kustomization.yaml.

:func:`spawner_config` keeps the shape of the distribution's own file at the pinned release
(../shared/reference/kubeflow/26.03/applications/jupyter/jupyter-web-app/upstream/base/configs/spawner_ui_config.yaml,
identical to kubeflow v1.10.0's components/crud-web-apps/jupyter/manifests/base/configs/)
and fills it from kubeforge's facts:

- images: the catalog release's ``images:`` with role notebook, all exact tags, each with the
  CUDA that every GPU pool's driver is checked against at load;
- GPUs: ``nvidia.com/gpu`` only (the one device plugin kubeforge installs);
- the workspace volume on the platform's NAS class, ReadWriteMany;
- tolerations and node affinity for the GPU pools (kubeforge's taint and pool label);
- the tenant PodDefaults (components/tenancy/tenant.py) preselected by their selector label.

How the web app reads each key, and the type it expects, is cited where the key is set. A
field with ``readOnly: true`` is disabled in the form and the backend refuses a request that
sets it, using the configured ``value`` instead (backend apps/common/form.py, ``get_form_value``).

The component that installs Kubeflow notebooks and feeds this document to the web app is
separate; this module is a pure function of the resolved stack.
"""

from __future__ import annotations

from typing import Any

from components.cluster.gpu_nodes import POOL_LABEL, gpu_toleration
from kubeforge.catalog import WorkloadImage
from kubeforge.config.resolved import ResolvedStack

NVIDIA_GPU = {"limitsKey": "nvidia.com/gpu", "uiName": "NVIDIA"}
"""The one GPU vendor offered: the resource the NVIDIA device plugin advertises."""

POD_DEFAULT_LABELS = {
    "gpu": "kubeforge.io/gpu",
    "nas": "kubeforge.io/nas",
    "object-store": "kubeforge.io/object-store",
}
"""The selector label of each tenant PodDefault ``<tenant>-<suffix>`` that
components/tenancy/tenant.py creates (tests/ml/test_spawner.py holds the two in step)."""

GPU_TOLERATION_GROUP = "nvidia-gpu"
WORKSPACE_MOUNT = "/home/jovyan"
"""The notebook images' home directory (NB_USER jovyan), as upstream mounts it."""


def notebook_images(stack: ResolvedStack, ui: str = "jupyter") -> list[WorkloadImage]:
    """The release's notebook images for one of the spawner's lists, in catalog order (the
    first is that list's default)."""
    return [image for image in stack.release.images.values() if image.role == "notebook" and image.ui == ui]


def _group(stack: ResolvedStack, ui: str) -> dict[str, Any]:
    # An empty value disables the group's image control
    # (frontend pages/form/form-new/utils.ts, initFormControls).
    images = [image.image for image in notebook_images(stack, ui)]
    return {"value": images[0] if images else "", "options": images}


def spawner_config(stack: ResolvedStack) -> dict[str, Any]:
    """The document the Jupyter web app reads as spawner_ui_config.yaml, for ``stack``."""
    images = [image.image for image in notebook_images(stack)]
    if not images:
        raise ValueError(f"catalog release {stack.release.release} offers no notebook image "
                         "(an images: entry with role notebook)")
    return {"spawnerFormDefaults": {
        # Users may still type their own image; only the catalog's are checked against the
        # pools' drivers (kubeforge.config.checks.gpu_drivers_run_the_images).
        "allowCustomImage": True,
        "hideRegistry": True,
        "hideTag": False,
        # Every offered image is an exact tag, so IfNotPresent is always right: pinned.
        "imagePullPolicy": {"readOnly": True, "value": "IfNotPresent"},
        # frontend src/app/types/config.ts: image.options is string[]; there is no field for
        # a label, so an image's CUDA version lives in the catalog (docs/VERSIONS.md).
        "image": {"value": images[0], "options": images},
        # VS Code-like and RStudio-like apps: upstream's groups one and two.
        "imageGroupOne": _group(stack, "vscode"),
        "imageGroupTwo": _group(stack, "rstudio"),
        # Upstream's defaults; the backend turns limitFactor into limits (form.py
        # set_notebook_cpu/_memory), which the tenants' cpu/memory limits quota needs.
        "cpu": {"readOnly": False, "value": "0.5", "limitFactor": "1.2"},
        "memory": {"readOnly": False, "value": "1.0Gi", "limitFactor": "1.2"},
        # form.py set_notebook_gpus sets limits[vendor] = num; "none" adds no GPU.
        # utils.py process_gpus and routes/get.py get_gpu_vendors read vendors[].limitsKey/uiName.
        "gpus": {"readOnly": False, "value": {
            "vendor": NVIDIA_GPU["limitsKey"], "vendors": [dict(NVIDIA_GPU)], "num": "none",
        }},
        "workspaceVolume": {"readOnly": False, "value": _workspace_volume(stack)},
        # A data volume the user adds in the form starts as ReadWriteOnce on the cluster's
        # default class, whatever this file says (frontend shared/utils/volumes/forms.ts,
        # createNewPvcFormGroup); the team's NAS comes through the nas PodDefault instead.
        "dataVolumes": {"readOnly": False, "value": []},
        "affinityConfig": {"readOnly": False, "value": "", "options": _pool_affinities(stack)},
        "tolerationGroup": {"readOnly": False, "value": "", "options": _gpu_tolerations(stack)},
        # /dev/shm as memory: PyTorch DataLoader workers share tensors through it.
        "shm": {"readOnly": False, "value": True},
        # form.py set_notebook_configurations labels the Notebook <label>: "true" for each entry;
        # the form lists a namespace's PodDefaults by their first matchLabels key
        # (routes/get.py get_poddefaults), so these are label keys, not PodDefault names.
        "configurations": {"readOnly": False, "value": _preselected_pod_defaults(stack)},
        # Read only by the Rok flavour of the form.
        "environment": {"readOnly": False, "value": {}},
    }}


def _workspace_volume(stack: ResolvedStack) -> dict[str, Any]:
    """A new claim per notebook (frontend types/volume: {mount, newPvc}); on the NAS when
    the stack has one, else upstream's ReadWriteOnce on the cluster's default class."""
    spec: dict[str, Any] = {"resources": {"requests": {"storage": "5Gi"}}}
    if stack.nas_storage_class:
        spec["storageClassName"] = stack.nas_storage_class
        spec["accessModes"] = ["ReadWriteMany"]
    else:
        spec["accessModes"] = ["ReadWriteOnce"]
    return {"mount": WORKSPACE_MOUNT, "newPvc": {"metadata": {"name": "{notebook-name}-workspace"}, "spec": spec}}


def _gpu_tolerations(stack: ResolvedStack) -> list[dict[str, Any]]:
    """The GPU nodes' taint, tolerated (form.py set_notebook_tolerations appends the group's
    tolerations; frontend types/toleration.ts: groupKey, displayName, tolerations)."""
    if not stack.gpu_pools:
        return []
    return [{
        "groupKey": GPU_TOLERATION_GROUP,
        "displayName": "NVIDIA GPU nodes (tolerate their taint)",
        "tolerations": [gpu_toleration()],
    }]


def _pool_affinities(stack: ResolvedStack) -> list[dict[str, Any]]:
    """One choice per GPU pool, by the pool label every GPU node carries (form.py
    set_notebook_affinity copies ``affinity`` into the pod spec; frontend types/affinity.ts)."""
    return [{
        "configKey": f"gpu-pool-{name}",
        "displayName": f"GPU pool {name}: {pool.model}, {pool.gpus_per_node} per node",
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": POOL_LABEL, "operator": "In", "values": [name]}]},
        ]}}},
    } for name, pool in sorted(stack.gpu_pools.items())]


def _preselected_pod_defaults(stack: ResolvedStack) -> list[str]:
    """The team's NAS and bucket presets, on by default where the stack has them.

    The GPU preset is offered (the form lists every PodDefault in the namespace) but not
    preselected: its toleration would let CPU-only notebooks onto GPU nodes.
    A preselected label whose PodDefault a tenant lacks (no NAS share, no bucket) matches
    nothing and changes nothing.
    """
    if "podDefaults" not in stack.components:
        return []
    labels = []
    if stack.nas_storage_class:
        labels.append(POD_DEFAULT_LABELS["nas"])
    if stack.storage.object.enabled:
        labels.append(POD_DEFAULT_LABELS["object-store"])
    return labels
