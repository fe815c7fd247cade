"""The configuration reference, generated from the model's declarations so it never drifts."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from kubeforge.config.spec import ComponentSpec, PlatformSpec, TenantSpec


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _strip(tp: Any) -> tuple[Any, bool]:
    """(type without Annotated/None, whether None is accepted)."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _strip(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        inner, _ = _strip(args[0]) if len(args) == 1 else (tp, False)
        return inner, type(None) in typing.get_args(tp)
    return tp, False


def _type_name(tp: Any) -> str:
    tp, optional = _strip(tp)
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        name = " \\| ".join(json.dumps(a) for a in typing.get_args(tp))
    elif origin in (list, tuple):
        name = f"list of {_type_name(typing.get_args(tp)[0])}"
    elif origin is dict:
        name = f"map of {_type_name(typing.get_args(tp)[1])}"
    elif origin in (typing.Union, types.UnionType):
        name = " or ".join(_type_name(a) for a in typing.get_args(tp))
    elif _is_model(tp):
        name = "mapping"
    else:
        name = {str: "string", int: "integer", bool: "boolean", float: "number"}.get(tp, getattr(tp, "__name__", str(tp)))
    return f"{name} or null" if optional else name


def _default(field) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        return "see below"
    value = field.default
    if value is PydanticUndefined or isinstance(value, BaseModel):
        return "see below" if isinstance(value, BaseModel) else ""
    return f"`{json.dumps(value)}`"


def _rows(model: type[BaseModel], prefix: str, shared: bool = False) -> list[tuple[str, str, str, str]]:
    rows = []
    for name, field in model.model_fields.items():
        if not shared and issubclass(model, ComponentSpec) and name in ComponentSpec.model_fields:
            continue  # the keys every component block shares are documented once
        key = f"{prefix}{field.alias or name}"
        description = " ".join((field.description or "").split())
        rows.append((key, _type_name(field.annotation), _default(field), description))
        inner, _ = _strip(field.annotation)
        origin = typing.get_origin(inner)
        if _is_model(inner):
            rows += _rows(inner, f"{key}.")
        elif origin is dict and _is_model(_strip(typing.get_args(inner)[1])[0]):
            rows += _rows(_strip(typing.get_args(inner)[1])[0], f"{key}.<name>.")
        elif origin in (list, tuple) and _is_model(_strip(typing.get_args(inner)[0])[0]):
            rows += _rows(_strip(typing.get_args(inner)[0])[0], f"{key}[].")
    return rows


def _table(rows: list[tuple[str, str, str, str]]) -> str:
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    lines += [f"| `{k}` | {t} | {d} | {desc} |" for k, t, d, desc in rows]
    return "\n".join(lines)


def config_reference() -> str:
    return "\n".join([
        "# Configuration reference",
        "",
        "Generated from `kubeforge/config/spec.py` by `kubeforge docs config`; do not edit by hand.",
        "Keys are camelCase; unknown keys are errors.",
        "",
        "## `kubeforge:platform` in `stacks/Pulumi.<stack>.yaml`",
        "",
        " ".join((PlatformSpec.__doc__ or "").split()),
        "",
        _table(_rows(PlatformSpec, "")),
        "",
        "## Every component block",
        "",
        "`scheduler` and every `components.<name>` block take these keys (deployKF's component shape), "
        "besides the component's own keys listed above:",
        "",
        _table(_rows(ComponentSpec, "<component>.", shared=True)),
        "",
        "## A tenant: `stacks/tenants/<name>.yaml`",
        "",
        " ".join((TenantSpec.__doc__ or "").split()),
        "",
        _table(_rows(TenantSpec, "")),
        "",
    ])
