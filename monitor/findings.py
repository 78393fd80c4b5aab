"""Findings and verdicts as data (POLICY C1).

A finding names its rule and clause, the wall-clock interval, the measured value against the
threshold and evidence an inspector can look at. A verdict is always computed from findings, so
no verdict can exist without the reasons for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    INVALIDATES = "invalidates"
    REVIEW = "review"


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    REVIEW = "review"


class Rule(BaseModel):
    """A stable rule code, the clause it enforces and what it means, in both languages."""

    model_config = ConfigDict(frozen=True)

    code: str
    clause: str
    severity: Severity
    title_en: str
    title_zh: str


_RULES = [
    Rule(code="footage.gap", clause="003 §19", severity=Severity.REVIEW,
         title_en="Hole in the recording", title_zh="录像存在时间缺口"),
    Rule(code="footage.overlap", clause="003 §19", severity=Severity.REVIEW,
         title_en="Recordings claim the same time", title_zh="多个录像文件时间重叠"),
    Rule(code="footage.freeze", clause="003 §19", severity=Severity.REVIEW,
         title_en="Frozen picture", title_zh="画面静止（冻结）"),
    Rule(code="footage.black", clause="003 §19", severity=Severity.REVIEW,
         title_en="Black or covered picture", title_zh="画面黑屏或被遮挡"),
    Rule(code="footage.loop", clause="003 §19", severity=Severity.INVALIDATES,
         title_en="Footage shown again (loop)", title_zh="录像重复播放（循环）"),
    Rule(code="footage.splice", clause="003 §19", severity=Severity.INVALIDATES,
         title_en="Other footage inserted (splice)", title_zh="插入其他录像（拼接）"),
    Rule(code="file.unreadable", clause="003 §19", severity=Severity.REVIEW,
         title_en="Recording file cannot be read", title_zh="录像文件无法读取"),
    Rule(code="file.start_unknown", clause="003 §19", severity=Severity.REVIEW,
         title_en="Recording start time unknown", title_zh="录像开始时间未知"),
    Rule(code="practical.continuity", clause="003 §19", severity=Severity.INVALIDATES,
         title_en="Practical hour without 15 minutes of continuous footage",
         title_zh="实操培训每学时连续录像不足15分钟"),
    Rule(code="theory.coverage", clause="003 §19", severity=Severity.INVALIDATES,
         title_en="Theory hour not recorded in full", title_zh="理论教学未全程录像"),
    Rule(code="visibility.trainee_missing", clause="003 §19", severity=Severity.INVALIDATES,
         title_en="Trainee never seen in the footage", title_zh="录像无法显示全体参训人员"),
    Rule(code="visibility.unverifiable", clause="003 §19", severity=Severity.INVALIDATES,
         title_en="Attendance cannot be checked: no roster photos", title_zh="无学员照片，无法核验参训人员"),
    Rule(code="visibility.headcount", clause="003 §21", severity=Severity.REVIEW,
         title_en="Fewer trainees present than enrolled", title_zh="在位平均人数少于开班人数"),
    # Online training (B1-B8): any one makes the session invalid (视同培训无效).
    Rule(code="online.fast_forward", clause="003 §20(3)", severity=Severity.INVALIDATES,
         title_en="Fast-forward playback", title_zh="快进播放"),
    Rule(code="online.multi_window", clause="003 §20(3)", severity=Severity.INVALIDATES,
         title_en="Several windows at once", title_zh="多窗口学习"),
    Rule(code="online.popup_gap", clause="003 §20(3)", severity=Severity.INVALIDATES,
         title_en="No pop-up control in 5 minutes", title_zh="连续5分钟内无弹窗管控"),
    # B3 invalidates only where pop-up control is missing (no pop-up in 5 minutes: popup_gap); an
    # unanswered pop-up stops credited time until the next answered one (track.py) and is reviewed.
    Rule(code="online.popup_unanswered", clause="003 §20(3)", severity=Severity.REVIEW,
         title_en="Pop-up not answered", title_zh="弹窗未作答"),
    Rule(code="online.out_of_order", clause="003 §20(3)", severity=Severity.INVALIDATES,
         title_en="Course units out of order", title_zh="未按内容先后顺序学习"),
    Rule(code="online.no_photo", clause="003 §20(3)", severity=Severity.INVALIDATES,
         title_en="Class hour without a randomly kept photo", title_zh="每课时无随机保留影像照片"),
    Rule(code="online.theory_share", clause="003 §21", severity=Severity.INVALIDATES,
         title_en="Too much of the course online", title_zh="线上理论学习超过总课时40%"),
    Rule(code="online.offline_practice", clause="004 annex 3", severity=Severity.INVALIDATES,
         title_en="Too little offline practice", title_zh="线下实操不足8学时"),
    Rule(code="online.face_missing", clause="003 §20(3)", severity=Severity.INVALIDATES,
         title_en="Face check impossible", title_zh="无法进行人脸活体比对"),
    Rule(code="online.face_mismatch", clause="003 §20(3)", severity=Severity.INVALIDATES,
         title_en="Face is not the enrolled learner's", title_zh="人脸比对不通过"),
    Rule(code="online.face_replay", clause="003 §20(3)", severity=Severity.INVALIDATES,
         title_en="Capture reused", title_zh="重复使用的人脸照片"),
    Rule(code="online.face_not_live", clause="003 §20(3)", severity=Severity.INVALIDATES,
         title_en="No live face", title_zh="人脸活体检测不通过"),
    Rule(code="online.face_attempts", clause="GB/T 38671-2020 6.1.6.8", severity=Severity.REVIEW,
         title_en="Face checks failed again and again", title_zh="人脸比对连续多次失败"),
    Rule(code="online.cooldown", clause="003 §20(3)", severity=Severity.INVALIDATES,
         title_en="New course too soon after the last assessment", title_zh="上一培训考核结束不足一个月"),
    # Class shape (A5): refused when the class is registered, never a silent flag.
    Rule(code="class.size", clause="003 §20(1)", severity=Severity.INVALIDATES,
         title_en="More than the allowed trainees in one class", title_zh="每班人数超过上限"),
    Rule(code="class.teacher_ratio", clause="003 §20(1)", severity=Severity.INVALIDATES,
         title_en="Too many trainees per teacher", title_zh="师生比超过1:20"),
    Rule(code="class.hour_length", clause="003 §20(1)", severity=Severity.INVALIDATES,
         title_en="Class hour shorter than allowed", title_zh="每课时不足40分钟"),
    Rule(code="class.practical_share", clause="003 §20(1)", severity=Severity.INVALIDATES,
         title_en="Too few practical hours", title_zh="实操课时占比不足"),
    Rule(code="class.certificate_hours", clause="003 §19", severity=Severity.INVALIDATES,
         title_en="Certificate-only course too short", title_zh="结业证书类培训不足40学时"),
]

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}


class Finding(BaseModel):
    """One observation of one rule over one interval, with what was measured and the evidence."""

    model_config = ConfigDict(frozen=True)

    rule: str
    clause: str
    severity: Severity
    start: datetime | None = None
    end: datetime | None = None
    measured: float | str | None = None
    threshold: float | str | None = None
    detail: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)


def finding(rule: str, *, severity: Severity | None = None, clauses: Mapping[str, str] | None = None,
            **fields: Any) -> Finding:
    """A finding of a catalogued rule: default severity from the catalogue; the clause from the
    judging profile's `clauses` (Policy.clauses: Sanmenxia's rules cite 004) where it lists the
    rule, else the catalogue's."""
    known = RULES[rule]
    clause = (clauses or {}).get(rule, known.clause)
    return Finding(rule=rule, clause=clause, severity=severity or known.severity, **fields)


def cited(findings: Iterable[Finding], clauses: Mapping[str, str]) -> list[Finding]:
    """The findings citing the judging profile's own clauses (Policy.clauses), for code that
    writes findings before it knows the profile; the others are returned as they are."""
    return [f if clauses.get(f.rule, f.clause) == f.clause else f.model_copy(update={"clause": clauses[f.rule]})
            for f in findings]


def verdict_of(findings: Iterable[Finding]) -> Verdict:
    """Invalid if any finding invalidates, review if any asks for review, otherwise valid."""
    severities = {f.severity for f in findings}
    if Severity.INVALIDATES in severities:
        return Verdict.INVALID
    if Severity.REVIEW in severities:
        return Verdict.REVIEW
    return Verdict.VALID
