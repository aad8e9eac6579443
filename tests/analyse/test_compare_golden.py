"""Golden cases for compare and related: tests/cases/compare/pairs.toml (see its header).

Loaded and checked by tests/compare_cases.py, which benchmarks/bench_verdicts.py counts too.
"""

from __future__ import annotations

import pytest

from compare_cases import PAIRS, compared, failures


@pytest.mark.parametrize("case", PAIRS, ids=[c["name"] for c in PAIRS])
def test_golden_pair(case):
    a, b, c = compared(case)
    missed = failures(case, a, b, c)
    assert not missed, missed
