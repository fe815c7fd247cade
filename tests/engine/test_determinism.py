"""The preview is a function of the stack: byte-identical graphs and summaries whatever
Python's hash seed (set iteration order), run as a user runs it, in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

KUBEFORGE = Path(sys.executable).with_name("kubeforge")
SEEDS = ("0", "1", "4242")


@pytest.mark.parametrize("stack", ["local", "aws-prod", "gcp-prod"])
def test_the_preview_is_byte_identical_across_hash_seeds(tmp_path, stack):
    runs = []
    for seed in SEEDS:
        cwd = tmp_path / seed
        cwd.mkdir()
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([str(KUBEFORGE), "-C", str(ROOT), "preview", "--stack", stack, "--json", "graph.json"],
                              cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=True)
        runs.append((done.stdout, (cwd / "graph.json").read_bytes()))
    assert runs[0][1].count(b'"urn"') > 100
    assert all(run == runs[0] for run in runs[1:])
