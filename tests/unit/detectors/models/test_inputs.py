"""Model inputs: one name per value, one-hot bins, absent features as zero."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.features import FEATURE_NAMES, feature_vector
from detectors.models.inputs import DEFAULT_ENCODER, MODEL_FEATURES, Bins, InputEncoder

FEATURES = sorted({*DEFAULT_ENCODER.raw, *(b.feature for b in DEFAULT_ENCODER.binned)})
values = st.one_of(
    st.floats(-1e6, 1e7, allow_nan=False),
    st.sampled_from([0.0, 1.0, 30.0, 0.5, 0.9, 1.0, 0.99, 1.01, 30000.0, 500000.0]),
)


def _slices(encoder: InputEncoder) -> list[tuple[Bins, slice]]:
    start = len(encoder.raw)
    out = []
    for bins in encoder.binned:
        out.append((bins, slice(start, start + len(bins.edges) + 1)))
        start += len(bins.edges) + 1
    return out


def _check_one_hot(encoder: InputEncoder, features: dict[str, float]) -> None:
    vector = encoder.encode(feature_vector(features))
    assert len(vector) == len(encoder.names)
    for name, value in zip(encoder.raw, vector, strict=False):
        assert value == float(features.get(name, 0.0))
    for bins, part in _slices(encoder):
        hot = vector[part]
        assert sorted(hot) == [0.0] * (len(hot) - 1) + [1.0], bins.feature
        # The hot indicator's name tells the truth about the value.
        name = encoder.names[part][hot.index(1.0)]
        value = float(features.get(bins.feature, 0.0))
        position = hot.index(1.0)
        if name.startswith(f"{bins.feature}>="):
            assert position == len(bins.edges) and value >= bins.edges[-1]
            assert name == f"{bins.feature}>={bins.edges[-1]:g}"
        else:
            assert name == f"{bins.feature}<{bins.edges[position]:g}"
            assert value < bins.edges[position]
            assert position == 0 or value >= bins.edges[position - 1]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(FEATURES), values))
def test_default_encoder_names_match_values_and_bins_are_one_hot(
    features: dict[str, float],
) -> None:
    _check_one_hot(DEFAULT_ENCODER, features)


edges = st.lists(st.floats(-100, 100), min_size=1, max_size=6, unique=True).map(
    lambda xs: tuple(sorted(xs))
)


# Six real feature names: the raw ones drawn from the first four, the binned from the last
# four (so a feature can be both), the values from all six.
SOME = FEATURE_NAMES[:6]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(SOME[:4]), unique=True, max_size=4),
    st.lists(st.tuples(st.sampled_from(SOME[2:]), edges), max_size=3),
    st.dictionaries(st.sampled_from(SOME), st.floats(-200, 200)),
)
def test_any_encoder_gives_one_value_per_name(
    raw: list[str], binned: list[tuple[str, tuple[float, ...]]], features: dict[str, float]
) -> None:
    encoder = InputEncoder(tuple(raw), tuple(Bins(f, e) for f, e in binned))
    assert len(encoder.names) == len(raw) + sum(len(e) + 1 for _, e in binned)
    _check_one_hot(encoder, features)


def test_absent_features_encode_as_zero() -> None:
    empty = DEFAULT_ENCODER.encode(feature_vector({}))
    # The encoder reads its own features only: setting every other one changes nothing.
    unused = [name for name in FEATURE_NAMES if name not in FEATURES]
    assert unused and empty == DEFAULT_ENCODER.encode(feature_vector(dict.fromkeys(unused, 7.0)))
    assert empty[: len(DEFAULT_ENCODER.raw)] == (0.0,) * len(DEFAULT_ENCODER.raw)
    # A binned feature that is absent lands in the bin holding 0, like an explicit 0.
    encoder = InputEncoder(
        raw=("late_6m",),
        binned=(Bins("utilisation", (0.5, 0.9)), Bins("dpd_current", (-1.0, 1.0))),
    )
    assert encoder.encode(feature_vector({})) == (0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def test_unknown_feature_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown feature 'util'"):
        InputEncoder(raw=("util",))
    with pytest.raises(ValueError, match="unknown feature 'dpd'"):
        InputEncoder(raw=("late_6m",), binned=(Bins("dpd", (1.0,)),))


def test_edges_belong_to_the_bin_above() -> None:
    bins = Bins("utilisation", (0.5, 0.9))
    assert [bins.slot(v) for v in (0.4999, 0.5, 0.8999, 0.9, 5.0)] == [0, 1, 1, 2, 2]
    assert bins.slot(float("nan")) == 2  # as bisect_right places it


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(FEATURES), values))
def test_snapshot_holds_exactly_the_non_zero_inputs_in_order(features: dict[str, float]) -> None:
    snapshot = DEFAULT_ENCODER.snapshot(7.0, feature_vector(features))
    assert snapshot.taken_at == 7.0 and snapshot.size == len(MODEL_FEATURES)
    indices = [index for index, _ in snapshot.inputs]
    assert indices == sorted(set(indices))
    assert all(value for _, value in snapshot.inputs)
    dense = snapshot.features
    assert [(i, v) for i, v in enumerate(dense) if v] == list(snapshot.inputs)


def test_default_names_are_unique_and_exported() -> None:
    dense = DEFAULT_ENCODER.encode(feature_vector({}))
    assert len(set(MODEL_FEATURES)) == len(MODEL_FEATURES) == len(dense)
    assert DEFAULT_ENCODER.names == MODEL_FEATURES
