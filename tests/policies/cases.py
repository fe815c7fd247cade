"""For every rule: resources that pass it and resources that break it, with the name of the
resource a violation must name. Small and hand-built, in the engine's shapes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kubeforge_policies.model import PolicyResource

from tests.policies.builders import daemonset, gpu_node_group, k8s, res, tenant


@dataclass(frozen=True)
class Case:
    rule: str
    good: list[PolicyResource]
    bad: list[PolicyResource]
    names: str
    """The resource name each violation of ``bad`` names ("the stack" for a stack-wide one)."""
    params: dict[str, Any] | None = None


EKS = "aws:eks/cluster:Cluster"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
NG = "aws:eks/nodeGroup:NodeGroup"
GKE = "gcp:container/cluster:Cluster"
POOL = "gcp:container/nodePool:NodePool"

EKS_GOOD = {
    "accessConfig": {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False},
    "deletionProtection": True,
    "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
    "encryptionConfig": {"provider": {"keyArn": "arn:aws:kms:us-west-2:1:key/k"}, "resources": ["secrets"]},
    "vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": False},
}
LT_GOOD = {
    "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeSize": 200}}],
    "metadataOptions": {"httpEndpoint": "enabled", "httpPutResponseHopLimit": 1, "httpTokens": "required"},
    "networkInterfaces": [{"deviceIndex": 0, "interfaceType": "efa"}],
}
GKE_GOOD = {
    "databaseEncryption": {"keyName": "projects/p/locations/l/keyRings/r/cryptoKeys/k", "state": "ENCRYPTED"},
    "deletionProtection": True, "enableLegacyAbac": False, "enableShieldedNodes": True,
    "masterAuth": {"clientCertificateConfig": {"issueClientCertificate": False}},
    "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "10.0.0.0/8"}]},
    "privateClusterConfig": {"enablePrivateEndpoint": True, "enablePrivateNodes": True},
    "removeDefaultNodePool": True, "workloadIdentityConfig": {"workloadPool": "p.svc.id.goog"},
}
POOL_GOOD = {"nodeConfig": {
    "serviceAccount": "nodes@p.iam.gserviceaccount.com",
    "shieldedInstanceConfig": {"enableSecureBoot": True}, "workloadMetadataConfig": {"mode": "GKE_METADATA"}}}


def patch(props: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``props`` with ``path`` ("a.b.c") set to ``value`` (None: removed)."""
    out = json.loads(json.dumps(props))
    node = out
    keys = path.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    if value is None:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value
    return out


def one(type_: str, good: dict, bad: dict, rule: str, params: dict | None = None) -> Case:
    return Case(rule, [res(type_, good, "good")], [res(type_, bad, "bad")], "bad", params)


OIDC = "oidc.eks.us-west-2.amazonaws.com/id/ABC"


def trust(sub: Any, *, operator: str = "StringEquals", aud: str | None = "sts.amazonaws.com") -> str:
    condition: dict[str, Any] = {operator: {f"{OIDC}:sub": sub}}
    if aud:
        condition.setdefault("StringEquals", {})[f"{OIDC}:aud"] = aud
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::1:oidc-provider/{OIDC}"},
        "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}]})


def policy(*actions: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "S", "Effect": "Allow", "Action": list(actions), "Resource": "*"}]})


def s3_bucket(name: str, tenant_name: str | None = None) -> PolicyResource:
    tags = {"kubeforge.io/tenant": tenant_name} if tenant_name else {}
    return res("aws:s3/bucket:Bucket", {"bucket": name, "forceDestroy": False, "tags": tags}, name,
               protect=True, retain=True)


def s3_companions(name: str, *, algorithm: str = "aws:kms", versioning: str = "Enabled", public: bool = True,
                  tls: bool = True) -> list[PolicyResource]:
    urn = f"urn:pulumi:test::kubeforge::aws:s3/bucket:Bucket::{name}"
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false" if tls else "true"}}}
    return [
        res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            {"bucket": name, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": algorithm}}]},
            f"{name}-encryption", deps=(urn,)),
        res("aws:s3/bucketVersioning:BucketVersioning", {"bucket": name, "versioningConfiguration": {
            "status": versioning}}, f"{name}-versioning", deps=(urn,)),
        res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            {"bucket": name, "blockPublicAcls": True, "blockPublicPolicy": public, "ignorePublicAcls": True,
             "restrictPublicBuckets": True}, f"{name}-public-access", deps=(urn,)),
        res("aws:s3/bucketPolicy:BucketPolicy", {"bucket": name, "policy": json.dumps(
            {"Version": "2012-10-17", "Statement": [deny]})}, f"{name}-policy", deps=(urn,)),
    ]


