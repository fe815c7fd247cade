"""Storage: the shared NAS StorageClass, object storage, and each tenant's volume, bucket and identity.

One ReadWriteMany StorageClass, ``kubeforge-nas`` (reclaimPolicy Retain), per target:
- aws: an encrypted EFS file system with the EFS CSI driver add-on (``efs.EfsNas``);
- gcp: GKE's Filestore CSI driver add-on at a Filestore tier (``filestore.FilestoreNas``);
- onprem: the NFS CSI driver over the existing export (``nfs.NfsNas``).

Object storage is a bucket per tenant (``tenant.TenantStorage``): S3 with IRSA on aws, GCS
with Workload Identity on gcp, and on-prem an existing S3-compatible service or the
in-cluster SeaweedFS store (``seaweedfs.SeaweedFsStore``) with per-tenant access keys.

Buckets, the file system, keys and tenants' volumes are protected and kept if removed from
the stack: docs/STORAGE.md says why and how to delete a tenant's data on purpose.
"""
