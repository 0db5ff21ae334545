"""What the benchmarks share: Django set up as in production (DEBUG off, throw-away keys, a
throw-away SQLite database unless DATABASE_URL names a disposable one), sandbox stores started in
their own process (as a real store would run), statement counting, and the report lines.

Not a test and not imported by ShipBridge: `bench/*.py` import it as `_bench`."""
from __future__ import annotations

import atexit
import contextlib
import os
import shutil
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
    if "SHIPBRIDGE_VAR_DIR" not in os.environ:  # a throw-away folder, removed when the benchmark ends
        folder = tempfile.mkdtemp(prefix="shipbridge-bench-")
        atexit.register(shutil.rmtree, folder, True)
        os.environ["SHIPBRIDGE_VAR_DIR"] = folder
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


class ImportFigures:
    """What the import benchmarks measure: the floor, the full import and the re-import of the
    same, unchanged orders (Clocks), and the last run's floor result, runs and statements."""

    def __init__(self):
        self.floors, self.fulls, self.again = Clock(), Clock(), Clock()
        self.floor_result = self.run = self.rerun = None
        self.full_statements = self.again_statements = 0


def import_runs(repeat: int, connector: str, settings: dict, prepare) -> ImportFigures:
    """`repeat` times: a new store of `connector`; `prepare(store)` -> (since, floor), floor being
    what the floor does (timed); then store_refresh(since=…) into the empty store and once more
    over the same window (every order unchanged), each timed and its statements counted. The
    store and what it imported are deleted after each run."""
    from orders.importing import store_refresh
    from orders.models import Order, Product
    from stores.services import store_create

    figures = ImportFigures()
    for n in range(repeat):
        store = store_create(connector=connector, name=f"Bench {os.getpid()}-{n}", settings=settings,
                             status_mapping=None, create_products=True, update_products=True)
        since, floor = prepare(store)
        with figures.floors.timing():
            figures.floor_result = floor()
        counter = StatementCounter()
        with counter.counting(), figures.fulls.timing():
            run = store_refresh(store_id=store.pk, since=since)
        assert run.status == "succeeded", run.error
        figures.run, figures.full_statements = run, counter.count
        counter = StatementCounter()
        with counter.counting(), figures.again.timing():
            again = store_refresh(store_id=store.pk, since=since)
        assert again.status == "succeeded", again.error
        assert again.unchanged == run.imported and again.imported == again.updated == 0, (
            again.unchanged, again.imported, again.updated)
        figures.rerun, figures.again_statements = again, counter.count
        print(f"  run {n + 1}: floor {figures.floors.wall[-1]:.3f} s · full {figures.fulls.wall[-1]:.3f} s · "
              f"unchanged {figures.again.wall[-1]:.3f} s", file=sys.stderr, flush=True)
        Order.objects.filter(store=store).delete()
        Product.objects.filter(merchant_id=store.merchant_id).delete()
        store.delete()
    return figures


def import_report(figures: ImportFigures, *, repeat: int, what: tuple[str, str], floor_label: str,
                  full_target: float, again_target: float | None, again_label: str) -> None:
    """The report of import_runs: medians, ratios to the floor (and of the best runs), CPU time,
    statements per page."""
    floor_s, full_s, again_s = (median(clock.wall) for clock in (figures.floors, figures.fulls, figures.again))
    best = lambda clock: min(clock.wall) / min(figures.floors.wall)  # noqa: E731
    pages = figures.run.pages
    line("database:", database_words())
    line(*what)
    line(floor_label, f"{floor_s:.3f} s (median of {repeat} runs; the ratios compare medians, and the best runs)")
    line("full import:", f"{full_s:.3f} s")
    line(again_label, f"{again_s:.3f} s")
    line("ratio full / floor:", f"{full_s / floor_s:.2f}  (target ≤ {full_target}; best runs {best(figures.fulls):.2f})")
    target = f"target ≤ {again_target}; " if again_target else ""
    line("ratio unchanged / floor:", f"{again_s / floor_s:.2f}  ({target}best runs {best(figures.again):.2f})")
    cpu_line(figures.floors, {"full import": figures.fulls, "re-import": figures.again})
    line("statements, full import:", f"{figures.full_statements} ({figures.full_statements / pages:.1f} per page)")
    line("statements, re-import:", f"{figures.again_statements} ({figures.again_statements / pages:.1f} per page)")


def median(values: list[float]) -> float:
    return statistics.median(values)


def database_words() -> str:
    from django.db import connection

    return f"{connection.vendor} ({connection.settings_dict['NAME']})" if connection.vendor == "postgresql" \
        else connection.vendor


def line(label: str, value: str) -> None:
    print(f"{label:<34}{value}", flush=True)
