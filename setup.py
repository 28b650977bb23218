"""The optional compiled build of the detectors core (mypyc); metadata is in pyproject.toml.

A plain install (``pip install -e .``, what ``make venv`` does) is pure Python. With
``LOANWATCH_COMPILE=1`` the hot modules of the engine are compiled to C extensions, which
import in place of their sources: ``make compiled`` builds them into ``build/compiled``, and
``make bench`` and the compiled test run put that folder first on ``PYTHONPATH``.
"""

import os
from typing import Any

from setuptools import setup

# The modules every event passes through. Left out: the rules themselves (mypyc makes a
# dataclass's ClassVar a field, mypyc/mypyc#1122, and the rules' codes are class constants;
# what they fire on is compiled, in detectors.rules.conditions) and the model hub (River's
# models are Python either way).
COMPILED = [
    "detectors/decision.py",
    "detectors/engine.py",
    "detectors/events.py",
    "detectors/features.py",
    "detectors/fields.py",
    "detectors/scoring.py",
    "detectors/state.py",
    "detectors/tiering.py",
    "detectors/treatments.py",
    "detectors/models/inputs.py",
    "detectors/models/outcomes.py",
    "detectors/rules/conditions.py",
]


def compiled_extensions() -> list[Any]:
    """The mypyc extensions when LOANWATCH_COMPILE=1, else none."""
    if os.environ.get("LOANWATCH_COMPILE") != "1":
        return []
    from mypyc.build import mypycify

    # debug_level 0: with gcc's -g1 the build takes ten minutes instead of about twenty seconds.
    return mypycify(COMPILED, opt_level="3", debug_level="0")


setup(ext_modules=compiled_extensions())
