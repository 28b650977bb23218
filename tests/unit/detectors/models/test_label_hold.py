"""The trainer's label hold: outcomes learned by cohort, so the first models are not biased
by bad outcomes maturing months before good ones (the live demo lost its A tier so)."""

from __future__ import annotations

import pickle
import statistics
from collections.abc import Mapping

from detectors.engine import Monitor
from detectors.evaluation import default_hub
from detectors.models.hub import ModelHub
from detectors.models.inputs import DEFAULT_ENCODER
from detectors.models.outcomes import Outcome, Snapshot
from detectors.policy import load_policy
from detectors.simulation import Simulation
from detectors.state import DAY, BorrowerState


def test_a_bad_outcome_waits_for_its_horizon_and_a_good_one_does_not() -> None:
    hub = default_hub(load_policy(), hold_labels=True)
    features = (0.0,) * len(DEFAULT_ENCODER.names)
    hub.learn(Outcome(Snapshot.of(10 * DAY, features), 1, 20 * DAY))
    assert (hub.arena.outcomes, len(hub.held)) == (0, 1)
    restored = pickle.loads(pickle.dumps(hub))  # held outcomes travel in the checkpoint
    restored.learn(Outcome(Snapshot.of(5 * DAY, features), 0, 95 * DAY))
    assert (restored.arena.outcomes, len(restored.held)) == (1, 1)
    restored.learn(Outcome(Snapshot.of(11 * DAY, features), 0, 101 * DAY))
    assert (restored.arena.outcomes, len(restored.held)) == (3, 0)


def test_without_the_hold_learning_is_immediate() -> None:
    hub = default_hub(load_policy())
    hub.learn(Outcome(Snapshot.of(0.0, (0.0,) * len(DEFAULT_ENCODER.names)), 1, DAY))
    assert hub.arena.outcomes == 1 and not hub.held


def _first_model(hold: bool) -> tuple[ModelHub, list[Mapping[str, float]]]:
    """The trainer's hub at its first snapshot (1,000 outcomes) and the features the
    worker scores with it, on the demo's simulated portfolio (1,000 borrowers)."""
    policy = load_policy()
    monitor = Monitor(policy, encoder=DEFAULT_ENCODER)
    trainer = default_hub(policy, hold_labels=hold)
    states: dict[str, BorrowerState] = {}
    latest: dict[str, Mapping[str, float]] = {}
    for event in Simulation(borrowers=1000, seed=42).events():
        state, decision = monitor.process(states.get(event.borrower_id), event)
        states[event.borrower_id] = state
        latest[event.borrower_id] = decision.features
        for outcome in decision.outcomes:
            trainer.learn(outcome)
        if trainer.arena.outcomes >= 1000:
            return trainer, list(latest.values())
    raise AssertionError("fewer than 1,000 outcomes")


def test_the_first_model_does_not_score_the_portfolio_as_bad() -> None:
    hub, features = _first_model(hold=True)
    predictions = [hub.arena.champion.predict(hub.vector(f)) for f in features]
    # About the portfolio's bad rate; learning outcomes as they matured gave a median of 0.97.
    assert statistics.median(predictions) < 0.3
    scored_low = sum(hub.score(f) < 0.10 for f in features)
    assert scored_low > len(features) / 2
