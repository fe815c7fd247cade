"""Every component has the one shape: declared key, type token, dependencies, and a typed
args class whose every field is documented; Platform places components it does not know."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import typing

import pulumi
import pytest

from components import registry
from components.component import ClusterAccess, PlatformComponent
from components.helm import deep_merge, manifest_set
from components.registry import REGISTRY, RegistryError, dependency_order
from tests.conftest import IDENTITY_SECRET, ROOT, kubeflow_platform

TYPE_TOKEN = re.compile(r"kubeforge:[a-z]+:[A-Z][A-Za-z]+")


def _args_classes():
    """Every *Args dataclass under components/, read from source with its field docstrings."""
    for path in sorted((ROOT / "components").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name.endswith("Args"):
                yield path.relative_to(ROOT), node


def _undocumented(node: ast.ClassDef) -> list[str]:
    missing = []
    body = node.body
    for i, stmt in enumerate(body):
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            following = body[i + 1] if i + 1 < len(body) else None
            documented = (isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                          and isinstance(following.value.value, str) and following.value.value.strip())
            if not documented:
                missing.append(stmt.target.id)
    return missing


ARGS = list(_args_classes())


def test_every_component_module_declares_its_args():
    assert {str(p) for p, _ in ARGS} >= {"components/gpu/operator.py", "components/tenancy/tenant.py",
                                          "components/cluster/aws.py", "components/cluster/gcp.py"}


@pytest.mark.parametrize("path,node", ARGS, ids=[f"{p}:{n.name}" for p, n in ARGS])
def test_every_args_field_is_typed_and_documented(path, node):
    assert _undocumented(node) == []


def test_the_documentation_check_finds_an_undocumented_field():
    node = ast.parse("class XArgs:\n    a: int\n    '''doc'''\n    b: str\n").body[0]
    assert _undocumented(node) == ["b"]


@pytest.mark.parametrize("component", REGISTRY, ids=[c.key for c in REGISTRY])
def test_every_registered_component_declares_the_shape(component):
    assert issubclass(component, PlatformComponent)
    assert TYPE_TOKEN.fullmatch(component.type_token)
    assert dataclasses.is_dataclass(component.args_type)
    assert component.args_type.__dataclass_params__.frozen
    hints = typing.get_type_hints(component.args_type)
    assert set(hints) == {f.name for f in dataclasses.fields(component.args_type)}
    assert component.concern in {"cluster", "gpu", "storage", "scheduling", "tenancy", "access", "ml", "monitoring",
                                 "platform"}
    assert component.instances.__func__ is not PlatformComponent.instances.__func__, "decides its own instances"


def test_registry_keys_are_unique_and_dependencies_registered():
    ordered = dependency_order(REGISTRY)
    seen: set[str] = set()
    for component in ordered:
        assert set(component.depends_on) <= seen
        seen.add(component.key)


def _component(key: str, depends_on: tuple[str, ...] = ()) -> type[PlatformComponent]:
    return type(key.title(), (PlatformComponent,), {"key": key, "depends_on": depends_on,
                                                     "type_token": "kubeforge:test:T", "args_type": object,
                                                     "concern": "platform"})


def test_dependency_order_refuses_a_cycle_and_a_missing_dependency():
    with pytest.raises(RegistryError, match="cycle"):
        dependency_order([_component("a", ("b",)), _component("b", ("a",))])
    with pytest.raises(RegistryError, match="depends on c, which no component registers"):
        dependency_order([_component("a", ("c",))])
    with pytest.raises(RegistryError, match="two components register the key 'a'"):
        dependency_order([_component("a"), _component("a")])


def test_the_platform_module_names_no_component():
    source = inspect.getsource(__import__("components.platform", fromlist=["Platform"]))
    for component in REGISTRY:
        assert component.__name__ not in source


def test_deep_merge_merges_mappings_and_replaces_the_rest():
    base = {"a": {"b": 1, "c": [1]}, "d": 1}
    assert deep_merge(base, {"a": {"c": [2], "e": 3}}) == {"a": {"b": 1, "c": [2], "e": 3}, "d": 1}
    assert base == {"a": {"b": 1, "c": [1]}, "d": 1}


# --- a component added through the registry alone --------------------------------------------


@dataclasses.dataclass(frozen=True)
class ExampleArgs:
    component: object
    """The resolved catalog component (manifest-based: Katib)."""
    provider: object
    """The cluster's Kubernetes provider."""


