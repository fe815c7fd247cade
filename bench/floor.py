"""The floor bench/scale.py compares the preview with: N plain ConfigMaps registered through
the Pulumi SDK's mock runtime (its own MockMonitor, a Mocks that returns the inputs), run to
completion as a stack, and nothing else.

    .venv/bin/python bench/floor.py N
"""

from __future__ import annotations

import asyncio
import logging
import sys

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime import settings
from pulumi.runtime.mocks import MockEngine, MockMonitor, MockSettings
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await


class PlainMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}, None


def main() -> None:
    count = int(sys.argv[1])
    # The SDK's own mock monitor, configured as pulumi.runtime.set_mocks does, without the root
    # stack set_mocks registers for unit tests: run_in_stack registers it, as a program run does.
    monitor = MockMonitor(PlainMocks())
    settings.reset_options(project="floor", stack="floor", preview=False)
    settings.configure(MockSettings(monitor=monitor, monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
                                    engine=MockEngine(logging.getLogger("floor")), project="floor", stack="floor",
                                    dry_run=False, organization="organization", callbacks=None))
    asyncio.set_event_loop(asyncio.new_event_loop())

    def program() -> None:
        for i in range(count):
            k8s.core.v1.ConfigMap(f"floor-{i}", metadata={"name": f"floor-{i}", "namespace": "default"},
                                  data={"index": str(i)})

    _sync_await(run_in_stack(program))
    print(count)


if __name__ == "__main__":
    main()
