"""kubeforge's CrossGuard policy pack: ``pulumi preview --policy-pack policies``.

Pulumi runs this file with ``python -m pulumi.policy <engine> policies`` (runpy, as
``__main__``), in the pack's own virtualenv (requirements.txt). The rules live in
kubeforge_policies/ beside this file; the GPU rules read kubeforge's GPU facts, so the
repository root goes on the path too. Importing this module (the tests do) builds nothing:
:func:`pack_policies` builds the policies, and only running it as the pack starts the server.
Per-stack enforcement levels and parameters: ``--policy-pack-config`` with a JSON file
shaped as in kubeforge_policies/registry.py.
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
for _path in (_HERE, _HERE.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from kubeforge_policies.crossguard import PACK_NAME, policies  # noqa: E402


def pack_policies() -> list:
    return policies()


if __name__ == "__main__":
    from pulumi_policy import EnforcementLevel, PolicyPack

    # Each rule carries its own level (mandatory unless it says why not); this is the default.
    PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=pack_policies())
