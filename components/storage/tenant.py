"""A tenant's storage: its NAS volume, and a bucket that only the tenant's identity reaches.

In the tenant's namespace (created by the tenant's ``TenantNamespace``):
- ``<tenant>-nas``: a ReadWriteMany claim of ``storage.nas`` on the kubeforge-nas class;
- aws: an S3 bucket (SSE-KMS with the cluster's data key, versioned, public access blocked,
  ACLs disabled, TLS only, old versions expiring) and an IAM role whose only trust is the
  ServiceAccount ``<tenant>-storage`` (IRSA) and whose only grants are that bucket and the
  key, for that bucket;
- gcp: a GCS bucket (uniform access, public access prevented, versioned, old versions
  expiring, CMEK unless ``cmek: false``) and a Google service account with object access to
  that bucket only, which ``<tenant>-storage`` impersonates (Workload Identity);
- onprem: the Secret ``<tenant>-object-store`` with the tenant's access keys, and a ConfigMap
  of that name with the endpoint and the bucket (the keys are scoped to the bucket by the
  store: kubeforge's SeaweedFS identities, or the external store's administrators).

One bucket per tenant, not prefixes of a shared bucket: the bucket is the unit S3 and GCS
scope policies, encryption, versioning, metrics, cost allocation and deletion by, so a
tenant's grant is one resource ARN with no prefix conditions to get wrong, and deleting a
tenant is deleting one bucket. The default limit of 10,000 general purpose buckets per AWS
account is above the 5,000 tenants a stack may list.
Ref: https://docs.aws.amazon.com/AmazonS3/latest/userguide/BucketRestrictions.html

The identity is a ServiceAccount kubeforge owns, ``<tenant>-storage``: a workload opts in with
``serviceAccountName``. Where Pipelines is installed the role also trusts Kubeflow's
``default-editor`` in the same namespace, because KFP runs every step of a tenant's runs as
that account (components/ml/pipelines.py); since notebooks run as default-editor too, every
pod the tenant's members start then reaches the tenant's bucket, and still nothing outside the
namespace does. The policy pack reports this as advisory (aws-irsa-trust-single-service-account).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.component import AwsClusterRefs, ClusterAccess, GcpClusterRefs, PlatformComponent
from components.labels import recommended_labels
from components.storage.common import KEEP_DATA, bounded_name, credential, irsa_trust_policy
from components.storage.seaweedfs import PIN as SEAWEEDFS_PIN
from components.storage.seaweedfs import s3_endpoint
from components.labels import TENANT_LABEL
from kubeforge.config.resolved import NAS_STORAGE_CLASS, ResolvedStack

# Ref: https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
# Ref: https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity
WORKLOAD_IDENTITY_ANNOTATION = "iam.gke.io/gcp-service-account"
# Create, read, update and delete objects (and multipart uploads); nothing on the bucket itself.
# Ref: https://cloud.google.com/storage/docs/access-control/iam-roles
GCS_OBJECT_ROLE = "roles/storage.objectUser"
# Deleting an object leaves a delete marker; old versions go only by the lifecycle rule, so
# tenants get no s3:DeleteObjectVersion. Ref: https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html
S3_BUCKET_ACTIONS = ["s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads",
                     "s3:GetBucketLocation"]
S3_OBJECT_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject",
                     "s3:GetObjectTagging", "s3:PutObjectTagging", "s3:AbortMultipartUpload",
                     "s3:ListMultipartUploadParts"]
ABORT_MULTIPART_DAYS = 7


PIPELINE_RUNNER = "default-editor"
"""The ServiceAccount Kubeflow Pipelines runs use in a profile namespace (the API server's
DEFAULTPIPELINERUNNERSERVICEACCOUNT at 2.16.0); the profile controller creates it only where
it does not exist (updateServiceAccount, kubeflow v1.10.0), so kubeforge's, with the bucket's
identity, stands."""
KFP_LAUNCHER = "kfp-launcher"
"""The per-namespace configuration of KFP v2's launcher: where a run's artifacts go and with
which credentials (backend/src/v2/config/env.go at 2.16.0). KFP's profile controller creates
it only where it does not exist (Metacontroller never adopts), so kubeforge's stands.
Ref: https://www.kubeflow.org/docs/components/pipelines/operator-guides/configure-object-store/"""


