"""Counterfactuals: change the inputs as an operator could, re-run the model, re-score risk.

Every number is a re-forecast of the modified history by the model serving the server,
scored by `argus.risk.assess_server` like a real cycle; nothing is estimated or assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

from argus.explain.scenarios import Scenario
from argus.risk import ServerRisk

MIN_HELP = 1.0  # a change of less than one risk point is "no change"
MAX_COUNTERFACTUALS = 3


@dataclass(frozen=True)
class Counterfactual:
    """One scenario's effect on the server's risk."""

    key: str
    scenario: str
    impact: str
    recommendation: str
    risk_before: float
    risk_after: float
    level_after: str
    metrics: tuple[str, ...]

    @property
    def change(self) -> float:
        return round(self.risk_after - self.risk_before, 1)

    @property
    def helps(self) -> bool:
        return self.risk_before - self.risk_after >= MIN_HELP


def impact_text(before: float, after: float) -> str:
    if before - after >= MIN_HELP:
        return f"Risk drops from {before:.1f} to {after:.1f}"
    if after - before >= MIN_HELP:
        return f"Risk rises from {before:.1f} to {after:.1f}"
    return f"Risk stays at {before:.1f} ({after - before:+.1f})"


def counterfactual(scenario: Scenario, base: ServerRisk, after: ServerRisk) -> Counterfactual:
    before, now = base.risk_score, after.risk_score
    helps = before - now >= MIN_HELP
    recommendation = (
        scenario.recommendation
        if helps
        else "Not needed now: the model expects no lower risk from this change"
    )
    return Counterfactual(
        key=scenario.key,
        scenario=scenario.title,
        impact=impact_text(before, now),
        recommendation=recommendation,
        risk_before=before,
        risk_after=now,
        level_after=str(after.score_level),
        metrics=scenario.metrics,
    )


def select(
    results: list[Counterfactual], base: ServerRisk
) -> tuple[tuple[Counterfactual, ...], str]:
    """The scenarios to report, largest risk drop first, and a summary sentence.

    Scenarios that lower the risk by at least MIN_HELP points are reported (at most
    MAX_COUNTERFACTUALS). When none does, the scenario aimed at the dominant metric is
    reported with its real (non-)effect, and the summary says that nothing helps.
    """
    ordered = sorted(results, key=lambda c: (c.risk_after, c.key))
    helping = [c for c in ordered if c.helps][:MAX_COUNTERFACTUALS]
    if helping:
        best = helping[0]
        return tuple(helping), (
            f"{best.scenario} lowers the risk most: "
            f"{best.risk_before:.1f} → {best.risk_after:.1f} ({best.level_after})."
        )
    aimed = [c for c in ordered if base.dominant_metric in c.metrics] or ordered[:1]
    tried = ", ".join(c.scenario.lower() for c in results)
    return tuple(aimed[:1]), (
        f"No scenario tried ({tried}) lowers the risk of {base.risk_score:.1f} "
        f"by {MIN_HELP:g} point or more: nothing to change."
    )
