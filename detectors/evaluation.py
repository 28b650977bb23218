"""The delayed-label evaluation protocol on a labelled portfolio (the Taiwan file).

Clients are replayed in a seeded random order, each client's events through the same
:class:`~detectors.engine.Monitor` that runs live. The score after a client's last event is
the prediction of its label; that label reaches the learner only after the next ``delay``
clients have been scored. Outcomes that mature inside a client's own history (30+ days past
due within the horizon of an earlier snapshot) are learned when they mature if
``learn_early`` is set.

>>> from detectors.policy import load_policy
>>> from detectors.taiwan import TaiwanClient
>>> row = {"ID": "1", "LIMIT_BAL": "20000", "default.payment.next.month": "0",
...        **{f"PAY_{k}": "-1" for k in (0, 2, 3, 4, 5, 6)},
...        **{f"BILL_AMT{k}": "500" for k in range(1, 7)},
...        **{f"PAY_AMT{k}": "500" for k in range(1, 7)}}
>>> clients = [TaiwanClient.from_row({**row, "ID": str(i)}) for i in range(5)]
>>> result = evaluate(clients, load_policy(), delay=2, seed=0)
>>> len(result.predictions), result.final_labels_learned, result.min_label_lag
(5, 3, 2)
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from detectors.engine import Monitor
from detectors.models.hub import ModelHub
from detectors.models.rolling import auc, log_loss
from detectors.policy import Policy
from detectors.scoring import Scorecard
from detectors.taiwan import TaiwanClient

TIERS = ("A", "B", "C", "D")


@dataclass(frozen=True, slots=True)
class Prediction:
    """One client's final score and tier, and the label it turned out to have."""

    client_id: str
    score: float
    tier: str
    label: int
    model_version: str


@dataclass
class EvaluationResult:
    """Everything the protocol observed; :meth:`metrics` turns it into figures."""

    predictions: list[Prediction] = field(default_factory=list)
    final_labels_learned: int = 0
    early_outcomes_learned: int = 0
    min_label_lag: int | None = None  # fewest clients scored between a score and its label
    model_figures: dict[str, object] = field(default_factory=dict)

    def metrics(self, last: int = 20000) -> dict[str, object]:
        """AUC, log loss and tier figures; ``last`` names the tail window.

        >>> r = EvaluationResult([Prediction("1", 0.9, "D", 1, "m"),
        ...                       Prediction("2", 0.1, "A", 0, "m")])
        >>> m = r.metrics(last=2)
        >>> m["auc_all"], m["count_by_tier"]["D"], m["default_rate_by_tier"]["B"]
        (1.0, 1, None)
        """
        scores = [p.score for p in self.predictions]
        labels = [p.label for p in self.predictions]
        counts = {tier: 0 for tier in TIERS}
        bads = {tier: 0 for tier in TIERS}
        for p in self.predictions:
            counts[p.tier] += 1
            bads[p.tier] += p.label
        return {
            "clients": len(self.predictions),
            "default_rate": sum(labels) / len(labels) if labels else None,
            "auc_all": auc(scores, labels),
            "log_loss_all": log_loss(scores, labels),
            f"auc_last_{last}": auc(scores[-last:], labels[-last:]),
            f"log_loss_last_{last}": log_loss(scores[-last:], labels[-last:]),
            "count_by_tier": counts,
            "default_rate_by_tier": {
                tier: (bads[tier] / counts[tier] if counts[tier] else None) for tier in TIERS
            },
            "final_labels_learned": self.final_labels_learned,
            "early_outcomes_learned": self.early_outcomes_learned,
            "min_label_lag": self.min_label_lag,
        }


def default_hub(policy: Policy, seed: int = 0, *, hold_labels: bool = False) -> ModelHub:
    """The hub the live pipeline uses: policy scorecard prior, logistic champion,
    Hoeffding-tree challenger, blend and promotion settings from the policy.
    ``hold_labels`` (the trainer's) learns each outcome only once its snapshot's whole
    horizon has passed (:class:`ModelHub`).

    >>> from detectors.policy import load_policy
    >>> default_hub(load_policy()).arena.champion.name
    'logistic'
    """
    return ModelHub.default(
        Scorecard.from_policy(policy),
        blend=policy.models.blend,
        promotion=policy.models.promotion,
        seed=seed,
        label_hold_s=policy.models.outcomes.horizon_days * 86_400.0 if hold_labels else 0.0,
    )


def evaluate(
    clients: Sequence[TaiwanClient],
    policy: Policy,
    *,
    delay: int = 1000,
    seed: int = 0,
    learn_early: bool = False,
    hub: ModelHub | None = None,
    progress: Callable[[int], None] = lambda _: None,
) -> EvaluationResult:
    """Run the protocol; ``progress`` is called with 1 after each client."""
    order = list(clients)
    random.Random(seed).shuffle(order)
    hub = hub or default_hub(policy, seed)
    monitor = Monitor(policy, scorer=hub, anomaly=hub, encoder=hub.encoder)
    waiting: deque[tuple[int, tuple[float, ...], int]] = deque()
    result = EvaluationResult()
    for index, client in enumerate(order):
        state = None
        decision = None
        for event in client.events():
            state, decision = monitor.process(state, event)
            if learn_early:
                for outcome in decision.outcomes:
                    hub.learn(outcome)
                    result.early_outcomes_learned += 1
        assert decision is not None, "every client has six events"
        result.predictions.append(
            Prediction(client.client_id, decision.score, decision.tier, client.label,
                       decision.model_version)
        )  # fmt: skip
        waiting.append((index, hub.vector(decision.features), client.label))
        if len(waiting) > delay:
            scored_at, vector, label = waiting.popleft()
            lag = index - scored_at
            result.min_label_lag = lag if result.min_label_lag is None else min(
                result.min_label_lag, lag
            )
            hub.learn_vector(vector, label)
            result.final_labels_learned += 1
        progress(1)
    result.model_figures = hub.figures()
    return result
