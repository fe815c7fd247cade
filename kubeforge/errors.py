"""Errors that are part of kubeforge's interface: printed as-is, never as a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One bad value: where it is, what it was, and what would be accepted."""

    source: str  # file the value came from, e.g. stacks/Pulumi.local.yaml
    path: str  # config key path, e.g. kubeforge:platform.nodePools.a100.min
    message: str  # what is wrong and what is accepted
    value: Any = None
    has_value: bool = True
    warning: bool = False
    """Deployable but worth a look: reported, never fatal."""

    def __str__(self) -> str:
        where = f"{self.source}: {self.path}" if self.path else self.source
        got = f" (got {_show(self.value)})" if self.has_value else ""
        return f"{where}: {self.message}{got}"


EXCERPT = 40
"""Characters of a bad value quoted in a message: enough to find it, too few to leak a secret."""


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= EXCERPT else repr(value[:EXCERPT]) + f"... ({len(value)} characters)"
    if isinstance(value, (list, tuple, dict)) and len(value) > 8:
        return f"a {type(value).__name__} of {len(value)} items"
    text = repr(value)
    return text if len(text) <= 2 * EXCERPT else text[: 2 * EXCERPT - 3] + "..."


class ConfigError(Exception):
    """A stack or tenant configuration that cannot be deployed.

    Raised before any resource is registered. The CLI prints it and exits 2; under
    ``pulumi up`` the program re-raises it as ``pulumi.RunError`` so Pulumi prints the
    message without a traceback.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
