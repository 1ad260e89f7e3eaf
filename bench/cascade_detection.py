"""Cascade detection on real and simulated fleets: recall, precision, false alerts, origin, cost.

Replays each dataset bucket by bucket through the same code the daemon runs after every
prediction cycle (argus.cascade: baseline scores, then the rules on the window ending "now"), and
counts an alert whenever a new cascade episode starts (as the daemon files them:
argus.cascade.episodes, one per incident).

Usage: python bench/cascade_detection.py [asd] [bitbrains] [simulator] [cost] [--train]
       [--set name=value] [--seeds N] [--seed-start N]
  asd        ASD servers: 30 unlabelled days give the baselines, the 7.5 labelled days are scored
  bitbrains  Bitbrains VMs: every alert on these ordinary days is false
  simulator  argus.simulate fleets with labelled cascades: recall and detection delay
  cost       seconds per detection for 45 / 200 / 1000 servers on a 7-day window (without and
             with a cascade in it), and of the daemon's input path (window grid -> cube) for
             100 and 1000
  --train    ASD: report alerts on the unlabelled training days instead (for choosing settings)
  --seed-start N  simulator: first seed; 3 with --seeds 3 are the tuning fleets, 0-2 the
             evaluated ones
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from argus.cascade import (
    CascadeSettings,
    MetricCube,
    detect,
    earlier_signals,
    find_groups,
    from_frame,
    result_from_findings,
    signals,
)
from argus.cascade.baseline import day_over_day_scale, scale_floor
from argus.cascade.cube import STEPS_PER_DAY
from argus.cascade.dependencies import upstream_servers
from argus.cascade.episodes import Episode, track

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ASD_START = datetime(2025, 1, 1)  # ASD has steps, not times: any midnight works
ASD_TRAIN_STEPS = 8640  # 30 days
BITBRAINS_SPLIT = datetime(2013, 8, 1)  # Bitbrains: July for choosing settings, August to report
MATCH_BEFORE = timedelta(minutes=60)  # the README's protocol: an alert up to 60 min early counts


@dataclass(frozen=True)
class Alert:
    at: datetime
    origin: str | None
    affected: tuple[str, ...]


def columns(values: np.ndarray, members: Sequence[int]) -> np.ndarray:
    """The servers `members` of a (steps x servers x metrics) array."""
    return values[:, list(members)]


def replay(
    cube: MetricCube, first: int, cfg: CascadeSettings, floor: np.ndarray | None = None
) -> list[Alert]:
    """Run the detector at every bucket from `first` on; return the episode starts (alerts).

    The signals are scored once for the whole replay (each step from its past only), the
    servers' own signals for the habit check too, instead of per bucket as `detect` does.
    """
    start = max(0, first - cfg.window_size - cfg.smooth_steps)
    floor = scale_floor(cube.values, cfg) if floor is None else floor
    signal = signals(cube, start, cfg, floor)
    seasonal = STEPS_PER_DAY + cfg.slot_halfwidth  # as `own_history`: no first-day scores
    own_start = max(seasonal, first - cfg.window_size - cfg.habit_days * STEPS_PER_DAY)
    own_floor = np.maximum(floor, day_over_day_scale(cube.values[:start], cfg.day_quantile))
    own = signals(cube, own_start, dataclasses.replace(cfg, remove_common=False), own_floor)
    alerts: list[Alert] = []
    episodes: tuple[Episode, ...] = ()
    alert_of: dict[datetime, int] = {}  # episode start -> its alert
    upstreams = upstream_servers(cube.profiles)
    for t in range(first, cube.steps):
        lo = t - start - cfg.window_size + 1
        window = signal[lo : t - start + 1]
        findings = find_groups(window, cfg, (), upstreams)
        if findings.groups:  # as `detect` does: score the earlier days only then
            earlier = earlier_signals(cube.head(t + 1), t, cfg, floor)
            before = t - cfg.window_size + 1 - own_start  # the window's first step in `own`
            past = own[max(0, before - cfg.habit_days * STEPS_PER_DAY) : max(0, before)]
            findings = find_groups(window, cfg, earlier, upstreams, partial(columns, past))
        if not findings.groups:
            continue
        # The daemon's episodes: one alert each, its view growing as the cascade spreads.
        tracking = track(episodes, result_from_findings(cube, findings, t, cfg), cfg)
        episodes = tracking.episodes
        for view in tracking.views:
            if view.new:
                alert_of[view.episode.start] = len(alerts)
                alerts.append(Alert(view.episode.start, view.origin, view.affected_servers))
            elif view.grew and view.episode.start in alert_of:
                i = alert_of[view.episode.start]
                alerts[i] = Alert(alerts[i].at, view.origin, view.affected_servers)
    return alerts


# ---------------------------------------------------------------- ASD


def asd_cube() -> MetricCube:
    frames = []
    for k in range(1, 13):
        f = pd.read_csv(DATA / "asd" / f"omi-{k}.csv.gz")
        f["server_name"] = f"omi-{k}"
        frames.append(f)
    frame = pd.concat(frames, ignore_index=True)
    frame["timestamp"] = pd.Timestamp(ASD_START) + pd.to_timedelta(frame["step"] * 5, unit="min")
    metrics = [f"m{i:02d}" for i in range(1, 20)]
    frame["profile"] = "Generic"
    return from_frame(frame, metrics)


def asd_events() -> pd.DataFrame:
    events = pd.read_csv(DATA / "asd" / "cascade_events.csv")
    events["servers_set"] = events["servers"].str.split().apply(set)
    events["first"] = events["onset_order"].str.split().str[0].str.split("@").str[0]
    return events


def at_step(step: int) -> datetime:
    return ASD_START + timedelta(minutes=5 * step)


def score_asd(alerts: Sequence[Alert], days: float) -> dict[str, float | str]:
    """Match alerts to labelled events: in [start - 60 min, end] and >= 2 of its servers."""
    events = asd_events()
    matched_alerts: set[int] = set()
    caught, origin_hits, rows = 0, 0, []
    for ev in events.itertuples():
        lo, hi = at_step(ev.start_step) - MATCH_BEFORE, at_step(ev.end_step)
        hits = [
            i
            for i, a in enumerate(alerts)
            if lo <= a.at <= hi and len(set(a.affected) & ev.servers_set) >= 2
        ]
        matched_alerts.update(hits)
        if hits:
            caught += 1
            first = alerts[hits[0]]
            origin_hits += first.origin == ev.first
            delay = (first.at - at_step(ev.start_step)).total_seconds() / 60
            rows.append(f"{ev.event_id}: {first.origin} vs {ev.first}, +{delay:.0f} min")
        else:
            rows.append(f"{ev.event_id}: missed")
    unmatched = len(alerts) - len(matched_alerts)
    return {
        "events": len(events),
        "recall": caught / len(events),
        "precision": len(matched_alerts) / len(alerts) if alerts else float("nan"),
        "alerts": len(alerts),
        "unmatched_per_day": unmatched / days,
        "origin_matches": f"{origin_hits}/{caught}",
        "detail": "; ".join(rows),
    }


def run_asd(cfg: CascadeSettings, train: bool) -> dict[str, float | str]:
    cube = asd_cube()
    # The scale floor comes from the training days only: nothing of the labelled days leaks in.
    floor = scale_floor(cube.values[:ASD_TRAIN_STEPS], cfg)
    if train:
        # Alerts on training days 7-30 (each has 6 days of baseline before it); unlabelled.
        first, last = cfg.baseline_days * STEPS_PER_DAY, ASD_TRAIN_STEPS
        alerts = replay(cube.head(last), first, cfg, floor)
        days = (last - first) / STEPS_PER_DAY
        return {"train_days": days, "alerts": len(alerts), "alerts_per_day": len(alerts) / days}
    alerts = replay(cube, ASD_TRAIN_STEPS, cfg, floor)
    return score_asd(alerts, (cube.steps - ASD_TRAIN_STEPS) / STEPS_PER_DAY)


# ---------------------------------------------------------------- Bitbrains


def run_bitbrains(cfg: CascadeSettings) -> dict[str, float | str]:
    frame = pd.read_csv(DATA / "bitbrains" / "bitbrains_rnd_dev.csv.gz", parse_dates=["timestamp"])
    frame = frame.rename(
        columns={
            "vm": "server_name",
            "cpu_usage_pct": "cpu_user_pct",
            "mem_usage_pct": "mem_used_pct",
        }
    )
    frame["server_name"] = "vm" + frame["server_name"].astype(str)
    frame["net_kbs"] = frame["net_rx_kbs"] + frame["net_tx_kbs"]
    frame["disk_kbs"] = frame["disk_read_kbs"] + frame["disk_write_kbs"]
    cube = from_frame(frame, ["cpu_user_pct", "mem_used_pct", "net_kbs", "disk_kbs"])
    first = cfg.baseline_days * STEPS_PER_DAY
    alerts = replay(cube, first, cfg)
    days = (cube.steps - first) / STEPS_PER_DAY
    by_hour = np.bincount([a.at.hour for a in alerts], minlength=24)
    # July is for choosing settings, August to evaluate them (since 2026-11-29).
    split = int(np.searchsorted(cube.times, np.datetime64(BITBRAINS_SPLIT)))
    july_days = (split - first) / STEPS_PER_DAY
    july = sum(a.at < BITBRAINS_SPLIT for a in alerts)
    return {
        "days": round(days, 1),
        "vms": len(cube.servers),
        "alerts": len(alerts),
        "alerts_per_day": len(alerts) / days,
        "alerts_per_day_july": july / july_days,
        "alerts_per_day_august": (len(alerts) - july) / (days - july_days),
        "alerts_by_hour": " ".join(str(int(x)) for x in by_hour),
    }


# ---------------------------------------------------------------- simulator


def label_time(stamp: str) -> datetime:
    """A simulator label's ISO time as a naive UTC datetime (the cube's times)."""
    return datetime.fromisoformat(stamp.replace("Z", "")).replace(tzinfo=None)


def sim_first(cfg: CascadeSettings) -> int:
    """The first bucket the simulator part scores (day 2: a day of seasonal baseline)."""
    return min(cfg.baseline_days, 2) * STEPS_PER_DAY


def sim_matches(alerts: Sequence[Alert], cas: Any) -> list[int]:
    """Alerts in [origin onset - 60 min, last dependent onset + 6 h] naming >= 2 of its servers."""
    onset = label_time(cas.origin_onset)
    servers = {cas.origin_server, *(a.server for a in cas.affected)}
    end = max(label_time(a.onset) for a in cas.affected) + timedelta(hours=6)
    return [
        i
        for i, a in enumerate(alerts)
        if onset - MATCH_BEFORE <= a.at <= end and len(set(a.affected) & servers) >= 2
    ]


def alert_shape(alert: Alert, profile: dict[str, str]) -> str:
    """What kind of group an alert names: one profile's servers only, two servers, or more."""
    if len({profile[s] for s in alert.affected}) == 1:
        return "one profile"
    return "two servers" if len(alert.affected) == 2 else "several profiles"


