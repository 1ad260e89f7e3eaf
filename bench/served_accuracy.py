"""Served accuracy: what a new user gets, measured through the daemon's REST API only.

`argus serve` on a fresh data directory with its defaults; feed a fleet's history up to a
cutoff; `POST /admin/trigger-training` (the daemon's own training defaults) and wait for it;
then replay the rest tick by tick (each 5-minute tick is posted and its prediction cycle
awaited) and read `GET /predictions/current` after every cycle (`--read-every`). Each
served P50 at 1 h and 8 h is scored against naive (the last value fed) and seasonal naive
(the value a day before) on the same points, all clipped to 0-100 as fed: relative MASE =
the served median-over-servers MASE / the better baseline's, with a 90 % bootstrap interval
over servers; coverage = the share of actuals inside the served P10-P90.

The only setting changed is `ARGUS_CYCLE_CHECK_SECONDS` (how often the scheduler looks for a
new bucket), so that a replay does not wait 5 s a tick; forecasts do not depend on it. By
default six ticks are posted per cycle (`--ticks`): the serving layer keeps a forecast for
scoring once per 30 minutes of data, so what it learns is the same as with a cycle a tick, and
the replay is six times faster.

    PYTHONPATH=. python bench/served_accuracy.py --dataset bitbrains --days 7
    PYTHONPATH=. python bench/served_accuracy.py --dataset simulator --days 3
    PYTHONPATH=. python bench/served_accuracy.py --dataset asd --days 7
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import requests

from argus.catalogue import METRIC_NAMES
from argus.forecast.public_data import asd_feed, bitbrains_feed

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
KEY = "bench-key-0123456789abcdef"
HEADERS = {"X-API-Key": KEY}
SCORED = ("cpu_pct", "mem_pct")
HORIZONS = (12, 96)  # steps: 1 h and 8 h


def fleet(dataset: str, vms: int) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Feed-schema samples (0-100 clipped) and the cutoff the replay starts at."""
    if dataset == "simulator":
        from argus.simulate import simulate_fleet
        from argus.simulate.dataset import block_frame

        frame = block_frame(simulate_fleet(servers=45, days=17, seed=0).block)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).dt.tz_localize(None)
        return frame, frame["timestamp"].min() + pd.Timedelta(days=14)
    if dataset == "bitbrains":
        frame = bitbrains_feed(DATA / "bitbrains" / "bitbrains_rnd_dev.csv.gz", vms=vms)
        cutoff = pd.Timestamp("2013-08-20")
    else:
        frame = asd_feed(DATA / "asd")
        cutoff = frame["timestamp"].max() - pd.Timedelta(days=10)
    for col in METRIC_NAMES:
        frame[col] = frame[col].clip(0.0, 100.0) if col.endswith("_pct") else frame[col]
    frame["status"] = "healthy"
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    # a slot with a metric missing (Bitbrains: memory capacity 0) cannot be fed
    return frame.dropna(subset=list(METRIC_NAMES)), cutoff


def start(home: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "ARGUS_API_KEY": KEY, "ARGUS_RATE_LIMITS_ENABLED": "false",
           "ARGUS_LOG_LEVEL": "WARNING", "ARGUS_CYCLE_CHECK_SECONDS": "0.1"}
    cmd = [sys.executable, "-c", "from argus.cli.main import main; main()", "serve",
           "--port", "0", "--home", str(home)]
    proc = subprocess.Popen(cmd, env=env)
    runtime = home / "argus.runtime.json"
    while not runtime.exists():
        time.sleep(0.2)
    return proc, json.loads(runtime.read_text())["url"]


