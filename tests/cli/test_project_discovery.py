"""kubeforge works on the project it is run in (or -C DIR), as Pulumi does, and an installed
wheel needs no checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

VENV_BIN = Path(sys.executable).parent


def _kubeforge(*args: str, cwd: Path, bin_dir: Path = VENV_BIN) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / "kubeforge"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the project's program and stacks in another directory."""
    target = tmp_path / "platform-repo"
    target.mkdir()
    shutil.copytree(ROOT / "stacks", target / "stacks")
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, target / name)
    return target


def _break_local(project: Path) -> None:
    path = project / "stacks" / "Pulumi.local.yaml"
    path.write_text(path.read_text().replace("perNode: 8", "perNode: 3"))


def test_validate_in_a_copy_validates_the_copy(copy):
    _break_local(copy)
    result = _kubeforge("validate", "--stack", "local", cwd=copy)
    assert result.returncode == 2
    assert "kubeforge:platform.nodePools.a100.gpu.perNode" in result.stderr
    assert "Traceback" not in result.stderr
    # The checkout's own stack is still valid: the copy was read, not the install location.
    assert _kubeforge("validate", "--stack", "local", cwd=ROOT).returncode == 0


def test_the_project_is_found_from_a_subdirectory(copy):
    result = _kubeforge("validate", "--stack", "local", cwd=copy / "stacks" / "tenants")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("stack local: valid")


def test_cwd_option_names_the_project(copy, tmp_path):
    _break_local(copy)
    result = _kubeforge("-C", str(copy), "validate", "--stack", "local", cwd=tmp_path)
    assert result.returncode == 2
    assert "perNode" in result.stderr


def test_no_project_is_a_clear_error(tmp_path):
    result = _kubeforge("validate", "--stack", "local", cwd=tmp_path)
    assert result.returncode == 2
    assert "no Pulumi.yaml here or in any parent directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_stack_name_cannot_name_a_path(capsys):
    from kubeforge.cli import main

    assert main(["-C", str(ROOT), "validate", "--stack", "../../etc/passwd"]) == 2
    assert "a stack name is 1 to 100 letters" in capsys.readouterr().err


# --- an installed wheel, outside the checkout --------------------------------------------------


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """kubeforge's wheel installed into a fresh virtualenv; returns its bin directory.

    The fresh venv has no pip and no network: its dependencies (pulumi, pydantic, ...) are
    made visible from the test venv with a .pth line, and kubeforge itself comes only from
    the wheel.
    """
    base = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(base / "dist"),
                            str(ROOT)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    (wheel,) = (base / "dist").glob("kubeforge-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                              "--no-deps", "--no-index", "--quiet", str(wheel)], capture_output=True, text=True,
                             timeout=300)
    assert install.returncode == 0, install.stderr
    site = next((venv / "lib").glob("python3*/site-packages"))
    deps = next(Path(sys.executable).parents[1].glob("lib/python3*/site-packages"))
    (site / "kubeforge-test-deps.pth").write_text(f"{deps}\n")
    return venv / "bin"


def test_the_wheel_carries_the_gpu_facts(installed, tmp_path):
    where = subprocess.run([str(installed / "python"), "-c", "import kubeforge; print(kubeforge.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert where.stdout.startswith(str(installed.parent)), where.stdout
    result = _kubeforge("gpu", "matrix", cwd=tmp_path, bin_dir=installed)
    assert result.returncode == 0, result.stderr
    assert "R580" in result.stdout


def test_the_wheel_validates_and_previews_a_project_named_with_cwd(installed, tmp_path):
    result = _kubeforge("-C", str(ROOT), "validate", "--stack", "local", cwd=tmp_path, bin_dir=installed)
    assert result.returncode == 0, result.stderr
    result = _kubeforge("-C", str(ROOT), "preview", "--stack", "local", cwd=tmp_path, bin_dir=installed)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Stack local: ")
