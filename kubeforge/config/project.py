"""Which kubeforge project a command works on: found as Pulumi finds it.

From ``-C/--cwd DIR`` or the current directory, upward to the first directory holding a
``Pulumi.yaml``. Never the directory kubeforge was installed from: a copy of a project
is its own project. Ref: https://www.pulumi.com/docs/iac/concepts/projects/
"""

from __future__ import annotations

from pathlib import Path

from kubeforge.errors import ConfigError, Problem

PROJECT_FILE = "Pulumi.yaml"


def find_project(start: Path | None = None) -> Path:
    """The project root: ``start`` (default: the current directory) or its nearest ancestor
    holding ``Pulumi.yaml``."""
    origin = Path.cwd() if start is None else start
    if not origin.is_dir():
        raise ConfigError([Problem(_display(origin), "", "not a directory; give the project directory with -C",
                                   has_value=False)])
    here = origin.resolve()
    for directory in (here, *here.parents):
        if (directory / PROJECT_FILE).is_file():
            return directory
    raise ConfigError([Problem(
        _display(origin), "",
        f"no {PROJECT_FILE} here or in any parent directory; run kubeforge inside a kubeforge project or "
        "point -C/--cwd at one", has_value=False,
    )])


def _display(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 80 else "..." + text[-77:]
