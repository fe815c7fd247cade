"""The edge holds against a pull request written by an attacker: every hostile input is
exit 2 with one message naming where it is, no traceback, nothing echoed that the file
did not say, and bounded work. (tests/config/test_source.py tests the reader itself.)"""

from __future__ import annotations

import pytest

from kubeforge.cli import main

SECRET = "AKIAKUBEFORGEDONOTLEAK0123456789abcdefghijklmnopqrstuvwxyz"


def _validate(capsys, project) -> tuple[int, str]:
    code = main(["-C", str(project.path), "validate", "--stack", "test"])
    out, err = capsys.readouterr()
    return code, err


def _set(platform: dict, path: str, value) -> None:
    node = platform
    *parents, last = path.split(".")
    for part in parents:
        node = node[part]
    node[last] = value


def _refused(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    assert err.startswith("error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


def test_a_tenant_file_linked_outside_the_project_is_not_read(capsys, project, onprem_platform, tmp_path_factory):
    outside = tmp_path_factory.mktemp("ci-home") / "credentials"
    outside.write_text(f"owner: {SECRET}\n")
    project.stack(onprem_platform)
    (project.path / "stacks" / "tenants" / "team-a.yaml").symlink_to(outside)
    code, err = _validate(capsys, project)
    _refused(code, err, "stacks/tenants/team-a.yaml")
    assert SECRET[:12] not in err
    assert str(outside) not in err and "ci-home" not in err


def test_a_stack_file_linked_outside_the_project_is_not_read(capsys, project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("ci-home") / "token"
    outside.write_text(f"config: {{kubeforge:platform: {SECRET}}}\n")
    (project.path / "stacks" / "Pulumi.test.yaml").symlink_to(outside)
    code, err = _validate(capsys, project)
    _refused(code, err, "stacks/Pulumi.test.yaml")
    assert SECRET[:12] not in err


def _alias_bomb() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\nowner: *a9\n"


def test_an_alias_bomb_is_refused(capsys, project):
    bomb = "".join(f"    {line}\n" for line in _alias_bomb().splitlines())
    project.stack(None, raw="config:\n  kubeforge:bomb:\n" + bomb)
    code, err = _validate(capsys, project)
    _refused(code, err, "stacks/Pulumi.test.yaml", "alias")


def test_deep_nesting_is_refused(capsys, project, onprem_platform):
    project.stack(onprem_platform).tenant("team-a", raw="owner: " + "[" * 5000 + "]" * 5000 + "\n")
    code, err = _validate(capsys, project)
    _refused(code, err, "stacks/tenants/team-a.yaml", "nest")


def test_non_utf8_bytes_are_a_config_error(capsys, project, onprem_platform):
    project.stack(onprem_platform)
    (project.path / "stacks" / "tenants" / "team-a.yaml").write_bytes(b"owner: \xff\xfe alice@example.com\n")
    code, err = _validate(capsys, project)
    _refused(code, err, "stacks/tenants/team-a.yaml", "UTF-8")


def test_python_tags_are_refused(capsys, project, onprem_platform):
    project.stack(onprem_platform).tenant("team-a", raw='owner: !!python/object/apply:os.system ["touch pwned"]\n')
    code, err = _validate(capsys, project)
    _refused(code, err, "stacks/tenants/team-a.yaml", "tag")
    assert not (project.path / "pwned").exists()


@pytest.mark.parametrize("path,value,key", [
    ("nodePools.a100.driver", "580.95.05\n", "kubeforge:platform.nodePools.a100.driver"),
    ("nodePools.a100.driver", "\u0665\u0668\u0660.\u0669\u0665.\u0660\u0665", "kubeforge:platform.nodePools.a100.driver"),
    ("nodePools.a100.nodes", ["gpu-1\n"], "kubeforge:platform.nodePools.a100.nodes[0]"),
    ("kubernetesVersion", "1.34\n", "kubeforge:platform.kubernetesVersion"),
    ("release", "2026.11\n", "kubeforge:platform.release"),
    ("storage.file.nfs.server", "nas; rm -rf /", "kubeforge:platform.storage.file.nfs.server"),
    ("storage.file.nfs.path", "/export/$(id)", "kubeforge:platform.storage.file.nfs.path"),
    ("storage.object.endpoint", "https://s3.example.internal\nX: y", "kubeforge:platform.storage.object.endpoint"),
    ("nodePools.a100.labels", {"team": "a\nb"}, "kubeforge:platform.nodePools.a100.labels.team"),
], ids=["driver-newline", "driver-arabic-digits", "node-newline", "k8s-newline", "release-newline",
        "nfs-shell", "nfs-path-subshell", "endpoint-header", "label-newline"])
def test_values_that_could_reach_a_manifest_or_script_are_matched_whole_and_ascii_only(
    capsys, project, onprem_platform, tenant_spec, path, value, key
):
    _set(onprem_platform, path, value)
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    code, err = _validate(capsys, project)
    _refused(code, err, key)


@pytest.mark.parametrize("path,value", [
    ("nodePools.a100.gpu.perNode", 10**15),
    ("nodePools.a100.max", 10**9),
    ("nodePools.a100.diskGb", 10**12),
], ids=["per-node", "max-nodes", "disk"])
def test_numbers_are_bounded(capsys, project, onprem_platform, tenant_spec, path, value):
    _set(onprem_platform, path, value)
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    code, err = _validate(capsys, project)
    _refused(code, err, f"kubeforge:platform.{path}", "less than or equal")


def test_a_tenant_quota_is_bounded(capsys, project, onprem_platform, tenant_spec):
    tenant_spec["quota"]["gpu"] = 10**15
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    code, err = _validate(capsys, project)
    _refused(code, err, "stacks/tenants/team-a.yaml: quota.gpu")


def test_a_long_bad_value_is_quoted_as_a_short_excerpt(capsys, project, onprem_platform, tenant_spec):
    tenant_spec["owner"] = SECRET * 1000
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    code, err = _validate(capsys, project)
    _refused(code, err, "stacks/tenants/team-a.yaml: owner")
    assert SECRET not in err
    assert len(err) < 600


def test_an_over_long_unknown_key_gets_no_quadratic_hint(capsys, project, onprem_platform, tenant_spec):
    tenant_spec["x" * 60_000] = 1
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    code, err = _validate(capsys, project)
    _refused(code, err, "unknown key")
    assert len(err) < 800


def test_pool_labels_cannot_relabel_the_pinned_driver(capsys, project, onprem_platform, tenant_spec):
    onprem_platform["nodePools"]["a100"]["labels"] = {"kubeforge.io/gpu-driver": "999.1.1"}
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    code, err = _validate(capsys, project)
    _refused(code, err, "kubeforge:platform.nodePools.a100.labels", "prefix kubeforge or the cluster sets itself")


@pytest.mark.parametrize("overrides,fragment", [
    ({"driver": {"version": "999.1.1"}}, "driver.version is pinned by the catalog"),
    ({"dcgmExporter": {"image": "evil/dcgm:latest"}}, "dcgmExporter.image is pinned by the catalog"),
    ({"driver": {"enabled": True}}, "kubeforge:platform.components.gpuOperator.valuesOverrides.driver"),
    ({"mig": {"strategy": "single"}}, "valuesOverrides.mig.strategy: kubeforge derives this value"),
], ids=["driver-version", "image", "driver-managed", "mig-strategy"])
def test_values_overrides_cannot_undo_a_pin(capsys, project, onprem_platform, tenant_spec, overrides, fragment):
    onprem_platform["components"] = {"gpuOperator": {"valuesOverrides": overrides}}
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    code, err = _validate(capsys, project)
    _refused(code, err, fragment)


def test_values_overrides_on_a_manifest_component_are_refused(capsys, project, tenant_spec):
    from tests.conftest import IDENTITY_SECRET, kubeflow_platform

    platform = kubeflow_platform()
    platform["components"] = {"katib": {"valuesOverrides": {"replicas": 2}}}
    project.stack(platform, extra=IDENTITY_SECRET).tenant("team-a", tenant_spec)
    code, err = _validate(capsys, project)
    _refused(code, err, "components.katib.valuesOverrides", "takes no Helm values")


def test_a_version_the_catalog_does_not_list_is_refused(capsys, project, onprem_platform, tenant_spec):
    onprem_platform["components"] = {"gpuOperator": {"version": "v99.0.0"}}
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    code, err = _validate(capsys, project)
    _refused(code, err, "components.gpuOperator.version", "accepted: v26.7.0, v26.3.3", "'v99.0.0'")


def test_a_hostile_stack_registers_nothing(capsys, project, onprem_platform, tenant_spec, tmp_path):
    onprem_platform["nodePools"]["a100"]["driver"] = "580.95.05\n"
    project.stack(onprem_platform).tenant("team-a", tenant_spec)
    out = tmp_path / "graph.json"
    assert main(["-C", str(project.path), "preview", "--stack", "test", "--json", str(out)]) == 2
    assert not out.exists()


def _limited():
    import resource

    # 1 GiB of address space: the CLI with its imports needs a few hundred MiB; an
    # expanded alias bomb would need far more.
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.mark.parametrize("tenant", [
    _alias_bomb(),
    "owner: [" + ",".join(["[1,[2]]"] * 40_000) + "]\n",
    "owner: " + "[" * 100_000 + "\n",
], ids=["alias-bomb", "many-values", "deep-open-brackets"])
def test_hostile_files_are_refused_in_bounded_time_and_memory(project, onprem_platform, tenant):
    import subprocess
    import sys
    from pathlib import Path

    project.stack(onprem_platform)
    (project.path / "stacks" / "tenants" / "team-a.yaml").write_text(tenant[: 256 * 1024])
    kubeforge = Path(sys.executable).parent / "kubeforge"
    # A hang guard, not a timing assertion: the refusal takes about a second.
    result = subprocess.run([str(kubeforge), "-C", str(project.path), "validate", "--stack", "test"],
                            capture_output=True, text=True, timeout=60, preexec_fn=_limited)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: stacks/tenants/team-a.yaml")
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
