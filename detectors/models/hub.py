"""The model hub: the scorer the engine calls, and the learner matured outcomes feed.

Until enough outcomes have matured, the policy scorecard is the score; then the champion's
probability is blended in, with a weight that rises linearly from 0 at ``Blend.start``
matured outcomes to 1 at ``Blend.full``. The weight is part of every score's version.

>>> from detectors.models.inputs import InputEncoder
>>> from detectors.scoring import Scorecard
>>> hub = ModelHub.default(Scorecard(-1.0, {"dpd_current": 0.05}, version="card"),
...                        encoder=InputEncoder(raw=("dpd_current",)), blend=Blend(start=2, full=4))
>>> hub.version
'card'
>>> for i in range(4):
...     _ = hub.learn_vector((60.0 * (i % 2),), i % 2)
>>> hub.blend_weight, hub.version
(1.0, 'logistic@4')
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from detectors.models.anomaly import AnomalyWatch
from detectors.models.arena import Arena, Promotion, PromotionRule
from detectors.models.blend import Blend
from detectors.models.drift import DriftWatch
from detectors.models.inputs import DEFAULT_ENCODER, InputEncoder
from detectors.models.online import OnlineModel
from detectors.models.outcomes import Outcome, dense
from detectors.models.rolling import log_loss
from detectors.scoring import Scorer


class ModelHub:
    """A prior scorecard, an encoder, an arena of online models, the behaviour anomaly
    detector, drift watch, and the blend. It is the engine's scorer (``score``) and anomaly
    scorer (``score_one``); both only read the models, ``learn`` changes them.

    With ``label_hold_s`` (the outcome horizon), :meth:`learn` holds a matured outcome until
    the outcomes' event time has passed its snapshot's whole horizon: a bad outcome matures
    as soon as the borrower goes bad, a good one only after the horizon, so learning them as
    they mature trains the first models on good snapshots of new borrowers and bad ones of
    seasoned borrowers, and they score every seasoned borrower as bad. Held, every cohort's
    good and bad outcomes are learned together."""

    # Class defaults: a checkpoint from before the hold loads without one (learns at once).
    label_hold_s: float = 0.0
    watermark: float = float("-inf")
    held: list[tuple[float, int, int, tuple[tuple[int, float], ...], int]]
    # Derived (see _refresh): the champion's share of the score, and the name every score
    # carries (the prior's until the blend starts, the champion's once it is complete, and
    # both with the weight in between).
    blend_weight: float
    version: str

    def __init__(
        self,
        arena: Arena,
        prior: Scorer,
        blend: Blend,
        encoder: InputEncoder = DEFAULT_ENCODER,
        drift: DriftWatch | None = None,
        anomaly: AnomalyWatch | None = None,
        label_hold_s: float = 0.0,
    ) -> None:
        if arena.champion.feature_names != encoder.names:
            raise ValueError("the arena's models must take the encoder's inputs")
        self.arena = arena
        self.prior = prior
        self.blend = blend
        self.encoder = encoder
        self.drift = drift or DriftWatch()
        self.anomaly = anomaly or AnomalyWatch()
        self.label_hold_s = label_hold_s
        # (release at, sequence, size, non-zero (index, value) features, label), a heap;
        # sparse, as it travels in every checkpoint
        self.held = []
        self._refresh()

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickled from a checkpoint (of this or an earlier release): its attributes, then
        what :meth:`_refresh` derives from them."""
        self.__dict__.update(state)
        self._refresh()

    def _refresh(self) -> None:
        """Derive the blend weight and the version from the outcomes learned so far: every
        score reads them, and they change only when the models learn."""
        weight = self.blend.weight(self.arena.outcomes)
        self.blend_weight = weight
        if weight == 0.0:
            self.version = self.prior.version
        elif weight == 1.0:
            self.version = self.arena.champion.version
        else:
            self.version = f"{self.arena.champion.version}+{self.prior.version}@{weight:.2f}"

    @classmethod
    def default(
        cls,
        prior: Scorer,
        *,
        encoder: InputEncoder = DEFAULT_ENCODER,
        blend: Blend | None = None,
        promotion: PromotionRule | None = None,
        seed: int = 0,
        label_hold_s: float = 0.0,
    ) -> ModelHub:
        """Logistic regression as champion, an adaptive Hoeffding tree in shadow.

        >>> from detectors.scoring import Scorecard
        >>> ModelHub.default(Scorecard(0.0, {})).arena.champion.name
        'logistic'
        """
        models = [
            OnlineModel.logistic(encoder.names),
            OnlineModel.hoeffding_tree(encoder.names, seed=seed),
        ]
        arena = Arena(models, promotion or PromotionRule())
        return cls(arena, prior, blend or Blend(), encoder, anomaly=AnomalyWatch(seed=seed),
                   label_hold_s=label_hold_s)  # fmt: skip

    def vector(self, features: list[float]) -> tuple[float, ...]:
        """The models' ordered input for these features.

        >>> from detectors.features import feature_vector
        >>> from detectors.models.inputs import InputEncoder
        >>> from detectors.scoring import Scorecard
        >>> hub = ModelHub.default(Scorecard(0.0, {}), encoder=InputEncoder(("late_3m", "late_6m")))
        >>> hub.vector(feature_vector({"late_6m": 2.0}))
        (0.0, 2.0)
        """
        return self.encoder.encode(features)

    def score(self, features: list[float]) -> float:
        """The blended probability of going bad; also fed to the PSI drift watch."""
        weight = self.blend_weight
        value = self.prior.score(features)
        if weight > 0.0:
            model = self.arena.champion.predict(self.vector(features))
            value = weight * model + (1.0 - weight) * value
        self.drift.observe_score(value)
        return value

    def score_one(self, features: list[float]) -> float:
        """The behaviour anomaly score (River's anomaly-detector method name)."""
        return self.anomaly.score_one(features)

    def learn(self, outcome: Outcome) -> Promotion | None:
        """Learn one matured outcome in every model (with a label hold: every held outcome
        whose horizon the outcomes' event time has passed); return a promotion if one
        happened.

        >>> from detectors.models.inputs import InputEncoder
        >>> from detectors.models.outcomes import Snapshot
        >>> from detectors.scoring import Scorecard
        >>> hub = ModelHub.default(Scorecard(0.0, {}), encoder=InputEncoder(raw=("late_6m",)),
        ...                        label_hold_s=90.0)
        >>> _ = hub.learn(Outcome(Snapshot.of(50.0, (1.0,)), label=1, matured_at=60.0))
        >>> hub.arena.outcomes, len(hub.held)  # bad early: held until 50 + 90
        (0, 1)
        >>> _ = hub.learn(Outcome(Snapshot.of(55.0, (0.0,)), label=0, matured_at=145.0))
        >>> hub.arena.outcomes, len(hub.held)
        (2, 0)
        """
        if not self.label_hold_s:
            return self.learn_vector(outcome.features, outcome.label)
        self.watermark = max(self.watermark, outcome.matured_at)
        release_at = outcome.snapshot.taken_at + self.label_hold_s
        held = self.held
        snapshot = outcome.snapshot
        heapq.heappush(held, (release_at, self.arena.outcomes + len(held), snapshot.size,
                              snapshot.inputs, outcome.label))  # fmt: skip
        promotion = None
        while held and held[0][0] <= self.watermark:
            _, _, size, nonzero, label = heapq.heappop(held)
            promotion = self.learn_vector(dense(size, nonzero), label) or promotion
        return promotion

    def learn_vector(self, values: Sequence[float], label: int) -> Promotion | None:
        """Learn one labelled vector (the evaluation's delayed final labels come this way)."""
        champion_score, promotion = self.arena.learn(values, label)
        self._refresh()
        self.anomaly.learn_one(dict(zip(self.encoder.names, values, strict=True)))
        self.drift.observe_loss(log_loss([champion_score], [label]))
        return promotion

    def figures(self) -> dict[str, Any]:
        """Everything an operator needs to judge the models, as plain numbers."""
        return {
            "version": self.version,
            "champion": self.arena.champion.name,
            "blend_weight": self.blend_weight,
            "matured_outcomes": self.arena.outcomes,
            "models": self.arena.figures(),
            "drift": self.drift.figures(),
            "promotions": [p.to_dict() for p in self.arena.promotions],
        }


