"""FleetGrid: the window's servers on one 5-minute grid, as numpy arrays.

`FleetWindow.grid()` builds it for each reader: the prediction cycle (forecasting takes its
buckets from it, `argus.forecast.grid.buckets_of`), cascade detection right after (its cube,
`argus.cascade.cube.from_grid`; a second read re-averages only the buckets touched since), each
drift check (its input values) and each explanation (one server's history).
A grid never reaches further back than the window (`FleetWindow.horizon`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from argus.catalogue import METRIC_NAMES, OPTIONAL_FIELDS, STEP_MINUTES, TARGET_SOURCES, TARGETS

if TYPE_CHECKING:
    import pandas as pd

# The numeric record fields a grid holds, in this order (a bucket's value is the mean of its
# samples' values; a field no sample of the bucket had is NaN).
FIELDS: tuple[str, ...] = (*METRIC_NAMES, *(f.name for f in OPTIONAL_FIELDS))
STEP_NS = STEP_MINUTES * 60 * 1_000_000_000
_EPOCH = datetime(1970, 1, 1)
_STEP = timedelta(minutes=STEP_MINUTES)


def step_of(ts: datetime) -> int:
    """The grid step (5-minute steps since the Unix epoch) a naive-UTC time falls in."""
    return (ts - _EPOCH) // _STEP


@dataclass(frozen=True)
class FleetGrid:
    """`values[s, t, f]`: the mean of field `FIELDS[f]` over server `servers[s]`'s samples in
    grid step `first + t` (NaN: none had it); `observed[s, t]`: a sample arrived in that bucket.

    Servers are sorted by name; every one has at least one observed bucket. Gaps are NaN
    columns, never collapsed, so step `t - 288` is always the same time a day earlier.
    """

    servers: tuple[str, ...]
    profiles: tuple[str, ...]
    first: int  # grid step of column 0
    values: npt.NDArray[np.float64]  # (servers, steps, FIELDS)
    observed: npt.NDArray[np.bool_]  # (servers, steps)

    @classmethod
    def empty(cls) -> FleetGrid:
        return cls((), (), 0, np.empty((0, 0, len(FIELDS))), np.empty((0, 0), dtype=bool))

    @property
    def steps(self) -> int:
        return int(self.values.shape[1])

    def time_idx(self) -> npt.NDArray[np.int64]:
        """(steps,) the grid step of each column."""
        return self.first + np.arange(self.steps, dtype=np.int64)

    def timestamps(self) -> npt.NDArray[np.datetime64]:
        """(steps,) each column's bucket start, datetime64[ns] (naive UTC)."""
        return (self.time_idx() * STEP_NS).astype("datetime64[ns]")

    def field(self, name: str) -> npt.NDArray[np.float64]:
        """(servers, steps) one field's bucket means (a view)."""
        return self.values[:, :, FIELDS.index(name)]

    def targets(self) -> npt.NDArray[np.float64]:
        """(servers, steps, TARGETS) the forecast targets of the bucket means, derived as
        `argus.catalogue.derive_targets` does (NaN where the source field is)."""
        out = np.stack([self.field(TARGET_SOURCES[t]) for t in TARGETS], axis=-1)
        cpu = TARGETS.index("cpu_pct")
        out[..., cpu] = 100.0 - out[..., cpu]
        return out

    def last_steps(self) -> npt.NDArray[np.int64]:
        """(servers,) the grid step of each server's newest observed bucket."""
        if not self.servers:
            return np.empty(0, dtype=np.int64)
        last_col = self.steps - 1 - np.argmax(self.observed[:, ::-1], axis=1)
        return self.first + last_col.astype(np.int64)

    def select(self, keep: Collection[str]) -> FleetGrid:
        """Only the servers in `keep` (the columns stay; the grid itself when it keeps all)."""
        rows = [i for i, name in enumerate(self.servers) if name in keep]
        if len(rows) == len(self.servers):
            return self
        return FleetGrid(
            tuple(self.servers[i] for i in rows),
            tuple(self.profiles[i] for i in rows),
            self.first,
            self.values[rows],
            self.observed[rows],
        )

    def latest_rows(self) -> dict[str, dict[str, Any]]:
        """Each server's newest observed bucket as a feed-schema row (None: a field no sample
        of it had), with `timestamp` (its bucket start), `server_name` and `profile`."""
        out: dict[str, dict[str, Any]] = {}
        for s, (name, step) in enumerate(zip(self.servers, self.last_steps(), strict=True)):
            values = self.values[s, step - self.first]
            row: dict[str, Any] = {
                "timestamp": _datetime(int(step)),
                "server_name": name,
                "profile": self.profiles[s],
            }
            pairs = zip(FIELDS, values.tolist(), strict=True)
            row.update((f, None if v != v else v) for f, v in pairs)  # NaN: no sample had it
            out[name] = row
        return out

    def frame(self) -> pd.DataFrame:
        """The observed buckets as a feed-schema frame (one row per server and bucket, in server
        then time order): for a model without `predict_buckets`, which reads frames."""
        import pandas as pd

        srv, col = np.nonzero(self.observed)
        out = pd.DataFrame(
            {
                "timestamp": ((self.first + col) * STEP_NS).astype("datetime64[ns]"),
                "server_name": np.asarray(self.servers, dtype=object)[srv],
                "profile": np.asarray(self.profiles, dtype=object)[srv],
            }
        )
        picked = self.values[srv, col]
        for f, name in enumerate(FIELDS):
            out[name] = picked[:, f]
        return out


def _datetime(step: int) -> datetime:
    return (np.int64(step) * STEP_NS).astype("datetime64[ns]").astype("datetime64[us]").item()


def build(
    parts: list[tuple[str, str, npt.NDArray[np.int64], npt.NDArray[np.float64]]],
) -> FleetGrid:
    """A grid from (name, profile, sorted grid steps, (steps, FIELDS) means) per server, in name
    order; the columns span the earliest to the newest step any server has."""
    if not parts:
        return FleetGrid.empty()
    first = min(int(p[2][0]) for p in parts)
    last = max(int(p[2][-1]) for p in parts)
    values = np.full((len(parts), last - first + 1, len(FIELDS)), np.nan)
    observed = np.zeros((len(parts), last - first + 1), dtype=bool)
    for s, (_, _, steps, means) in enumerate(parts):
        values[s, steps - first] = means
        observed[s, steps - first] = True
    return FleetGrid(
        tuple(p[0] for p in parts), tuple(p[1] for p in parts), first, values, observed
    )
