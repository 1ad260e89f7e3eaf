"""Debian's Prometheus scrapes a real daemon with a bearer credentials file; the shipped rules
and dashboard queries are valid PromQL over the series Argus exposes."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import requests

from tests.factories import BASE_TIME, LiveDaemon, make_record
from tests.thirdparty import Prometheus, require, wait_for

CONTRIB = Path(__file__).resolve().parent.parent / "contrib"
RULES = CONTRIB / "prometheus" / "argus.rules.yml"


def test_promtool_accepts_the_rules() -> None:
    proc = subprocess.run([require("promtool"), "check", "rules", str(RULES)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def scrape_job(name: str, daemon: LiveDaemon, key_file: Path) -> dict:
    return {
        "job_name": name,
        "authorization": {"credentials_file": str(key_file)},
        "static_configs": [{"targets": [daemon.url.removeprefix("http://")]}],
    }


def up(prom: Prometheus, job: str) -> float | None:
    result = prom.query(f'up{{job="{job}"}}')["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def test_prometheus_scrapes_metrics_with_a_bearer_credentials_file(tmp_path: Path) -> None:
    daemon = LiveDaemon(home=tmp_path / "home", extra_env={"ARGUS_CYCLE_CHECK_SECONDS": "0.3"})
    daemon.start()
    key_file, wrong_file = tmp_path / "argus.key", tmp_path / "wrong.key"
    key_file.write_text(daemon.key + "\n")
    wrong_file.write_text("not-the-key-0123456789\n")
    records = [make_record(name, BASE_TIME + timedelta(minutes=5 * i))
               for i in range(60) for name in ("ppweb000", "ppweb001")]  # fmt: skip
    assert daemon.post("/feed/data", json={"records": records}).status_code == 200
    prom = Prometheus(
        tmp_path / "prom",
        [scrape_job("argus", daemon, key_file), scrape_job("argus-wrong-key", daemon, wrong_file)],
        rule_files=[str(RULES)],
    )
    try:
        prom.start()
        assert wait_for(lambda: up(prom, "argus") == 1.0)
        assert wait_for(lambda: up(prom, "argus-wrong-key") is not None)
        assert up(prom, "argus-wrong-key") == 0.0  # a wrong key is a failed scrape, not data
        wait_for(lambda: prom.query('argus_fleet_health{job="argus"}')["data"]["result"])
        rules = evaluated_rules(prom)
        assert rules and all(r["health"] == "ok" for r in rules), rules
        for expr in dashboard_queries():
            assert prom.query(expr)["status"] == "success", expr
    finally:
        prom.stop()
        daemon.stop()


def evaluated_rules(prom: Prometheus) -> list[dict]:
    def evaluated() -> list[dict]:
        groups = requests.get(prom.url + "/api/v1/rules", timeout=5).json()["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        return rules if all(r.get("lastEvaluation", "0001").startswith("2") for r in rules) else []

    return wait_for(evaluated, timeout=90)


def dashboard_queries() -> list[str]:
    dashboard = json.loads((CONTRIB / "grafana" / "argus.json").read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
