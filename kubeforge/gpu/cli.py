"""`kubeforge gpu check` and `kubeforge gpu matrix`.

Wired into the main CLI through :func:`add_parser` and :func:`run`; also runs on its
own as ``python -m kubeforge.gpu.cli gpu check ...``.

Exit codes: 0 compatible, 1 incompatible, 2 bad arguments or unreadable facts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Sequence, TextIO

from kubeforge.gpu.compat import MIG_STRATEGIES, check
from kubeforge.gpu.facts import Facts, FactsError, Toolkit, ToolkitRelease, facts
from kubeforge.gpu.versions import DriverVersion

EXIT_OK, EXIT_INCOMPATIBLE, EXIT_USAGE = 0, 1, 2


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD") from None


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``gpu`` command (with ``check`` and ``matrix``) to a subparsers object."""
    gpu = subparsers.add_parser(
        "gpu",
        help="check a driver/CUDA/MIG combination against NVIDIA's published tables",
        description="Driver/CUDA compatibility from gpu-drivers/data/ (every row cites NVIDIA).",
    )
    actions = gpu.add_subparsers(dest="gpu_command", metavar="{check,matrix}")
    actions.required = True

    chk = actions.add_parser(
        "check",
        help="exit 0 if the driver runs the CUDA version (and MIG layout), 1 if not",
        description="Check one pinned driver against one CUDA version, like the pre-deploy check does for a pool.",
    )
    chk.add_argument("--driver", required=True, help="pinned driver version, e.g. 580.95.05")
    chk.add_argument("--cuda", required=True, help="CUDA version of the image, e.g. 12.8 (GA) or 12.8.1")
    chk.add_argument("--gpu", choices=[gpu.id for gpu in facts().gpus], help="GPU model the driver runs on")
    chk.add_argument("--mig", metavar="LAYOUT", help='MIG layout per GPU, e.g. "3g.40gb,2g.20gb,1g.10gb" or "1g.10gb*7"')
    chk.add_argument("--mig-strategy", choices=MIG_STRATEGIES,
                     help="GPU Operator MIG strategy the layout must suit: single needs one profile on every GPU "
                          "(default: mixed, any layout that fits)")
    chk.add_argument("--forward-compat", action="store_true",
                     help="accept an older driver when the image ships cuda-compat-<major>-<minor>")
    chk.add_argument("--minor-compat", action="store_true",
                     help="accept a driver inside CUDA minor version compatibility (limited feature set)")
    chk.add_argument("--allow-eol", action="store_true", help="accept a driver branch past NVIDIA's end of life")
    chk.add_argument("--pool", help="pool name to put in messages")
    chk.add_argument("--today", type=_date, help="date to judge end of life against (default: today)")

    mat = actions.add_parser("matrix", help="print the driver branch and CUDA tables kubeforge checks against")
    mat.add_argument("--today", type=_date, help="date to judge end of life against (default: today)")
    return gpu


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        data = facts()
    except FactsError as exc:
        print(f"kubeforge gpu: {exc}", file=err)
        return EXIT_USAGE
    if args.gpu_command == "matrix":
        print(render_matrix(data, args.today or dt.date.today()), file=out)
        return EXIT_OK
    try:
        result = check(
            args.driver,
            args.cuda,
            gpu=args.gpu,
            mig=args.mig,
            mig_strategy=args.mig_strategy,
            forward_compat=args.forward_compat,
            minor_compat=args.minor_compat,
            allow_eol=args.allow_eol,
            today=args.today,
            pool=args.pool,
            data=data,
        )
    except ValueError as exc:
        print(f"kubeforge gpu check: {exc}", file=err)
        return EXIT_USAGE
    for message in result.errors:
        print(f"error: {message}", file=out)
    for message in result.warnings:
        print(f"warning: {message}", file=out)
    if result.ok:
        print(f"compatible: driver {args.driver} runs CUDA {args.cuda}", file=out)
        return EXIT_OK
    return EXIT_INCOMPATIBLE


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def render_matrix(data: Facts, today: dt.date) -> str:
    """Both tables as plain text: driver branches, then CUDA releases and their drivers."""
    a100 = min(g.min_branch for g in data.gpus)
    branch_rows = []
    for b in data.branches:
        native = data.native_cuda(b.number)
        major = data.max_cuda_major(b.number)
        branch_rows.append([
            b.name,
            b.type_name,
            b.eol or ("retired" if b.retired else "not recorded"),
            "END OF LIFE" if b.is_eol(today) else ("unverified" if b.type == "unknown" else "supported"),
            native.cuda if native else "-",
            f"{major}.x" if major else "-",
            "yes" if b.number >= a100 else "no",
        ])

    def needs(t: Toolkit, release: ToolkitRelease) -> str:
        if release.min_driver:
            return release.min_driver
        floor = t.required_for(release)
        return f"{floor}+ (unverified)" if isinstance(floor, DriverVersion) else f"R{floor}+ (unverified)"

    cuda_rows = []
    for t in data.toolkits:
        window = data.minor_compat_for(t.version.major)
        latest = t.latest
        cuda_rows.append([
            t.cuda,
            needs(t, t.ga),
            f"{latest.label}: {needs(t, latest)}" if latest is not t.ga else "-",
            f">= {window.min_driver}" if window else "-",
        ])
    return "\n".join([
        f"Driver branches (end of life judged on {today.isoformat()}; data: gpu-drivers/data/driver_branches.yaml)",
        "",
        _table(["branch", "type", "eol", "status", "native CUDA", "CUDA w/o compat pkg", "A100"], branch_rows),
        "",
        "CUDA releases and the minimum Linux driver (NVIDIA CUDA release notes, Table 3)",
        "",
        _table(["CUDA", "GA needs", "latest update needs", "minor-version compat"], cuda_rows),
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubeforge")
    sub = parser.add_subparsers(dest="command", metavar="{gpu}")
    sub.required = True
    add_parser(sub)
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
