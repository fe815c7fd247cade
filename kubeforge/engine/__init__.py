"""kubeforge's offline engine: preview, render and policy-check a stack without a cloud."""

from kubeforge.engine.graph import SECRET, RecordedResource, ResourceGraph
from kubeforge.engine.runtime import EngineError, run_program

__all__ = ["SECRET", "EngineError", "RecordedResource", "ResourceGraph", "run_program"]
