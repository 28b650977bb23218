"""Each unit pass imports the build it is meant to test: the sources in the first, the
compiled core in ``make test``'s second (``LOANWATCH_EXPECT_COMPILED=1``).

Without it, a PYTHONPATH that lost build/compiled would let that pass test the sources again,
and a stale build/compiled on the path would let the first test old extensions.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
from pathlib import Path

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


def test_each_pass_imports_the_build_it_is_meant_to_test() -> None:
    compiled = os.environ.get("LOANWATCH_EXPECT_COMPILED") == "1"
    for name in compiled_modules():
        origin = importlib.import_module(name).__file__ or ""
        assert origin.endswith(".so") == compiled, f"{name} was imported from {origin}"
