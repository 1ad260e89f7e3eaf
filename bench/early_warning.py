"""Early warning and calibration on the simulator's labelled incidents.

Simulates a fleet, trains a TFT on the first days (or loads `--model` from `--home`), replays the
last days through forecaster -> risk -> alerts exactly as the daemon's prediction cycle does
(argus.replay), and scores the alerts against the labels: share of incidents caught, lead time
(breach minus first warning-or-higher alert), false alerts per server per day, and the
calibration of prob_30m / prob_8h. Each model is scored as served (with the drift override of
argus.forecast.trend) and without it; the seasonal-naive fallback the same way.

    PYTHONPATH=. python bench/early_warning.py --servers 45 --train-days 10 --eval-days 3
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from argus.alert_eval import LabelledIncident, calibration, early_warning
from argus.catalogue import TARGETS
from argus.forecast.base import Forecaster, TrainOptions
from argus.forecast.baseline import SeasonalNaive
from argus.forecast.trend import TrendRule
from argus.replay import breach_outcomes, origins_between, prepare, replay
from argus.simulate import IncidentRates, simulate_fleet
from argus.simulate.dataset import block_frame
from argus.simulate.incidents import KINDS


def parse(ts: str | None) -> datetime | None:
    return None if ts is None else datetime.fromisoformat(ts.replace("Z", ""))


def train(frame, home: Path, minutes: float, seed: int) -> Forecaster:
    from argus.forecast.artifacts import models_dir_for
    from argus.forecast.training import train_model

    result = train_model(
        frame,
        models_dir=models_dir_for(home),
        name="bench-ew",
        options=TrainOptions(epochs=30, max_minutes=minutes, seed=seed),
    )
    print(
        f"trained {result.name}: {result.metadata['training']['epochs_run']} epochs, "
        f"{result.metadata['training']['seconds']:.0f} s"
    )
    from argus.forecast.artifacts import load_model

    return load_model(models_dir_for(home), result.name)


def missed(steps, watched: dict[LabelledIncident, str], servers: int) -> list[str]:
    """The scored watched incidents not alerted 30 minutes ahead: 'server kind (breach time)'."""
    out = []
    for inc, kind in watched.items():
        alone = early_warning(steps, [inc], servers)
        if alone.incidents and not alone.caught_30m:
            out.append(f"{inc.server} {kind} (breach {inc.breach:%Y-%m-%d %H:%M})")
    return out


def score(
    name: str, model: Forecaster, frame, origins, incidents, watched, servers: int
) -> dict:
    """`incidents`: every labelled one; `watched`: those breaching a metric Argus forecasts,
    with their kind."""
    began = time.perf_counter()
    steps = replay(frame, model, origins)
    seconds = time.perf_counter() - began
    ew = early_warning(steps, incidents, servers)
    on_watched = early_warning(steps, list(watched), servers)
    out: dict = {
        "model": name,
        "replay_seconds": round(seconds, 1),
        "origins": len(origins),
        "incidents": ew.incidents,
        "caught": ew.caught,
        "caught_30m_before": ew.caught_30m,
        "share_caught_30m": round(ew.caught_30m / ew.incidents, 3) if ew.incidents else None,
        "watched_incidents": on_watched.incidents,
        "watched_caught_30m_before": on_watched.caught_30m,
        "watched_share_caught_30m": (
            round(on_watched.caught_30m / on_watched.incidents, 3)
            if on_watched.incidents
            else None
        ),
        "watched_missed": missed(steps, watched, servers),
        "median_lead_minutes": statistics.median(ew.lead_minutes) if ew.lead_minutes else None,
        "false_alerts": ew.false_alerts,
        "false_per_server_day": round(ew.false_per_server_day, 3),
    }
    for label, horizon in (("30m", timedelta(minutes=30)), ("8h", timedelta(hours=8))):
        outcome = breach_outcomes(frame, origins, horizon)
        probs, ys = [], []
        for step in steps:
            for server, risk in step.risks.items():
                probs.append(risk.prob_30m if label == "30m" else risk.prob_8h)
                ys.append(outcome[(step.at, server)])
        cal = calibration(probs, ys)
        out[f"brier_{label}"] = round(cal.brier, 4)
        out[f"ece_{label}"] = round(cal.ece, 4)
        out[f"base_rate_{label}"] = round(cal.base_rate, 4)
        out[f"reliability_{label}"] = [
            [round(lo, 1), round(hi, 1), n, round(p, 3), round(f, 3)]
            for lo, hi, n, p, f in cal.rows
        ]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--servers", type=int, default=45)
    ap.add_argument("--train-days", type=float, default=10)
    ap.add_argument("--eval-days", type=float, default=3)
    ap.add_argument("--incident-rate", type=float, default=0.15, help="per server per day")
    ap.add_argument("--every", type=int, default=15, help="minutes between prediction cycles")
    ap.add_argument("--train-minutes", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    sim = simulate_fleet(
        servers=args.servers,
        days=args.train_days + args.eval_days,
        seed=args.seed,
        rates=IncidentRates(per_server_day=args.incident_rate),
    )
    frame = prepare(block_frame(sim.block))
    split = frame["timestamp"].min() + timedelta(days=args.train_days)
    end = frame["timestamp"].max().to_pydatetime()
    origins = origins_between(split.to_pydatetime(), end - timedelta(hours=8), args.every)
    incidents = [
        LabelledIncident(i.server, parse(i.onset), parse(i.breach), parse(i.end))
        for i in sim.labels.incidents
    ]
    # Connection leaks breach CLOSE_WAIT socket counts, which Argus does not forecast.
    watched = {
        inc: label.kind
        for inc, label in zip(incidents, sim.labels.incidents, strict=True)
        if KINDS[label.kind].metric in TARGETS
    }
    with tempfile.TemporaryDirectory() as tmp:
        tft = train(frame[frame["timestamp"] < split], Path(tmp), args.train_minutes, args.seed)
        network_only = copy.copy(tft)
        network_only.trend = None  # the same network without the drift override
        results = [
            score(name, model, frame, origins, incidents, watched, args.servers)
            for name, model in (
                (tft.name + "+trend", tft),
                (tft.name, network_only),
                ("seasonal_naive+trend", SeasonalNaive(trend=TrendRule())),
                ("seasonal_naive", SeasonalNaive()),
            )
        ]
    print(json.dumps(results, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
