"""Model checkpoints: a readable JSON header and the pickled hub, as one byte string.

The header (format version, River version, champion, and per model its version, trained
count, features and rolling metrics) can be read without unpickling, which is how an
incompatible checkpoint is refused before any of it is loaded. Checkpoints are written and
read only by loanwatch itself (its snapshot topic and table): pickle is not for untrusted
bytes.

Format 2 compresses the pickle (zlib) and leaves out the random generator of each River
``Gaussian``: the Hoeffding tree keeps one per class, input and leaf, each with a
``random.Random`` that only ``Gaussian.sample`` uses (never called here) and whose 2.5 kB of
state was 94% of a checkpoint. On the simulator's outcomes a format 1 checkpoint grew past
the snapshot topic's 16 MiB after about 16,500 outcomes (86.7 MB after 50,000, so the trainer
could no longer publish); format 2 of the same hub is 0.3 MB. Format 1 is still read.

>>> from detectors.models.hub import ModelHub
>>> from detectors.models.inputs import InputEncoder
>>> from detectors.scoring import Scorecard
>>> hub = ModelHub.default(Scorecard(0.0, {}), encoder=InputEncoder(raw=("late_6m",)))
>>> _ = hub.learn_vector((1.0,), 1)
>>> data = dump(hub)
>>> read_header(data)["models"][0]["trained"]
1
>>> restored = load(data)
>>> restored.arena.champion.predict((1.0,)) == hub.arena.champion.predict((1.0,))
True
"""

from __future__ import annotations

import io
import json
import pickle
import random
import zlib
from importlib.metadata import version
from typing import Any

from river.proba import Gaussian

from detectors.models.hub import ModelHub

MAGIC = b"LOANWATCH-MODEL\n"
RIVER_VERSION = version("river")
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)  # 1: the pickle as it is, Gaussians with their generators
# What every restored Gaussian gets in place of the generator it was written without.
_RESTORED_RNG = random.Random(0)


class CheckpointError(ValueError):
    """A checkpoint that this release cannot or must not load."""


def dump(hub: ModelHub, **extra: Any) -> bytes:
    """Serialise ``hub`` with its metadata; ``extra`` keys join the header."""
    figures = hub.arena.figures()
    header = {
        **extra,
        "format": FORMAT_VERSION,
        "river": RIVER_VERSION,
        "champion": hub.arena.champion.name,
        "version": hub.version,
        "matured_outcomes": hub.arena.outcomes,
        "models": [
            {
                "name": model.name,
                "version": model.version,
                "trained": model.trained,
                "features": list(model.feature_names),
                "metrics": figures[model.name],
            }
            for model in hub.arena.models
        ],
    }
    pickled = io.BytesIO()
    _Pickler(pickled, protocol=5).dump(hub)
    return MAGIC + json.dumps(header).encode() + b"\n" + zlib.compress(pickled.getvalue(), 6)


class _Pickler(pickle.Pickler):
    """Pickles River Gaussians without their random generator (see the module's docstring)."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is Gaussian:
            state = {name: value for name, value in vars(obj).items() if name != "_rng"}
            return _restore_gaussian, (state,)
        return NotImplemented


def _restore_gaussian(state: dict[str, Any]) -> Gaussian:
    gaussian = Gaussian.__new__(Gaussian)
    vars(gaussian).update(state, _rng=_RESTORED_RNG)
    return gaussian


def read_header(data: bytes) -> dict[str, Any]:
    """The checkpoint's metadata, without loading any model."""
    if not data.startswith(MAGIC):
        raise CheckpointError("not a loanwatch model checkpoint (bad magic bytes)")
    line_end = data.find(b"\n", len(MAGIC))
    try:
        header: dict[str, Any] = json.loads(data[len(MAGIC) : line_end])
    except (ValueError, UnicodeDecodeError) as error:
        raise CheckpointError(f"checkpoint header is not valid JSON: {error}") from error
    return header


def load(data: bytes, expected_features: tuple[str, ...] | None = None) -> ModelHub:
    """Restore a hub; refuse a checkpoint from another format, River release or feature set.

    >>> try:
    ...     load(MAGIC + b'{"format": 99, "river": "0"}\\n')
    ... except CheckpointError as error:
    ...     print(error)
    checkpoint format 99 is not supported by this release (it reads formats 1 and 2)
    """
    header = read_header(data)
    if header.get("format") not in READABLE_FORMATS:
        raise CheckpointError(
            f"checkpoint format {header.get('format')} is not supported by this release "
            f"(it reads formats {' and '.join(map(str, READABLE_FORMATS))})"
        )
    if header.get("river") != RIVER_VERSION:
        raise CheckpointError(
            f"checkpoint was written with River {header.get('river')}, this process runs "
            f"River {RIVER_VERSION}; retrain or restore with the matching release"
        )
    features = tuple(header["models"][0]["features"]) if header.get("models") else ()
    if expected_features is not None and features != expected_features:
        raise CheckpointError(
            f"checkpoint features {list(features)} differ from this engine's "
            f"{list(expected_features)}"
        )
    body = data[data.find(b"\n", len(MAGIC)) + 1 :]
    hub = pickle.loads(zlib.decompress(body) if header["format"] == 2 else body)
    if not isinstance(hub, ModelHub):
        raise CheckpointError(f"checkpoint holds a {type(hub).__name__}, not a ModelHub")
    return hub
