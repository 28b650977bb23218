"""Decision outputs: what orjson writes for alerts and tier changes is the contract's JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import orjson
from hypothesis import given
from hypothesis import strategies as st

from detectors.decision import Alert, TierChange

offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.datetimes(datetime(1970, 1, 2), datetime(2100, 12, 30), timezones=offsets)


def _as_stdlib_json(fields: dict[str, object]) -> bytes:
    """The same fields written by the standard library, datetimes through ``isoformat``."""
    plain = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()}
    return json.dumps(plain, separators=(",", ":"), ensure_ascii=False).encode()


@given(moments)
def test_alert_json_writes_occurred_at_as_isoformat(at: datetime) -> None:
    alert = Alert("a1", "b1", "collections.immediate", "critical", "D", ("S_DPD_30",),
                  "call_now", "e1", at)  # fmt: skip
    written = orjson.dumps(alert.to_dict())
    assert written == _as_stdlib_json(alert.to_dict())
    assert orjson.loads(written)["occurred_at"] == at.isoformat()


@given(moments, st.sampled_from([None, "A", "B", "C"]))
def test_tier_change_json_writes_occurred_at_as_isoformat(
    at: datetime, previous: str | None
) -> None:
    change = TierChange("b1", previous, "D", ("S_DPD_30", "SCORE_D"), 0.25, "p1", "e1", at)
    written = orjson.dumps(change.to_dict())
    assert written == _as_stdlib_json(change.to_dict())
    assert datetime.fromisoformat(orjson.loads(written)["occurred_at"]) == at


def test_utc_is_written_with_its_offset_not_z() -> None:
    change = TierChange("b1", None, "A", (), 0.0, "p1", "e1", datetime(2024, 3, 1, tzinfo=UTC))
    assert orjson.loads(orjson.dumps(change.to_dict()))["occurred_at"].endswith("+00:00")
