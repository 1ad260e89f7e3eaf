"""Fuzz every operation of a real daemon from its own /openapi.json with schemathesis.

Starts `argus serve` on a free port with warm data (so predictions, explanations and history
answer 200), then for each operation draws valid and invalid requests (schemathesis positive
and negative modes) for an equal share of the time budget, sends them, and checks every answer:
no status >= 500, status code / content type / headers / body as documented. Runs with rate
limits on and off. Prints one JSON summary; exit status 1 on any finding.

Usage: PYTHONPATH=. python bench/fuzz.py [--seconds 60] [--limits both|on|off]
(/admin/trigger-training is left out: each call would start a training child; the admin race
is tested in tests/test_hardening.py.)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.openapi import from_url
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_daemon import Daemon, fleet  # noqa: E402

SKIPPED = {("POST", "/admin/trigger-training")}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Reported apart: it flags invalid requests answered 2xx, and query models ignore unknown
# parameters on purpose (as HTTP servers do), which it counts as invalid.
LAX = [negative_data_rejection]


class TimeUpError(Exception):
    """This operation's share of the time budget is spent."""


def fuzz_mode(
    op: Any, mode: GenerationMode, daemon: Daemon, until: float, tally: dict[str, Any]
) -> None:
    """Send cases of one operation in one generation mode until the monotonic time `until`."""
    session = requests.Session()
    name = f"{op.method.upper()} {op.path}"

    @settings(max_examples=100_000, deadline=None, database=None, derandomize=True,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=op.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        if time.monotonic() > until:
            raise TimeUpError  # the only way to end a hypothesis run early (no shrinking)
        resp = case.call(base_url=daemon.url, session=session, headers=daemon.headers)
        tally["requests"] += 1
        tally["per_operation"][name] += 1
        tally["statuses"][resp.status_code] += 1
        if resp.status_code >= 500:
            tally["server_errors"] += 1
        try:
            case.validate_response(resp, checks=CHECKS, headers=daemon.headers)
        except (Exception, BaseExceptionGroup) as exc:  # one error listing every failure
            tally["violations"] += 1
            tally["examples"].setdefault(name, " ".join(str(exc).split())[:300])
        if mode is GenerationMode.NEGATIVE:
            try:
                case.validate_response(resp, checks=LAX, headers=daemon.headers)
            except (Exception, BaseExceptionGroup) as exc:
                tally["lax_acceptances"] += 1
                tally["lax_examples"].setdefault(name, " ".join(str(exc).split())[:200])

    try:
        run()
    except (TimeUpError, Unsatisfiable) as exc:  # Unsatisfiable: no invalid request exists
        tally["ended"][f"{mode.value} {type(exc).__name__}"] += 1
    except (Exception, BaseExceptionGroup) as exc:  # a failure hypothesis re-raised
        tally["examples"].setdefault(f"{name} (final)", " ".join(str(exc).split())[:300])


def fuzz_operation(op: Any, daemon: Daemon, seconds: float, tally: dict[str, Any]) -> None:
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        fuzz_mode(op, mode, daemon, time.monotonic() + seconds / 2, tally)


def run_once(limits: bool, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="argus-fuzz-") as tmp:
        env = {"ARGUS_RATE_LIMITS_ENABLED": str(limits).lower(), "ARGUS_CYCLE_CHECK_SECONDS": "1"}
        daemon = Daemon(Path(tmp) / "home", env).start()
        try:
            feed = requests.Session()
            for batch in fleet(4, 60, datetime(2025, 1, 15)):
                feed.post(daemon.url + "/feed/data", json={"records": batch},
                          headers=daemon.headers, timeout=30).raise_for_status()  # fmt: skip
            time.sleep(3)  # the first prediction cycle
            schema = from_url(daemon.url + "/openapi.json", headers=daemon.headers)
            ops = [r.ok() for r in schema.get_all_operations()]
            ops = [o for o in ops if (o.method.upper(), o.path) not in SKIPPED]
            tally: dict[str, Any] = {
                "requests": 0, "server_errors": 0, "violations": 0,
                "statuses": Counter(), "per_operation": Counter(), "examples": {},
                "lax_acceptances": 0, "lax_examples": {}, "ended": Counter(),
            }  # fmt: skip
            started = time.monotonic()
            for op in ops:
                fuzz_operation(op, daemon, seconds / len(ops), tally)
            tally["seconds"] = round(time.monotonic() - started, 1)
            tally["operations"] = len(ops)
        finally:
            code = daemon.stop()
        tally["daemon_exit"] = code
    tally["rate_limits"] = limits
    tally["statuses"] = dict(sorted(tally["statuses"].items()))
    tally["per_operation_min"] = min(tally["per_operation"].values(), default=0)
    tally["per_operation"] = dict(tally["per_operation"])
    tally["ended"] = dict(tally["ended"])
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="time budget per run")
    parser.add_argument("--limits", choices=("both", "on", "off"), default="both")
    args = parser.parse_args()
    modes = {"both": (False, True), "on": (True,), "off": (False,)}[args.limits]
    results = [run_once(limits, args.seconds) for limits in modes]
    print(json.dumps(results, indent=2, default=str))
    bad = any(r["server_errors"] or r["violations"] or r["daemon_exit"] for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