def _registered(key: str) -> bool:
    from components import registry  # the registry imports this module

    return any(c.key == key for c in registry.REGISTRY)


def kfp_launcher_config(bucket: str, *, target: str, region: str | None = None, endpoint: str | None = None,
                        secret: str | None = None) -> dict[str, str]:
    """The tenant's pipeline root in its own bucket, reached with its own identity: IRSA or
    Workload Identity on the run's ServiceAccount (fromEnv), on-prem the tenant's keys."""
    if target == "gcp":
        root, providers = f"gs://{bucket}/pipelines", {"gs": {"default": {"credentials": {"fromEnv": True}}}}
    elif target == "aws":
        root = f"s3://{bucket}/pipelines"
        providers = {"s3": {"default": {"region": region, "credentials": {"fromEnv": True}}}}
    else:
        scheme, _, host = (endpoint or "").partition("://")
        root = f"s3://{bucket}/pipelines"
        providers = {"s3": {"default": {
            "endpoint": host.rstrip("/"), "disableSSL": scheme == "http", "forcePathStyle": True,
            "credentials": {"fromEnv": False, "secretRef": {
                "secretName": secret, "accessKeyKey": "AWS_ACCESS_KEY_ID", "secretKeyKey": "AWS_SECRET_ACCESS_KEY"}},
        }}}
    return {"defaultPipelineRoot": root, "providers": json.dumps(providers, sort_keys=True)}


def service_account_name(tenant: str) -> str:
    return f"{tenant}-storage"


def object_store_name(tenant: str) -> str:
    """The Secret (keys) and ConfigMap (endpoint, bucket) of an on-prem tenant's bucket."""
    return f"{tenant}-object-store"


def s3_tenant_policy(bucket_arn: str, key_arn: str, region: str) -> dict[str, Any]:
    """The tenant's bucket and its objects, and the data key only as S3 uses it for that
    bucket: with S3 Bucket Keys the encryption context is the bucket's ARN.
    Ref: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html#bucket-key-changes ;
    https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service"""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "TheBucket", "Effect": "Allow", "Action": S3_BUCKET_ACTIONS, "Resource": bucket_arn},
            {"Sid": "ItsObjects", "Effect": "Allow", "Action": S3_OBJECT_ACTIONS, "Resource": f"{bucket_arn}/*"},
            {
                "Sid": "ItsKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": key_arn,
                "Condition": {"StringEquals": {
                    "kms:ViaService": f"s3.{region}.amazonaws.com",
                    "kms:EncryptionContext:aws:s3:arn": bucket_arn,
                }},
            },
        ],
    }


def deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    """Refuse every request not made over TLS.
    Ref: https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html#transit"""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    }


def gcp_account_id(tenant: str, bucket: str) -> str:
    """6 to 30 characters, a letter first; the bucket's hash keeps two stacks in one project
    apart. Ref: https://cloud.google.com/iam/docs/service-accounts-create#creating"""
    head = f"kf-{tenant}"[:21].rstrip("-")
    return f"{head}-{hashlib.sha256(bucket.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class TenantBucket:
    """A tenant's bucket as the stack configures it."""

    name: str
    """Globally unique bucket name (ObjectStorageSpec.bucket_name)."""
    noncurrent_version_days: int
    """Days an old object version is kept (S3, GCS)."""
    retain_on_delete: bool
    """Keep the bucket if Pulumi ever deletes it from the stack (it is protected either way)."""
    endpoint: str | None
    """On-prem: the S3 endpoint the tenant uses (the external service, or SeaweedFS's)."""