GCS_GOOD = {"encryption": {"defaultKmsKeyName": "projects/p/locations/l/keyRings/r/cryptoKeys/k"},
            "forceDestroy": False, "name": "b", "publicAccessPrevention": "enforced",
            "uniformBucketLevelAccess": True, "versioning": {"enabled": True}}


def gpu_operator(strategy: str = "mixed") -> PolicyResource:
    return res("kubernetes:helm.sh/v3:Release", {"chart": "gpu-operator", "version": "v26.7.0", "values": {
        "mig": {"strategy": strategy},
        "migManager": {"enabled": True, "config": {"name": "kubeforge-mig-parted-config", "default": "all-disabled"}},
    }}, "gpu-operator-release")


def mig_config(devices: dict[str, int]) -> PolicyResource:
    config = {"version": "v1", "mig-configs": {
        "all-disabled": [{"devices": "all", "mig-enabled": False}],
        "kubeforge-a100": [{"devices": "all", "mig-enabled": True, "mig-devices": devices}]}}
    import yaml

    return k8s("ConfigMap", "kubeforge-mig-parted-config", "gpu-operator", resource_name="gpu-operator-mig-config",
               data={"config.yaml": yaml.safe_dump(config)})


def cuda_image_pod() -> PolicyResource:
    return k8s("Pod", "trainer", "speech-ai", spec={"containers": [
        {"name": "t", "image": "pytorch/pytorch:2.9.1-cuda12.8-cudnn9-runtime"}]})


def nfs_class(sub_dir: str) -> PolicyResource:
    return k8s("StorageClass", "kubeforge-nas", provisioner="nfs.csi.k8s.io",
               parameters={"server": "nas", "share": "/export/kf", "subDir": sub_dir})


def claim(namespace: str) -> PolicyResource:
    return k8s("PersistentVolumeClaim", f"{namespace}-nas", namespace, labels={"kubeforge.io/tenant": namespace},
               spec={"storageClassName": "kubeforge-nas"})


def launcher(namespace: str, root: str) -> PolicyResource:
    return k8s("ConfigMap", "kfp-launcher", namespace, labels={"kubeforge.io/tenant": namespace},
               data={"defaultPipelineRoot": root})


def binding(kind: str, role: str, namespace: str | None, subject: dict[str, str], name: str) -> PolicyResource:
    return k8s(kind, name, namespace, resource_name=name,
               roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
               subjects=[subject])


