"""Pipelines: each tenant's runs write their artifacts to the tenant's own bucket with the
tenant's own identity, and no tenant's identity reaches another's bucket: the generated IAM
policies are evaluated here as AWS evaluates an identity policy."""

from __future__ import annotations

import fnmatch
import json
from itertools import permutations

import pytest

from components.storage.tenant import KFP_LAUNCHER, PIPELINE_RUNNER, kfp_launcher_config

TENANTS = ["speech-ai", "vision", "forecasting"]


def allowed(policy: dict, action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """An identity policy's verdict (explicit deny wins, else any allow, else the implicit deny).
    Actions match case-insensitively with * and ?; resources with * and ?; a statement with a
    condition applies only when every StringEquals key in it is in ``context`` with that value.
    Ref: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"""
    def listify(value):
        return value if isinstance(value, list) else [value]

    def applies(statement) -> bool:
        actions = [a.lower() for a in listify(statement.get("Action", []))]
        if not any(fnmatch.fnmatchcase(action.lower(), a) for a in actions):
            return False
        if not any(fnmatch.fnmatchcase(resource, r) for r in listify(statement.get("Resource", []))):
            return False
        for operator, conditions in statement.get("Condition", {}).items():
            if operator != "StringEquals":
                return False  # unknown here: do not let it grant
            for key, values in conditions.items():
                if (context or {}).get(key) not in listify(values):
                    return False
        return True

    statements = [s for s in policy["Statement"] if applies(s)]
    if any(s["Effect"] == "Deny" for s in statements):
        return False
    return any(s["Effect"] == "Allow" for s in statements)


def _role_policy(aws_graph, tenant: str) -> dict:
    (role,) = [r for r in aws_graph.of_type("aws:iam/role:Role") if r.name == f"storage-{tenant}-role"]
    (policy,) = [p for p in aws_graph.of_type("aws:iam/rolePolicy:RolePolicy") if role.urn in p.dependencies]
    return json.loads(policy.inputs["policy"])


def _bucket(tenant: str) -> str:
    return f"kubeforge-aws-prod-{tenant}"


def test_the_evaluator_follows_wildcards_and_refuses_by_default():
    policy = {"Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::a/*"}]}
    assert allowed(policy, "s3:GetObject", "arn:aws:s3:::a/pipelines/x")
    assert not allowed(policy, "s3:GetObject", "arn:aws:s3:::b/pipelines/x")
    assert not allowed(policy, "s3:PutObject", "arn:aws:s3:::a/x")
    wide = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    assert allowed(wide, "s3:GetObject", "arn:aws:s3:::b/pipelines/x")  # the check can fail


@pytest.mark.parametrize("tenant,other", list(permutations(TENANTS, 2)))
def test_a_tenants_pipeline_identity_reaches_its_bucket_and_never_anothers(aws_graph, tenant, other):
    policy = _role_policy(aws_graph, tenant)
    own, theirs = f"arn:aws:s3:::{_bucket(tenant)}", f"arn:aws:s3:::{_bucket(other)}"
    for action in ("s3:PutObject", "s3:GetObject", "s3:DeleteObject"):
        assert allowed(policy, action, f"{own}/pipelines/run-1/model.pt")
        assert not allowed(policy, action, f"{theirs}/pipelines/run-1/model.pt")
    assert allowed(policy, "s3:ListBucket", own) and not allowed(policy, "s3:ListBucket", theirs)
    # The data key only for its own bucket, only through S3.
    (key,) = [k for k in aws_graph.of_type("aws:kms/key:Key") if k.name == "cluster-data"]
    key_arn = f"arn:aws:kms:us-west-2:123456789012:key/{key.name}"
    via = {"kms:ViaService": "s3.us-west-2.amazonaws.com"}
    policy_any_key = {"Statement": [{**s, "Resource": "*"} if s.get("Sid") == "ItsKey" else s
                                    for s in policy["Statement"]]}
    assert allowed(policy_any_key, "kms:Decrypt", key_arn, {**via, "kms:EncryptionContext:aws:s3:arn": own})
    assert not allowed(policy_any_key, "kms:Decrypt", key_arn, {**via, "kms:EncryptionContext:aws:s3:arn": theirs})


@pytest.mark.parametrize("tenant", TENANTS)
def test_the_runs_service_account_carries_the_tenants_role_and_the_launcher_its_bucket(aws_graph, tenant):
    accounts = {r.inputs["metadata"]["name"]: r.inputs for r in aws_graph.of_type("kubernetes:core/v1:ServiceAccount")
                if r.inputs["metadata"].get("namespace") == tenant}
    storage, runner = accounts[f"{tenant}-storage"], accounts[PIPELINE_RUNNER]
    annotation = "eks.amazonaws.com/role-arn"
    assert runner["metadata"]["annotations"][annotation] == storage["metadata"]["annotations"][annotation]
    assert runner["metadata"]["annotations"][annotation].endswith(f"/{_bucket(tenant)}-storage")
    (launcher,) = [r.inputs for r in aws_graph.of_type("kubernetes:core/v1:ConfigMap")
                   if r.inputs["metadata"]["name"] == KFP_LAUNCHER and r.inputs["metadata"]["namespace"] == tenant]
    assert launcher["data"]["defaultPipelineRoot"] == f"s3://{_bucket(tenant)}/pipelines"
    assert json.loads(launcher["data"]["providers"]) == {
        "s3": {"default": {"region": "us-west-2", "credentials": {"fromEnv": True}}}}


@pytest.mark.parametrize("tenant", TENANTS)
def test_on_gcp_only_the_tenants_own_runs_impersonate_its_google_account(gcp_graph, tenant):
    bindings = [r.inputs for r in gcp_graph.of_type("gcp:serviceaccount/iAMMember:IAMMember")
                if r.name == f"storage-{tenant}-pipelines-workload-identity"]
    (binding,) = bindings
    assert binding["member"] == f"serviceAccount:acme-ml-prod.svc.id.goog[{tenant}/{PIPELINE_RUNNER}]"
    (launcher,) = [r.inputs for r in gcp_graph.of_type("kubernetes:core/v1:ConfigMap")
                   if r.inputs["metadata"]["name"] == KFP_LAUNCHER and r.inputs["metadata"]["namespace"] == tenant]
    assert launcher["data"]["defaultPipelineRoot"] == f"gs://kubeforge-gcp-prod-{tenant}/pipelines"


def test_on_prem_the_launcher_uses_the_tenants_own_keys():
    config = kfp_launcher_config("kf-vision", target="onprem", endpoint="https://s3.lab.internal:9000",
                                 secret="vision-object-store")
    (provider,) = json.loads(config["providers"])["s3"].values()
    assert provider["endpoint"] == "s3.lab.internal:9000" and provider["disableSSL"] is False
    assert provider["credentials"]["secretRef"]["secretName"] == "vision-object-store"
    assert config["defaultPipelineRoot"] == "s3://kf-vision/pipelines"


def test_pipelines_install_from_the_distributions_multi_user_manifests(local_graph):
    (directory,) = [r for r in local_graph.of_type("kubernetes:kustomize/v2:Directory")
                    if r.name == "pipelines-manifests"]
    assert directory.inputs["directory"].endswith("/applications/pipeline/overlays?ref=26.03")
