"""The fleet on the 5-minute grid as numpy arrays: what every forecaster and the serving layer read.

`buckets_of` takes a forecaster's `Buckets` from the window's `FleetGrid` (the daemon's path: the
window is gridded once). `bucket_frame` does the same for a feed-schema frame (a model's own
`predict(frame)`, files, explanations' what-if copies), equal to `frame.to_grid` row for row,
without pandas' per-group work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from argus.catalogue import TARGETS, profile_for
from argus.errors import InvalidInputError
from argus.forecast.frame import (
    STEP_NS,
    TARGET_FIELDS,
    ServerSeries,
    _naive_utc,
    steps_to_timestamps,
    target_array,
)
from argus.grid import FIELDS, FleetGrid

# ---------------------------------------------------------------------------------------------
# Gridding: the feed frame as per-server dense arrays (what to_grid + trim_history give)


@dataclass(frozen=True)
class Buckets:
    """A feed frame on the 5-minute grid: one row per (server, observed bucket), server-sorted.

    Equal to `to_grid(_recent(frame, history))` row for row (same bucket means, same filling).
    """

    names: tuple[str, ...]  # sorted server names
    profiles: tuple[str, ...]
    starts: np.ndarray  # (servers + 1,) first row of each server
    time_idx: np.ndarray  # (rows,) int64
    values: np.ndarray  # (rows, targets) float64

    def counts(self) -> np.ndarray:
        return np.diff(self.starts)

    def recent(self, length: int) -> np.ndarray:
        """(servers, length, targets): each server's last `length` buckets, NaN where none."""
        n = len(self.names)
        # one spare row takes the buckets before the window (cheaper than selecting the rest)
        out = np.full((n * length + 1, self.values.shape[1]), np.nan)
        server = np.repeat(np.arange(n), self.counts())
        last = self.time_idx[self.starts[1:] - 1]
        pos = self.time_idx - (last[server] - length + 1)
        out[np.where(pos >= 0, server * length + pos, n * length)] = self.values
        return out[:-1].reshape(n, length, self.values.shape[1])

    def frame(self) -> pd.DataFrame:
        """The buckets as a grid frame (`frame.GRID_COLUMNS`), equal to what `to_grid` gives
        for the same samples."""
        server = np.repeat(np.arange(len(self.names)), self.counts())
        out = pd.DataFrame(
            {
                "server": np.asarray(self.names, dtype=object)[server],
                "profile": np.asarray(self.profiles, dtype=object)[server],
                "time_idx": self.time_idx,
                "timestamp": steps_to_timestamps(self.time_idx),
            }
        )
        for t, target in enumerate(TARGETS):
            out[target] = self.values[:, t]
        return out

    def series(self, server: int) -> ServerSeries:
        """One server as the dense array the baseline forecasters read (NaN in gaps)."""
        a, b = self.starts[server], self.starts[server + 1]
        idx = self.time_idx[a:b]
        dense = np.full((int(idx[-1] - idx[0]) + 1, len(TARGETS)), np.nan)
        dense[idx - idx[0]] = self.values[a:b]
        return ServerSeries(self.names[server], self.profiles[server], int(idx[0]), dense)


def _stamps_ns(values: pd.Series) -> np.ndarray:
    """Timestamps as naive-UTC int64 nanoseconds (skips string parsing when already datetimes)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return (
            values.dt.tz_convert("UTC")
            .dt.tz_localize(None)
            .to_numpy("datetime64[ns]")
            .view(np.int64)
        )
    if isinstance(values.dtype, np.dtype) and np.issubdtype(values.dtype, np.datetime64):
        return values.to_numpy("datetime64[ns]").view(np.int64)
    return _naive_utc(values).to_numpy("datetime64[ns]").view(np.int64)


def _segment_fill(values: np.ndarray, starts: np.ndarray, reverse: bool) -> np.ndarray:
    """Forward (or backward) fill NaNs of `values` (rows, cols) within row segments."""
    if np.isfinite(values).all():
        return values
    rows = len(values)
    seg = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    out = values.copy()
    order = np.arange(rows)
    for c in range(values.shape[1]):
        col = values[::-1, c] if reverse else values[:, c]
        ok = np.isfinite(col)
        if ok.all():
            continue  # the common case: nothing to fill
        idx = np.maximum.accumulate(np.where(ok, order, -1))
        first = (rows - starts[1:] if reverse else starts[:-1])[seg[::-1] if reverse else seg]
        use = (idx >= first) & (idx >= 0)
        filled = np.where(use, col[np.maximum(idx, 0)], np.nan)
        out[:, c] = filled[::-1] if reverse else filled
    return out


def _bucket_means(values: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Means of the finite values of each run of rows (a run starts where `new` is True)."""
    bucket = np.cumsum(new) - 1
    size = int(bucket[-1]) + 1
    out = np.empty((size, values.shape[1]))
    for c in range(values.shape[1]):
        col = values[:, c]
        ok = np.isfinite(col)
        sums = np.bincount(bucket, weights=np.where(ok, col, 0.0), minlength=size)
        counts = np.bincount(bucket, weights=ok, minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, c] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return out


