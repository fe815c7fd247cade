"""Under the Pulumi engine the same rules fire through pulumi_policy's objects (pulumi-policy
1.21.0: policies/requirements.txt), and the pack's __main__ imports without an engine."""

from __future__ import annotations

import runpy
from types import SimpleNamespace

import pytest
from kubeforge_policies import RULES
from kubeforge_policies.crossguard import from_stack_resource, from_validation_args, plain, resource_validation

from tests.conftest import ROOT
from tests.policies.cases import LT_GOOD, patch

LT = "aws:ec2/launchTemplate:LaunchTemplate"
URN = f"urn:pulumi:prod::kubeforge::kubeforge:cluster:EksCluster${LT}::cluster-a100"


def _reports():
    reported: list[tuple[str, str | None]] = []
    return reported, lambda message, urn=None: reported.append((message, urn))


def _by_name(policies, name):
    return next(p for p in policies if p.name == name)


# --- with stand-ins: the attributes pulumi_policy 1.21.0 gives (pulumi_policy/policy.py) ---------


def _args(props, *, protect=False, config=None):
    opts = SimpleNamespace(protect=protect, ignore_changes=[], delete_before_replace=None, aliases=[],
                           custom_timeouts=None, additional_secret_outputs=[], parent="urn:parent")
    return SimpleNamespace(resource_type=LT, props=props, urn=URN, name="cluster-a100", opts=opts,
                           provider=SimpleNamespace(urn="urn:provider"), get_config=lambda: config or {})


def test_validation_args_become_the_view_the_offline_rules_read():
    view = from_validation_args(_args(LT_GOOD, protect=True))
    assert (view.type, view.name, view.urn, view.parent, view.provider) == (LT, "cluster-a100", URN, "urn:parent",
                                                                            "urn:provider")
    assert view.protect and view.retain_on_delete is None  # the analyzer protocol has no retainOnDelete
    assert view.props == LT_GOOD


def test_a_rule_reports_through_the_adapter_with_the_offline_message():
    reported, report = _reports()
    rule = next(r for r in RULES if r.name == "eks-node-imdsv2")
    resource_validation(rule)(_args(patch(LT_GOOD, "metadataOptions.httpTokens", "optional")), report)
    assert len(reported) == 1
    assert reported[0][0].startswith(f'{LT} "cluster-a100": instances accept IMDSv1') and ". Fix: " in reported[0][0]


def test_a_rule_reads_its_parameters_from_the_policy_config():
    reported, report = _reports()
    rule = next(r for r in RULES if r.name == "eks-node-imds-hop-limit")
    props = patch(LT_GOOD, "metadataOptions.httpPutResponseHopLimit", 2)
    resource_validation(rule)(_args(props), report)
    resource_validation(rule)(_args(props, config={"maxHopLimit": 2}), report)
    assert len(reported) == 1


def test_stack_resources_carry_their_parent_and_dependencies():
    parent = SimpleNamespace(urn="urn:parent")
    dep = SimpleNamespace(urn="urn:bucket")
    r = SimpleNamespace(resource_type="aws:s3/bucketPolicy:BucketPolicy", props={"bucket": "b"}, urn="urn:policy",
                        name="p", opts=SimpleNamespace(protect=False, parent="urn:parent"), provider=None,
                        parent=parent, dependencies=[dep], property_dependencies={})
    view = from_stack_resource(r)
    assert (view.parent, view.dependencies, view.options["retainOnDelete"]) == ("urn:parent", ("urn:bucket",), None)


def test_unknown_sentinels_become_the_offline_unknown_marker():
    assert plain({"a": ["04da6b54-80e4-46f7-96ec-b56ff0331ba9", 1]}) == {"a": ["[unknown]", 1]}


def test_the_pack_main_imports_without_an_engine():
    namespace = runpy.run_path(str(ROOT / "policies" / "__main__.py"), run_name="kubeforge_policy_pack")
    assert callable(namespace["pack_policies"]) and namespace["PACK_NAME"] == "kubeforge"


# --- with pulumi_policy itself, where it is installed (the pack's venv; a dev install) ----------


@pytest.fixture(scope="module")
def pp():
    return pytest.importorskip("pulumi_policy")


@pytest.fixture(scope="module")
def pack(pp):
    namespace = runpy.run_path(str(ROOT / "policies" / "__main__.py"), run_name="kubeforge_policy_pack")
    return namespace["pack_policies"]()


def _options(pp, protect=False):
    return pp.PolicyResourceOptions(protect, [], None, [], pp.PolicyCustomTimeouts(0, 0, 0), [], None)


def test_the_pack_has_one_policy_per_rule_with_its_level_and_severity(pp, pack):
    assert [p.name for p in pack] == [r.name for r in RULES]
    for policy, rule in zip(pack, RULES):
        assert policy.enforcement_level.value == rule.enforcement and policy.severity.value == rule.severity
        assert isinstance(policy, pp.StackValidationPolicy if rule.scope == "stack" else pp.ResourceValidationPolicy)


def test_a_resource_policy_fires_on_pulumi_policy_args(pp, pack):
    from pulumi_policy.proxy import unknown_checking_proxy

    props = unknown_checking_proxy(patch(LT_GOOD, "metadataOptions.httpTokens", "optional"))
    args = pp.ResourceValidationArgs(LT, props, URN, "cluster-a100", _options(pp), None, {})
    reported, report = _reports()
    _by_name(pack, "eks-node-imdsv2").validate(args, report)
    assert len(reported) == 1 and '"cluster-a100"' in reported[0][0]


def test_a_value_unknown_in_preview_is_reported_as_pulumi_policy_does(pp, pack):
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

    props = unknown_checking_proxy(patch(LT_GOOD, "metadataOptions.httpTokens", UNKNOWN_STRING_VALUE))
    args = pp.ResourceValidationArgs(LT, props, URN, "cluster-a100", _options(pp), None, {})
    with pytest.raises(UnknownValueError):
        _by_name(pack, "eks-node-imdsv2").validate(args, _reports()[1])


def test_a_stack_policy_fires_on_pulumi_policy_resources(pp, pack):
    bucket = pp.PolicyResource("aws:s3/bucket:Bucket", {"bucket": "b"}, "urn:b", "tenant-bucket", _options(pp, True),
                               None, None, [], {})
    args = pp.StackValidationArgs([bucket], {"allowedAlgorithms": ["aws:kms"]})
    reported, report = _reports()
    _by_name(pack, "aws-s3-encryption").validate(args, report)
    assert reported == [(reported[0][0], "urn:b")] and '"tenant-bucket"' in reported[0][0]


def test_the_pack_starts_its_analyzer_server_as_pulumi_runs_it(pp):
    import subprocess
    import sys

    # What `python -m pulumi.policy <engine> policies` does: run the pack's directory as __main__.
    proc = subprocess.Popen([sys.executable, "-u", "-c",
                             f"import runpy; runpy.run_path({str(ROOT / 'policies')!r}, run_name='__main__')"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = proc.stdout.readline().strip()
    finally:
        proc.kill()
        proc.wait()
    assert port.isdigit(), proc.stderr.read()
