"""A clean file judged a partition of its learners at a time (columnar.partition_clean,
engine.judge_partitions; issue #20) gives exactly the report of one engine holding the whole file,
and holds only a partition's worth at once."""

from __future__ import annotations

import json
import tracemalloc
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from monitor.online import columnar
from monitor.online.catalogue import Catalogue, load_catalogue
from monitor.online.columnar import partition_clean, read_clean
from monitor.online.engine import OnlineEngine, OnlineReport, SessionReport, judge_file, judge_partitions
from monitor.policy import load_policy
from sample_videos.online_day import write_day
from tests.monitor.online.builders import Session

POLICY = load_policy("zhengzhou-2022")


def _across_learners() -> list[dict[str, Any]]:
    """Learners whose verdicts hang on others' events: course C9 has no catalogue sequence, and
    a unit "0" seen by the A learners only makes unit "1" the second unit, which B starts
    without having completed "0" (B5); course C10's units are names, which the notes report."""
    events: list[dict[str, Any]] = []
    for n in range(6):
        events += Session(learner=f"A{n}", session=f"A{n}-s", course="C9", unit="0").watch(0, 300).events
    events += Session(learner="B", session="B-s", course="C9", unit="1", start_s=4000).watch(0, 300).events
    events += Session(learner="N", session="N-s", course="C10", unit="intro.mp4").watch(0, 300).events
    return events


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A generated day (a few learners on two platforms at once among them), the learners above,
    and re-sent events: the same line again further on, and an id sent again naming another learner
    (so in another partition, most likely), whose first line is the one that counts."""
    paths = write_day(tmp_path_factory.mktemp("day"), learners=120)
    lines = paths["events"].read_text(encoding="utf-8").splitlines()
    lines[100:100] = [json.dumps(e) for e in _across_learners()]
    again = json.loads(lines[5])
    again["learner"], again["session"] = "Z-resender", "Z-s"
    lines += [lines[3], lines[7], json.dumps(again), lines[len(lines) // 2]]
    paths["events"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def _catalogue(day: dict[str, Path]) -> Catalogue:
    return load_catalogue(day["courses"], day["history"])


def _whole(day: dict[str, Path]) -> OnlineReport:
    """The oracle: the whole file's table, one engine."""
    read = read_clean(day["events"].read_bytes())
    assert read is not None
    engine = OnlineEngine(POLICY, _catalogue(day))
    engine.add_arrow(read[0])
    return OnlineReport(sessions=engine.sessions(), rejected=[], duplicates=read[1], ignored=0, notes=engine.notes())


def _dump(sessions: list[SessionReport]) -> list[dict[str, Any]]:
    return [s.model_dump(mode="json") for s in sessions]


@pytest.mark.parametrize("part_kb, chunk_kb", [(400, 64), (1200, 300), (100_000, 64)])
def test_judged_a_partition_at_a_time_the_report_is_the_whole_files(day: dict[str, Path], part_kb: int,
                                                                     chunk_kb: int):
    whole = _whole(day)
    with partition_clean(day["events"], part_kb << 10, chunk_kb << 10) as parts:
        judged = judge_partitions(parts, POLICY, _catalogue(day))
        learners_in = [set(t.column("learner").to_pylist()) for t in parts.tables()]
        assert parts.duplicates == whole.duplicates == 4
    assert _dump(judged.sessions) == _dump(whole.sessions)
    assert judged.notes == whole.notes and any("C10" in note for note in judged.notes)
    assert sum(len(learners) for learners in learners_in) == len(set().union(*learners_in)), \
        "a learner's events all in one partition"
    by_learner = defaultdict(set)
    for s in judged.sessions:
        by_learner[s.learner] |= {f.rule for f in s.findings}
    assert "online.out_of_order" in by_learner["B"] and "online.out_of_order" not in by_learner["A0"]
    assert "Z-resender" not in by_learner
    assert any(len({s.platform for s in judged.sessions if s.learner == learner}) > 1 for learner in by_learner), \
        "a learner on two platforms at once is judged over both"
    if part_kb < 1000:
        assert len(learners_in) >= 8
        where = {learner: k for k, learners in enumerate(learners_in) for learner in learners}
        assert any(where[f"A{n}"] != where["B"] for n in range(6)), "B's verdict needs another partition's units"


def test_judge_file_partitions_a_clean_file_by_default(day: dict[str, Path]):
    whole = _whole(day)
    report = judge_file(day["events"], POLICY, _catalogue(day), part_bytes=500 << 10)
    assert report.model_dump(mode="json") == whole.model_dump(mode="json")


