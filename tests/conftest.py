"""Shared fixtures: small, realistic stacks written into a temporary project."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeforge.config.loader import read_stack_config
from kubeforge.engine import ResourceGraph, run_program

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"

ONPREM_PLATFORM: dict[str, Any] = {
    "release": "2026.11",
    "target": "onprem",
    "kubernetesVersion": "1.34",
    "onprem": {},
    "nodePools": {
        "a100": {"gpu": {"model": "a100-80gb", "perNode": 8}, "driver": "580.95.05", "nodes": ["gpu-1", "gpu-2"]},
    },
    "storage": {
        "file": {"nfs": {"server": "nas.example.internal", "path": "/export/ml"}},
        "object": {"endpoint": "https://s3.example.internal"},
    },
    "tenants": ["team-a"],
}
TENANT: dict[str, Any] = {
    "owner": "alice@example.com",
    "contributors": [{"user": "bob@example.com", "role": "edit"}],
    "quota": {"cpu": 64, "memory": "512Gi", "gpu": 8},
    "queue": {"weight": 1, "guaranteedGpus": 4},
}


class Project:
    """A throwaway kubeforge project: the real program, stack files written by the test."""

    def __init__(self, path: Path):
        self.path = path
        (path / "stacks" / "tenants").mkdir(parents=True)
        (path / "__main__.py").symlink_to(ROOT / "__main__.py")
        (path / "Pulumi.yaml").symlink_to(ROOT / "Pulumi.yaml")

    def stack(self, platform: Any, name: str = "test", extra: dict[str, Any] | None = None, raw: str | None = None):
        file = self.path / "stacks" / f"Pulumi.{name}.yaml"
        if raw is not None:
            file.write_text(raw)
            return self
        config = {"kubeforge:platform": platform, **(extra or {})}
        file.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
        return self

    def tenant(self, name: str, spec: Any = None, raw: str | None = None):
        file = self.path / "stacks" / "tenants" / f"{name}.yaml"
        file.write_text(raw if raw is not None else yaml.safe_dump(spec, sort_keys=False))
        return self

    def preview(self, name: str = "test") -> ResourceGraph:
        return run_program(self.path, name, read_stack_config(self.path, name))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


@pytest.fixture
def onprem_platform() -> dict[str, Any]:
    return copy.deepcopy(ONPREM_PLATFORM)


@pytest.fixture
def tenant_spec() -> dict[str, Any]:
    return copy.deepcopy(TENANT)


@pytest.fixture(scope="session")
def local_graph() -> ResourceGraph:
    """The default stack, run once through the offline engine."""
    return run_program(ROOT, "local", read_stack_config(ROOT, "local"))


@pytest.fixture(scope="session")
def aws_graph() -> ResourceGraph:
    return run_program(ROOT, "aws-prod", read_stack_config(ROOT, "aws-prod"), region="us-west-2")


@pytest.fixture(scope="session")
def gcp_graph() -> ResourceGraph:
    return run_program(ROOT, "gcp-prod", read_stack_config(ROOT, "gcp-prod"), region="us-central1")


# The front door of a 2026.12 test stack (not named "local", so no demo user): the
# organisation's CA and an OIDC provider, whose client secret is encrypted in the stack file.
ACCESS: dict[str, Any] = {
    "hostname": "kubeflow.example.internal",
    "tls": {"organisationCa": {"secretName": "example-ca"}},
    "identity": {"oidc": {"issuer": "https://idp.example.com", "clientId": "kubeflow"}},
}
IDENTITY_SECRET = {"kubeforge:identitySecret": {"secure": "AAABAFakeCiphertextForTestsOnly0000000000=="}}


def kubeflow_platform() -> dict[str, Any]:
    """ONPREM_PLATFORM on the Kubeflow release (2026.12), with its front door; write it with
    ``extra=IDENTITY_SECRET``."""
    platform = copy.deepcopy(ONPREM_PLATFORM)
    platform["release"] = "2026.12"
    platform["access"] = copy.deepcopy(ACCESS)
    return platform


def stack_file(name: str) -> dict[str, Any]:
    """A shipped stack's platform config, to derive variants from."""
    return copy.deepcopy(read_stack_config(ROOT, name)["kubeforge:platform"])


def variant(project: Project, tenant_spec: dict[str, Any], stack: str, change) -> Project:
    """A shipped stack with one change, and a single tenant, written into ``project``."""
    config = read_stack_config(ROOT, stack)
    platform = copy.deepcopy(config["kubeforge:platform"])
    platform["tenants"] = ["team-a"]
    change(platform)
    secret = {k: v for k, v in config.items() if k == "kubeforge:identitySecret"}
    project.stack(platform, extra=secret).tenant("team-a", tenant_spec)
    return project
