"""Adding, removing or renaming one tenant changes only that tenant's resources."""

from __future__ import annotations

import pytest


def _graph(project, platform, tenant_spec, tenants: list[str], stack: str):
    platform = {**platform, "tenants": tenants}
    for name in tenants:
        project.tenant(name, tenant_spec)
    return project.stack(platform, name=stack).preview(stack)


def _by_logical_name(graph) -> dict[str, dict]:
    # URNs carry the stack name; compare by the rest of the URN.
    return {r.urn.split("::", 2)[2]: r.inputs for r in graph.ordered() if r.type != "pulumi:pulumi:Stack"}


def _belongs_to(key: str, tenant: str) -> bool:
    return f"-{tenant}" in key.rsplit("::", 1)[-1] or key.rsplit("::", 1)[-1] == tenant


@pytest.mark.parametrize("before,after,changed", [
    (["team-a", "team-b", "team-c"], ["team-a", "team-b"], {"team-c"}),
    (["team-a", "team-b"], ["team-a", "team-b", "team-d"], {"team-d"}),
    (["team-a", "team-b", "team-c"], ["team-a", "team-b", "team-e"], {"team-c", "team-e"}),
], ids=["remove", "add", "rename"])
def test_only_the_changed_tenants_resources_differ(project, onprem_platform, tenant_spec, before, after, changed):
    old = _by_logical_name(_graph(project, onprem_platform, tenant_spec, before, "before"))
    new = _by_logical_name(_graph(project, onprem_platform, tenant_spec, after, "after"))
    differing = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
    assert differing, "the change must show up somewhere"
    stray = {k for k in differing if not any(_belongs_to(k, t) for t in changed)}
    # The stack's output lists the tenants; every resource of the others is untouched.
    assert stray == set()
