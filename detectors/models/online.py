"""One online classifier with its identity: a River estimator, a name and a trained count.

The model sees a fixed, ordered feature vector (``feature_names``); the same order is used
in snapshots, so a snapshot taken today can be learned from in three months.

>>> model = OnlineModel.logistic(("dpd", "ratio"))
>>> model.predict((0.0, 1.0))
0.5
>>> model.learn((60.0, 0.0), 1)
>>> model.trained, model.version
(1, 'logistic@1')
>>> model.predict((60.0, 0.0)) > 0.5
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from river import linear_model, optim, preprocessing, tree


@dataclass
class OnlineModel:
    """A named River classifier learning one matured outcome at a time."""

    name: str
    feature_names: tuple[str, ...]
    estimator: Any  # a river.base.Classifier; River ships no type stubs
    trained: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def logistic(cls, feature_names: Sequence[str], learning_rate: float = 0.05) -> OnlineModel:
        """The default champion: standardised features into a logistic regression.

        >>> OnlineModel.logistic(("x",)).name
        'logistic'
        """
        estimator = preprocessing.StandardScaler() | linear_model.LogisticRegression(
            optimizer=optim.AdaGrad(learning_rate)
        )
        return cls("logistic", tuple(feature_names), estimator)

    @classmethod
    def hoeffding_tree(cls, feature_names: Sequence[str], seed: int = 0) -> OnlineModel:
        """A challenger of another family: an adaptive Hoeffding tree (majority-class leaves,
        which cost a fraction of naive-Bayes leaves on wide inputs).

        >>> OnlineModel.hoeffding_tree(("x",)).name
        'hoeffding_tree'
        """
        estimator = tree.HoeffdingAdaptiveTreeClassifier(
            grace_period=200, leaf_prediction="mc", seed=seed
        )
        return cls("hoeffding_tree", tuple(feature_names), estimator)

    @property
    def version(self) -> str:
        """Names the model and how much it has learned; every score carries one."""
        return f"{self.name}@{self.trained}"

    def _as_dict(self, values: Sequence[float]) -> dict[str, float]:
        return dict(zip(self.feature_names, values, strict=True))

    def predict(self, values: Sequence[float]) -> float:
        """Probability of going bad for one feature vector (0.5 before any learning)."""
        proba: dict[Any, float] = self.estimator.predict_proba_one(self._as_dict(values))
        if True in proba:
            return float(proba[True])
        if False in proba:  # a model that has seen only good outcomes names only that class
            return 1.0 - float(proba[False])
        return 0.5

    def learn(self, values: Sequence[float], label: int) -> None:
        """Learn one matured outcome (1 = went bad)."""
        self.estimator.learn_one(self._as_dict(values), bool(label))
        self.trained += 1


