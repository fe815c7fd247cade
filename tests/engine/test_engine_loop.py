"""The offline engine owns its event loop and monitor: monitor calls run on the loop's thread
where they can, outputs are awaited batch by batch, and the SDK is left as it was found."""

from __future__ import annotations

import asyncio
import threading

import pytest
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import stack as pulumi_stack

from kubeforge.engine import EngineError, run_program
from kubeforge.engine import runtime
from tests.conftest import TENANT


async def _plain() -> str:
    return "done"


async def _waits() -> str:
    await asyncio.sleep(0)
    return "late"


def test_a_call_that_never_waits_is_answered_on_the_loops_thread():
    sync_await = runtime._inline_sync_await(threading.get_ident(), lambda _: "sdk")
    assert sync_await(_plain()) == "done"


def test_a_call_that_would_wait_is_handed_to_a_worker_thread():
    sync_await = runtime._inline_sync_await(threading.get_ident(), lambda _: "sdk")
    with pytest.raises(runtime._Suspended):
        sync_await(_waits())
    assert runtime._inline_sync_await(-1, lambda aw: (aw.close(), "sdk")[1])(_waits()) == "sdk"


def test_the_executor_runs_inline_on_the_loops_thread_and_falls_back_to_a_worker():
    executor = runtime._InlineExecutor(threading.get_ident())
    here = threading.get_ident()
    assert executor.submit(threading.get_ident).result() == here

    def suspends():
        if threading.get_ident() == here:
            raise runtime._Suspended()
        return "worker"
    assert executor.submit(suspends).result(timeout=10) == "worker"

    def fails():
        raise ValueError("boom")
    with pytest.raises(ValueError, match="boom"):
        executor.submit(fails).result()
    executor.shutdown()


def test_a_run_leaves_the_sdk_as_it_found_it(project, onprem_platform):
    before = (pulumi_stack.wait_for_rpcs, pulumi_resource._get_stack_trace, pulumi_mocks._sync_await)
    project.stack(onprem_platform).tenant("team-a", TENANT).preview()
    assert (pulumi_stack.wait_for_rpcs, pulumi_resource._get_stack_trace, pulumi_mocks._sync_await) == before


def test_a_failing_output_fails_the_run_with_its_message(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: kubeforge\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi\n"
        "def fail(_):\n    raise ValueError('an output failed')\n"
        "pulumi.export('x', pulumi.Output.from_input(1).apply(fail))\n")
    with pytest.raises(EngineError, match="an output failed"):
        run_program(tmp_path, "s", {})
