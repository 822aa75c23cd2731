"""Cost anomalies as findings: each anomalous run of days in the analysis window, with its
root causes. Informational — an anomaly is a surprise to explain, not a saving to claim."""

from __future__ import annotations

from decimal import Decimal

from costrail.analyses.base import AnalysisContext, analyses
from costrail.findings import Finding, Remediation
from costrail.timeseries import Anomaly, AnomalySettings, detect_anomalies


def settings_from(context: AnalysisContext) -> AnomalySettings:
    """The anomaly thresholds of the context's `Thresholds`."""
    thresholds = context.thresholds
    return AnomalySettings(
        min_impact_usd=thresholds.anomaly_min_impact_usd,
        min_relative_change=float(thresholds.anomaly_min_relative_change),
        detector=thresholds.anomaly_detector,
    )


@analyses.register("cost_anomaly")
def cost_anomalies(context: AnalysisContext) -> list[Finding]:
    """Anomalies whose latest day falls in the window; the history before it is the baseline."""
    settings = settings_from(context)
    report = detect_anomalies(context.costs, settings, since=context.window_start.date())
    return [_finding(anomaly, settings) for anomaly in report.anomalies]


def _provider(anomaly: Anomaly) -> str:
    for part in anomaly.scope.split("|"):
        if part.startswith("x_Provider="):
            return part.removeprefix("x_Provider=")
    return "all"


def _finding(anomaly: Anomaly, settings: AnomalySettings) -> Finding:
    top = anomaly.root_causes[0] if anomaly.root_causes else None
    cause = f": mostly {top.dimension}={top.value} (+${top.impact_usd:,.2f})" if top else ""
    days = "day" if anomaly.days == 1 else "days"
    return Finding(
        kind="cost_anomaly",
        title=(
            f"Spend on {anomaly.scope} ${anomaly.impact_usd:,.2f} above expected "
            f"(+{anomaly.relative_change:.0%}) over {anomaly.days} {days} since "
            f"{anomaly.first_seen}{cause}"
        ),
        provider=_provider(anomaly),
        resources=(),  # root-cause resources are evidence: a finding here claims no saving
        monthly_savings_usd=Decimal(0),
        confidence="high" if anomaly.score >= 2 * settings.min_score else "medium",
        confidence_reason=f"{anomaly.detector} detector score {anomaly.score}",
        remediation=Remediation(
            action=(
                "Check whether the root cause is intended; stop it if not, and add a budget "
                "alert on its scope."
            ),
            snippet=f"costrail anomalies --since {anomaly.first_seen} --json",
            snippet_kind="costrail",
        ),
        scope={"scope": anomaly.scope, "also_in": ", ".join(anomaly.also_in)},
        evidence={
            "first_seen": anomaly.first_seen,
            "last_seen": anomaly.ds,
            "actual_usd": anomaly.actual_usd,
            "expected_usd": anomaly.expected_usd,
            "impact_usd": anomaly.impact_usd,
            "relative_change": anomaly.relative_change,
            "score": anomaly.score,
            "root_causes": [c.as_json() for c in anomaly.root_causes],
        },
        assumptions={
            "detector": settings.detector,
            "min_impact_usd": settings.min_impact_usd,
            "min_relative_change": settings.min_relative_change,
            "min_score": settings.min_score,
            "min_history_days": settings.min_history_days,
            "charge_categories": list(settings.charge_categories),
        },
    )
