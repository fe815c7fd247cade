"""Object and file storage, and the keys that encrypt them: S3 and GCS buckets encrypted,
versioned, closed to the public (S3: TLS only); EFS encrypted; KMS keys rotated.

S3 sets a bucket's encryption, versioning, public access block and policy with separate
resources, so those four rules are stack rules: they find a bucket's companions by their
dependency on it or by the bucket name they name. GCS needs no TLS rule: its APIs are
served over HTTPS only (Ref: https://cloud.google.com/storage/docs/request-endpoints).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from kubeforge_policies.model import UNKNOWN, PolicyResource, UnknownValue, as_dict, as_list, is_true, stack_index
from kubeforge_policies.rule import Issue, Rule

S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
S3_ENCRYPTION = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                 "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
S3_VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
S3_PUBLIC_ACCESS = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
S3_ACCOUNT_PUBLIC_ACCESS = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
S3_POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
EFS = "aws:efs/fileSystem:FileSystem"
AWS_KMS_KEY = "aws:kms/key:Key"
GCP_KMS_KEY = "gcp:kms/cryptoKey:CryptoKey"
GCS_BUCKET = "gcp:storage/bucket:Bucket"


def bucket_name(bucket: PolicyResource) -> str | None:
    name = bucket.known("bucket")
    return name if isinstance(name, str) else None


def companions(bucket: PolicyResource, resources: Sequence[PolicyResource], types: Sequence[str]) -> list[PolicyResource]:
    """The resources of ``types`` that configure ``bucket``: they depend on it, or name it."""
    name = bucket_name(bucket)
    index = stack_index(resources)
    found = [r for r in index.dependents.get(bucket.urn, []) if r.type in types]
    if name is not None:
        found += [r for r in index.naming_bucket(tuple(types), name) if r not in found]
    return sorted(found, key=lambda r: r.urn)


def _buckets(resources: Sequence[PolicyResource]) -> list[PolicyResource]:
    return [r for r in resources if r.type in S3_BUCKETS]


def s3_encryption(resources: Sequence[PolicyResource], params: Mapping[str, Any]) -> Iterator[Issue]:
    allowed = list(params.get("allowedAlgorithms") or [])
    for bucket in _buckets(resources):
        algorithms = []
        for c in companions(bucket, resources, S3_ENCRYPTION):
            for rule in as_list(c.get("rules")):
                algorithms.append(as_dict(as_dict(rule).get("applyServerSideEncryptionByDefault")).get("sseAlgorithm"))
        inline = bucket.get("serverSideEncryptionConfiguration", "rule", "applyServerSideEncryptionByDefault",
                            "sseAlgorithm")
        if inline:
            algorithms.append(inline)
        if not any(a in allowed for a in algorithms):
            found = f"uses {', '.join(map(str, algorithms))}" if algorithms else "has no default encryption configuration"
            yield Issue(f"the bucket {found}",
                        f"add a BucketServerSideEncryptionConfiguration with sseAlgorithm {' or '.join(allowed)} and "
                        "a customer-managed KMS key", bucket)


def s3_versioning(resources: Sequence[PolicyResource], params: Mapping[str, Any]) -> Iterator[Issue]:
    for bucket in _buckets(resources):
        states = [c.get("versioningConfiguration", "status") for c in companions(bucket, resources, S3_VERSIONING)]
        if "Enabled" not in states and not is_true(bucket.get("versioning", "enabled", default=False)):
            yield Issue("versioning is not enabled, so an overwrite or delete loses the object",
                        'add a BucketVersioning with versioningConfiguration.status "Enabled"', bucket)


def s3_public_access_blocked(resources: Sequence[PolicyResource], params: Mapping[str, Any]) -> Iterator[Issue]:
    account = [r for r in resources if r.type == S3_ACCOUNT_PUBLIC_ACCESS
               and all(is_true(r.get(f, default=False)) for f in PUBLIC_ACCESS_FLAGS)]
    if account:
        return
    for bucket in _buckets(resources):
        blocks = companions(bucket, resources, S3_PUBLIC_ACCESS)
        if not any(all(is_true(b.get(f, default=False)) for f in PUBLIC_ACCESS_FLAGS) for b in blocks):
            yield Issue("public access is not blocked (all four of " + ", ".join(PUBLIC_ACCESS_FLAGS) + ")",
                        "add a BucketPublicAccessBlock with all four flags true", bucket)


def _denies_insecure_transport(document: Mapping[str, Any], name: str | None) -> bool:
    statements = document.get("Statement")
    for s in statements if isinstance(statements, list) else [statements]:
        s = as_dict(s)
        principal = s.get("Principal")
        if s.get("Effect") != "Deny" or not (principal == "*" or as_dict(principal).get("AWS") == "*"):
            continue
        actions = s.get("Action") if isinstance(s.get("Action"), list) else [s.get("Action")]
        if not {"s3:*", "*"} & set(actions):
            continue
        if str(as_dict(as_dict(s.get("Condition")).get("Bool")).get("aws:SecureTransport")).lower() != "false":
            continue
        targets = s.get("Resource") if isinstance(s.get("Resource"), list) else [s.get("Resource")]
        if name is None or {f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"} <= set(targets):
            return True
    return False


def _policy(value: Any) -> Mapping[str, Any]:
    if value == UNKNOWN:
        raise UnknownValue(["policy"])
    try:
        return as_dict(json.loads(value) if isinstance(value, str) else value)
    except ValueError:
        return {}


def s3_tls_only(resources: Sequence[PolicyResource], params: Mapping[str, Any]) -> Iterator[Issue]:
    for bucket in _buckets(resources):
        name = bucket_name(bucket)
        documents = [_policy(c.get("policy")) for c in companions(bucket, resources, S3_POLICY)]
        if bucket.get("policy"):
            documents.append(_policy(bucket.get("policy")))
        if not any(_denies_insecure_transport(d, name) for d in documents):
            yield Issue("no bucket policy denies requests without TLS",
                        'add a BucketPolicy statement: Effect Deny, Principal "*", Action "s3:*", Resource the '
                        'bucket and its objects, Condition {"Bool": {"aws:SecureTransport": "false"}}', bucket)


def efs_encrypted(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if not is_true(r.get("encrypted", default=False)):
        yield Issue("the file system is not encrypted at rest", "set encrypted: true with kmsKeyId")
    elif params.get("requireCustomerKey", True) and not r.get("kmsKeyId"):
        yield Issue("the file system is encrypted with the AWS-managed key", "set kmsKeyId to the platform's data key")


def aws_kms_rotation(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    spec = r.get("customerMasterKeySpec") or r.get("keySpec") or "SYMMETRIC_DEFAULT"
    if spec != "SYMMETRIC_DEFAULT" or r.get("keyUsage", default="ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
        return  # AWS rotates symmetric encryption keys only
    if not is_true(r.get("enableKeyRotation", default=False)):
        yield Issue("automatic key rotation is off", "set enableKeyRotation: true")


_SECONDS = re.compile(r"^(\d+(?:\.\d+)?)s$")


def gcp_kms_rotation(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if r.get("purpose", default="ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
        return  # Cloud KMS rotates symmetric encryption keys only
    days = int(params.get("maxRotationDays", 90))
    period = r.get("rotationPeriod")
    match = _SECONDS.match(str(period)) if period else None
    if match is None or float(match.group(1)) > days * 86400:
        yield Issue(f"rotationPeriod is {period or 'unset'}", f'set rotationPeriod to "{days * 86400}s" ({days} days) '
                    "or less")


def gcs_cmek(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if not r.get("encryption", "defaultKmsKeyName"):
        yield Issue("objects are encrypted with Google-managed keys, not the platform's Cloud KMS key",
                    "set encryption.defaultKmsKeyName to the platform's data key")


def gcs_versioning(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if not is_true(r.get("versioning", "enabled", default=False)):
        yield Issue("object versioning is off, so an overwrite or delete loses the object", "set versioning.enabled: true")


def gcs_public_access_prevented(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if r.get("publicAccessPrevention") != "enforced":
        yield Issue(f"publicAccessPrevention is {r.get('publicAccessPrevention') or 'inherited'}",
                    'set publicAccessPrevention: "enforced"')


def gcs_uniform_access(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if not is_true(r.get("uniformBucketLevelAccess", default=False)):
        yield Issue("object ACLs are on, so single objects can be shared past the bucket's IAM",
                    "set uniformBucketLevelAccess: true")


RULES = (
    Rule("aws-s3-encryption", "S3 buckets encrypt by default with KMS.", "high", s3_encryption,
         "a BucketServerSideEncryptionConfiguration with aws:kms", scope="stack",
         params={"allowedAlgorithms": {"type": "array", "items": {"type": "string"},
                                       "default": ["aws:kms", "aws:kms:dsse"],
                                       "description": "Accepted sseAlgorithm values."}},
         reference="https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html"),
    Rule("aws-s3-versioning", "S3 buckets are versioned.", "medium", s3_versioning,
         "a BucketVersioning with status Enabled", scope="stack",
         reference="https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html"),
    Rule("aws-s3-public-access-blocked", "S3 buckets block all public access.", "critical", s3_public_access_blocked,
         "a BucketPublicAccessBlock with all four flags", scope="stack",
         reference="https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html"),
    Rule("aws-s3-tls-only", "S3 bucket policies deny requests without TLS.", "high", s3_tls_only,
         "a Deny statement on aws:SecureTransport false", scope="stack",
         reference="https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html"),
    Rule("aws-efs-encrypted", "EFS file systems are encrypted with the platform's KMS key.", "high", efs_encrypted,
         "encrypted: true, kmsKeyId set", resource_types=(EFS,),
         params={"requireCustomerKey": {"type": "boolean", "default": True,
                                        "description": "Require a customer-managed key (kmsKeyId)."}},
         reference="https://docs.aws.amazon.com/efs/latest/ug/encryption.html"),
    Rule("aws-kms-key-rotation", "AWS KMS keys rotate automatically.", "medium", aws_kms_rotation,
         "enableKeyRotation: true", resource_types=(AWS_KMS_KEY,),
         reference="https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html"),
    Rule("gcp-kms-key-rotation", "Cloud KMS keys rotate at least every maxRotationDays.", "medium", gcp_kms_rotation,
         "rotationPeriod at most 90 days", resource_types=(GCP_KMS_KEY,),
         params={"maxRotationDays": {"type": "integer", "minimum": 1, "default": 90,
                                     "description": "The longest rotation period accepted, in days."}},
         reference="https://cloud.google.com/kms/docs/key-rotation"),
    Rule("gcs-bucket-cmek", "GCS buckets encrypt with the platform's Cloud KMS key.", "medium", gcs_cmek,
         "encryption.defaultKmsKeyName", resource_types=(GCS_BUCKET,),
         reference="https://cloud.google.com/storage/docs/encryption/customer-managed-keys"),
    Rule("gcs-bucket-versioning", "GCS buckets are versioned.", "medium", gcs_versioning, "versioning.enabled: true",
         resource_types=(GCS_BUCKET,), reference="https://cloud.google.com/storage/docs/object-versioning"),
    Rule("gcs-bucket-public-access-prevented", "GCS buckets enforce public access prevention.", "critical",
         gcs_public_access_prevented, 'publicAccessPrevention: "enforced"', resource_types=(GCS_BUCKET,),
         reference="https://cloud.google.com/storage/docs/public-access-prevention"),
    Rule("gcs-bucket-uniform-access", "GCS buckets use uniform bucket-level access.", "medium", gcs_uniform_access,
         "uniformBucketLevelAccess: true", resource_types=(GCS_BUCKET,),
         reference="https://cloud.google.com/storage/docs/uniform-bucket-level-access"),
)
