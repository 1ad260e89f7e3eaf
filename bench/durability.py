"""Kill -9 a daemon at random moments while it is fed; count acknowledged records lost.

One data dir, N trials: start `argus serve`, feed batches from a thread, kill -9 after a random
delay, repeat. Every record the daemon answered 200 for is "acknowledged". At the end the daemon
is stopped cleanly and the DuckDB file is read directly: every acknowledged (server, timestamp)
must be there. Prints one JSON line; exit status 1 if any acknowledged record is missing.

Usage: PYTHONPATH=. python bench/durability.py [--kills 5] [--servers 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_daemon import Daemon, record  # noqa: E402

from argus.storage.store import DB_FILE_NAME, Store  # noqa: E402

START = datetime(2025, 1, 15)


def feed_until_killed(daemon: Daemon, servers: int, step: list[int], acked: set) -> None:
    """Post one 5-minute step of every server per request until the daemon stops answering."""
    session = requests.Session()
    while True:
        ts = START + timedelta(minutes=5 * step[0])
        batch = [record(f"ppweb{s:04d}", ts, step[0]) for s in range(servers)]
        try:
            resp = session.post(daemon.url + "/feed/data", json={"records": batch},
                                headers=daemon.headers, timeout=10)  # fmt: skip
        except requests.RequestException:
            return  # killed mid-request: not acknowledged, may or may not be stored
        if resp.status_code == 200:
            acked.update((r["server_name"], ts) for r in batch)
        step[0] += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--servers", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    acked: set[tuple[str, datetime]] = set()
    step = [0]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="argus-durability-") as tmp:
        home = Path(tmp) / "home"
        for _ in range(args.kills):
            daemon = Daemon(home, {"ARGUS_CYCLE_CHECK_SECONDS": "1"}).start()
            feeder = threading.Thread(
                target=feed_until_killed, args=(daemon, args.servers, step, acked)
            )
            feeder.start()
            time.sleep(rng.uniform(0.5, 4.0))
            daemon.stop(signal.SIGKILL)
            feeder.join()
            step[0] += 1  # the batch in flight may or may not have been stored: skip its time
        daemon = Daemon(home, {}).start()
        clean = daemon.stop()
        store = Store.open(home / DB_FILE_NAME, read_only=True)
        with store.reader() as cur:
            stored = set(cur.execute("SELECT server_name, ts FROM metrics").fetchall())
        store.close()
    lost = len(acked - stored)
    print(json.dumps({
        "kills": args.kills, "servers": args.servers, "acknowledged": len(acked),
        "stored": len(stored), "lost": lost, "clean_exit_after": clean,
        "seconds": round(time.monotonic() - started, 1),
    }))  # fmt: skip
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
