"""Validate custom resources against the upstream CRDs in ../shared/reference/crds, strictly.

A CRD's structural schema prunes unknown fields silently on the API server, which would
turn a misspelt field into a no-op in production; here every object level that declares
``properties`` (and does not preserve unknown fields) rejects keys it does not declare.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import REFERENCE

CRDS = REFERENCE / "crds"


def _strict(schema: Any) -> Any:
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        # Go's regexp takes a flag group anywhere ("^(?i)(abort|warn)?$" in the Prometheus
        # Operator's CRDs); Python's only at the start, where it means the same.
        if isinstance(out.get("pattern"), str) and "(?i)" in out["pattern"]:
            out["pattern"] = "(?i)" + out["pattern"].replace("(?i)", "")
        if "properties" in out and not out.get("x-kubernetes-preserve-unknown-fields") \
                and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


# Groups whose CRDs at the version kubeforge pins are in extra/ (the main set is newer):
# Trainer v2.1.0 (the Kubeflow community distribution 26.03's; crds/SOURCES.md).
PINNED_EXTRA = ("trainer-v2.1.0",)


def _load(paths) -> dict[tuple[str, str, str], dict]:
    out = {}
    for path in paths:
        doc = yaml.safe_load(path.read_text())
        group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
        for version in doc["spec"]["versions"]:
            schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
            # metadata is validated by the API server's ObjectMeta, not by the CRD; apiVersion
            # and kind are accepted on every object whether the CRD declares them or not
            # (Istio's generated CRDs do not).
            properties = schema.setdefault("properties", {})
            properties["metadata"] = {"type": "object"}
            properties.setdefault("apiVersion", {"type": "string"})
            properties.setdefault("kind", {"type": "string"})
            out[(group, version["name"], kind)] = _strict(schema)
    return out


@lru_cache(maxsize=None)
def _schemas() -> dict[tuple[str, str, str], dict]:
    return _load([*sorted(CRDS.glob("*.yaml")),
                  *(p for d in PINNED_EXTRA for p in sorted((CRDS / "extra" / d).glob("*.yaml")))])


@lru_cache(maxsize=None)
def _extra_schemas(directory: str) -> dict[tuple[str, str, str], dict]:
    return _load(sorted((CRDS / "extra" / directory).glob("*.yaml")))


def validate_custom_resource(obj: dict, extra: str | None = None) -> None:
    """Raise jsonschema.ValidationError when ``obj`` does not match its upstream CRD (the
    main set, or the one in ``extra/<extra>``)."""
    if not CRDS.is_dir():
        pytest.skip(f"{CRDS} is absent: the upstream CRD schemas live beside the checkout")
    group, _, version = obj["apiVersion"].rpartition("/")
    schema = (_extra_schemas(extra) if extra else _schemas()).get((group, version, obj["kind"]))
    if schema is None:
        raise LookupError(f"no upstream CRD for {obj['apiVersion']} {obj['kind']} in {CRDS}")
    jsonschema.validate(obj, schema)


def is_custom(obj: dict) -> bool:
    group = obj.get("apiVersion", "").rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io")


def validate_katib(obj: dict) -> None:
    """Katib's Experiment CRD is schemaless; its OpenAPI document at v0.19.0 (crds/extra) has
    the schema, checked as strictly as a CRD's."""
    path = CRDS / "extra" / "katib-v0.19.0_api_openapi-spec_swagger.json"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    import json

    schemas = json.loads(path.read_text())["components"]["schemas"]
    schema = _strict({"$ref": f"#/components/schemas/v1beta1.{obj['kind']}", "components": {"schemas": schemas}})
    schema["components"]["schemas"][f"v1beta1.{obj['kind']}"]["properties"]["metadata"] = {"type": "object"}
    jsonschema.validate(obj, schema)


__all__ = ["Path", "is_custom", "validate_custom_resource", "validate_katib"]
