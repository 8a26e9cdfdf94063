"""The examples in the docstrings of `iplos.ident` run and hold."""

from __future__ import annotations

import doctest

import pytest

from iplos.ident import _fnr, _pseudonym


@pytest.mark.parametrize("module", [_fnr, _pseudonym], ids=lambda m: m.__name__)
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0
