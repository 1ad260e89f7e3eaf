"""GET /explain/{server_name}: the seed's shape, errors, caching, and no effect on the snapshot."""

from __future__ import annotations

from jsonschema import Draft202012Validator

from argus.daemon.cycle import run_cycle
from tests.test_predictions import feed, fleet_records

HOT = "ppweb002"


def test_explain_is_503_before_the_first_cycle(client) -> None:
    feed(client, fleet_records(1, 20))
    resp = client.get("/explain/ppweb000")
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "60"
    assert resp.get_json()["error"] == "insufficient_data"


def test_explain_has_the_seed_fields_and_leaves_the_snapshot_alone(client, services) -> None:
    feed(client, fleet_records(3, 2 * 288, hot=HOT))
    snapshot = run_cycle(services)
    assert snapshot is not None
    bodies = dict(snapshot.bodies)
    resp = client.get(f"/explain/{HOT}")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["server_name"] == HOT
    assert body["prediction"]["risk_score"] == snapshot.risks[HOT].risk_score
    assert body["prediction"]["alert_level"] == str(snapshot.levels[HOT])
    assert body["model"] == "baseline" and body["shap"]["method"] == "occlusion"
    top = body["shap"]["top_features"]
    assert top and all({"feature", "importance", "stars"} <= set(f) for f in top)
    assert top[0]["feature"] == "mem_pct" and top[0]["importance"] == 1.0
    assert all(len(f["stars"]) == 5 for f in top)
    assert body["attention"]["focus_periods"] and body["attention"]["analysis"]
    cfs = body["counterfactuals"]
    assert cfs and all({"scenario", "impact", "recommendation"} <= set(c) for c in cfs)
    # the re-prediction of the unmodified inputs is the cycle's own risk
    assert all(c["risk_before"] == snapshot.risks[HOT].risk_score for c in cfs)
    # cached per cycle: the same bytes, and the snapshot is untouched
    assert client.get(f"/explain/{HOT}").data == resp.data
    assert len(services.explanations) == 1
    assert services.snapshot is snapshot and dict(snapshot.bodies) == bodies
    spec = client.get("/openapi.json").get_json()
    schema = spec["paths"]["/explain/{server_name}"]["get"]["responses"]["200"]
    validator = Draft202012Validator(
        {**schema["content"]["application/json"]["schema"], "components": spec["components"]}
    )
    assert not list(validator.iter_errors(body))


def test_explain_unknown_server_is_a_json_404(client, services) -> None:
    feed(client, fleet_records(2, 300))
    run_cycle(services)
    resp = client.get("/explain/nosuch001")
    assert resp.status_code == 404
    assert resp.get_json()["status"] == 404 and "nosuch001" in resp.get_json()["detail"]
