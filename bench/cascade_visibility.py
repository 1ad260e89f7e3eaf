"""How visible ASD's labelled cascades are against each server's own ordinary days (not a test).

    PYTHONPATH=. python bench/cascade_visibility.py

Scores every ASD server with the detector's own anomaly signal (seasonal robust z, the fleet's
common part removed, 3-step median, |.|; the scale floor from the 30 unlabelled days) and
reduces it to five per-server scores: the detector's (max over the 19 metrics), the mean of
the top 3, the mean over all, and, after turning each server-metric's signal into its tail
fraction among the unlabelled days (days 7-30), the largest and the top-3 sum of -log10 of it.

For each labelled segment: the share of unlabelled steps on which the server's score is at least
its peak in the segment (small = stands out). For each cascade event (its first two servers in
onset order): the weaker of the two shares, and how often per unlabelled day two servers
*by chance* have runs above that level (each server at its own quantile) starting no further
apart than the event's two did. An event whose servers stand out less than that can only be
caught together with that many false pairs a day.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from cascade_detection import ASD_TRAIN_STEPS, DATA, asd_cube

from argus.cascade import CascadeSettings
from argus.cascade.baseline import anomaly_signal, raw_scores, scale_floor
from argus.cascade.cube import STEPS_PER_DAY

FIRST = 6 * STEPS_PER_DAY  # the first step with six days of seasonal baseline
TRAIN = ASD_TRAIN_STEPS - FIRST  # scored unlabelled steps


def server_scores(signal: np.ndarray) -> dict[str, np.ndarray]:
    """Reduce the signal (steps x servers x metrics) to per-server scores (steps x servers)."""
    train = np.sort(signal[:TRAIN], axis=0)
    tail = np.empty_like(signal)
    for s in range(signal.shape[1]):
        for m in range(signal.shape[2]):
            below = np.searchsorted(train[:, s, m], signal[:, s, m], side="left")
            tail[:, s, m] = 1.0 - below / TRAIN
    surprise = -np.log10(np.maximum(tail, 1.0 / TRAIN))
    top3 = np.sort(signal, axis=2)[:, :, -3:]
    return {
        "max": signal.max(axis=2),
        "top3_mean": top3.mean(axis=2),
        "mean": signal.mean(axis=2),
        "max_surprise": surprise.max(axis=2),
        "top3_surprise": np.sort(surprise, axis=2)[:, :, -3:].sum(axis=2),
    }


def tail_share(score: np.ndarray, server: int, lo: int, hi: int) -> float:
    """Share of unlabelled steps with a score >= the server's peak in steps lo..hi."""
    peak = score[lo - FIRST : hi - FIRST + 1, server].max()
    return float((score[:TRAIN, server] >= peak).mean())


def chance_pairs_per_day(score: np.ndarray, share: float, gap: int) -> float:
    """Pairs of servers whose runs above their own (1 - share) quantile start <= gap apart."""
    train = score[:TRAIN]
    above = train >= np.quantile(train, 1.0 - share, axis=0)
    starts = np.diff(above.astype(np.int8), axis=0, prepend=np.int8(0)) == 1
    onsets = sorted((int(t), int(s)) for t, s in zip(*np.nonzero(starts), strict=True))
    pairs = 0
    for i, (t, s) in enumerate(onsets):
        for t2, s2 in onsets[i + 1 :]:
            if t2 - t > gap:
                break
            pairs += s2 != s
    return pairs / (TRAIN / STEPS_PER_DAY)


def main() -> None:
    cfg = CascadeSettings()
    cube = asd_cube()
    floor = scale_floor(cube.values[:ASD_TRAIN_STEPS], cfg)
    z = raw_scores(cube.values, FIRST, cfg, floor)
    scores = server_scores(anomaly_signal(z, cfg, cube.profiles))
    index = {name: i for i, name in enumerate(cube.servers)}
    segments = pd.read_csv(DATA / "asd" / "anomaly_segments.csv").sort_values("start_step")
    print("segment: share of unlabelled steps scoring at least the segment's peak, per score")
    print(f"{'server':7} {'steps':>11} " + " ".join(f"{k:>13}" for k in scores))
    for seg in segments.itertuples():
        server = index[seg.server]
        shares = [tail_share(sc, server, seg.start_step, seg.end_step) for sc in scores.values()]
        steps = f"{seg.start_step}-{seg.end_step}"
        print(f"{seg.server:7} {steps:>11} " + " ".join(f"{x:13.4f}" for x in shares))
    print("\nevent: weaker of its first two servers' shares -> chance pairs per unlabelled day")
    events = pd.read_csv(DATA / "asd" / "cascade_events.csv")
    for ev in events.itertuples():
        first_two = [item.split("@") for item in ev.onset_order.split()[:2]]
        gap = max(1, int(first_two[1][1]) - int(first_two[0][1]))
        ends = segments.set_index(["server", "start_step"])["end_step"]
        row = []
        for name, score in scores.items():
            share = max(
                tail_share(score, index[srv], int(on), int(ends[(srv, int(on))]))
                for srv, on in first_two
            )
            row.append(f"{name} {share:.4f} -> {chance_pairs_per_day(score, share, gap):.1f}")
        print(f"{ev.event_id} (gap {gap} steps): " + "; ".join(row))


if __name__ == "__main__":
    main()
