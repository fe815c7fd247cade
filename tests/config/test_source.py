"""Reading a config file: only regular project files, only plain YAML data, only ConfigError.

Stack and tenant files come from pull requests and are read by CI next to credentials;
each test below is one way such a file could make kubeforge leak, hang or crash.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from kubeforge.config import source
from kubeforge.config.source import (
    EXCERPT,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    MAX_SCALAR_CHARS,
    parse_yaml,
    read_project_file,
    read_yaml,
)
from kubeforge.errors import ConfigError

SECRET = "AKIASECRETKEY123"
TENANT = "stacks/tenants/team-a.yaml"

TENANT_YAML = b"""\
owner: alice@example.com
quota: {cpu: 64, memory: 512Gi, gpu: 8}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project directory with stacks/tenants/, next to an outside directory holding a secret."""
    root = tmp_path / "project"
    (root / "stacks" / "tenants").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "credentials").write_text(f"aws_access_key_id = {SECRET}\n")
    return root


def _within(seconds: float, call):
    """Run call() in a daemon thread; fail (instead of hanging the suite) if it blocks."""
    result: dict = {}

    def target():
        try:
            result["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds}s"
    if "error" in result:
        raise result["error"]
    return result["value"]


def _refused(call, *fragments: str) -> str:
    """The one-problem ConfigError message of call(), checked to contain every fragment."""
    with pytest.raises(ConfigError) as info:
        _within(5, call)
    assert len(info.value.problems) == 1
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def _parse_refused(text: str | bytes, *fragments: str, display: str = TENANT) -> str:
    data = text.encode() if isinstance(text, str) else text
    return _refused(lambda: parse_yaml(data, display), display, *fragments)


# --- which files are read ------------------------------------------------------------------


def test_regular_project_file_is_read_as_bytes(project):
    (project / TENANT).write_bytes(TENANT_YAML)
    assert read_project_file(project, TENANT) == TENANT_YAML


def test_missing_file_is_file_not_found(project):
    _refused(lambda: read_project_file(project, TENANT), f"{TENANT}: file not found")


def test_link_to_file_outside_project_is_refused_without_echoing_target_or_contents(project):
    target = project.parent / "outside" / "credentials"
    (project / TENANT).symlink_to(target)
    message = _refused(lambda: read_yaml(project, TENANT), TENANT, "links outside the project are not read")
    assert SECRET not in message and str(project.parent) not in message


def test_relative_link_climbing_out_of_project_is_refused(project):
    (project / TENANT).symlink_to("../../../outside/credentials")
    message = _refused(lambda: read_project_file(project, TENANT), TENANT, "links outside the project")
    assert SECRET not in message and "credentials" not in message


def test_directory_link_leading_outside_project_is_refused(project):
    (project / "stacks" / "tenants").rmdir()
    (project / "stacks" / "tenants").symlink_to(project.parent / "outside", target_is_directory=True)
    message = _refused(lambda: read_project_file(project, "stacks/tenants/credentials"),
                       "stacks/tenants/credentials", "links outside the project")
    assert SECRET not in message


def test_dangling_link_outside_project_is_refused_as_outside_not_missing(project):
    (project / TENANT).symlink_to(project.parent / "outside" / "no-such-file")
    message = _refused(lambda: read_project_file(project, TENANT), TENANT, "links outside the project")
    assert "no-such-file" not in message


def test_link_to_another_project_file_is_read(project):
    (project / "stacks" / "tenants" / "shared.yaml").write_bytes(TENANT_YAML)
    (project / TENANT).symlink_to("shared.yaml")
    assert read_yaml(project, TENANT) == {
        "owner": "alice@example.com", "quota": {"cpu": 64, "memory": "512Gi", "gpu": 8},
    }


def test_link_loop_is_refused(project):
    (project / TENANT).symlink_to("loop.yaml")
    (project / "stacks" / "tenants" / "loop.yaml").symlink_to("team-a.yaml")
    _refused(lambda: read_project_file(project, TENANT), TENANT, "a link that does not end at a file")


def test_path_climbing_out_with_dotdot_is_refused(project):
    _refused(lambda: read_project_file(project, "stacks/../../outside/credentials"),
             "not a path inside the project")


def test_absolute_path_is_refused(project):
    _refused(lambda: read_project_file(project, str(project.parent / "outside" / "credentials")),
             "not a path inside the project")


def test_directory_is_refused(project):
    (project / TENANT).mkdir()
    _refused(lambda: read_project_file(project, TENANT), TENANT, "not a regular file (a directory)")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_is_refused_without_blocking(project):
    os.mkfifo(project / TENANT)  # no writer: a plain open() would block forever
    _refused(lambda: read_project_file(project, TENANT), TENANT, "not a regular file (a FIFO)")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_swapped_in_after_the_type_check_is_refused_without_blocking(project, monkeypatch):
    os.mkfifo(project / TENANT)
    real_stat, regular = os.stat, os.stat(__file__)

    def stat_before_the_swap(path, *, dir_fd=None, follow_symlinks=True):
        if dir_fd is None:
            return real_stat(path, follow_symlinks=follow_symlinks)
        return regular  # the type check sees a file; the open then finds the FIFO

    monkeypatch.setattr(source.os, "stat", stat_before_the_swap)
    _refused(lambda: read_project_file(project, TENANT), TENANT, "not a regular file (a FIFO)")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_link_to_endless_device_is_refused_without_reading_it(project):
    (project / TENANT).symlink_to("/dev/zero")
    message = _refused(lambda: read_project_file(project, TENANT), TENANT, "links outside the project")
    assert "/dev/zero" not in message


def test_file_over_size_limit_is_refused(project):
    (project / TENANT).write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    _refused(lambda: read_project_file(project, TENANT), TENANT, "file is too large",
             f"at most {MAX_FILE_BYTES} bytes")


def test_file_at_size_limit_is_read(project):
    (project / TENANT).write_bytes(b"#" * MAX_FILE_BYTES)
    assert len(read_project_file(project, TENANT)) == MAX_FILE_BYTES


def test_oversized_bytes_are_refused_by_the_parser_too():
    _parse_refused(b"#" * (MAX_FILE_BYTES + 1), "file is too large")


# --- which text is accepted ----------------------------------------------------------------


def test_empty_file_is_none():
    assert parse_yaml(b"", TENANT) is None


def test_comment_only_file_is_none():
    assert parse_yaml(b"# nothing here yet\n", TENANT) is None


def test_non_utf8_bytes_are_refused_with_offset_and_without_the_bytes():
    message = _parse_refused(b"owner: alice\nkey: caf\xe9 " + SECRET.encode(),
                             f"{TENANT}:2:9", "not UTF-8 text (invalid byte at offset 21)")
    assert SECRET not in message and "\\xe9" not in message


def test_utf16_file_is_refused_as_not_utf8():
    _parse_refused("owner: alice\n".encode("utf-16"), "not UTF-8 text (invalid byte at offset 0)")


def test_utf8_byte_order_mark_is_accepted():
    assert parse_yaml(b"\xef\xbb\xbfowner: alice\n", TENANT) == {"owner": "alice"}


def test_control_character_is_refused_with_position():
    _parse_refused("owner: alice\nkey: a\x00b\n", f"{TENANT}:2:7", "character U+0000 is not allowed")


def test_malformed_yaml_names_line_and_column_without_the_line():
    message = _parse_refused(f"owner: alice\nquota: [{SECRET}\n", f"{TENANT}:3:1", "malformed YAML")
    assert SECRET not in message


# --- which YAML is accepted ----------------------------------------------------------------

STACK_WITH_ANCHORS = """\
config:
  kubeforge:platform:
    release: "2026.11"
    target: onprem
    nodePools:
      a100-a:
        gpu: {model: a100-80gb, perNode: 8}
        nodeSelector: &gpu-labels {lab.example/rack: r1, lab.example/gpu: a100}
        driver: &driver "580.95.05"
      a100-b:
        gpu: {model: a100-80gb, perNode: 8}
        nodeSelector: *gpu-labels
        driver: *driver
    storage:
      file: {enabled: true}
    tenants: [speech-ai]
