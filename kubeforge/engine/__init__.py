"""kubeforge's offline engine: preview, render and policy-check a stack without a cloud."""

from kubeforge.engine.graph import SECRET, GraphFileError, RecordedResource, ResourceGraph
from kubeforge.engine.runtime import EngineError, run_program

__all__ = ["SECRET", "EngineError", "GraphFileError", "RecordedResource", "ResourceGraph", "run_program"]
