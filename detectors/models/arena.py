"""Champion and challengers: every model scores, the champion's score counts.

Each matured outcome is first predicted by every model (prequential evaluation: the model
has not yet seen it), then learned by every model. Every ``check_every`` outcomes, a
challenger whose rolling AUC beats the champion's by more than ``margin`` over at least
``min_count`` outcomes is promoted, and the promotion is recorded with its evidence.

>>> arena = Arena([OnlineModel.logistic(("x",)), OnlineModel.hoeffding_tree(("x",))],
...               PromotionRule(min_count=10, check_every=10))
>>> arena.champion.name
'logistic'
>>> for i in range(40):
...     _ = arena.learn((float(i % 2),), i % 2)
>>> arena.outcomes
40
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from detectors.models.online import OnlineModel
from detectors.models.rolling import RollingQuality


@dataclass(frozen=True, slots=True)
class PromotionRule:
    """When a challenger replaces the champion.

    >>> PromotionRule().min_count
    1000
    """

    window: int = 3000
    min_count: int = 1000
    margin: float = 0.005
    check_every: int = 500


@dataclass(frozen=True, slots=True)
class Promotion:
    """A recorded change of champion and the evidence behind it.

    >>> Promotion(5000, "logistic@5000", "hoeffding_tree@5000", 0.74, 0.76, 3000).gain
    0.02
    """

    at_outcome: int
    previous: str
    promoted: str
    previous_auc: float
    promoted_auc: float
    window_count: int

    @property
    def gain(self) -> float:
        return round(self.promoted_auc - self.previous_auc, 6)

    def to_dict(self) -> dict[str, Any]:
        return {
            "at_outcome": self.at_outcome,
            "previous": self.previous,
            "promoted": self.promoted,
            "previous_auc": self.previous_auc,
            "promoted_auc": self.promoted_auc,
            "window_count": self.window_count,
        }


@dataclass
class Arena:
    """A champion and its shadow challengers over the same feature vector."""

    models: list[OnlineModel]
    rule: PromotionRule = field(default_factory=PromotionRule)
    champion_index: int = 0
    outcomes: int = 0
    promotions: list[Promotion] = field(default_factory=list)
    quality: dict[str, RollingQuality] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ValueError(f"model names must be unique, got {names}")
        for name in names:
            self.quality.setdefault(name, RollingQuality(self.rule.window))

    @property
    def champion(self) -> OnlineModel:
        return self.models[self.champion_index]

    def scores(self, values: Sequence[float]) -> dict[str, float]:
        """Every model's score for one vector (the shadow view)."""
        return {model.name: model.predict(values) for model in self.models}

    def learn(self, values: Sequence[float], label: int) -> tuple[float, Promotion | None]:
        """Evaluate then learn one matured outcome; return the champion's prior score
        for it and a promotion if this outcome triggered one."""
        champion_score = 0.5
        for index, model in enumerate(self.models):
            score = model.predict(values)
            if index == self.champion_index:
                champion_score = score
            self.quality[model.name].add(score, label)
            model.learn(values, label)
        self.outcomes += 1
        promotion = None
        if self.outcomes % self.rule.check_every == 0:
            promotion = self._maybe_promote()
        return champion_score, promotion

    def _maybe_promote(self) -> Promotion | None:
        champion_quality = self.quality[self.champion.name]
        if champion_quality.count < self.rule.min_count:
            return None
        champion_auc = champion_quality.auc()
        if champion_auc is None:
            return None
        best: tuple[float, int] | None = None
        for index, model in enumerate(self.models):
            challenger_auc = self.quality[model.name].auc()
            if index == self.champion_index or challenger_auc is None:
                continue
            if challenger_auc > champion_auc + self.rule.margin and (
                best is None or challenger_auc > best[0]
            ):
                best = (challenger_auc, index)
        if best is None:
            return None
        previous = self.champion
        self.champion_index = best[1]
        promotion = Promotion(
            at_outcome=self.outcomes,
            previous=previous.version,
            promoted=self.champion.version,
            previous_auc=round(champion_auc, 6),
            promoted_auc=round(best[0], 6),
            window_count=champion_quality.count,
        )
        self.promotions.append(promotion)
        return promotion

    def figures(self) -> dict[str, dict[str, float | None]]:
        """Rolling AUC, log loss and trained count of every model.

        >>> Arena([OnlineModel.logistic(("x",))]).figures()["logistic"]["count"]
        0.0
        """
        return {
            model.name: {
                "auc": self.quality[model.name].auc(),
                "log_loss": self.quality[model.name].log_loss()
                if self.quality[model.name].count
                else None,
                "count": float(self.quality[model.name].count),
                "trained": float(model.trained),
            }
            for model in self.models
        }
