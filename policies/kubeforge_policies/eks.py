"""EKS: the control plane's endpoint, encryption, logs and deletion protection, and the
nodes' launch templates (IMDSv2, hop limit, encrypted volumes, no public addresses)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from kubeforge_policies.model import PolicyResource, as_dict, as_list, is_false, is_true
from kubeforge_policies.rule import Issue, Rule

CLUSTER = "aws:eks/cluster:Cluster"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
CONTROL_PLANE_LOGS = ("api", "audit", "authenticator", "controllerManager", "scheduler")


def _within(cidr: str, allowed: list[str]) -> bool:
    try:
        net = ipaddress.ip_network(cidr, strict=False)
        return any(net.version == a.version and net.subnet_of(a)
                   for a in (ipaddress.ip_network(x, strict=False) for x in allowed))
    except ValueError:
        return False


def endpoint_private(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    vpc = as_dict(r.get("vpcConfig"))
    public = vpc.get("endpointPublicAccess")
    # The EKS API defaults endpointPublicAccess to true and publicAccessCidrs to 0.0.0.0/0.
    # Ref: https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html
    if public is not None and is_false(public):
        return
    allowed = list(params.get("allowedPublicCidrs") or [])
    cidrs = as_list(vpc.get("publicAccessCidrs")) or ["0.0.0.0/0"]
    outside = [c for c in cidrs if not _within(str(c), allowed)]
    if outside:
        yield Issue(
            f"the API server endpoint is public to {', '.join(map(str, outside))}",
            "set vpcConfig.endpointPublicAccess to false (nodes and admins reach the private endpoint), or "
            "list only the policy's allowedPublicCidrs in vpcConfig.publicAccessCidrs",
        )


def secrets_encryption(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    config = r.get("encryptionConfig")
    configs = as_list(config) if isinstance(config, list) else [as_dict(config)]
    for c in configs:
        if "secrets" in as_list(c.get("resources")) and as_dict(c.get("provider")).get("keyArn"):
            return
    yield Issue("Kubernetes secrets are not envelope-encrypted with a KMS key",
                'set encryptionConfig = {resources: ["secrets"], provider: {keyArn: <KMS key ARN>}}')


def control_plane_logging(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    enabled = set(as_list(r.get("enabledClusterLogTypes")))
    missing = [t for t in CONTROL_PLANE_LOGS if t not in enabled]
    if missing:
        yield Issue(f"control-plane logs {', '.join(missing)} are off",
                    f"set enabledClusterLogTypes to {list(CONTROL_PLANE_LOGS)}")


def deletion_protection(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if not is_true(r.get("deletionProtection", default=False)):
        yield Issue("deletionProtection is off, so the cluster can be deleted by one API call",
                    "set deletionProtection: true")


def no_implicit_creator_admin(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    access = as_dict(r.get("accessConfig"))
    # Ref: https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html
    mode = access.get("authenticationMode", "CONFIG_MAP")
    if mode not in ("API", "API_AND_CONFIG_MAP"):
        yield Issue(f"authenticationMode is {mode}: cluster access is granted in the aws-auth ConfigMap, "
                    "outside the stack's review", "set accessConfig.authenticationMode to API and grant access "
                    "with aws:eks/accessEntry resources")
    if not is_false(access.get("bootstrapClusterCreatorAdminPermissions", True)):
        yield Issue("whoever creates the cluster gets cluster-admin that no resource in the stack shows",
                    "set accessConfig.bootstrapClusterCreatorAdminPermissions: false and grant admins through "
                    "access entries")


def _metadata_options(r: PolicyResource) -> Mapping[str, Any]:
    return as_dict(r.get("metadataOptions"))


def imdsv2(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if _metadata_options(r).get("httpTokens") != "required":
        yield Issue("instances accept IMDSv1 (metadataOptions.httpTokens is not \"required\"), so a server-side "
                    "request forgery in a pod can read the node role's credentials",
                    'set metadataOptions.httpTokens: "required"')


def imds_hop_limit(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    limit = params.get("maxHopLimit", 1)
    hops = _metadata_options(r).get("httpPutResponseHopLimit")
    # Ref: https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html
    # (restrict access to the instance profile assigned to the worker node)
    if hops is None or int(hops) > limit:
        yield Issue(f"metadataOptions.httpPutResponseHopLimit is {hops if hops is not None else 'unset'}: pods "
                    "can reach the node's instance metadata and its role",
                    f"set metadataOptions.httpPutResponseHopLimit to {limit} (pods use IRSA or Pod Identity)")


def encrypted_volumes(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    mappings = [m for m in as_list(r.get("blockDeviceMappings")) if as_dict(m).get("ebs") is not None]
    if not mappings:
        yield Issue("no EBS block device mapping, so the root volume's encryption is the account default",
                    "declare the root volume in blockDeviceMappings with ebs.encrypted: true")
    for m in mappings:
        if not is_true(as_dict(m["ebs"]).get("encrypted")):
            yield Issue(f"EBS volume {m.get('deviceName', '?')} is not encrypted",
                        f"set blockDeviceMappings[{m.get('deviceName', '?')}].ebs.encrypted: true")


def no_public_ip(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    for i, nic in enumerate(as_list(r.get("networkInterfaces"))):
        if is_true(as_dict(nic).get("associatePublicIpAddress")):
            yield Issue(f"network interface {i} gets a public IP address",
                        f"set networkInterfaces[{i}].associatePublicIpAddress: false and run nodes in private subnets")


def node_group_launch_template(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if not as_dict(r.get("launchTemplate")):
        yield Issue("the node group uses EKS's default launch template, where the stack does not set IMDSv2, the "
                    "hop limit or volume encryption", "give the node group a launchTemplate (id and version)")
    if r.get("remoteAccess"):
        yield Issue("SSH remote access is open to the nodes", "remove remoteAccess; use SSM Session Manager")


RULES = (
    Rule("eks-endpoint-private", "The EKS API server endpoint is private, or public only to allowlisted CIDRs.",
         "critical", endpoint_private, "endpointPublicAccess: false, or publicAccessCidrs within allowedPublicCidrs",
         resource_types=(CLUSTER,),
         params={"allowedPublicCidrs": {"type": "array", "items": {"type": "string"}, "default": [],
                                        "description": "CIDRs the public endpoint may be open to."}},
         reference="https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html"),
    Rule("eks-secrets-encryption", "EKS envelope-encrypts Kubernetes secrets with a KMS key.", "high",
         secrets_encryption, "encryptionConfig with resources [secrets] and a KMS key ARN", resource_types=(CLUSTER,),
         reference="https://docs.aws.amazon.com/eks/latest/userguide/envelope-encryption.html"),
    Rule("eks-control-plane-logging", "Every EKS control-plane log type is on (api, audit, authenticator, "
         "controllerManager, scheduler).", "medium", control_plane_logging, "enable all five log types",
         resource_types=(CLUSTER,),
         reference="https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html"),
    Rule("eks-deletion-protection", "The EKS cluster has deletion protection on.", "high", deletion_protection,
         "deletionProtection: true", resource_types=(CLUSTER,),
         reference="https://docs.aws.amazon.com/eks/latest/userguide/deletion-protection.html"),
    Rule("eks-no-implicit-creator-admin", "EKS access is granted by access entries in the stack, with no hidden "
         "cluster-admin for the cluster's creator.", "medium", no_implicit_creator_admin,
         "authenticationMode API, bootstrapClusterCreatorAdminPermissions false", resource_types=(CLUSTER,),
         reference="https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html"),
    Rule("eks-node-imdsv2", "Node launch templates require IMDSv2 (httpTokens required).", "high", imdsv2,
         'metadataOptions.httpTokens: "required"', resource_types=(LAUNCH_TEMPLATE,),
         reference="https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html"),
    Rule("eks-node-imds-hop-limit", "Node launch templates keep instance metadata away from pods (hop limit 1).",
         "high", imds_hop_limit, "metadataOptions.httpPutResponseHopLimit: 1", resource_types=(LAUNCH_TEMPLATE,),
         params={"maxHopLimit": {"type": "integer", "minimum": 1, "default": 1,
                                 "description": "The highest hop limit accepted."}},
         reference="https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html"),
    Rule("eks-node-encrypted-volumes", "Node launch templates encrypt every EBS volume.", "high", encrypted_volumes,
         "blockDeviceMappings[*].ebs.encrypted: true", resource_types=(LAUNCH_TEMPLATE,)),
    Rule("eks-node-no-public-ip", "Node launch templates give nodes no public IP address.", "high", no_public_ip,
         "networkInterfaces[*].associatePublicIpAddress: false", resource_types=(LAUNCH_TEMPLATE,)),
    Rule("eks-node-group-launch-template", "EKS node groups use the stack's launch template and allow no SSH.",
         "medium", node_group_launch_template, "launchTemplate set, remoteAccess unset", resource_types=(NODE_GROUP,)),
)
