"""The one place kubeforge reads a config file's bytes and turns them into Python data.

Stack files (``stacks/Pulumi.<stack>.yaml``) and tenant files (``stacks/tenants/<name>.yaml``)
arrive in pull requests and are read by CI next to credentials, so they are hostile input.
This module refuses, with one :class:`~kubeforge.errors.ConfigError` naming the file:

- files that are not regular files inside the project: links out of the project (which
  could make kubeforge read, and echo, a credential file), FIFOs and devices (which
  could block the reader or never end), directories; and files over a size limit;
- bytes that are not UTF-8 text;
- YAML beyond the safe, plain-data subset a config needs: more than one document,
  explicit tags other than the core ones (``!!python/object/apply`` and friends, custom
  tags), duplicate keys (PyYAML keeps the last one silently), keys that are not strings
  or integers, nesting deeper than :data:`MAX_DEPTH`, scalars longer than
  :data:`MAX_SCALAR_CHARS`, and alias graphs that expand beyond :data:`MAX_NODES` nodes
  or :data:`MAX_EXPANDED_CHARS` characters or into a cycle (the "billion laughs" bomb,
  https://en.wikipedia.org/wiki/Billion_laughs_attack).

Every check runs in time and memory linear in the file's size, and nothing but
:class:`ConfigError` comes out: messages name the file (``file:line:col`` where known),
say what is wrong and what is accepted, and quote at most :data:`EXCERPT` characters of
a value. File contents and the targets of links out of the project are never echoed.

PyYAML's pure-Python SafeLoader is used; libyaml (CSafeLoader) is not needed.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    ScalarEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kubeforge.errors import EXCERPT, ConfigError, Problem

__all__ = [
    "EXCERPT",
    "MAX_DEPTH",
    "MAX_EXPANDED_CHARS",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "MAX_SCALAR_CHARS",
    "parse_yaml",
    "read_project_file",
    "read_yaml",
]

MAX_FILE_BYTES = 256 * 1024
"""A stack or tenant file larger than this is refused. The shipped stacks are about 1 KiB;
a large platform (dozens of pools and tenants, an encrypted kubeconfig) stays well under
64 KiB. The pure-Python parser reads 256 KiB in about a second; with MAX_NODES counted as it
goes, the slowest file measured (32-deep flow brackets, repeated) is refused in under 2 s."""

MAX_DEPTH = 32
"""Nesting of mappings and sequences, counted after alias expansion. Real configs nest
about 6 levels (config > kubeforge:platform > storage > file > nfs > server), Helm-style
value overrides perhaps 12. PyYAML's composer and any recursive consumer (pydantic,
json, copy) recurse once per level: 32 stays far below Python's recursion limit."""

MAX_NODES = 50_000
"""Nodes (scalars, sequences, mappings) after alias expansion. A large real config has
a few thousand. Without aliases a 256 KiB file can still hold ~130,000 (``[1,1,1,...]``);
with aliases, 9 levels of 9 reach 387 million. Everything that walks the data is linear
in this number, so it bounds all work after parsing. Counted twice: as the parser goes
(a file of 100,000 tiny values stops at the 50,001st) and over the alias graph."""

MAX_SCALAR_CHARS = 64 * 1024
"""One scalar (a key or a value). The longest legitimate scalar is a Pulumi secret
(``secure: v1:...``): an encrypted kubeconfig with embedded certificates is 5-20 KiB of
base64. 64 KiB leaves room for that and for a CA bundle while keeping any one value
small enough for pattern checks and messages."""

MAX_EXPANDED_CHARS = 4 * MAX_FILE_BYTES
"""Characters of all scalars after alias expansion. Aliases share Python objects, but a
consumer that serialises the data (the offline engine JSON-encodes config, renderers
print it) expands them: a 64 KiB string aliased through a few levels of 9 would be
gigabytes. Moderate reuse of anchors (shared labels, tolerations) stays near the file's
own size; four times the largest file leaves ample room."""


