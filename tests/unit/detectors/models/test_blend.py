"""The cold-start blend: scorecard alone until ``start``, a linear ramp to the model at ``full``."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.models.blend import Blend


def test_the_ramp_point_by_point() -> None:
    blend = Blend(start=4, full=8)
    assert [blend.weight(n) for n in range(11)] == [
        0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0
    ]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 1000), st.integers(1, 1000), st.integers(0, 3000))
def test_weight_is_zero_then_rises_monotonically_to_one(start: int, span: int, n: int) -> None:
    blend = Blend(start=start, full=start + span)
    weight, after = blend.weight(n), blend.weight(n + 1)
    assert 0.0 <= weight <= after <= 1.0
    assert (weight == 0.0) is (n <= start)
    assert (weight == 1.0) is (n >= start + span)