def run_simulator(
    cfg: CascadeSettings, seeds: Sequence[int], days: float
) -> dict[str, float | str]:
    from argus.simulate import simulate_fleet
    from argus.simulate.dataset import block_frame

    caught = total = origin_hits = 0
    delays: list[float] = []
    sim_days = 0.0
    missed: Counter[str] = Counter()  # the dependencies of the cascades missed
    false: Counter[str] = Counter()  # the shapes of the unmatched alerts
    one_profile: list[str] = []  # when and which profile the one-profile unmatched alerts name
    for seed in seeds:
        sim = simulate_fleet(days=days, seed=seed)
        profile = dict(zip(sim.fleet.names, sim.fleet.profiles, strict=True))
        cube = from_frame(block_frame(sim.block), cfg_metrics(cfg))
        first = sim_first(cfg)
        alerts = replay(cube, first, cfg)
        matched: set[int] = set()
        for cas in sim.labels.cascades:
            if label_time(cas.origin_onset) < cube.time_at(first):
                continue
            total += 1
            hits = sim_matches(alerts, cas)
            matched.update(hits)
            if not hits:
                dependents = sorted({profile[a.server] for a in cas.affected})
                missed[f"{profile[cas.origin_server]} -> {', '.join(dependents)}"] += 1
                continue
            caught += 1
            first_alert = alerts[hits[0]]
            origin_hits += first_alert.origin == cas.origin_server
            first_dep = min(label_time(a.onset) for a in cas.affected)
            delays.append((first_alert.at - first_dep).total_seconds() / 60)
        unmatched = [a for i, a in enumerate(alerts) if i not in matched]
        false.update(alert_shape(a, profile) for a in unmatched)
        one_profile += [
            f"{a.at:%a %H:%M} {profile[a.affected[0]]}"
            for a in unmatched
            if alert_shape(a, profile) == "one profile"
        ]
        sim_days += (cube.steps - first) / STEPS_PER_DAY
    return {
        "cascades": total,
        "recall": caught / total if total else float("nan"),
        "origin_matches": f"{origin_hits}/{caught}",
        "median_delay_min": float(np.median(delays)) if delays else float("nan"),
        "unmatched_per_day": sum(false.values()) / sim_days,
        "unmatched_by_shape": "; ".join(f"{k}: {v}" for k, v in false.most_common()),
        "unmatched_one_profile": ", ".join(one_profile),
        "days": round(sim_days, 1),
        "missed": "; ".join(f"{k}: {v}" for k, v in missed.most_common()),
    }


