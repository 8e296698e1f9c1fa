"""The benchmark's own database and vhost (a sandbox), made fresh for each run."""

from __future__ import annotations

import os

from shared.runtime.process import sandbox
from shared.runtime.process.sandbox import Sandbox as BenchEnvironment
from shared.runtime.process.sandbox import destroy


def create() -> BenchEnvironment:
    return sandbox.create(f"orgwork_bench_{os.getpid()}", ("bench_source", "bench_sink"))


__all__ = ["BenchEnvironment", "create", "destroy"]
