"""Why the detector misses the simulated cascades it misses (not a test). From the root:

    PYTHONPATH=. python bench/cascade_misses.py [--seed-start 3] [--seeds 3]

Replays each simulated fleet as `cascade_detection.py simulator` does (default settings) and,
for every labelled cascade no alert matched, prints its servers with their profile, most
anomalous metric and peak |signal| between the origin's onset and 6 h after the last
dependent's, then the first bucket after the first dependent's onset at which all its servers
are anomalous together: how long each had been anomalous by then (steps) and the correlation
of their signals over the detector's window at that moment, 30 and 60 minutes later.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

import numpy as np
from cascade_detection import cfg_metrics, label_time, replay, sim_first, sim_matches

from argus.cascade import CascadeSettings, from_frame, signals
from argus.cascade.rules import trailing_run
from argus.simulate import simulate_fleet
from argus.simulate.dataset import block_frame


def runs_and_corr(signal: np.ndarray, t: int, idx: list[int], cfg: CascadeSettings) -> str:
    """The trailing anomalous runs of `idx` at bucket `t` and their correlation with the first."""
    window = signal[t - cfg.window_size + 1 : t + 1][:, idx, :].max(axis=2)
    runs = trailing_run(window >= cfg.anomaly_z_score)
    corr = np.corrcoef(window.T)[0, 1:] if window.std(axis=0).all() else []
    return f"runs {runs.tolist()}, corr {np.round(corr, 2).tolist()}"


def first_together(signal: np.ndarray, at: int, idx: list[int], cfg: CascadeSettings) -> str:
    """Runs and correlation at the first bucket from `at` on where all of `idx` are anomalous,
    and 30 and 60 minutes later."""
    for t in range(max(at, cfg.window_size - 1), min(at + 36, signal.shape[0] - 12)):
        window = signal[t - cfg.window_size + 1 : t + 1][:, idx, :].max(axis=2)
        if (trailing_run(window >= cfg.anomaly_z_score) > 0).all():
            return "; ".join(
                f"+{t - at + k} steps: {runs_and_corr(signal, t + k, idx, cfg)}" for k in (0, 6, 12)
            )
    return "never all anomalous within 3 h"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-start", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    cfg = CascadeSettings()
    for seed in range(args.seed_start, args.seed_start + args.seeds):
        sim = simulate_fleet(days=14.0, seed=seed)
        cube = from_frame(block_frame(sim.block), cfg_metrics(cfg))
        first = sim_first(cfg)
        alerts = replay(cube, first, cfg)
        # the replay's signal (scored from the same start), indexed by bucket
        start = first - cfg.window_size - cfg.smooth_steps
        signal = np.zeros_like(cube.values)
        signal[start:] = signals(cube, start, cfg)
        for cas in sim.labels.cascades:
            onset = label_time(cas.origin_onset)
            if onset < cube.time_at(first) or sim_matches(alerts, cas):
                continue
            servers = [cas.origin_server, *(a.server for a in cas.affected)]
            end = max(label_time(a.onset) for a in cas.affected) + timedelta(hours=6)
            idx = [cube.servers.index(s) for s in servers]
            lo, hi = (int((t - cube.time_at(0)).total_seconds() // 300) for t in (onset, end))
            peak = signal[lo:hi][:, idx, :].max(axis=0)
            shown = [
                f"{s} ({cube.profiles[i]}, {cube.metrics[int(peak[k].argmax())]} "
                f"{peak[k].max():.0f})"
                for k, (s, i) in enumerate(zip(servers, idx, strict=True))
            ]
            dependent = min(label_time(a.onset) for a in cas.affected)
            at = int((dependent - cube.time_at(0)).total_seconds() // 300)
            print(f"seed {seed} {onset:%a %H:%M}: {', '.join(shown)}")
            print(f"    {first_together(signal, at, idx, cfg)}")


if __name__ == "__main__":
    main()
