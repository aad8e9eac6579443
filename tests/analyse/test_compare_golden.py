"""Golden cases for compare and related: tests/cases/compare/pairs.toml (see its header).

Loaded and checked by tests/compare_cases.py, which benchmarks/bench_verdicts.py counts too.
"""

from __future__ import annotations

import pytest

from compare_cases import PAIRS, compared, failures
from dipdiff.analyse.compare import compare, diverges
from dipdiff.analyse.stance import analyze


@pytest.mark.parametrize("case", PAIRS, ids=[c["name"] for c in PAIRS])
def test_golden_pair(case):
    a, b, c = compared(case)
    missed = failures(case, a, b, c)
    assert not missed, missed


@pytest.mark.parametrize("case", PAIRS, ids=[c["name"] for c in PAIRS])
def test_the_quick_verdict_is_compares_verdict(case):
    """``divergences`` asks :func:`diverges` of every candidate pair before comparing it in
    full: on every golden pair, divergent or a trap, either way round, it must agree."""
    a, b, c = compared(case)
    ta, tb = analyze(a), analyze(b)
    assert diverges(ta, tb) == c.divergent
    assert diverges(tb, ta) == compare(b, a).divergent
