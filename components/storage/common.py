"""What the storage components share: the NAS StorageClass, IRSA trust, names."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from kubeforge.config.resolved import NAS_STORAGE_CLASS

# Data outlives the stack: protected against `pulumi destroy` and kept if removed from it.
# Ref: https://www.pulumi.com/docs/iac/concepts/options/protect/ ;
# https://www.pulumi.com/docs/iac/concepts/options/retainondelete/
KEEP_DATA = pulumi.ResourceOptions(protect=True, retain_on_delete=True)


def nas_storage_class(
    name: str,
    *,
    provisioner: str,
    parameters: Mapping[str, pulumi.Input[str]],
    labels: Mapping[str, str],
    expandable: bool,
    opts: pulumi.ResourceOptions,
    mount_options: list[str] | None = None,
) -> k8s.storage.v1.StorageClass:
    """The platform's one ReadWriteMany class. Retain: deleting a claim keeps its volume and
    data until an administrator deletes the PersistentVolume.
    Ref: https://kubernetes.io/docs/concepts/storage/persistent-volumes/#retain"""
    return k8s.storage.v1.StorageClass(
        name,
        metadata={"name": NAS_STORAGE_CLASS, "labels": dict(labels)},
        provisioner=provisioner,
        parameters=dict(parameters),
        reclaim_policy="Retain",
        volume_binding_mode="Immediate",
        allow_volume_expansion=expandable,
        mount_options=mount_options,
        opts=opts,
    )


def irsa_trust_policy(provider_arn: str, issuer: str, namespace: str, service_account: str | Sequence[str]) -> dict:
    """Only the named Kubernetes ServiceAccount(s) of one namespace, through the cluster's OIDC
    provider, for STS (StringEquals with a list matches any of its values).
    Ref: https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html ;
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html"""
    host = issuer.removeprefix("https://")
    accounts = [service_account] if isinstance(service_account, str) else list(service_account)
    subjects = [f"system:serviceaccount:{namespace}:{a}" for a in accounts]
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                f"{host}:sub": subjects[0] if len(subjects) == 1 else subjects,
                f"{host}:aud": "sts.amazonaws.com",
            }},
        }],
    }


def bounded_name(text: str, limit: int) -> str:
    """``text`` when it fits in ``limit`` characters, else as much of it as fits with a hash of
    the whole, so two long names never collide."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{text[: limit - 9].rstrip('-')}-{digest}"


def credential(credentials: Any, tenant: str, field: str) -> str:
    """One value of the secret ``kubeforge:objectStoreCredentials`` (shape checked at load).
    Offline, an encrypted value is still ``{secure: <ciphertext>}``: only Pulumi decrypts it,
    and the graph shows the Output as [secret] either way."""
    entry = credentials.get(tenant) if isinstance(credentials, Mapping) else None
    value = entry.get(field) if isinstance(entry, Mapping) else None
    return value if isinstance(value, str) else ""
