"""The measuring window the load generators share (RPC and HTTP): one definition of when a call counts."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable

import eventlet
from eventlet.event import Event


def cpu_seconds() -> float:
    """CPU this process has used: to show that the generator itself is not the limit."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Window:
    """From ``warmup`` seconds after every client has connected, for ``seconds``.

    Clients call ``ready()`` once connected (it returns when all are) and stop
    at ``end``; a call counts toward the rate when it ends inside the window,
    and its latency when it also began inside it.
    """

    def __init__(self, clients: int, warmup: float, seconds: float) -> None:
        self.clients, self.warmup, self.seconds = clients, warmup, seconds
        self.start = self.end = float("inf")
        self._opened = 0
        self._all_open, self._go = Event(), Event()

    def ready(self) -> None:
        self._opened += 1
        if self._opened == self.clients:
            self._all_open.send()
        self._go.wait()

    def run(self, client: Callable[[int], None]) -> float:
        """Run ``client(n)`` for every client; return the share of a core this process used inside the window."""
        pool = eventlet.GreenPool(self.clients)
        for n in range(self.clients):
            pool.spawn(client, n)
        self._all_open.wait()
        self.start = time.perf_counter() + self.warmup
        self.end = self.start + self.seconds
        self._go.send()
        eventlet.sleep(max(0.0, self.start - time.perf_counter()))
        cpu_before = cpu_seconds()
        eventlet.sleep(max(0.0, self.end - time.perf_counter()))
        cpu_share = (cpu_seconds() - cpu_before) / self.seconds
        pool.waitall()
        return cpu_share
