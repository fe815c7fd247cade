"""Every rule passes a resource that meets it and fails one that does not, with a message that
names the resource and says the fix."""

from __future__ import annotations

import pytest
from kubeforge_policies import BY_NAME, RULES, evaluate

from tests.policies.cases import CASES, Case


def _run(case: Case, resources):
    config = {case.rule: dict(case.params)} if case.params else None
    return evaluate(resources, config, rules=(BY_NAME[case.rule],))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.rule)
def test_a_resource_that_meets_the_rule_passes(case: Case):
    assert _run(case, case.good) == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.rule)
def test_a_resource_that_breaks_the_rule_fails_naming_it_and_the_fix(case: Case):
    violations = _run(case, case.bad)
    assert violations, f"{case.rule} found nothing wrong"
    for v in violations:
        assert v.rule == case.rule
        named = "the stack" if case.names == "the stack" else f'"{case.names}"'
        assert named in v.message.split(": ", 1)[0], v.message
        assert ". Fix: " in v.message and v.message.split(". Fix: ", 1)[1].strip(), v.message


def test_every_rule_has_a_passing_and_a_failing_case():
    assert {r.name for r in RULES} - {c.rule for c in CASES} == set()