_CORE = "tag:yaml.org,2002:"
# The explicit tags a config may use: the YAML 1.1 core types a config value can have
# (https://yaml.org/type/). Not !!binary (bytes), !!timestamp, !!set, !!omap, !!pairs:
# no kubeforge setting has those types; and never !!python/* or application tags.
_ALLOWED_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "seq", "map")}
_ACCEPTED_TAGS = "!!str, !!int, !!float, !!bool, !!null, !!seq, !!map (or no tag)"
_KEY_TAGS = {_CORE + "str", _CORE + "int", _CORE + "value"}  # value: a plain `=`, read as text
_MERGE_TAG = _CORE + "merge"
_INT_TAG = _CORE + "int"
# Integers are 64-bit, the widest integer any Kubernetes or Pulumi field takes.
_INT_RANGE = f"integer out of range; accepted: {-(2**63)} to {2**63 - 1}"
_INT_CHARS = 100  # longer than any int64 literal, even with '_' separators or 1:2:3 parts


# --- reading bytes -------------------------------------------------------------------------


def read_project_file(root: Path, relative: str) -> bytes:
    """The bytes of the regular file ``root/relative``, refusing anything else.

    ``relative`` is a POSIX path inside the project, e.g. ``stacks/Pulumi.local.yaml``; it
    is also the name used in messages. A link is followed only if it ends at a file inside
    the project. The file is opened without following a final link and without blocking,
    and checked again on the open descriptor (``fstat``), so a path swapped for a FIFO or a
    link between the checks is refused too. At most ``MAX_FILE_BYTES + 1`` bytes are read.
    """
    display = relative
    parts = PurePosixPath(relative).parts
    if not parts or PurePosixPath(relative).is_absolute() or ".." in parts or "\0" in relative:
        _refuse(display, "not a path inside the project; accepted: a relative path such as "
                "stacks/tenants/<name>.yaml")
    real_root = os.path.realpath(root)
    # Resolves every link, in any component. Not strict: a missing file or a dangling link
    # is reported by the open below, after the containment check, so a dangling link out of
    # the project reads as "outside", not "not found", and its target is never shown.
    target = os.path.realpath(os.path.join(real_root, *parts))
    if target == real_root:
        _refuse(display, "not a regular file (a directory); accepted: a YAML file")
    if not _inside(real_root, target):
        _refuse(display, "links outside the project are not read; accepted: a file inside the project, "
                "or a link to one")
    fd = _open_regular(real_root, os.path.relpath(target, real_root).split(os.sep), display)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            _refuse(display, f"not a regular file ({_kind(info.st_mode)}); accepted: a YAML file")
        if info.st_size > MAX_FILE_BYTES:
            _too_large(display, info.st_size)
        data = _read_at_most(fd, MAX_FILE_BYTES + 1)
    except OSError as exc:
        _refuse(display, f"cannot be read ({_reason(exc)})")
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        _too_large(display, None)
    return data


_HAS_DIR_FD = os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd


def _inside(real_root: str, target: str) -> bool:
    try:
        return os.path.commonpath([real_root, target]) == real_root
    except ValueError:  # Windows: another drive
        return False


def _open_regular(real_root: str, parts: list[str], display: str) -> int:
    """Open the link-free path ``parts`` under ``real_root``, one component at a time.

    ``parts`` comes from ``realpath``, so it holds no links; opening each component with
    O_NOFOLLOW relative to its parent keeps it that way should the tree change meanwhile.
    The final component is checked with lstat first so a FIFO or device is never opened.
    """
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        if not _HAS_DIR_FD:
            # Windows: no dir_fd, no FIFOs; the fstat in the caller still checks the type.
            path = os.path.join(real_root, *parts)
            _check_type(os.lstat(path).st_mode, display)
            return os.open(path, flags)
        dir_fd = os.open(real_root, flags | getattr(os, "O_DIRECTORY", 0))
        try:
            for name in parts[:-1]:
                next_fd = os.open(name, flags | getattr(os, "O_DIRECTORY", 0) | nofollow, dir_fd=dir_fd)
                os.close(dir_fd)
                dir_fd = next_fd
            _check_type(os.stat(parts[-1], dir_fd=dir_fd, follow_symlinks=False).st_mode, display)
            return os.open(
                parts[-1],
                flags | nofollow | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0),
                dir_fd=dir_fd,
            )
        finally:
            os.close(dir_fd)
    except (FileNotFoundError, NotADirectoryError):
        _refuse(display, "file not found")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            _refuse(display, _LINK_LOOP)
        _refuse(display, f"cannot be read ({_reason(exc)})")


_LINK_LOOP = "a link that does not end at a file (a loop); accepted: a file inside the project, or a link to one"


