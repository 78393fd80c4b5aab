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


class Message(BaseModel):
    """What a finding says, in both languages: str.format templates over the finding's `args`."""

    model_config = ConfigDict(frozen=True)

    en: str
    zh: str


class Rule(BaseModel):
    """A stable rule code, the clause it enforces and what it means, in both languages; and the
    messages its findings say, by name (a finding names one and carries its arguments)."""

    model_config = ConfigDict(frozen=True)

    code: str
    clause: str
    severity: Severity
    title_en: str
    title_zh: str
    messages: dict[str, Message] = Field(default_factory=dict)


def _m(en: str, zh: str) -> Message:
    return Message(en=en, zh=zh)


# The online rules' messages (monitor/online/rules/): the English one is the finding's `detail`.
_ONLINE_MESSAGES: dict[str, dict[str, Message]] = {
    "online.fast_forward": {
        "rate": _m("played at {rate:g}x", "以 {rate:g} 倍速播放"),
        "seek": _m("seek from {from_s:g} s to {to_s:g} s, past the furthest point watched",
                   "从 {from_s:g} 秒拖动到 {to_s:g} 秒，超过已观看的最远位置"),
        "play": _m("play starts at {position_s:g} s, past the furthest point watched",
                   "从 {position_s:g} 秒开始播放，超过已观看的最远位置"),
        "drift": _m("position advanced {advanced_s:.0f} s in {elapsed_s:.0f} s of wall-clock time",
                    "{elapsed_s:.0f} 秒内播放位置前进了 {advanced_s:.0f} 秒"),
    },
    "online.multi_window": {
        "overlap": _m("playing at the same time as session {session} on {platform} ({course})",
                      "与 {platform} 上的学习记录 {session}（{course}）同时播放"),
        "hidden": _m("playing with the learning window hidden for {hidden_s:.0f} s", "学习窗口隐藏 {hidden_s:.0f} 秒仍在播放"),
        # what a platform is told of another platform's side (api/store/sessions.py): not where, what or which
        "elsewhere": _m("learning at the same time in a session on another platform", "同一时间在另一平台上学习"),
    },
    "online.popup_gap": {"gap": _m("{learned_s:.0f} s of learning without an attention pop-up", "连续学习 {learned_s:.0f} 秒无弹窗")},
    "online.popup_unanswered": {
        "timed out": _m("pop-up {popup} timed out; credited time stops until another is answered",
                        "弹窗 {popup} 超时未作答；在回答下一个弹窗前不计学时"),
        "never answered": _m("pop-up {popup} never answered; credited time stops until another is answered",
                             "弹窗 {popup} 未作答；在回答下一个弹窗前不计学时"),
    },
    "online.out_of_order": {"started": _m("unit {unit} started before unit {before} was complete",
                                          "单元 {before} 未学完即开始单元 {unit}")},
    "online.no_photo": {
        "missing": _m("class hour {hour} of credited learning kept no photo", "第 {hour} 个课时未随机留存照片"),
        "predictable": _m("photos kept at the same moment of every class hour: predictable, not random",
                          "每课时照片留存于相同时刻：可预测，并非随机"),
    },
    "online.theory_share": {"share": _m(
        "course {course}: {online_hours:g} of {total_hours:g} class hours online ({share:.0%}), at most {limit:.0%}",
        "课程 {course}：{total_hours:g} 课时中 {online_hours:g} 课时在线上（{share:.0%}），上限 {limit:.0%}")},
    "online.offline_practice": {"short": _m(
        "occupation {occupation} needs {minimum:g} class hours of offline practice, the course has {hours:g}",
        "职业（工种）{occupation} 须线下实训不少于 {minimum:g} 学时，本课程仅 {hours:g} 学时")},
    # The class analysis's own findings (monitor/footage/analyze.py).
    "footage.gap": {"hole": _m("no footage for {seconds:.1f} s", "{seconds:.1f} 秒无录像")},
    "footage.overlap": {"both": _m("{a} and {b} both claim {seconds:.1f} s", "{a} 与 {b} 有 {seconds:.1f} 秒时间重叠")},
    "file.unreadable": {
        "unreadable": _m("{file}: {why}", "{file}：无法读取（{why}）"),
        "truncated": _m("{file}: {why}; the part before was analysed", "{file}：{why}；此前的部分已分析"),
    },
    "file.start_unknown": {"no_start": _m("{file}: no declared start and no creation_time in the file",
                                          "{file}：未申报开始时间，文件中也没有创建时间")},
    "practical.continuity": {"short": _m("longest continuous valid footage {longest_min:.1f} min, {required_min:g} min required",
                                         "最长连续有效录像 {longest_min:.1f} 分钟，要求 {required_min:g} 分钟")},
    "theory.coverage": {"short": _m("valid footage covers {covered:.1%} of the hour, {required:.0%} required",
                                    "有效录像覆盖本课时 {covered:.1%}，要求 {required:.0%}")},
    "visibility.unverifiable": {
        "no_photos": _m("none of the {n} trainees has a roster photo: who attended cannot be checked",
                        "{n} 名学员均无报名照片：无法核验参训人员"),
        "some_without_photo": _m("{n} of the {size} trainees have no roster photo ({who}): whether they attended "
                                 "cannot be checked", "{size} 名学员中 {n} 名无报名照片（{who}）：无法核验其是否参训"),
        "unidentifiable": _m("at {n} of {moments} check moments ({share:.0%}) a face was too small, blurred or turned "
                             "away to tell who it is: the footage cannot show the people attending",
                             "{moments} 次检查中有 {n} 次（{share:.0%}）人脸过小、模糊或侧转、无法辨认：录像无法显示全体参训人员"),
        "not_in_view": _m("class hour {hour}: at {at} the on-site check ({person}) counted {counted} present, the footage "
                          "shows {faces} faces: people in the room are out of the camera's view or turned away",
                          "第 {hour} 课时：{at} 实地检查（{person}）在位 {counted} 人，录像中仅见 {faces} 张人脸："
                          "摄像头未覆盖全部人员或人员背对镜头，录像无法显示全体参训人员"),
    },
    # Face checks (monitor/online/faces.py, monitor/faces/): the capture's type ({type}) first.
    "online.face_missing": {
        "refused": _m("{type} refused: {n} failed face checks in a row before it", "{type} 未受理：此前已连续 {n} 次人脸比对失败"),
        "no_start": _m("no face capture at the start of the session", "学习开始时没有人脸抓拍"),
        "unanswered": _m("the random check at {at} was not answered", "{at} 的随机抽查未响应"),
        "late": _m("{type}: taken {seconds:.0f} s from the moment of its challenge", "{type}：拍摄时间距抽查时刻 {seconds:.0f} 秒"),
        "no_photo": _m("no enrolment photo for learner {learner}: the live face comparison is impossible",
                       "学员 {learner} 无报名照片，无法进行人脸活体比对"),
        "no_face": _m("{type}: no usable face in the capture", "{type}：抓拍中没有可用的人脸"),
        "unreadable": _m("{type}: {why}", "{type}：抓拍无法读取（{why}）"),
    },
    "online.face_attempts": {"run": _m("{n} failed face checks in a row: further captures refused",
                                       "连续 {n} 次人脸比对失败：此后的抓拍不再受理")},
    "online.face_replay": {
        "unknown_nonce": _m("{type}: its nonce answers no challenge handed out", "{type}：随机码不对应任何已下发的抽查"),
        "other_session": _m("{type}: its nonce is of a challenge for session {session} of learner {learner}",
                            "{type}：随机码属于学员 {learner} 学习记录 {session} 的抽查（跨学习记录重放）"),
        "answered": _m("{type}: its challenge was already answered by event {event}", "{type}：该抽查已由事件 {event} 响应"),
        "enrolment": _m("{type}: the enrolment photo sent as a capture", "{type}：以报名照片冒充抓拍"),
        "enrolment_cut": _m("{type}: the enrolment photo, cut or resized, sent as a capture", "{type}：以裁剪或缩放的报名照片冒充抓拍"),
        "copy": _m("{type}: a copy of the earlier capture {earlier}", "{type}：与此前的抓拍 {earlier} 相同（重放）"),
    },
    "online.face_mismatch": {
        "several": _m("{type}: {n} faces in the capture: who is learning?", "{type}：抓拍中有 {n} 张人脸：谁在学习？"),
        "other": _m("{type}: the face is not the enrolled learner's", "{type}：人脸与报名学员不符"),
    },
    "online.face_not_live": {
        "still": _m("{type}: a still alone cannot prove a live face", "{type}：单张照片不能证明是活体"),
        "unreadable": _m("{type}: {why}", "{type}：连拍无法读取（{why}）"),
        "frames": _m("{type}: a face in {found} of {frames} frames, {needed} needed", "{type}：{frames} 帧中仅 {found} 帧有人脸，至少需要 {needed} 帧"),
        "changes": _m("{type}: the face changes within the burst", "{type}：连拍中人脸发生变化"),
        "rigid": _m("{type}: the face moves only as a whole: a photo or a screen", "{type}：人脸只整体移动：疑为照片或屏幕"),
        "not_as_asked": _m("{type}: the face moves, but not as asked ({prompt})", "{type}：人脸在动，但没有按提示动作（{prompt_zh}）"),
        "held_up": _m("{type}: straight edges around the face ({sides}): a screen or print held up?",
                      "{type}：人脸周围有直边（{sides_zh}）：疑为举着屏幕或照片"),
    },
    # The person rules (monitor/person.py), on classes and online courses alike.
    "person.cooldown": {
        "unassessed": _m("course {course} has not been assessed yet", "此前的培训 {course} 尚未考核"),
        "too_soon": _m("started {days:.1f} days after the assessment of {course}",
                       "在培训 {course} 考核后 {days:.1f} 天即开始（须满一个自然月，{allowed_from} 起）"),
    },
    "person.subsidy_limit": {
        "per_year": _m("subsidised training number {n} of {year}, at most {limit} a year",
                       "{year} 年第 {n} 次补贴性培训，每年不超过 {limit} 次"),
        "same_occupation": _m("{occupation} at level {level} again (already in {course})",
                              "同一职业同一等级重复培训：{occupation}（{level}），此前已参加 {course}"),
    },
    "person.two_places": {
        "overlap": _m("at the same time in {course} for {minutes:.0f} min", "同一时间（{minutes:.0f} 分钟）另在 {course} 参加培训"),
    },
    # Attendance per class period (monitor/attendance.py).
    "visibility.trainee_absent": {"absent": _m("{trainee} {name} not seen in class hours {hours} (of {checked} checked)",
                                               "{trainee} {name} 未出现在第 {hours} 课时（共检查 {checked} 课时）")},
    # Visibility per class hour (monitor/footage/visibility.py).
    "visibility.trainee_missing": {
        "never_seen": _m("never seen: {never}", "从未出现：{never}"),
        "never_seen_no_photo": _m("never seen: {never}; no enrolment photo: {without_photo}",
                                  "从未出现：{never}；无报名照片：{without_photo}"),
    },
    "visibility.headcount": {"mean": _m("on average {mean:.1f} of {size} trainees present at {checks} checks",
                                        "{checks} 次检查平均在位 {mean:.1f} 人（花名册 {size} 人）")},
    "visibility.unknown_person": {"unknown": _m(
        "faces matching nobody on the roster at {n} of {moments} check moments of class hour {hour}: a stand-in?",
        "第 {hour} 课时 {moments} 次检查中有 {n} 次出现花名册以外的人脸：是否有人替课？")},
}


