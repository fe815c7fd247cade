"""The on-prem install script and its cloud-init wrapper (run in --dry-run; no GPU host here)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from kubeforge.gpu.install import INSTALL_SCRIPT, render_cloud_init

EXAMPLE = INSTALL_SCRIPT.parent / "cloud-init" / "user-data.example.yaml"
OS_RELEASES = {
    "ubuntu-22.04": 'ID=ubuntu\nVERSION_ID="22.04"\nPRETTY_NAME="Ubuntu 22.04.5 LTS"\n',
    "ubuntu-24.04": 'ID=ubuntu\nVERSION_ID="24.04"\nPRETTY_NAME="Ubuntu 24.04.3 LTS"\n',
    "rhel-9": 'ID="rhel"\nVERSION_ID="9.6"\nPRETTY_NAME="Red Hat Enterprise Linux 9.6 (Plow)"\n',
}


def dry_run(tmp_path: Path, os_name: str, *args: str) -> subprocess.CompletedProcess:
    os_release = tmp_path / "os-release"
    os_release.write_text(OS_RELEASES.get(os_name, os_name))
    return subprocess.run(["bash", str(INSTALL_SCRIPT), *args, "--dry-run"], env={"OS_RELEASE": str(os_release),
                          "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60)


def commands(proc: subprocess.CompletedProcess) -> list[str]:
    return [line[2:] for line in proc.stdout.splitlines() if line.startswith("+ ")]


def test_the_script_is_valid_bash():
    assert subprocess.run(["bash", "-n", str(INSTALL_SCRIPT)], capture_output=True).returncode == 0


@pytest.mark.parametrize(("os_name", "repo"), [("ubuntu-22.04", "ubuntu2204"), ("ubuntu-24.04", "ubuntu2404")])
def test_ubuntu_installs_the_pinned_driver_from_nvidias_repository(tmp_path, os_name, repo):
    run = commands(dry_run(tmp_path, os_name, "--driver", "580.95.05"))
    assert any(f"/compute/cuda/repos/{repo}/x86_64/cuda-keyring" in c for c in run)
    assert "apt-get install -y nvidia-driver-pinning-580.95.05" in run
    assert run.index("apt-get install -y nvidia-driver-pinning-580.95.05") < run.index("apt-get install -y nvidia-open")


def test_ubuntu_installs_fabric_manager_at_the_drivers_exact_version_on_nvswitch_nodes(tmp_path):
    run = commands(dry_run(tmp_path, "ubuntu-24.04", "--driver", "580.95.05", "--fabric-manager", "yes"))
    assert "apt-get install -y nvidia-fabricmanager=580.95.05-<revision>" in run
    assert "systemctl enable nvidia-fabricmanager" in run


def test_ubuntu_holds_the_driver_fabric_manager_and_toolkit(tmp_path):
    run = commands(dry_run(tmp_path, "ubuntu-22.04", "--driver", "580.95.05", "--fabric-manager", "yes"))
    (hold,) = [c for c in run if c.startswith("apt-mark hold")]
    for package in ("nvidia-driver-pinning-580.95.05", "nvidia-open", "nvidia-fabricmanager", "nvidia-container-toolkit",
                    "every installed package at version 580.95.05-*"):
        assert package in hold


def test_a_pinned_container_toolkit_version_is_threaded_through(tmp_path):
    run = commands(dry_run(tmp_path, "ubuntu-24.04", "--driver", "580.95.05", "--container-toolkit", "1.17.8-1"))
    assert any("nvidia-container-toolkit=1.17.8-1" in c and "libnvidia-container1=1.17.8-1" in c for c in run)


def test_rhel9_enables_the_branch_stream_installs_the_pin_and_locks_it(tmp_path):
    run = commands(dry_run(tmp_path, "rhel-9", "--driver", "580.95.05", "--fabric-manager", "yes"))
    assert "dnf module enable -y nvidia-driver:580-open" in run
    assert "dnf install -y nvidia-open-580.95.05" in run
    assert "dnf install -y nvidia-fabricmanager-580.95.05" in run
    assert any(c.startswith("dnf versionlock add *nvidia*580.95.05*") for c in run)


@pytest.mark.parametrize("os_name", OS_RELEASES)
def test_persistence_mode_is_enabled(tmp_path, os_name):
    assert "systemctl enable --now nvidia-persistenced" in commands(dry_run(tmp_path, os_name, "--driver", "580.95.05"))


def test_fabric_manager_is_left_out_when_the_node_has_no_nvswitch(tmp_path):
    run = commands(dry_run(tmp_path, "rhel-9", "--driver", "580.95.05", "--fabric-manager", "no"))
    assert not any("fabricmanager" in c for c in run)


def test_a_malformed_driver_is_refused_with_the_expected_form(tmp_path):
    proc = dry_run(tmp_path, "ubuntu-24.04", "--driver", "580")
    assert proc.returncode == 1 and "e.g. --driver 580.95.05" in proc.stderr


def test_an_unsupported_distribution_is_refused_by_name(tmp_path):
    proc = dry_run(tmp_path, 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12"\n', "--driver", "580.95.05")
    assert proc.returncode == 1 and "Debian GNU/Linux 12 is not supported" in proc.stderr


def test_cloud_init_embeds_the_script_and_runs_it_with_the_pin():
    document = yaml.safe_load(render_cloud_init("580.95.05", fabric_manager="yes"))
    assert document["write_files"][0]["content"] == INSTALL_SCRIPT.read_text()
    assert document["runcmd"][0][1:] == ["--driver", "580.95.05", "--fabric-manager", "yes"]
    assert document["power_state"]["mode"] == "reboot"


def test_cloud_init_refuses_a_malformed_driver():
    with pytest.raises(ValueError, match="not a driver version"):
        render_cloud_init("latest")


def test_the_checked_in_cloud_init_example_is_current():
    assert EXAMPLE.read_text() == render_cloud_init("580.95.05"), "regenerate: python -m kubeforge.gpu.install"
