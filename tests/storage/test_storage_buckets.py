"""Each tenant's bucket and the one identity that reaches it: S3 + IRSA, GCS + Workload Identity."""

from __future__ import annotations

import pytest

from tests.conftest import variant
from tests.storage.helpers import as_list, assert_irsa_trust_only, document, named, statements

TENANTS = ("speech-ai", "vision", "forecasting")
S3_ACTIONS_NEVER = {"s3:*", "s3:DeleteObjectVersion", "s3:DeleteBucket", "s3:PutBucketPolicy",
                    "s3:PutLifecycleConfiguration", "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration"}


def _tenants(graph):
    return sorted(r.name.removeprefix("storage-") for r in graph.of_type("kubeforge:storage:TenantStorage"))


def _child(graph, tenant, suffix, type_):
    return named(graph, f"storage-{tenant}-{suffix}", type_)


def _bucket_arn(tenant, stack="aws-prod"):
    return f"arn:aws:s3:::kubeforge-{stack}-{tenant}"


def test_every_tenant_of_the_shipped_stacks_gets_storage(aws_graph, gcp_graph, local_graph):
    for graph in (aws_graph, gcp_graph, local_graph):
        assert _tenants(graph) == sorted(TENANTS)


# --- aws: S3 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("tenant", TENANTS)
def test_s3_bucket_is_named_for_the_stack_and_tenant_and_never_force_destroyed(aws_graph, tenant):
    bucket = _child(aws_graph, tenant, "bucket", "aws:s3/bucket:Bucket")
    assert bucket.inputs["bucket"] == f"kubeforge-aws-prod-{tenant}"
    assert bucket.inputs["forceDestroy"] is False
    assert bucket.inputs["tags"]["kubeforge.io/tenant"] == tenant