class Example(PlatformComponent):
    """A test-only component: Katib's manifests from its catalog pin, after the namespaces."""

    key = "example"
    type_token = "kubeforge:test:Example"
    depends_on = ("namespaces",)
    args_type = ExampleArgs
    concern = "ml"

    @classmethod
    def instances(cls, stack, cluster: ClusterAccess):
        return {cls.default_name(): ExampleArgs(component=stack.components["katib"], provider=cluster.provider)}

    def __init__(self, name, args, opts=None):
        super().__init__(name, args, opts)
        manifest_set(f"{name}-manifests", args.component, provider=args.provider,
                     opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


def test_a_component_added_to_the_registry_is_placed_with_no_edit_to_platform(
    monkeypatch, project, onprem_platform, tenant_spec
):
    monkeypatch.setattr(registry, "REGISTRY", (*REGISTRY, Example))
    graph = project.stack(kubeflow_platform(), extra=IDENTITY_SECRET).tenant("team-a", tenant_spec).preview()
    example = graph.named("example")
    assert example.type == "kubeforge:test:Example"
    assert example.parent == graph.named("kubeforge").urn
    namespaces = [r.urn for r in graph.children(graph.named("namespaces").urn)]
    assert set(namespaces) <= set(example.dependencies)
    (kustomize,) = graph.children(example.urn)
    assert kustomize.name == "example-manifests"
    assert kustomize.type == "kubernetes:kustomize/v2:Directory"
    assert kustomize.inputs["directory"].endswith("?ref=26.03")
    assert kustomize.inputs["namespace"] == "kubeflow"


RECOMMENDED = {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
               "app.kubernetes.io/component", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by"}


@pytest.mark.parametrize("graph_name", ["local_graph", "aws_graph", "gcp_graph"])
def test_every_kubernetes_object_kubeforge_creates_carries_the_recommended_labels(request, graph_name):
    graph = request.getfixturevalue(graph_name)
    objects = [r for r in graph.ordered() if r.custom and "metadata" in r.inputs and "kind" in r.inputs
               and not r.type.endswith("Patch")]  # patches edit objects kubeforge does not own
    assert objects
    for obj in objects:
        labels = obj.inputs["metadata"].get("labels", {})
        assert RECOMMENDED <= set(labels), obj.urn
        # A Kubeflow profile's namespace is part of kubeflow-profile: the PodDefaults webhook
        # selects namespaces by that label (components/tenancy/tenant.py KUBEFLOW_PROFILE_LABELS).
        profile_ns = obj.inputs["kind"] == "Namespace" and "kubeforge.io/tenant" in labels
        assert labels["app.kubernetes.io/part-of"] == ("kubeflow-profile" if profile_ns else "kubeforge"), obj.urn
        # Pods kubeforge itself runs; a ClusterTrainingRuntime's template shapes tenants' jobs.
        template = obj.inputs.get("spec", {}).get("template")
        if template and obj.inputs["kind"] in ("Deployment", "DaemonSet", "StatefulSet", "Job"):
            assert RECOMMENDED <= set(template["metadata"]["labels"]), obj.urn


@pytest.mark.parametrize("component", [c for c in REGISTRY if c.section], ids=lambda c: c.key)
def test_a_declared_config_section_is_a_block_of_the_spec(component):
    from kubeforge.config.spec import ComponentSpec, PlatformSpec

    model = PlatformSpec
    for part in component.section.split("."):
        fields = {f.alias or n: f for n, f in model.model_fields.items()}
        assert part in fields, component.section
        model = fields[part].annotation
    assert issubclass(model, ComponentSpec)


def test_after_orders_only_components_that_are_registered():
    late = _component("late")
    late.after = ("early", "absent")
    early = _component("early")
    assert [c.key for c in dependency_order([late, early])] == ["early", "late"]
    assert [c.key for c in dependency_order([late])] == ["late"]