def _check_type(mode: int, display: str) -> None:
    if stat.S_ISLNK(mode):  # realpath leaves a link in place only in a loop (or a race)
        _refuse(display, _LINK_LOOP)
    if not stat.S_ISREG(mode):
        _refuse(display, f"not a regular file ({_kind(mode)}); accepted: a YAML file")


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a link"),
    ):
        if test(mode):
            return name
    return "a special file"


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        chunk = os.read(fd, min(64 * 1024, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _reason(exc: OSError) -> str:
    # strerror only: str(exc) would carry the path, which may be a link's resolved target.
    return (exc.strerror or type(exc).__name__).lower()


def _too_large(display: str, size: int | None) -> NoReturn:
    got = f"{size} bytes" if size is not None else f"more than {MAX_FILE_BYTES} bytes"
    _refuse(display, f"file is too large ({got}); accepted: at most {MAX_FILE_BYTES} bytes "
            f"({MAX_FILE_BYTES // 1024} KiB) per stack or tenant file")


def _refuse(source: str, message: str, value: Any = None, has_value: bool = False) -> NoReturn:
    raise ConfigError([Problem(source, "", message, value=value, has_value=has_value)])


# --- parsing YAML --------------------------------------------------------------------------


def read_yaml(root: Path, relative: str) -> Any:
    """The data in the YAML file ``root/relative``: :func:`read_project_file` then :func:`parse_yaml`."""
    return parse_yaml(read_project_file(root, relative), relative)


def parse_yaml(data: bytes, display: str) -> Any:
    """The plain data (dicts, lists, str, int, float, bool, None, dates) in one YAML document.

    ``display`` names the file in messages. An empty document is ``None``. Raises only
    :class:`ConfigError`; see the module docstring for what is refused.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"parse_yaml takes bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) > MAX_FILE_BYTES:
        _too_large(display, len(data))
    text = _decode(data, display)
    loader = None
    try:
        loader = _Loader(text, display)  # the reader checks for unprintable characters here
        node = loader.get_single_node()
        if node is None:
            return None
        _check_graph(node, loader, display)
        return loader.construct_document(node)
    except ConfigError:
        raise
    except yaml.MarkedYAMLError as exc:
        _refuse(_where(display, exc.problem_mark or exc.context_mark), _yaml_problem(exc))
    except yaml.reader.ReaderError as exc:
        _refuse(_where_offset(display, text, exc.position),
                f"character U+{exc.character:04X} is not allowed in YAML; accepted: printable text "
                "(control characters other than tab and line breaks are not)")
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        _refuse(display, f"malformed YAML: {_clip_quotes(str(exc) or type(exc).__name__)}")
    except (RecursionError, MemoryError):
        # Not expected after the checks above; a last guard so no traceback reaches the user.
        _refuse(display, f"too large or too deeply nested to read; accepted: at most {MAX_NODES} "
                f"values nested at most {MAX_DEPTH} deep")
    finally:
        if loader is not None:
            loader.dispose()


def _decode(data: bytes, display: str) -> str:
    bom = len(b"\xef\xbb\xbf") if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = bom + exc.start
        line_start = data.rfind(b"\n", 0, offset) + 1
        # Everything before the first bad byte decoded, so the column can count characters.
        column = len(data[max(line_start, bom):offset].decode("utf-8")) + 1
        line = data.count(b"\n", 0, offset) + 1
        _refuse(f"{display}:{line}:{column}", f"not UTF-8 text (invalid byte at offset {offset}); "
                "accepted: UTF-8 text (a byte-order mark is fine)")


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses, while composing, what a config never needs.

    Checks that need one event run as the composer consumes it (:meth:`get_event`), so
    the composer's recursion never gets deeper than MAX_DEPTH and no second pass over the
    text is needed. Checks that need the whole node graph (alias expansion, keys) run in
    :func:`_check_graph` between composing and constructing.
    """

    def __init__(self, text: str, display: str):
        super().__init__(text)
        self._display = display
        self._depth = 0
        self._documents = 0
        self._nodes = 0

    def get_event(self):
        event = super().get_event()
        if isinstance(event, (CollectionStartEvent, ScalarEvent, AliasEvent)):
            # Counting here stops a file of ~100,000 tiny values before it is all composed;
            # _check_graph then counts what aliases expand to.
            self._nodes += 1
            if self._nodes > MAX_NODES:
                self._fail(event.start_mark, f"more than {MAX_NODES} values; accepted: at most {MAX_NODES} keys, "
                           "items, mappings and sequences in all")
        if isinstance(event, CollectionStartEvent):
            self._depth += 1
            if self._depth > MAX_DEPTH:
                self._fail(event.start_mark, f"nested more than {MAX_DEPTH} levels deep; accepted: at most "
                           f"{MAX_DEPTH} levels of mappings and sequences")
        elif isinstance(event, CollectionEndEvent):
            self._depth -= 1
        elif isinstance(event, DocumentStartEvent):
            self._documents += 1
            if self._documents > 1:
                self._fail(event.start_mark, "more than one YAML document ('---'); accepted: one document "
                           "per file")
        if isinstance(event, ScalarEvent) and len(event.value) > MAX_SCALAR_CHARS:
            self._fail(event.start_mark, f"value is {len(event.value)} characters long; accepted: at most "
                       f"{MAX_SCALAR_CHARS}", value=_clip(event.value))
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and tag not in _ALLOWED_TAGS:
            self._fail(event.start_mark, f"tag is not accepted; accepted: {_ACCEPTED_TAGS}",
                       value=_clip(_short_tag(tag)))
        return event

    def compose_node(self, parent, index):
        # PyYAML reports these itself, but quotes the whole anchor name, which may be long.
        event = self.peek_event()
        if isinstance(event, AliasEvent) and event.anchor not in self.anchors:
            self._fail(event.start_mark, "alias refers to no anchor defined before it; accepted: *name "
                       "after &name", value=_clip("*" + event.anchor))
        if not isinstance(event, AliasEvent) and event.anchor is not None and event.anchor in self.anchors:
            self._fail(event.start_mark, "anchor is defined twice; accepted: each &name once per file",
                       value=_clip("&" + event.anchor))
        return super().compose_node(parent, index)

    def construct_object(self, node, deep=False):
        # A 64 KiB run of digits (or of 1:1:1... sexagesimal parts) is a huge int whose repr
        # raises ValueError in Python >= 3.11 (int_max_str_digits): refuse it before building it.
        if isinstance(node, ScalarNode) and node.tag == _INT_TAG and len(node.value) > _INT_CHARS:
            self._fail(node.start_mark, _INT_RANGE, value=_clip(node.value))
        try:
            data = super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:
            # e.g. 2026-02-30 (a timestamp with no such day), !!float 1.2.3. The reason is cut
            # at its first ':' because Python appends the offending text there.
            reason = str(exc).split(":")[0] or type(exc).__name__
            self._fail(node.start_mark, f"value cannot be read as {_short_tag(node.tag)} ({reason}); quote it "
                       "to use it as text", value=_clip(_text(node)))
        if type(data) is int and not -(2**63) <= data < 2**63:
            self._fail(node.start_mark, _INT_RANGE, value=_clip(_text(node)))
        return data

    def flatten_mapping(self, node):
        # The YAML 1.1 merge rule (https://yaml.org/type/merge.html): a mapping's own keys win
        # over merged ones, and earlier mappings in a `<<: [*a, *b]` list over later ones. Since
        # yaml/pyyaml#937 PyYAML de-duplicates merged keys by the identity of their text, which
        # makes the winner depend on string interning (yaml/pyyaml#953); the blow-up #937 guards
        # against is bounded here by _check_graph, which counts every merge as an expansion.
        merged: list = []
        own: list = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                own.append((key_node, value_node))
                continue
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in reversed(sources):
                if not isinstance(source, MappingNode):
                    self._fail(source.start_mark, f"'<<' merges a {source.id}; accepted: a mapping or a list of "
                               "mappings (usually aliases, <<: *defaults)")
                self.flatten_mapping(source)
                merged.extend(source.value)
        node.value = merged + own

    def _fail(self, mark, message: str, value: Any = None) -> NoReturn:
        _refuse(_where(self._display, mark), message, value=value, has_value=value is not None)


# YAML 1.1 resolves a plain `=` to the "value" type, which SafeLoader cannot construct
# (https://yaml.org/type/value.html); a config means the one-character string.
_Loader.add_constructor(_CORE + "value", yaml.SafeLoader.construct_yaml_str)


def _check_graph(root: Node, loader: _Loader, display: str) -> None:
    """Refuse cycles, keys that are not str/int, duplicate keys, and alias expansions beyond
    MAX_NODES nodes, MAX_EXPANDED_CHARS characters or MAX_DEPTH levels.

    One iterative depth-first walk over the composed graph; each distinct node is measured
    once (memoised by identity), so the walk is linear in the file however far the aliases
    expand.
    """
    measured: dict[int, tuple[int, int, int]] = {}  # id(node) -> (nodes, chars, height) expanded
    open_nodes: set[int] = set()  # on the current path: meeting one again is a cycle
    stack: list[tuple[Node, bool]] = [(root, False)]

    def fail(node: Node, message: str, value: Any = None) -> NoReturn:
        _refuse(_where(display, node.start_mark), message, value=value, has_value=value is not None)

    while stack:
        node, children_done = stack.pop()
        key = id(node)
        children = _children(node)
        if children_done:
            open_nodes.discard(key)
            nodes = 1 + sum(measured[id(c)][0] for c in children)
            scalar = isinstance(node, ScalarNode)
            chars = (len(node.value) if scalar else 0) + sum(measured[id(c)][1] for c in children)
            height = 0 if scalar else 1 + max((measured[id(c)][2] for c in children), default=0)
            if nodes > MAX_NODES:
                fail(node, f"aliases expand this to more than {MAX_NODES} values; accepted: at most {MAX_NODES} "
                     "keys, items, mappings and sequences in all, counting a value again for each alias to it")
            if chars > MAX_EXPANDED_CHARS:
                fail(node, f"aliases expand this to more than {MAX_EXPANDED_CHARS} characters; accepted: at "
                     f"most {MAX_EXPANDED_CHARS} characters of text in all, counting a value again for each "
                     "alias to it")
            if height > MAX_DEPTH:
                fail(node, f"aliases nest this more than {MAX_DEPTH} levels deep; accepted: at most "
                     f"{MAX_DEPTH} levels of mappings and sequences")
            measured[key] = (nodes, chars, height)
            continue
        if key in measured:
            continue
        if key in open_nodes:
            fail(node, "alias refers to a mapping or sequence that contains it; accepted: aliases to "
                 "complete values")
        if isinstance(node, MappingNode):
            _check_keys(node, loader, fail)
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(children))


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_keys(node: MappingNode, loader: _Loader, fail) -> None:
    seen: dict[Any, Node] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, ScalarNode):
            kind = "mapping" if isinstance(key_node, MappingNode) else "sequence"
            fail(key_node, f"a {kind} is used as a key; accepted: keys that are text or integers")
        if key_node.tag == _MERGE_TAG:
            continue  # `<<: *base`; keys written next to it override the merged ones by design
        if key_node.tag not in _KEY_TAGS:
            fail(key_node, f"key is read as {_short_tag(key_node.tag).lstrip('!')}, not text; accepted: keys that "
                 "are text or integers (quote it: YAML 1.1 reads on/off/yes/no as booleans, ~ as null)",
                 value=_clip(key_node.value))
        key = loader.construct_object(key_node)
        if key in seen:
            first = seen[key].start_mark
            fail(key_node, f"duplicate key (first at line {first.line + 1}, column {first.column + 1}); "
                 "accepted: each key once per mapping", value=_clip(str(key)))
        seen[key] = key_node


# --- messages ------------------------------------------------------------------------------


def _where(display: str, mark) -> str:
    return f"{display}:{mark.line + 1}:{mark.column + 1}" if mark is not None else display


def _where_offset(display: str, text: str, offset: int) -> str:
    line_start = text.rfind("\n", 0, offset) + 1
    return f"{display}:{text.count(chr(10), 0, offset) + 1}:{offset - line_start + 1}"


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    # problem/context only: str(exc) appends a snippet of the offending line, which may be a secret.
    parts = [p for p in (exc.context, exc.problem) if p]
    return "malformed YAML: " + _clip_quotes(": ".join(parts) or type(exc).__name__)


def _clip(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 3] + "..."


# A quoted fragment in a PyYAML message (a tag, a handle, a character).
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def _clip_quotes(message: str) -> str:
    clipped = _QUOTED.sub(lambda m: repr(_clip(m.group()[1:-1])) if len(m.group()) > EXCERPT + 2 else m.group(),
                          message)
    return clipped if len(clipped) <= 4 * EXCERPT else clipped[: 4 * EXCERPT - 3] + "..."


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def _text(node: Node) -> str:
    return node.value if isinstance(node, ScalarNode) else node.id
