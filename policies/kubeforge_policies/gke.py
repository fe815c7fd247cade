"""GKE: private nodes and control plane, Workload Identity, shielded nodes with secure boot,
application-layer secrets encryption, no legacy authentication, the GKE metadata server on
node pools, deletion protection.

Ref: https://cloud.google.com/kubernetes-engine/docs/how-to/hardening-your-cluster
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kubeforge_policies.model import PolicyResource, as_dict, as_list, is_false, is_true
from kubeforge_policies.rule import Issue, Rule

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"


def _node_config(r: PolicyResource) -> Mapping[str, Any] | None:
    """A node pool's nodeConfig; a cluster's own (for its default pool) unless it removes that pool."""
    if r.type == CLUSTER and (is_true(r.get("removeDefaultNodePool", default=False))
                              or is_true(r.get("enableAutopilot", default=False))):
        return None
    return as_dict(r.get("nodeConfig"))


def private_nodes(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if not is_true(as_dict(r.get("privateClusterConfig")).get("enablePrivateNodes", False)):
        yield Issue("nodes get public IP addresses", "set privateClusterConfig.enablePrivateNodes: true "
                    "(egress through Cloud NAT)")


def control_plane_restricted(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if is_true(as_dict(r.get("privateClusterConfig")).get("enablePrivateEndpoint", False)):
        return
    blocks = as_list(as_dict(r.get("masterAuthorizedNetworksConfig")).get("cidrBlocks"))
    cidrs = [as_dict(b).get("cidrBlock") for b in blocks]
    if not cidrs:
        yield Issue("the control plane's public endpoint accepts any address",
                    "set privateClusterConfig.enablePrivateEndpoint: true, or list the admins' networks in "
                    "masterAuthorizedNetworksConfig.cidrBlocks")
    elif any(c in ("0.0.0.0/0", "::/0") for c in cidrs):
        yield Issue("masterAuthorizedNetworksConfig authorizes 0.0.0.0/0",
                    "list only the admins' networks in masterAuthorizedNetworksConfig.cidrBlocks")


def workload_identity(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if not as_dict(r.get("workloadIdentityConfig")).get("workloadPool"):
        yield Issue("Workload Identity is off: pods would use the nodes' service account",
                    'set workloadIdentityConfig.workloadPool to "<project>.svc.id.goog"')


def shielded_nodes(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if not is_true(r.get("enableShieldedNodes", default=False)):
        yield Issue("shielded nodes are not required", "set enableShieldedNodes: true")


def secure_boot(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    config = _node_config(r)
    if config is None:
        return
    if not is_true(as_dict(config.get("shieldedInstanceConfig")).get("enableSecureBoot", False)):
        yield Issue("nodes boot without secure boot, so unsigned kernel modules load",
                    "set nodeConfig.shieldedInstanceConfig.enableSecureBoot: true (GPU drivers: use COS's "
                    "signed driver)")


def secrets_encryption(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    encryption = as_dict(r.get("databaseEncryption"))
    if encryption.get("state") != "ENCRYPTED" or not encryption.get("keyName"):
        yield Issue("Kubernetes secrets are not encrypted at the application layer with a Cloud KMS key",
                    'set databaseEncryption = {state: "ENCRYPTED", keyName: <Cloud KMS key>}')


def no_legacy_abac(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if is_true(r.get("enableLegacyAbac", default=False)):
        yield Issue("legacy ABAC grants permissions outside RBAC", "set enableLegacyAbac: false")


def no_client_certificate(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    config = as_dict(as_dict(r.get("masterAuth")).get("clientCertificateConfig"))
    if is_true(config.get("issueClientCertificate", False)):
        yield Issue("the cluster issues a client certificate, a credential that cannot be revoked",
                    "set masterAuth.clientCertificateConfig.issueClientCertificate: false")


def metadata_server(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    config = _node_config(r)
    if config is None:
        return
    mode = as_dict(config.get("workloadMetadataConfig")).get("mode")
    if mode != "GKE_METADATA":
        yield Issue(f"workloadMetadataConfig.mode is {mode or 'unset'}: pods can read the node's metadata and "
                    "credentials", 'set nodeConfig.workloadMetadataConfig.mode: "GKE_METADATA"')


def deletion_protection(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    # pulumi-gcp defaults deletionProtection to true; only an explicit false turns it off.
    # Ref: https://www.pulumi.com/registry/packages/gcp/api-docs/container/cluster/#deletion_protection_python
    if is_false(r.get("deletionProtection", default=True)):
        yield Issue("deletionProtection is false", "set deletionProtection: true (or leave it unset)")


def node_service_account(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    config = _node_config(r)
    if config is None:
        return
    account = config.get("serviceAccount")
    if not account or account == "default" or str(account).endswith("-compute@developer.gserviceaccount.com"):
        yield Issue("nodes run as the Compute Engine default service account (Editor on the project)",
                    "set nodeConfig.serviceAccount to a dedicated account with roles/container.defaultNodeServiceAccount")


RULES = (
    Rule("gke-private-nodes", "GKE nodes have no public IP addresses.", "high", private_nodes,
         "privateClusterConfig.enablePrivateNodes: true", resource_types=(CLUSTER,),
         reference="https://cloud.google.com/kubernetes-engine/docs/concepts/private-cluster-concept"),
    Rule("gke-control-plane-restricted", "The GKE control plane is private or reachable only from authorized "
         "networks.", "high", control_plane_restricted, "enablePrivateEndpoint or masterAuthorizedNetworksConfig",
         resource_types=(CLUSTER,),
         reference="https://cloud.google.com/kubernetes-engine/docs/how-to/authorized-networks"),
    Rule("gke-workload-identity", "GKE Workload Identity is on.", "high", workload_identity,
         "workloadIdentityConfig.workloadPool", resource_types=(CLUSTER,),
         reference="https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity"),
    Rule("gke-shielded-nodes", "The GKE cluster requires shielded nodes.", "medium", shielded_nodes,
         "enableShieldedNodes: true", resource_types=(CLUSTER,),
         reference="https://cloud.google.com/kubernetes-engine/docs/how-to/shielded-gke-nodes"),
    Rule("gke-node-secure-boot", "GKE nodes boot with secure boot.", "medium", secure_boot,
         "nodeConfig.shieldedInstanceConfig.enableSecureBoot: true", resource_types=(NODE_POOL, CLUSTER),
         reference="https://cloud.google.com/kubernetes-engine/docs/how-to/shielded-gke-nodes#secure_boot"),
    Rule("gke-secrets-encryption", "GKE encrypts secrets at the application layer with Cloud KMS.", "high",
         secrets_encryption, "databaseEncryption ENCRYPTED with a key", resource_types=(CLUSTER,),
         reference="https://cloud.google.com/kubernetes-engine/docs/how-to/encrypting-secrets"),
    Rule("gke-no-legacy-abac", "GKE legacy ABAC is off.", "high", no_legacy_abac, "enableLegacyAbac: false",
         resource_types=(CLUSTER,)),
    Rule("gke-no-client-certificate", "GKE issues no client certificate.", "medium", no_client_certificate,
         "issueClientCertificate: false", resource_types=(CLUSTER,)),
    Rule("gke-node-metadata-server", "GKE node pools run the GKE metadata server.", "high", metadata_server,
         "workloadMetadataConfig.mode GKE_METADATA", resource_types=(NODE_POOL, CLUSTER),
         reference="https://cloud.google.com/kubernetes-engine/docs/concepts/workload-identity#metadata_server"),
    Rule("gke-deletion-protection", "The GKE cluster has deletion protection on.", "high", deletion_protection,
         "deletionProtection: true", resource_types=(CLUSTER,)),
    Rule("gke-node-service-account", "GKE nodes run as a dedicated service account, not the Compute default.",
         "medium", node_service_account, "nodeConfig.serviceAccount", resource_types=(NODE_POOL, CLUSTER),
         reference="https://cloud.google.com/kubernetes-engine/docs/how-to/service-accounts#default-gke-service-agent"),
)
