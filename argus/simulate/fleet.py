"""The simulated fleet: server names, profiles and each server's own levels, drawn once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.catalogue import STEP_MINUTES, profile_for
from argus.simulate.cascades import DEPENDENCIES
from argus.simulate.profiles import FLEET_MIX, PROFILE_SPECS, FloatArray, Range

STEPS_PER_DAY = 24 * 60 // STEP_MINUTES
DEFAULT_SERVERS = 45


@dataclass(frozen=True)
class Fleet:
    """Static description of every server; arrays are indexed by server position."""

    names: tuple[str, ...]
    profiles: tuple[str, ...]
    levels: dict[str, FloatArray]  # per-server parameters, see `_LEVEL_FIELDS`
    upstreams: tuple[tuple[int, ...], ...]  # for each server, the servers it depends on

    @property
    def size(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        """Return the position of the server called `name`."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no simulated server named {name!r}") from None

    def dependents(self, server: int) -> tuple[int, ...]:
        """Return the servers that depend on `server`."""
        return tuple(i for i, ups in enumerate(self.upstreams) if server in ups)


# Profile range each per-server level is drawn from.
_LEVEL_FIELDS: tuple[str, ...] = (
    "cpu_base",
    "cpu_amp",
    "iowait_base",
    "iowait_amp",
    "mem_base",
    "mem_amp",
    "disk_start",
    "disk_growth_day",
    "net_in",
    "net_out",
    "close_wait_back",
    "close_wait_front",
)


def fleet_names(n_servers: int) -> list[str]:
    """Return `n_servers` names spread over the profiles like the default 45-server fleet."""
    if n_servers < 1:
        raise ValueError("a fleet needs at least one server")
    total = sum(share for _, share in FLEET_MIX)
    exact = [share * n_servers / total for _, share in FLEET_MIX]
    counts = [int(x) for x in exact]
    # Largest remainder, ties broken by table order (databases first: they start cascades).
    order = sorted(range(len(exact)), key=lambda i: (counts[i] - exact[i], i))
    for i in order[: n_servers - sum(counts)]:
        counts[i] += 1
    names: list[str] = []
    for (prefix, _), count in zip(FLEET_MIX, counts, strict=True):
        names.extend(f"{prefix}{k:03d}" for k in range(1, count + 1))
    return names


def _draw(rng: np.random.Generator, ranges: list[Range]) -> FloatArray:
    lo = np.array([r[0] for r in ranges], dtype=float)
    hi = np.array([r[1] for r in ranges], dtype=float)
    return lo + (hi - lo) * rng.random(len(ranges))


def _upstreams(profiles: list[str]) -> tuple[tuple[int, ...], ...]:
    """Wire each dependent to one server of each upstream profile, round-robin."""
    by_profile: dict[str, list[int]] = {}
    for i, profile in enumerate(profiles):
        by_profile.setdefault(profile, []).append(i)
    wiring: list[list[int]] = [[] for _ in profiles]
    for dep in DEPENDENCIES:
        uppers = by_profile.get(dep.upstream, [])
        for ordinal, i in enumerate(by_profile.get(dep.downstream, [])):
            if uppers:
                wiring[i].append(uppers[ordinal % len(uppers)])
    return tuple(tuple(dict.fromkeys(w)) for w in wiring)


def build_fleet(n_servers: int, rng: np.random.Generator) -> Fleet:
    """Draw a fleet of `n_servers` with profile-typical levels."""
    names = fleet_names(n_servers)
    profiles = [profile_for(name) for name in names]
    specs = [PROFILE_SPECS[p] for p in profiles]
    levels = {f: _draw(rng, [getattr(s, f) for s in specs]) for f in _LEVEL_FIELDS}
    disk_io: npt.NDArray[np.float64] = _draw(rng, [s.disk_io or (0.0, 0.0) for s in specs])
    levels["disk_io"] = np.where([s.disk_io is None for s in specs], np.nan, disk_io)
    levels["disk_growth_step"] = levels.pop("disk_growth_day") / STEPS_PER_DAY
    levels["disk_cleanup_at"] = 72.0 + 8.0 * rng.random(n_servers)
    levels["swap_floor"] = 4.0 * rng.random(n_servers)
    levels["uptime_steps"] = np.floor(STEPS_PER_DAY * (1 + 300 * rng.random(n_servers)))
    levels["java_jitter"] = 0.9 + 0.1 * rng.random(n_servers)
    for name in ("sys_share", "java_share", "weekend", "phi"):
        levels[name] = np.array([getattr(s, name) for s in specs], dtype=float)
    levels["cores"] = np.array([s.cores for s in specs], dtype=float)
    return Fleet(tuple(names), tuple(profiles), levels, _upstreams(profiles))
