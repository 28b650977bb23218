"""Checkpoints: identical predictions after a round trip, a readable header, clear refusals."""

from __future__ import annotations

import json
import pickle
import random
from importlib.metadata import version
from typing import Any

import pytest

from detectors.features import feature_dict, feature_vector
from detectors.models import checkpoint
from detectors.models.arena import PromotionRule
from detectors.models.blend import Blend
from detectors.models.checkpoint import MAGIC, CheckpointError, dump, load, read_header
from detectors.models.hub import ModelHub
from detectors.models.inputs import Bins, InputEncoder
from detectors.scoring import Scorecard

ENCODER = InputEncoder(
    raw=("dpd_current", "payment_ratio", "inquiries_30d"),
    binned=(Bins("utilisation", (0.3, 0.9)),),
)


def _features(rng: random.Random) -> list[float]:
    return feature_vector({
        "dpd_current": float(rng.choice([0, 0, 0, 5, 35, 70])),
        "payment_ratio": rng.random() * 1.2,
        "inquiries_30d": float(rng.randint(0, 6)),
        "utilisation": rng.random() * 1.1,
    })  # fmt: skip


def _label(features: list[float], rng: random.Random) -> int:
    f = feature_dict(features)
    risk = (
        0.05
        + 0.5 * (f["dpd_current"] >= 30)
        + 0.3 * (f["utilisation"] > 0.9)
        + 0.03 * f["inquiries_30d"]
    )
    return int(rng.random() < risk)


def _trained_hub(seed: int = 0, n: int = 1500) -> ModelHub:
    hub = ModelHub.default(
        Scorecard(-3.0, {"dpd_current": 0.05, "utilisation": 1.0}, version="card"),
        encoder=ENCODER,
        blend=Blend(start=100, full=400),
        promotion=PromotionRule(window=300, min_count=100, check_every=100),
        seed=seed,
    )
    rng = random.Random(seed)
    for _ in range(n):
        f = _features(rng)
        hub.score(f)
        hub.learn_vector(hub.vector(f), _label(f, rng))
    return hub


@pytest.fixture(scope="module")
def trained() -> tuple[ModelHub, bytes]:
    hub = _trained_hub()
    return hub, dump(hub)


def _probe(seed: int = 99, n: int = 200) -> list[list[float]]:
    rng = random.Random(seed)
    return [_features(rng) for _ in range(n)]


def test_round_trip_gives_identical_predictions(trained: tuple[ModelHub, bytes]) -> None:
    hub, data = trained
    restored = load(data, expected_features=ENCODER.names)
    probes = _probe()
    for model, twin in zip(hub.arena.models, restored.arena.models, strict=True):
        mine = [model.predict(hub.vector(f)) for f in probes]
        theirs = [twin.predict(restored.vector(f)) for f in probes]
        assert mine == theirs, model.name
        # Trained models, not constants: the tree has split, the logistic is continuous.
        assert len(set(mine)) >= (2 if model.name == "hoeffding_tree" else 100), model.name
        assert (twin.name, twin.trained, twin.version) == (model.name, model.trained, model.version)
    assert [restored.score_one(f) for f in probes] == [hub.score_one(f) for f in probes]
    assert restored.version == hub.version
    assert restored.arena.figures() == hub.arena.figures()
    assert restored.drift.figures() == hub.drift.figures()


def test_restored_hub_keeps_learning_like_the_original() -> None:
    hub = _trained_hub(seed=1, n=500)
    restored = load(dump(hub))
    rng = random.Random(5)
    for _ in range(300):
        f = _features(rng)
        label = _label(f, rng)
        assert restored.score(f) == hub.score(f)
        assert restored.learn_vector(restored.vector(f), label) == hub.learn_vector(
            hub.vector(f), label
        )
    assert restored.figures() == hub.figures()


