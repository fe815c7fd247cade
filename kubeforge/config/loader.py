"""Loading: stack and tenant files in, one :class:`ResolvedStack` out.

read (:mod:`kubeforge.config.source`, bounded, project files only) -> validate the spec
(:mod:`kubeforge.config.spec`) -> spec checks -> resolve (:mod:`kubeforge.config.resolve`)
-> stack checks (:mod:`kubeforge.config.checks`). Every problem becomes a
:class:`~kubeforge.errors.Problem` naming file, key path, bad value and what is accepted,
and nothing is returned (so nothing is registered) while any remains.

Both entry points use this module: the Pulumi program (config from ``pulumi.Config``,
:func:`load_platform`) and the CLI / offline engine (config read from
``stacks/Pulumi.<stack>.yaml``, :func:`load_stack`). Components never import it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from kubeforge import catalog
from kubeforge.config import source
from kubeforge.config.checks import (
    KUBECONFIG_KEY,
    PLATFORM_KEY,
    SPEC_CHECKS,
    STACK_CHECKS,
    SpecContext,
    stack_source,
    tenant_source,
)
from kubeforge.config.credentials import (
    IDENTITY_SECRET_KEY,
    OBJECT_STORE_CREDENTIALS_KEY,
    credentials_problems,
    identity_secret_problems,
)
from kubeforge.config.resolve import resolve
from kubeforge.config.resolved import ResolvedStack
from kubeforge.config.spec import PlatformSpec, TenantSpec
from kubeforge.errors import ConfigError, Problem

NAMESPACE = "kubeforge"
# Other keys kubeforge reads from its config namespace. Anything else is a typo.
KNOWN_KEYS = {PLATFORM_KEY, KUBECONFIG_KEY, OBJECT_STORE_CREDENTIALS_KEY, IDENTITY_SECRET_KEY}
# Pulumi stack names: letters, digits, '-', '_' and '.'. A name never holds a path.
# Ref: https://www.pulumi.com/docs/iac/concepts/stacks/#create-stack
STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", re.ASCII)


def stack_file(stack: str) -> str:
    """The stack file of ``stack`` relative to the project root."""
    if not STACK_NAME.fullmatch(stack) or ".." in stack:
        raise ConfigError([Problem(
            "--stack", "", "a stack name is 1 to 100 letters, digits, '-', '_' or '.', starting with a letter "
            "or digit", value=stack,
        )])
    return stack_source(stack)


def available_stacks(root: Path) -> list[str]:
    directory = root / "stacks"
    if not directory.is_dir():
        return []
    names = (p.name for p in directory.iterdir() if p.name.startswith("Pulumi.") and p.name.endswith(".yaml"))
    return sorted(n[len("Pulumi.") : -len(".yaml")] for n in names)


def read_stack_config(root: Path, stack: str) -> dict[str, Any]:
    """The ``config:`` map of a stack file, as the Pulumi CLI would hand it to the program."""
    relative = stack_file(stack)
    if not (root / relative).exists() and not (root / relative).is_symlink():
        stacks = ", ".join(available_stacks(root)) or "none"
        raise ConfigError([Problem(relative, "", f"no such stack; stacks here: {stacks}", value=stack)])
    doc = source.read_yaml(root, relative) or {}
    if not isinstance(doc, dict) or not isinstance(doc.get("config", {}), dict):
        raise ConfigError([Problem(relative, "config", "must be a mapping of config keys", has_value=False)])
    config = doc.get("config") or {}
    return {_qualify(str(k)): v for k, v in config.items()}


def _qualify(key: str) -> str:
    # Pulumi treats an unqualified key as belonging to the project's namespace.
    return key if ":" in key else f"{NAMESPACE}:{key}"


def load_stack(stack: str, root: Path) -> ResolvedStack:
    """Read, validate and resolve ``stacks/Pulumi.<stack>.yaml`` of the project at ``root``."""
    config = read_stack_config(root, stack)
    source_name = stack_source(stack)
    unknown = sorted(k for k in config if k.startswith(f"{NAMESPACE}:") and k not in KNOWN_KEYS)
    if unknown:
        raise ConfigError([
            Problem(source_name, k[:80], f"unknown config key; accepted: {', '.join(sorted(KNOWN_KEYS))}",
                    has_value=False)
            for k in unknown
        ])
    return load_platform(config.get(PLATFORM_KEY), stack=stack, root=root,
                         kubeconfig_configured=KUBECONFIG_KEY in config,
                         object_store_credentials=config.get(OBJECT_STORE_CREDENTIALS_KEY),
                         identity_secret=config.get(IDENTITY_SECRET_KEY), from_stack_file=True)


def load_platform(raw: Any, *, stack: str, root: Path, kubeconfig_configured: bool = False,
                  object_store_credentials: Any = None, identity_secret: Any = None,
                  from_stack_file: bool = False) -> ResolvedStack:
    """Validate a ``kubeforge:platform`` value (already parsed), load its tenants, resolve.

    ``object_store_credentials`` is the ``kubeforge:objectStoreCredentials`` value, checked for
    its shape only (:mod:`kubeforge.config.credentials`); it is not kept. So is
    ``identity_secret``, the ``kubeforge:identitySecret`` value."""
    source_name = stack_file(stack)
    if raw is None:
        raise ConfigError([Problem(source_name, PLATFORM_KEY, "required config value is missing", has_value=False)])
    spec: PlatformSpec = _validate(PlatformSpec, raw, source_name, PLATFORM_KEY)
    if spec.release not in catalog.available_releases():
        raise ConfigError([Problem(
            source_name, f"{PLATFORM_KEY}.release",
            f"unknown catalog release; accepted: {', '.join(catalog.available_releases())}", value=spec.release,
        )])
    tenants, problems = _load_tenants(spec, root, source_name)
    ctx = SpecContext(spec=spec, tenants=tenants, release=catalog.load_release(spec.release), source=source_name,
                      kubeconfig_configured=kubeconfig_configured, stack=stack)
    for check in SPEC_CHECKS:
        problems += check(ctx)
    problems += credentials_problems(object_store_credentials, spec, tenants, source_name,
                                     from_stack_file=from_stack_file)
    problems += identity_secret_problems(identity_secret, spec, source_name, from_stack_file=from_stack_file)
    _raise_errors(problems)

    stack_model = resolve(spec, tenants, ctx.release, stack)
    findings = [p for check in STACK_CHECKS for p in check(stack_model)]
    _raise_errors(findings)
    warnings = tuple(str(p) for p in [*problems, *findings] if p.warning)
    return dataclasses.replace(stack_model, warnings=warnings)


def _raise_errors(problems: list[Problem]) -> None:
    errors = [p for p in problems if not p.warning]
    if errors:
        raise ConfigError(errors)


def _load_tenants(spec: PlatformSpec, root: Path, source_name: str) -> tuple[Mapping[str, TenantSpec], list[Problem]]:
    tenants: dict[str, TenantSpec] = {}
    problems: list[Problem] = []
    for name in spec.tenants:
        relative = tenant_source(name)  # name is a DNS label: no path can hide in it
        if not (root / relative).exists() and not (root / relative).is_symlink():
            problems.append(Problem(source_name, f"{PLATFORM_KEY}.tenants",
                                    f"tenant file {relative} does not exist", value=name))
            continue
        try:
            tenants[name] = _validate(TenantSpec, source.read_yaml(root, relative), relative, "")
        except ConfigError as exc:
            problems += exc.problems
    return tenants, problems


# --- pydantic errors as Problems ------------------------------------------------------------


def _path(prefix: str, loc: tuple[Any, ...]) -> str:
    out = prefix
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)[:63]
            out += f".{text}" if out else text
    return out


def _problems(exc: ValidationError, source_name: str, prefix: str) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        # Errors raised by a model validator carry a synthetic tail; drop it.
        loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
        kind = err["type"]
        msg = err["msg"]
        value, has_value = err.get("input"), True
        if kind == "unknown_key":
            key = str(err["ctx"]["key"])
            loc = loc + (key,)
            has_value = False
            msg = msg.replace(f"unknown key '{key}'", "unknown key")
        elif kind == "missing":
            msg, has_value = "required key is missing", False
        elif isinstance(value, (dict, BaseModel)):
            has_value = False
        if "[key]" in err["loc"]:
            value, has_value = err["loc"][err["loc"].index("[key]") - 1], True
        msg = msg.replace("Input should be", "must be").replace("Value error, ", "")
        problems.append(Problem(source_name, _path(prefix, loc), msg, value=value, has_value=has_value))
    return problems


def _validate(model: type[BaseModel], data: Any, source_name: str, prefix: str) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([Problem(source_name, prefix, "must be a mapping", value=data)])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(exc, source_name, prefix)) from None
