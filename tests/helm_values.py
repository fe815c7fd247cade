"""Check Helm values kubeforge sets against a chart's own values.yaml (../shared/reference/charts).

A key a chart does not have is ignored by Helm without a word, so a misspelt or outdated
value silently does nothing; this helper makes it a test failure instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REFERENCE


def unknown_value_paths(values: Mapping[str, Any], chart_values: Any, prefix: str = "") -> list[str]:
    """Dotted paths in ``values`` that the chart's default values do not have.

    Below a key whose chart default is a non-empty mapping, every key must exist too. A key
    whose chart default is null or an empty mapping is free-form (a map the chart passes
    through, e.g. ``nodeSelector: {}`` or ``scheduler_affinity: ~``): anything below it goes.
    Lists are leaves.
    """
    unknown: list[str] = []
    for key, value in values.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if not isinstance(chart_values, Mapping) or key not in chart_values:
            unknown.append(path)
            continue
        default = chart_values[key]
        if isinstance(value, Mapping) and isinstance(default, Mapping) and default:
            unknown.extend(unknown_value_paths(value, default, path))
        elif isinstance(value, Mapping) and default is not None and not isinstance(default, Mapping):
            unknown.append(f"{path} (the chart's default is a {type(default).__name__}, not a mapping)")
        elif not isinstance(value, Mapping) and value is not None and isinstance(default, Mapping) and default:
            unknown.append(f"{path} (the chart's default is a mapping, not a {type(value).__name__})")
    return unknown


def assert_values_exist(values: Mapping[str, Any], chart_values_path: Path,
                        commented: Mapping[str, str] | None = None) -> None:
    """Fail naming every key of ``values`` the chart's values.yaml at ``chart_values_path`` lacks.

    ``commented``: dotted paths a chart documents only in comments but whose templates read
    them, each with the template line that does (anything below such a path is accepted).

    Skips when ../shared/reference is absent altogether; fails when it is there but has no
    such file (a wrong chart or version in the test).
    """
    if not REFERENCE.is_dir():
        pytest.skip(f"upstream reference files not available: {REFERENCE} is absent")
    assert chart_values_path.is_file(), f"no chart values at {chart_values_path}"
    chart_values = yaml.safe_load(chart_values_path.read_text()) or {}
    unknown = [p for p in unknown_value_paths(values, chart_values)
               if not any(p == c or p.startswith(c + ".") for c in (commented or {}))]
    assert unknown == [], f"values the chart at {chart_values_path.parent.name} does not have: {', '.join(unknown)}"
