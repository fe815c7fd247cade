"""``kubeforge policy``: the pack on a stack's graph, offline; exit 1 on a mandatory violation,
reports as text (by severity), JSON or SARIF, and bad input as one message with exit 2."""

from __future__ import annotations

import json

import pytest

from kubeforge.cli import main
from tests.conftest import ROOT


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["-C", str(ROOT), "policy", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def saved(tmp_path, aws_graph):
    path = tmp_path / "aws.json"
    path.write_text(aws_graph.to_json())
    return path


@pytest.fixture
def public_endpoint(tmp_path, aws_graph):
    """aws-prod's graph with the EKS API endpoint opened to the internet."""
    doc = json.loads(aws_graph.to_json())
    for resource in doc["resources"]:
        if resource["type"] == "aws:eks/cluster:Cluster":
            resource["inputs"]["vpcConfig"].update(endpointPublicAccess=True, publicAccessCidrs=["0.0.0.0/0"])
    path = tmp_path / "public.json"
    path.write_text(json.dumps(doc))
    return path


def test_list_prints_one_rule_per_line(capsys):
    code, out, _ = _run(capsys, "--list")
    lines = out.splitlines()
    assert code == 0 and len(lines) >= 35
    assert len({line.split()[0] for line in lines}) == len(lines)
    assert any(line.startswith("eks-endpoint-private  [critical, mandatory]") for line in lines)


def test_a_shipped_stack_passes_and_exits_0(capsys):
    code, out, _ = _run(capsys, "--stack", "local")
    assert code == 0
    assert out.startswith("Stack local: ") and "(0 mandatory)" in out.splitlines()[0]


def test_a_saved_graph_gives_the_same_report_as_the_stack(capsys, saved):
    code, out, _ = _run(capsys, "--graph", str(saved))
    assert code == 0
    assert "Stack aws-prod:" in out and "MEDIUM" in out and "aws-irsa-trust-single-service-account" in out


def test_a_mandatory_violation_exits_1_with_the_rules_message_by_severity(capsys, public_endpoint):
    code, out, _ = _run(capsys, "--graph", str(public_endpoint))
    assert code == 1
    critical = out.split("CRITICAL (")[1].split("\n\n")[0]
    assert "[mandatory] eks-endpoint-private:" in critical and "Fix:" in critical


def test_policy_config_can_make_a_rule_advisory(capsys, public_endpoint, tmp_path):
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"eks-endpoint-private": "advisory"}))
    code, out, _ = _run(capsys, "--graph", str(public_endpoint), "--config", str(config))
    assert code == 0 and "[advisory] eks-endpoint-private" in out


def test_json_report_lists_each_violation(capsys, public_endpoint):
    code, out, _ = _run(capsys, "--graph", str(public_endpoint), "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["stack"] == "aws-prod" and doc["mandatory"] >= 1
    assert {"rule", "severity", "enforcement", "urn", "resource", "message"} <= set(doc["violations"][0])


def test_sarif_report_is_what_code_scanning_reads(capsys, public_endpoint, tmp_path):
    out_file = tmp_path / "policy.sarif"
    code, out, _ = _run(capsys, "--graph", str(public_endpoint), "--format", "sarif", "--out", str(out_file))
    assert code == 1 and out.startswith("Stack aws-prod:")
    sarif = json.loads(out_file.read_text())
    assert sarif["version"] == "2.1.0"
    (run,) = sarif["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert len(rules) == len({r["id"] for r in rules}) >= 35
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning")
        (location,) = result["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == "stacks/Pulumi.aws-prod.yaml"
    endpoint = [r for r in run["results"] if r["ruleId"] == "eks-endpoint-private"]
    assert endpoint and endpoint[0]["level"] == "error"
    assert float(rules[endpoint[0]["ruleIndex"]]["properties"]["security-severity"]) >= 9.0


@pytest.mark.parametrize(("content", "fragment"), [
    (b"{not json", "not JSON"),
    (b'{"stack": "s", "project": "p", "resources": [{"urn": 3}]}', "resources[0].urn"),
    (b'["a list"]', "not a resource graph"),
    (b"\xff\xfe\x00", "cannot read"),
])
def test_a_bad_graph_file_is_one_message_and_exit_2(capsys, tmp_path, content, fragment):
    path = tmp_path / "graph.json"
    path.write_bytes(content)
    code, out, err = _run(capsys, "--graph", str(path))
    assert code == 2 and out == ""
    assert fragment in err and "Traceback" not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(("config", "fragment"), [
    ({"no-such-rule": "advisory"}, "names no rule of the kubeforge pack: no-such-rule"),
    ({"eks-endpoint-private": "sometimes"}, "is not one of mandatory, advisory, disabled"),
    ({"eks-endpoint-private": {"colour": "red"}}, "eks-endpoint-private.colour: no such parameter"),
])
def test_a_bad_policy_config_is_one_message_and_exit_2(capsys, saved, tmp_path, config, fragment):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(config))
    code, _, err = _run(capsys, "--graph", str(saved), "--config", str(path))
    assert code == 2 and fragment in err and "Traceback" not in err


def test_stack_and_graph_are_one_or_the_other(capsys, saved):
    code, _, err = _run(capsys, "--stack", "local", "--graph", str(saved))
    assert code == 2 and "not both" in err
