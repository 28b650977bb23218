"""The model hub: the prior alone during cold start, an explicit blend, versions that say so."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping

import pytest

from detectors.features import feature_dict, feature_vector
from detectors.models.arena import Arena
from detectors.models.blend import Blend
from detectors.models.hub import ModelHub
from detectors.models.inputs import Bins, InputEncoder
from detectors.models.online import OnlineModel
from detectors.models.outcomes import Outcome, Snapshot
from detectors.policy import load_policy
from detectors.scoring import Scorecard

ENCODER = InputEncoder(
    raw=("dpd_current", "payment_ratio"), binned=(Bins("utilisation", (0.5, 0.9)),)
)
PRIOR = Scorecard(-2.0, {"dpd_current": 0.05, "utilisation": 1.0}, version="card")


def _features(rng: random.Random) -> list[float]:
    return feature_vector({
        "dpd_current": float(rng.choice([0, 0, 10, 40])),
        "payment_ratio": rng.random(),
        "utilisation": rng.random(),
    })  # fmt: skip


def _label(features: list[float]) -> int:
    named = feature_dict(features)
    return int(named["dpd_current"] >= 30 or named["utilisation"] > 0.9)


def _hub(start: int, full: int) -> ModelHub:
    return ModelHub.default(PRIOR, encoder=ENCODER, blend=Blend(start=start, full=full))


def test_weight_and_version_across_the_cold_start_ramp() -> None:
    hub = _hub(start=4, full=8)
    rng = random.Random(0)
    seen = []
    for _ in range(11):
        seen.append((hub.arena.outcomes, hub.blend_weight, hub.version))
        f = _features(rng)
        hub.learn_vector(hub.vector(f), _label(f))
    assert seen == [
        (0, 0.0, "card"), (1, 0.0, "card"), (2, 0.0, "card"), (3, 0.0, "card"), (4, 0.0, "card"),
        (5, 0.25, "logistic@5+card@0.25"), (6, 0.5, "logistic@6+card@0.50"),
        (7, 0.75, "logistic@7+card@0.75"),
        (8, 1.0, "logistic@8"), (9, 1.0, "logistic@9"), (10, 1.0, "logistic@10"),
    ]  # fmt: skip
    figures = hub.figures()
    assert (figures["blend_weight"], figures["version"]) == (1.0, "logistic@11")
    assert figures["matured_outcomes"] == 11 and figures["champion"] == "logistic"


def test_score_is_the_prior_until_start_outcomes_have_matured() -> None:
    hub = _hub(start=50, full=150)
    rng = random.Random(1)
    for n in range(50 + 1):
        for _ in range(3):
            f = _features(rng)
            assert hub.score(f) == PRIOR.score(f), f"after {n} outcomes"
        f = _features(rng)
        hub.learn_vector(hub.vector(f), _label(f))
    # Past start the model counts, and has learned enough to move the score off the prior.
    probes = [_features(rng) for _ in range(20)]
    assert any(hub.score(f) != PRIOR.score(f) for f in probes)


def test_score_blends_prior_and_champion_with_the_reported_weight() -> None:
    hub = _hub(start=20, full=120)
    rng = random.Random(2)
    for n in range(200):
        f = _features(rng)
        weight = hub.blend_weight
        assert weight == Blend(20, 120).weight(n)
        model = hub.arena.champion.predict(hub.vector(f))
        expected = weight * model + (1 - weight) * PRIOR.score(f)
        assert math.isclose(hub.score(f), expected, rel_tol=1e-12, abs_tol=1e-15)
        hub.learn_vector(hub.vector(f), _label(f))
    f = _features(rng)
    assert hub.score(f) == hub.arena.champion.predict(hub.vector(f))


def test_policy_blend_keeps_the_scorecard_for_the_first_outcomes() -> None:
    policy = load_policy()
    prior = Scorecard.from_policy(policy)
    hub = ModelHub.default(prior, blend=policy.models.blend)
    features = feature_vector({"dpd_current": 45.0, "utilisation": 0.95, "late_6m": 2.0})
    for _ in range(policy.models.blend.start):
        hub.learn_vector(hub.vector(features), 1)
    assert hub.blend_weight == 0.0 and hub.version == prior.version
    assert hub.score(features) == prior.score(features)
    hub.learn_vector(hub.vector(feature_vector({})), 0)
    assert hub.blend_weight > 0.0 and hub.version.startswith("logistic@")


def test_learn_takes_a_matured_outcome() -> None:
    hub = _hub(start=0, full=1)
    inputs = hub.vector(feature_vector({"dpd_current": 40.0}))
    outcome = Outcome(Snapshot.of(0.0, inputs), label=1, matured_at=1.0)
    assert hub.learn(outcome) is None
    assert hub.arena.outcomes == 1 and [m.trained for m in hub.arena.models] == [1, 1]


def test_the_models_must_take_the_encoders_inputs() -> None:
    arena = Arena([OnlineModel.logistic(("other",))])
    with pytest.raises(ValueError, match="encoder"):
        ModelHub(arena, PRIOR, Blend(), ENCODER)


class Knows:
    """A River-like classifier that already knows the relation and learns nothing more."""

    def predict_proba_one(self, x: Mapping[str, float]) -> dict[bool, float]:
        p = 0.9 if x["dpd_current"] >= 30 or x["utilisation>=0.9"] else 0.1
        return {False: 1 - p, True: p}

    def learn_one(self, x: Mapping[str, float], y: bool) -> None:
        pass


class Recorder:
    """Stands in for ADWIN and keeps what it is fed."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.drift_detected = False
        self.estimation = 0.0

    def update(self, value: float) -> None:
        self.values.append(value)


