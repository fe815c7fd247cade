"""``kubeforge graph``: components as nodes, what each waits for as arrows (transitively
reduced), the critical path marked; the README's picture is the current one."""

from __future__ import annotations

import re

from kubeforge import drawing
from kubeforge.cli import main
from tests.conftest import ROOT


def test_every_component_that_creates_something_is_drawn(local_graph):
    drawn = drawing.component_graph(local_graph)
    components = {r.name for r in local_graph.resources.values() if r.type.startswith("kubeforge:")
                  and any(c.applies for c in local_graph.children(r.urn))}
    assert components <= set(drawn.nodes)
    assert {n for edge in drawn.edges for n in edge} <= set(drawn.nodes)


def test_the_critical_path_is_marked_along_the_longest_chain(aws_graph):
    drawn = drawing.component_graph(aws_graph)
    path = [aws_graph.component_of(r).name for r in aws_graph.critical_path()]
    assert path[0] == "cluster" and set(path) == drawn.critical_nodes
    assert drawn.critical_edges <= set(drawn.edges) and drawn.critical_edges


def test_an_arrow_another_chain_implies_is_left_out():
    edges = {("cluster", "namespaces"), ("namespaces", "istio"), ("cluster", "istio")}
    assert drawing._reduced(edges) == {("cluster", "namespaces"), ("namespaces", "istio")}


def test_mermaid_and_dot_name_the_same_nodes_and_arrows(local_graph):
    drawn = drawing.component_graph(local_graph)
    text = drawing.mermaid(drawn)
    assert text.startswith("flowchart LR\n")
    assert len(re.findall(r" --> ", text)) == len(drawn.edges)
    assert "class " in text and "linkStyle" in text
    dot = drawing.dot(drawn)
    assert dot.startswith("digraph kubeforge {") and dot.count(" -> ") == len(drawn.edges)


def test_svg_without_graphviz_is_one_message_and_exit_2(capsys, monkeypatch, tmp_path, local_graph):
    monkeypatch.setattr(drawing.shutil, "which", lambda _: None)
    saved = tmp_path / "graph.json"
    saved.write_text(local_graph.to_json())
    assert main(["-C", str(ROOT), "graph", "--graph", str(saved), "--format", "svg"]) == 2
    err = capsys.readouterr().err
    assert "needs Graphviz" in err and "Traceback" not in err


def test_the_readme_shows_the_current_picture_of_the_reference_platform(aws_graph):
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- kubeforge graph --stack aws-prod -->\n```mermaid\n")[1].split("```")[0]
    assert block == drawing.mermaid(drawing.component_graph(aws_graph)), "run: make docs"