def test_re_sent_events_are_told_apart_as_text_when_their_hashes_meet(day: dict[str, Path],
                                                                      monkeypatch: pytest.MonkeyPatch):
    """Every id made to share one hash: the ids are then compared as text, and the same events count."""
    monkeypatch.setattr(columnar, "_hash_ids", lambda ids: np.zeros(len(ids), dtype=np.uint64))
    whole = _whole(day)
    with partition_clean(day["events"], 600 << 10, 256 << 10) as parts:
        judged = judge_partitions(parts, POLICY, _catalogue(day))
        assert parts.duplicates == 4
    assert _dump(judged.sessions) == _dump(whole.sessions)


def test_ids_hash_alike_exactly_when_alike():
    ids = pa.array(["edu-a-L-1-s1-1", "edu-a-L-1-s1-10", "x", "é", "edu-a-L-1-s1-1", "edu-a-L-1-s1-1\u0000", "xx" * 300])
    hashes = columnar._hash_ids(ids)
    assert hashes[0] == hashes[4] and len(set(hashes.tolist())) == 6
    assert columnar._hash_ids(ids.slice(4, 2)).tolist() == hashes[4:6].tolist(), "the same in any chunk"


def test_a_defect_in_a_later_chunk_sends_the_whole_file_to_the_line_reader(day: dict[str, Path], tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch):
    lines = day["events"].read_text(encoding="utf-8").splitlines()
    lines.insert(len(lines) - 10, "{not json")
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    assert partition_clean(path, 400 << 10, 64 << 10) is None
    assert [p.name for p in tmp_path.iterdir()] == ["events.jsonl"], "the partitions made are removed"
    report = judge_file(path, POLICY, _catalogue(day))
    assert [(r.line, r.field) for r in report.rejected] == [(len(lines) - 10, "line")]
    assert len(report.sessions) == len(_whole(day).sessions)


def test_chunks_are_whole_lines(tmp_path: Path):
    path = tmp_path / "lines"
    path.write_bytes(b'{"a": 1}\n{"bbbbbbbbbbbbbbbbbbbb": 2}\n\n{"c": 3}')
    with path.open("rb") as source:
        chunks = [bytes(c) for c in columnar._whole_lines(source, 4)]
    assert b"".join(chunks) == path.read_bytes()
    assert all(c.endswith(b"\n") for c in chunks[:-1]) and len(chunks) == 3  # (the blank line starts the last)


def test_the_engine_holds_a_partitions_rows_not_the_days(day: dict[str, Path]):
    with partition_clean(day["events"], day["events"].stat().st_size // 8 + 1, 64 << 10) as parts:
        judged = judge_partitions(parts, POLICY, _catalogue(day))
        rows = parts.rows
        assert len(parts.paths) == 8
    assert judged.most_rows <= rows / 4, (judged.most_rows, rows)


def _traced_peak(day: dict[str, Path], part_bytes: int) -> int:
    catalogue = _catalogue(day)
    tracemalloc.start()
    try:
        with partition_clean(day["events"], part_bytes, 64 << 10) as parts:
            judge_partitions(parts, POLICY, catalogue)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_partitions_bound_the_memory_of_judging(day: dict[str, Path]):
    """Python's and NumPy's allocations at their peak (tracemalloc: Arrow's own are not traced),
    reading and judging in eight partitions against one holding the file (both read 64 KB at a time)."""
    size = day["events"].stat().st_size
    one = _traced_peak(day, size + 1)
    eight = _traced_peak(day, size // 8 + 1)
    assert eight < one / 4, (eight, one)


def test_any_chunking_reads_what_the_whole_file_reads_or_leaves_it_to_the_line_reader(tmp_path: Path):
    """Cut anywhere (after whole lines): a chunk that starts with an indented line, CRLF endings,
    a re-sent event in a later chunk; the partitions hold the whole file's events, or it is refused."""
    lines = [json.dumps(e) for e in Session().watch(0, 200).events + Session(learner="L2", session="S2").watch(0, 200).events]
    lines[4] = "  " + lines[4]
    lines[6] = lines[6] + "\r"
    lines.append(lines[2])
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = read_clean(path.read_bytes())
    assert whole is not None, "the whole file is clean"
    expected = sorted(whole[0].to_pylist(), key=lambda e: e["id"])
    refused, cuts = 0, sorted({*range(1, 400, 3), *range(400, path.stat().st_size + 2, 97)})
    for chunk in cuts:
        parts = partition_clean(path, 300, chunk)
        if parts is None:
            refused += 1
            continue
        with parts:
            got = sorted((e for t in parts.tables() for e in t.to_pylist()), key=lambda e: e["id"])
            assert (got, parts.duplicates) == (expected, whole[1]), chunk
    assert 0 < refused < len(cuts), "some cuts start a chunk at the indented line, not all"
