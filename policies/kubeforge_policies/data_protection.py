"""What holds data outlives a mistaken ``pulumi destroy`` or replacement: clusters, buckets,
file systems, keys, databases, volume claims and tenant namespaces are protected; data
stores are kept on delete; buckets refuse to be emptied by the provider; EFS is backed up.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from kubeforge_policies.model import TENANT_LABEL, PolicyResource, is_true
from kubeforge_policies.rule import Issue, Rule

CLUSTERS = ("aws:eks/cluster:Cluster", "gcp:container/cluster:Cluster")
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2", "gcp:storage/bucket:Bucket")
FILE_SYSTEMS = ("aws:efs/fileSystem:FileSystem", "aws:fsx/lustreFileSystem:LustreFileSystem",
                "gcp:filestore/instance:Instance")
KEYS = ("aws:kms/key:Key", "gcp:kms/cryptoKey:CryptoKey", "gcp:kms/keyRing:KeyRing")
DATABASES = ("aws:rds/instance:Instance", "aws:rds/cluster:Cluster", "gcp:sql/databaseInstance:DatabaseInstance")
CLAIMS = ("kubernetes:core/v1:PersistentVolumeClaim",)
NAMESPACE = "kubernetes:core/v1:Namespace"
STATEFUL = (*CLUSTERS, *BUCKETS, *FILE_SYSTEMS, *KEYS, *DATABASES, *CLAIMS, NAMESPACE)
DATA_STORES = (*BUCKETS, *FILE_SYSTEMS, *DATABASES, *CLAIMS)
EFS = "aws:efs/fileSystem:FileSystem"
EFS_BACKUP = "aws:efs/backupPolicy:BackupPolicy"


def protected(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if r.type == NAMESPACE and not r.labels.get(TENANT_LABEL):
        return  # platform namespaces hold no data of their own
    if not r.protect and not r.retain_on_delete:
        yield Issue("it holds state but is neither protected nor retained on delete, so a destroy or a "
                    "replacement deletes it", "set protect=True (and retain_on_delete=True for data stores) in its "
                    "resource options")


def retained(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if r.retain_on_delete is None:
        return  # the Pulumi engine does not tell policies about retainOnDelete
    if not r.retain_on_delete:
        yield Issue("its data goes with it when it leaves the stack (retainOnDelete is off)",
                    "set retain_on_delete=True in its resource options (kubeforge: storage.object.retainOnDelete)")


def no_force_destroy(r: PolicyResource, params: Mapping[str, Any]) -> Iterator[Issue]:
    if is_true(r.get("forceDestroy", default=False)):
        yield Issue("forceDestroy lets a delete empty the bucket first", "set forceDestroy: false")


def efs_backup(resources: Sequence[PolicyResource], params: Mapping[str, Any]) -> Iterator[Issue]:
    for fs in (r for r in resources if r.type == EFS):
        fs_id = fs.known("id")
        backed_up = any(
            b.type == EFS_BACKUP and (fs.urn in b.dependencies or (fs_id and b.known("fileSystemId") == fs_id))
            and b.get("backupPolicy", "status") == "ENABLED"
            for b in resources
        )
        if not backed_up:
            yield Issue("the file system has no enabled backup policy",
                        'add an aws:efs/BackupPolicy with backupPolicy.status "ENABLED"', fs)


RULES = (
    Rule("stateful-resources-protected", "Clusters, buckets, file systems, keys, databases, volume claims and "
         "tenant namespaces are protected or retained on delete.", "high", protected,
         "protect=True / retain_on_delete=True", resource_types=STATEFUL,
         reference="https://www.pulumi.com/docs/iac/concepts/options/protect/"),
    # Advisory: keeping a bucket past its stack is a stack choice (storage.object.retainOnDelete);
    # protect, which stateful-resources-protected requires, already stops a delete.
    Rule("data-stores-retained-on-delete", "Buckets, file systems, databases and volume claims are retained on "
         "delete.", "medium", retained, "retain_on_delete=True", resource_types=DATA_STORES, enforcement="advisory",
         reference="https://www.pulumi.com/docs/iac/concepts/options/retainondelete/"),
    Rule("buckets-no-force-destroy", "No bucket may be emptied by the provider on delete.", "high", no_force_destroy,
         "forceDestroy: false", resource_types=BUCKETS),
    Rule("aws-efs-backup-enabled", "EFS file systems are backed up by AWS Backup.", "medium", efs_backup,
         "an enabled BackupPolicy", scope="stack",
         reference="https://docs.aws.amazon.com/efs/latest/ug/awsbackup.html"),
)
