"""Benchmark: peak memory (RSS) of an import of 5,000 and of 50,000 orders, and their ratio.

    .venv/bin/python bench/import_memory.py [--small 5000] [--large 50000] [--page-size 100]

Each import runs in a fresh process of its own (so each peak is that import's alone): it
migrates a throw-away SQLite database (or uses DATABASE_URL: an empty, disposable database),
starts a sandbox Custom Store in another process with the orders, and imports them all with a
status mapping that leaves about a third of them unmapped (skipped with a reason, as a store
with a wrong mapping would be). The child prints its peak RSS before the import (Django and
ShipBridge loaded, migrated, one small import done) and after. The target: the large import's
peak ≤ 1.10 × the small one's."""
import argparse
import json
import os
import resource
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# "paid" and "shipped" are mapped; "unpaid", "on-hold" and "cancelled" (35 % of the sandbox's
# orders) are not: those orders are skipped, each with its reason.
MAPPING = {"paid": "awaiting_shipment", "shipped": "shipped"}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(orders: int, page_size: int) -> None:
    import _bench

    _bench.setup_django()
    from orders.importing import store_refresh
    from stores.sandbox.customstore import SANDBOX_PASSWORD, SANDBOX_PATH, SANDBOX_USERNAME
    from stores.services import store_create

    def start_sandbox(count: int):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        proc = subprocess.Popen(
            [sys.executable, "-m", "stores.sandbox.customstore", "--port", str(port), "--preset", "custom_store",
             "--orders", str(count), "--live-every", "0", "--page-size", str(page_size)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )
        proc.stdout.readline()  # printed once it listens
        return proc, {"url": f"http://127.0.0.1:{port}{SANDBOX_PATH}", "username": SANDBOX_USERNAME,
                      "password": SANDBOX_PASSWORD}

    def run_import(count: int, name: str):
        proc, settings = start_sandbox(count)
        try:
            store = store_create(connector="custom_store", name=name, settings=settings, status_mapping=MAPPING,
                                 create_products=True, update_products=True)
            run = store_refresh(store_id=store.pk)
        finally:
            proc.terminate()
            proc.wait(10)
        assert run.status == "succeeded", run.error
        return run

    warm = run_import(200, f"Warm-up {os.getpid()}")  # every code path loaded once
    before = peak_rss_mib()
    run = run_import(orders, f"Memory {orders} {os.getpid()}")
    assert run.imported + run.skipped == orders, (run.imported, run.skipped, orders)
    print(json.dumps({"orders": orders, "pages": run.pages, "imported": run.imported, "skipped": run.skipped,
                      "reasons_kept": len(run.skip_reasons), "warm_up_skipped": warm.skipped,
                      "peak_before_mib": round(before, 1), "peak_mib": round(peak_rss_mib(), 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=5000)
    parser.add_argument("--large", type=int, default=50000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.page_size)
        return
    results = {}
    for orders in (args.small, args.large):
        out = subprocess.run([sys.executable, __file__, "--child", str(orders), "--page-size", str(args.page_size)],
                             cwd=ROOT, check=True, capture_output=True, text=True).stdout
        results[orders] = json.loads(out.strip().splitlines()[-1])
    small, large = results[args.small], results[args.large]
    for r in (small, large):
        print(f"{r['orders']:>7} orders, {r['pages']} pages: {r['imported']} imported, {r['skipped']} skipped "
              f"({r['reasons_kept']} reasons kept); peak RSS {r['peak_mib']:.1f} MiB "
              f"(before the import: {r['peak_before_mib']:.1f} MiB)")
    ratio = large["peak_mib"] / small["peak_mib"]
    print(f"peak RSS ratio {args.large} / {args.small} orders: {ratio:.3f}  (target ≤ 1.10)")


if __name__ == "__main__":
    main()
