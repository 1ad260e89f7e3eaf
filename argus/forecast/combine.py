"""Online combination of forecasters per server, target and horizon block, and band calibration.

Which forecast is best differs by server: a VM whose CPU is noise around a level is forecast
best by its recent mean, one with a daily rhythm by its usual level at that time, one the
network understands by the network. So the served median is a weighted median of cheap
candidates and the model's median, with weights from each candidate's realised error on *that*
server over the recent days (online aggregation, inverse squared error as Bates and Granger),
each candidate's shrunk towards its share of the fleet-level weights learnt at training by
its own evidence (a candidate scored for days keeps its weight when a new model arrives).

Candidates (`CANDIDATES`), all medians (servers, targets, steps):
- model: the model's median (NaN where the model did not serve the server);
- naive: the last value;
- recent_mean: the mean of the last hour (noise averages out);
- recent_median: the median of the last hour (a level with short bursts on it: the burst
  does not move it, which is what an absolute error rewards);
- usual: the median of the same time of day on each of the last 7 days (at least 3 days
  observed), so a one-off excursion (yesterday's leak, a batch job that did not recur) is
  outvoted and never replayed;
- usual_level: `usual` shifted by how far the last hour sits from its own usual level, the
  shift fading over `LEVEL_FADE` steps.

The same bookkeeping sizes and calibrates the bands. The combined median's own absolute errors
give the band's width where no model gave one; every served P10-P90 interval is checked against
the actual, and a per-server, per-target, per-block factor on the band's width moves up after a
miss and down after a hit (adaptive conformal inference, Gibbs and Candes 2021), so
that in the long run `COVERAGE` of the actuals fall inside.
"""

from __future__ import annotations

import warnings
from collections import deque
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from argus.forecast.frame import DAY_STEPS, last_finite, same_time_median

CANDIDATES: tuple[str, ...] = (
    "model", "naive", "recent_mean", "recent_median", "usual", "usual_level",
)
MODEL, NAIVE, RECENT_MEAN, RECENT_MEDIAN, USUAL, USUAL_LEVEL = range(len(CANDIDATES))
# Last step of each horizon block (exclusive). The hour ahead is split in two: over its first
# half the last value is hard to beat, by its end a level often is.
BLOCK_ENDS: tuple[int, ...] = (6, 12, 36, 72, 96)
# Steps whose realised error is measured (the blocks' weights and band factors learn from them).
EVAL_STEPS: tuple[int, ...] = (1, 3, 6, 12, 24, 36, 48, 72, 96)
RECENT_STEPS = 12  # the recent mean's hour
USUAL_DAYS = 7
USUAL_MIN_DAYS = 3  # fewer observed days and one odd day would be a third of the median
LEVEL_FADE = 36.0  # steps over which usual_level's shift fades (e-folding)
RECORD_EVERY = 6  # a forecast is kept for scoring every 6 buckets (30 min) of data time
HALF_LIFE_DAYS = 2.0  # realised errors older than this (in data time) count half
PRIOR_STRENGTH = 24.0  # a candidate's scores before its own weight counts as much as its prior
DROP_RATIO = 1.2  # a candidate erring more than this times the best gets no weight
COVERAGE = 0.8  # the share of actuals the P10-P90 band should hold
ACI_RATE = 0.05  # step of the band factor's log per checked forecast
WIDTH_PRIOR = 2.0  # scores of the combination's own error that outweigh the naive band shape
SCALE_LIMITS = (0.25, 8.0)
_Z90 = NormalDist().inv_cdf(0.9)


def block_of(step: int) -> int:
    """The horizon block (index into BLOCK_ENDS) of 1-based forecast step `step`."""
    return int(np.searchsorted(BLOCK_ENDS, step - 1, side="right"))


EVAL_BLOCKS = np.array([block_of(s) for s in EVAL_STEPS])
STEP_BLOCKS = np.array([block_of(s) for s in range(1, BLOCK_ENDS[-1] + 1)])


def history_steps() -> int:
    """Buckets of history the candidates read: the usual level's week and the recent hour."""
    return USUAL_DAYS * DAY_STEPS + RECENT_STEPS


