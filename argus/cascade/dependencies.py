"""Which profiles depend on which, and the advice a cascade's shape suggests."""

from __future__ import annotations

from collections.abc import Sequence

# The simulator owns the one profile dependency graph (argus/simulate/cascades.py, numpy-free
# core); detection reads the same table so advice and simulated spread never disagree.
from argus.simulate.cascades import DEPENDENCIES


def upstreams_of(profile: str) -> tuple[str, ...]:
    """Return the profiles that servers of `profile` depend on."""
    return tuple(d.upstream for d in DEPENDENCIES if d.downstream == profile)


def upstream_servers(profiles: Sequence[str]) -> tuple[tuple[int, ...], ...]:
    """Return, per server, the indices of the servers whose profile it depends on."""
    by_profile: dict[str, list[int]] = {}
    for i, profile in enumerate(profiles):
        by_profile.setdefault(profile, []).append(i)
    return tuple(
        tuple(i for up in upstreams_of(profile) for i in by_profile.get(up, ()))
        for profile in profiles
    )


def shared_dependency(affected_profiles: Sequence[str]) -> str | None:
    """Return the upstream profile that most affected dependents share, if any."""
    votes: dict[str, int] = {}
    for profile in affected_profiles:
        for upstream in upstreams_of(profile):
            votes[upstream] = votes.get(upstream, 0) + 1
    if not votes:
        return None
    best = max(votes.items(), key=lambda kv: kv[1])
    return best[0] if best[1] >= 2 else None


def recommendations(
    origin: str | None,
    origin_profile: str | None,
    affected: Sequence[tuple[str, str]],
    metrics: Sequence[str],
) -> tuple[str, ...]:
    """Return advice for one cascade: where to look first and what the pattern suggests.

    `affected` is (server, profile) in onset order, origin first.
    """
    advice: list[str] = []
    dependents = [(s, p) for s, p in affected if s != origin]
    dep_profiles = sorted({p for _, p in dependents})
    if origin is not None and origin_profile is not None:
        downstream = [p for p in dep_profiles if origin_profile in upstreams_of(p)]
        if downstream:
            advice.append(
                f"Check {origin} ({origin_profile}) first: {', '.join(downstream)} servers "
                f"depend on {origin_profile} and their anomalies began after it"
            )
        else:
            advice.append(f"Start with {origin} ({origin_profile}): its anomaly began first")
    shared = shared_dependency([p for _, p in dependents])
    if shared is not None and shared != origin_profile:
        advice.append(
            f"The affected {', '.join(dep_profiles)} servers share a dependency on {shared}: "
            f"check the {shared} servers even if they look healthy"
        )
    if len(set(dep_profiles)) == 1 and len(dependents) >= 3 and shared is None:
        advice.append(
            f"Only {dep_profiles[0]} servers are affected: look for a shared deployment, "
            "configuration change or load balancer"
        )
    if metrics:
        advice.append(f"Anomalous metrics: {', '.join(sorted(set(metrics)))}")
    return tuple(advice)
