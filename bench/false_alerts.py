"""False alerts and early warning of the served forecasts, through the daemon's cycle path.

Replays fleets through forecaster -> risk -> alerts exactly as the daemon's prediction cycle
does (argus.replay, every 15 minutes, alerts carried over), the forecaster being what the
daemon serves: `ServingForecaster` around a saved model (`--home`/`--model`) or around none
(a fresh daemon). Cases:

- simulator: 45 servers, an 8-day backfill, then 3 days replayed; incidents at the
  simulator's default rate. Reports the share of incidents whose metric Argus forecasts that
  were alerted at least 30 minutes before the breach, the median lead, and false alerts.
- bitbrains: the 50 VMs (10 of them near-idle) for `--days` days from `--start`; no labels,
  so a false alert is one whose server saw no critical breach within the next 8 hours.
- leak_yesterday: the simulator's fleet where ppdb001 leaked memory to exhaustion yesterday
  and was restarted; today is calm, so every alert on it is false.

A false alert is a warning-or-critical opening with no critical breach of any forecast metric
on that server in the 8 hours after it (and, on the simulator, outside every labelled incident).

    PYTHONPATH=. python bench/false_alerts.py simulator bitbrains leak_yesterday
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from argus.alert_eval import LabelledIncident, early_warning
from argus.alerts import RANK
from argus.catalogue import TARGETS
from argus.forecast.public_data import bitbrains_feed
from argus.forecast.serving import ServingForecaster
from argus.replay import breach_outcomes, origins_between, prepare, replay
from argus.simulate import Simulator, simulate_fleet
from argus.simulate.dataset import block_frame
from argus.simulate.incidents import KINDS
from argus.thresholds import Level

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
EVERY = 15  # minutes between cycles


def parse(ts: str | None) -> datetime | None:
    return None if ts is None else datetime.fromisoformat(ts.replace("Z", ""))


def alert_openings(steps) -> list[tuple[str, datetime]]:  # type: ignore[no-untyped-def]
    """(server, time) of every transition into warning or higher, after the first cycle."""
    first = steps[0].at
    return [
        (e.server_name, e.at)
        for s in steps
        for e in s.events
        if RANK[e.level] >= RANK[Level.WARNING] > RANK[e.previous_level] and e.at > first
    ]


def unbreached(frame: pd.DataFrame, openings: list[tuple[str, datetime]]) -> list:
    """The openings after which their server saw no critical breach within 8 hours."""
    outcome = breach_outcomes(frame, sorted({t for _, t in openings}), timedelta(hours=8))
    return [(s, t) for s, t in openings if not outcome[(t, s)]]


def run(frame: pd.DataFrame, model: object, start: datetime, end: datetime) -> tuple:
    serving = ServingForecaster(model)  # type: ignore[arg-type]
    began = time.perf_counter()
    steps = replay(frame, serving, origins_between(start, end, EVERY))
    return steps, round(time.perf_counter() - began, 1)


def simulator_case(model: object, seed: int) -> dict:
    sim = simulate_fleet(servers=45, days=11, seed=seed)
    frame = prepare(block_frame(sim.block))
    start = (frame["timestamp"].min() + timedelta(days=8)).to_pydatetime()
    end = frame["timestamp"].max().to_pydatetime() - timedelta(hours=8)
    steps, seconds = run(frame, model, start, end)
    incidents = [
        LabelledIncident(i.server, parse(i.onset), parse(i.breach), parse(i.end))  # type: ignore[arg-type]
        for i in sim.labels.incidents
    ]
    watched = [
        inc for inc, label in zip(incidents, sim.labels.incidents, strict=True)
        if KINDS[label.kind].metric in TARGETS
    ]
    ew = early_warning(steps, watched, 45)
    labelled_false = early_warning(steps, incidents, 45)
    openings = alert_openings(steps)
    false = [
        (s, t) for s, t in unbreached(frame, openings)
        if not any(i.server == s and i.onset - timedelta(hours=1) <= t <= i.end for i in incidents)
    ]
    days = (end - start).total_seconds() / 86400
    return {
        "seconds": seconds, "server_days": round(45 * days, 1),
        "incidents_forecastable": ew.incidents,
        "alerted_30m_before": ew.caught_30m,
        "share_alerted_30m_before": round(ew.caught_30m / max(ew.incidents, 1), 3),
        "median_lead_minutes": statistics.median(ew.lead_minutes) if ew.lead_minutes else None,
        "false_alerts": len(false),
        "false_per_server_day": round(len(false) / (45 * days), 3),
        "outside_labels_per_server_day": round(labelled_false.false_per_server_day, 3),
    }


def bitbrains_case(model: object, start: str, days: float) -> dict:
    frame = bitbrains_feed(DATA / "bitbrains" / "bitbrains_rnd_dev.csv.gz")
    for col in ("cpu_idle_pct", "mem_used_pct"):
        frame[col] = frame[col].clip(0.0, 100.0)
    frame["profile"] = "Generic"
    frame["status"] = "healthy"
    frame = prepare(frame)
    first = pd.Timestamp(start).to_pydatetime()
    last = first + timedelta(days=days)
    steps, seconds = run(frame[frame["timestamp"] < last + timedelta(hours=8)], model, first, last)
    false = unbreached(frame, alert_openings(steps))
    servers = frame["server_name"].nunique()
    idle = {
        name for name, rows in frame.groupby("server_name")
        if (100.0 - rows["cpu_idle_pct"]).quantile(0.99) < 5.0
    }
    return {
        "seconds": seconds, "servers": servers, "near_idle_servers": len(idle),
        "server_days": round(servers * days, 1), "false_alerts": len(false),
        "false_per_server_day": round(len(false) / (servers * days), 3),
        "false_on_near_idle": sum(s in idle for s, _ in false),
    }


def leak_yesterday_case(model: object) -> dict:
    sim = Simulator.create(12, seed=3)
    calm = sim.advance(7 * 288)
    sim.inject("ppdb001", "memory_leak", lead_minutes=240)
    leak = sim.advance(72)
    after = sim.advance(288 + 96)  # the restart, then a calm day
    frame = prepare(pd.concat([block_frame(b) for b in (calm, leak, after)], ignore_index=True))
    end = frame["timestamp"].max().to_pydatetime() - timedelta(hours=8)
    start = end - timedelta(hours=16)
    steps, seconds = run(frame, model, start, end)
    on_leaky = [(s, t) for s, t in alert_openings(steps) if s == "ppdb001"]
    return {"seconds": seconds, "alerts_on_yesterdays_leaker": len(on_leaky),
            "false_on_it": len(unbreached(frame, on_leaky))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("cases", nargs="+", choices=("simulator", "bitbrains", "leak_yesterday"))
    ap.add_argument("--home", type=Path, help="data dir holding --model (default: no model)")
    ap.add_argument("--model")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", default="2013-08-20", help="bitbrains: first replayed day")
    ap.add_argument("--days", type=float, default=5.0, help="bitbrains: days replayed")
    args = ap.parse_args()
    model = None
    if args.model:
        from argus.forecast.artifacts import load_model, models_dir_for

        model = load_model(models_dir_for(args.home), args.model)
    out: dict = {"model": getattr(model, "name", "none (fresh daemon)")}
    for case in args.cases:
        if case == "simulator":
            out[case] = simulator_case(model, args.seed)
        elif case == "bitbrains":
            out[case] = bitbrains_case(model, args.start, args.days)
        else:
            out[case] = leak_yesterday_case(model)
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
