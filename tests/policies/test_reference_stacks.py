"""The shipped stacks pass the pack with no mandatory violation, and a graph changed to break a
rule fails with that rule's message."""

from __future__ import annotations

import dataclasses
import json

import pytest
from kubeforge_policies import evaluate, mandatory

GRAPHS = ("local_graph", "aws_graph", "gcp_graph")


@pytest.mark.parametrize("graph", GRAPHS)
def test_a_reference_stack_has_no_mandatory_violation(graph, request):
    violations = evaluate(request.getfixturevalue(graph))
    assert [v.message for v in mandatory(violations)] == []


def test_the_advisory_findings_on_the_reference_stacks_are_the_known_ones(aws_graph, gcp_graph):
    # Reported to the platform's owners; see the comments on these rules.
    assert {v.rule for v in evaluate(aws_graph)} == {"aws-irsa-trust-single-service-account"}
    assert {v.rule for v in evaluate(gcp_graph)} == set()


def _changed(graph, name: str, change) -> list:
    """The graph's resources with one resource's inputs changed by ``change`` (on a copy)."""
    out = []
    for r in graph.resources.values():
        if r.name == name:
            inputs = json.loads(json.dumps(r.inputs))
            change(inputs)
            r = dataclasses.replace(r, inputs=inputs)
        out.append(r)
    return out


def _rules(violations) -> set[str]:
    return {v.rule for v in mandatory(violations)}


def test_a_public_eks_endpoint_fails_eks_endpoint_private(aws_graph):
    resources = _changed(aws_graph, "cluster-eks", lambda i: i["vpcConfig"].update(endpointPublicAccess=True))
    violations = [v for v in evaluate(resources) if v.rule == "eks-endpoint-private"]
    assert len(violations) == 1 and '"cluster-eks"' in violations[0].message and "0.0.0.0/0" in violations[0].message


def test_a_launch_template_with_imdsv1_fails_eks_node_imdsv2(aws_graph):
    resources = _changed(aws_graph, "cluster-a100", lambda i: i.get("metadataOptions", {}).update(httpTokens="optional"))
    assert _rules(evaluate(resources)) == {"eks-node-imdsv2"}


def test_a_bucket_without_its_public_access_block_fails(aws_graph):
    resources = [r for r in aws_graph.resources.values() if r.name != "storage-vision-bucket-public-access"]
    violations = mandatory(evaluate(resources))
    assert [(v.rule, v.resource_name) for v in violations] == [("aws-s3-public-access-blocked", "storage-vision-bucket")]


def test_a_wildcard_action_in_a_tenant_policy_fails(aws_graph):
    def widen(inputs):
        doc = json.loads(inputs["policy"])
        doc["Statement"][1]["Action"] = "s3:*"
        inputs["policy"] = json.dumps(doc)

    resources = _changed(aws_graph, "storage-speech-ai-role-policy", widen)
    assert _rules(evaluate(resources)) == {"aws-iam-no-wildcard-actions"}


def test_a_tenant_without_its_quota_fails(gcp_graph):
    resources = [r for r in gcp_graph.resources.values() if r.name != "tenant-vision-quota"]
    violations = mandatory(evaluate(resources))
    assert [(v.rule, v.resource_name) for v in violations] == [("k8s-tenant-resource-quota", "tenant-vision-namespace")]


def test_a_gke_pool_on_the_node_metadata_fails(gcp_graph):
    resources = _changed(gcp_graph, "cluster-a100-80",
                         lambda i: i["nodeConfig"]["workloadMetadataConfig"].update(mode="GCE_METADATA"))
    assert _rules(evaluate(resources)) == {"gke-node-metadata-server"}


def test_guarantees_past_the_pools_fail(local_graph):
    resources = _changed(local_graph, "tenant-speech-ai-queue",
                         lambda i: i["spec"]["guarantee"]["resource"].update({"nvidia.com/gpu": "40"}))
    violations = [v for v in evaluate(resources) if v.rule == "tenant-gpu-guarantees-within-capacity"]
    assert len(violations) == 1 and "44 GPUs" in violations[0].message and "at most 16" in violations[0].message


def test_an_unpinned_kustomize_directory_fails(local_graph):
    resources = _changed(local_graph, "pipelines-manifests",
                         lambda i: i.update(directory=i["directory"].replace("?ref=26.03", "?ref=master")))
    assert _rules(evaluate(resources)) == {"kustomize-ref-pinned"}


def test_a_shared_nfs_directory_fails(local_graph):
    resources = _changed(local_graph, "nfs-nas-storage-class", lambda i: i["parameters"].update(subDir="shared"))
    violations = mandatory(evaluate(resources))
    assert {v.rule for v in violations} == {"tenants-share-no-nas-path"}
    assert "forecasting, speech-ai, vision" in violations[0].message


def test_an_unprotected_tenant_namespace_fails(local_graph):
    resources = [dataclasses.replace(r, options={**r.options, "protect": False})
                 if r.name == "tenant-vision-namespace" else r for r in local_graph.resources.values()]
    assert [(v.rule, v.resource_name) for v in mandatory(evaluate(resources))] == [
        ("stateful-resources-protected", "tenant-vision-namespace")]
