"""The kubeforge command as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from kubeforge.cli import main
from tests.conftest import ROOT


def test_preview_prints_resources_per_component_and_type(capsys):
    assert main(["preview", "--stack", "local"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Stack local: ")
    assert "By component:" in out and "By type:" in out
    assert "kubeforge:tenancy:TenantNamespace tenant-speech-ai" in out
    assert "kubernetes:core/v1:ResourceQuota" in out


def test_preview_json_lists_every_resource(tmp_path, capsys):
    out = tmp_path / "g.json"
    assert main(["preview", "--stack", "local", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    types = {r["type"] for r in doc["resources"]}
    assert {"pulumi:pulumi:Stack", "kubernetes:core/v1:Namespace", "pulumi:providers:kubernetes"} <= types


def test_render_writes_one_file_per_object_at_stable_paths(tmp_path, capsys):
    out = tmp_path / "render"
    assert main(["render", "--stack", "local", "--out", str(out)]) == 0
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*.yaml"))
    assert "_cluster/Namespace-speech-ai.yaml" in files
    assert "speech-ai/ResourceQuota-speech-ai-quota.yaml" in files
    assert "_cluster/Node-gpu-node-1.patch.yaml" in files
    quota = yaml.safe_load((out / "speech-ai/ResourceQuota-speech-ai-quota.yaml").read_text())
    assert quota["kind"] == "ResourceQuota"
    assert quota["spec"]["hard"]["requests.nvidia.com/gpu"] == "16"


def test_render_refuses_to_overwrite_a_directory_it_did_not_write(tmp_path, capsys):
    (tmp_path / "precious.txt").write_text("keep me")
    assert main(["render", "--stack", "local", "--out", str(tmp_path)]) == 1
    assert "is not a kubeforge render" in capsys.readouterr().err
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_rendering_again_replaces_the_previous_render(tmp_path, capsys):
    out = tmp_path / "render"
    assert main(["render", "--stack", "local", "--out", str(out)]) == 0
    stale = out / "_cluster" / "Namespace-gone.yaml"
    stale.write_text("{}")
    assert main(["render", "--stack", "local", "--out", str(out)]) == 0
    assert not stale.exists()


def test_output_is_plain_when_piped():
    result = subprocess.run(
        [sys.executable, "-m", "kubeforge.cli", "preview", "--stack", "local"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    assert result.stderr == ""
    assert "\r" not in result.stdout


def test_bad_arguments_exit_2_without_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "kubeforge.cli", "preview"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "--stack" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_reference_in_docs_is_generated_from_the_model(capsys):
    """docs/CONFIG.md must be regenerated (make docs) whenever the model changes."""
    assert main(["docs", "config"]) == 0
    assert capsys.readouterr().out == (ROOT / "docs" / "CONFIG.md").read_text()


def test_config_reference_documents_every_key(capsys):
    main(["docs", "config"])
    out = capsys.readouterr().out
    for key in ("`nodePools.<name>.gpu.perNode`", "`quota.gpu`", "`contributors[].role`", "`aws.publicAccessCidrs`"):
        assert key in out
    rows = [line for line in out.splitlines() if line.startswith("| `")]
    assert all(not line.rstrip().endswith("|  |") for line in rows)


def test_progress_shows_each_step_on_a_terminal(capsys):
    from kubeforge.cli import Progress

    assert Progress(enabled=True).step("running the program", lambda: 42) == 42
    err = capsys.readouterr().err
    assert "… running the program" in err
    assert "✓ running the program (" in err


def test_progress_is_silent_when_disabled(capsys):
    from kubeforge.cli import Progress

    assert Progress(enabled=False).step("x", lambda: 1) == 1
    assert capsys.readouterr().err == ""


def test_version_table_in_docs_is_generated_from_the_catalog(capsys):
    """docs/VERSIONS.md must be regenerated (make docs) whenever the catalog changes."""
    assert main(["docs", "versions"]) == 0
    out = capsys.readouterr().out
    assert out == (ROOT / "docs" / "VERSIONS.md").read_text()
    assert "| gpuOperator | `gpu-operator` | https://helm.ngc.nvidia.com/nvidia `gpu-operator` | `v26.7.0` (also: `v26.3.3`) |" in out


def test_versions_prints_every_pin_of_a_release(capsys):
    from kubeforge.catalog import load_release

    assert main(["versions", "--release", "2026.12"]) == 0
    out = capsys.readouterr().out
    release = load_release("2026.12")
    for key, pin in release.components.items():
        assert f"| {key} | `{pin.namespace}` |" in out and f"`{pin.version}`" in out


def test_versions_refuses_an_unknown_release(capsys):
    assert main(["versions", "--release", "1999.01"]) == 2
    assert "unknown catalog release; accepted: 2026.11, 2026.12" in capsys.readouterr().err