def post(session: requests.Session, url: str, part: pd.DataFrame) -> None:
    body = part.assign(timestamp=part["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    # a field the fleet does not report (NaN here: the simulator's optional ones) is left out
    records = [
        {k: v for k, v in r.items() if not (isinstance(v, float) and np.isnan(v))}
        for r in body.to_dict("records")
    ]
    resp = session.post(f"{url}/feed/data", json={"records": records}, timeout=300)
    resp.raise_for_status()


def train(session: requests.Session, url: str) -> dict:
    """Trigger a training and wait until its child has exited and the candidate was judged
    (promoted or kept): `live` stays true through running, finishing and evaluating."""
    session.post(f"{url}/admin/trigger-training", timeout=60).raise_for_status()
    while True:
        time.sleep(5)
        status = session.get(f"{url}/admin/training-status", timeout=30).json()
        if not status.get("live"):
            return status


def cycles(session: requests.Session, url: str) -> int:
    return int(session.get(f"{url}/status", timeout=30).json()["prediction_cycles"])


def wait_cycle(session: requests.Session, url: str, before: int) -> None:
    """Until a prediction cycle has finished since `before` cycles were counted."""
    while cycles(session, url) <= before:
        time.sleep(0.05)


def current(session: requests.Session, url: str, tick: pd.Timestamp) -> dict:
    """`/predictions/current` once its cycle has seen `tick`."""
    while True:
        body = session.get(f"{url}/predictions/current", timeout=60).json()
        stamp = body.get("timestamp")
        if stamp and pd.Timestamp(stamp).tz_localize(None) >= tick:
            return body
        time.sleep(0.1)


def served_points(body: dict) -> list[dict]:
    """Per server, target and horizon: the served P10/P50/P90 and the target time."""
    out = []
    for name, pred in body["predictions"].items():
        stamps = pred["forecast"]["timestamps"]
        for target in SCORED:
            for h in HORIZONS:
                out.append({
                    "server": name, "target": target, "h": h,
                    "time": pd.Timestamp(stamps[h - 1]).tz_localize(None),
                    "p10": pred["forecast"]["p10"][target][h - 1],
                    "p50": pred["forecast"][target][h - 1],
                    "p90": pred["forecast"]["p90"][target][h - 1], "model": pred.get("model", ""),
                })
    return out


def servers_interval(per_server: np.ndarray, draws: int = 2000) -> list[float]:
    """A 90 % bootstrap interval of the relative MASE over servers: rows (served, naive,
    seasonal) of per-server means, resampled. A median over a few dozen servers whose errors
    are bimodal (idle ones far under 1, busy ones at several) moves with the draw of servers;
    this says how far."""
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(per_server), (draws, len(per_server)))
    med = np.nanmedian(per_server[picks], axis=1)  # (draws, 3)
    relative = med[:, 0] / np.minimum(med[:, 1], med[:, 2])
    return [round(float(q), 3) for q in np.nanpercentile(relative, [5, 95])]


def score(points: list[dict], frame: pd.DataFrame) -> dict:
    """Relative MASE and coverage per target and horizon on the served points."""
    truth = frame.assign(cpu_pct=100.0 - frame["cpu_idle_pct"], mem_pct=frame["mem_used_pct"])
    truth = truth.set_index(["server_name", "timestamp"])[list(SCORED)].sort_index()
    rows = []
    for p in points:
        origin = p["time"] - pd.Timedelta(minutes=5 * p["h"])
        try:
            hist = truth.loc[p["server"]][p["target"]]
        except KeyError:
            continue
        before = hist[(hist.index <= origin) & (hist.index > origin - pd.Timedelta(days=7))]
        actual = hist.get(p["time"])
        day_ago = hist.get(p["time"] - pd.Timedelta(days=1))
        if actual is None or not len(before) or not np.isfinite(actual):
            continue
        scale = float(np.abs(np.diff(before.to_numpy())).mean()) if len(before) > 1 else 0.0
        if scale < 1e-9:
            continue
        rows.append({
            "server": p["server"], "target": p["target"], "h": p["h"],
            "served": abs(p["p50"] - actual) / scale,
            "naive": abs(before.iloc[-1] - actual) / scale,
            "seasonal": np.nan if day_ago is None else abs(day_ago - actual) / scale,
            "covered": p["p10"] <= actual <= p["p90"],
        })
    table = pd.DataFrame(rows)
    out = {}
    for (target, h), part in table.groupby(["target", "h"]):
        per_server = part.groupby("server")[["served", "naive", "seasonal"]].mean()
        med = per_server.median()
        out[f"{target} {h * 5 // 60}h"] = {
            "relative_mase": round(float(med["served"] / min(med["naive"], med["seasonal"])), 3),
            "relative_mase_90ci": servers_interval(per_server.to_numpy()),
            "served": round(float(med["served"]), 3),
            "naive": round(float(med["naive"]), 3),
            "seasonal_naive": round(float(med["seasonal"]), 3),
            "coverage_p10_p90": round(float(part["covered"].mean()), 3),
            "points": len(part),
        }
    return out


def replay(session: requests.Session, url: str, frame: pd.DataFrame, cutoff: pd.Timestamp,
           days: float, ticks: int, read_every: int) -> list[dict]:
    """Post `ticks` 5-minute ticks at a time, each batch followed by its cycle; read the served
    forecasts every `read_every` ticks."""
    end = cutoff + pd.Timedelta(days=days)
    later = frame[(frame["timestamp"] >= cutoff) & (frame["timestamp"] < end)]
    stamps = sorted(later["timestamp"].unique())
    points: list[dict] = []
    for i in range(0, len(stamps), ticks):
        batch = stamps[i : i + ticks]
        before = cycles(session, url)
        post(session, url, later[later["timestamp"].isin(batch)])
        if i % read_every == 0:
            points.extend(served_points(current(session, url, pd.Timestamp(batch[-1]))))
        else:
            wait_cycle(session, url, before)
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=("bitbrains", "asd", "simulator"), default="bitbrains")
    parser.add_argument("--vms", type=int, default=30, help="Bitbrains VMs (the first N)")
    parser.add_argument("--days", type=float, default=7.0, help="days replayed after the cutoff")
    parser.add_argument(
        "--ticks", type=int, default=6,
        help="5-minute ticks posted per cycle (6: a cycle per 30 minutes of data, as often as "
        "the serving layer keeps forecasts for scoring; 1: every tick, as live)",
    )
    parser.add_argument(
        "--read-every", type=float, default=0.5,
        help="hours between reads of the served forecasts (each read is scored at 1 h and 8 h); "
        "0.5: every cycle, so every phase of the hour counts (hourly reads score one phase: "
        "on 30 Bitbrains VMs over 3 days of July, CPU at 1 h was 0.95 from one and 0.78 from "
        "both)",
    )
    args = parser.parse_args()
    read_every = max(args.ticks, int(round(args.read_every * 12 / args.ticks)) * args.ticks)
    frame, cutoff = fleet(args.dataset, args.vms)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="argus-served-") as tmp:
        proc, url = start(Path(tmp))
        session = requests.Session()
        session.headers.update(HEADERS)
        try:
            # in time order, as a fleet reports: the feed refuses records older than the
            # retention window before the newest stored one
            history = frame[frame["timestamp"] < cutoff].sort_values("timestamp", kind="stable")
            for lo in range(0, len(history), 5000):
                post(session, url, history.iloc[lo : lo + 5000])
            trained = time.perf_counter()
            status = train(session, url)
            training_s = time.perf_counter() - trained
            points = replay(session, url, frame, cutoff, args.days, args.ticks, read_every)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    models = sorted({p["model"] for p in points})
    print(json.dumps({
        "dataset": args.dataset, "cutoff": str(cutoff), "days": args.days,
        "training": {"status": status.get("status"), "seconds": round(training_s),
                     "detail": status.get("detail") or status.get("message")},
        "models_served": models, "seconds": round(time.perf_counter() - began),
        **score(points, frame),
    }, indent=2))


if __name__ == "__main__":
    main()
