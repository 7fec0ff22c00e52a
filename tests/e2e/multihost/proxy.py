"""A round-robin TCP load balancer: each new client connection goes to the next backend.

    python proxy.py LISTEN_HOST:PORT BACKEND_HOST:PORT [BACKEND_HOST:PORT ...]

Bytes are relayed both ways untouched (no HTTP parsing, like an L4 load balancer). A backend
that refuses the connection (a killed host) is skipped for the next one. Every connection is
logged as `conn <n> <client> -> <backend>`.
"""

from __future__ import annotations

import asyncio
import itertools
import sys

CONNECT_TIMEOUT = 3


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(256 * 1024):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            pass


class RoundRobin:
    def __init__(self, backends: list[tuple[str, int]]):
        self.backends = backends
        self._next = itertools.cycle(range(len(backends)))
        self._count = itertools.count(1)

    async def _connect(self) -> tuple[tuple[str, int], asyncio.StreamReader, asyncio.StreamWriter]:
        last_error: Exception | None = None
        for _ in self.backends:
            backend = self.backends[next(self._next)]
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(*backend), CONNECT_TIMEOUT
                )
                return backend, reader, writer
            except (OSError, TimeoutError) as exc:
                last_error = exc
        raise ConnectionError(f"no backend answered: {last_error}")

    async def handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter):
        number = next(self._count)
        peer = client_w.get_extra_info("peername")
        try:
            backend, backend_r, backend_w = await self._connect()
        except ConnectionError as exc:
            print(f"conn {number} {peer[0]} -> none: {exc}", flush=True)
            client_w.close()
            return
        print(f"conn {number} {peer[0]} -> {backend[0]}:{backend[1]}", flush=True)
        await asyncio.gather(_pipe(client_r, backend_w), _pipe(backend_r, client_w))
        for writer in (backend_w, client_w):
            writer.close()


def _address(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    return host, int(port)


async def main(listen: str, backends: list[str]) -> None:
    balancer = RoundRobin([_address(b) for b in backends])
    server = await asyncio.start_server(balancer.handle, *_address(listen), reuse_address=True)
    print(f"listening on {listen}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