def test_adwin_is_fed_the_champions_prequential_loss() -> None:
    hub = _hub(start=0, full=1)
    recorder = Recorder()
    hub.drift.adwin = recorder
    rng = random.Random(3)
    expected = []
    for _ in range(300):
        f = _features(rng)
        p = hub.arena.champion.predict(hub.vector(f))  # before it learns this outcome
        y = _label(f)
        expected.append(-math.log(min(max(p if y else 1 - p, 1e-6), 1.0)))
        hub.learn_vector(hub.vector(f), y)
    assert len(recorder.values) == 300
    assert all(
        math.isclose(a, b, rel_tol=1e-9) for a, b in zip(recorder.values, expected, strict=True)
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_flipped_world_is_detected_by_the_hubs_drift_watch(seed: int) -> None:
    arena = Arena([OnlineModel("knows", ENCODER.names, Knows())])
    hub = ModelHub(arena, PRIOR, Blend(0, 1), ENCODER)
    rng = random.Random(seed)
    detections = []
    for n in range(2000):
        f = _features(rng)
        risky = _label(f) if n < 1000 else 1 - _label(f)  # the relation inverts at 1000
        label = int(rng.random() < (0.9 if risky else 0.1))
        before = hub.drift.loss_drifts
        hub.learn_vector(hub.vector(f), label)
        if hub.drift.loss_drifts > before:
            detections.append(n)
    assert detections and 1000 <= detections[0] < 1300, detections
    assert hub.figures()["drift"]["loss_drifts"] == float(len(detections))


def test_every_score_is_watched_for_psi() -> None:
    hub = _hub(start=10, full=20)
    hub.drift.reference_size = 30
    rng = random.Random(4)
    scores = [hub.score(_features(rng)) for _ in range(40)]
    assert hub.drift.reference == scores[:30] and list(hub.drift.current) == scores[30:]


def _behaviour(rng: random.Random, odd: bool) -> list[float]:
    if odd:
        named = {"payment_ratio": 0.0, "utilisation": 1.4, "failed_contacts": 6.0,
                 "inquiries_30d": 8.0, "new_loans_30d": 6.0, "dpd_current": 90.0}  # fmt: skip
    else:
        named = {"payment_ratio": rng.gauss(1.0, 0.05), "utilisation": rng.gauss(0.3, 0.05),
                 "min_payment_streak": float(rng.randint(5, 8))}  # fmt: skip
    return feature_vector(named)


def test_the_hub_scores_anomalies_and_learns_them_only_from_matured_outcomes() -> None:
    hub = ModelHub.default(PRIOR, seed=0)  # the default encoder carries behaviour features
    rng = random.Random(5)
    assert hub.score_one(_behaviour(rng, odd=True)) == 0.0  # nothing learned yet
    for _ in range(600):
        hub.learn_vector(hub.vector(_behaviour(rng, odd=False)), 0)
    assert hub.anomaly.seen == 600
    usual = [hub.score_one(_behaviour(rng, odd=False)) for _ in range(50)]
    odd = hub.score_one(_behaviour(rng, odd=True))
    assert odd > max(usual)
    assert hub.anomaly.seen == 600  # scoring read the model, it did not learn


def test_a_hub_pickled_before_weight_and_version_were_kept_loads_with_them() -> None:
    hub = _hub(start=2, full=6)
    rng = random.Random(3)
    for _ in range(4):
        f = _features(rng)
        hub.learn_vector(hub.vector(f), _label(f))
    older = {k: v for k, v in vars(hub).items() if k not in ("blend_weight", "version")}
    restored = ModelHub.__new__(ModelHub)
    restored.__setstate__(older)
    assert (restored.blend_weight, restored.version) == (hub.blend_weight, hub.version)
    assert hub.version.startswith("logistic@4+card@")
