"""The rules under the Pulumi engine: each becomes a pulumi_policy ResourceValidationPolicy or
StackValidationPolicy whose callback turns the engine's objects into :class:`PolicyResource`
views and reports the same messages as the offline run.

Written against pulumi-policy 1.21.0 (pulumi_policy/policy.py): ``ResourceValidationArgs``
(resource_type, props, urn, name, opts, provider, get_config()), ``PolicyResourceOptions``
(protect, ignore_changes, delete_before_replace, aliases, custom_timeouts,
additional_secret_outputs, parent), ``StackValidationArgs`` (resources, get_config()) whose
``PolicyResource`` adds parent and dependencies as resource objects. Props come wrapped in
proxies (pulumi_policy/proxy.py) that raise ``UnknownValueError`` on a value unknown during
preview; they are unwrapped here, unknowns becoming :data:`UNKNOWN`, and a rule that reads
one raises pulumi_policy's own UnknownValueError so the engine reports "can't run during
preview" as it does for any policy.

pulumi_policy is imported only when policies are built (it is the pack's dependency,
policies/requirements.txt, not kubeforge's).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubeforge_policies.model import SECRET, UNKNOWN, PolicyResource, UnknownValue
from kubeforge_policies.registry import RULES
from kubeforge_policies.rule import Rule

PACK_NAME = "kubeforge"
# pulumi_policy/proxy.py (1.21.0): the sentinels of values unknown during preview, by type
# (boolean, number, string, array, asset, archive, object).
UNKNOWN_SENTINELS = frozenset({
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
})


def plain(value: Any) -> Any:
    """Plain dicts, lists and scalars from pulumi_policy's proxies and secrets."""
    if type(value).__name__ == "Secret" and hasattr(value, "value"):
        return SECRET
    if isinstance(value, Mapping):
        out = {}
        for key in value:
            try:
                out[str(key)] = plain(value[key])
            except Exception as exc:  # noqa: BLE001 - pulumi_policy's UnknownValueError, by duck type
                if not hasattr(exc, "unknown_type_sentinel"):
                    raise
                out[str(key)] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        out_list = []
        for i in range(len(value)):
            try:
                out_list.append(plain(value[i]))
            except Exception as exc:  # noqa: BLE001
                if not hasattr(exc, "unknown_type_sentinel"):
                    raise
                out_list.append(UNKNOWN)
        return out_list
    if isinstance(value, str) and value in UNKNOWN_SENTINELS:
        return UNKNOWN
    return value


def _options(opts: Any) -> dict[str, Any]:
    return {
        "protect": bool(getattr(opts, "protect", False)),
        "retainOnDelete": None,  # not in pulumi's analyzer protocol
        "ignoreChanges": list(getattr(opts, "ignore_changes", None) or []),
        "deleteBeforeReplace": getattr(opts, "delete_before_replace", None),
        "aliases": list(getattr(opts, "aliases", None) or []),
        "additionalSecretOutputs": list(getattr(opts, "additional_secret_outputs", None) or []),
    }


def from_validation_args(args: Any) -> PolicyResource:
    """The view of a ResourceValidationArgs."""
    provider = getattr(args, "provider", None)
    return PolicyResource(
        type=args.resource_type,
        name=args.name,
        urn=args.urn,
        props=plain(args.props),
        options=_options(args.opts),
        parent=getattr(args.opts, "parent", None) or None,
        provider=getattr(provider, "urn", None),
    )


def from_stack_resource(resource: Any) -> PolicyResource:
    """The view of one of StackValidationArgs.resources."""
    parent = getattr(resource, "parent", None)
    provider = getattr(resource, "provider", None)
    return PolicyResource(
        type=resource.resource_type,
        name=resource.name,
        urn=resource.urn,
        props=plain(resource.props),
        options=_options(resource.opts),
        parent=getattr(parent, "urn", None) or getattr(resource.opts, "parent", None) or None,
        dependencies=tuple(d.urn for d in getattr(resource, "dependencies", None) or ()),
        provider=getattr(provider, "urn", None),
    )


def _params(rule: Rule, args: Any) -> dict[str, Any]:
    params = rule.defaults()
    config = args.get_config() if hasattr(args, "get_config") else {}
    params.update({k: plain(v) for k, v in (config or {}).items() if k in params})
    return params


def _unknown(exc: UnknownValue) -> Exception:
    try:
        from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError
    except ImportError:  # pragma: no cover - only without the SDK
        return exc
    return UnknownValueError(UNKNOWN_STRING_VALUE, [str(p) for p in exc.path] or ["?"])


def resource_validation(rule: Rule) -> Callable[[Any, Callable[..., None]], None]:
    """The ResourceValidation callback of a resource rule."""

    def validate(args: Any, report_violation: Callable[..., None]) -> None:
        resource = from_validation_args(args)
        if not rule.applies_to(resource):
            return
        try:
            issues = list(rule.check(resource, _params(rule, args)))
        except UnknownValue as exc:
            raise _unknown(exc) from None
        for issue in issues:
            report_violation(rule.message(issue, resource), None)

    return validate


def stack_validation(rule: Rule) -> Callable[[Any, Callable[..., None]], None]:
    """The StackValidation callback of a stack rule."""

    def validate(args: Any, report_violation: Callable[..., None]) -> None:
        resources = [from_stack_resource(r) for r in args.resources]
        try:
            issues = list(rule.check(resources, _params(rule, args)))
        except UnknownValue as exc:
            raise _unknown(exc) from None
        for issue in issues:
            report_violation(rule.message(issue, issue.resource), issue.resource.urn if issue.resource else None)

    return validate


def policies(rules: Sequence[Rule] = RULES) -> list[Any]:
    """pulumi_policy policies for ``rules``, ready for ``PolicyPack(policies=...)``."""
    from pulumi_policy import (
        EnforcementLevel,
        PolicyConfigSchema,
        ResourceValidationPolicy,
        Severity,
        StackValidationPolicy,
    )

    out: list[Any] = []
    for rule in rules:
        common = dict(
            name=rule.name,
            description=rule.description,
            enforcement_level=EnforcementLevel(rule.enforcement),
            config_schema=PolicyConfigSchema(properties={k: dict(v) for k, v in rule.params.items()})
            if rule.params else None,
            severity=Severity(rule.severity),
            remediation_steps=rule.remediation,
            url=rule.reference,
        )
        if rule.scope == "stack":
            out.append(StackValidationPolicy(validate=stack_validation(rule), **common))
        else:
            out.append(ResourceValidationPolicy(validate=resource_validation(rule), **common))
    return out