"""


def test_stack_sharing_labels_through_an_alias_is_read():
    data = parse_yaml(STACK_WITH_ANCHORS.encode(), "stacks/Pulumi.local.yaml")
    pools = data["config"]["kubeforge:platform"]["nodePools"]
    labels = {"lab.example/rack": "r1", "lab.example/gpu": "a100"}
    assert pools["a100-a"]["nodeSelector"] == pools["a100-b"]["nodeSelector"] == labels
    assert pools["a100-b"]["driver"] == "580.95.05"
    assert data["config"]["kubeforge:platform"]["release"] == "2026.11"


def test_merge_key_fills_in_keys_and_written_keys_override_them():
    data = parse_yaml(b"base: &base {min: 0, max: 4}\npool: {<<: *base, max: 8}\n", TENANT)
    assert data["pool"] == {"min": 0, "max": 8}


def test_earlier_merge_source_wins_over_later_one():
    # https://yaml.org/type/merge.html; PyYAML 6.0.3+ alone gets this wrong (yaml/pyyaml#953).
    data = parse_yaml(b"x: &x {alpha: 1}\ny: &y {alpha: 2, beta: 2}\nt: {<<: [*x, *y]}\n", TENANT)
    assert data["t"] == {"alpha": 1, "beta": 2}


def test_override_inside_a_merged_mapping_is_kept():
    text = b"base: &base {alpha: 1, beta: 1}\ntop: {<<: &mid {<<: *base, alpha: 2}}\nagain: *mid\n"
    data = parse_yaml(text, TENANT)
    assert data["top"] == data["again"] == {"alpha": 2, "beta": 1}


def test_merging_something_other_than_a_mapping_is_refused():
    _parse_refused("pool: {<<: [{min: 0}, [1]]}\n", f"{TENANT}:1:23", "'<<' merges a sequence")


def test_yaml_11_scalars_keep_their_pyyaml_types():
    data = parse_yaml(b"a: 1.34\nb: '1.34'\nc: yes\nd: ~\ne: 2026-11-01\nf: 0x10\ng: !!str 1.34\nh: =\n", TENANT)
    assert data == {"a": 1.34, "b": "1.34", "c": True, "d": None, "e": datetime.date(2026, 11, 1),
                    "f": 16, "g": "1.34", "h": "="}


def test_integer_keys_are_accepted():
    assert parse_yaml(b"ports: {80: http, 443: https}\n", TENANT) == {"ports": {80: "http", 443: "https"}}


def test_duplicate_key_is_refused_with_both_positions():
    _parse_refused("owner: alice\nquota: {gpu: 8}\nowner: mallory\n",
                   f"{TENANT}:3:1", "duplicate key (first at line 1, column 1)", "(got 'owner')")


def test_duplicate_key_spelled_differently_is_refused():
    _parse_refused("ports: {16: a, 0x10: b}\n", f"{TENANT}:1:16", "duplicate key")


def test_more_than_one_document_is_refused():
    _parse_refused("owner: alice\n---\nowner: mallory\n", f"{TENANT}:2:1", "more than one YAML document")


def test_python_object_tag_is_refused_before_anything_runs(tmp_path):
    marker = tmp_path / "ran"
    text = f"owner: !!python/object/apply:os.system ['touch {marker}']\n"
    _parse_refused(text, f"{TENANT}:1:8", "tag is not accepted", "!!str", "(got '!!python/object/apply:os.system')")
    assert not marker.exists()


def test_custom_tag_is_refused_and_quoted_short():
    tag = "!" + SECRET * 5
    message = _parse_refused(f"owner: {tag} alice\n", "tag is not accepted")
    assert f"(got '{tag[:EXCERPT - 3]}...')" in message and tag[:EXCERPT] not in message


def test_binary_tag_is_refused():
    _parse_refused("key: !!binary aGVsbG8=\n", "tag is not accepted", "(got '!!binary')")


def test_sequence_as_key_is_refused():
    _parse_refused("? [a, b]\n: value\n", f"{TENANT}:1:3", "a sequence is used as a key")


def test_mapping_as_key_is_refused():
    _parse_refused("{a: 1}: value\n", f"{TENANT}:1:1", "a mapping is used as a key")


def test_boolean_key_is_refused_with_a_hint_to_quote_it():
    _parse_refused("on: push\n", f"{TENANT}:1:1", "key is read as bool", "quote it", "(got 'on')")


def test_billion_laughs_alias_bomb_is_refused_quickly():
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    _parse_refused("\n".join(lines) + "\n", f"aliases expand this to more than {MAX_NODES} values")


def test_merge_key_bomb_is_refused_quickly():
    # The shape of yaml/pyyaml#897: each level merges the previous one eight times.
    lines = ["n0: &n0 {k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7}"]
    for level in range(1, 12):
        lines.append(f"n{level}: &n{level} {{<<: [{', '.join([f'*n{level - 1}'] * 8)}]}}")
    _parse_refused("\n".join(lines) + "\n", f"aliases expand this to more than {MAX_NODES} values")


def test_file_with_more_values_than_the_limit_is_refused_before_it_is_all_read(monkeypatch):
    monkeypatch.setattr(source, "MAX_NODES", 100)
    _parse_refused("[" + "1, " * 200 + "1]\n", f"{TENANT}:1:299", "more than 100 values")


def test_long_string_aliased_many_times_is_refused():
    lines = [f"a: &a {'x' * (MAX_SCALAR_CHARS - 1)}"]
    for prev, name in zip("abc", "bcd"):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    _parse_refused("\n".join(lines) + "\n", "aliases expand this to more than", "characters")


def test_recursive_alias_is_refused():
    _parse_refused("pools: &p [a, *p]\n", "alias refers to a mapping or sequence that contains it")


def test_undefined_alias_is_refused_and_quoted_short():
    message = _parse_refused(f"owner: *{SECRET * 5}\n", f"{TENANT}:1:8", "alias refers to no anchor")
    assert SECRET * 3 not in message


def test_anchor_defined_twice_is_refused():
    _parse_refused("a: &x 1\nb: &x 2\n", f"{TENANT}:2:4", "anchor is defined twice", "(got '&x')")


@pytest.mark.parametrize("text", [
    "[" * 10_000 + "]" * 10_000, "- " * 10_000 + "x", "{a: " * 10_000 + "1" + "}" * 10_000,
], ids=["flow-sequences", "block-sequences", "flow-mappings"])
def test_ten_thousand_levels_of_nesting_are_refused_without_recursion_error(text):
    _parse_refused(text, f"nested more than {MAX_DEPTH} levels deep")


def test_nesting_at_the_limit_is_read():
    assert parse_yaml(("[" * MAX_DEPTH + "]" * MAX_DEPTH).encode(), TENANT) is not None


def test_aliases_that_nest_beyond_the_limit_are_refused():
    deep = "[" * (MAX_DEPTH - 1) + "x" + "]" * (MAX_DEPTH - 1)
    _parse_refused(f"a: &a {deep}\nb: [[*a]]\n", f"aliases nest this more than {MAX_DEPTH} levels deep")


def test_long_scalar_is_refused_and_quoted_short():
    value = SECRET * (MAX_SCALAR_CHARS // len(SECRET) + 1)
    message = _parse_refused(f"key: {value}\n", f"{TENANT}:1:6", "characters long", f"at most {MAX_SCALAR_CHARS}")
    assert SECRET * 3 not in message


def test_impossible_date_is_refused_as_config_error():
    _parse_refused("expires: 2026-02-30\n", f"{TENANT}:1:10",
                   "cannot be read as !!timestamp (day is out of range for month)", "quote it")


@pytest.mark.parametrize("literal", ["9" * 5000, "0x" + "f" * 17, "1" + ":1" * 20_000, "-9223372036854775809"])
def test_integer_beyond_64_bits_is_refused(literal):
    _parse_refused(f"gpu: {literal}\n", f"{TENANT}:1:6", "integer out of range")


def test_integer_at_64_bit_limits_is_read():
    assert parse_yaml(b"a: 9223372036854775807\nb: -9223372036854775808\n", TENANT) == {
        "a": 2**63 - 1, "b": -(2**63),
    }


@pytest.mark.parametrize("data", [
    b"\xff\xfe\x00", b"a: [", b"a: 'unterminated", b"? ? ? a", b"%TAG ! tag:x,2000:\n--- !y 1\n",
    b"a: !!float 1.2.3", b"a: !!int x", b"<<: 1", b"a: {<<: [1]}", b"- !!seq a", b"!!map a",
    b"*a", b"...\n...\n", b"a: \t\tb\n\tc: d",
])
def test_hostile_text_raises_only_config_error(data):
    with pytest.raises(ConfigError):
        _within(5, lambda: parse_yaml(data, TENANT))


def test_parsing_needs_no_libyaml():
    # The check runs where libyaml's C extension cannot be imported.
    code = (
        "import sys; sys.modules['yaml._yaml'] = None\n"
        "import yaml; assert not yaml.__with_libyaml__\n"
        "from kubeforge.config.source import parse_yaml\n"
        "assert parse_yaml(b'a: &x [1]\\nb: *x\\n', 'f.yaml') == {'a': [1], 'b': [1]}\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}  # this checkout's kubeforge
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env=env)


def test_shipped_stacks_read_the_same_as_with_safe_load():
    root = Path(__file__).resolve().parents[2]
    for path in sorted((root / "stacks").rglob("*.yaml")):
        relative = path.relative_to(root).as_posix()
        assert read_yaml(root, relative) == yaml.safe_load(path.read_text()), relative
