"""The install's critical path: the longest chain of resources that wait for one another."""

from __future__ import annotations

from kubeforge.engine.graph import RecordedResource, ResourceGraph


def _resource(name: str, *, deps=(), parent=None, custom=True, type_="kubernetes:core/v1:ConfigMap"):
    return RecordedResource(urn=f"urn:{name}", type=type_, name=name, parent=parent and f"urn:{parent}",
                            dependencies=tuple(f"urn:{d}" for d in deps), provider=None, custom=custom,
                            inputs={}, options={})


def _graph(*resources: RecordedResource) -> ResourceGraph:
    graph = ResourceGraph(stack="t", project="p")
    graph.resources = {r.urn: r for r in resources}
    return graph


def test_the_longest_chain_wins_and_parallel_branches_do_not_add_up():
    graph = _graph(
        _resource("a"), _resource("b", deps=["a"]), _resource("c", deps=["b"]),
        _resource("x"), _resource("y", deps=["x"]),  # a shorter branch beside it
    )
    assert [r.name for r in graph.critical_path()] == ["a", "b", "c"]


def test_a_child_waits_for_what_its_component_waits_for_and_components_add_no_length():
    graph = _graph(
        _resource("crds"),
        _resource("component", deps=["crds"], custom=False, type_="kubeforge:test:Component"),
        _resource("child", parent="component"),
    )
    assert [r.name for r in graph.critical_path()] == ["crds", "child"]


def test_a_kustomize_directory_counts_as_one_step():
    graph = _graph(_resource("ns"), _resource("manifests", deps=["ns"], custom=False,
                                              type_="kubernetes:kustomize/v2:Directory"))
    assert [r.name for r in graph.critical_path()] == ["ns", "manifests"]


def test_the_local_stacks_path_skips_the_ingress_gateways_load_balancer(local_graph):
    names = [r.name for r in local_graph.critical_path()]
    assert "istio-istiod" in names and "istio-gateway" not in names
    assert len(names) <= 7


def test_dependents_of_istio_wait_for_its_crds_and_webhooks_not_its_gateway(local_graph):
    profiles = local_graph.named("profiles")
    assert local_graph.named("istio-istiod").urn in profiles.dependencies
    assert local_graph.named("istio-gateway").urn not in profiles.dependencies


def test_preview_prints_the_critical_path(capsys, local_graph):
    from kubeforge.cli import main
    from tests.conftest import ROOT

    assert main(["-C", str(ROOT), "preview", "--stack", "local"]) == 0
    out = capsys.readouterr().out
    path = [line for line in out.splitlines() if line.startswith("Critical path: ")]
    assert path == [f"Critical path: {len(local_graph.critical_path())} resources, each waiting for the one before "
                    "(everything else installs beside it):"]
    assert "  istio-istiod  (kubernetes:helm.sh/v3:Release, in istio)" in out


def test_dependents_wait_for_the_parts_they_need(local_graph):
    # cert-manager's release, not its ClusterIssuer; a tenant's namespace, not its Profile.
    pod_defaults = local_graph.named("pod-defaults")
    assert local_graph.named("cert-manager-release").urn in pod_defaults.dependencies
    assert local_graph.named("cert-manager-cluster-issuer").urn not in pod_defaults.dependencies
    storage = local_graph.named("storage-vision")
    assert local_graph.named("tenant-vision-namespace").urn in storage.dependencies
    assert local_graph.named("tenant-vision-profile").urn not in storage.dependencies


def test_a_tenants_components_wait_for_their_own_tenant_only(aws_graph):
    tenants = ["speech-ai", "vision", "forecasting"]
    for tenant in tenants:
        storage = aws_graph.named(f"storage-{tenant}")
        own = aws_graph.named(f"tenant-{tenant}")
        waits = set(storage.dependencies)
        assert {r.urn for r in aws_graph.children(own.urn)} & waits or own.urn in waits
        for other in (t for t in tenants if t != tenant):
            theirs = aws_graph.named(f"tenant-{other}")
            assert not ({theirs.urn} | {r.urn for r in aws_graph.children(theirs.urn)}) & waits, (tenant, other)
