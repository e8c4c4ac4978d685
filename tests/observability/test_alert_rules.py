"""The Prometheus rules, their runbooks and the Grafana dashboard in ops/:
promtool accepts the rules and their unit tests pass; every alert links a
runbook whose first step is `roost doctor`; every metric they read is one
Roost exports (or, named here, one Prometheus or the blackbox exporter makes).
"""

from __future__ import annotations

import json
import re

from prometheus_client.registry import CollectorRegistry

from tests.conftest import Roost
from tests.observability.promql import (
    DASHBOARD,
    RULE_TESTS,
    RULES,
    RUNBOOKS,
    alerts,
    metric_names,
    recorded,
    rules,
    run_promtool,
)

# Made by Prometheus itself and by the blackbox exporter probing the public
# address (docs/operations.md, "Alerts"); everything else comes from Roost.
NOT_FROM_ROOST = {"up", "probe_ssl_earliest_cert_expiry"}


def registry(roost: Roost) -> CollectorRegistry:
    found: CollectorRegistry = roost.client.app.state.services.metrics.registry  # type: ignore[attr-defined]
    return found


def exported(registry: CollectorRegistry) -> set[str]:
    """Every sample name the registry can expose, whether or not it has
    samples yet (a labelled histogram nobody observed shows no lines)."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "summary": ("_count", "_sum", "_created"),
        "gauge": ("",),
        "unknown": ("",),
    }
    names = set()
    for family in registry.collect():
        for suffix in suffixes[family.type]:
            names.add(family.name + suffix)
    return names


def test_given_the_rules_when_promtool_checks_and_tests_them_then_both_pass() -> None:
    checked = run_promtool("check", "rules", RULES)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run_promtool("test", "rules", *RULE_TESTS)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert tested.stdout.count("SUCCESS") == len(RULE_TESTS)


def test_given_each_alert_when_its_runbook_is_read_then_it_exists_and_starts_with_doctor() -> None:
    names = {alert["alert"] for alert in alerts()}
    assert len(names) >= 10
    for alert in alerts():
        url = alert["annotations"]["runbook_url"]
        assert url == f"docs/runbooks/{alert['alert']}.md", url
        page = RUNBOOKS / f"{alert['alert']}.md"
        assert page.is_file(), f"{alert['alert']} has no runbook at {page}"
        steps = [line for line in page.read_text().splitlines() if re.match(r"\d+\. ", line)]
        assert steps, f"{page.name} has no numbered steps"
        assert steps[0].startswith("1. `roost doctor`"), f"{page.name} starts with {steps[0]!r}"
        assert alert["labels"]["severity"] in {"page", "ticket"}
    pages = {p.stem for p in RUNBOOKS.glob("Roost*.md")}
    assert pages == names, f"runbooks without an alert: {sorted(pages - names)}"


def test_given_the_rules_and_the_unit_tests_when_compared_then_every_alert_is_tested() -> None:
    text = "".join(path.read_text() for path in RULE_TESTS)
    tested = set(re.findall(r"alertname: (\w+)", text))
    assert {alert["alert"] for alert in alerts()} <= tested


def test_given_an_expression_when_its_metric_names_are_read_then_only_metrics_are_named() -> None:
    expr = (
        'sum by (kind) (rate(roost_job_duration_seconds_sum{kind!~"a|b"}[1d] offset 1d))'
        " / ignoring (x) roost:job_duration_seconds:mean1d > 1.5 and time() - up == 0"
    )
    assert metric_names(expr) == {
        "roost_job_duration_seconds_sum",
        "roost:job_duration_seconds:mean1d",
        "up",
    }


def test_given_a_server_when_its_metrics_are_listed_then_the_rules_read_only_those(
    roost: Roost,
) -> None:
    names = exported(registry(roost))
    assert "roost_dependency_up" in names and "roost_job_duration_seconds_bucket" in names
    used = set()
    for rule in rules():
        used |= metric_names(rule["expr"])
    unknown = used - names - recorded() - NOT_FROM_ROOST
    assert not unknown, f"the rules read metrics Roost does not export: {sorted(unknown)}"


def test_given_the_dashboard_when_parsed_then_every_expression_reads_roost_metrics(
    roost: Roost,
) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["title"] == "Roost" and dashboard["uid"]
    targets = [t for panel in dashboard["panels"] for t in panel.get("targets", [])]
    assert len(targets) >= 20
    names = exported(registry(roost)) | recorded()
    for target in targets:
        used = metric_names(target["expr"])
        assert used, f"no metric in {target['expr']!r}"
        unknown = used - names
        assert not unknown, f"{target['expr']!r} reads {sorted(unknown)}, not exported by Roost"
