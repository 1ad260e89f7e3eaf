"""Pure source mappings (Prometheus matrices to records), the agent buffer, and the docs."""

from __future__ import annotations

from pathlib import Path

from argus.records import MetricRecord
from argus.sources.buffer import DiskBuffer
from argus.sources.prometheus import MAPPING, NOT_PROVIDED, queries, to_records

DOCS = Path(__file__).resolve().parent.parent / "docs" / "ingest.md"


def matrix(server: str, *points: tuple[float, str]) -> dict:
    """One series of a query_range answer (`data.result[i]`), as Prometheus writes it."""
    return {"metric": {"instance": server, "job": "node"}, "values": [list(p) for p in points]}


def test_every_mapped_field_is_in_the_documented_table() -> None:
    doc = DOCS.read_text()
    for mapping in MAPPING:
        first_series = mapping.series.split(",")[0]
        assert f"| `{mapping.field}` | `{first_series}`" in doc, mapping.field
    for field in NOT_PROVIDED:
        assert field in doc


def test_queries_aggregate_by_the_server_label_and_apply_the_selector() -> None:
    found = queries("host", 'job="node",env="prod"', 300)
    assert set(found) == {m.field for m in MAPPING}
    for promql in found.values():
        assert "by (host)" in promql and 'host!="",job="node",env="prod"' in promql
        assert "$" not in promql
    assert "[300s]" in found["cpu_idle_pct"]


def test_matrices_become_one_valid_record_per_server_and_step() -> None:
    results = {
        "cpu_user_pct": [matrix("db1:9100", (1700000000, "20.5"), (1700000300, "100.0000001"))],
        "cpu_sys_pct": [matrix("db1:9100", (1700000000, "5"), (1700000300, "0"))],
        "cpu_idle_pct": [matrix("db1:9100", (1700000000, "74.5"), (1700000300, "0"))],
        "mem_used_pct": [matrix("db1:9100", (1700000000, "40"), (1700000300, "41"))],
        "swap_used_pct": [matrix("db1:9100", (1700000000, "0"), (1700000300, "0"))],
        "net_in_mb_s": [matrix("db1:9100", (1700000000, "1.5"), (1700000300, "NaN"))],
        "net_out_mb_s": [matrix("db1:9100", (1700000000, "0.5"), (1700000300, "0.5"))],
        "load_average": [matrix("db1:9100", (1700000000, "1.2"), (1700000300, "1.1"))],
        "uptime_days": [matrix("db1:9100", (1700000000, "12"), (1700000300, "12"))],
        "cpu_cores": [matrix("db1:9100", (1700000000, "16"), (1700000300, "16"))],
    }
    first, second = to_records(results, "instance")
    assert first["timestamp"] == "2023-11-14T22:13:20" and first["server_name"] == "db1:9100"
    parsed = MetricRecord.model_validate(first)
    assert parsed.cpu_cores == 16 and parsed.cpu_iowait_pct is None and parsed.java_cpu_pct is None
    assert second["cpu_user_pct"] == 100.0  # a counter rate's overshoot is clipped
    assert "net_in_mb_s" not in second  # NaN: the step lacks it, so the feed refuses the record
    assert "net_in_mb_s" in {e["loc"][0] for e in _errors(second)}


def _errors(record: dict) -> list:
    from pydantic import ValidationError

    try:
        MetricRecord.model_validate(record)
    except ValidationError as exc:
        return exc.errors()
    return []


def test_buffer_keeps_order_and_drops_only_what_was_delivered(tmp_path: Path) -> None:
    buffer = DiskBuffer(tmp_path / "b.jsonl", max_records=3)
    for i in range(4):
        buffer.append({"n": i})
    assert len(buffer) == 3  # the oldest went when it was full
    with open(buffer.path, "a", encoding="utf-8") as fh:
        fh.write('{"n": 4')  # a line a crash cut short
    records, lines = buffer.head(10)
    assert [r["n"] for r in records] == [1, 2, 3] and lines == 4
    buffer.drop(2)
    assert buffer.head(10)[0] == [{"n": 3}]
