"""The pages. Sign-in takes a person's API key once and opens a server-side session (sessions.py)
whose id alone is in a signed, HttpOnly, SameSite=Strict cookie; every form carries the session's
CSRF token. What a page shows
comes from the same functions as the API's routes, with the same roles and tenant isolation."""

from __future__ import annotations

import hmac
import io
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode
from zoneinfo import ZoneInfo
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import DB, Caller, Svc, audit, client_address, get_db, get_service
from api.pages import clips, i18n, measures, sessions
from api.pages.charts import STYLES, headcount_chart, hour_timeline, session_plot
from api.core.problems import Problem
from api.core.security import find_key
from api.core.service import Service
from api.store import classes as class_store
from api.store import faces as face_store
from api.store import keys as key_store
from api.store import review as review_store
from api.store.classes import latest_report, owned_class
from api.store.review import DecisionIn, QueueFilters, add_decision, flag_with_subject
from monitor.findings import RULES, said_in
from monitor.footage.media import frame_rgb
from monitor.policy import load_policy

router = APIRouter(prefix="/ui", include_in_schema=False)
_HERE = Path(__file__).resolve().parent
_ENV = Environment(loader=FileSystemLoader(_HERE / "templates"), autoescape=select_autoescape(["html"]))


def N_(text: str) -> str:
    """A msgid to translate where it is shown (the catalogue test reads these calls)."""
    return text


# What each evidence frame of a footage finding shows, in the order the analysis lists them.
FRAME_LABELS = {
    "footage.loop": ("Repeat starts", "Repeat ends", "First shown: start", "First shown: end"),
    "footage.splice": ("Before", "Inserted footage", "After"),
    "footage.freeze": ("Frozen from", "Frozen until"),
    "footage.black": ("Dark from", "Dark until"),
    "footage.clock_mismatch": ("Clock shown",),
    "footage.clock_jump": ("Before the jump", "Jump", "Stretch ends"),
    "footage.clock_jump/rate": ("Clock at the start", "Clock at the end"),
    "footage.defocus": ("Before", "Most blurred", "After"),
    "footage.camera_moved": ("Before", "Turned away", "After"),
}


FRAME_BEFORE_S = 0.04

# How a finding's frames are laid out, row by row: (label, which frame, edge). A freeze shows its
# last frozen frame beside the first live one (its end is exclusive); a loop pairs each place of
# the original with the same place of its repeat.
EVIDENCE_VIEWS: dict[str, list[list[tuple[str, int, str]]]] = {
    "footage.freeze": [[(N_("Frozen from"), 0, ""), (N_("Last frozen frame"), 1, "before"), (N_("First live frame"), 1, "")]],
    "footage.black": [[(N_("Dark from"), 0, ""), (N_("Last dark frame"), 1, "before"), (N_("First lit frame"), 1, "")]],
    "footage.loop": [[(N_("Original: start"), 2, ""), (N_("Repeat: start"), 0, "")],
                     [(N_("Original: end"), 3, ""), (N_("Repeat: end"), 1, "")]],
}


