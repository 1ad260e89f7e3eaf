"""Admin routes: the models list, model path safety, training control."""

from __future__ import annotations

import pytest


def test_models_list_starts_empty_with_the_fallback_serving(client) -> None:
    body = client.get("/admin/models").get_json()
    assert body == {"serving": "baseline", "models": []}


@pytest.mark.parametrize(
    "path", ["../etc", "/etc/passwd", "models/../../x", "models/a/b", "a\\b", "..", "nosuch"]
)
def test_reload_refuses_paths_outside_the_models_dir(client, path) -> None:
    resp = client.post("/admin/reload-model", query_string={"model_path": path})
    assert resp.status_code == 400, resp.get_json()
    assert client.get("/status").get_json()["model"] == "baseline"


def test_training_status_is_idle_and_cancel_is_harmless(client) -> None:
    assert client.get("/admin/training-status").get_json()["status"] == "idle"
    assert client.post("/admin/cancel-training").get_json()["status"] == "idle"
    stats = client.get("/admin/training-stats").get_json()
    assert stats == {"total_runs": 0, "by_status": {}, "by_reason": {}, "runs": []}


def test_trigger_training_without_data_is_a_conflict(client) -> None:
    resp = client.post("/admin/trigger-training?epochs=1")
    assert resp.status_code == 409
    assert "no data" in resp.get_json()["detail"]
