"""kubeforge:identitySecret: required by a connector, encrypted in the stack file, never echoed."""

from __future__ import annotations

import copy

import pytest

from kubeforge.cli import main
from kubeforge.config.credentials import identity_secret_problems
from kubeforge.config.spec import PlatformSpec
from tests.conftest import ACCESS, IDENTITY_SECRET, kubeflow_platform

KEY = "kubeforge:identitySecret"


def _validate(capsys, project) -> tuple[int, str]:
    code = main(["-C", str(project.path), "validate", "--stack", "test"])
    return code, capsys.readouterr().err


def test_a_connector_without_its_secret_is_refused(capsys, project, tenant_spec):
    project.stack(kubeflow_platform()).tenant("team-a", tenant_spec)
    code, err = _validate(capsys, project)
    assert code == 2 and f"{KEY}: access.identity.oidc needs its client secret" in err and "Traceback" not in err


def test_a_secret_in_clear_text_in_the_stack_file_is_refused_and_not_echoed(capsys, project, tenant_spec):
    project.stack(kubeflow_platform(), extra={KEY: "hunter2-very-secret"}).tenant("team-a", tenant_spec)
    code, err = _validate(capsys, project)
    assert code == 2 and "is in clear text in the stack file" in err and "hunter2" not in err


def test_a_secret_nothing_uses_is_refused(capsys, project, tenant_spec):
    platform = kubeflow_platform()
    platform["access"]["identity"] = {"demoUser": True}
    # The demo user is refused on a stack not named local; the secret is refused as well.
    project.stack(platform, extra=IDENTITY_SECRET).tenant("team-a", tenant_spec)
    code, err = _validate(capsys, project)
    assert code == 2 and f"{KEY}: only used with access.identity.oidc or access.identity.ldap" in err


def test_an_encrypted_secret_is_accepted(capsys, project, tenant_spec):
    project.stack(kubeflow_platform(), extra=IDENTITY_SECRET).tenant("team-a", tenant_spec)
    code, err = _validate(capsys, project)
    assert code == 0, err


@pytest.mark.parametrize("value", ["", "line\nbreak", "x" * 1025, "caf\u00e9"])
def test_the_program_refuses_a_secret_it_could_not_pass_on(value):
    spec = PlatformSpec.model_validate({**kubeflow_platform(), "access": copy.deepcopy(ACCESS)})
    (problem,) = identity_secret_problems(value, spec, "stacks/Pulumi.test.yaml")
    assert problem.path == KEY and "1 to 1024 printable ASCII characters" in problem.message
    assert not value or value not in str(problem)