def scales(recent: np.ndarray) -> np.ndarray:
    """(n, T) mean absolute one-step change of each series (MASE's scale), >= a small floor."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN day: no scale
        diff = np.nanmean(np.abs(np.diff(recent[:, -DAY_STEPS:], axis=1)), axis=1)
    return np.where(np.isfinite(diff), np.maximum(diff, 1e-3), 1.0)


def naive_half_width(recent: np.ndarray, horizon: int) -> np.ndarray:
    """(n, T, H) a P10-P90 half-width per step from the series' own h-step changes over the
    last two days (a normal band of their mean size): the band's width where neither a model
    nor the server's own scored errors give one."""
    tail = recent[:, -2 * DAY_STEPS :]
    steps = [h for h in EVAL_STEPS if h <= horizon]
    widths = np.empty((recent.shape[0], recent.shape[2], len(steps)))
    for k, h in enumerate(steps):
        # every third origin: the mean of thousands of changes, at a third of the cost
        change = np.abs(tail[:, h:][:, ::3] - tail[:, :-h][:, ::3])
        seen = np.isfinite(change)
        total = np.where(seen, change, 0.0).sum(axis=1)
        mean_abs = total / np.maximum(seen.sum(axis=1), 1)  # 0 without a change to measure
        widths[..., k] = mean_abs * np.sqrt(np.pi / 2) * _Z90  # mean |N(0, s)| = s sqrt(2/pi)
    return widths @ _interpolation(steps, horizon)


def _interpolation(steps: list[int], horizon: int) -> np.ndarray:
    """(len(steps), horizon) the matrix of linear interpolation from `steps` to 1..horizon
    (held flat beyond the last one), so a whole fleet interpolates in one product."""
    eye = np.eye(len(steps))
    at = np.arange(1, horizon + 1)
    return np.stack([np.interp(at, steps, row) for row in eye])


def candidates(
    recent: np.ndarray, model: np.ndarray, usual: np.ndarray | None = None
) -> np.ndarray:
    """(n, T, H, C) every candidate's median; `recent` (n, L, T) ends at each server's last
    bucket (NaN where none), `model` (n, T, H) is the model's median (NaN: not served);
    `usual` (n, RECENT_STEPS + H, T) is the usual level from the last hour's first bucket on
    (`usual_at`), where the caller has it already."""
    n, length, t = recent.shape
    horizon = model.shape[2]
    last = last_finite(recent)  # (n, T)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN hour: no recent mean
        mean = np.nanmean(recent[:, -RECENT_STEPS:], axis=1)
        mean = np.where(np.isfinite(mean), mean, last)
        median = np.nanmedian(recent[:, -RECENT_STEPS:], axis=1)
        median = np.where(np.isfinite(median), median, last)
        if usual is None:
            usual = usual_at(recent, length - RECENT_STEPS, RECENT_STEPS + horizon)
        usual_now = np.nanmean(usual[:, :RECENT_STEPS], axis=1)  # (n, T)
        usual = usual[:, RECENT_STEPS:]  # (n, H, T)
    fade = np.exp(-np.arange(1, horizon + 1) / LEVEL_FADE)
    shift = np.where(np.isfinite(usual_now), mean - usual_now, 0.0)  # (n, T)
    out = np.empty((n, t, horizon, len(CANDIDATES)))
    out[..., MODEL] = model
    out[..., NAIVE] = last[:, :, None]
    out[..., RECENT_MEAN] = mean[:, :, None]
    out[..., RECENT_MEDIAN] = median[:, :, None]
    out[..., USUAL] = usual.transpose(0, 2, 1)
    out[..., USUAL_LEVEL] = out[..., USUAL] + shift[:, :, None] * fade[None, None, :]
    return out


def usual_at(recent: np.ndarray, start: int, length: int) -> np.ndarray:
    """(n, length, T) the usual level at positions start.. of `recent`: the same-time median
    over the USUAL_DAYS before each (NaN under USUAL_MIN_DAYS of them observed). It reads only
    the days before a position, so it is the same from any origin that has them."""
    median = same_time_median(recent, start, length, USUAL_DAYS)
    days = np.zeros(median.shape, dtype=np.int8)
    for d in range(1, USUAL_DAYS + 1):
        first = start - d * DAY_STEPS
        if first + length <= 0:
            continue
        skip = max(0, -first)
        days[:, skip:] += np.isfinite(recent[:, first + skip : first + length])
    return np.where(days >= USUAL_MIN_DAYS, median, np.nan)


