"""The multi-host cluster, once per module: started after removing a crashed run's leftovers,
and always torn down (namespaces, veths, every process inside), on failure, Ctrl-C or SIGTERM."""

from __future__ import annotations

import atexit
import os
import signal

import pytest

from tests.conftest import PASSWORD
from tests.e2e.multihost.cluster import Cluster, missing_tools
from tests.e2e.multihost.netns import Network, sweep_leftovers


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")  # pytest then runs the teardowns


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, request):
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    if missing := missing_tools():
        pytest.skip(f"missing {', '.join(missing)} (scripts/install-test-deps.sh)")
    sweep_leftovers()
    network = Network()
    instance = Cluster(network)
    atexit.register(instance.stop)  # a crash past pytest's teardown still cleans up
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        network.create()
        instance.start()
        instance.create_user("alice", PASSWORD)
        yield instance
    finally:
        signal.signal(signal.SIGTERM, previous)
        try:
            logs = tmp_path_factory.mktemp("multihost-logs")
            instance.save_logs(logs)
            print(f"multi-host logs (every process): {logs}")
        finally:
            instance.stop()
            atexit.unregister(instance.stop)
