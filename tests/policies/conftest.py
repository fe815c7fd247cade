"""The pack's rules are importable as kubeforge_policies (policies/ on the path, as Pulumi
runs the pack); fixtures build small resources in the engine's own shapes."""

from __future__ import annotations

import sys

from tests.conftest import ROOT

if str(ROOT / "policies") not in sys.path:
    sys.path.insert(0, str(ROOT / "policies"))
