"""Behavioural anomaly: planted outliers outscore the usual portfolio after warm-up."""

from __future__ import annotations

import random
import statistics

import pytest

from detectors.features import FEATURE_NAMES, feature_vector
from detectors.models.anomaly import BEHAVIOUR_RANGES, AnomalyWatch


def _typical(rng: random.Random) -> dict[str, float]:
    return {
        "payment_ratio": rng.gauss(1.0, 0.05),
        "utilisation": rng.gauss(0.3, 0.05),
        "min_payment_streak": float(rng.randint(5, 8)),
        "new_loans_30d": 0.0,
        "inquiries_30d": float(rng.randint(0, 1)),
        "failed_contacts": 0.0,
        "dpd_current": 0.0,
    }


def _score(watch: AnomalyWatch, named: dict[str, float]) -> float:
    """The watch learns from inputs by name and scores the engine's feature vector."""
    return watch.score_one(feature_vector(named))


def _outlier(rng: random.Random) -> dict[str, float]:
    return {
        "payment_ratio": rng.uniform(0.0, 0.1),
        "utilisation": rng.uniform(1.2, 1.5),
        "min_payment_streak": 0.0,
        "new_loans_30d": float(rng.randint(5, 9)),
        "inquiries_30d": float(rng.randint(6, 9)),
        "failed_contacts": float(rng.randint(4, 8)),
        "dpd_current": float(rng.randint(60, 110)),
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_outliers_score_above_every_typical_point_after_warm_up(seed: int) -> None:
    rng = random.Random(seed)
    watch = AnomalyWatch(seed=seed)
    for _ in range(1000):
        watch.learn_one(_typical(rng))
    typical = [_score(watch, _typical(rng)) for _ in range(380)]
    outliers = [_score(watch, _outlier(rng)) for _ in range(20)]
    assert min(outliers) > max(typical)
    assert statistics.median(outliers) > 0.9 > 0.5 > statistics.median(typical)
    assert all(0.0 <= s <= 1.0 for s in typical + outliers)


def test_nothing_learned_scores_zero() -> None:
    watch = AnomalyWatch(seed=0)
    assert _score(watch, _outlier(random.Random(0))) == 0.0 and watch.seen == 0


def test_scoring_does_not_learn() -> None:
    rng = random.Random(1)
    watch = AnomalyWatch(seed=1, window_size=50)
    for _ in range(200):
        watch.learn_one(_typical(rng))
    odd = _outlier(rng)
    first = _score(watch, odd)
    for _ in range(300):  # the same pattern scored over and over stays as unusual
        assert _score(watch, odd) == first
    assert watch.seen == 200


def test_a_learnt_pattern_stops_being_anomalous() -> None:
    rng = random.Random(2)
    watch = AnomalyWatch(seed=2, window_size=50)
    for _ in range(200):
        watch.learn_one(_typical(rng))
    odd = _outlier(random.Random(9))
    before = _score(watch, odd)
    for _ in range(200):
        watch.learn_one(odd)
    assert _score(watch, odd) < before - 0.3


def _warm(seed: int) -> AnomalyWatch:
    rng = random.Random(seed)
    watch = AnomalyWatch(seed=seed, window_size=50)
    for _ in range(200):
        watch.learn_one(_typical(rng))
    return watch


def test_values_outside_the_ranges_are_clamped_to_them() -> None:
    watch = _warm(3)
    wild = {name: high * 100 for name, (_, high) in BEHAVIOUR_RANGES.items()}
    edge = {name: high for name, (_, high) in BEHAVIOUR_RANGES.items()}
    below = {name: low - 50 for name, (low, _) in BEHAVIOUR_RANGES.items()}
    floor = {name: low for name, (low, _) in BEHAVIOUR_RANGES.items()}
    assert _score(watch, wild) == _score(watch, edge) > 0.5
    assert _score(watch, below) == _score(watch, floor)


def test_features_outside_the_behaviour_are_ignored() -> None:
    watch = _warm(4)
    others = [name for name in FEATURE_NAMES if name not in BEHAVIOUR_RANGES]
    assert _score(watch, {}) == _score(watch, dict.fromkeys(others, 50.0))


def test_absent_inputs_are_learnt_as_zero() -> None:
    explicit, absent = _warm(5), _warm(5)
    for _ in range(100):
        explicit.learn_one(dict.fromkeys(BEHAVIOUR_RANGES, 0.0))
        absent.learn_one({})
    odd = _outlier(random.Random(5))
    assert _score(absent, {}) == _score(explicit, {})
    assert _score(absent, odd) == _score(explicit, odd)