@pytest.mark.parametrize("tenant", TENANTS)
def test_s3_bucket_is_versioned_and_encrypted_with_the_data_key(aws_graph, tenant):
    bucket = _child(aws_graph, tenant, "bucket", "aws:s3/bucket:Bucket")
    versioning = _child(aws_graph, tenant, "bucket-versioning", "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["bucket"] == bucket.inputs["bucket"]
    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
    encryption = _child(aws_graph, tenant, "bucket-encryption",
                        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    (rule,) = encryption.inputs["rules"]
    default = rule["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    (key,) = [k for k in aws_graph.of_type("aws:kms/key:Key") if k.name == "cluster-data"]
    assert key.urn in encryption.dependencies
    assert default["kmsMasterKeyId"].startswith("arn:aws:kms:us-west-2:123456789012:key/")
    assert rule["bucketKeyEnabled"] is True


@pytest.mark.parametrize("tenant", TENANTS)
def test_s3_bucket_blocks_all_public_access_and_disables_acls(aws_graph, tenant):
    block = _child(aws_graph, tenant, "bucket-public-access", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert {k: block.inputs[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                         "restrictPublicBuckets")} == dict.fromkeys(
        ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True)
    ownership = _child(aws_graph, tenant, "bucket-ownership", "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


@pytest.mark.parametrize("tenant", TENANTS)
def test_s3_bucket_policy_denies_every_request_without_tls(aws_graph, tenant):
    policy = _child(aws_graph, tenant, "bucket-policy", "aws:s3/bucketPolicy:BucketPolicy")
    (statement,) = statements(document(policy, "policy"))
    arn = _bucket_arn(tenant)
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == "*"
    assert statement["Action"] == "s3:*"
    assert sorted(statement["Resource"]) == sorted([arn, f"{arn}/*"])
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_s3_noncurrent_versions_expire_after_the_configured_days(aws_graph, project, tenant_spec):
    def rule(graph, tenant):
        lifecycle = _child(graph, tenant, "bucket-lifecycle",
                           "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        (only,) = lifecycle.inputs["rules"]
        return only

    default = rule(aws_graph, "vision")
    assert default["status"] == "Enabled"
    assert default["filter"] == {"prefix": ""}
    assert default["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert "expiration" not in default  # current versions never expire
    graph = variant(project, tenant_spec, "aws-prod",
                    lambda p: p.setdefault("storage", {}).update(object={"noncurrentVersionDays": 90})).preview()
    assert rule(graph, "team-a")["noncurrentVersionExpiration"] == {"noncurrentDays": 90}


@pytest.mark.parametrize("tenant", TENANTS)
def test_tenant_role_trusts_only_the_tenants_storage_and_pipeline_service_accounts(aws_graph, tenant):
    # With Kubeflow Pipelines installed, its runs' ServiceAccount in the tenant's namespace too.
    role = _child(aws_graph, tenant, "role", "aws:iam/role:Role")
    assert_irsa_trust_only(aws_graph, role, [f"system:serviceaccount:{tenant}:{tenant}-storage",
                                             f"system:serviceaccount:{tenant}:default-editor"])


@pytest.mark.parametrize("tenant", TENANTS)
def test_tenant_role_reaches_only_its_own_bucket_and_the_key_for_that_bucket(aws_graph, tenant):
    role = _child(aws_graph, tenant, "role", "aws:iam/role:Role")
    (policy,) = [p for p in aws_graph.of_type("aws:iam/rolePolicy:RolePolicy") if role.urn in p.dependencies]
    arn = _bucket_arn(tenant)
    (key,) = [k for k in aws_graph.of_type("aws:kms/key:Key") if k.name == "cluster-data"]
    key_arns = set()
    for statement in statements(document(policy, "policy")):
        assert statement["Effect"] == "Allow"
        assert "NotResource" not in statement and "NotAction" not in statement
        actions = set(as_list(statement["Action"]))
        assert not actions & S3_ACTIONS_NEVER
        for resource in as_list(statement["Resource"]):
            if resource.startswith("arn:aws:kms:"):
                assert actions == {"kms:Decrypt", "kms:GenerateDataKey"}
                assert statement["Condition"] == {"StringEquals": {
                    "kms:ViaService": "s3.us-west-2.amazonaws.com",
                    "kms:EncryptionContext:aws:s3:arn": arn,
                }}
                key_arns.add(resource)
            else:
                assert resource in (arn, f"{arn}/*"), resource
                assert all(a.startswith("s3:") for a in actions)
    assert len(key_arns) == 1 and "*" not in next(iter(key_arns))
    assert key.urn in policy.dependencies
    # No other policy is attached to the tenant's role.
    assert not [a for a in aws_graph.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if role.urn in a.dependencies]


@pytest.mark.parametrize("tenant", TENANTS)
def test_tenant_storage_service_account_carries_the_role(aws_graph, tenant):
    account = _child(aws_graph, tenant, "service-account", "kubernetes:core/v1:ServiceAccount")
    role = _child(aws_graph, tenant, "role", "aws:iam/role:Role")
    assert account.inputs["metadata"]["name"] == f"{tenant}-storage"
    assert account.inputs["metadata"]["namespace"] == tenant
    assert account.inputs["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": f"arn:aws:iam::123456789012:role/{role.inputs['name']}"}


def test_a_tenant_without_a_bucket_gets_no_bucket_role_or_service_account(project, tenant_spec):
    tenant_spec["storage"] = {"bucket": False}
    graph = variant(project, tenant_spec, "aws-prod", lambda p: None).preview()
    assert graph.of_type("aws:s3/bucket:Bucket") == []
    assert [r for r in graph.of_type("aws:iam/role:Role") if r.name.startswith("storage-")] == []
    assert [r for r in graph.of_type("kubernetes:core/v1:ServiceAccount") if r.name.startswith("storage-")] == []
    assert graph.named("storage-team-a-nas").type == "kubernetes:core/v1:PersistentVolumeClaim"


def test_bucket_names_take_the_configured_prefix(project, tenant_spec):
    graph = variant(project, tenant_spec, "aws-prod",
                    lambda p: p.setdefault("storage", {}).update(object={"bucketPrefix": "acme-ml"})).preview()
    assert _child(graph, "team-a", "bucket", "aws:s3/bucket:Bucket").inputs["bucket"] == "acme-ml-team-a"


# --- gcp: GCS --------------------------------------------------------------------------------


@pytest.mark.parametrize("tenant", TENANTS)
def test_gcs_bucket_has_uniform_access_public_access_prevention_and_versioning(gcp_graph, tenant):
    bucket = _child(gcp_graph, tenant, "bucket", "gcp:storage/bucket:Bucket")
    inputs = bucket.inputs
    assert inputs["name"] == f"kubeforge-gcp-prod-{tenant}"
    assert inputs["location"] == "US-CENTRAL1"
    assert inputs["uniformBucketLevelAccess"] is True
    assert inputs["publicAccessPrevention"] == "enforced"
    assert inputs["versioning"] == {"enabled": True}
    assert inputs["forceDestroy"] is False
    assert inputs["lifecycleRules"] == [{
        "action": {"type": "Delete"},
        "condition": {"daysSinceNoncurrentTime": 30, "withState": "ARCHIVED"},
    }]


def test_gcs_buckets_use_the_data_key_once_cloud_storage_may_use_it(gcp_graph):
    key = gcp_graph.named("cluster-data")
    grant = gcp_graph.named("cluster-data-gcs")
    assert key.inputs["rotationPeriod"] == "7776000s"
    assert grant.inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert grant.inputs["member"] == "serviceAccount:service-918273645501@gs-project-accounts.iam.gserviceaccount.com"
    for tenant in TENANTS:
        bucket = _child(gcp_graph, tenant, "bucket", "gcp:storage/bucket:Bucket")
        assert bucket.inputs["encryption"]["defaultKmsKeyName"].endswith("/cryptoKeys/platform-data")
        assert {key.urn, grant.urn} <= set(bucket.dependencies)


def test_gcs_without_cmek_uses_google_managed_keys_and_no_data_key(project, tenant_spec):
    graph = variant(project, tenant_spec, "gcp-prod",
                    lambda p: p.setdefault("storage", {}).update(object={"cmek": False})).preview()
    assert "encryption" not in _child(graph, "team-a", "bucket", "gcp:storage/bucket:Bucket").inputs
    assert [k.name for k in graph.of_type("gcp:kms/cryptoKey:CryptoKey")] == ["cluster-secrets"]


@pytest.mark.parametrize("tenant", TENANTS)
def test_tenant_google_account_has_object_access_to_its_own_bucket_only(gcp_graph, tenant):
    identity = _child(gcp_graph, tenant, "identity", "gcp:serviceaccount/account:Account")
    email = f"{identity.inputs['accountId']}@acme-ml-prod.iam.gserviceaccount.com"
    grants = [r for r in gcp_graph.ordered() if r.type.startswith("gcp:") and "IAM" in r.type
              and r.inputs.get("member") == f"serviceAccount:{email}"]
    (grant,) = grants
    assert grant.type == "gcp:storage/bucketIAMMember:BucketIAMMember"
    assert grant.inputs["bucket"] == f"kubeforge-gcp-prod-{tenant}"
    assert grant.inputs["role"] == "roles/storage.objectUser"


@pytest.mark.parametrize("tenant", TENANTS)
def test_only_the_tenants_storage_service_account_impersonates_its_google_account(gcp_graph, tenant):
    identity = _child(gcp_graph, tenant, "identity", "gcp:serviceaccount/account:Account")
    binding = _child(gcp_graph, tenant, "workload-identity", "gcp:serviceaccount/iAMMember:IAMMember")
    assert binding.inputs["serviceAccountId"].endswith(f"/serviceAccounts/{identity.inputs['accountId']}"
                                                       "@acme-ml-prod.iam.gserviceaccount.com")
    assert binding.inputs["role"] == "roles/iam.workloadIdentityUser"
    assert binding.inputs["member"] == f"serviceAccount:acme-ml-prod.svc.id.goog[{tenant}/{tenant}-storage]"
    account = _child(gcp_graph, tenant, "service-account", "kubernetes:core/v1:ServiceAccount")
    assert account.inputs["metadata"]["annotations"] == {
        "iam.gke.io/gcp-service-account": f"{identity.inputs['accountId']}@acme-ml-prod.iam.gserviceaccount.com"}


def test_google_account_ids_are_valid_and_distinct(gcp_graph):
    import re

    ids = [r.inputs["accountId"] for r in gcp_graph.of_type("gcp:serviceaccount/account:Account")
           if r.name.startswith("storage-")]
    assert len(set(ids)) == len(ids) == len(TENANTS)
    for account_id in ids:
        # Ref: https://cloud.google.com/iam/docs/service-accounts-create#creating
        assert re.fullmatch(r"[a-z][-a-z0-9]{4,28}[a-z0-9]", account_id)
