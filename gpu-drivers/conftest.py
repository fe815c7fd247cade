"""Keeps the node validation suite out of ordinary test runs.

gpu-drivers/validate/ checks a live GPU node and needs a host to check (testinfra's
--hosts). `make test` collects gpu-drivers/ without one, so the suite is skipped there;
naming it explicitly without --hosts is a usage error with a pointer to the README.
Because its conftest is then never imported, its command-line options cannot collide with
options other conftests register in the same run.
"""

from pathlib import Path

import pytest

VALIDATE = Path(__file__).parent / "validate"


def _explicitly_requested(config: pytest.Config) -> bool:
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if path == VALIDATE or VALIDATE in path.parents:
            return True
    return False


def pytest_configure(config: pytest.Config) -> None:
    if _explicitly_requested(config) and not config.getoption("hosts", default=None):
        raise pytest.UsageError(
            "gpu-drivers/validate checks a live GPU node: give it one with --hosts "
            "(local://, ssh://NODE or kubectl://POD?namespace=NS&container=C) and the "
            "expectations (--driver ... or --stack S --pool P); see gpu-drivers/README.md"
        )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config):
    if collection_path == VALIDATE and not config.getoption("hosts", default=None):
        return True
    return None
