"""gunicorn's gthread worker, but a request reaches a thread only once its head has arrived.

gthread hands every readable connection to a pool thread, which then blocks until the request
line and headers are in: 32 clients sending one header line a second held all 2 × 16 threads and
the server answered nobody. Here the worker's event loop (the selector gthread already runs for
keep-alive connections) reads each request's head, and the start of its body, without blocking
and under deadlines; a slow client costs a buffer in that loop, never a thread. A thread gets the
connection with the bytes already read (ClientStream returns them first to gunicorn's own
parser, so there is still one request path), and from then on every read and write on it is
bounded by an idle timeout and, for the body, a minimum rate after a grace period (like Apache
mod_reqtimeout's `body=…,MinRate=…`). Blob transfers, recognised by their request line, are
handed (socket and bytes read) to a transfer process each worker forks, at a lower CPU priority,
so they never hold the interpreter lock a manifest GET needs.

Short registry reads (a manifest GET or HEAD, the /v2/ ping) are answered in the loop itself,
without a thread, once the same request line has proved quick in this worker: handing a request
to a thread and its connection back cost more than answering a remembered manifest. A request
that waited on another host (config.serving_hints) or took long is never answered there again
until it proves quick once more; the loop's writes never block (what the socket cannot take
yet waits in a buffer). Why this model and not another: docs/architecture.md, "Serving model:
slow clients".
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import selectors
import socket
import ssl
import time
from collections import deque
from concurrent import futures
from dataclasses import dataclass
from functools import partial
from threading import get_native_id

from gunicorn import http
from gunicorn import sock as gunicorn_sock
from gunicorn.workers.gthread import ThreadWorker

from config import serving_hints
from config.env import env_bool, env_float, env_int

# What Go's net/http answers to a TLS handshake on a plain-HTTP port.
TLS_ON_PLAIN_HTTP = (
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
)
REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 36\r\n\r\nThe request arrived too slowly: bye.\n"
)
HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 32\r\n\r\nThe request's head is too large.\n"
)
# gunicorn answers this itself when it parses `Expect: 100-continue`; the loop already did.
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

# A head (request line and headers) may be this large: nginx allows 32 KiB, enough for any
# registry client's Bearer token. It bounds what one connection in the loop can cost.
HEAD_MAX_BYTES = 64 * 1024
# The loop reads this much of a body before a thread takes over: a client that cannot send
# 64 KiB at the minimum rate is cut in the loop, without ever holding a thread.
BODY_READ_AHEAD = 64 * 1024
# Blob downloads and uploads: served by their own threads, at a lower CPU priority.
TRANSFER_LINE = re.compile(
    rb"(?:GET /v2/\S+/blobs/(?!uploads/)|(?:PATCH|PUT|POST) /v2/\S+/blobs/uploads/)"
)
# Unread body gunicorn may skip to keep a connection alive; past it the connection closes.
DRAIN_MAX_BYTES = 1024 * 1024
# Reads the loop may answer itself: a manifest by tag or digest, or the ping; no query string
# (a containerd mirror's ?ns= asks an upstream), no body, not plain HTTP/1.0.
LOOP_LINE = re.compile(rb"(?:GET|HEAD) /v2/(?:[^\s?]+/manifests/[^\s?]+)? HTTP/1\.1\r\n")
# A request line proves quick when it took at most this much CPU and time in this worker; one
# slower answer sends it back to the threads.
LOOP_MAX_CPU_SECONDS = 0.01
LOOP_MAX_SECONDS = 0.25
LOOP_MAX_LINES = 4096


@dataclass(frozen=True)
class ClientLimits:
    """How slow a client may be (seconds, bytes per second): settings in .env.example."""

    header_timeout: float = 10
    idle_timeout: float = 30
    body_grace: float = 20
    body_min_rate: float = 4096
    keepalive: float = 5
    keepalive_max: int = 256
    transfer_process: bool = True
    transfer_threads: int = 16
    transfer_nice: int = 10
    answer_in_loop: bool = True

    @classmethod
    def from_environ(cls) -> ClientLimits:
        """The limits the environment sets (config.env's readers: a bad value names itself)."""
        return cls(
            header_timeout=env_float("WEB_HEADER_TIMEOUT", cls.header_timeout),
            idle_timeout=env_float("WEB_IDLE_TIMEOUT", cls.idle_timeout),
            body_grace=env_float("WEB_BODY_GRACE", cls.body_grace),
            body_min_rate=env_float("WEB_BODY_MIN_RATE", cls.body_min_rate),
            keepalive=env_float("WEB_KEEPALIVE", cls.keepalive),
            keepalive_max=env_int("WEB_KEEPALIVE_MAX", cls.keepalive_max),
            transfer_process=env_bool("WEB_TRANSFER_PROCESS", cls.transfer_process),
            transfer_threads=env_int("WEB_TRANSFER_THREADS", cls.transfer_threads),
            transfer_nice=env_int("WEB_TRANSFER_NICE", cls.transfer_nice),
            answer_in_loop=env_bool("WEB_ANSWER_IN_LOOP", cls.answer_in_loop),
        )

    def body_too_slow(self, seconds: float, received: int) -> bool:
        """After the grace period a body must keep up with the minimum rate: every second of
        the client's time beyond the grace needs body_min_rate more bytes."""
        if self.body_min_rate <= 0:  # no minimum: only the idle timeout applies
            return False
        return seconds > self.body_grace + received / self.body_min_rate


def chunked_body_complete(body: bytes) -> bool | None:
    """Whether `body` holds a whole chunked body (True), needs more bytes (False) or is not
    chunked framing at all (None: gunicorn's parser answers it)."""
    position = 0
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            return False if len(body) - position < 1024 else None
        size_field = body[position:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            return None
        position = line_end + 2
        if size == 0:  # then trailer lines, ended by an empty line
            return body.find(b"\r\n\r\n", position - 2) >= 0
        position += size + 2
        if position > len(body):
            return False


@dataclass
class Framing:
    """What the loop needs to know of a head to decide when a thread may take the request."""

    head_length: int  # bytes up to and including the empty line
    content_length: int | None = None
    chunked: bool = False
    expects_continue: bool = False
    unclear: bool = False  # gunicorn will refuse it: hand it over at once
    transfer: bool = False  # a blob download or an upload with a body
    line: bytes = b""  # the request line: what the loop learns is quick
    loop_candidate: bool = False  # a short read the loop may answer (LOOP_LINE, no password)


def read_framing(buffer: bytes | bytearray) -> Framing | None:
    """The framing of the request whose head starts `buffer`, or None while the head is
    incomplete. Only a hint for the loop: gunicorn's parser still parses every request."""
    end = buffer.find(b"\r\n\r\n")
    bare = buffer.find(b"\n\n")
    if end < 0 and bare < 0:
        return None
    if end < 0 or 0 <= bare < end:  # bare LF: gunicorn decides what it makes of it
        return Framing(head_length=bare + 2, unclear=True)
    framing = Framing(head_length=end + 4)
    lines = bytes(buffer[:end]).split(b"\r\n")
    framing.line = lines[0]
    password = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"authorization":
            password = not value.startswith(b"bearer ")  # checking one takes a hash's time
        if name == b"content-length":
            if framing.content_length is not None or not value.isdigit():
                framing.unclear = True
            else:
                framing.content_length = int(value)
        elif name == b"transfer-encoding":
            framing.chunked = value.endswith(b"chunked")
            framing.unclear = framing.unclear or not framing.chunked
        elif name == b"expect":
            framing.expects_continue = value == b"100-continue"
    if framing.chunked and framing.content_length is not None:
        framing.unclear = True
    if TRANSFER_LINE.match(buffer):
        has_body = framing.chunked or bool(framing.content_length)
        framing.transfer = has_body or not buffer.startswith(b"POST")
    framing.loop_candidate = bool(
        LOOP_LINE.match(buffer)
        and not (framing.unclear or framing.chunked or framing.content_length or password)
    )
    return framing


class Cut(Exception):
    """The client was too slow (or sent what the loop refuses): answer, then close."""

    def __init__(self, reason: str, answer: bytes = b""):
        super().__init__(reason)
        self.reason = reason
        self.answer = answer


class ClientStream:
    """The socket a pool thread sees: the bytes the loop read first, then the real socket, each
    read and write bounded by the idle timeout and a body's reads by the minimum rate.

    A client cut for slowness looks to the application like one that went away (reads give EOF,
    writes EPIPE): gunicorn and the views already treat that as a disconnect, not an error.

    In the loop (`in_loop`) nothing blocks: a read past the bytes already read is an end of
    input (a request the loop answers has no body), and what the socket cannot take at once is
    kept in `backlog` for the loop to send.
    """

    def __init__(self, connection: ClientConnection, limits: ClientLimits, *, in_loop=False):
        self.connection = connection
        self.limits = limits
        self.raw = connection.raw
        self.pending = memoryview(bytes(connection.buffer))
        connection.buffer.clear()
        self.continue_sent = connection.continue_sent
        self.waited = 0.0  # seconds spent waiting for body bytes: the client's time, not ours
        self.received = 0
        self.sent = False
        self.cut_reason = ""
        self.in_loop = in_loop
        self.backlog = bytearray()
        if not in_loop:
            self.raw.settimeout(limits.idle_timeout)

    def __getattr__(self, name):  # fileno, getsockname, shutdown, close…
        return getattr(self.raw, name)

    def take_pending(self) -> bytes:
        rest, self.pending = bytes(self.pending), memoryview(b"")
        return rest

    # Reads.

    def recv(self, size: int, flags: int = 0) -> bytes:
        if self.pending:
            data, self.pending = bytes(self.pending[:size]), self.pending[size:]
            return data
        if self.cut_reason or self.in_loop:
            return b""
        started = time.monotonic()
        try:
            data = self.raw.recv(size)
        except TimeoutError:
            return self._cut(f"sent nothing for {self.limits.idle_timeout:g} s")
        self._count(started, len(data))
        if data and self.limits.body_too_slow(self.waited, self.received):
            return self._cut(f"sent a body slower than {self.limits.body_min_rate:g} bytes/s")
        return data

    def recv_into(self, buffer, nbytes: int = 0, flags: int = 0) -> int:
        data = self.recv(nbytes or len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _count(self, started: float, size: int) -> None:
        self.waited += time.monotonic() - started
        self.received += size

    # Writes.

    def send(self, data, flags: int = 0) -> int:
        if self.continue_sent and bytes(data) == CONTINUE:
            self.continue_sent = False
            return len(data)
        self._writable()
        self.sent = True
        if self.in_loop:
            return self._send_or_keep(data)
        try:
            return self.raw.send(data)
        except TimeoutError:
            raise self._write_cut() from None

    def _send_or_keep(self, data) -> int:
        sent = 0
        if not self.backlog:
            with contextlib.suppress(BlockingIOError):
                sent = self.raw.send(data)
        with memoryview(data) as view:
            self.backlog += view.cast("B")[sent:]
        return len(data)

    def sendall(self, data, flags: int = 0) -> None:
        # socket.sendall's timeout bounds the whole call; a slow but steady reader of a large
        # chunk is fine, so the idle timeout applies between pieces instead.
        with memoryview(data) as view:
            view = view.cast("B")
            while view:
                view = view[self.send(view) :]

    def sendfile(self, file, offset: int = 0, count: int | None = None) -> int:
        if self.in_loop:  # not a route the loop answers; still correct if one ever is
            file.seek(offset)
            data = file.read() if count is None else file.read(count)
            return self.send(data)
        self._writable()
        self.sent = True
        try:  # the socket's timeout applies to each wait for the socket to drain
            return self.raw.sendfile(file, offset, count)
        except TimeoutError:
            raise self._write_cut() from None

    def _writable(self) -> None:
        if self.cut_reason:
            raise BrokenPipeError(errno.EPIPE, "client cut: " + self.cut_reason)

    def _write_cut(self) -> BrokenPipeError:
        self._cut(f"read nothing for {self.limits.idle_timeout:g} s")
        return BrokenPipeError(errno.EPIPE, "client cut: " + self.cut_reason)

    def _cut(self, reason: str) -> bytes:
        self.cut_reason = reason
        self.connection.cut_reason = reason
        answer = b"" if self.sent else REQUEST_TIMEOUT
        close_after(self.raw, answer, wait=min(self.limits.idle_timeout, 1))
        return b""


def close_after(raw: socket.socket, answer: bytes, *, wait: float = 0) -> None:
    """Send `answer` (best effort), then end the connection with a FIN rather than a reset."""
    try:
        raw.settimeout(wait)
        if answer:
            raw.sendall(answer)
        raw.shutdown(socket.SHUT_WR)
        raw.settimeout(0)
        while raw.recv(65536):  # unread bytes at close() would make it a reset
            pass
    except (OSError, ValueError):
        pass
    with contextlib.suppress(OSError):
        raw.shutdown(socket.SHUT_RD)


class ClientConnection:
    """One client connection; the event loop or one pool thread owns it at any time."""

    def __init__(self, cfg, sock, client, server, limits: ClientLimits):
        self.cfg = cfg
        self.client = client
        self.server = server
        self.limits = limits
        sock.setblocking(False)
        # TLS is set up, and its handshake driven, in the loop too: a client stuck in the
        # handshake costs no thread either.
        self.raw = gunicorn_sock.ssl_wrap_socket(sock, cfg) if cfg.is_ssl else sock
        self.sock = self.raw  # gunicorn's handle_request uses conn.sock: the stream, in a thread
        self.handshaken = not cfg.is_ssl
        self.buffer = bytearray()
        self.framing: Framing | None = None
        self.continue_sent = False
        self.cut_reason = ""
        self.timeout = 0.0  # gunicorn's name: when an idle keep-alive connection is closed
        self.initialized = True
        self.parser = None
        self.events = selectors.EVENT_READ
        # An answer the loop is still sending: the bytes, whether the connection stays open
        # after it, and when the client last took some.
        self.backlog = memoryview(b"")
        self.keep_after_backlog = False
        self.backlog_progress = 0.0
        self.begin(time.monotonic())

    def begin(self, now: float) -> None:
        """The next request starts (its head is due within the header timeout)."""
        self.head_deadline = now + self.limits.header_timeout
        self.body_started = self.last_byte = now
        self.framing = None
        self.continue_sent = False

    def read(self) -> str:
        """Read what the socket has without blocking. "ready": a thread may take the request;
        "read" / "write": wait for the socket to be readable / writable; "closed": it is gone.
        Raises Cut for a client the loop refuses."""
        if not self.handshaken:
            try:
                self.raw.do_handshake()
            except ssl.SSLWantReadError:
                return "read"
            except ssl.SSLWantWriteError:
                return "write"
            except (OSError, ValueError):  # not TLS, or a broken handshake
                return "closed"
            self.handshaken = True
        while True:
            want = max(self._wanted() - len(self.buffer), 1)
            try:
                data = self.raw.recv(min(want, 65536))
            except (BlockingIOError, ssl.SSLWantReadError):
                return self.examine()
            except ssl.SSLWantWriteError:
                return "write"
            except (OSError, ValueError):
                return "closed"
            if not data:  # the client closed (or half-closed after its whole request)
                return "ready" if self.examine() == "ready" else "closed"
            self.last_byte = time.monotonic()
            self.buffer += data
            state = self.examine()
            if state == "ready":
                return state

    def _wanted(self) -> int:
        if self.framing is None:
            return HEAD_MAX_BYTES
        return self.framing.head_length + BODY_READ_AHEAD

    def examine(self) -> str:
        """Whether the buffer now holds what a thread needs: the head, and the whole body or
        its first BODY_READ_AHEAD bytes."""
        if self.framing is None:
            if not self.cfg.is_ssl and self.buffer[:1] == b"\x16":  # a TLS ClientHello
                raise Cut("TLS on the plain-HTTP port", TLS_ON_PLAIN_HTTP)
            self.framing = read_framing(self.buffer)
            if self.framing is None:
                if len(self.buffer) > HEAD_MAX_BYTES:
                    raise Cut("sent a head over 64 KiB", HEAD_TOO_LARGE)
                return "read"
            self.body_started = time.monotonic()
        framing = self.framing
        body = self.buffer[framing.head_length :]
        if framing.unclear or len(body) >= BODY_READ_AHEAD:
            return "ready"
        if framing.chunked:
            complete = chunked_body_complete(bytes(body))
            done = complete is None or complete
        else:
            done = len(body) >= (framing.content_length or 0)
        if not done and framing.expects_continue and not self.continue_sent:
            self.continue_sent = True
            try:
                self.raw.send(CONTINUE)
            except (BlockingIOError, ssl.SSLWantWriteError):
                pass  # a client that does not even read this much is cut by the deadline
            except OSError:
                return "closed"
        return "ready" if done else "read"

    def overdue(self, now: float) -> Cut | None:
        """Why the loop gives up on this connection now, or None."""
        if self.framing is None:
            if now > self.head_deadline:
                if not self.buffer:  # never began a request: an idle connection, no answer
                    return Cut("", b"")
                seconds = self.limits.header_timeout
                return Cut(f"sent no complete head in {seconds:g} s", REQUEST_TIMEOUT)
            return None
        received = len(self.buffer) - self.framing.head_length
        if now - self.last_byte > self.limits.idle_timeout:
            return Cut(f"sent nothing for {self.limits.idle_timeout:g} s", REQUEST_TIMEOUT)
        if self.limits.body_too_slow(now - self.body_started, received):
            rate = self.limits.body_min_rate
            return Cut(f"sent a body slower than {rate:g} bytes/s", REQUEST_TIMEOUT)
        return None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.raw.close()


class ReadAheadThreadWorker(ThreadWorker):
    """gthread whose event loop reads each request's head (and a body's first bytes) before a
    pool thread sees the connection; see the module's docstring."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits = ClientLimits.from_environ()
        self.max_keepalived = self.limits.keepalive_max  # gunicorn closes past it
        # Whether this process answers short reads in its loop (never over TLS: a TLS write
        # cannot be retried from a buffer of ours; never in the transfer process).
        self.answers_short_reads = self.limits.answer_in_loop and not self.cfg.is_ssl
        self._reading: set[ClientConnection] = set()
        self._keep: deque[ClientConnection] = deque()
        self._writing: set[ClientConnection] = set()
        # Request lines that proved quick here (insertion-ordered set): the loop answers them.
        self._quick: dict[bytes, None] = {}
        self._cuts: dict[str, int] = {}
        self._cuts_logged = time.monotonic()

    role = "front"  # or "transfer": the worker's child that serves blob transfers
    handoff: socket.socket | None = None  # the front's line to its transfer process
    transfer_pid = 0

    def init_process(self):
        # Blob transfers get threads of their own (if the transfer process is gone), so
        # short requests never queue behind them, at a lower CPU priority.
        self.transfer_pool = futures.ThreadPoolExecutor(
            max_workers=self.limits.transfer_threads,
            thread_name_prefix="transfer",
            initializer=_lower_priority,
            initargs=(self.limits.transfer_nice,),
        )
        super().init_process()

    def load_wsgi(self):
        super().load_wsgi()
        # Once the application is loaded and before any thread runs: fork the process that
        # serves this worker's blob transfers. Threads in one process share one interpreter
        # lock, and 8 uploads parsed in Python took it from a manifest GET for 30-90 ms; in
        # their own process, at a lower CPU priority, they only take the CPU nobody else wants.
        if self.limits.transfer_process and not self.cfg.is_ssl:  # TLS state cannot move
            self.fork_transfer_process()

    def fork_transfer_process(self) -> None:
        front, back = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid:
            back.close()
            front.setblocking(False)
            self.handoff, self.transfer_pid = front, pid
            return
        front.close()
        self.role, self.handoff, self.ppid = "transfer", back, os.getppid()
        for listener in self.sockets:  # only the front accepts; a lingering copy would keep
            listener.close()  # the port bound after the server stopped
        self.sockets = []
        self.poller.close()  # the parent's epoll: never share it
        self.poller = selectors.DefaultSelector()
        self.tpool.shutdown(False)
        self.tpool = self.transfer_pool
        self.max_keepalived = 0  # one transfer per connection: the client's next request
        self.answers_short_reads = False  # goes to the front again
        _lower_priority(self.limits.transfer_nice)

    def notify(self):
        if self.role == "front":  # only the worker itself tells the arbiter it is alive
            super().notify()

    def handle_quit(self, sig, frame):
        self.transfer_pool.shutdown(False)
        super().handle_quit(sig, frame)

    def hand_over(self, conn: ClientConnection) -> bool:
        """Pass a transfer request's connection (its socket and the bytes read) to the
        transfer process; False when it cannot take it now."""
        meta = json.dumps(
            {"client": conn.client, "server": conn.server, "continue": conn.continue_sent}
        ).encode()
        message = len(meta).to_bytes(4, "big") + meta + bytes(conn.buffer)
        try:
            socket.send_fds(self.handoff, [message], [conn.raw.fileno()])
        except OSError:  # busy (BlockingIOError) or gone: serve it here
            return False
        with self._lock:
            self.nr_conns -= 1
        conn.close()  # our copy; the transfer process owns the connection now
        return True

    def take_over(self, handoff: socket.socket) -> None:
        """In the transfer process: a connection from the front, ready for a thread."""
        try:
            message, fds, _flags, _address = socket.recv_fds(handoff, 4 + 4096 + 2**18, 1)
        except BlockingIOError:
            return
        if not fds:  # the front worker is gone: finish what runs, take nothing more
            self.poller.unregister(handoff)
            self.alive = False
            return
        size = int.from_bytes(message[:4], "big")
        meta = json.loads(message[4 : 4 + size])
        address = meta["server"]
        server = tuple(address) if isinstance(address, list) else address
        try:
            sock = socket.socket(fileno=fds[0])
            conn = ClientConnection(self.cfg, sock, tuple(meta["client"]), server, self.limits)
        except OSError:
            os.close(fds[0])
            return
        conn.buffer += message[4 + size :]
        conn.continue_sent = meta["continue"]
        try:
            conn.examine()  # the framing again, for the stream and the pool
        except Cut:
            conn.close()
            return
        with self._lock:
            self.nr_conns += 1
        self.enqueue_req(conn)

    def transfer_process_gone(self) -> None:
        """Reap the transfer process if it died; its transfers are then served here."""
        if not self.transfer_pid:
            return
        try:
            pid, _status = os.waitpid(self.transfer_pid, os.WNOHANG)
        except ChildProcessError:
            pid = self.transfer_pid
        if pid:
            self.log.warning("The transfer process %s exited: serving transfers here", pid)
            self.handoff.close()
            self.handoff, self.transfer_pid = None, 0

    # The event loop.

    def run(self):
        listeners = []
        if self.role == "transfer":
            self.poller.register(self.handoff, selectors.EVENT_READ, self.take_over)
        for listener in self.sockets if self.role == "front" else ():
            listener.setblocking(False)
            # captured once: during a graceful shutdown the name may be gone in a handler
            listeners.append((listener, partial(self.accept, listener.getsockname())))
        accepting = False
        housekeeping_due = 0.0
        while self.alive:
            # At the connection cap stop accepting, but keep serving the connections we have
            # (gthread stops polling altogether, so their deadlines would wait too).
            room = self.nr_conns < self.worker_connections
            if room != accepting:
                with self._lock:
                    for listener, acceptor in listeners:
                        if room:
                            self.poller.register(listener, selectors.EVENT_READ, acceptor)
                        else:
                            self.poller.unregister(listener)
                accepting = room
            for key, _ in self.poller.select(1.0):
                key.data(key.fileobj)
            if self.futures:
                done = futures.wait(self.futures, timeout=0, return_when=futures.FIRST_COMPLETED)
                for future in done.done:
                    self.futures.remove(future)
            # The heartbeat, the parent and the deadlines (checked to the second anyway): ten
            # times a second, not after every request the loop answers (each is a syscall).
            now = time.monotonic()
            if now >= housekeeping_due:
                housekeeping_due = now + 0.1
                self.notify()
                if not self.is_parent_alive():
                    break
                self.sweep(now)

        self.tpool.shutdown(False)
        self.transfer_pool.shutdown(False)
        self.poller.close()
        if self.handoff is not None:  # the transfer process finishes its transfers and exits
            self.handoff.close()
        for listener in self.sockets:
            listener.close()
        futures.wait(self.futures, timeout=self.cfg.graceful_timeout)

    def accept(self, server, listener):
        try:
            sock, client = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        try:
            conn = ClientConnection(self.cfg, sock, client, server, self.limits)
        except (OSError, ValueError):
            sock.close()
            return
        with self._lock:
            self.nr_conns += 1
            self._reading.add(conn)
            conn.events = selectors.EVENT_READ
            self.poller.register(conn.raw, selectors.EVENT_READ, partial(self.on_readable, conn))

    def on_readable(self, conn: ClientConnection, _fileobj=None) -> None:
        with self._lock:
            if conn not in self._reading:  # an idle keep-alive connection begins a request
                try:
                    self._keep.remove(conn)
                except ValueError:
                    return  # closed by the sweep meanwhile
                conn.begin(time.monotonic())
                self._reading.add(conn)
        try:
            state = conn.read()
        except Cut as cut:
            self.cut(conn, cut)
            return
        if state == "ready":
            self.dispatch(conn)
        elif state == "closed":
            self.drop(conn)
        else:  # only a TLS handshake ever waits to write
            events = selectors.EVENT_WRITE if state == "write" else selectors.EVENT_READ
            self._wait_for(conn, events, self.on_readable)

    def dispatch(self, conn: ClientConnection) -> None:
        """A request is ready: the loop answers it, or a thread gets the connection."""
        framing = conn.framing
        if self.answers_short_reads and framing.loop_candidate and framing.line in self._quick:
            self.answer_in_loop(conn)
        else:
            self.to_thread(conn)

    def to_thread(self, conn: ClientConnection) -> None:
        with self._lock:
            self._reading.discard(conn)
            self.poller.unregister(conn.raw)
        self.enqueue_req(conn)

    # Short reads answered in the loop.

    def answer_in_loop(self, conn: ClientConnection) -> None:
        """Answer the request in this thread; the connection stays in the selector."""
        with self._lock:
            self._reading.discard(conn)
        stream = conn.sock = ClientStream(conn, self.limits, in_loop=True)
        keepalive = self.handle_learning(conn, stream)
        conn.sock = conn.raw
        _metrics().answered_in_loop(at_once=not stream.backlog)
        if stream.cut_reason or not self.alive:
            self.count_cut(stream.cut_reason)
            self.drop(conn)
            return
        if stream.backlog:  # the client reads slower than we answer: the loop sends the rest
            self.send_later(conn, bytes(stream.backlog), keepalive)
            return
        self.after_answer(conn, keepalive)

    def send_later(self, conn: ClientConnection, backlog: bytes, keepalive: bool) -> None:
        conn.backlog = memoryview(backlog)
        conn.keep_after_backlog = keepalive
        conn.backlog_progress = time.monotonic()
        self._wait_for(conn, selectors.EVENT_WRITE, self.on_writable, writing=True)

    def on_writable(self, conn: ClientConnection, _fileobj=None) -> None:
        try:
            sent = conn.raw.send(conn.backlog)
        except BlockingIOError:
            return
        except OSError:
            self.drop(conn)
            return
        conn.backlog = conn.backlog[sent:]
        conn.backlog_progress = time.monotonic()
        if not conn.backlog:
            with self._lock:
                self._writing.discard(conn)
            self.after_answer(conn, conn.keep_after_backlog)

    def after_answer(self, conn: ClientConnection, keepalive: bool) -> None:
        """The loop's answer is sent: wait for the next request, or close."""
        if not keepalive:
            self.drop(conn)
            return
        conn.begin(time.monotonic())
        if conn.buffer:  # the start of a pipelined request: a thread serves it and what follows
            with self._lock:
                self._reading.add(conn)
            try:
                state = conn.examine()
            except Cut as cut:
                self.cut(conn, cut)
                return
            if state == "ready":  # (not the loop again: a long pipeline would recurse here)
                self.to_thread(conn)
                return
        else:
            conn.timeout = time.time() + self.limits.keepalive
            with self._lock:
                self._keep.append(conn)
        self._wait_for(conn, selectors.EVENT_READ, self.on_readable)

    def _wait_for(self, conn: ClientConnection, events: int, handler, *, writing=False) -> None:
        with self._lock:
            if writing:
                self._writing.add(conn)
            if events != conn.events:
                conn.events = events
                self.poller.modify(conn.raw, events, partial(handler, conn))

    def handle_learning(self, conn: ClientConnection, stream: ClientStream) -> bool:
        """handle_one, learning from a short read whether the loop may answer it next time."""
        framing = conn.framing
        if framing is None or not framing.loop_candidate or not self.answers_short_reads:
            return self.handle_one(conn, stream)
        serving_hints.begin()
        started, cpu_started = time.monotonic(), time.thread_time()
        try:
            return self.handle_one(conn, stream)
        finally:
            quick = (
                time.thread_time() - cpu_started <= LOOP_MAX_CPU_SECONDS
                and time.monotonic() - started <= LOOP_MAX_SECONDS
                and not serving_hints.waited_on_network()
            )
            if not quick:
                self._quick.pop(framing.line, None)
            elif framing.line not in self._quick:
                if len(self._quick) >= LOOP_MAX_LINES:
                    self._quick.clear()  # simpler than LRU: a line proves itself again
                self._quick[framing.line] = None

    def sweep(self, now: float) -> None:
        """Close idle keep-alive connections past their time and cut overdue clients."""
        self.transfer_process_gone()
        wall = time.time()
        while True:
            with self._lock:
                if not self._keep or self._keep[0].timeout > wall:
                    break
                self.drop(self._keep.popleft())
        with self._lock:
            overdue = [(c, cut) for c in self._reading if (cut := c.overdue(now))]
            idle = self.limits.idle_timeout
            stalled = [c for c in self._writing if now - c.backlog_progress > idle]
        for conn, cut in overdue:
            self.cut(conn, cut)
        for conn in stalled:  # an answer nobody reads: the connection goes, the loop goes on
            self.count_cut(f"read nothing for {self.limits.idle_timeout:g} s")
            self.drop(conn)
        if self._cuts and now - self._cuts_logged >= 10:
            # One line for many: under a slowloris attack one per connection would flood it.
            with self._lock:
                counts, self._cuts = self._cuts, {}
            summary = ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items()))
            self.log.info("Closed slow clients (last %.0f s): %s", now - self._cuts_logged, summary)
            self._cuts_logged = now

    def cut(self, conn: ClientConnection, cut: Cut) -> None:
        self.count_cut(cut.reason)
        close_after(conn.raw, cut.answer)
        self.drop(conn)

    def count_cut(self, reason: str) -> None:
        if reason:
            with self._lock:
                self._cuts[reason] = self._cuts.get(reason, 0) + 1

    def drop(self, conn: ClientConnection) -> None:
        with self._lock:
            self._reading.discard(conn)
            self._writing.discard(conn)
            with contextlib.suppress(KeyError, ValueError, OSError):
                self.poller.unregister(conn.raw)
            self.nr_conns -= 1
        conn.close()

    # A pool thread.

    def enqueue_req(self, conn: ClientConnection) -> None:
        transfer = conn.framing is not None and conn.framing.transfer
        if transfer and self.role == "front" and self.handoff and self.hand_over(conn):
            return
        future = (self.transfer_pool if transfer else self.tpool).submit(self.handle, conn)
        self._wrap_future(future, conn)

    def handle(self, conn: ClientConnection):
        """Serve the request the loop read, and any further one already in the buffer."""
        while True:
            stream = conn.sock = ClientStream(conn, self.limits)
            keepalive = self.handle_learning(conn, stream)
            if stream.cut_reason:
                self.count_cut(stream.cut_reason)
                return (False, conn)
            if not keepalive:
                return (False, conn)
            if not self.more_in_buffer(conn):
                conn.sock = conn.raw
                return (True, conn)

    def handle_one(self, conn: ClientConnection, stream: ClientStream) -> bool:
        parser = http.RequestParser(self.cfg, stream, conn.client)
        req = None
        try:
            req = next(parser)
            if not req or not self.handle_request(req, conn):
                return False
            # What the application left of the body: skipped to keep the connection (as
            # gunicorn's parser does before the next request), unless there is a lot of it.
            skipped = 0
            while data := req.body.read(65536):
                skipped += len(data)
                if skipped > DRAIN_MAX_BYTES or stream.cut_reason:
                    return False
            # Bytes past this request (a pipelined next one) go back to the loop's buffer.
            conn.buffer += parser.unreader.buf.getvalue() + stream.take_pending()
            return not stream.cut_reason
        except (http.errors.NoMoreData, StopIteration):
            return False
        except ssl.SSLError as exc:
            if exc.args[0] != ssl.SSL_ERROR_EOF:
                self.handle_error(req, stream, conn.client, exc)
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error processing request.")
            return False
        except Exception as exc:  # noqa: BLE001 - gunicorn answers it (400, 500) as gthread does
            self.handle_error(req, stream, conn.client, exc)
            return False

    def more_in_buffer(self, conn: ClientConnection) -> bool:
        """Whether the next request's head is already here (pipelining, or TLS records the
        selector cannot see): then this thread serves it too."""
        conn.begin(time.monotonic())
        conn.raw.setblocking(False)
        try:
            state = conn.read()
        except Cut:
            return False  # the loop sees the same and answers it
        return state == "ready" or (state == "closed" and bool(conn.buffer))

    def finish_request(self, fs):
        conn: ClientConnection = fs.conn
        try:
            keepalive = not fs.cancelled() and fs.result()[0] and self.alive
        except Exception:  # noqa: BLE001 - gthread's rule: whatever happened, close it
            keepalive = False
        if not keepalive:
            with self._lock:
                self.nr_conns -= 1
            conn.close()
            return
        conn.raw.setblocking(False)
        conn.events = selectors.EVENT_READ
        with self._lock:
            if conn.buffer:  # the start of the next request: its head is due from now
                self._reading.add(conn)
            else:
                conn.timeout = time.time() + self.limits.keepalive
                self._keep.append(conn)
            self.poller.register(conn.raw, selectors.EVENT_READ, partial(self.on_readable, conn))


def _metrics():
    # Imported once the application is loaded: prometheus_client must be imported after the
    # gunicorn config has set PROMETHEUS_MULTIPROC_DIR (config/metrics.py).
    from config import metrics

    return metrics


def _lower_priority(nice: int) -> None:
    """Lower the calling thread's CPU priority (on Linux a nice value is per thread)."""
    if nice > 0:
        thread = get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + nice)
