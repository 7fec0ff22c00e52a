"""Pulls from a remote store read ahead of the client (registry_api.blob_responses._read_ahead):
the same bytes in order, the source's error reaches the response, and a client that goes away
stops the reading and closes the source."""

from __future__ import annotations

import threading
import time

import pytest

from registry_api.blob_responses import READ_AHEAD_CHUNKS, _read_ahead


class Source:
    """An S3 body's chunks as the store yields them, recording how far it was read."""

    def __init__(self, count: int, fail_at: int | None = None):
        self.count, self.fail_at = count, fail_at
        self.read = 0
        self.closed = threading.Event()

    def __iter__(self):
        try:
            for index in range(self.count):
                if index == self.fail_at:
                    raise ConnectionError("the object store went away")
                self.read += 1
                yield bytes([index % 256]) * 1000
        finally:
            self.closed.set()


def test_the_chunks_arrive_in_order_and_the_source_is_closed():
    source = Source(50)
    chunks = list(_read_ahead(iter(source)))
    assert chunks == [bytes([i]) * 1000 for i in range(50)]
    assert source.closed.wait(5)


def test_an_error_of_the_source_reaches_the_response():
    with pytest.raises(ConnectionError):
        list(_read_ahead(iter(Source(10, fail_at=3))))


def test_a_client_that_goes_away_stops_the_reading():
    source = Source(10_000)
    response = _read_ahead(iter(source))
    next(response)
    response.close()  # gunicorn closes the response iterator when the client is gone
    assert source.closed.wait(5)
    time.sleep(0.1)
    assert source.read <= 1 + READ_AHEAD_CHUNKS + 2  # read ahead at most the queue's depth
