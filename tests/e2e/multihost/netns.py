"""Network namespaces on one switch: each "host" of the multi-host proof gets its own.

Topology: a switch namespace holds a Linux bridge; every host namespace is joined to it by a veth
pair (`eth0` inside the host, a bridge port inside the switch), and one more veth joins the root
namespace, where the test process (the clients, the webhook receiver) lives. The subnet
(10.231.<n>.0/24) exists only on these interfaces: nothing outside the namespaces is reachable
through it, and nothing outside can reach it.

Every name starts with the run id (`dymh` + 4 hex digits), so concurrent runs never clash, and a
pid file under STATE_DIR says which process owns a run: `sweep_leftovers()` removes the
namespaces, interfaces, processes and files of runs whose owner is dead (a crashed or killed run).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path

STATE_DIR = Path("/tmp/dockyard-multihost")
# `dymh` (Dockyard multi-host) + 4 hex digits: other suites' namespaces never match it.
RUN_PREFIX = "dymh"
RUN_ID = re.compile(rf"^{RUN_PREFIX}[0-9a-f]{{4}}$")
SUBNET_PREFIX = "10.231"


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result


def namespaces() -> list[str]:
    listing = ip("netns", "list", check=False).stdout
    return [line.split()[0] for line in listing.splitlines() if line.strip()]


def namespace_pids(name: str) -> list[int]:
    listing = ip("netns", "pids", name, check=False).stdout
    return [int(pid) for pid in listing.split() if pid.isdigit()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_run(run_id: str) -> None:
    """Kill every process inside the run's namespaces, delete them, its root veth and files."""
    owned = [name for name in namespaces() if name.startswith(f"{run_id}-")]
    for _ in range(3):  # a dying supervisor may still fork; look again
        pids = [pid for name in owned for pid in namespace_pids(name)]
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
    for name in owned:
        ip("netns", "delete", name, check=False)
    ip("link", "delete", f"{run_id}r", check=False)  # the root end; its peer goes with it
    shutil.rmtree(STATE_DIR / run_id, ignore_errors=True)
    (STATE_DIR / f"{run_id}.pid").unlink(missing_ok=True)


def sweep_leftovers() -> list[str]:
    """Remove what runs whose owning process is gone left behind; return their ids."""
    ids = {name.split("-", 1)[0] for name in namespaces() if "-" in name}
    links = ip("-o", "link", "show", check=False).stdout
    ids |= {
        m.group(1) for m in re.finditer(rf"^\d+: ({RUN_PREFIX}[0-9a-f]{{4}})r[@:]", links, re.M)
    }
    if STATE_DIR.is_dir():
        ids |= {path.name.split(".")[0] for path in STATE_DIR.iterdir()}
    removed = []
    for run_id in sorted(i for i in ids if RUN_ID.match(i)):
        pid_file = STATE_DIR / f"{run_id}.pid"
        try:
            owner = int(pid_file.read_text())
        except (OSError, ValueError):
            owner = 0
        if owner and owner != os.getpid() and _alive(owner):
            continue  # another session's live run
        remove_run(run_id)
        removed.append(run_id)
    return removed


def _free_subnet() -> ipaddress.IPv4Network:
    """A 10.231.<n>.0/24 that no route of the root namespace uses yet."""
    routes = ip("-4", "route", "show", "table", "all", check=False).stdout
    used = {int(m.group(1)) for m in re.finditer(rf"{SUBNET_PREFIX}\.(\d+)\.", routes)}
    free = [n for n in range(1, 255) if n not in used]
    if not free:
        raise RuntimeError(f"no free {SUBNET_PREFIX}.<n>.0/24 subnet")
    return ipaddress.ip_network(f"{SUBNET_PREFIX}.{secrets.choice(free)}.0/24")


class Network:
    """One run's switch, its hosts and the root namespace's port on it."""

    def __init__(self):
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        STATE_DIR.chmod(0o755)  # PostgreSQL runs as `postgres` under it; tests run with umask 077
        while True:
            self.run_id = f"{RUN_PREFIX}{secrets.token_hex(2)}"
            pid_file = STATE_DIR / f"{self.run_id}.pid"
            try:
                with open(pid_file, "x") as fh:  # claims the id against a concurrent run
                    fh.write(str(os.getpid()))
                break
            except FileExistsError:
                continue
        self.dir = STATE_DIR / self.run_id
        self.dir.mkdir()
        self.dir.chmod(0o755)
        self.subnet = _free_subnet()
        self.switch = f"{self.run_id}-sw"
        self.hosts: dict[str, str] = {}  # namespace name -> address
        self.root_address = ""

    def address(self, number: int) -> str:
        return str(self.subnet.network_address + number)

    def create(self) -> Network:
        prefix = self.subnet.prefixlen
        ip("netns", "add", self.switch)
        ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        ip("-n", self.switch, "link", "set", "br0", "up")
        ip("-n", self.switch, "link", "set", "lo", "up")
        root_end = f"{self.run_id}r"
        ip("link", "add", root_end, "type", "veth", "peer", "name", "root", "netns", self.switch)
        self.root_address = self.address(1)
        ip("addr", "add", f"{self.root_address}/{prefix}", "dev", root_end)
        ip("link", "set", root_end, "up")
        self._attach_port("root")
        return self

    def _attach_port(self, port: str) -> None:
        ip("-n", self.switch, "link", "set", port, "master", "br0")
        ip("-n", self.switch, "link", "set", port, "up")

    def add_host(self, role: str, number: int) -> str:
        """A namespace `<run>-<role>` with address .<number> on eth0; returns its name."""
        name = f"{self.run_id}-{role}"
        address = self.address(number)
        ip("netns", "add", name)
        ip(
            "link", "add", "eth0", "netns", name, "type", "veth",
            "peer", "name", role, "netns", self.switch,
        )  # fmt: skip
        self._attach_port(role)
        ip("-n", name, "addr", "add", f"{address}/{self.subnet.prefixlen}", "dev", "eth0")
        ip("-n", name, "link", "set", "eth0", "up")
        ip("-n", name, "link", "set", "lo", "up")
        self.hosts[name] = address
        return name

    def remove(self) -> None:
        remove_run(self.run_id)