# The footage rules' messages (monitor/footage/): the English one is the finding's `detail`.
_FOOTAGE_MESSAGES: dict[str, dict[str, Message]] = {
    "footage.freeze": {"unchanged": _m("picture unchanged for {seconds:.1f} s", "画面静止 {seconds:.1f} 秒")},
    "footage.black": {"covered": _m("picture black or covered for {seconds:.1f} s", "画面黑屏或被遮挡 {seconds:.1f} 秒")},
    "footage.loop": {"repeat": _m("{seconds:.1f} s repeat footage shown {lag_s:.1f} s earlier",
                                  "{seconds:.1f} 秒画面重复了 {lag_s:.1f} 秒前的录像")},
    "footage.splice": {"inserted": _m("{seconds:.1f} s of other footage inserted, then the scene returns",
                                      "插入了 {seconds:.1f} 秒其他录像，随后画面恢复")},
    "footage.clock_mismatch": {"offset": _m(
        "the picture's clock ({shown}) is {offset_s:+.0f} s off the recording's start",
        "画面时钟（{shown}）与录像开始时间相差 {offset_s:+.0f} 秒")},
    "footage.clock_jump": {
        "back": _m("the picture's clock jumps back {jump_s:.0f} s (footage replayed)",
                   "画面时钟倒退 {jump_s:.0f} 秒（录像被重放）"),
        "forward": _m("the picture's clock jumps forward {jump_s:.0f} s (footage cut)",
                      "画面时钟跳进 {jump_s:.0f} 秒（录像被剪切）"),
        "stall": _m("the picture's clock stands still for {stall_s:.0f} s", "画面时钟停滞 {stall_s:.0f} 秒"),
        "rate": _m("the picture's clock runs at {rate:.3f}x the recording's time",
                   "画面时钟走速为录像时间的 {rate:.3f} 倍"),
    },
    "footage.defocus": {"blurred": _m(
        "picture out of focus for {duration_s:.1f} s (sharpness down to {share:.0%} of the file's usual)",
        "画面失焦 {duration_s:.1f} 秒（清晰度降至该录像通常水平的 {share:.0%}）")},
    "footage.camera_moved": {"turned": _m(
        "the camera looks away from the class's view for {duration_s:.1f} s (similarity to it down to {similarity:.2f})",
        "摄像头偏离本班拍摄画面 {duration_s:.1f} 秒（与原画面相似度低至 {similarity:.2f}）")},
}

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
    Rule(code="footage.clock_mismatch", clause="003 §19", severity=Severity.REVIEW,
         title_en="On-screen clock disagrees with the recording's start", title_zh="画面时钟与录像开始时间不符"),
    Rule(code="footage.clock_jump", clause="003 §19", severity=Severity.REVIEW,
         title_en="On-screen clock jumps, stalls or runs at the wrong rate", title_zh="画面时钟跳变、停滞或走速异常"),
    Rule(code="footage.defocus", clause="003 §19", severity=Severity.REVIEW,
         title_en="Picture out of focus", title_zh="画面失焦（模糊）"),
    Rule(code="footage.camera_moved", clause="003 §19", severity=Severity.REVIEW,
         title_en="Camera turned away from the class", title_zh="摄像头被移动（偏离拍摄画面）"),
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
         title_en="Footage cannot show who attended", title_zh="录像无法核验参训人员"),
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
    # Person rules (monitor/person.py): one person's trainings, classroom and online, together.
    Rule(code="person.cooldown", clause="003 §20(3)", severity=Severity.INVALIDATES,
         title_en="New training too soon after the last assessment", title_zh="上一培训未考核或考核结束不足一个月"),
    Rule(code="person.subsidy_limit", clause="002 §二(三)2", severity=Severity.INVALIDATES,
         title_en="Subsidised trainings over the yearly limit, or the same one again",
         title_zh="超过每年补贴培训次数或同一职业同一等级重复培训"),
    Rule(code="person.two_places", clause="003 §20(3)", severity=Severity.INVALIDATES,
         title_en="In a classroom and learning online at the same time", title_zh="同一时间参加两处培训"),
    # Attendance per class period (monitor/attendance.py): absence lowers the headcount, voids nothing.
    Rule(code="visibility.trainee_absent", clause="003 §21", severity=Severity.REVIEW,
         title_en="Trainee absent from class hours", title_zh="学员缺课"),
    Rule(code="visibility.unknown_person", clause="003 §19", severity=Severity.REVIEW,
         title_en="Unknown faces present again and again", title_zh="多次出现花名册以外的人员"),
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
    Rule(code="class.registered_late", clause="003 §19", severity=Severity.INVALIDATES,
         title_en="Class registered after its first class hour began", title_zh="开班后补报开班申请"),
]

