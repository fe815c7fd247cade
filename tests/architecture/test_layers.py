"""The layers hold: components read the resolved model and the catalog, never the loader,
and kubeforge's own modules import each other without a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

CONFIG_ALLOWED_IN_COMPONENTS = {"kubeforge.config.resolved"}


def _modules(package: str) -> dict[str, Path]:
    base = ROOT / package
    out = {}
    for path in sorted(base.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(path: Path, module: str) -> set[str]:
    """Every module ``path`` imports, anywhere in it (lazy imports count)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")[: len(module.split(".")) - node.level + (path.name == "__init__.py")]
                base = ".".join([*package, base] if base else package)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def test_components_import_only_the_resolved_model_from_kubeforge_config():
    offenders = {
        module: sorted(i for i in _imports(path, module)
                       if i.startswith("kubeforge.config") and i not in CONFIG_ALLOWED_IN_COMPONENTS
                       and not any(i.startswith(f"{a}.") for a in CONFIG_ALLOWED_IN_COMPONENTS))
        for module, path in _modules("components").items()
    }
    assert {m: i for m, i in offenders.items() if i} == {}


def test_components_never_import_the_offline_engine_or_the_cli():
    for module, path in _modules("components").items():
        bad = [i for i in _imports(path, module) if i.startswith(("kubeforge.engine", "kubeforge.cli", "kubeforge.render"))]
        assert bad == [], module


def test_kubeforge_has_no_import_cycle():
    modules = _modules("kubeforge")
    graph = {m: {i for i in _imports(p, m) if i in modules and i != m} for m, p in modules.items()}
    # A package's __init__ importing its own submodules is not a cycle of the layering.
    graph = {m: {i for i in deps if not i.startswith(f"{m}.")} for m, deps in graph.items()}
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append(path[path.index(dep):] + [dep] if dep in path else [node, dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_import_check_sees_a_cycle_when_there_is_one(tmp_path):
    # The check above must be able to fail: two modules importing each other.
    (tmp_path / "a.py").write_text("from b import x\n")
    (tmp_path / "b.py").write_text("import a\n")
    assert "b" in _imports(tmp_path / "a.py", "a") or "b.x" in _imports(tmp_path / "a.py", "a")
    assert "a" in _imports(tmp_path / "b.py", "b")


def test_the_program_and_cli_are_the_only_users_of_the_loader():
    users = sorted(
        m for pkg in ("kubeforge", "components") for m, p in _modules(pkg).items()
        if "kubeforge.config.loader" in _imports(p, m) and m != "kubeforge.config.loader"
    )
    assert users == ["kubeforge.cli", "kubeforge.gpu.expectations"]  # expectations: only with --stack