def evidence_rows(finding: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The frames of a footage finding as rows of figures, each with its label, clock time and
    the query that decodes it."""
    frames = (finding.get("evidence") or {}).get("frames") or []
    view = EVIDENCE_VIEWS.get(str(finding.get("rule")))
    if view is None or any(n >= len(frames) for row in view for _, n, _ in row):
        rule = str(finding.get("rule"))
        names = FRAME_LABELS.get(f"{rule}/{finding.get('message')}", FRAME_LABELS.get(rule, ()))
        view = [[(names[n] if n < len(names) else "", n, "") for n in range(len(frames))]]
    return [[{"label": label, "frame": n, "edge": edge, "ref": frames[n],
              "clock": frame_clock(finding, {**frames[n], "media_s": float(frames[n]["media_s"]) - (FRAME_BEFORE_S if edge else 0)})}
             for label, n, edge in row] for row in view]


def frame_clock(finding: dict[str, Any], ref: dict[str, Any]) -> datetime | None:
    """The wall-clock time of an evidence frame: the finding's start plus the frame's offset from
    its first frame, when both are in one file (a frame of another file has no such anchor here)."""
    frames = (finding.get("evidence") or {}).get("frames") or []
    if not frames or not finding.get("start") or ref.get("file") != frames[0].get("file"):
        return None
    return datetime.fromisoformat(finding["start"]) + timedelta(seconds=float(ref["media_s"]) - float(frames[0]["media_s"]))


def _note_max() -> int:
    """The API's limit on a decision note (DecisionIn), so the form and the API cannot drift."""
    for rule in DecisionIn.model_fields["note"].metadata:
        if getattr(rule, "max_length", None) is not None:
            return int(rule.max_length)
    raise AssertionError("DecisionIn.note has no max_length")


NOTE_MAX = _note_max()


class SignInNeeded(Exception):
    """No or stale session: the page handler answers with a redirect to the sign-in page."""


def locale_of(request: Request) -> str:
    return i18n.pick(request.cookies.get("lang"))


def csrf_token(request: Request) -> str:
    return sessions.expected_csrf(request)


def check_csrf(request: Request, sent: str | None) -> None:
    expected = sessions.expected_csrf(request, make=False)
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise Problem(403, "the form is missing its CSRF token or the token is stale; reload the page", "csrf")


def page_caller(request: Request, db: Annotated[Session, Depends(get_db)],
                svc: Annotated[Service, Depends(get_service)]) -> Caller:
    """The signed-in person of a live server-side session, or a redirect to sign in."""
    found = sessions.current(db, request, svc.settings)
    if found is None:
        raise SignInNeeded()
    organisation = key_store.organisation_by_id(db, found[1].organisation_id)
    assert organisation is not None
    return Caller(found[1], organisation)


PageCaller = Annotated[Caller, Depends(page_caller)]


def render(request: Request, template: str, status: int = 200, caller: Caller | None = None, **context: Any) -> HTMLResponse:
    locale = locale_of(request)
    trans = i18n.translations(locale)

    def rule_title(code: str) -> str:
        rule = RULES.get(code)
        if rule is None:
            return code
        return rule.title_zh if locale.startswith("zh") else rule.title_en

    def finding_text(f: dict[str, Any]) -> Markup:
        """The finding's measured value and threshold with units, then what it says, both in the
        page's language (the rule's message template when the finding names one, #17)."""
        measured, complete = measures.measured_text(f, locale, trans.gettext)
        said = say_finding(f, locale)
        parts = []
        if measured:
            parts.append(Markup('<span class="measured{}">{}</span>').format("" if complete else " untranslated", measured))
        if said is not None:
            parts.append(Markup('<span class="said">{}</span>').format(said))
        elif f.get("detail"):
            parts.append(Markup('<details class="untranslated"><summary>{}</summary><span lang="en">{}</span></details>')
                         .format(trans.gettext("Analysis note (English)"), f["detail"]))
        return Markup("<br>").join(parts)

    html = _ENV.get_template(template).render(
        _=trans.gettext, locale=locale, html_lang="zh-Hans" if locale.startswith("zh") else "en",
        csrf=csrf_token(request), caller=caller, path=request.url.path, query=request.url.query,
        csp_nonce=getattr(request.state, "csp_nonce", ""),
        when=lambda v: i18n.when(v, locale), number=lambda v, d=1: i18n.number(v, locale, d),
        rule_title=rule_title, rules=RULES, finding_text=finding_text, frame_clock=frame_clock, evidence_rows=evidence_rows, age=lambda s: i18n.age(s, locale),
        priority_word=lambda code: trans.gettext(PRIORITY_WORDS.get(code, code)),
        reason_word=lambda code: trans.gettext(REASON_WORDS.get(code, code)),
        conclusion_word=lambda code: trans.gettext(CONCLUSION_WORDS.get(code, code)),
        rule_titles=lambda codes: ("、" if locale.startswith("zh") else ", ").join(dict.fromkeys(rule_title(c) for c in codes)),
        **context)
    return HTMLResponse(html, status_code=status)




PRIORITY_WORDS = {"tampering": N_("Evidence faked or hidden"), "invalidates": N_("Invalidates"),
                  "money": N_("Credited hours or headcount"), "review": N_("For review")}
REASON_WORDS = {"evidence_clear": N_("The evidence is clear"), "tampering_seen": N_("Tampering seen in the footage"),
                "rule_breached": N_("The rule is breached by the declared data"), "other": N_("Other (see the note)"),
                "false_alarm": N_("False alarm of the analysis"), "explained": N_("Explained by the institution or platform"),
                "data_corrected": N_("The data was corrected")}


def say_finding(f: dict[str, Any], locale: str) -> str | None:
    """What a stored finding says in the reader's language: its rule's message template filled
    with its arguments (#17's bilingual catalogue; nothing parses the English note back). A finding
    without one (stored before its rule had templates) says its English note, in English only:
    None in Chinese, so that the page folds it away marked as English rather than pass it off."""
    said = said_in(str(f.get("rule")), f.get("message"), f.get("args"), locale)
    if said is not None:
        return said
    return None if locale.startswith("zh") else (str(f.get("detail") or "") or None)


CONCLUSION_WORDS = {"confirmed": N_("Findings confirmed"), "dismissed": N_("Findings dismissed: valid"),
                    "open": N_("Not decided yet"), "unflagged": N_("Valid: nothing found")}


def need(caller: Caller, *roles: str) -> None:
    if caller.role not in roles:
        raise Problem(403, f"this page is for the role {' or '.join(roles)}")


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def home(caller: PageCaller) -> Response:
    start = {"inspector": "/ui/queue", "admin": "/ui/admin/keys"}.get(caller.role, "/ui/classes")
    return RedirectResponse(start, status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> HTMLResponse:
    return render(request, "sign_in.html")


@router.post("/sign-in")
def sign_in(request: Request, db: DB, svc: Svc, key: Annotated[str, Form()],
            csrf: Annotated[str | None, Form()] = None) -> Response:
    check_csrf(request, csrf)
    limits, address = svc.limits, client_address(request)
    if not limits.allows(limits.sign_in, "sign-in", address):  # someone guessing keys: wait
        raise limits.refusal(limits.sign_in, "sign-in", address)
    found = find_key(db, key.strip())
    if found is None or found.role not in ("inspector", "institution", "admin"):
        limits.spend(limits.sign_in, "sign-in", address)
        # Audited too (rate-limited above, so a guesser cannot flood the log): who tried from where.
        audit(db, None, "page.sign_in_refused", address, key_id=found.id if found else None)
        db.commit()
        return render(request, "sign_in.html", status=401, error=True)
    organisation = key_store.organisation_by_id(db, found.organisation_id)
    assert organisation is not None
    sessions.start(db, request, found)
    audit(db, Caller(found, organisation), "page.sign_in", found.id, address=address)
    db.commit()
    return RedirectResponse("/ui/", status_code=303)


@router.post("/sign-out")
def sign_out(request: Request, db: DB, svc: Svc, csrf: Annotated[str | None, Form()] = None) -> Response:
    """Ends the server-side session: the cookie, kept or copied, opens nothing afterwards."""
    found = sessions.current(db, request, svc.settings)
    if found is not None:  # a dead session has nothing to end: the cookie is just cleared
        check_csrf(request, csrf)
    sessions.end(db, request)
    if found is not None:
        organisation = key_store.organisation_by_id(db, found[1].organisation_id)
        assert organisation is not None
        audit(db, Caller(found[1], organisation), "page.sign_out", found[1].id)
    db.commit()
    return RedirectResponse("/ui/sign-in", status_code=303)


@router.get("/admin/keys", response_class=HTMLResponse)
def keys_page(request: Request, db: DB, caller: PageCaller) -> HTMLResponse:
    """Admins: every key, and a button that revokes one (the same revocation as DELETE /admin/keys/{id})."""
    need(caller, "admin")
    keys = key_store.all_keys(db)
    names = key_store.organisation_names(db)
    return render(request, "keys.html", caller=caller, keys=keys, names=names)


@router.post("/admin/keys/{key_id}/revoke")
def revoke_key_page(key_id: str, request: Request, db: DB, caller: PageCaller,
                    csrf: Annotated[str | None, Form()] = None) -> Response:
    need(caller, "admin")
    check_csrf(request, csrf)
    key = key_store.key_by_id(db, key_id)
    if key is None:
        raise Problem(404, f"key {key_id} not found")
    key_store.revoke_key(db, key, by=key_store.Actor(caller.key.person, caller.key.id, caller.org_id))
    # Revoking one's own key ends this session too: the next page asks to sign in.
    return RedirectResponse("/ui/admin/keys", status_code=303)


@router.get("/lang/{locale}")
def switch_language(locale: str, next: str = "/ui/") -> Response:
    target = next if next.startswith("/ui") else "/ui/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie("lang", i18n.pick(locale), max_age=365 * 86400, httponly=True, samesite="strict")
    return response


FILTER_NAMES = ("status", "kind", "rule", "organisation", "since", "until")
# What a flag is about: a class hour, a learner session, or a class trainee (the person rules:
# cool-down, yearly limit, two places at once), as the JSON queue (api/routes/review.py) takes them.
QUEUE_KINDS = ("hour", "session", "trainee")
UNDO_S = review_store.UNDO_S  # how long a decision may be taken back by its own author with one click


def _filters(request: Request) -> tuple[QueueFilters, dict[str, str]]:
    """The queue's filters from the query (the flag pages carry them too, so "next" follows the
    queue the inspector came from). No status given: open flags; "any": every status."""
    return _filters_from({k: request.query_params.get(k, "") for k in FILTER_NAMES})


def _filters_from(raw: dict[str, str]) -> tuple[QueueFilters, dict[str, str]]:
    status = raw["status"] or "open"
    if status not in ("open", "confirmed", "dismissed", "any"):
        raise Problem(422, "status: open, confirmed, dismissed or any")
    if raw["kind"] not in ("", *QUEUE_KINDS):
        raise Problem(422, "kind: hour, session or trainee")
    filters = QueueFilters(status=status, kind=raw["kind"], rule=raw["rule"], organisation=raw["organisation"],
                           since=_day(raw["since"]), until=_day(raw["until"], end=True))
    raw["status"] = status
    return filters, raw


def _query(raw: dict[str, str], **more: Any) -> str:
    return urlencode({**{k: v for k, v in raw.items() if v and not (k == "status" and v == "open")},
                      **{k: v for k, v in more.items() if v not in (None, "")}})


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, db: DB, caller: PageCaller, offset: int = 0, done: str = "", undo: str = "",
               undo_flag: str = "") -> HTMLResponse:
    need(caller, "inspector")
    filters, raw = _filters(request)
    page = review_store.triage(db, filters, offset=max(0, offset), per_page=25)
    names = key_store.organisation_names(db, ("institution", "platform"))
    return render(request, "queue.html", caller=caller, page=page, names=names, filters=raw,
                  filter_query=_query(raw), query_with=lambda **more: _query(raw, **more),
                  bulk_rules=review_store.NO_JUDGEMENT, reasons=review_store.REASONS, done=done,
                  undo_ids=[int(i) for i in undo.split(",") if i.isdigit()][:50], undo_flag=undo_flag, undo_s=UNDO_S,
                  back=f"/ui/queue?{_query(raw)}")


@router.post("/queue/bulk")
def bulk_decide_page(request: Request, db: DB, caller: PageCaller, outcome: Annotated[str, Form()],
                     rule: Annotated[str, Form()], reason: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
                     csrf: Annotated[str | None, Form()] = None) -> Response:
    """One decision over the filtered open flags of a rule that needs no judgement (cool-down,
    theory share, the class's shape): the filters come in the query, as on the queue."""
    need(caller, "inspector")
    check_csrf(request, csrf)
    filters, raw = _filters(request)
    if rule != filters.rule:
        raise Problem(422, "the rule decided must be the rule filtered by")
    if len(note) > NOTE_MAX:
        raise Problem(422, f"note: at most {NOTE_MAX:,} characters; this one has {len(note):,}")
    count = review_store.decide_in_bulk(db, caller, filters, outcome, reason, note)
    return RedirectResponse(f"/ui/queue?{_query(raw, done=str(count))}", status_code=303)


def _day(value: str | None, end: bool = False) -> datetime | None:
    """A date of the form (YYYY-MM-DD) as the start of that day in China, or of the next day for `until`."""
    if not value:
        return None
    try:
        day = datetime.fromisoformat(value).replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    except ValueError:
        raise Problem(422, "dates are YYYY-MM-DD") from None
    if not 1900 <= day.year < 9000:  # 9999-12-31 plus a day, or 0001-01-01 in UTC, overflows
        raise Problem(422, "dates are between 1900 and 9000")
    return day + timedelta(days=1) if end else day


def _required_s(db: Session, class_id: str) -> float | None:
    """The continuity the class's latest report was judged by (its embedded values)."""
    record = latest_report(db, class_id)
    judged = (record.body.get("judged_by") if record else None) or {}
    if not judged.get("profile"):
        return None
    values: dict[str, Any] = {}
    for override in judged.get("overrides", []):
        values.update(override.get("parameters", {}))
    return load_policy(judged["profile"], values).practical_min_continuous_s


def finding_groups(findings: list[dict[str, Any]], gap_s: float = 60.0) -> list[dict[str, Any]]:
    """Consecutive findings of one rule, each starting within `gap_s` of the previous one's end,
    shown and decided as one (four back-to-back fast-forwards are one incident); each group keeps
    its findings' keys, so a decision is still recorded per finding."""
    groups: list[dict[str, Any]] = []
    for index, f in enumerate(findings):
        last = groups[-1] if groups else None
        start, end = f.get("start"), f.get("end") or f.get("start")
        if (last is not None and last["rule"] == f.get("rule") and start and last["end"]
                and (datetime.fromisoformat(start) - datetime.fromisoformat(last["end"])).total_seconds() <= gap_s):
            last["findings"].append(f)
            last["indexes"].append(index)
            last["keys"].append(review_store.finding_key(f))
            last["end"] = max(last["end"], end, key=lambda v: datetime.fromisoformat(v)) if end else last["end"]
            continue
        groups.append({"rule": f.get("rule"), "start": start, "end": end, "findings": [f], "indexes": [index],
                       "keys": [review_store.finding_key(f)]})
    return groups


def decision_acts(decisions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Decisions recorded together (one press of the bar: same person, outcome, reason, note and
    moment) shown as one act naming its findings; the rows stay one per finding."""
    acts: list[dict[str, Any]] = []
    for d in decisions:
        last = acts[-1] if acts else None
        same = last is not None and all(last[k] == d.get(k) for k in ("person", "outcome", "reason", "note")) and \
            abs((datetime.fromisoformat(str(d["created_at"])) - datetime.fromisoformat(str(last["created_at"]))).total_seconds()) < 2
        if same:
            assert last is not None
            if d.get("finding"):
                last["rules"].append(str(d["finding"]).split("@")[0])
            continue
        acts.append({**d, "rules": [str(d["finding"]).split("@")[0]] if d.get("finding") else []})
    return acts


@router.get("/flags/{flag_id}", response_class=HTMLResponse)
def flag_page(flag_id: str, request: Request, db: DB, caller: PageCaller, undo: str = "", undo_flag: str = "") -> HTMLResponse:
    need(caller, "inspector")
    filters, raw = _filters(request)
    data = flag_with_subject(db, flag_id)
    before, after, position, total = review_store.neighbours(db, filters, flag_id)
    undo_ids = [int(i) for i in undo.split(",") if i.isdigit()][:50]
    locale = locale_of(request)
    trans = i18n.translations(locale)
    timeline = headcount = None
    roster: list[dict[str, Any]] = []
    subject = data["subject"] or {}
    if data["flag"]["subject_kind"] == "hour" and subject:
        labels = {"valid": trans.gettext("Valid footage"), "required": trans.gettext("Continuous footage required"),
                  "axis": trans.gettext("Time of day")}

        def label(kind: str) -> str:
            if kind in labels:
                return labels[kind]
            rule = RULES.get(kind)
            return (rule.title_zh if locale.startswith("zh") else rule.title_en) if rule else kind

        timeline = hour_timeline(subject, _required_s(db, subject["class_id"]), label,
                                 lambda t: i18n.clock(t, locale),
                                 trans.gettext("Timeline of the class hour"))
        seen = subject.get("visibility")
        if seen:
            words = {"roster": trans.gettext("Enrolled"), "mean": trans.gettext("Mean"), "axis": trans.gettext("Check moments")}
            headcount = headcount_chart(seen["moments"], seen["roster_size"], seen.get("headcount_mean"),
                                        lambda k: words.get(k, k), lambda t: i18n.clock(t, locale),
                                        trans.gettext("Trainees identified at each check"))
            photos = class_store.trainees_with_photo(db, subject["class_id"])
            klass_row = class_store.class_by_id(db, subject["class_id"])
            roster = [{"id": t["id"], "name": t["name"], "photo": t["id"] in photos, "seen": seen["seen"].get(t["id"], 0),
                       "missing": t["id"] in seen["missing"], "no_photo": t["id"] in seen["without_photo"]}
                      for t in (klass_row.manifest.get("roster", []) if klass_row else [])]
    plot = None
    events: list[dict[str, Any]] = []
    if data["flag"]["subject_kind"] == "session" and subject:
        labels = {"hidden": trans.gettext("Window hidden"), "guide": trans.gettext("1× playback"),
                  "axis": trans.gettext("Time of day"), "position": trans.gettext("Position in the video (min)"),
                  "popup_shown": trans.gettext("Pop-up shown"), "popup_answered": trans.gettext("Pop-up answered"),
                  "popup_timeout": trans.gettext("Pop-up timed out"),
                  "legend.position": trans.gettext("Position in the video"),
                  "legend.finding": trans.gettext("A finding's interval")}
        events = review_store.session_events(db, subject["id"])
        def label_rule(code: str) -> str:
            rule = RULES.get(code)
            return (rule.title_zh if locale.startswith("zh") else rule.title_en) if rule else code

        plot = session_plot(events, lambda k: labels.get(k) or label_rule(k), lambda t: i18n.clock(t, locale),
                            trans.gettext("Playback position against time"), findings=subject.get("findings", []))
    overlapping: list[Any] = []
    captures: list[dict[str, Any]] = []
    enrolment: list[dict[str, Any]] = []
    if data["flag"]["subject_kind"] == "session" and subject:
        overlapping, captures, enrolment = _session_context(db, subject, events)
    klass = class_store.class_by_id(db, subject["class_id"]) if subject.get("class_id") else None
    report = latest_report(db, subject["class_id"]) if subject and subject.get("class_id") else None
    hour_judged_by = report.body.get("judged_by") if report else None
    return render(request, "flag.html", groups=finding_groups((subject or {}).get("findings", [])), events=events,
                  acts=decision_acts(data["decisions"]),
                  before=before, after=after, position=position, total=total, filters=raw, filter_query=_query(raw),
                  reasons=review_store.REASONS, undo_ids=undo_ids, undo_flag=undo_flag or flag_id, undo_s=UNDO_S,
                  back=f"/ui/flags/{flag_id}?{_query(raw)}", note_max=NOTE_MAX, hour_judged_by=hour_judged_by, frame_labels=FRAME_LABELS, headcount=headcount, roster=roster, overlapping=overlapping, captures=captures, enrolment=enrolment, caller=caller, data=data, subject=subject, timeline=timeline, plot=plot, klass=klass,
                  styles=STYLES)


@router.get("/flags/{flag_id}/frames/{finding}/{frame}.jpg")
async def evidence_frame(flag_id: str, finding: int, frame: int, db: DB, caller: PageCaller, svc: Svc,
                         edge: str = "") -> Response:
    """A frame a footage finding points at (both places of a loop, the edges of a freeze or a
    splice), decoded from the stored recording when an inspector looks. `edge=before`: the frame
    shown just before that instant. A freeze's end is the first live frame (the end is exclusive),
    so its last frozen frame is the one before: 40 ms back is inside the last frame up to 25 fps,
    and at a higher rate still a frame of the freeze, which are all the same picture."""
    need(caller, "inspector")
    hour = review_store.hour_of_flag(db, flag_id)
    findings = hour.body.get("findings", []) if hour else []
    frames = (findings[finding].get("evidence") or {}).get("frames", []) if 0 <= finding < len(findings) else []
    if hour is None or not 0 <= frame < len(frames):
        raise Problem(404, "no such evidence frame")
    ref = frames[frame]
    recording = class_store.recording_of_frame(db, hour.class_id, ref)
    if recording is None:
        raise Problem(404, "the recording of this frame is not stored")
    at = float(ref["media_s"]) - (FRAME_BEFORE_S if edge == "before" else 0.0)
    picture = await run_in_threadpool(_frame_at_or_before, svc.storage / recording.stored_name, max(0.0, at))
    if picture is None:
        raise Problem(404, "the frame cannot be decoded")
    import cv2

    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(picture, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return Response(jpeg.tobytes(), media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/flags/{flag_id}/clips/{finding}.webm")
async def evidence_clip(flag_id: str, finding: int, db: DB, caller: PageCaller, svc: Svc) -> Response:
    """A few seconds of the footage a finding points at: from 2 s before its first frame to 2 s
    after its end, at most clips.CLIP_MAX_S; made on the first request, cached afterwards."""
    need(caller, "inspector")
    hour = review_store.hour_of_flag(db, flag_id)
    findings = hour.body.get("findings", []) if hour else []
    if hour is None or not 0 <= finding < len(findings) or not (findings[finding].get("evidence") or {}).get("frames"):
        raise Problem(404, "no such evidence clip")
    f = findings[finding]
    ref = f["evidence"]["frames"][0]
    recording = class_store.recording_of_frame(db, hour.class_id, ref)
    if recording is None:
        raise Problem(404, "the recording of this clip is not stored")
    length = (datetime.fromisoformat(f["end"]) - datetime.fromisoformat(f["start"])).total_seconds() if f.get("end") and f.get("start") else 0.0
    start = max(0.0, float(ref["media_s"]) - 2.0)
    duration = min(length + 4.0, clips.CLIP_MAX_S)
    target = clips.clip_path(svc.settings.cache_dir, recording.sha256, start, duration)
    made = await run_in_threadpool(clips.make_clip, svc.storage / recording.stored_name, start, duration, target)
    if made is None:
        raise Problem(404, "the clip cannot be decoded")
    return Response(made.read_bytes(), media_type="video/webm", headers={"Cache-Control": "private, max-age=3600"})


def _frame_at_or_before(path: Path, media_s: float):  # type: ignore[no-untyped-def]
    """The frame at `media_s`, or the last one before it when it is the (exclusive) end of the file."""
    for back in (0.0, 0.1, 0.25, 0.5, 1.0):
        picture = frame_rgb(path, max(0.0, media_s - back))
        if picture is not None:
            return picture
    return None


def _session_context(db: Session, subject: dict[str, Any], events: list[dict[str, Any]]) -> tuple[list[Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The person's other sessions that overlap this one (any platform), this session's face
    captures with what the checks said of each, and the learner's enrolment photos, every
    version, the one this verdict used marked (a newer one is shown beside it, never instead)."""
    start, end = datetime.fromisoformat(subject["start"]), datetime.fromisoformat(subject["end"])
    row = review_store.session_row(db, subject["id"])
    learner = review_store.learner_row(db, row.learner_id if row else None)
    same = face_store.same_person(db, learner) if learner else []
    others = review_store.overlapping_sessions(db, same, subject["id"], start, end)
    verdict_of_event: dict[str, str] = {}
    for f in subject["findings"]:
        if f["rule"].startswith("online.face_"):
            for event_id in (f.get("evidence") or {}).get("events", []):
                verdict_of_event[event_id] = f["rule"]
    known = face_store.stored_captures(db, [i for e in events for i in (e.get("images") or [e.get("image")]) if i])
    captures = [{"id": e["id"], "type": e["type"], "at": e["at"], "rule": verdict_of_event.get(e["id"]),
                 "images": [i for i in (e.get("images") or [e.get("image")]) if i in known]}
                for e in sorted(events, key=lambda e: e["at"]) if e["type"] in ("face_capture", "photo_kept")]
    used = (subject.get("judged_by") or {}).get("photo_version")
    photos = [{"id": p.id, "version": p.version, "at": p.created_at, "used": p.version == used}
              for p in (face_store.photo_versions(db, [learner.id]).get(learner.id, []) if learner else [])]
    return list(others), captures, photos


@router.get("/classes/{class_id}/roster/{trainee}/photo.jpg")
def roster_photo(class_id: str, trainee: str, db: DB, caller: PageCaller, svc: Svc) -> Response:
    need(caller, "institution", "inspector")
    owned_class(db, caller, class_id)
    photo = class_store.latest_roster_photo(db, class_id, trainee)
    if photo is None:
        raise Problem(404, "no enrolment photo")
    return _image(svc.storage / photo.stored_name)


@router.get("/captures/{capture_id}.jpg")
def capture_image(capture_id: str, db: DB, caller: PageCaller, svc: Svc) -> Response:
    need(caller, "inspector")
    if not face_store.capture_exists(db, capture_id):
        raise Problem(404, "no such capture")
    return _image(svc.storage / "captures" / capture_id)


@router.get("/learner-photos/{photo_id}.jpg")
def learner_photo(photo_id: str, db: DB, caller: PageCaller, svc: Svc) -> Response:
    need(caller, "inspector")
    photo = face_store.learner_photo(db, photo_id)
    if photo is None:
        raise Problem(404, "no enrolment photo")
    return _image(svc.storage / photo.stored_name)


def _image(path: Path) -> Response:
    """A stored picture, re-encoded as JPEG (whatever was uploaded, the browser gets an image)."""
    from PIL import Image

    try:
        with Image.open(path) as picture:
            picture.thumbnail((480, 480))
            out = io.BytesIO()
            picture.convert("RGB").save(out, "JPEG", quality=85)
    except (OSError, ValueError):
        raise Problem(404, "the picture cannot be read") from None
    return Response(out.getvalue(), media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/flags/{flag_id}/decide")
async def decide_page(flag_id: str, request: Request, db: DB, caller: PageCaller) -> Response:
    """The decision bar: one outcome per finding group (`d<n>`, its findings' keys in `k<n>`), or
    `outcome` for every finding; a reason and a note. `then=next` opens the next flag of the
    queue the inspector came from; the page shown next offers the undo."""
    need(caller, "inspector")
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or "") or None)
    note, reason, everything = str(form.get("note") or ""), str(form.get("reason") or ""), str(form.get("outcome") or "")
    if len(note) > NOTE_MAX:  # the API's limit, refused as the API refuses it (never cut silently)
        raise Problem(422, f"note: at most {NOTE_MAX:,} characters; this one has {len(note):,}")
    data = await run_in_threadpool(flag_with_subject, db, flag_id)
    outcomes: dict[str, str] = {}
    if everything:
        outcomes = {review_store.finding_key(f): everything for f in (data["subject"] or {}).get("findings", [])}
    for name, value in form.multi_items():
        if name.startswith("d") and name[1:].isdigit() and value:
            for key in str(form.get(f"k{name[1:]}") or "").split("\n"):
                if key:
                    outcomes[key] = str(value)
    if everything and reason and reason not in review_store.REASONS.get(everything, ()):
        raise Problem(422, f"reason {reason!r} is not one for {everything}")
    if not outcomes and everything in ("confirmed", "dismissed") and not (data["subject"] or {}).get("findings"):
        made = [await run_in_threadpool(add_decision, db, caller, flag_id,
                                        DecisionIn(outcome=everything, note=note, reason=reason))]  # type: ignore[arg-type]
    else:
        made = await run_in_threadpool(review_store.decide_findings, db, caller, flag_id, outcomes, reason, note)
    raw = {k: str(form.get(k) or "") for k in FILTER_NAMES}
    ids = ",".join(str(d.id) for d in made)
    if form.get("then") == "next":
        filters, raw = _filters_from(raw)
        _, after, _, _ = await run_in_threadpool(review_store.neighbours, db, filters, flag_id)
        if after is not None:
            return RedirectResponse(f"/ui/flags/{after}?{_query(raw, undo=ids, undo_flag=flag_id)}", status_code=303)
        return RedirectResponse(f"/ui/queue?{_query(raw, done='1', undo=ids, undo_flag=flag_id)}", status_code=303)
    return RedirectResponse(f"/ui/flags/{flag_id}?{_query(raw, undo=ids, undo_flag=flag_id)}#decisions", status_code=303)


@router.post("/flags/{flag_id}/undo")
def undo_page(flag_id: str, request: Request, db: DB, caller: PageCaller, ids: Annotated[str, Form()],
              back: Annotated[str, Form()] = "", csrf: Annotated[str | None, Form()] = None) -> Response:
    """Takes back the caller's own decisions just made: a withdrawal is appended for each."""
    need(caller, "inspector")
    check_csrf(request, csrf)
    numbers = [int(i) for i in ids.split(",") if i.strip().isdigit()]
    if not numbers:
        raise Problem(422, "ids: the decisions to withdraw")
    review_store.withdraw(db, caller, flag_id, numbers, UNDO_S)
    target = back if back.startswith("/ui/") and not back.startswith("//") else f"/ui/flags/{flag_id}"
    return RedirectResponse(target, status_code=303)


@router.get("/classes", response_class=HTMLResponse)
def classes_page(request: Request, db: DB, caller: PageCaller) -> HTMLResponse:
    need(caller, "institution", "inspector")
    classes = class_store.classes_of(db, caller)
    return render(request, "classes.html", caller=caller, classes=classes)


@router.get("/classes/{class_id}", response_class=HTMLResponse)
def class_page(class_id: str, request: Request, db: DB, caller: PageCaller) -> HTMLResponse:
    need(caller, "institution", "inspector")
    klass = owned_class(db, caller, class_id)
    record = latest_report(db, class_id)
    hours = record.body["hours"] if record else []
    conclusions, _ = _conclusions(review_store.decisions_of_class(db, class_id), class_id, hours)
    return render(request, "class.html", caller=caller, klass=klass, report=record.body if record else None,
                  conclusions=conclusions, report_id=record.id if record else "")


def _conclusions(decisions: dict[str, list[Any]], class_id: str,
                 hours: list[dict[str, Any]]) -> tuple[dict[int, str], dict[tuple[int, int], Any]]:
    """Per hour the final conclusion after the inspector's decisions, and each finding's standing
    decision (hour, finding's place): the record's summary and the institution's view agree."""
    conclusions: dict[int, str] = {}
    standing: dict[tuple[int, int], Any] = {}
    for h in hours:
        made = decisions.get(f"{class_id}#{h['index']}")
        keys = [review_store.finding_key(f) for f in h.get("findings", [])]
        if made is None:
            conclusions[h["index"]] = "unflagged" if h.get("verdict") == "valid" else "open"
            continue
        outcome, by_key = review_store.conclusion(made, keys)
        conclusions[h["index"]] = outcome
        for n, key in enumerate(keys):
            if key in by_key:
                standing[(h["index"], n)] = by_key[key]
    return conclusions, standing


def _record(request: Request, db: Session, caller: Caller, svc: Service, class_id: str, inline_css: bool) -> HTMLResponse:
    """The inspection record of a class (004 annex 2): per hour the verdict and findings, the
    class period (headcount, attendance per trainee, on-site checks: the same store function as
    GET /classes/{id}/period), the decisions taken on its flags, and the inspector, with a line to sign."""
    need(caller, "inspector")
    klass = owned_class(db, caller, class_id)
    record = latest_report(db, class_id)
    decisions = review_store.decisions_of_class(db, class_id)
    hours = record.body["hours"] if record else []
    conclusions, standing = _conclusions(decisions, class_id, hours)
    period = class_store.class_period(db, klass, class_store.class_policy(db, klass, svc.settings.default_jurisdiction))
    css = (_HERE / "static" / "style.css").read_text(encoding="utf-8") if inline_css else None
    institution = key_store.organisation_by_id(db, klass.organisation_id)
    return render(request, "record.html", caller=caller, klass=klass, hours=hours, decisions=decisions,
                  conclusions=conclusions, standing=standing, pdf=inline_css,
                  judged=record.body.get("judged_by") if record else None, institution=institution, period=period,
                  names={t["id"]: t.get("name", "") for t in klass.manifest.get("roster", [])},
                  printed_at=datetime.now(timezone.utc), inline_css=css)


@router.get("/classes/{class_id}/progress")
def class_progress(class_id: str, db: DB, caller: PageCaller) -> dict[str, Any]:
    """The latest analysis of the class and the recordings so far, for the page to follow live."""
    need(caller, "institution", "inspector")
    owned_class(db, caller, class_id)
    return class_store.progress_of(db, class_id)


@router.get("/classes/{class_id}/record", response_class=HTMLResponse)
def record_page(class_id: str, request: Request, db: DB, caller: PageCaller, svc: Svc) -> HTMLResponse:
    return _record(request, db, caller, svc, class_id, inline_css=False)


@router.get("/classes/{class_id}/record.pdf")
async def record_pdf(class_id: str, request: Request, db: DB, caller: PageCaller, svc: Svc) -> Response:
    """The same record as PDF, printed by headless Chromium (installed with the pages' set-up)."""
    html = _record(request, db, caller, svc, class_id, inline_css=True).body
    pdf = await run_in_threadpool(print_pdf, bytes(html))
    name = f"inspection-record-{class_id}.pdf"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def print_pdf(html: bytes) -> bytes:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise Problem(503, "PDF export needs Chromium on the server; the printable page works without it")
    with tempfile.TemporaryDirectory(prefix="monitor-pdf-") as folder:
        source, target = Path(folder) / "record.html", Path(folder) / "record.pdf"
        source.write_bytes(html)
        done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                               "--disable-component-update", "--disable-sync", "--no-first-run", "--no-pdf-header-footer",
                               f"--user-data-dir={folder}/profile", f"--print-to-pdf={target}", source.as_uri()],
                              capture_output=True, timeout=120)
        if done.returncode != 0 or not target.is_file():
            raise Problem(503, "the PDF could not be printed; the printable page works")
        return target.read_bytes()