ALICE = {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice@example.com"}
OWNER = binding("RoleBinding", "admin", "a", ALICE, "a-owner")

CASES: list[Case] = [
    # --- EKS
    one(EKS, EKS_GOOD, patch(EKS_GOOD, "vpcConfig.endpointPublicAccess", True), "eks-endpoint-private"),
    Case("eks-endpoint-private",
         [res(EKS, patch(patch(EKS_GOOD, "vpcConfig.endpointPublicAccess", True), "vpcConfig.publicAccessCidrs",
                         ["203.0.113.8/29"]), "good")],
         [res(EKS, patch(patch(EKS_GOOD, "vpcConfig.endpointPublicAccess", True), "vpcConfig.publicAccessCidrs",
                         ["0.0.0.0/0"]), "bad")], "bad", {"allowedPublicCidrs": ["203.0.113.0/24"]}),
    one(EKS, EKS_GOOD, patch(EKS_GOOD, "encryptionConfig", None), "eks-secrets-encryption"),
    one(EKS, EKS_GOOD, patch(EKS_GOOD, "enabledClusterLogTypes", ["api", "audit"]), "eks-control-plane-logging"),
    one(EKS, EKS_GOOD, patch(EKS_GOOD, "deletionProtection", False), "eks-deletion-protection"),
    one(EKS, EKS_GOOD, patch(EKS_GOOD, "accessConfig.bootstrapClusterCreatorAdminPermissions", True),
        "eks-no-implicit-creator-admin"),
    one(LT, LT_GOOD, patch(LT_GOOD, "metadataOptions.httpTokens", "optional"), "eks-node-imdsv2"),
    one(LT, LT_GOOD, patch(LT_GOOD, "metadataOptions.httpPutResponseHopLimit", 2), "eks-node-imds-hop-limit"),
    one(LT, LT_GOOD, patch(LT_GOOD, "blockDeviceMappings", [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false"}}]),
        "eks-node-encrypted-volumes"),
    one(LT, LT_GOOD, patch(LT_GOOD, "networkInterfaces", [{"deviceIndex": 0, "associatePublicIpAddress": "true"}]),
        "eks-node-no-public-ip"),
    one(NG, {"launchTemplate": {"id": "lt-1", "version": "1"}}, {"remoteAccess": {"ec2SshKey": "k"}},
        "eks-node-group-launch-template"),
    # --- GKE
    one(GKE, GKE_GOOD, patch(GKE_GOOD, "privateClusterConfig.enablePrivateNodes", False), "gke-private-nodes"),
    one(GKE, patch(GKE_GOOD, "privateClusterConfig.enablePrivateEndpoint", False),
        patch(patch(GKE_GOOD, "privateClusterConfig.enablePrivateEndpoint", False),
              "masterAuthorizedNetworksConfig.cidrBlocks", [{"cidrBlock": "0.0.0.0/0"}]),
        "gke-control-plane-restricted"),
    one(GKE, GKE_GOOD, patch(GKE_GOOD, "workloadIdentityConfig", None), "gke-workload-identity"),
    one(GKE, GKE_GOOD, patch(GKE_GOOD, "enableShieldedNodes", False), "gke-shielded-nodes"),
    one(POOL, POOL_GOOD, patch(POOL_GOOD, "nodeConfig.shieldedInstanceConfig.enableSecureBoot", False),
        "gke-node-secure-boot"),
    one(GKE, GKE_GOOD, patch(GKE_GOOD, "databaseEncryption.state", "DECRYPTED"), "gke-secrets-encryption"),
    one(GKE, GKE_GOOD, patch(GKE_GOOD, "enableLegacyAbac", True), "gke-no-legacy-abac"),
    one(GKE, GKE_GOOD, patch(GKE_GOOD, "masterAuth.clientCertificateConfig.issueClientCertificate", True),
        "gke-no-client-certificate"),
    one(POOL, POOL_GOOD, patch(POOL_GOOD, "nodeConfig.workloadMetadataConfig.mode", "GCE_METADATA"),
        "gke-node-metadata-server"),
    one(GKE, GKE_GOOD, patch(GKE_GOOD, "deletionProtection", False), "gke-deletion-protection"),
    one(POOL, POOL_GOOD, patch(POOL_GOOD, "nodeConfig.serviceAccount", "123-compute@developer.gserviceaccount.com"),
        "gke-node-service-account"),
    # --- IAM
    one("aws:iam/rolePolicy:RolePolicy", {"policy": policy("s3:GetObject")}, {"policy": policy("s3:*")},
        "aws-iam-no-wildcard-actions"),
    one("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"policyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"},
        {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}, "aws-iam-no-admin-policies"),
    one("aws:iam/role:Role", {"assumeRolePolicy": trust("system:serviceaccount:a:a-storage")},
        {"assumeRolePolicy": trust("system:serviceaccount:a:*", operator="StringLike")}, "aws-irsa-trust-scoped"),
    one("aws:iam/role:Role", {"assumeRolePolicy": trust(["system:serviceaccount:a:x", "system:serviceaccount:a:y"])},
        {"assumeRolePolicy": trust(["system:serviceaccount:a:x", "system:serviceaccount:b:y"])},
        "aws-irsa-trust-scoped"),
    one("aws:iam/role:Role", {"assumeRolePolicy": trust("system:serviceaccount:a:x")},
        {"assumeRolePolicy": trust("system:serviceaccount:a:x", aud=None)}, "aws-irsa-trust-scoped"),
    one("aws:iam/role:Role", {"assumeRolePolicy": trust("system:serviceaccount:a:x")},
        {"assumeRolePolicy": trust(["system:serviceaccount:a:x", "system:serviceaccount:a:y"])},
        "aws-irsa-trust-single-service-account"),
    one("gcp:serviceaccount/iAMMember:IAMMember",
        {"role": "roles/iam.workloadIdentityUser", "member": "serviceAccount:p.svc.id.goog[a/a-storage]"},
        {"role": "roles/iam.workloadIdentityUser", "member": "principalSet://iam.googleapis.com/projects/1/locations/"
                                                             "global/workloadIdentityPools/p.svc.id.goog/namespace/a"},
        "gcp-workload-identity-scoped"),
    one("gcp:projects/iAMMember:IAMMember", {"role": "roles/artifactregistry.reader", "member": "serviceAccount:n"},
        {"role": "roles/editor", "member": "serviceAccount:n"}, "gcp-iam-no-primitive-roles"),
    # --- storage
    Case("aws-s3-encryption", [s3_bucket("b"), *s3_companions("b")],
         [s3_bucket("bad"), *s3_companions("bad", algorithm="AES256")], "bad"),
    Case("aws-s3-versioning", [s3_bucket("b"), *s3_companions("b")],
         [s3_bucket("bad"), *s3_companions("bad", versioning="Suspended")], "bad"),
    Case("aws-s3-public-access-blocked", [s3_bucket("b"), *s3_companions("b")],
         [s3_bucket("bad"), *s3_companions("bad", public=False)], "bad"),
    Case("aws-s3-tls-only", [s3_bucket("b"), *s3_companions("b")],
         [s3_bucket("bad"), *s3_companions("bad", tls=False)], "bad"),
    one("aws:efs/fileSystem:FileSystem", {"encrypted": True, "kmsKeyId": "arn:k"}, {"encrypted": False},
        "aws-efs-encrypted"),
    one("aws:kms/key:Key", {"enableKeyRotation": True}, {"enableKeyRotation": False}, "aws-kms-key-rotation"),
    one("gcp:kms/cryptoKey:CryptoKey", {"rotationPeriod": "7776000s"}, {"rotationPeriod": "31536000s"},
        "gcp-kms-key-rotation"),
    one("gcp:storage/bucket:Bucket", GCS_GOOD, patch(GCS_GOOD, "encryption", None), "gcs-bucket-cmek"),
    one("gcp:storage/bucket:Bucket", GCS_GOOD, patch(GCS_GOOD, "versioning.enabled", False), "gcs-bucket-versioning"),
    one("gcp:storage/bucket:Bucket", GCS_GOOD, patch(GCS_GOOD, "publicAccessPrevention", "inherited"),
        "gcs-bucket-public-access-prevented"),
    one("gcp:storage/bucket:Bucket", GCS_GOOD, patch(GCS_GOOD, "uniformBucketLevelAccess", False),
        "gcs-bucket-uniform-access"),
    # --- Kubernetes
    Case("k8s-pod-no-privileged", [daemonset("nvidia-driver-580-95-05", "kube-system", privileged=True)],
         [daemonset("debug-shell", "kube-system", privileged=True)], "ds-debug-shell"),
    Case("k8s-pod-no-host-access", [daemonset("istio-cni-node", "istio-system", host_path=True)],
         [daemonset("node-exporter", "monitoring", host_pid=True, host_path=True)], "ds-node-exporter"),
    Case("k8s-image-pinned", [daemonset("a", "monitoring")], [daemonset("b", "monitoring", image="busybox:latest")],
         "ds-b"),
    Case("k8s-container-resource-requests", [daemonset("a", "monitoring")],
         [daemonset("b", "monitoring", requests=False)], "ds-b"),
    Case("k8s-container-memory-limit", [daemonset("a", "monitoring")], [daemonset("b", "monitoring", limits=False)],
         "ds-b"),
    Case("k8s-tenant-pod-security", tenant("a")[:1], tenant("bad", psa="privileged")[:1], "tenant-bad-namespace"),
    Case("k8s-tenant-resource-quota", tenant("a"), [t for t in tenant("bad") if t.kind != "ResourceQuota"],
         "tenant-bad-namespace"),
    Case("k8s-tenant-limit-range", tenant("a"), [t for t in tenant("bad") if t.kind != "LimitRange"],
         "tenant-bad-namespace"),
    Case("k8s-tenant-default-deny", tenant("a"), [t for t in tenant("bad") if t.kind != "NetworkPolicy"],
         "tenant-bad-namespace"),
    Case("k8s-no-cluster-admin-for-tenants", [*tenant("a"), OWNER],
         [*tenant("a"), OWNER, binding("ClusterRoleBinding", "cluster-admin", None, ALICE, "alice-admin")],
         "alice-admin"),
    # --- GPU
    Case("gpu-pool-tainted", [gpu_node_group()], [gpu_node_group("bad", taints=False)], "bad"),
    Case("gpu-driver-pinned", [gpu_node_group()],
         [res(POOL, {"nodeConfig": {"guestAccelerators": [{"count": 1, "type": "nvidia-l4"}]}}, "bad")], "bad"),
    Case("gpu-driver-runs-cuda", [gpu_node_group(), cuda_image_pod()],
         [gpu_node_group("bad", driver="535.54.03"), cuda_image_pod()], "bad"),
    Case("gpu-mig-config-valid", [gpu_node_group(mig="kubeforge-a100"), gpu_operator(), mig_config({"3g.40gb": 2})],
         [gpu_node_group("bad", mig="kubeforge-a100"), gpu_operator(), mig_config({"3g.40gb": 3})], "bad"),
    # --- data protection
    Case("stateful-resources-protected", [res(EKS, EKS_GOOD, "good", protect=True)], [res(EKS, EKS_GOOD, "bad")],
         "bad"),
    Case("data-stores-retained-on-delete", [res("gcp:storage/bucket:Bucket", GCS_GOOD, "good", retain=True)],
         [res("gcp:storage/bucket:Bucket", GCS_GOOD, "bad", protect=True)], "bad"),
    one("aws:s3/bucket:Bucket", {"bucket": "b", "forceDestroy": False}, {"bucket": "b", "forceDestroy": True},
        "buckets-no-force-destroy"),
    Case("aws-efs-backup-enabled",
         [res("aws:efs/fileSystem:FileSystem", {"encrypted": True}, "fs"),
          res("aws:efs/backupPolicy:BackupPolicy", {"backupPolicy": {"status": "ENABLED"}}, "fs-backup",
              deps=("urn:pulumi:test::kubeforge::aws:efs/fileSystem:FileSystem::fs",))],
         [res("aws:efs/fileSystem:FileSystem", {"encrypted": True}, "bad")], "bad"),
    # --- supply chain
    one("kubernetes:helm.sh/v3:Release", {"chart": "volcano", "version": "1.15.1"},
        {"chart": "volcano", "version": "^1.15.0"}, "helm-chart-version-pinned"),
    one("kubernetes:helm.sh/v3:Release", {"chart": "volcano", "repositoryOpts": {"repo": "https://charts.example"}},
        {"chart": "volcano", "repositoryOpts": {"repo": "http://charts.example"}}, "helm-chart-repository-secure"),
    one("kubernetes:kustomize/v2:Directory",
        {"directory": "https://github.com/kubeflow/community-distribution//applications/pipeline/overlays?ref=26.03"},
        {"directory": "https://github.com/kubeflow/community-distribution//applications/pipeline/overlays?ref=master"},
        "kustomize-ref-pinned"),
    # --- stack
    Case("tenant-namespace-own-queue", tenant("a"), [t for t in tenant("bad") if t.kind != "Queue"],
         "tenant-bad-namespace"),
    Case("tenant-gpu-guarantees-within-capacity", [gpu_node_group(max_size=1), *tenant("a", guarantee=8)],
         [gpu_node_group(max_size=1), *tenant("a", guarantee=6), *tenant("b", guarantee=6)], "the stack"),
    Case("tenants-share-no-namespace", [*tenant("a"), *tenant("b")],
         [*tenant("a"), k8s("ConfigMap", "x", "a", labels={"kubeforge.io/tenant": "b"})], "tenant-a-namespace"),
    Case("tenants-share-no-queue", [*tenant("a"), *tenant("b")], [*tenant("a"), *tenant("b", queue="a")],
         "tenant-a-namespace"),
    Case("tenants-share-no-bucket", [launcher("a", "s3://kf-a/pipelines"), launcher("b", "s3://kf-b/pipelines")],
         [launcher("a", "s3://kf/pipelines"), launcher("b", "s3://kf/pipelines")], "configmap-b-kfp-launcher"),
    Case("tenants-share-no-nas-path",
         [*tenant("a"), *tenant("b"), nfs_class("${pvc.metadata.namespace}/${pvc.metadata.name}"), claim("a"),
          claim("b")],
         [*tenant("a"), *tenant("b"), nfs_class("shared"), claim("a"), claim("b")], "persistentvolumeclaim-a-a-nas"),
]
