"""What a request tells the server's event loop about itself: that it waited on another host.

The loop answers short registry reads itself once they have proved quick (config/http_worker.py,
"answered in the loop"); a request that waited on the network (a mirror asking its upstream) must
never be answered there, since the loop would wait with it. Code about to wait on another host
says so here; the worker reads it after each request. Per thread: a request runs in one.
"""

from __future__ import annotations

import threading

_state = threading.local()


def waits_on_network() -> None:
    """The current request is about to wait on another host."""
    _state.waited = True


def begin() -> None:
    _state.waited = False


def waited_on_network() -> bool:
    return getattr(_state, "waited", False)
