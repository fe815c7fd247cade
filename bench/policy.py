"""Benchmark: the policy pack against the offline preview, per reference stack.

    .venv/bin/python bench/policy.py [--repeat N]

Prints, for each stack in stacks/, the preview's wall time (the program in the offline
engine), the pack's wall time on that graph, and their ratio; the pack should take at most a
tenth of the preview on the largest stack. Figures, not a test: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kubeforge import policy  # noqa: E402
from kubeforge.config.loader import available_stacks, load_stack, read_stack_config  # noqa: E402
from kubeforge.engine import run_program  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per stack; the median is printed")
    args = parser.parse_args()
    pack = policy.load_pack(ROOT)
    stacks = available_stacks(ROOT)
    print(f"{'stack':<10} {'resources':>9} {'preview s':>10} {'policy s':>9} {'policy/preview':>15}")
    for stack in stacks:
        region = load_stack(stack, ROOT).region
        previews, checks = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            graph = run_program(ROOT, stack, read_stack_config(ROOT, stack), region=region)
            previews.append(time.perf_counter() - start)
            start = time.perf_counter()
            pack.evaluate(graph)
            checks.append(time.perf_counter() - start)
        preview, check = statistics.median(previews), statistics.median(checks)
        print(f"{stack:<10} {len(graph.resources):>9} {preview:>10.2f} {check:>9.3f} {check / preview:>15.3f}")


if __name__ == "__main__":
    main()
