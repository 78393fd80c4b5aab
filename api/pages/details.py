"""The analysis notes of findings in Chinese. The core writes each note in English from its
measurements; the pages read it back by its fixed shape and say it again in Chinese. A note of a
shape not listed here is shown as it is, folded away and marked as English (a test runs the sample
class and a platform's sample day and asks that none of theirs is left untranslated)."""

from __future__ import annotations

import re

_RULES: list[tuple[re.Pattern[str], str]] = [(re.compile(pattern), text) for pattern, text in [
    (r"^picture unchanged for ([\d.]+) s$", "画面静止 {0} 秒"),
    (r"^picture black or covered for ([\d.]+) s$", "画面黑屏或被遮挡 {0} 秒"),
    (r"^([\d.]+) s repeat footage shown ([\d.]+) s earlier$", "{0} 秒画面重复了 {1} 秒前的录像"),
    (r"^([\d.]+) s of other footage inserted, then the scene returns$", "插入了 {0} 秒其他录像，随后画面恢复"),
    (r"^no footage for ([\d.]+) s$", "{0} 秒无录像"),
    (r"^(.+) and (.+) both claim ([\d.]+) s$", "{0} 与 {1} 有 {2} 秒时间重叠"),
    (r"^longest continuous valid footage ([\d.]+) min, ([\d.]+) min required$", "最长连续有效录像 {0} 分钟，要求 {1} 分钟"),
    (r"^valid footage covers ([\d.]+%) of the hour, ([\d.]+%) required$", "有效录像覆盖本课时 {0}，要求 {1}"),
    (r"^never seen: (.+)$", "从未出现：{0}"),
    (r"^on average ([\d.]+) of (\d+) trainees present at (\d+) checks$", "{2} 次检查平均在位 {0} 人（开班 {1} 人）"),
    (r"^(.+): no declared start and no creation_time in the file$", "{0}：未申报开始时间，文件中也没有创建时间"),
    (r"^played at ([\d.]+)x$", "以 {0} 倍速播放"),
    (r"^seek from ([\d.]+) s to ([\d.]+) s, past the furthest point watched$", "从 {0} 秒拖动到 {1} 秒，超过已观看的最远位置"),
    (r"^play starts at ([\d.]+) s, past the furthest point watched$", "从 {0} 秒开始播放，超过已观看的最远位置"),
    (r"^position advanced ([\d.]+) s in ([\d.]+) s of wall-clock time$", "{1} 秒内播放位置前进了 {0} 秒"),
    (r"^playing at the same time as session (\S+) on (\S+) (.*)$", "与 {1} 上的学习记录 {0} 同时播放"),
    (r"^playing with the learning window hidden for ([\d.]+) s$", "学习窗口隐藏 {0} 秒仍在播放"),
    (r"^([\d.]+) s of learning without an attention pop-up$", "连续学习 {0} 秒无弹窗"),
    (r"^pop-up (\S+) (.+); credited time stops until another is answered$", "弹窗 {0} 未作答；在回答下一个弹窗前不计学时"),
    (r"^unit (\S+) started before unit (\S+) was complete$", "单元 {1} 未学完即开始单元 {0}"),
    (r"^class hour (\d+) of credited learning kept no photo$", "第 {0} 个课时未随机留存照片"),
    (r"^photos kept at the same moment of every class hour: predictable, not random$", "每课时照片留存于相同时刻：可预测，并非随机"),
    (r"^course (\S+) has not been assessed yet$", "课程 {0} 尚未考核"),
    (r"^started ([\d.]+) days after the assessment of (\S+)$", "在课程 {1} 考核后 {0} 天即开始"),
    (r"^course (\S+): (.+)$", "课程 {0}：{1}"),
    (r"^no face capture at the start of the session$", "学习开始时没有人脸抓拍"),
    (r"^no enrolment photo for learner (\S+): the capture cannot be compared$", "学员 {0} 无报名照片，无法比对抓拍"),
    (r"^(face_capture|photo_kept) refused: (\d+) failed face checks in a row before it$",
     "{0} 未受理：此前已连续 {1} 次人脸比对失败"),
    (r"^(\d+) failed face checks in a row: further captures refused$", "连续 {0} 次人脸比对失败：此后的抓拍不再受理"),
    (r"^the random check at (\S+) was not answered$", "{0} 的随机抽查未响应"),
    (r"^(face_capture|photo_kept): its nonce answers no challenge handed out$", "{0}：随机码不对应任何已下发的抽查"),
    (r"^(face_capture|photo_kept): its nonce is of a challenge for session (\S+) of learner (\S+)$",
     "{0}：随机码属于学员 {2} 学习记录 {1} 的抽查（跨学习记录重放）"),
    (r"^(face_capture|photo_kept): its challenge was already answered by event (\S+)$", "{0}：该抽查已由事件 {1} 响应"),
    (r"^(face_capture|photo_kept): taken (\d+) s from the moment of its challenge$", "{0}：拍摄时间距抽查时刻 {1} 秒"),
]]
_CAPTURE = re.compile(r"^(face_capture|photo_kept): (.+)$")  # then the capture's judgement, below

# Why a capture failed (monitor/faces): the part after "face_capture: " or "photo_kept: ".
_PROMPTS = {"turn_left": "向左转头", "turn_right": "向右转头", "open_mouth": "张嘴"}
_SIDES = {"left": "左", "right": "右", "top": "上", "bottom": "下"}
_JUDGEMENTS: list[tuple[re.Pattern[str], str]] = [(re.compile(pattern), text) for pattern, text in [
    (r"^no usable face in the capture$", "抓拍中没有可用的人脸"),
    (r"^(\d+) faces in the capture: who is learning\?$", "抓拍中有 {0} 张人脸：谁在学习？"),
    (r"^the enrolment photo sent as a capture$", "以报名照片冒充抓拍"),
    (r"^the enrolment photo, cut or resized, sent as a capture$", "以裁剪或缩放的报名照片冒充抓拍"),
    (r"^a copy of the earlier capture (.+)$", "与此前的抓拍 {0} 相同（重放）"),
    (r"^the face is not the enrolled learner's$", "人脸与报名学员不符"),
    (r"^a still alone cannot prove a live face$", "单张照片不能证明是活体"),
    (r"^the face moves only as a whole: a photo or a screen$", "人脸只整体移动：疑为照片或屏幕"),
    (r"^the face changes within the burst$", "连拍中人脸发生变化"),
    (r"^a face in (\d+) of (\d+) frames, (\d+) needed$", "{1} 帧中仅 {0} 帧有人脸，至少需要 {2} 帧"),
]]


def _judgement_zh(text: str) -> str | None:
    for pattern, template in _JUDGEMENTS:
        found = pattern.match(text)
        if found:
            return template.format(*found.groups())
    asked = re.match(r"^the face moves, but not as asked \((\w+)\)$", text)
    if asked:
        return f"人脸在动，但没有按提示动作（{_PROMPTS.get(asked[1], asked[1])}）"
    framed = re.match(r"^straight edges around the face \(([a-z, ]+)\): a screen or print held up\?$", text)
    if framed:
        sides = "、".join(_SIDES.get(side, side) for side in framed[1].split(", "))
        return f"人脸周围有直边（{sides}）：疑为举着屏幕或照片"
    return None


def detail_zh(text: str) -> str | None:
    for pattern, template in _RULES:
        found = pattern.match(text)
        if found:
            return template.format(*found.groups())
    capture = _CAPTURE.match(text)
    judged = _judgement_zh(capture[2]) if capture else None
    return f"{capture[1]}：{judged}" if capture and judged else None
