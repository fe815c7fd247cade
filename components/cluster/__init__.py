"""Clusters: a new EKS or GKE cluster, or an existing (on-prem) one.

Every cluster component takes ``<Name>Args.from_stack(stack, kubeconfig)`` and exposes what
the rest of the platform needs: ``access`` (the one explicit Kubernetes provider for
that cluster, passed to every Kubernetes resource) and ``kubeconfig`` (a secret, or None
on-prem when the deploying machine's own is used).
"""
