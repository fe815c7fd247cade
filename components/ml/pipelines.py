"""Kubeflow Pipelines, multi-user, from the distribution's manifests; each tenant's runs keep
their artifacts in the tenant's own bucket with the tenant's own identity.

The distribution stores every namespace's artifacts in one in-cluster SeaweedFS bucket
(``mlpipeline``), under a prefix per namespace with a SeaweedFS user per namespace (its
profile controller: applications/pipeline/upstream/base/installs/multi-user/
pipelines-profile-controller/sync.py at 26.03). kubeforge points KFP v2's
launcher of each tenant at the tenant's bucket instead (``kfp-launcher``, written with the
tenant's storage: components/storage/tenant.py), reached through IRSA or Workload Identity on
the runs' ServiceAccount, or on-prem the tenant's keys: a tenant's credentials reach its
bucket only, as the storage tests evaluate on the generated IAM policies. On-prem without
tenant keys (``kubeforge:objectStoreCredentials``), runs keep the distribution's SeaweedFS
prefix per namespace.

Not offered yet: a managed database (RDS, Cloud SQL) instead of the distribution's in-cluster
MySQL (mysql:8.4, PVC mysql-pv-claim 20Gi). What it takes, read at 26.03 / KFP 2.16.0: the
ConfigMap ``pipeline-install-config`` keys ``mysqlHost``/``mysqlPort`` (API server) and
``dbHost``/``dbPort`` (cache server, MLMD), the Secret ``mysql-secret`` (``username``,
``password``), a user allowed to CREATE DATABASE (the API server creates ``mlpipeline``), and
``mysql_native_password`` on the server, which MLMD needs and MySQL 8.4 turns off by default.
"""

from __future__ import annotations

from components.ml.upstream import KubeflowApp


class Pipelines(KubeflowApp):
    """The KFP API server, UI, persistence agent, scheduled workflows, Argo, MLMD and its
    in-cluster MySQL, and KFP's profile controller."""

    key = "pipelines"
    type_token = "kubeforge:ml:Pipelines"
    section = "components.pipelines"
    # The cache webhook's certificate (cert-manager), VirtualServices and AuthorizationPolicies (Istio).
    depends_on = ("namespaces", "istio", "certManager")
