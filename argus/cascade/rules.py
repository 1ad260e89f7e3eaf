"""The cascade rules on one window of anomaly signals: the count, correlation and dependency
rules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.cascade.cube import FloatArray
from argus.cascade.settings import CascadeSettings

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Group:
    """Servers (indices) that a rule ties together, in onset order."""

    rule: str  # "count", "correlation" or "dependency"
    metric: int  # index of the metric they share (correlation: the most common one)
    members: tuple[int, ...]
    onsets: tuple[int, ...]  # window index where each member's anomaly began
    correlation: float  # mean pairwise correlation of the members' anomaly signals


@dataclass(frozen=True)
class WindowFindings:
    """What the rules saw in a window whose last step is "now"."""

    anomalous: BoolArray  # per server: any metric anomalous now
    server_onset: IntArray  # per server: window index its current anomaly began (-1: none)
    metric_now: IntArray  # per server: its most anomalous metric now
    correlation_score: float
    groups: tuple[Group, ...]
    linked: tuple[int, ...] = ()  # servers whose earlier anomaly follows the groups' signal
    links: tuple[int, ...] = ()  # per linked server: the group (index) it follows most closely


def _linked(
    server_signal: FloatArray,
    candidates: IntArray,
    onset: IntArray,
    groups: list[Group],
    cfg: CascadeSettings,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Return anomalous servers outside the groups whose anomaly began first and correlates,
    and for each the group whose mean signal it follows most closely.

    An upstream server (a database stalling) often degrades gradually and so correlates less
    with its dependents' sudden jumps than they do with each other; it is still where the
    cascade began.
    """
    members = sorted({s for g in groups for s in g.members})
    if not members:
        return (), ()
    first = min(onset[members])
    reference = server_signal[:, members].mean(axis=1)
    others = np.array([s for s in candidates if s not in set(members) and onset[s] <= first])
    if len(others) == 0:
        return (), ()
    both = np.column_stack([reference, server_signal[:, others]])
    corr = _correlation(both, np.arange(both.shape[1]))[0, 1:]
    linked = others[corr >= cfg.link_correlation]
    if len(linked) == 0:
        return (), ()
    means = [server_signal[:, list(g.members)].mean(axis=1) for g in groups]
    per_group = _correlation(
        np.column_stack([*means, server_signal[:, linked]]), np.arange(len(means) + len(linked))
    )[len(means) :, : len(means)]
    return tuple(int(s) for s in linked), tuple(int(g) for g in per_group.argmax(axis=1))


def _fold_dependencies(groups: list[Group]) -> list[Group]:
    """Merge the dependency rule's pairs that share an upstream into one group: the upstream,
    then its hurt dependents in onset order (one incident, not one pair per dependent)."""
    pairs: dict[int, list[Group]] = {}
    for g in groups:
        if g.rule == "dependency":
            pairs.setdefault(g.members[0], []).append(g)
    folded = []
    for upstream, found in pairs.items():
        found.sort(key=lambda g: (g.onsets[1], g.members[1]))
        metrics = [g.metric for g in found]
        folded.append(
            Group(
                "dependency",
                max(metrics, key=metrics.count),  # the most common; ties: the earliest's
                (upstream, *(g.members[1] for g in found)),
                (found[0].onsets[0], *(g.onsets[1] for g in found)),
                float(np.mean([g.correlation for g in found])),
            )
        )
    return [g for g in groups if g.rule != "dependency"] + folded


def consolidate(groups: list[Group]) -> list[Group]:
    """Return the groups as one list of distinct incidents: the dependency pairs of one upstream
    folded into one group, and a group whose servers another group already names dropped (the
    count and correlation rules often find the same servers). The union of the members, and so
    every server the result names, is unchanged."""
    folded = _fold_dependencies(groups)
    kept: list[Group] = []
    for i, g in enumerate(folded):
        mine = set(g.members)
        covered = any(
            mine < set(o.members) or (mine == set(o.members) and j < i)
            for j, o in enumerate(folded)
            if j != i
        )
        if not covered:
            kept.append(g)
    return kept


def trailing_run(flags: BoolArray) -> IntArray:
    """Return, along axis 0, how many of the last steps are True in a row."""
    w = flags.shape[0]
    reversed_false = ~flags[::-1]
    first_false = np.argmax(reversed_false, axis=0)
    return np.where(reversed_false.any(axis=0), first_false, w).astype(np.int64)


