"""Clusters: a new EKS or GKE cluster, or an existing (on-prem) one.

Every cluster component exposes the same two things the rest of the platform needs:
``provider`` (the one explicit Kubernetes provider for that cluster, passed to every
Kubernetes resource) and ``kubeconfig`` (a secret).
"""

from components.cluster.onprem import ExistingCluster, ExistingClusterArgs

__all__ = ["ExistingCluster", "ExistingClusterArgs"]
