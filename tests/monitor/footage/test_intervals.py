from hypothesis import given
from hypothesis import strategies as st

from monitor.footage import intervals as iv
from monitor.footage.runs import true_runs

import numpy as np


def test_merge_bridges_small_holes_only():
    assert iv.merge([(0, 10), (11, 20), (25, 30)], bridge_s=2) == [(0, 20), (25, 30)]


def test_subtract_and_clip():
    assert iv.subtract([(0, 100)], [(10, 20), (15, 30), (90, 120)]) == [(0, 10), (30, 90)]
    assert iv.clip([(0, 10), (20, 30)], 5, 25) == [(5, 10), (20, 25)]
    assert iv.holes([(0, 10), (20, 30)], 0, 40) == [(10, 20), (30, 40)]


spans = st.lists(st.tuples(st.floats(0, 1000), st.floats(0, 100)).map(lambda p: (p[0], p[0] + p[1])), max_size=20)


@given(spans, spans)
def test_subtracted_footage_never_overlaps_what_was_cut(base, cuts):
    kept = iv.subtract(iv.merge(base), cuts)
    assert all(not iv.overlaps(k, c) for k in kept for c in cuts if c[1] > c[0])
    assert iv.total(kept) <= iv.total(iv.merge(base)) + 1e-9


def test_true_runs():
    assert list(true_runs(np.array([0, 1, 1, 0, 1], dtype=bool))) == [(1, 2), (4, 4)]
    assert list(true_runs(np.array([], dtype=bool))) == []