def _largest_cluster(onsets: IntArray, span: int) -> IntArray:
    """Return the positions of the largest set of onsets lying within `span` steps of each other."""
    order = np.argsort(onsets, kind="stable")
    sorted_on = onsets[order]
    best_lo, best_n, lo = 0, 0, 0
    for hi in range(len(sorted_on)):
        while sorted_on[hi] - sorted_on[lo] > span:
            lo += 1
        if hi - lo + 1 > best_n:
            best_lo, best_n = lo, hi - lo + 1
    return order[best_lo : best_lo + best_n]


def _mean_corr(corr: FloatArray, members: IntArray) -> float:
    if len(members) < 2:
        return 0.0
    sub = corr[np.ix_(members, members)]
    n = len(members)
    return float((sub.sum() - np.trace(sub)) / (n * (n - 1)))


def _count_groups(
    flags: BoolArray,
    runs: IntArray,
    cfg: CascadeSettings,
    corr_of: dict[int, int],
    corr: FloatArray,
) -> list[Group]:
    """Apply the count rule: one metric anomalous on >= cascade_servers servers, onsets close."""
    w = flags.shape[0]
    groups = []
    for m in range(flags.shape[2]):
        fresh = np.flatnonzero(flags[-1, :, m] & (runs[:, m] < w))
        if len(fresh) < cfg.cascade_servers:
            continue
        onsets = w - runs[fresh, m]
        picked = _largest_cluster(onsets, cfg.cooccurrence_steps)
        if len(picked) < cfg.cascade_servers:
            continue
        order = picked[np.argsort(onsets[picked], kind="stable")]
        members = fresh[order]
        idx = np.array([corr_of[s] for s in members if s in corr_of], dtype=np.int64)
        groups.append(
            Group(
                "count",
                m,
                tuple(int(s) for s in members),
                tuple(int(o) for o in onsets[order]),
                _mean_corr(corr, idx),
            )
        )
    return groups


def _components(adjacent: BoolArray) -> list[list[int]]:
    """Return the connected components (size >= 2) of an adjacency matrix."""
    n, seen, out = adjacent.shape[0], set(), []
    for start in range(n):
        if start in seen:
            continue
        stack, comp = [start], []
        seen.add(start)
        while stack:
            node = stack.pop()
            comp.append(node)
            for nxt in np.flatnonzero(adjacent[node]):
                if int(nxt) not in seen:
                    seen.add(int(nxt))
                    stack.append(int(nxt))
        if len(comp) >= 2:
            out.append(sorted(comp))
    return out


def _correlation(signal: FloatArray, candidates: IntArray) -> FloatArray:
    """Return the Pearson correlation matrix of the candidates' server signals (NaN -> 0)."""
    x = signal[:, candidates]
    x = x - x.mean(axis=0)
    norm = np.sqrt((x * x).sum(axis=0))
    norm[norm == 0] = np.inf  # a flat signal correlates with nothing
    x = x / norm
    corr = np.clip(x.T @ x, -1.0, 1.0)
    return np.asarray(corr, dtype=np.float64)


def _quorum(group: Group, cfg: CascadeSettings) -> float:
    """How many of a group's members make "the group did this before": `recurrence_share` of
    them, two at least (one server alone is no group)."""
    return max(2.0, cfg.recurrence_share * len(group.members))


def _recurs(group: Group, earlier: Sequence[FloatArray], cfg: CascadeSettings) -> bool:
    """Whether a quorum of the group's members were anomalous on its metric in one of the
    `earlier` signal slices (the same time on an earlier day)."""
    members = list(group.members)
    for past in earlier:
        hits = (past[:, members, group.metric] >= cfg.anomaly_z_score).any(axis=0)
        if hits.sum() >= _quorum(group, cfg):
            return True
    return False


