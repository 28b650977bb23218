"""Model health: ADWIN finds a planted shift in the loss, PSI a planted shift in scores."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.models.drift import DriftWatch, psi

SHIFT_AT = 1000
LENGTH = 2000
Stream = Callable[[int, bool], list[float]]


def _uniform_losses(seed: int, shifted: bool) -> list[float]:
    """Low losses, then (if shifted) clearly higher ones from SHIFT_AT on."""
    rng = random.Random(seed)
    return [
        rng.uniform(0.5, 1.5) if shifted and i >= SHIFT_AT else rng.uniform(0.0, 0.4)
        for i in range(LENGTH)
    ]


def _log_losses(seed: int, shifted: bool) -> list[float]:
    """A model that says 10 % on a population whose bad rate moves from 10 % to 50 %."""
    rng = random.Random(seed)
    out = []
    for i in range(LENGTH):
        rate = 0.5 if shifted and i >= SHIFT_AT else 0.1
        out.append(-math.log(0.1) if rng.random() < rate else -math.log(0.9))
    return out


def _detections(losses: list[float]) -> tuple[list[int], DriftWatch]:
    watch = DriftWatch()
    hits = [i for i, loss in enumerate(losses) if watch.observe_loss(loss)]
    return hits, watch


@pytest.mark.parametrize("stream", [_uniform_losses, _log_losses])
@pytest.mark.parametrize("seed", range(4))
def test_adwin_detects_a_planted_shift_soon_after_it(stream: Stream, seed: int) -> None:
    hits, watch = _detections(stream(seed, True))
    assert hits, "the planted shift was missed"
    assert hits[0] >= SHIFT_AT, "a detection before the shift is a false alarm"
    assert hits[0] < SHIFT_AT + 300
    assert watch.loss_drifts == len(hits)
    assert watch.figures()["loss_drifts"] == float(len(hits))


@pytest.mark.parametrize("stream", [_uniform_losses, _log_losses])
@pytest.mark.parametrize("seed", range(4))
def test_adwin_stays_quiet_on_a_stationary_stream(stream: Stream, seed: int) -> None:
    hits, watch = _detections(stream(seed, False))
    assert hits == [] and watch.loss_drifts == 0


def test_loss_mean_follows_the_stream() -> None:
    _, watch = _detections(_uniform_losses(0, shifted=True))
    # After the shift ADWIN drops the old window: its mean is the new regime's.
    loss_mean = watch.figures()["loss_mean"]
    assert loss_mean is not None and 0.9 < loss_mean < 1.1


def _uniform(seed: int, n: int = 5000) -> list[float]:
    rng = random.Random(seed)
    return [rng.random() for _ in range(n)]


def test_psi_is_near_zero_for_the_same_distribution() -> None:
    assert psi(_uniform(0), _uniform(1)) < 0.02
    same = [0.05, 0.15, 0.95] * 100
    assert psi(same, list(reversed(same))) == 0.0


def test_psi_exceeds_the_alert_level_for_a_planted_shift() -> None:
    reference = _uniform(0)
    assert psi(reference, [x**3 for x in _uniform(1)]) > 0.25  # mass moves to low scores
    assert psi(reference, [min(1.0, x + 0.2) for x in _uniform(2)]) > 0.25
    assert psi(reference, [0.5 * x + 0.5 for x in _uniform(3)]) > 0.25


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=1, max_size=50),
    st.lists(st.floats(0, 1), min_size=1, max_size=50),
    st.integers(1, 20),
)
def test_psi_is_finite_and_never_negative(ref: list[float], cur: list[float], bins: int) -> None:
    value = psi(ref, cur, bins)
    assert math.isfinite(value) and value >= -1e-12


def test_psi_is_none_until_the_reference_is_full_and_compared() -> None:
    watch = DriftWatch(reference_size=100, bins=10)
    scores = _uniform(4, 400)
    for score in scores[:100]:
        assert watch.psi() is None
        watch.observe_score(score)
    assert watch.reference == scores[:100]
    assert watch.psi() is None  # full reference, nothing yet to compare it with
    assert watch.figures()["psi"] is None and watch.figures()["psi_shifted"] is None
    watch.observe_score(scores[100])
    value = watch.psi()
    assert value is not None and value > 0


def test_the_current_window_rolls_and_the_reference_stays() -> None:
    watch = DriftWatch(reference_size=500, bins=10)
    for score in _uniform(5, 500):
        watch.observe_score(score)
    reference = list(watch.reference)
    for score in _uniform(6, 500):  # the same distribution
        watch.observe_score(score)
    calm = watch.psi()
    assert calm is not None and calm < 0.1 and watch.figures()["psi_shifted"] == 0.0
    for score in _uniform(7, 500):  # a whole window of shifted scores replaces it
        watch.observe_score(score**4)
    assert watch.reference == reference and len(watch.current) == 500
    shifted = watch.psi()
    assert shifted is not None and shifted > 0.25
    assert watch.figures()["psi_shifted"] == 1.0