ERROR_WORDS = {400: N_("The request could not be read."), 401: N_("Please sign in."),
               403: N_("This page is not for your role, or the form had expired: reload it and try again."),
               404: N_("There is no such page, or it is not yours to see."),
               405: N_("This address does not take that kind of request."),
               409: N_("This conflicts with what was recorded already."),
               413: N_("What was sent is too large."), 422: N_("Something in the form or the address is not valid."),
               429: N_("Too many attempts: please wait a moment."), 503: N_("The service is busy or missing a part: try again later.")}


def render_error(request: Request, status: int, detail: str) -> HTMLResponse:
    """An error under /ui/ as a page in the reader's language with the signed-in header; the
    service's own detail (English, precise) is kept folded beneath for a report."""
    caller = None
    service = getattr(request.app.state, "service", None)
    if service is not None:
        try:
            with service.session() as db:
                found = sessions.current(db, request, service.settings)
                organisation = key_store.organisation_by_id(db, found[1].organisation_id) if found else None
                caller = Caller(found[1], organisation) if found and organisation else None
        except Exception:  # an error page must render even when the database is what failed
            caller = None
    words = ERROR_WORDS.get(status, N_("Something went wrong on our side."))
    return render(request, "error.html", status=status, caller=caller, status_code=status,
                  message=i18n.translations(locale_of(request)).gettext(words), detail=detail)


def install(app: Any) -> None:
    """The pages' router, its static files, and HTML answers (not JSON) for errors under /ui."""
    from fastapi.staticfiles import StaticFiles

    app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=_HERE / "static"), name="static")

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, exc: SignInNeeded) -> Response:
        return RedirectResponse("/ui/sign-in", status_code=303)

    app.state.render_error = render_error


