"""Champion and challengers: promotion when, and only when, the rolling evidence says so."""

from __future__ import annotations

import random
from collections.abc import Mapping

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from detectors.models.arena import Arena, Promotion, PromotionRule
from detectors.models.online import OnlineModel

FEATURES = ("x1", "x2")


class Useless:
    """A River-like classifier that learns nothing and always says 50 %."""

    def __init__(self) -> None:
        self.seen = 0

    def predict_proba_one(self, x: Mapping[str, float]) -> dict[bool, float]:
        return {False: 0.5, True: 0.5}

    def learn_one(self, x: Mapping[str, float], y: bool) -> None:
        self.seen += 1


class Echo:
    """A River-like classifier whose probability of True is one of its inputs."""

    def __init__(self, feature: str) -> None:
        self.feature = feature

    def predict_proba_one(self, x: Mapping[str, float]) -> dict[bool, float]:
        p = x[self.feature]
        return {False: 1.0 - p, True: p}

    def learn_one(self, x: Mapping[str, float], y: bool) -> None:
        pass


def pairwise_auc(scores: list[float], labels: list[int]) -> float:
    """AUC by counting pairs: an independent reference for the arena's evidence."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def separable(seed: int, n: int) -> list[tuple[tuple[float, float], int]]:
    """Label 1 exactly when x1 + x2 > 0: a logistic regression learns it within tens."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        x = (rng.gauss(0, 1), rng.gauss(0, 1))
        out.append((x, int(x[0] + x[1] > 0)))
    return out


def useless(name: str = "useless") -> OnlineModel:
    return OnlineModel(name, FEATURES, Useless())


@pytest.mark.parametrize(("check_every", "first_check"), [(25, 100), (30, 120), (100, 100)])
def test_a_clearly_better_challenger_is_promoted_at_the_first_check_after_min_count(
    check_every: int, first_check: int
) -> None:
    rule = PromotionRule(window=500, min_count=100, margin=0.05, check_every=check_every)
    arena = Arena([useless(), OnlineModel.logistic(FEATURES)], rule)
    shadow = OnlineModel.logistic(FEATURES)  # the same challenger, to recompute the evidence
    shadow_scores, labels = [], []
    results: list[Promotion | None] = []
    for x, y in separable(seed=3, n=300):
        shadow_scores.append(shadow.predict(x))
        shadow.learn(x, y)
        labels.append(y)
        results.append(arena.learn(x, y)[1])
    promoted_at = [i + 1 for i, p in enumerate(results) if p is not None]
    assert promoted_at == [first_check]
    promotion = results[first_check - 1]
    assert promotion is not None and arena.promotions == [promotion]
    assert arena.champion.name == "logistic" and arena.champion_index == 1
    assert promotion.at_outcome == first_check
    assert (promotion.previous, promotion.promoted) == (
        f"useless@{first_check}", f"logistic@{first_check}"
    )  # fmt: skip
    assert promotion.window_count == first_check
    assert promotion.previous_auc == 0.5
    expected = pairwise_auc(shadow_scores[:first_check], labels[:first_check])
    assert promotion.promoted_auc == round(expected, 6)
    assert promotion.promoted_auc > 0.9 and promotion.gain >= rule.margin
    assert promotion.to_dict()["promoted_auc"] == promotion.promoted_auc


def test_after_promotion_the_new_champion_scores() -> None:
    rule = PromotionRule(window=200, min_count=50, margin=0.05, check_every=50)
    arena = Arena([useless(), OnlineModel.logistic(FEATURES)], rule)
    stream = separable(seed=4, n=120)
    for x, y in stream[:100]:
        arena.learn(x, y)
    assert arena.champion.name == "logistic"
    x, y = stream[100]
    expected = arena.models[1].predict(x)
    champion_score, _ = arena.learn(x, y)
    assert champion_score == expected != 0.5


def test_fewer_than_min_count_outcomes_never_promote() -> None:
    rule = PromotionRule(window=500, min_count=100, margin=0.05, check_every=1)
    arena = Arena([useless(), OnlineModel.logistic(FEATURES)], rule)
    stream = separable(seed=5, n=100)
    for x, y in stream[:99]:
        assert arena.learn(x, y)[1] is None
    assert arena.promotions == [] and arena.champion.name == "useless"
    assert arena.learn(*stream[99])[1] is not None  # the 100th outcome is enough


def test_a_window_smaller_than_min_count_never_has_enough_evidence() -> None:
    rule = PromotionRule(window=50, min_count=100, margin=0.05, check_every=10)
    arena = Arena([useless(), OnlineModel.logistic(FEATURES)], rule)
    for x, y in separable(seed=5, n=400):
        arena.learn(x, y)
    assert arena.promotions == []


