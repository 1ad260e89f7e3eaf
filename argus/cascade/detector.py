"""Detect cascades: score every server against its own baseline, then apply the rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import cache, partial

import numpy as np

from argus.cascade.bands import cascade_risk, health_score, health_status, severity
from argus.cascade.baseline import anomaly_signal, day_over_day_scale, raw_scores, scale_floor
from argus.cascade.cube import STEPS_PER_DAY, FloatArray, MetricCube
from argus.cascade.dependencies import recommendations, upstream_servers
from argus.cascade.result import Cascade, CascadeResult
from argus.cascade.rules import WindowFindings, find_groups
from argus.cascade.settings import CascadeSettings

# A bucket counts as complete once this share of the servers have reported in it.
COMPLETE_SHARE = 0.5


def evaluation_step(cube: MetricCube) -> int | None:
    """Return the newest bucket most servers have reported in (the newest one may be partial)."""
    if cube.steps == 0 or not cube.servers:
        return None
    reported = np.isfinite(cube.values).any(axis=2).sum(axis=1)
    complete = np.flatnonzero(reported >= COMPLETE_SHARE * len(cube.servers))
    return int(complete[-1]) if len(complete) else None


def signals(
    cube: MetricCube,
    start: int,
    cfg: CascadeSettings,
    floor: FloatArray | None = None,
    steps_per_day: int = STEPS_PER_DAY,
) -> FloatArray:
    """Return the anomaly signal (steps start.. x servers x metrics) of a cube.

    `floor` defaults to one computed from the whole cube (the daemon's window: all past data).
    """
    floor = scale_floor(cube.values, cfg) if floor is None else floor
    z = raw_scores(cube.values, start, cfg, floor, steps_per_day)
    return anomaly_signal(z, cfg, cube.profiles)


def result_from_findings(
    cube: MetricCube,
    findings: WindowFindings,
    at: int,
    cfg: CascadeSettings,
    steps_per_day: int = STEPS_PER_DAY,
) -> CascadeResult:
    """Turn the rules' findings for the window ending at bucket `at` into a CascadeResult."""
    n = len(cube.servers)
    first = at - cfg.window_size + 1

    def when(onset: int) -> datetime:
        return cube.time_at(max(0, first + onset))

    cascades = tuple(
        Cascade(
            metric=cube.metrics[g.metric],
            affected_servers=tuple(cube.servers[s] for s in g.members),
            severity=severity(len(g.members), n),
            rule=g.rule,
            correlation=round(g.correlation, 3),
            onsets=tuple(when(o) for o in g.onsets),
        )
        for g in findings.groups
    )
    members = {s for g in findings.groups for s in g.members} | set(findings.linked)
    ordered = sorted(members, key=lambda s: (findings.server_onset[s], cube.servers[s]))
    origin = ordered[0] if ordered else None
    anomalous = tuple(cube.servers[s] for s in np.flatnonzero(findings.anomalous))
    rate = len(anomalous) / n if n else 0.0
    score = health_score(rate, findings.correlation_score)
    return CascadeResult(
        timestamp=cube.time_at(at),
        total_servers=n,
        anomalous_servers=anomalous,
        correlation_score=round(findings.correlation_score, 3),
        cascades=cascades,
        affected_servers=tuple(cube.servers[s] for s in ordered),
        origin=None if origin is None else cube.servers[origin],
        origin_profile=None if origin is None else cube.profiles[origin],
        recommendations=recommendations(
            None if origin is None else cube.servers[origin],
            None if origin is None else cube.profiles[origin],
            [(cube.servers[s], cube.profiles[s]) for s in ordered],
            [c.metric for c in cascades],
        )
        if ordered
        else (),
        health_score=score,
        status=health_status(score),
        cascade_risk=cascade_risk(findings.correlation_score),
        baseline="seasonal" if at >= steps_per_day + cfg.slot_halfwidth else "rolling",
        metrics=cube.metrics,
        affected_profiles=tuple(cube.profiles[s] for s in ordered),
        linked=tuple(
            (cube.servers[s], g) for s, g in zip(findings.linked, findings.links, strict=True)
        ),
    )


def detect(cube: MetricCube, cfg: CascadeSettings | None = None) -> CascadeResult | None:
    """Detect cascades at the newest complete bucket of `cube`; None when it has no data.

    Cost: the baseline medians for the last `window_size` buckets, O(window x baseline samples x
    servers x metrics), plus correlations among the servers anomalous now; when the rules find
    a group, the same scoring for the few buckets around that time on the recurrence days, and
    for the group's members only over the `habit_days` before the window.
    """
    cfg = cfg or CascadeSettings()
    at = evaluation_step(cube)
    if at is None:
        return None
    head = cube.head(at + 1)
    floor = scale_floor(head.values, cfg)
    # Score a little before the window so the median filter is full at its first step.
    start = max(0, at - cfg.window_size - cfg.smooth_steps + 2)
    window = _pad(signals(head, start, cfg, floor)[-cfg.window_size :], cfg.window_size)
    upstreams = upstream_servers(cube.profiles)
    findings = find_groups(window, cfg, (), upstreams)
    if findings.groups:  # only then is it worth scoring the earlier days
        earlier = earlier_signals(head, at, cfg, floor)
        # Cached: the count and correlation rules often name the same servers.
        own_past = cache(partial(own_history, head, at, cfg, floor))
        findings = find_groups(window, cfg, earlier, upstreams, own_past)
    return result_from_findings(cube, findings, at, cfg)


def earlier_signals(
    cube: MetricCube,
    at: int,
    cfg: CascadeSettings,
    floor: FloatArray,
    steps_per_day: int = STEPS_PER_DAY,
) -> list[FloatArray]:
    """Return the anomaly signal at bucket `at`'s time of day +- `slot_halfwidth` on each of
    `cfg.recurrence_days` earlier days that `cube` holds (what a routine looks like)."""
    half, out = cfg.slot_halfwidth, []
    for days in cfg.recurrence_days:
        centre = at - days * steps_per_day
        first = centre - half - cfg.smooth_steps + 1  # the median filter full at centre - half
        if first >= 0:
            past = signals(cube.head(centre + half + 1), first, cfg, floor, steps_per_day)
            out.append(past[-(2 * half + 1) :])
    return out


def own_history(
    cube: MetricCube,
    at: int,
    cfg: CascadeSettings,
    floor: FloatArray,
    members: Sequence[int],
    steps_per_day: int = STEPS_PER_DAY,
) -> FloatArray:
    """Return the anomaly signal of `members` over the `habit_days` before the window ending at
    bucket `at`, each scored on its own history only (no common part: it needs the whole
    fleet, and the past of a few servers is what the habit check can afford)."""
    first = at - cfg.window_size + 1
    # Only days with a seasonal baseline: on the first, every daily peak stands out.
    seasonal = steps_per_day + cfg.slot_halfwidth
    start = max(seasonal, first - cfg.habit_days * steps_per_day)
    if first <= start:
        return np.zeros((0, len(members), len(cube.metrics)))
    idx = list(members)
    # The scale of the current window's scores (`detect`): the day-over-day change before it.
    before = max(0, at - cfg.window_size - cfg.smooth_steps + 2)
    history = cube.values[:before, idx] if before else cube.values[:, idx]
    floor = np.maximum(floor, day_over_day_scale(history, cfg.day_quantile))
    sub = MetricCube(
        cube.values[:first, idx],
        cube.times[:first],
        tuple(cube.servers[i] for i in idx),
        tuple(cube.profiles[i] for i in idx),
        cube.metrics,
    )
    own = replace(cfg, remove_common=False)
    return signals(sub, start, own, floor, steps_per_day)


def _pad(signal: FloatArray, steps: int) -> FloatArray:
    """Left-pad a short window with zeros (no anomaly) so every window has `steps` rows."""
    if signal.shape[0] >= steps:
        return signal
    pad = np.zeros((steps - signal.shape[0], *signal.shape[1:]))
    return np.concatenate([pad, signal], axis=0)
