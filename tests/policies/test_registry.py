"""The pack's rules are well formed, its config fails fast, and its constants match the
platform's."""

from __future__ import annotations

import pytest
from kubeforge_policies import BY_NAME, CONCERNS, RULES, PolicyConfigError, evaluate, model
from kubeforge_policies.kubernetes import HOST_ACCESS, HOST_ACCESS_ALLOWLIST
from kubeforge_policies.registry import resolve
from kubeforge_policies.rule import KEBAB_CASE, SEVERITIES

from tests.policies.builders import gpu_node_group


def test_rule_names_are_unique_and_kebab_case():
    names = [r.name for r in RULES]
    assert len(names) == len(set(names)) and [n for n in names if not KEBAB_CASE.match(n)] == []


def test_every_rule_has_a_description_severity_remediation_and_scope():
    for r in RULES:
        assert r.description.endswith(".") and r.severity in SEVERITIES and r.remediation, r.name
        assert (r.scope == "stack") == (not r.resource_types), r.name


def test_every_parameter_has_a_default_and_a_description():
    for r in RULES:
        for key, schema in r.params.items():
            assert "default" in schema and schema.get("description"), f"{r.name}.{key}"


def test_the_pack_covers_every_concern_with_at_least_35_rules():
    assert len(RULES) >= 35 and all(CONCERNS.values())
    assert sum(len(rules) for rules in CONCERNS.values()) == len(RULES)


def test_every_host_access_exception_says_why():
    for entry in HOST_ACCESS_ALLOWLIST:
        assert entry.reason and entry.reference.startswith("https://")
        assert entry.allows <= {"privileged", "capabilities", *HOST_ACCESS}


def test_config_sets_a_rules_level_and_parameters():
    level, params = resolve(BY_NAME["eks-node-imds-hop-limit"], {"eks-node-imds-hop-limit": {
        "enforcementLevel": "advisory", "maxHopLimit": 2}})
    assert (level, params) == ("advisory", {"maxHopLimit": 2})
    assert resolve(BY_NAME["gpu-pool-tainted"], {"all": "disabled"})[0] == "disabled"


def test_a_disabled_rule_does_not_run():
    assert evaluate([gpu_node_group(taints=False)], {"gpu-pool-tainted": "disabled", "gpu-driver-runs-cuda": "disabled"}) == []


@pytest.mark.parametrize("config, error", [
    ({"no-such-rule": "advisory"}, "no-such-rule"),
    ({"gpu-pool-tainted": "strict"}, "'strict' is not one of mandatory, advisory, disabled"),
    ({"eks-node-imds-hop-limit": {"maxHops": 2}}, "eks-node-imds-hop-limit.maxHops: no such parameter"),
])
def test_bad_policy_config_is_one_message_naming_the_key(config, error):
    with pytest.raises(PolicyConfigError, match=error.replace("(", r"\(")):
        evaluate([], config)


def test_the_label_names_are_the_platforms():
    from components.cluster import gpu_nodes
    from components.labels import TENANT_LABEL

    assert model.TENANT_LABEL == TENANT_LABEL
    assert (model.POOL_LABEL, model.GPU_MODEL_LABEL, model.GPU_DRIVER_LABEL, model.GPU_COUNT_LABEL) == (
        gpu_nodes.POOL_LABEL, gpu_nodes.GPU_MODEL_LABEL, gpu_nodes.GPU_DRIVER_LABEL, gpu_nodes.GPU_COUNT_LABEL)


def test_a_value_not_known_yet_is_skipped_not_judged():
    from kubeforge_policies.model import UNKNOWN

    from tests.policies.builders import res
    from tests.policies.cases import LT_GOOD, patch

    unknown = res("aws:ec2/launchTemplate:LaunchTemplate", patch(LT_GOOD, "metadataOptions.httpTokens", UNKNOWN))
    assert evaluate([unknown], rules=(BY_NAME["eks-node-imdsv2"],)) == []


def test_the_readme_lists_every_rule():
    from tests.conftest import ROOT

    from kubeforge_policies.docs import rule_table

    assert rule_table() in (ROOT / "policies" / "README.md").read_text()
