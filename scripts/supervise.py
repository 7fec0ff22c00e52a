"""Keep Dockyard's processes running side by side; stop them all, promptly, on a signal.

    supervise.py NAME COMMAND [ARG...] [:: NAME COMMAND [ARG...]]...

A program that exits on its own is logged and started again (after 1 s, doubling up to 30 s
while it keeps dying within 10 s of its start); the others keep running. One that exits with
status 78 (EX_CONFIG: it cannot run as configured, e.g. gunicorn finding its port taken) ends
the whole group at once with status 1; one that fails MAX_QUICK_FAILURES times in a row within
seconds of starting (a broken configuration) ends it with its exit status: no looping forever.
SIGTERM, SIGINT or SIGHUP stop every program with SIGTERM; whatever still runs after
STOP_GRACE_SECONDS is killed, so the group is gone within that time plus a moment.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

QUICK_SECONDS = 10.0
MAX_QUICK_FAILURES = 5
MAX_BACKOFF_SECONDS = 30.0
CANNOT_RUN_AS_CONFIGURED = 78  # config.serving.EXIT_CANNOT_SERVE


def log(message: str) -> None:
    print(f"supervise: {message}", file=sys.stderr, flush=True)


def describe(returncode: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exited with status {returncode}"


class Program:
    def __init__(self, name: str, argv: list[str]):
        self.name, self.argv = name, argv
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.restart_at = 0.0
        self.quick_failures = 0

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv)  # noqa: S603 - our own fixed commands
        self.started_at = time.monotonic()
        log(f"{self.name} started (pid {self.process.pid})")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def parse(argv: list[str]) -> list[Program]:
    programs, current = [], []
    for arg in [*argv, "::"]:
        if arg != "::":
            current.append(arg)
            continue
        if len(current) < 2:
            raise SystemExit(__doc__)
        programs.append(Program(current[0], current[1:]))
        current = []
    return programs


class Supervisor:
    def __init__(self, programs: list[Program], grace: float):
        self.programs, self.grace = programs, grace
        self.stopping = False

    def _on_signal(self, signum, frame) -> None:
        if not self.stopping:
            log(f"{signal.Signals(signum).name}: stopping")
        self.stopping = True

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        for program in self.programs:
            program.start()
        status = 0
        while not self.stopping:
            status = self._reap_and_restart()
            if status:
                break
            time.sleep(0.2)
        self._stop_all()
        return status

    def _reap_and_restart(self) -> int:
        now = time.monotonic()
        for program in self.programs:
            if program.process is None:
                if now >= program.restart_at:
                    program.start()
                continue
            returncode = program.process.poll()
            if returncode is None:
                continue
            if returncode == CANNOT_RUN_AS_CONFIGURED:
                log(f"{program.name} cannot run as configured (status {returncode}): stopping")
                return 1
            quick = now - program.started_at < QUICK_SECONDS
            program.quick_failures = program.quick_failures + 1 if quick else 0
            if program.quick_failures >= MAX_QUICK_FAILURES:
                log(f"{program.name} {describe(returncode)}; it keeps failing, giving up")
                return returncode if returncode > 0 else 1
            delay = min(MAX_BACKOFF_SECONDS, 2.0 ** max(program.quick_failures - 1, 0))
            log(f"{program.name} {describe(returncode)}; restarting in {delay:.0f} s")
            program.process, program.restart_at = None, now + delay
        return 0

    def _stop_all(self) -> None:
        running = [program for program in self.programs if program.running()]
        for program in running:
            program.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for program in running:
            try:
                program.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{program.name} still running after {self.grace:.0f} s: killing it")
                program.process.kill()
                program.process.wait()


def main() -> int:
    programs = parse(sys.argv[1:])
    grace = float(os.environ.get("STOP_GRACE_SECONDS", "10"))
    return Supervisor(programs, grace).run()


if __name__ == "__main__":
    sys.exit(main())
