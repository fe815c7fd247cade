"""The ``kubeforge`` command: validate, preview and render stacks offline; GPU checks.

Exit codes: 0 success; 1 the program or a check failed; 2 bad configuration or arguments.
Errors are one message, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from kubeforge.config.loader import load_stack, read_stack_config
from kubeforge.config.project import find_project
from kubeforge.errors import ConfigError
from kubeforge.gpu import cli as gpu_cli

T = TypeVar("T")


class Progress:
    """Step messages on a terminal (stderr); silent when piped, so output stays plain."""

    def __init__(self, enabled: bool | None = None):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled

    def step(self, message: str, fn: Callable[[], T]) -> T:
        if not self.enabled:
            return fn()
        sys.stderr.write(f"… {message}")
        sys.stderr.flush()
        start = time.monotonic()
        result = fn()
        sys.stderr.write(f"\r✓ {message} ({time.monotonic() - start:.1f}s)\n")
        return result


def _root(args: argparse.Namespace) -> Path:
    return find_project(Path(args.cwd) if args.cwd else None)


def _warn(config) -> None:
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    config = load_stack(args.stack, _root(args))
    _warn(config)
    pools = len(config.cpu_pools) + len(config.gpu_pools)
    print(
        f"stack {args.stack}: valid ({config.target}, Kubernetes {config.kubernetes_version}, release "
        f"{config.release.release}, {pools} node pools, {config.gpu_capacity} GPUs max, {len(config.tenants)} tenants)"
    )
    return 0


def _run_engine(args: argparse.Namespace, progress: Progress):
    from kubeforge.engine import run_program

    root = _root(args)
    config = progress.step("validating config", lambda: load_stack(args.stack, root))
    _warn(config)
    raw = read_stack_config(root, args.stack)
    return progress.step(
        "running the program in the offline engine", lambda: run_program(root, args.stack, raw, region=config.region)
    )


def cmd_preview(args: argparse.Namespace) -> int:
    progress = Progress()
    graph = _run_engine(args, progress)
    by_type = graph.counts_by_type()
    by_component = graph.counts_by_component()
    print(f"Stack {args.stack}: {sum(by_type.values())} resources (offline preview, nothing was changed)")
    print("\nBy component:")
    for name, count in sorted(by_component.items()):
        print(f"  {count:5d}  {name}")
    print("\nBy type:")
    for name, count in sorted(by_type.items()):
        print(f"  {count:5d}  {name}")
    path = graph.critical_path()
    print(f"\nCritical path: {len(path)} resources, each waiting for the one before "
          "(everything else installs beside it):")
    for resource in path:
        component = graph.component_of(resource)
        print(f"  {resource.name}  ({resource.type}{', in ' + component.name if component else ''})")
    if graph.outputs:
        print("\nOutputs:")
        for key in sorted(graph.outputs):
            print(f"  {key}: {_short(graph.outputs[key])}")
    if args.json:
        Path(args.json).write_text(graph.to_json())
        print(f"\nWrote the resource graph to {args.json}")
    return 0


def _short(value) -> str:
    # Sorted, so the same stack always prints the same summary.
    text = json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)
    return text if len(text) <= 100 else text[:97] + "..."


def cmd_render(args: argparse.Namespace) -> int:
    from kubeforge.render import render

    progress = Progress()
    graph = _run_engine(args, progress)
    files = progress.step("writing manifests", lambda: render(graph, Path(args.out)))
    print(f"Rendered {len(files)} files for stack {args.stack} into {args.out}")
    return 0


def cmd_policy(args: argparse.Namespace) -> int:
    from kubeforge import policy

    root = _root(args)
    pack = policy.load_pack(root)
    if args.list:
        print("\n".join(policy.rule_lines(pack)))
        return 0
    if (args.stack is None) == (args.graph is None):
        raise policy.PolicyError("policy: give --stack S (run the program offline) or --graph FILE (a saved "
                                 "kubeforge preview --json), not both")
    config = policy.read_config(Path(args.config) if args.config else None)
    if args.graph:
        graph = _saved_graph(args.graph, "--graph")
    else:
        graph = _run_engine(args, Progress())
    violations = policy.run(pack, graph, config)
    if args.format == "json":
        report = policy.json_report(graph.stack, violations, len(pack.RULES))
    elif args.format == "sarif":
        report = policy.sarif_report(pack, f"stacks/Pulumi.{graph.stack}.yaml", violations)
    else:
        report = policy.text_report(graph.stack, violations, len(pack.RULES))
    if args.out:
        Path(args.out).write_text(report)
        print(policy.text_report(graph.stack, violations, len(pack.RULES)).splitlines()[0])
    else:
        sys.stdout.write(report)
    return 1 if any(v.mandatory for v in violations) else 0


# A saved graph of the largest stacks is a few MB; far larger is not one kubeforge wrote.
MAX_GRAPH_BYTES = 256 << 20


def _saved_graph(name: str, option: str):
    """A graph ``kubeforge preview --json`` wrote: bounded, UTF-8, its shape checked."""
    from kubeforge.engine import GraphFileError, ResourceGraph

    path = Path(name)
    try:
        if path.stat().st_size > MAX_GRAPH_BYTES:
            raise GraphFileError(f"{option}: {path.name} is over {MAX_GRAPH_BYTES >> 20} MiB")
        return ResourceGraph.from_json(path.read_text(encoding="utf-8", errors="strict"), source=path.name)
    except (OSError, UnicodeDecodeError):
        raise GraphFileError(f"{option}: cannot read {path.name} as UTF-8 text") from None


def cmd_diff(args: argparse.Namespace) -> int:
    from kubeforge import diff
    from kubeforge.engine import GraphFileError

    saved = _saved_graph(args.against, "--against")
    if saved.stack != args.stack:
        raise GraphFileError(f"--against: {Path(args.against).name} is a graph of stack {saved.stack[:60]!r}, "
                             f"not {args.stack!r}; save one with kubeforge preview --stack {args.stack} --json FILE")
    result = diff.diff(saved, _run_engine(args, Progress()))
    if args.format == "markdown":
        sys.stdout.write(diff.markdown_report(result))
    elif args.format == "json":
        sys.stdout.write(diff.json_report(result))
    else:
        sys.stdout.write(diff.text_report(result))
    return 1 if args.fail_on_dangerous and result.dangerous else 0


def cmd_graph(args: argparse.Namespace) -> int:
    from kubeforge import drawing

    graph = _saved_graph(args.graph, "--graph") if args.graph else _run_engine(args, Progress())
    drawn = drawing.component_graph(graph)
    text = {"mermaid": drawing.mermaid, "dot": drawing.dot, "svg": drawing.svg}[args.format](drawn)
    if args.out:
        Path(args.out).write_text(text)
        print(f"Wrote {len(drawn.nodes)} components, {len(drawn.edges)} arrows to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    from kubeforge.catalog import available_releases, version_table

    releases = available_releases()
    if args.release is not None and args.release not in releases:
        print(f"error: --release: unknown catalog release; accepted: {', '.join(releases)} (got {args.release[:40]!r})",
              file=sys.stderr)
        return 2
    for name in [args.release] if args.release else releases:
        print(version_table(name))
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from kubeforge.catalog import versions_document
    from kubeforge.config.reference import config_reference

    print(config_reference() if args.topic == "config" else versions_document(), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubeforge",
        description="Preview, render and check a kubeforge stack offline (no cloud credentials needed).",
    )
    parser.add_argument(
        "-C", "--cwd", metavar="DIR",
        help="run as if in DIR: the project is DIR or its nearest parent holding Pulumi.yaml (default: the "
             "current directory), as Pulumi finds it",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="validate a stack's config and tenants; nothing is run")
    p.add_argument("--stack", required=True)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("preview", help="run the program in the offline engine and summarise the resource graph")
    p.add_argument("--stack", required=True)
    p.add_argument("--json", metavar="FILE", help="write the whole resource graph as JSON")
    p.set_defaults(func=cmd_preview)

    p = sub.add_parser("render", help="write every Kubernetes object, Helm release and manifest set as YAML")
    p.add_argument("--stack", required=True)
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("policy", help="check a stack's offline graph against the policy pack (policies/); "
                                      "exit 1 on a mandatory violation")
    p.add_argument("--stack", help="run the stack's program offline and check its graph")
    p.add_argument("--graph", metavar="FILE", help="check a graph saved by kubeforge preview --json instead")
    p.add_argument("--config", metavar="FILE", help="policy config in Pulumi's shape (the file "
                                                    "pulumi preview --policy-pack-config takes): levels and parameters")
    p.add_argument("--format", choices=["text", "json", "sarif"], default="text")
    p.add_argument("--out", metavar="FILE", help="write the report to FILE (SARIF for code scanning) and print a summary")
    p.add_argument("--list", action="store_true", help="print the pack's rules, one per line")
    p.set_defaults(func=cmd_policy)

    p = sub.add_parser("diff", help="compare the stack's graph with a saved one: added, removed, changed "
                                    "resources; replacing or deleting a stateful one is marked dangerous")
    p.add_argument("--stack", required=True)
    p.add_argument("--against", required=True, metavar="FILE", help="a graph saved by kubeforge preview --json")
    p.add_argument("--format", choices=["text", "markdown", "json"], default="text",
                   help="markdown: a pull-request comment")
    p.add_argument("--fail-on-dangerous", action="store_true", help="exit 1 when a change is dangerous")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("graph", help="draw the components and what each waits for, the critical path marked")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="run the stack's program offline and draw its graph")
    where.add_argument("--graph", metavar="FILE", help="draw a graph saved by kubeforge preview --json")
    p.add_argument("--format", choices=["mermaid", "dot", "svg"], default="mermaid",
                   help="svg needs Graphviz's dot on the PATH")
    p.add_argument("--out", metavar="FILE")
    p.set_defaults(func=cmd_graph)

    p = sub.add_parser("versions", help="print what a catalog release pins: every component's source and exact "
                                        "version, images, EKS AMIs and add-ons")
    p.add_argument("--release", metavar="R", help="one release (default: every release the catalog holds)")
    p.set_defaults(func=cmd_versions)

    p = sub.add_parser("docs", help="print generated documentation")
    p.add_argument("topic", choices=["config", "versions"],
                   help="config: the configuration reference (docs/CONFIG.md); "
                        "versions: what each catalog release pins (docs/VERSIONS.md)")
    p.set_defaults(func=cmd_docs)

    gpu_cli.add_parser(sub).set_defaults(func=gpu_cli.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from kubeforge.drawing import GraphvizMissing
    from kubeforge.engine import EngineError, GraphFileError
    from kubeforge.policy import PolicyError
    from kubeforge.render import RenderError

    try:
        return args.func(args)
    except (ConfigError, PolicyError, GraphFileError, GraphvizMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (EngineError, RenderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Output piped into e.g. `head`, which stopped reading: not an error.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at exit
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