@dataclass
class _Record:
    """The forecasts of one cycle kept until their actuals arrive."""

    rows: np.ndarray  # (n,) state rows of the servers
    origin: np.ndarray  # (n,) each server's last bucket (time_idx) when forecast
    medians: np.ndarray  # (n, T, E, C) candidates at EVAL_STEPS, float32
    served: np.ndarray  # (n, T, E) the combined median at EVAL_STEPS, float32
    bands: np.ndarray  # (n, T, E, 2) the served P10 and P90
    scale: np.ndarray  # (n, T)
    open: np.ndarray  # (n, E) bool: not scored yet

    @classmethod
    def of(
        cls, rows: np.ndarray, origin: np.ndarray, cands: np.ndarray, served: np.ndarray,
        bands: np.ndarray, scale: np.ndarray,
    ) -> _Record:
        """A cycle's forecasts (n, T, H, ...) cut to EVAL_STEPS."""
        steps = np.array(EVAL_STEPS) - 1
        return cls(
            rows=rows,
            origin=origin.copy(),
            medians=cands[:, :, steps].astype(np.float32),
            served=served[:, :, steps].astype(np.float32),
            bands=bands[:, :, steps].astype(np.float32),
            scale=scale.copy(),
            open=np.ones((len(rows), len(EVAL_STEPS)), dtype=bool),
        )


# OnlineState's arrays with a row per server.
_PER_SERVER = (
    "loss", "count", "log_scale", "checked", "served_loss", "served_count", "decayed_at",
)


