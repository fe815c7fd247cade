"""Realistic outputs for resources and function calls, so code that reads them runs offline.

Every value is derived from the resource's URN or inputs, never from randomness or the
clock, so the same config always yields the same graph. Values look like the cloud's
own (ARN shapes, OIDC issuer URLs, endpoints) because downstream code parses some of
them (e.g. the OIDC issuer host in IRSA trust policies).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

ACCOUNT_ID = "123456789012"
GCP_PROJECT_NUMBER = "918273645501"
FAKE_CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nkubeforge-offline-ca\n-----END CERTIFICATE-----\n").decode()


def digest(*parts: str, n: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


def resource_id(type_: str, name: str, inputs: dict[str, Any], urn: str) -> str:
    """A physical id in the shape the provider would return."""
    h = digest(urn)
    prefixes = {
        "aws:ec2/vpc:Vpc": "vpc-",
        "aws:ec2/subnet:Subnet": "subnet-",
        "aws:ec2/securityGroup:SecurityGroup": "sg-",
        "aws:ec2/internetGateway:InternetGateway": "igw-",
        "aws:ec2/natGateway:NatGateway": "nat-",
        "aws:ec2/eip:Eip": "eipalloc-",
        "aws:ec2/routeTable:RouteTable": "rtb-",
        "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
        "aws:ec2/placementGroup:PlacementGroup": "pg-",
        "aws:efs/fileSystem:FileSystem": "fs-",
        "aws:efs/mountTarget:MountTarget": "fsmt-",
    }
    for type_prefix, id_prefix in prefixes.items():
        if type_ == type_prefix:
            return id_prefix + h
    if type_ == "gcp:kms/keyRing:KeyRing":
        return f"projects/{inputs.get('project')}/locations/{inputs.get('location')}/keyRings/{inputs.get('name')}"
    if type_ == "gcp:kms/cryptoKey:CryptoKey":
        return f"{inputs.get('keyRing')}/cryptoKeys/{inputs.get('name')}"
    if type_ == "aws:kms/key:Key":
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{digest(urn, 'k', n=4)}-{digest(urn, 'kk', n=12)}"
    # Terraform's composite ids: "<cluster>:<add-on>", "<role>:<policy>".
    if type_ == "aws:eks/addon:Addon":
        return f"{inputs.get('clusterName')}:{inputs.get('addonName')}"
    if type_ == "aws:iam/rolePolicy:RolePolicy":
        return f"{inputs.get('role')}:{name}-{h[:7]}"
    if type_ == "aws:efs/backupPolicy:BackupPolicy":
        return str(inputs.get("fileSystemId"))
    for key in ("name", "bucket", "clusterName"):
        value = inputs.get(key)
        if isinstance(value, str) and value:
            return value
    metadata = inputs.get("metadata")
    if isinstance(metadata, dict) and metadata.get("name"):
        ns = metadata.get("namespace")
        return f"{ns}/{metadata['name']}" if ns else str(metadata["name"])
    return f"{name}-{h[:7]}"


def resource_state(type_: str, name: str, inputs: dict[str, Any], id_: str, region: str) -> dict[str, Any]:
    """Inputs plus the computed outputs downstream code reads."""
    state = dict(inputs)
    h = digest(type_, name)
    if type_.startswith("aws:"):
        module = type_.split(":")[1]  # e.g. "iam/role"
        service = module.split("/")[0]
        if service == "iam":
            kind = {"iam/role": "role", "iam/policy": "policy"}.get(module, "resource")
            state.setdefault("arn", f"arn:aws:iam::{ACCOUNT_ID}:{kind}/{inputs.get('name', id_)}")
            state.setdefault("name", inputs.get("name", id_))
        elif service == "s3":
            state.setdefault("arn", f"arn:aws:s3:::{inputs.get('bucket', id_)}")
            state.setdefault("bucket", inputs.get("bucket", id_))
        else:
            state.setdefault("arn", f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{id_}")
    if type_ == "aws:kms/key:Key":
        state["keyId"] = id_
        state["arn"] = f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{id_}"
    elif type_ == "aws:eks/cluster:Cluster":
        cluster = inputs.get("name", id_)
        oidc = h[:32].upper()
        state.update(
            arn=f"arn:aws:eks:{region}:{ACCOUNT_ID}:cluster/{cluster}",
            endpoint=f"https://{oidc}.gr7.{region}.eks.amazonaws.com",
            certificateAuthority={"data": FAKE_CA},
            identities=[{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{oidc}"}]}],
            vpcConfig={**inputs.get("vpcConfig", {}), "clusterSecurityGroupId": f"sg-{digest(name, 'cluster')}",
                       "vpcId": f"vpc-{digest(name, 'vpc')}"},
            status="ACTIVE",
            platformVersion="eks.1",
        )
    elif type_ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
        # Ref: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html
        state["arn"] = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{str(inputs.get('url', '')).removeprefix('https://')}"
    elif type_ == "aws:eks/nodeGroup:NodeGroup":
        state.setdefault("arn", f"arn:aws:eks:{region}:{ACCOUNT_ID}:nodegroup/{inputs.get('clusterName')}/{id_}/{h[:8]}")
    elif type_ == "aws:efs/fileSystem:FileSystem":
        state["dnsName"] = f"{id_}.efs.{region}.amazonaws.com"
        state["arn"] = f"arn:aws:elasticfilesystem:{region}:{ACCOUNT_ID}:file-system/{id_}"
    elif type_ == "aws:efs/mountTarget:MountTarget":
        state["dnsName"] = f"{inputs.get('fileSystemId')}.efs.{region}.amazonaws.com"
        state["ipAddress"] = f"10.40.{int(h[:2], 16) % 96}.{int(h[2:4], 16) % 250 + 4}"
    elif type_ == "aws:eks/addon:Addon":
        state["arn"] = (f"arn:aws:eks:{region}:{ACCOUNT_ID}:addon/{inputs.get('clusterName')}/"
                        f"{inputs.get('addonName')}/{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}")
    elif type_ == "aws:ec2/launchTemplate:LaunchTemplate":
        state["latestVersion"] = 1
    elif type_ == "gcp:container/cluster:Cluster":
        state.update(
            endpoint=f"10.{int(h[:2], 16)}.{int(h[2:4], 16)}.2",
            masterAuth={"clusterCaCertificate": FAKE_CA},
            # GKE resolves a minor ("1.34") to its current patch; the program passes it through.
            masterVersion=f"{inputs.get('minMasterVersion')}.9-gke.1655001",
            selfLink=f"https://container.googleapis.com/v1/projects/{inputs.get('project')}/locations/"
            f"{inputs.get('location')}/clusters/{inputs.get('name')}",
        )
    elif type_ == "gcp:serviceaccount/account:Account":
        state["email"] = f"{inputs.get('accountId')}@{inputs.get('project')}.iam.gserviceaccount.com"
        state["name"] = f"projects/{inputs.get('project')}/serviceAccounts/{state['email']}"
    elif type_ in ("gcp:compute/network:Network", "gcp:compute/subnetwork:Subnetwork"):
        state["selfLink"] = f"https://www.googleapis.com/compute/v1/projects/{inputs.get('project')}/{name}"
    elif type_ == "gcp:storage/bucket:Bucket":
        state["url"] = f"gs://{inputs.get('name')}"
    elif type_ == "gcp:filestore/instance:Instance":
        state["networks"] = [dict(n, ipAddresses=["10.70.0.2"]) for n in inputs.get("networks", [])]
    return state


def call_result(token: str, args: dict[str, Any], region: str) -> dict[str, Any]:
    """Results of provider functions (data sources) the program may call."""
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/kubeforge", "userId": "AIDAKUBEFORGE"}
    if token == "aws:index/getPartition:getPartition":
        return {"partition": "aws", "dnsSuffix": "amazonaws.com"}
    if token == "aws:index/getRegion:getRegion":
        return {"name": region, "region": region}
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        return {"names": [f"{region}{z}" for z in "abcd"], "zoneIds": [f"usw2-az{i}" for i in range(1, 5)]}
    if token == "gcp:organizations/getProject:getProject":
        return {"number": GCP_PROJECT_NUMBER, "projectId": args.get("projectId")}
    if token == "gcp:compute/getZones:getZones":
        return {"names": [f"{region}-{z}" for z in "abcf"]}
    raise UnsupportedCall(token)


class UnsupportedCall(Exception):
    """The program called a provider function the offline engine cannot answer."""

    def __init__(self, token: str):
        super().__init__(
            f"the offline engine has no result for provider function {token}; "
            "add it to kubeforge/engine/outputs.py:call_result"
        )