def _dependency_groups(
    server_signal: FloatArray,
    server_runs: IntArray,
    metric_now: IntArray,
    upstreams: Sequence[Sequence[int]],
    cfg: CascadeSettings,
) -> list[Group]:
    """Apply the dependency rule: a fresh anomaly on a server whose upstream (by profile) has
    been anomalous since before it (not for the whole window) and is far beyond the threshold
    now.

    A dependent is hurt when its upstream saturates, which can be hours after the upstream's
    own anomaly began (a connection leak climbs slowly): too late for the onset limits of the
    other two rules, and the two signals hardly correlate.
    """
    if not cfg.dependency_fresh_steps or not upstreams:
        return []
    w = server_signal.shape[0]
    groups = []
    fresh = (server_runs >= cfg.dependency_min_steps) & (server_runs <= cfg.dependency_fresh_steps)
    for d in np.flatnonzero(fresh):
        ups = [
            u
            for u in upstreams[int(d)]
            if server_runs[d] < server_runs[u] < w  # began earlier; not chronic
            and server_signal[-1, u] >= cfg.dependency_upstream_z
        ]
        if not ups:
            continue
        corr = _correlation(server_signal, np.array([d, *ups]))[0, 1:]
        u = ups[int(np.argmax(corr))]
        onsets = (w - int(server_runs[u]), w - int(server_runs[d]))
        pair = (int(u), int(d))
        groups.append(Group("dependency", int(metric_now[d]), pair, onsets, float(corr.max())))
    return groups


def _habitual(group: Group, own_past: FloatArray, cfg: CascadeSettings) -> bool:
    """Whether a quorum of the group's members have been off their baselines together (signal
    >= `habit_z`) on its metric `habit_episodes` times or more in `own_past` (steps x members x
    metrics, in the group's member order): servers of one service that often move together,
    whatever the time of day."""
    together = (own_past[:, :, group.metric] >= cfg.habit_z).sum(axis=1) >= _quorum(group, cfg)
    starts = np.flatnonzero(np.diff(together.astype(np.int8), prepend=np.int8(0)) == 1)
    return len(starts) >= cfg.habit_episodes


# Given servers (indices), their own anomaly signal over the days before the window.
OwnPast = Callable[[Sequence[int]], FloatArray]


def find_groups(
    signal: FloatArray,
    cfg: CascadeSettings,
    earlier: Sequence[FloatArray] = (),
    upstreams: Sequence[Sequence[int]] = (),
    own_past: OwnPast | None = None,
) -> WindowFindings:
    """Apply the rules to `signal` (window steps x servers x metrics), the last step being now.

    `earlier`: the signal around the same time on earlier days (`cfg.recurrence_days`), and
    `own_past`: the members' signal over the days before; a group that was there already at
    this time, or that often is, is a routine, not a cascade. `upstreams`: per server, the
    servers it depends on (none: no dependency rule).
    """
    w = signal.shape[0]
    flags = signal >= cfg.anomaly_z_score
    runs = trailing_run(flags)
    server_signal = signal.max(axis=2)
    server_runs = trailing_run(server_signal >= cfg.anomaly_z_score)
    anomalous = server_runs > 0
    # A server anomalous for the whole window is chronic: it has no onset to line up with others.
    candidates = np.flatnonzero(anomalous & (server_runs < w))
    corr = _correlation(server_signal, candidates)
    corr_of = {int(s): i for i, s in enumerate(candidates)}
    groups = _count_groups(flags, runs, cfg, corr_of, corr)
    onset = np.where(anomalous, w - server_runs, -1).astype(np.int64)
    metric_now = signal[-1].argmax(axis=1).astype(np.int64)
    adjacent = corr >= cfg.correlation
    np.fill_diagonal(adjacent, False)
    for found in _components(adjacent):
        # Servers whose anomalies began hours apart are separate incidents that both persist,
        # not one spreading: keep the largest set whose onsets lie close together.
        comp = np.asarray(found)[_largest_cluster(onset[candidates[found]], cfg.onset_spread_steps)]
        if len(comp) < 2:
            continue
        members = candidates[comp]
        order = np.argsort(onset[members], kind="stable")
        ordered = members[order]
        shared = int(np.bincount(metric_now[ordered]).argmax())
        groups.append(
            Group(
                "correlation",
                shared,
                tuple(int(s) for s in ordered),
                tuple(int(o) for o in onset[ordered]),
                _mean_corr(corr, np.array(comp)[order]),
            )
        )
    groups += _dependency_groups(server_signal, server_runs, metric_now, upstreams, cfg)
    groups = [g for g in groups if not _recurs(g, earlier, cfg)]
    if own_past is not None and cfg.habit_episodes:
        groups = [g for g in groups if not _habitual(g, own_past(g.members), cfg)]
    groups = consolidate(groups)
    off_diagonal = corr[~np.eye(len(candidates), dtype=bool)] if len(candidates) > 1 else None
    score = float(max(0.0, np.max(off_diagonal))) if off_diagonal is not None else 0.0
    linked, links = _linked(server_signal, candidates, onset, groups, cfg)
    return WindowFindings(anomalous, onset, metric_now, score, tuple(groups), linked, links)