class OnlineState:
    """Realised errors and band factors per server; grows as servers appear."""

    def __init__(self, targets: int) -> None:
        self.targets = targets
        self.rows: dict[str, int] = {}
        b, c = len(BLOCK_ENDS), len(CANDIDATES)
        self.loss = np.zeros((0, targets, b, c))  # decayed sums of scaled absolute errors
        self.count = np.zeros((0, targets, b, c))  # decayed counts of those errors
        self.log_scale = np.zeros((0, targets, b))  # the band factor's log
        self.checked = np.zeros((0, targets, b))  # decayed count of checked bands
        e = len(EVAL_STEPS)
        self.served_loss = np.zeros((0, targets, e))  # the combination's absolute errors
        self.served_count = np.zeros((0, targets, e))  # decayed counts of those errors
        self.decayed_at = np.zeros(0, dtype=np.int64)  # bucket the sums were aged to (-1: none)
        self.records: deque[_Record] = deque(maxlen=BLOCK_ENDS[-1] // RECORD_EVERY + 2)
        self.last_recorded: int | None = None

    def row_ids(self, names: tuple[str, ...]) -> np.ndarray:
        """State rows of `names`, adding new servers (their band factor: the fleet's mean)."""
        new = [s for s in names if s not in self.rows]
        if new:
            start = len(self.rows)
            self.rows.update({s: start + i for i, s in enumerate(new)})
            fleet = _fleet_log_scale(self.log_scale, self.checked)
            for name in _PER_SERVER:
                old = getattr(self, name)
                grown = np.zeros((len(new), *old.shape[1:]), dtype=old.dtype)
                setattr(self, name, np.concatenate([old, grown]))
            self.log_scale[start:] = fleet
            self.decayed_at[start:] = -1
        return np.array([self.rows[s] for s in names], dtype=np.int64)

    def forget_candidate(self, candidate: int) -> None:
        """Drop what was learnt of one candidate (a new model replaced the one it was)."""
        self.loss[..., candidate] = 0.0
        self.count[..., candidate] = 0.0
        for rec in self.records:
            rec.medians[..., candidate] = np.nan

    def keep_only(self, names: tuple[str, ...]) -> None:
        """Forget every server but `names` (servers that left the fleet): the state stays
        bounded by the fleet however many servers come and go."""
        kept = [s for s in names if s in self.rows]
        old = np.array([self.rows[s] for s in kept], dtype=np.int64)
        remap = np.full(len(self.rows), -1)
        remap[old] = np.arange(len(old))
        self.rows = {s: i for i, s in enumerate(kept)}
        for name in _PER_SERVER:
            setattr(self, name, getattr(self, name)[old])
        for rec in self.records:
            live = remap[rec.rows] >= 0
            rec.rows, rec.origin = remap[rec.rows][live], rec.origin[live]
            rec.medians, rec.bands = rec.medians[live], rec.bands[live]
            rec.served = rec.served[live]
            rec.scale, rec.open = rec.scale[live], rec.open[live]

    def weights(self, rows: np.ndarray, prior: np.ndarray, available: np.ndarray) -> np.ndarray:
        """(n, T, B, C) combination weights: each candidate's inverse squared error on this
        server, shrunk towards its share of `prior` (T, B, C) by its own evidence, over the
        candidates `available` (n, T, C) for this forecast.

        The shrinkage is per candidate: a model promoted an hour ago starts at its prior share
        while the candidates scored for days keep their own weights (a shared trust would send
        every weight back to the prior until the new model had days of scores). The prior
        never gives weight back to a candidate this server's own errors have dropped: a few
        percent of a forecast fifteen times worse than the best is enough to lose to it."""
        loss, count = self.loss[rows], self.count[rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = loss / count
        seen = (count > 0.5) & available[:, :, None, :]
        best = np.min(np.where(seen, mean, np.inf), axis=-1, keepdims=True)
        keep = seen & (mean <= DROP_RATIO * best)
        own = np.where(keep, 1.0 / np.maximum(mean, 1e-6) ** 2, 0.0)
        total = own.sum(axis=-1, keepdims=True)
        allowed = available[:, :, None, :] & (keep | ~seen)
        base = np.where(allowed, prior[None], 0.0)
        base_total = base.sum(axis=-1, keepdims=True)
        fallback = allowed / np.maximum(allowed.sum(-1, keepdims=True), 1)
        base = np.where(base_total > 0, base / np.maximum(base_total, 1e-12), fallback)
        trust = np.where(keep, count / (count + PRIOR_STRENGTH), 0.0)
        score = trust * own + (1 - trust) * base * total  # the prior's share, in own's units
        score_total = score.sum(axis=-1, keepdims=True)
        return np.where(
            score_total > 0, score / np.where(score_total > 0, score_total, 1.0), base
        )

    def band_factors(self, rows: np.ndarray) -> np.ndarray:
        """(n, T, B) the multiplier of each server's band width."""
        return np.exp(self.log_scale[rows])

    def record(
        self, rows: np.ndarray, origin: np.ndarray, cands: np.ndarray, served: np.ndarray,
        bands: np.ndarray, scale: np.ndarray,
    ) -> None:
        """Keep this cycle's forecasts for scoring (once per RECORD_EVERY buckets)."""
        now = int(origin.max()) if len(origin) else 0
        if self.last_recorded is not None and 0 <= now - self.last_recorded < RECORD_EVERY:
            return
        self.last_recorded = now
        self.records.append(_Record.of(rows, origin, cands, served, bands, scale))

    def score_known(
        self, rows: np.ndarray, origin: np.ndarray, cands: np.ndarray, served: np.ndarray,
        bands: np.ndarray, scale: np.ndarray, actual: np.ndarray,
    ) -> None:
        """Score at once a forecast from `origin` (n,) whose actuals are already known,
        `actual` (n, E, T) at EVAL_STEPS (NaN: not yet): how a server seen for the first time
        learns from the history it arrives with."""
        rec = _Record.of(rows, origin, cands, served, bands, scale)
        i, e = np.nonzero(np.isfinite(actual).any(axis=2))
        if len(i):
            self._score(rec, i, e, actual[i, e])

    def observe(self, rows: np.ndarray, last: np.ndarray, recent: np.ndarray) -> None:
        """Score kept forecasts whose steps now have actuals in `recent` (n, L, T), whose
        servers (state `rows`) last reported at bucket `last` (n,)."""
        where = np.full(len(self.rows), -1)
        where[rows] = np.arange(len(rows))
        for rec in self.records:
            pos = where[rec.rows]
            live = pos >= 0
            if not live.any():
                continue
            target = rec.origin[:, None] + np.array(EVAL_STEPS)[None, :]  # (n, E)
            back = np.where(live[:, None], last[np.maximum(pos, 0)][:, None] - target, -1)
            due = rec.open & live[:, None] & (back >= 0) & (back < recent.shape[1])
            if not due.any():
                continue
            i, e = np.nonzero(due)
            actual = recent[pos[i], recent.shape[1] - 1 - back[i, e]]  # (k, T)
            self._score(rec, i, e, actual)
            rec.open[i, e] = False

    def _score(self, rec: _Record, i: np.ndarray, e: np.ndarray, actual: np.ndarray) -> None:
        rows, blocks = rec.rows[i], EVAL_BLOCKS[e]
        err = np.abs(rec.medians[i, :, e] - actual[:, :, None]) / rec.scale[i][:, :, None]
        ok = np.isfinite(err)
        self._decay_to(rows, rec.origin[i] + np.asarray(EVAL_STEPS)[e])
        at = (rows[:, None], np.arange(self.targets)[None, :], blocks[:, None])
        np.add.at(self.loss, at, np.where(ok, err, 0.0))
        np.add.at(self.count, at, ok.astype(np.float64))
        self._score_served(rec, i, e, actual)
        lo, hi = rec.bands[i, :, e, 0], rec.bands[i, :, e, 1]
        seen = np.isfinite(actual)
        miss = ((actual < lo) | (actual > hi)) & seen
        np.add.at(self.log_scale, at, ACI_RATE * (miss - (1 - COVERAGE)) * seen)
        np.add.at(self.checked, at, seen.astype(np.float64))
        np.clip(self.log_scale, *np.log(SCALE_LIMITS), out=self.log_scale)

    def _decay_to(self, rows: np.ndarray, times: np.ndarray) -> None:
        """Age each server's error sums to the latest of `times` (buckets of the actuals about
        to be added): halved per HALF_LIFE_DAYS of data time, however often cycles ran (a
        backfill posted in hours-long batches scores a few forecasts a day, and the first
        days' errors must not outlive the history)."""
        latest = np.full(len(self.rows), -1, dtype=np.int64)
        np.maximum.at(latest, rows, times.astype(np.int64))
        hit = np.flatnonzero(latest >= 0)
        before = self.decayed_at[hit]
        age = np.where(before >= 0, np.maximum(latest[hit] - before, 0), 0)
        shrink = 0.5 ** (age / (HALF_LIFE_DAYS * DAY_STEPS))
        for sums in (self.loss, self.count, self.served_loss, self.served_count):
            sums[hit] *= shrink.reshape(-1, *([1] * (sums.ndim - 1)))
        self.decayed_at[hit] = np.maximum(before, latest[hit])

    def _score_served(
        self, rec: _Record, i: np.ndarray, e: np.ndarray, actual: np.ndarray
    ) -> None:
        """Add the combined median's absolute errors at eval steps `e`, in the target's units:
        a band is as wide as the errors were, whatever the series' step-to-step noise was
        then (scaled errors from a flat day would be thousands once the noise returns)."""
        rows = rec.rows[i]
        err = np.abs(rec.served[i, :, e] - actual)  # (k, T)
        ok = np.isfinite(err)
        at = (rows[:, None], np.arange(self.targets)[None, :], e[:, None])
        np.add.at(self.served_loss, at, np.where(ok, err, 0.0))
        np.add.at(self.served_count, at, ok.astype(np.float64))

    def realised_half_width(self, rows: np.ndarray, naive: np.ndarray) -> np.ndarray:
        """(n, T, H) a P10-P90 half-width per step from the combined median's own realised
        errors on each server (a normal band of their mean size), starting from `naive`
        (n, T, H) and leaving it as the server's scores come in (`WIDTH_PRIOR` scores count
        as much as the naive shape)."""
        loss, count = self.served_loss[rows], self.served_count[rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_abs = np.where(count > 0, loss / count, 0.0)
        to_steps = _interpolation(list(EVAL_STEPS), naive.shape[2])
        own = (mean_abs * np.sqrt(np.pi / 2) * _Z90) @ to_steps
        trust = (count / (count + WIDTH_PRIOR)) @ to_steps
        return trust * own + (1 - trust) * naive


def _fleet_log_scale(log_scale: np.ndarray, checked: np.ndarray) -> np.ndarray:
    """(T, B) the band factor's log averaged over servers that have been checked."""
    if not len(log_scale):
        return np.zeros(log_scale.shape[1:])
    seen = checked > 0
    total = seen.sum(axis=0)
    mean = np.where(seen, log_scale, 0.0).sum(axis=0) / np.maximum(total, 1)
    return np.where(total > 0, mean, 0.0)


def combine(cands: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(n, T, H) the weighted median of candidates (n, T, H, C) under block weights (n, T, B, C).

    A median, not a mean: it is the combination an absolute error rewards, and a candidate far
    from the others (the last value on a spike) moves it only by outweighing them. (On the
    tuning data a weighted mean served Bitbrains CPU 1 h at 0.84 relative MASE, the median
    at 0.77; every other cell within 0.03.) A step without any candidate gets 0."""
    step_w = weights[:, :, STEP_BLOCKS[: cands.shape[2]]]  # (n, T, H, C)
    seen = np.isfinite(cands)
    order = np.argsort(np.where(seen, cands, np.inf), axis=-1)
    values = np.take_along_axis(np.where(seen, cands, 0.0), order, axis=-1)
    cum = np.cumsum(np.take_along_axis(np.where(seen, step_w, 0.0), order, axis=-1), axis=-1)
    half = np.argmax(cum >= 0.5 * cum[..., -1:], axis=-1)[..., None]
    return np.take_along_axis(values, half, axis=-1)[..., 0]
