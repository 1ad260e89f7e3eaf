"""Cascade episodes: which detections belong to one incident (one stored event, one alert).

An episode is one incident. A detection's cascades that overlap substantially (more than half
of the smaller server set shared) are one group; a group continues the open episode it
overlaps substantially (a cascade spreading to more dependents), and otherwise opens a new
episode: sharing one server with an earlier, unrelated pair is not enough to be filed under it.
An episode that no detection has named for longer than `episode_gap_steps` is closed. Several
episodes can be open at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from argus.cascade.bands import Severity
from argus.cascade.dependencies import recommendations
from argus.cascade.result import Cascade, CascadeResult
from argus.cascade.settings import CascadeSettings
from argus.catalogue import STEP_MINUTES

SEVERITY_ORDER: tuple[Severity, ...] = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class Episode:
    """One incident across detections."""

    start: datetime  # data time of its first detection: its identity (event, alert)
    last_seen: datetime  # data time of the last detection that named it
    servers: frozenset[str]  # every server it has named
    peak: int  # most servers one detection showed for it (its stored event shows that one)


@dataclass(frozen=True)
class EpisodeView:
    """What one detection shows of one episode: the content of its stored event."""

    episode: Episode  # as it stands after this detection
    new: bool  # this detection opened it
    grew: bool  # it shows more servers than any earlier detection did
    cascades: tuple[Cascade, ...]
    affected_servers: tuple[str, ...]  # its servers this detection names, in onset order
    origin: str | None  # the first of them: where the incident began
    origin_profile: str | None
    severity: Severity
    correlation_score: float  # the highest mean correlation among its cascades
    recommendations: tuple[str, ...]


@dataclass(frozen=True)
class Tracking:
    """The episodes after one detection."""

    episodes: tuple[Episode, ...]  # open ones, oldest first
    views: tuple[EpisodeView, ...]  # those this detection named, oldest first


def _substantial(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> bool:
    """More than half of the smaller set is shared: one server of a pair is not enough."""
    return 2 * len(a & b) > min(len(a), len(b))


def _clusters(result: CascadeResult) -> list[tuple[list[int], frozenset[str]]]:
    """Group this detection's cascades into incidents: cascades whose servers (linked ones
    included) overlap substantially, transitively. Returns (cascade indices, servers)."""
    members = [set(c.affected_servers) for c in result.cascades]
    for server, index in result.linked:
        members[index].add(server)
    parent = list(range(len(members)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(len(members)):
        for j in range(i):
            if _substantial(members[i], members[j]):
                parent[root(i)] = root(j)
    found: dict[int, list[int]] = {}
    for i in range(len(members)):
        found.setdefault(root(i), []).append(i)
    return [(idx, frozenset(s for i in idx for s in members[i])) for idx in found.values()]


def _continued(servers: frozenset[str], episodes: dict[datetime, Episode]) -> datetime | None:
    """The open episode (its start) that `servers` continue: of those it overlaps
    substantially, the one sharing the most servers, the older on a tie; None: none."""
    best: tuple[int, datetime] | None = None
    for start, episode in sorted(episodes.items()):
        shared = len(servers & episode.servers)
        if _substantial(servers, episode.servers) and (best is None or shared > best[0]):
            best = (shared, start)
    return None if best is None else best[1]


def _view(
    result: CascadeResult,
    episode: Episode,
    indices: Sequence[int],
    new: bool,
    elsewhere: frozenset[str],
) -> EpisodeView:
    """The episode as this detection shows it: its cascades and the servers they name, with
    the servers linked to them by correlation alone unless another open episode (`elsewhere`)
    has named them: an ongoing incident's server is not this one's origin on that evidence."""
    cascades = tuple(result.cascades[i] for i in sorted(indices))
    named = {s for c in cascades for s in c.affected_servers}
    named |= {s for s, i in result.linked if i in indices and s not in elsewhere}
    affected = tuple(s for s in result.affected_servers if s in named)
    profiles = dict(zip(result.affected_servers, result.affected_profiles, strict=False))
    origin = affected[0] if affected else None
    origin_profile = profiles.get(origin) if origin else None
    advice = recommendations(
        origin,
        origin_profile,
        [(s, profiles.get(s, "")) for s in affected],
        [c.metric for c in cascades],
    )
    grown = replace(episode, servers=episode.servers | named, peak=max(episode.peak, len(affected)))
    return EpisodeView(
        grown,
        new,
        new or len(affected) > episode.peak,
        cascades,
        affected,
        origin,
        origin_profile,
        max((c.severity for c in cascades), key=SEVERITY_ORDER.index),
        max(c.correlation for c in cascades),
        advice if affected else (),
    )


def episode_gap(cfg: CascadeSettings) -> timedelta:
    """How long an episode may go unseen and still be open."""
    return timedelta(minutes=STEP_MINUTES * cfg.episode_gap_steps)


def track(episodes: Sequence[Episode], result: CascadeResult, cfg: CascadeSettings) -> Tracking:
    """Close the episodes not seen for longer than the gap, file this detection's groups under
    the open episodes they continue, and open one new episode for the rest."""
    gap = episode_gap(cfg)
    now = result.timestamp
    alive = {e.start: e for e in episodes if now - e.last_seen <= gap}
    filed: dict[datetime, list[int]] = {}
    opening: list[int] = []
    for indices, servers in _clusters(result):
        start = _continued(servers, alive)
        if start is None:
            opening.extend(indices)
        else:
            filed.setdefault(start, []).extend(indices)
    # Groups first seen in the same detection are one new episode (it is named by its start);
    # the same bucket detected again after a restart continues the episode it opened.
    opened = bool(opening) and now not in alive
    if opening:
        alive.setdefault(now, Episode(now, now, frozenset(), 0))
        filed.setdefault(now, []).extend(opening)
    views = []
    for start in sorted(filed):
        seen = replace(alive[start], last_seen=now)
        elsewhere = frozenset(s for k, e in alive.items() if k != start for s in e.servers)
        view = _view(result, seen, filed[start], opened and start == now, elsewhere)
        alive[start] = view.episode
        views.append(view)
    return Tracking(tuple(alive[s] for s in sorted(alive)), tuple(views))