def bucket_frame(frame: pd.DataFrame, history_steps: int) -> Buckets:
    """Each server's samples of its last `history_steps + 1` buckets, averaged per bucket.

    The same selection as `tft._recent` followed by `frame.to_grid`: a missing metric carries
    the server's previous value (else its next one, else 0); the latest profile the server
    reported wins, else the one its name implies.
    """
    missing = {"timestamp", "server_name"} - set(frame.columns)
    if missing:
        raise InvalidInputError(f"frame lacks column(s): {', '.join(sorted(missing))}")
    stamps = _stamps_ns(frame["timestamp"])
    codes, names = _server_codes(frame["server_name"])
    last = np.full(len(names) + 1, np.iinfo(np.int64).min)  # the spare slot: rows without a name
    np.maximum.at(last, codes, stamps)
    rows = np.flatnonzero((codes >= 0) & (stamps > last[codes] - STEP_NS * (history_steps + 1)))
    rows = rows[_server_time_order(codes[rows], stamps[rows] // STEP_NS)]
    codes, tidx = codes[rows], stamps[rows] // STEP_NS
    # the targets from the columns themselves (no copies of the 8 fields), then one gather
    fields = {c: frame[c].to_numpy() for c in TARGET_FIELDS if c in frame}
    values = target_array(fields, len(frame))
    if not np.array_equal(rows, np.arange(len(frame))):  # a recent, ordered feed needs none
        values = values[rows]
    new = np.ones(len(tidx), dtype=bool)
    new[1:] = (codes[1:] != codes[:-1]) | (tidx[1:] != tidx[:-1])
    firsts = np.flatnonzero(new)
    means = values if len(firsts) == len(values) else _bucket_means(values, new)
    starts = np.searchsorted(codes[firsts], np.arange(len(names) + 1))
    filled = _segment_fill(means, starts, reverse=False)
    filled = _segment_fill(filled, starts, reverse=True)
    filled[~np.isfinite(filled)] = 0.0  # an array of our own: no copy
    return Buckets(
        names=tuple(str(n) for n in names),
        profiles=_profiles(frame, rows, codes, names),
        starts=starts,
        time_idx=tidx[firsts],
        values=filled,
    )


def buckets_of(grid: FleetGrid, history_steps: int) -> Buckets:
    """`bucket_frame` of the grid's observed buckets: each server's buckets of its last
    `history_steps + 1` steps, the targets derived from the bucket means and filled alike."""
    last = grid.last_steps()
    keep = grid.observed & (grid.time_idx()[None, :] >= (last - history_steps)[:, None])
    srv, col = np.nonzero(keep)  # server-major, in time order: the order Buckets keeps
    picked = grid.values[srv, col]
    values = target_array({f: picked[:, FIELDS.index(f)] for f in TARGET_FIELDS}, len(srv))
    starts = np.searchsorted(srv, np.arange(len(grid.servers) + 1))
    filled = _segment_fill(values, starts, reverse=False)
    filled = _segment_fill(filled, starts, reverse=True)
    filled[~np.isfinite(filled)] = 0.0
    return Buckets(
        names=grid.servers,
        profiles=grid.profiles,
        starts=starts,
        time_idx=grid.first + col.astype(np.int64),
        values=filled,
    )


def _server_codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Each row's server number (-1: no name; `to_grid` drops such rows too) and the servers'
    names as strings, sorted."""
    codes, uniques = pd.factorize(column, sort=False)
    # factorising the few names rather than the column's strings is faster, and values that
    # differ but read the same (1 and "1") become one server
    same, names = pd.factorize(pd.Index(uniques).astype(str), sort=True)
    return np.append(same, -1)[codes], names  # -1 stays -1


def _server_time_order(codes: np.ndarray, tidx: np.ndarray) -> np.ndarray:
    """Positions that order rows by server, then bucket (a stable sort). A feed's usual order,
    server by server and in time order within each, takes moving whole blocks instead."""
    change = np.flatnonzero(np.diff(codes)) + 1
    firsts = np.concatenate([[0], change]) if len(codes) else change
    block_codes = codes[firsts]
    in_time = np.diff(tidx) >= 0
    in_time[change - 1] = True  # a block's start may be earlier than the last block's end
    if not in_time.all() or len(np.unique(block_codes)) < len(block_codes):
        return np.lexsort((tidx, codes))
    order = np.argsort(block_codes)
    sizes = np.diff(np.append(firsts, len(codes)))[order]
    offsets = np.arange(len(codes)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return np.repeat(firsts[order], sizes) + offsets


def _profiles(
    frame: pd.DataFrame, rows: np.ndarray, codes: np.ndarray, names: pd.Index
) -> tuple[str, ...]:
    """The profile each server last reported (in row order), else the one its name implies."""
    latest: dict[int, str] = {}
    if "profile" in frame:
        prof = frame["profile"].to_numpy(dtype=object)[rows]
        given = pd.notna(prof)
        if given.any():
            pos = np.flatnonzero(given)
            best = np.full(len(names), -1)
            np.maximum.at(best, codes[pos], rows[pos])
            at = {int(r): i for i, r in enumerate(rows)}
            latest = {s: str(prof[at[int(r)]]) for s, r in enumerate(best) if r >= 0}
    return tuple(latest.get(i) or profile_for(str(n)) for i, n in enumerate(names))


