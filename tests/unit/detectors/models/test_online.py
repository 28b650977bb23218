"""One online model: fixed feature order, trained count in the version, probabilities."""

from __future__ import annotations

import random

import pytest

from detectors.models.online import OnlineModel


def test_untrained_models_say_one_half() -> None:
    for model in (OnlineModel.logistic(("a", "b")), OnlineModel.hoeffding_tree(("a", "b"))):
        assert model.predict((1.0, 2.0)) == 0.5
        assert (model.trained, model.version) == (0, f"{model.name}@0")


def test_learning_counts_and_moves_the_logistic_score() -> None:
    model = OnlineModel.logistic(("dpd", "ratio"))
    rng = random.Random(0)
    for _ in range(200):
        dpd = rng.choice([0.0, 0.0, 45.0])
        model.learn((dpd, rng.random()), int(dpd > 0))
    assert (model.trained, model.version) == (200, "logistic@200")
    assert model.predict((45.0, 0.5)) > 0.7 > 0.3 > model.predict((0.0, 0.5))


def test_the_vector_must_match_the_feature_names() -> None:
    model = OnlineModel.logistic(("a", "b"))
    with pytest.raises(ValueError):
        model.predict((1.0,))
    with pytest.raises(ValueError):
        model.learn((1.0, 2.0, 3.0), 1)
    assert model.trained == 0


def test_the_tree_learns_a_threshold() -> None:
    model = OnlineModel.hoeffding_tree(("x",), seed=1)
    rng = random.Random(1)
    for _ in range(1500):
        x = rng.random()
        model.learn((x,), int(x > 0.7))
    assert model.predict((0.95,)) > 0.5 > model.predict((0.1,))


def test_a_model_that_has_only_seen_good_outcomes_does_not_say_one_half() -> None:
    model = OnlineModel.hoeffding_tree(("x",))
    for i in range(5):
        model.learn((float(i),), 0)
    assert model.estimator.predict_proba_one({"x": 1.0}) == {False: 1.0}
    assert model.predict((1.0,)) == 0.0
