"""What the benchmarks share: Django set up as in production (DEBUG off, throw-away keys, a
throw-away SQLite database unless DATABASE_URL names a disposable one), sandbox stores started in
their own process (as a real store would run), statement counting, and the report lines.

Not a test and not imported by ShipBridge: `bench/*.py` import it as `_bench`."""
from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def setup_django(*, migrate: bool = True) -> None:
    """Settings as in production, from a throw-away directory, with keys made for this run."""
    os.environ.setdefault("SHIPBRIDGE_VAR_DIR", tempfile.mkdtemp(prefix="shipbridge-bench-"))
    os.environ["DEBUG"] = "false"
    from shipbridge.keys import new_fernet_key, new_secret_key  # no key ships with ShipBridge

    os.environ.setdefault("SECRET_KEY", new_secret_key())
    os.environ.setdefault("SHIPBRIDGE_ENCRYPTION_KEYS", new_fernet_key())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shipbridge.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("SHIPBRIDGE_EGRESS_ALLOW", "127.0.0.1")  # the sandbox stores' address
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def sandbox_process(code: str):
    """Run `code` (Python that starts a sandbox and prints its URL on one line, then serves) in
    its own process; yield the URL it printed; stop the process afterwards."""
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline().strip()
        if not line:
            raise RuntimeError("the sandbox process did not start")
        yield line
    finally:
        process.terminate()
        process.wait(10)


class StatementCounter:
    """Counts the SQL statements run on the default connection (an execute wrapper: no per-query
    record, so it costs next to nothing while a run is timed)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)

    @contextlib.contextmanager
    def counting(self):
        from django.db import connection

        with connection.execute_wrapper(self):
            yield self


class Clock:
    """Wall-clock and CPU time (this process, all its threads) of what runs in `timing()`, one
    figure of each per use. The CPU time shows what ShipBridge itself spends, whatever the
    sandbox store (another process) costs."""

    def __init__(self):
        self.wall: list[float] = []
        self.cpu: list[float] = []

    @contextlib.contextmanager
    def timing(self):
        import time

        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.wall.append(time.perf_counter() - wall)
        self.cpu.append(time.process_time() - cpu)


def cpu_line(floor: Clock, figures: dict[str, Clock]) -> None:
    """The median CPU seconds of this process for the floor and each figure, with their ratios."""
    floor_cpu = median(floor.cpu)
    parts = [f"floor {floor_cpu:.2f} s"] + [
        f"{name} {median(clock.cpu):.2f} s ({median(clock.cpu) / floor_cpu:.2f}×)" for name, clock in figures.items()]
    line("CPU of this process (medians):", " · ".join(parts))


def median(values: list[float]) -> float:
    return statistics.median(values)


def database_words() -> str:
    from django.db import connection

    return f"{connection.vendor} ({connection.settings_dict['NAME']})" if connection.vendor == "postgresql" \
        else connection.vendor


def line(label: str, value: str) -> None:
    print(f"{label:<34}{value}", flush=True)