def cfg_metrics(cfg: CascadeSettings) -> tuple[str, ...]:
    from argus.cascade import TRACKED_METRICS

    return TRACKED_METRICS


# ---------------------------------------------------------------- cost


def run_cost(cfg: CascadeSettings) -> dict[str, float | str]:
    from argus.catalogue import profile_for
    from argus.simulate.fleet import fleet_names

    rng = np.random.default_rng(0)
    out: dict[str, float | str] = {}
    steps = 7 * STEPS_PER_DAY
    for servers in (45, 200, 1000):
        values = rng.normal(50, 5, size=(steps, servers, 6))
        times = np.datetime64("2025-01-01T00:00", "m") + np.arange(steps) * np.timedelta64(5, "m")
        # The simulator's profile mix: each profile has its own common part.
        names = tuple(fleet_names(servers))
        profiles = tuple(profile_for(n) for n in names)
        metrics = tuple(f"m{i}" for i in range(6))
        cube = MetricCube(values, times, names, profiles, metrics)
        detect(cube, cfg)  # warm
        started = time.perf_counter()
        for _ in range(3):
            detect(cube, cfg)
        out[f"detect_s_{servers}"] = round((time.perf_counter() - started) / 3, 3)
        # a group found: the recurrence check scores the earlier days too
        values[-6:, :4, 0] += 50.0
        found = detect(cube, cfg)
        if found is None or not found.cascade_detected:
            raise SystemExit("the cost cube with four spiking servers shows no cascade")
        started = time.perf_counter()
        for _ in range(3):
            detect(cube, cfg)
        out[f"detect_with_cascade_s_{servers}"] = round((time.perf_counter() - started) / 3, 3)
    out.update(window_cost(100, steps))
    out.update(window_cost(1000, steps))
    return out


