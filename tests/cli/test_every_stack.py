"""What CI runs on every stack in stacks/ (a stack added there is checked with no edit here):
validate, the offline preview, and the policy pack on its graph."""

from __future__ import annotations

import pytest

from kubeforge.cli import main
from kubeforge.config.loader import available_stacks
from tests.conftest import ROOT

STACKS = available_stacks(ROOT)


def test_the_reference_stacks_are_all_here():
    assert {"local", "aws-prod", "gcp-prod"} <= set(STACKS)


@pytest.mark.parametrize("stack", STACKS)
def test_a_stack_validates_previews_and_passes_the_policy_pack(capsys, tmp_path, stack):
    assert main(["-C", str(ROOT), "validate", "--stack", stack]) == 0
    graph = tmp_path / "graph.json"
    assert main(["-C", str(ROOT), "preview", "--stack", stack, "--json", str(graph)]) == 0
    capsys.readouterr()
    assert main(["-C", str(ROOT), "policy", "--graph", str(graph)]) == 0, capsys.readouterr().out


def test_checkov_findings_are_skipped_only_in_checkov_yaml_each_with_its_reason():
    text = (ROOT / ".checkov.yaml").read_text()
    lines = text.splitlines()
    entries = [i for i, line in enumerate(lines) if line.startswith("  - ") and i > lines.index("skip-path:")]
    assert entries
    for i in entries:
        assert lines[i - 1].lstrip().startswith("#"), f"no reason above {lines[i]!r}"
    assert "skip-check" not in text  # skips are per path, never a whole check for every object
    for path in [*ROOT.glob("components/**/*.py"), *ROOT.glob("kubeforge/**/*.py")]:
        source = path.read_text()
        assert "checkov:skip" not in source and "checkov.io/skip" not in source, path