RULES: dict[str, Rule] = {rule.code: rule.model_copy(update={"messages": {**_ONLINE_MESSAGES.get(rule.code, {}),
                                                                          **_FOOTAGE_MESSAGES.get(rule.code, {})}})
                         for rule in _RULES}


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
    detail: str = ""  # in English; `say` gives it in the reader's language where the rule has a message
    evidence: dict[str, Any] = Field(default_factory=dict)
    message: str | None = None  # the name of one of its rule's messages (Rule.messages)
    args: dict[str, Any] = Field(default_factory=dict)  # what that message's templates are filled with


def finding(rule: str, *, severity: Severity | None = None, clauses: Mapping[str, str] | None = None,
            **fields: Any) -> Finding:
    """A finding of a catalogued rule: default severity from the catalogue; the clause from the
    judging profile's `clauses` (Policy.clauses: Sanmenxia's rules cite 004) where it lists the
    rule, else the catalogue's."""
    known = RULES[rule]
    clause = (clauses or {}).get(rule, known.clause)
    if fields.get("message") is not None and not fields.get("detail"):
        fields["detail"] = known.messages[fields["message"]].en.format(**fields.get("args", {}))
    return Finding(rule=rule, clause=clause, severity=severity or known.severity, **fields)


def say(f: Finding, lang: str = "en") -> str:
    """A finding's message in the reader's language ("en" or "zh"), from its rule's template and
    its own arguments: nothing parses the English back. Without a message, its `detail`."""
    said = said_in(f.rule, f.message, f.args, lang)
    return f.detail if said is None else said


def said_in(rule: str, message: str | None, args: Mapping[str, Any] | None, lang: str = "en") -> str | None:
    """What the message `message` of `rule` says with `args`, in the reader's language; None where
    the rule has no such message or the arguments do not fill it (a stored finding of an older
    shape): the caller shows its English `detail` and says that it is English."""
    known = RULES.get(rule)
    template = known.messages.get(message) if known is not None and message else None
    if template is None:
        return None
    try:
        return (template.zh if lang.startswith("zh") else template.en).format(**(args or {}))
    except (KeyError, IndexError, ValueError, TypeError):
        return None


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