def test_header_is_readable_without_unpickling(
    trained: tuple[ModelHub, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, data = trained

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the header must not unpickle")

    monkeypatch.setattr(pickle, "loads", refuse)
    header_end = data.index(b"\n", len(MAGIC))
    garbled = data[: header_end + 1] + b"not a pickle at all"
    for blob in (data, garbled):
        header = read_header(blob)
        assert header["format"] == checkpoint.FORMAT_VERSION == 2
        assert header["river"] == version("river")
        assert header["champion"] == hub.arena.champion.name
        assert header["version"] == hub.version
        assert header["matured_outcomes"] == hub.arena.outcomes == 1500
        models = {m["name"]: m for m in header["models"]}
        assert set(models) == {"logistic", "hoeffding_tree"}
        for model in hub.arena.models:
            meta = models[model.name]
            assert meta["trained"] == model.trained and meta["version"] == model.version
            assert meta["features"] == list(ENCODER.names)
            assert meta["metrics"]["count"] == 300.0 and meta["metrics"]["auc"] is not None
    assert json.loads(data[len(MAGIC) : header_end]) == read_header(data)


def _edit(data: bytes, old: bytes, new: bytes) -> bytes:
    header_end = data.index(b"\n", len(MAGIC))
    head, body = data[:header_end], data[header_end:]
    assert head.count(old) == 1, old
    return head.replace(old, new) + body


def _refusals(data: bytes) -> list[tuple[bytes, tuple[str, ...] | None, str]]:
    river = version("river").encode()
    return [
        (b"X" + data[1:], None, "bad magic"),
        (b"PICKLE" + data[len(MAGIC) :], None, "bad magic"),
        (_edit(data, b'"format": 2', b'"format": 3'), None, "checkpoint format 3"),
        (_edit(data, b'"format": 2', b'"format": "2"'), None, "checkpoint format 2 is not"),
        (_edit(data, b'"river": "' + river, b'"river": "0.0.1'), None, "River 0.0.1"),
        (_edit(data, b'"river": "' + river, b'"river": "' + river + b".post1"), None, "River"),
        (data, ("dpd_current", "payment_ratio"), "differ from this engine"),
        (data, (*ENCODER.names[1:], ENCODER.names[0]), "differ from this engine"),
        (data[: len(MAGIC)] + b"{not json\n" + data[len(MAGIC) :], None, "not valid JSON"),
    ]


def test_incompatible_checkpoints_are_refused_before_unpickling(
    trained: tuple[ModelHub, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, data = trained
    cases = _refusals(data)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an incompatible checkpoint must be refused before unpickling")

    monkeypatch.setattr(pickle, "loads", refuse)
    for blob, expected, message in cases:
        with pytest.raises(CheckpointError, match=message):
            load(blob, expected_features=expected)


def test_the_edited_headers_are_otherwise_loadable(trained: tuple[ModelHub, bytes]) -> None:
    # The refusals above are about the edited field alone: the same bytes unedited load.
    _, data = trained
    assert isinstance(load(data), ModelHub)
    assert isinstance(load(data, expected_features=ENCODER.names), ModelHub)


def _format_1(hub: ModelHub) -> bytes:
    """``hub`` as releases before format 2 wrote it: the header, then the plain pickle."""
    header = {**read_header(dump(hub)), "format": 1}
    return MAGIC + json.dumps(header).encode() + b"\n" + pickle.dumps(hub, protocol=5)


def test_a_format_1_checkpoint_still_loads_and_predicts_the_same(
    trained: tuple[ModelHub, bytes],
) -> None:
    hub, _ = trained
    restored = load(_format_1(hub), expected_features=ENCODER.names)
    probes = _probe()
    assert [restored.score_one(f) for f in probes] == [hub.score_one(f) for f in probes]


def test_the_trees_gaussians_are_written_without_their_random_generators(
    trained: tuple[ModelHub, bytes],
) -> None:
    hub, data = trained
    # Their generators were nearly all of a format 1 checkpoint.
    assert len(data) * 4 < len(_format_1(hub))
    restored = load(data)
    tree = next(m for m in restored.arena.models if m.name == "hoeffding_tree").estimator
    gaussians = [dist for leaf in tree._find_leaves() for splitter in leaf.splitters.values()
                 for dist in splitter._att_dist_per_class.values()]  # fmt: skip
    assert gaussians and all(g._rng is checkpoint._RESTORED_RNG for g in gaussians)
    assert all(isinstance(g.sample(), float) for g in gaussians)  # still a working Gaussian


def test_a_checkpoint_holding_something_else_is_refused() -> None:
    header = {"format": 1, "river": version("river"), "models": []}
    blob = MAGIC + json.dumps(header).encode() + b"\n" + pickle.dumps({"not": "a hub"})
    with pytest.raises(CheckpointError, match="not a ModelHub"):
        load(blob)


def test_extra_header_keys_join_but_never_override_the_checks() -> None:
    hub = ModelHub.default(Scorecard(0.0, {}), encoder=ENCODER)
    data = dump(hub, offset=42, format=99, river="0.0.1")
    header = read_header(data)
    assert header["offset"] == 42
    assert (header["format"], header["river"]) == (2, version("river"))
    assert isinstance(load(data), ModelHub)
