"""The compiled test run (``make test``'s second unit pass) really imports the compiled core.

Without it, a PYTHONPATH that lost build/compiled would let that pass test the sources again.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
from pathlib import Path

import pytest

SETUP = Path(__file__).resolve().parents[2] / "setup.py"


def compiled_modules() -> list[str]:
    """The module names setup.py compiles (its COMPILED list of paths)."""
    for node in ast.parse(SETUP.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "COMPILED":
            paths = ast.literal_eval(node.value)
            return [path.removesuffix(".py").replace("/", ".") for path in paths]
    raise AssertionError("setup.py has no COMPILED list")


def test_setup_compiles_modules_that_exist() -> None:
    for name in compiled_modules():
        assert importlib.util.find_spec(name) is not None, name


@pytest.mark.skipif(os.environ.get("LOANWATCH_EXPECT_COMPILED") != "1",
                    reason="the compiled unit pass sets LOANWATCH_EXPECT_COMPILED=1")  # fmt: skip
def test_the_compiled_modules_come_from_extensions() -> None:
    for name in compiled_modules():
        origin = importlib.import_module(name).__file__ or ""
        assert origin.endswith(".so"), f"{name} was imported from {origin}"
