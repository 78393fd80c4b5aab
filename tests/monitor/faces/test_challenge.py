import random
from datetime import datetime, timedelta, timezone

from monitor.faces.challenge import PROMPTS, challenges_for
from monitor.policy import load_policy

POLICY = load_policy("zhengzhou-2022")
START = datetime(2026, 11, 20, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def test_one_challenge_at_the_start_and_one_in_every_class_hour():
    planned = 2.5 * POLICY.online_class_hour_s
    got = challenges_for("L1", "S1", START, planned, POLICY, random.Random(4))
    offsets = [(c.at - START).total_seconds() for c in got]
    assert len(got) == 4
    assert 0 <= offsets[0] <= POLICY.face_start_window_s
    for n, offset in enumerate(offsets[1:]):
        assert n * POLICY.online_class_hour_s <= offset <= min((n + 1) * POLICY.online_class_hour_s, planned)
    assert all(c.prompt in PROMPTS for c in got)


def test_moments_are_not_predictable_and_nonces_never_repeat():
    runs = [challenges_for("L1", "S1", START, 3 * POLICY.online_class_hour_s, POLICY) for _ in range(20)]
    offsets_in_hour_1 = {round((r[1].at - START).total_seconds()) for r in runs}
    assert len(offsets_in_hour_1) > 15  # the system's random source: different every time
    nonces = [c.nonce for r in runs for c in r]
    assert len(set(nonces)) == len(nonces) and all(len(n) >= 20 for n in nonces)
