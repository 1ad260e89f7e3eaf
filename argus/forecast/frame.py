"""Feed-schema frames onto the 5-minute grid: bucket means, derived targets, model covariates.

A "grid frame" has one row per server per observed 5-minute bucket (gaps stay gaps: a missing
bucket is a missing row, never collapsed) with columns `server`, `profile`, `time_idx` (global
5-minute step number since the Unix epoch, so the same step is the same time on every server),
`timestamp` (the bucket start) and the targets of `argus.catalogue.TARGETS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from argus.catalogue import STEP_MINUTES, TARGETS, profile_for
from argus.errors import InvalidInputError

STEP_NS = STEP_MINUTES * 60 * 1_000_000_000
DAY_STEPS = 24 * 60 // STEP_MINUTES  # 288
TIME_COVARIATES: tuple[str, ...] = ("tod_sin", "tod_cos", "dow_sin", "dow_cos")
LAG_SUFFIX = "_lag1d"
LAG_COVARIATES: tuple[str, ...] = tuple(t + LAG_SUFFIX for t in TARGETS)
GRID_COLUMNS: tuple[str, ...] = ("server", "profile", "time_idx", "timestamp", *TARGETS)

# target -> the feed field it is read from (cpu_pct is derived separately).
_DIRECT_FIELDS = {
    "mem_pct": "mem_used_pct",
    "swap_pct": "swap_used_pct",
    "iowait_pct": "cpu_iowait_pct",
    "load": "load_average",
    "disk_pct": "disk_usage_pct",
}
# Every feed field the targets are derived from.
TARGET_FIELDS: tuple[str, ...] = (
    "cpu_idle_pct",
    "cpu_user_pct",
    "cpu_sys_pct",
    *_DIRECT_FIELDS.values(),
)


def read_feed_file(path: Path) -> pd.DataFrame:
    """Read a feed-schema CSV (optionally .gz) or Parquet file."""
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"cannot read {path}: {exc}") from exc
    return frame


def _naive_utc(values: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(values, utc=True, format="mixed")
    return stamps.dt.tz_localize(None).astype("datetime64[ns]")


def target_array(fields: dict[str, np.ndarray], rows: int) -> np.ndarray:
    """(rows, targets): argus.catalogue.derive_targets on feed columns; a field not given,
    or a value that is not a number, gives NaN."""

    def col(name: str) -> np.ndarray:
        if name not in fields:
            return np.full(rows, np.nan)
        values = fields[name]
        if values.dtype.kind in "fiub":
            return values.astype(np.float64, copy=False)
        return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(np.float64)

    out = np.empty((rows, len(TARGETS)))
    cpu = 100.0 - col("cpu_idle_pct")
    # Without idle, user + sys + iowait is the same quantity (DESIGN.md §2).
    busy = col("cpu_user_pct") + col("cpu_sys_pct") + col("cpu_iowait_pct")
    out[:, TARGETS.index("cpu_pct")] = np.where(np.isnan(cpu), busy, cpu)
    for target, field in _DIRECT_FIELDS.items():
        out[:, TARGETS.index(target)] = col(field)
    return out


def _derive_targets(frame: pd.DataFrame) -> pd.DataFrame:
    """`target_array` of a feed frame, as a frame with its index."""
    fields = {c: frame[c].to_numpy() for c in TARGET_FIELDS if c in frame}
    return pd.DataFrame(target_array(fields, len(frame)), index=frame.index, columns=list(TARGETS))


def to_grid(frame: pd.DataFrame) -> pd.DataFrame:
    """Bucket a feed-schema frame onto the 5-minute grid (means per bucket) with the targets.

    For data that arrives as a long frame: training, calibration and backtests read a file or
    the store, never the live window. The daemon's window is gridded once per reader as a
    `argus.grid.FleetGrid` (`FleetWindow.grid()`); `argus.forecast.grid.Buckets.frame` gives
    this same frame from it where pandas is wanted (explanations).
    """
    missing = {"timestamp", "server_name"} - set(frame.columns)
    if missing:
        raise InvalidInputError(f"frame lacks column(s): {', '.join(sorted(missing))}")
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in GRID_COLUMNS})
    stamps = _naive_utc(frame["timestamp"])
    work = _derive_targets(frame)
    work["server"] = frame["server_name"].astype(str)
    work["time_idx"] = stamps.astype("int64") // STEP_NS
    if "profile" in frame:
        work["profile"] = frame["profile"].astype("string").where(frame["profile"].notna())
    else:
        work["profile"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    grouped = work.groupby(["server", "time_idx"], sort=True)
    grid = grouped[list(TARGETS)].mean().reset_index()
    # The latest profile a server reported wins; else the one its name implies.
    profiles = work.dropna(subset=["profile"]).groupby("server")["profile"].last()
    names = grid["server"].drop_duplicates()
    by_name = {n: profiles.get(n) or profile_for(n) for n in names}
    grid["profile"] = grid["server"].map(by_name).astype(str)
    grid["timestamp"] = pd.to_datetime(grid["time_idx"] * STEP_NS).astype("datetime64[ns]")
    # A metric missing from one bucket carries the server's previous value; a metric a server
    # never sent is 0 (the model needs a number; 0 is what an absent swap or iowait means).
    filled = grid.groupby("server")[list(TARGETS)].ffill()
    grid[list(TARGETS)] = filled.fillna(grid.groupby("server")[list(TARGETS)].bfill()).fillna(0.0)
    return grid[list(GRID_COLUMNS)].reset_index(drop=True)


def forward_fill(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Repeat the last finite value over NaN gaps along `axis` (leading NaNs stay NaN).

    Returns `values` itself when there is nothing to fill (the common case: a full history).
    """
    if np.isfinite(values).all():
        return values
    shape = [1] * values.ndim
    shape[axis] = values.shape[axis]
    idx = np.where(np.isfinite(values), np.arange(values.shape[axis]).reshape(shape), 0)
    np.maximum.accumulate(idx, axis=axis, out=idx)
    return np.take_along_axis(values, idx, axis=axis)