def window_cost(servers: int, steps: int) -> dict[str, float | str]:
    """Time the daemon's input path: FleetWindow.grid() and grid -> cube, for `servers`."""
    from argus.cascade import TRACKED_METRICS, from_grid
    from argus.window import FleetWindow

    window = FleetWindow(steps)
    start = datetime(2025, 1, 1)
    base = {m: 1.0 for m in ("cpu_user_pct", "cpu_sys_pct", "cpu_iowait_pct", "cpu_idle_pct")}
    base |= {m: 1.0 for m in ("java_cpu_pct", "mem_used_pct", "swap_used_pct", "disk_usage_pct")}
    base |= {m: 1.0 for m in ("net_in_mb_s", "net_out_mb_s", "load_average")}
    base |= {"back_close_wait": 1, "front_close_wait": 1, "uptime_days": 1, "status": "healthy"}
    for t in range(steps):
        ts = start + timedelta(minutes=5 * t)
        window.add([{**base, "timestamp": ts, "server_name": f"s{s:04d}"} for s in range(servers)])
    started = time.perf_counter()
    window.grid()  # the first read averages every bucket (at start-up)
    cold_s = time.perf_counter() - started
    started = time.perf_counter()
    grid = window.grid()  # a cycle's read: the prediction cycle has just averaged them
    warm_s = time.perf_counter() - started
    started = time.perf_counter()
    from_grid(grid, TRACKED_METRICS)
    cube_s = time.perf_counter() - started
    return {
        f"window_grid_first_s_{servers}": round(cold_s, 2),
        f"window_grid_s_{servers}": round(warm_s, 2),
        f"grid_to_cube_s_{servers}": round(cube_s, 2),
    }


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", default=["asd", "bitbrains", "simulator", "cost"])
    parser.add_argument("--train", action="store_true")
    parser.add_argument("--set", action="append", default=[], help="override a setting: name=value")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--seed-start", type=int, default=0, help="simulator: first seed (3: the tuning fleets)"
    )
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        name, value = item.split("=", 1)
        kind = type(getattr(CascadeSettings(), name))
        if kind is tuple:  # recurrence_days=1,7 (empty: none)
            overrides[name] = tuple(int(x) for x in value.split(",") if x)
        else:
            overrides[name] = value == "true" if kind is bool else kind(value)
    cfg = dataclasses.replace(CascadeSettings(), **overrides)
    print(f"settings: {cfg}")
    for part in args.parts:
        started = time.perf_counter()
        if part == "asd":
            res = run_asd(cfg, args.train)
        elif part == "bitbrains":
            res = run_bitbrains(cfg)
        elif part == "simulator":
            res = run_simulator(cfg, range(args.seed_start, args.seed_start + args.seeds), 14.0)
        elif part == "cost":
            res = run_cost(cfg)
        else:
            raise SystemExit(f"unknown part {part!r}")
        print(f"{part} ({time.perf_counter() - started:.0f} s): {res}")


if __name__ == "__main__":
    main(sys.argv[1:])