@dataclass(frozen=True)
class TenantStorageArgs:
    tenant: str
    """Tenant name; also its namespace."""
    nas: str | None
    """Size of the tenant's NAS claim; None: no claim (no NAS on the stack, or none asked for)."""
    bucket: TenantBucket | None
    """The tenant's bucket; None: no bucket."""
    aws: AwsClusterRefs | None
    """aws: provider, OIDC provider and data key."""
    gcp: GcpClusterRefs | None
    """gcp: provider, project, Workload Identity pool and data key."""
    credentials: pulumi.Output[Any] | None
    """On-prem: the secret kubeforge:objectStoreCredentials value; None: no Secret."""
    pipeline_runner: str | None
    """Where Kubeflow Pipelines is installed: the ServiceAccount its runs use in the tenant's
    namespace (default-editor), given the bucket's identity, and the runs' artifacts go to
    the bucket (kfp-launcher)."""
    region: str | None
    """aws: the bucket's region, for the pipelines' S3 client."""
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""


class TenantStorage(PlatformComponent):
    """A tenant's NAS claim, bucket and storage identity."""

    key = "tenantStorage"
    type_token = "kubeforge:storage:TenantStorage"
    depends_on = ("tenants", "efsNas", "filestoreNas", "nfsNas", "seaweedfs")
    args_type = TenantStorageArgs
    concern = "storage"

    @classmethod
    def tenant_of(cls, instance: str) -> str | None:
        return instance.removeprefix("storage-")

    @classmethod
    def instances(cls, stack: ResolvedStack, cluster: ClusterAccess) -> dict[str, TenantStorageArgs]:
        file, obj = stack.storage.file, stack.storage.object
        endpoint = None
        if stack.target == "onprem":
            endpoint = obj.endpoint if obj.store == "external" else s3_endpoint(
                stack.release.storage[SEAWEEDFS_PIN].namespace)
        out = {}
        for tenant, spec in stack.tenants.items():
            nas = str(spec.storage.nas) if file.enabled and spec.storage.nas is not None else None
            bucket = None
            if obj.enabled and spec.storage.bucket:
                bucket = TenantBucket(name=obj.bucket_name(stack.stack, tenant),
                                      noncurrent_version_days=obj.noncurrent_version_days,
                                      retain_on_delete=obj.retain_on_delete, endpoint=endpoint)
            if nas is None and bucket is None:
                continue
            out[f"storage-{tenant}"] = TenantStorageArgs(
                tenant=tenant, nas=nas, bucket=bucket, aws=cluster.aws, gcp=cluster.gcp,
                credentials=cluster.object_store_credentials if stack.target == "onprem" else None,
                pipeline_runner=PIPELINE_RUNNER if "pipelines" in stack.components and _registered("pipelines") else None,
                region=cluster.aws.region if cluster.aws is not None else None,
                provider=cluster.provider,
            )
        return out

    @classmethod
    def namespace(cls, stack: ResolvedStack) -> str | None:
        return None  # each tenant's own

    def __init__(self, name: str, args: TenantStorageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, args, opts)
        self._runner = args.pipeline_runner
        self._region = args.region
        self._k8s = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self._labels = {**recommended_labels(name="tenant-storage", instance=name, component=self.concern),
                        TENANT_LABEL: args.tenant}
        outputs: dict[str, Any] = {}
        if args.nas is not None:
            outputs["nas"] = self._nas(name, args).metadata.name
        if args.bucket is not None:
            outputs["bucket"] = args.bucket.name
            if args.aws is not None:
                outputs["serviceAccount"] = self._s3(name, args.tenant, args.bucket, args.aws)
            elif args.gcp is not None:
                outputs["serviceAccount"] = self._gcs(name, args.tenant, args.bucket, args.gcp)
            elif args.credentials is not None:
                outputs["secret"] = self._credentials(name, args.tenant, args.bucket, args.credentials)
        self.register_outputs(outputs)

    def _meta(self, name: str, tenant: str, annotations: dict | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name, "namespace": tenant, "labels": self._labels}
        if annotations:
            meta["annotations"] = annotations
        return meta

    def _nas(self, name: str, args: TenantStorageArgs) -> k8s.core.v1.PersistentVolumeClaim:
        return k8s.core.v1.PersistentVolumeClaim(
            f"{name}-nas",
            metadata=self._meta(f"{args.tenant}-nas", args.tenant),
            spec={
                "accessModes": ["ReadWriteMany"],
                "storageClassName": NAS_STORAGE_CLASS,
                "resources": {"requests": {"storage": args.nas}},
            },
            opts=pulumi.ResourceOptions.merge(self._k8s, KEEP_DATA),
        )

    def _service_account(self, name: str, tenant: str, annotation: str,
                         identity: pulumi.Output[str]) -> pulumi.Output[str]:
        account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=self._meta(service_account_name(tenant), tenant, {annotation: identity}),
            opts=self._k8s,
        )
        return account.metadata.name

    def _s3(self, name: str, tenant: str, spec: TenantBucket, refs: AwsClusterRefs) -> pulumi.Output[str]:
        import pulumi_aws as aws  # only on aws: the provider SDK is slow to import

        assert refs.data_key_arn is not None, "the cluster creates the data key when storage is on"
        child = pulumi.ResourceOptions(parent=self, provider=refs.provider)
        tags = {**refs.tags, TENANT_LABEL: tenant}
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=spec.name,
            force_destroy=False,
            tags=tags,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                protect=True, retain_on_delete=spec.retain_on_delete)),
        )
        # ACLs disabled: the bucket owner owns every object.
        # Ref: https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
        aws.s3.BucketOwnershipControls(f"{name}-bucket-ownership", bucket=bucket.id,
                                       rule={"object_ownership": "BucketOwnerEnforced"}, opts=child)
        # Ref: https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
        public = aws.s3.BucketPublicAccessBlock(
            f"{name}-bucket-public-access", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=child,
        )
        versioning = aws.s3.BucketVersioning(f"{name}-bucket-versioning", bucket=bucket.id,
                                             versioning_configuration={"status": "Enabled"}, opts=child)
        # Ref: https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-bucket-encryption",
            bucket=bucket.id,
            rules=[{
                "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms",
                                                            "kms_master_key_id": refs.data_key_arn},
                "bucket_key_enabled": True,
            }],
            opts=child,
        )
        # Ref: https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-configuration-examples.html
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-bucket-lifecycle",
            bucket=bucket.id,
            rules=[{
                "id": "expire-noncurrent-versions",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "noncurrent_version_expiration": {"noncurrent_days": spec.noncurrent_version_days},
                "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_DAYS},
            }],
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[versioning])),
        )
        aws.s3.BucketPolicy(
            f"{name}-bucket-policy",
            bucket=bucket.id,
            policy=bucket.arn.apply(lambda arn: json.dumps(deny_insecure_transport(arn))),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[public])),
        )
        account = service_account_name(tenant)
        accounts = [account, *([self._runner] if self._runner else [])]
        role = aws.iam.Role(
            f"{name}-role",
            name=bounded_name(f"{spec.name}-storage", 64),
            assume_role_policy=pulumi.Output.all(refs.oidc_provider_arn, refs.oidc_issuer).apply(
                lambda a: json.dumps(irsa_trust_policy(a[0], a[1], tenant, accounts))),
            tags=tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=role.id,
            policy=pulumi.Output.all(bucket.arn, refs.data_key_arn).apply(
                lambda a: json.dumps(s3_tenant_policy(a[0], a[1], refs.region))),
            opts=child,
        )
        self._pipelines(name, tenant, IRSA_ANNOTATION, role.arn,
                        kfp_launcher_config(spec.name, target="aws", region=self._region))
        return self._service_account(name, tenant, IRSA_ANNOTATION, role.arn)

    def _pipelines(self, name: str, tenant: str, annotation: str | None, identity: pulumi.Output[str] | None,
                   launcher: dict[str, str]) -> None:
        """Pipelines' runs in the tenant's namespace write to its bucket with its identity."""
        if self._runner is None:
            return
        # Written before or after the controllers that would create them (server-side apply
        # upserts; force takes the fields kubeforge sets).
        force = {"pulumi.com/patchForce": "true"}
        if annotation is not None:
            k8s.core.v1.ServiceAccount(
                f"{name}-pipeline-runner",
                metadata=self._meta(self._runner, tenant, {**force, annotation: identity}),
                opts=self._k8s,
            )
        k8s.core.v1.ConfigMap(f"{name}-kfp-launcher", metadata=self._meta(KFP_LAUNCHER, tenant, force),
                              data=launcher, opts=self._k8s)

    def _gcs(self, name: str, tenant: str, spec: TenantBucket, refs: GcpClusterRefs) -> pulumi.Output[str]:
        import pulumi_gcp as gcp  # only on gcp: the provider SDK is slow to import

        child = pulumi.ResourceOptions(parent=self, provider=refs.provider)
        bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            name=spec.name,
            project=refs.project,
            # A regional bucket next to the cluster, and the key ring (CMEK keys must share the
            # bucket's location). Ref: https://cloud.google.com/storage/docs/encryption/customer-managed-keys#restrictions
            location=refs.region.upper(),
            # Ref: https://cloud.google.com/storage/docs/uniform-bucket-level-access ;
            # https://cloud.google.com/storage/docs/public-access-prevention
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
            # Ref: https://cloud.google.com/storage/docs/lifecycle#dayssincenoncurrenttime
            lifecycle_rules=[{
                "action": {"type": "Delete"},
                "condition": {"days_since_noncurrent_time": spec.noncurrent_version_days, "with_state": "ARCHIVED"},
            }],
            encryption={"default_kms_key_name": refs.data_key_id} if refs.data_key_id is not None else None,
            force_destroy=False,
            labels={**refs.labels, "kubeforge-tenant": tenant},
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                protect=True, retain_on_delete=spec.retain_on_delete)),
        )
        identity = gcp.serviceaccount.Account(
            f"{name}-identity",
            account_id=gcp_account_id(tenant, spec.name),
            project=refs.project,
            display_name=f"Storage of tenant {tenant}: bucket {spec.name}",
            opts=child,
        )
        gcp.storage.BucketIAMMember(
            f"{name}-bucket-access", bucket=bucket.name, role=GCS_OBJECT_ROLE,
            member=identity.email.apply(lambda email: f"serviceAccount:{email}"), opts=child,
        )
        account = service_account_name(tenant)
        gcp.serviceaccount.IAMMember(
            f"{name}-workload-identity",
            service_account_id=identity.name,
            role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{refs.workload_pool}[{tenant}/{account}]",
            opts=child,
        )
        if self._runner is not None:
            gcp.serviceaccount.IAMMember(
                f"{name}-pipelines-workload-identity",
                service_account_id=identity.name,
                role="roles/iam.workloadIdentityUser",
                member=f"serviceAccount:{refs.workload_pool}[{tenant}/{self._runner}]",
                opts=child,
            )
        self._pipelines(name, tenant, WORKLOAD_IDENTITY_ANNOTATION, identity.email,
                        kfp_launcher_config(spec.name, target="gcp"))
        return self._service_account(name, tenant, WORKLOAD_IDENTITY_ANNOTATION, identity.email)

    def _credentials(self, name: str, tenant: str, spec: TenantBucket,
                     credentials: pulumi.Output[Any]) -> pulumi.Output[str]:
        """The keys in a Secret, where and which bucket in a ConfigMap of the same name (a
        pod takes both with envFrom), under the AWS SDKs' variable names so S3 clients need
        no configuration of their own.
        Ref: https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html"""
        object_store = object_store_name(tenant)
        k8s.core.v1.ConfigMap(
            f"{name}-object-store-endpoint",
            metadata=self._meta(object_store, tenant),
            data={"AWS_ENDPOINT_URL_S3": spec.endpoint or "", "S3_BUCKET": spec.name},
            opts=self._k8s,
        )
        secret = pulumi.Output.secret(credentials)
        keys = k8s.core.v1.Secret(
            f"{name}-object-store",
            metadata=self._meta(object_store, tenant),
            type="Opaque",
            string_data={
                "AWS_ACCESS_KEY_ID": secret.apply(lambda c: credential(c, tenant, "accessKeyId")),
                "AWS_SECRET_ACCESS_KEY": secret.apply(lambda c: credential(c, tenant, "secretAccessKey")),
            },
            opts=self._k8s,
        )
        self._pipelines(name, tenant, None, None, kfp_launcher_config(
            spec.name, target="onprem", endpoint=spec.endpoint, secret=object_store))
        return keys.metadata.name
