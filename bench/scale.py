"""Benchmark: the offline preview at scale, against the SDK's own floor.

    .venv/bin/python bench/scale.py --tenants 10,100,1000

For each N, a project is generated (in a temporary directory) from the aws-prod stack with N
small tenants, and ``kubeforge preview`` runs on it as a whole process, as a user runs it.
The same run times a floor program (bench/floor.py): as many plain ConfigMaps as the preview
registered, through the Pulumi SDK's mock runtime and nothing else, and ``kubeforge policy``
on the preview's saved graph. It prints one row per run (resources, wall seconds, ms per
resource, peak RSS) and ends with the line
``kubeforge/floor per-resource ratio at N tenants: X.XX`` for the largest N. Runs are one
after the other; use a quiet machine and say which one the figures came from.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
KUBEFORGE = Path(sys.executable).with_name("kubeforge")


def small_tenant(i: int) -> dict:
    """A tenant with CPU work only (the pool's 32 GPUs cannot be promised to 1000 teams)."""
    return {"owner": f"owner-{i}@example.com", "quota": {"cpu": 8, "memory": "32Gi", "gpu": 0, "storage": "100Gi"},
            "queue": {"weight": 1, "guaranteedGpus": 0}, "storage": {"nas": "10Gi"}}


def make_project(base: Path, tenants: int) -> Path:
    project = base / f"tenants-{tenants}"
    (project / "stacks" / "tenants").mkdir(parents=True)
    for name in ("__main__.py", "Pulumi.yaml", "policies"):
        (project / name).symlink_to(ROOT / name)
    config = yaml.safe_load((ROOT / "stacks" / "Pulumi.aws-prod.yaml").read_text())
    platform = copy.deepcopy(config["config"]["kubeforge:platform"])
    names = [f"team-{i:04d}" for i in range(tenants)]
    platform["tenants"] = names
    config["config"]["kubeforge:platform"] = platform
    (project / "stacks" / "Pulumi.bench.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    for i, name in enumerate(names):
        (project / "stacks" / "tenants" / f"{name}.yaml").write_text(yaml.safe_dump(small_tenant(i)))
    return project


def peak_rss(command: list[str], cwd: Path | None = None, ok: tuple[int, ...] = (0,)) -> tuple[float, float, str]:
    """Wall seconds, the child's own peak RSS in MB (its rusage ru_maxrss, KiB on Linux), stdout."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = process.stdout.read()
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in ok:
        raise SystemExit(f"{' '.join(str(c) for c in command[:4])} failed: {err.strip()[-400:]}")
    return wall, usage.ru_maxrss / 1024, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", default="10,100,1000", help="comma-separated tenant counts")
    args = parser.parse_args()
    counts = [int(n) for n in args.tenants.split(",")]
    rows = []
    print(f"{'program':<10} {'tenants':>7} {'resources':>9} {'wall s':>8} {'ms/resource':>11} {'peak RSS MB':>11}")
    with tempfile.TemporaryDirectory(prefix="kubeforge-scale-") as tmp:
        for n in counts:
            project = make_project(Path(tmp), n)
            graph = project / "graph.json"
            wall, rss, _ = peak_rss([str(KUBEFORGE), "-C", str(project), "preview", "--stack", "bench",
                                     "--json", str(graph)])
            resources = len(json.loads(graph.read_text())["resources"])
            policy_wall, policy_rss, _ = peak_rss([str(KUBEFORGE), "-C", str(project), "policy", "--graph", str(graph)],
                                                  ok=(0, 1))
            floor_wall, floor_rss, _ = peak_rss([sys.executable, str(ROOT / "bench" / "floor.py"), str(resources)])
            rows.append((n, resources, wall, floor_wall, policy_wall))
            print(f"{'kubeforge':<10} {n:>7} {resources:>9} {wall:>8.2f} {1000 * wall / resources:>11.2f} {rss:>11.0f}")
            print(f"{'floor':<10} {n:>7} {resources:>9} {floor_wall:>8.2f} {1000 * floor_wall / resources:>11.2f} "
                  f"{floor_rss:>11.0f}")
            print(f"{'policy':<10} {n:>7} {resources:>9} {policy_wall:>8.2f} {1000 * policy_wall / resources:>11.2f} "
                  f"{policy_rss:>11.0f}")
    if len(rows) > 1:
        (n1, _, w1, _, _), (n2, _, w2, _, _) = rows[-2], rows[-1]
        print(f"time at {n2} tenants / time at {n1} tenants: {w2 / w1:.2f} (tenants x{n2 / n1:.0f})")
    n, resources, wall, floor_wall, policy_wall = rows[-1]
    print(f"policy/preview time at {n} tenants: {policy_wall / wall:.2f} (kubeforge policy --graph, a whole process)")
    print(f"kubeforge/floor per-resource ratio at {n} tenants: {wall / floor_wall:.2f}")


if __name__ == "__main__":
    main()