def last_finite(values: np.ndarray) -> np.ndarray:
    """(n, T) the last finite value of each series of `values` (n, L, T) along its steps (NaN
    where none): `forward_fill(values, axis=1)[:, -1]` without filling every step."""
    if np.isfinite(values[:, -1]).all():  # the common case: every series reported last
        return values[:, -1].copy()
    seen = np.isfinite(values)
    back = np.argmax(seen[:, ::-1], axis=1)  # steps from the end to the last finite one
    at = (values.shape[1] - 1 - back)[:, None, :]
    return np.take_along_axis(values, at, axis=1)[:, 0]


def steps_to_timestamps(time_idx: np.ndarray) -> np.ndarray:
    """Grid step numbers to datetime64[ns] bucket starts."""
    return (np.asarray(time_idx, dtype=np.int64) * STEP_NS).astype("datetime64[ns]")


def trim_history(grid: pd.DataFrame, steps: int) -> pd.DataFrame:
    """Keep each server's last `steps` grid steps (by time, not by row count)."""
    last = grid.groupby("server")["time_idx"].transform("max")
    return grid[grid["time_idx"] > last - steps].reset_index(drop=True)


def future_rows(grid: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """`horizon` rows per server after its last bucket; targets hold the last value."""
    last = grid.groupby("server", sort=False).tail(1)
    reps = last.loc[last.index.repeat(horizon)].reset_index(drop=True)
    reps["time_idx"] = reps["time_idx"].to_numpy() + np.tile(np.arange(1, horizon + 1), len(last))
    reps["timestamp"] = steps_to_timestamps(reps["time_idx"].to_numpy())
    return reps


def median_of_layers(layers: list[np.ndarray]) -> np.ndarray:
    """The elementwise median of the finite values of `layers` (arrays of one shape), NaN
    where none is finite: `np.nanmedian`'s result (the mean of the two middle values for an
    even count), bit for bit, so both prediction paths and training agree.

    Sorts the few values of each element with a compare-exchange network of elementwise
    minima and maxima (odd-even transposition: k rounds for k layers), which for a week's
    seven days is several times faster than sorting along a short last axis.
    """
    ok = [np.isfinite(a) for a in layers]
    count = np.sum(ok, axis=0)
    ordered = [np.where(good, a, np.inf) for good, a in zip(ok, layers, strict=True)]
    k = len(ordered)
    for rank in range(k):
        for j in range(rank % 2, k - 1, 2):
            a, b = ordered[j], ordered[j + 1]
            ordered[j], ordered[j + 1] = np.minimum(a, b), np.maximum(a, b)
    low, high = _pick(ordered, (count - 1) // 2), _pick(ordered, count // 2)
    with np.errstate(invalid="ignore"):
        return np.where(count > 0, (low + high) / 2, np.nan)


def _pick(ordered: list[np.ndarray], rank: np.ndarray) -> np.ndarray:
    """Elementwise `ordered[rank]` (`rank` clipped to the list)."""
    out = ordered[0].copy()
    for r in range(1, len(ordered)):
        np.copyto(out, ordered[r], where=rank >= r)
    return out


def same_time_median(values: np.ndarray, start: int, length: int, days: int) -> np.ndarray:
    """(n, length, T): for positions start..start+length-1 of `values` (n, steps, T), the median
    of its values at the same time on each of the `days` days before (NaN ones and days before
    the array left out; NaN where none is left). Every position read must lie before the array's
    end, which holds for positions up to a day after it.
    """
    layers = []
    for d in range(1, days + 1):
        first = start - d * DAY_STEPS  # the source of position `start`
        skip = max(0, -first)
        layer = np.full((values.shape[0], length, values.shape[2]), np.nan)
        if skip < length:
            layer[:, skip:] = values[:, first + skip : first + length]
        layers.append(layer)
    return median_of_layers(layers)


def add_covariates(grid: pd.DataFrame, days: int = 1) -> pd.DataFrame:
    """Add the known covariates: time of day, day of week, and each target's seasonal value.

    The seasonal value of a step is the median of the target at the same time of day on each of
    the `days` days before it (those observed); with `days` 1 it is the value a day earlier.
    It is known in advance for any horizon up to a day, which lets the model learn a
    correction to it. A week's median is the server's usual level at that time: one noisy
    or unusual day does not move it, and five working days outvote a weekend. Where no such
    day was observed the latest earlier value is used (still at least a day old, so no
    leakage); before a server's first full day it is the server's first value.
    """
    out = grid.copy()
    time_idx = out["time_idx"].to_numpy()
    minutes = (time_idx * STEP_MINUTES) % (24 * 60)
    day = (time_idx // DAY_STEPS + 3) % 7  # 1970-01-01 was a Thursday
    out["tod_sin"] = np.sin(2 * np.pi * minutes / (24 * 60))
    out["tod_cos"] = np.cos(2 * np.pi * minutes / (24 * 60))
    out["dow_sin"] = np.sin(2 * np.pi * day / 7)
    out["dow_cos"] = np.cos(2 * np.pi * day / 7)
    index = pd.MultiIndex.from_arrays([grid["server"], grid["time_idx"]])
    values = grid[list(TARGETS)].to_numpy(dtype=np.float64)
    layers = []
    for d in range(1, days + 1):
        at = index.get_indexer(pd.MultiIndex.from_arrays([out["server"], time_idx - d * DAY_STEPS]))
        layer = np.full(values.shape, np.nan)
        layer[at >= 0] = values[at[at >= 0]]
        layers.append(layer)
    cols = list(LAG_COVARIATES)
    out[cols] = median_of_layers(layers)
    out[cols] = out.groupby("server", sort=False)[cols].ffill()
    firsts = out.groupby("server", sort=False)[list(TARGETS)].transform("first")
    out[cols] = out[cols].fillna(firsts.rename(columns=dict(zip(TARGETS, cols, strict=True))))
    return out


def seasonal_difference(grid: pd.DataFrame) -> pd.DataFrame:
    """`add_covariates`'s frame with each target replaced by its departure from its seasonal value.

    A network trained on these forecasts a correction to the seasonal value (with one day, to
    seasonal naive): it starts near "the usual level at that time", which minutes of CPU
    training did not teach a network that forecasts levels (docs/benchmarks.md). Forecasts are
    turned back into levels by adding the same covariate (`future_lags`).
    """
    out = grid.copy()
    for target in TARGETS:
        out[target] = out[target].to_numpy() - out[target + LAG_SUFFIX].to_numpy()
    return out


def network_frame(grid: pd.DataFrame, differenced: bool, days: int = 1) -> pd.DataFrame:
    """A grid frame as the network reads it: covariates added, targets differenced if so set."""
    out = add_covariates(grid, days)
    return seasonal_difference(out) if differenced else out


def future_lags(full: pd.DataFrame, servers: tuple[str, ...], horizon: int) -> np.ndarray:
    """(servers, targets, horizon): the seasonal covariate of each server's last `horizon` rows.

    `full` is sorted by server and time, with its future rows last (as prediction builds it).
    """
    tail = full.groupby("server", sort=False).tail(horizon)
    by_server = dict(tuple(tail.groupby("server", sort=False)[list(LAG_COVARIATES)]))
    out = np.empty((len(servers), len(TARGETS), horizon))
    for i, name in enumerate(servers):
        out[i] = by_server[name].to_numpy(dtype=np.float64).T
    return out


@dataclass(frozen=True)
class ServerSeries:
    """One server's targets as a dense grid array (NaN rows where no sample arrived)."""

    name: str
    profile: str
    start: int  # time_idx of values[0]
    values: np.ndarray  # (steps, targets)

    @property
    def last(self) -> int:
        return self.start + len(self.values) - 1

    @property
    def observed(self) -> int:
        """Buckets that hold a sample."""
        return int(np.isfinite(self.values[:, 0]).sum())


def server_series(grid: pd.DataFrame) -> list[ServerSeries]:
    """Split a grid frame into dense per-server arrays, in server-name order."""
    out: list[ServerSeries] = []
    for name, part in grid.groupby("server", sort=True):
        idx = part["time_idx"].to_numpy(dtype=np.int64)
        dense = np.full((int(idx.max() - idx.min()) + 1, len(TARGETS)), np.nan)
        dense[idx - idx.min()] = part[list(TARGETS)].to_numpy(dtype=np.float64)
        out.append(ServerSeries(str(name), str(part["profile"].iloc[-1]), int(idx.min()), dense))
    return out


def grid_to_feed(grid: pd.DataFrame) -> pd.DataFrame:
    """A feed-schema frame whose `to_grid` is `grid` again (the target fields only)."""
    return pd.DataFrame(
        {
            "timestamp": grid["timestamp"].to_numpy(),
            "server_name": grid["server"].to_numpy(),
            "profile": grid["profile"].to_numpy(),
            "cpu_idle_pct": 100.0 - grid["cpu_pct"].to_numpy(),
            **{field: grid[target].to_numpy() for target, field in _DIRECT_FIELDS.items()},
        }
    )