def test_a_worse_challenger_never_promotes() -> None:
    rule = PromotionRule(window=300, min_count=100, margin=0.005, check_every=20)
    arena = Arena([OnlineModel.logistic(FEATURES), useless()], rule)
    for x, y in separable(seed=6, n=600):
        arena.learn(x, y)
    assert arena.promotions == [] and arena.champion.name == "logistic"


def _twins() -> list[OnlineModel]:
    twin = OnlineModel.logistic(FEATURES)
    twin.name = "twin"
    return [OnlineModel.logistic(FEATURES), twin]


def _noisy(seed: int, n: int) -> list[tuple[tuple[float, float], int]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        x = (rng.gauss(0, 1), rng.gauss(0, 1))
        out.append((x, int(x[0] + rng.gauss(0, 1.5) > 0)))
    return out


def test_an_equal_challenger_never_promotes() -> None:
    rule = PromotionRule(window=300, min_count=100, margin=0.005, check_every=20)
    arena = Arena(_twins(), rule)
    for x, y in _noisy(seed=7, n=600):
        arena.learn(x, y)
    figures = arena.figures()
    assert figures["logistic"]["auc"] == figures["twin"]["auc"] is not None
    assert arena.promotions == [] and arena.champion.name == "logistic"


def test_an_equal_challenger_never_promotes_even_with_zero_margin() -> None:
    rule = PromotionRule(window=300, min_count=100, margin=0.0, check_every=20)
    arena = Arena(_twins(), rule)
    for x, y in _noisy(seed=7, n=600):
        arena.learn(x, y)
    assert arena.promotions == []


def _echo_stream(seed: int, n: int) -> list[tuple[tuple[float, float], int]]:
    """x1 is a weak score, x2 a stronger one, both probabilities of the label."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        y = int(rng.random() < 0.3)
        weak = min(1.0, max(0.0, 0.4 + 0.1 * y + rng.gauss(0, 0.2)))
        strong = min(1.0, max(0.0, 0.3 + 0.3 * y + rng.gauss(0, 0.2)))
        out.append(((weak, strong), y))
    return out


def _echo_arena(margin: float, n: int) -> Arena:
    rule = PromotionRule(window=n, min_count=n, margin=margin, check_every=n)
    return Arena(
        [OnlineModel("weak", FEATURES, Echo("x1")), OnlineModel("strong", FEATURES, Echo("x2"))],
        rule,
    )


def test_promotion_turns_on_exactly_at_the_margin() -> None:
    stream = _echo_stream(seed=8, n=200)
    labels = [y for _, y in stream]
    gain = pairwise_auc([x[1] for x, _ in stream], labels) - pairwise_auc(
        [x[0] for x, _ in stream], labels
    )
    assert gain > 0.1
    for margin, promotes in ((gain + 0.001, False), (gain - 0.001, True)):
        arena = _echo_arena(margin, len(stream))
        for x, y in stream:
            arena.learn(x, y)
        assert bool(arena.promotions) is promotes, margin
        if promotes:
            assert arena.promotions[0].gain == pytest.approx(gain, abs=2e-6)


examples = st.lists(
    st.tuples(
        st.floats(0, 1, allow_nan=False), st.floats(0, 1, allow_nan=False), st.integers(0, 1)
    ),
    min_size=2,
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(examples, st.floats(0, 0.5), st.integers(1, 80))
def test_promotion_iff_count_and_gain_suffice(
    rows: list[tuple[float, float, int]], margin: float, min_count: int
) -> None:
    labels = [y for _, _, y in rows]
    assume(0 < sum(labels) < len(labels))
    champion_auc = pairwise_auc([c for c, _, _ in rows], labels)
    challenger_auc = pairwise_auc([s for _, s, _ in rows], labels)
    gain = challenger_auc - champion_auc
    assume(abs(gain - margin) > 1e-9)  # float noise right at the margin
    rule = PromotionRule(window=len(rows), min_count=min_count, margin=margin,
                         check_every=len(rows))  # fmt: skip
    arena = Arena(
        [OnlineModel("a", FEATURES, Echo("x1")), OnlineModel("b", FEATURES, Echo("x2"))], rule
    )
    results = [arena.learn((c, s), y)[1] for c, s, y in rows]
    assert all(r is None for r in results[:-1])
    should = len(rows) >= min_count and gain > margin
    assert (results[-1] is not None) is should
    assert arena.champion.name == ("b" if should else "a")


def test_every_model_learns_every_outcome_once() -> None:
    arena = Arena([OnlineModel.logistic(FEATURES), OnlineModel.hoeffding_tree(FEATURES)],
                  PromotionRule(window=100, min_count=50, check_every=10))  # fmt: skip
    for x, y in separable(seed=9, n=75):
        arena.learn(x, y)
    assert arena.outcomes == 75
    assert [m.trained for m in arena.models] == [75, 75]
    assert [arena.quality[m.name].count for m in arena.models] == [75, 75]


def test_model_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        Arena([useless(), useless()])
