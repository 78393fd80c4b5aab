"""xAPI 1.0.3 statements as a learning record store keeps them: validation, storage, voiding,
attachments, and the learning events the statements stand for (issue #15).

The statement resource's rules (xAPI 1.0.3 Part Three 2.1, Part Two 2.x and 4.0):
- a batch is valid as a whole or refused as a whole (400, naming the statement's index and field);
- an id that comes again with the same content is acknowledged again, with other content 409
  (content compared without `stored`, `authority` and `version`, as the LRS sets those);
- a voiding statement makes its target stop counting (its learning event is removed and the
  learner judged again); a voiding statement cannot itself be voided;
- statements whose verbs the rules use become learning events through the same reader as
  `/events`; the others are stored and acknowledged, not judged.

Validation is a JSON Schema of 1.0.3 statements run by jsonschema-rs plus the few rules a schema
cannot say (score bounds, interaction components by type, revision/platform only with an
activity, voiding needs a StatementRef).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

import jsonschema_rs
from sqlalchemy import delete
from sqlmodel import Session, select

from api.store.events import mark_dirty, store_events, subjects_of_ids
from models.statements import XapiAttachment, XapiStatement
from models.tables import Event, Job
from models.types import utcnow

VERSION = "1.0.3"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"


class StatementError(ValueError):
    """A statement that is not valid xAPI 1.0.3 (or that the service cannot take): 400."""

    def __init__(self, index: int | None, field: str, message: str) -> None:
        self.index, self.field, self.message = index, field, message
        where = f"statement {index}: " if index is not None else ""
        super().__init__(f"{where}{field}: {message}" if field else f"{where}{message}")


class Conflict(Exception):
    """A statement id stored before with other content: 409."""

    def __init__(self, statement_id: str) -> None:
        super().__init__(f"statement {statement_id} is stored already with other content")
        self.statement_id = statement_id


# --- formats ----------------------------------------------------------------------------------

_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
# RFC 5646 language tags: langtag, private use, and the regular grandfathered tags (enough to
# refuse what is not a tag; a tag's subtags are not looked up in the IANA registry).
_LANGTAG = re.compile(
    r"^(?:(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"  # language
    r"(?:-[A-Za-z]{4})?"  # script
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"  # variants
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"  # extensions
    r"(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?"  # private use
    r"|[xX](?:-[A-Za-z0-9]{1,8})+"
    r"|en-GB-oed|i-(?:ami|bnn|default|enochian|hak|klingon|lux|mingo|navajo|pwn|tao|tay|tsu)"
    r"|sgn-(?:BE-FR|BE-NL|CH-DE)|art-lojban|cel-gaulish|no-(?:bok|nyn)|zh-(?:guoyu|hakka|min|min-nan|xiang))$")
_TIMESTAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$")
_NUM = r"\d+(?:[.,]\d+)?"
_DURATION = re.compile(rf"^P(?:(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}D)?(?:T(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?|{_NUM}W)$")


def _is_iri(value: str) -> bool:
    return bool(_IRI.match(value))


def _is_lang(value: str) -> bool:
    return bool(_LANGTAG.match(value))


def parse_timestamp(value: str) -> datetime | None:
    """An ISO 8601 date and time as xAPI takes it, as an aware datetime (no offset: UTC), or None."""
    m = _TIMESTAMP.match(value)
    if m is None:
        return None
    offset = m.group(8)
    if offset and offset[0] == "-" and not offset[1:].replace(":", "").strip("0"):
        return None  # "-00", "-0000", "-00:00": RFC 3339's unknown offset, not allowed (XAPI-00123)
    text = value[:-1] + "+00:00" if offset == "Z" else value
    if offset and offset not in ("Z",) and len(offset) == 3:
        text = value + ":00"
    fraction = m.group(7)
    if fraction and len(fraction) > 6:  # datetime takes microseconds at most
        text = text.replace("." + fraction, "." + fraction[:6])
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _is_timestamp(value: str) -> bool:
    return parse_timestamp(value) is not None


def _is_duration(value: str) -> bool:
    return value not in ("P", "PT") and not value.endswith("T") and bool(_DURATION.match(value))


# --- the schema -------------------------------------------------------------------------------

def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_IFI_PROPERTIES = {"mbox": _ref("mbox"), "mbox_sha1sum": {"type": "string", "pattern": "^[0-9a-fA-F]{40}$"},
                   "openid": _ref("iri"), "account": _ref("account")}
_ONE_IFI = [{"required": [name]} for name in _IFIS]


def _object_by_type(kinds: dict[str, str]) -> dict[str, Any]:
    """An object whose `objectType` says which definition it follows (Activity when absent)."""
    rules: list[dict[str, Any]] = [{"if": {"not": {"required": ["objectType"]}}, "then": _ref("activity")}]
    rules += [{"if": {"required": ["objectType"], "properties": {"objectType": {"const": kind}}}, "then": _ref(name)}
              for kind, name in kinds.items()]
    return {"type": "object", "properties": {"objectType": {"enum": list(kinds)}}, "allOf": rules}


_COMPONENTS = ("choices", "scale", "source", "target", "steps")
_STATEMENT_PARTS: dict[str, Any] = {
    "actor": _ref("actor"), "verb": _ref("verb"), "result": _ref("result"), "context": _ref("context"),
    "timestamp": _ref("timestamp"), "attachments": {"type": "array", "items": _ref("attachment")}}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {
        "iri": {"type": "string", "format": "xapi-iri"},
        "uuid": {"type": "string", "pattern": _UUID},
        "timestamp": {"type": "string", "format": "xapi-timestamp"},
        "langmap": {"type": "object", "propertyNames": {"format": "xapi-lang"}, "additionalProperties": {"type": "string"}},
        "extensions": {"type": "object", "propertyNames": {"format": "xapi-iri"}},
        "mbox": {"type": "string", "pattern": r"^mailto:[^@\s:/?#]+@[^@\s/?#]+$"},
        "account": {"type": "object", "required": ["homePage", "name"], "additionalProperties": False,
                    "properties": {"homePage": _ref("iri"), "name": {"type": "string"}}},
        "agent": {"type": "object", "additionalProperties": False, "oneOf": _ONE_IFI,
                  "properties": {"objectType": {"const": "Agent"}, "name": {"type": "string"}, **_IFI_PROPERTIES}},
        "group": {"type": "object", "additionalProperties": False, "required": ["objectType"],
                  "oneOf": _ONE_IFI + [{"required": ["member"], "not": {"anyOf": _ONE_IFI}}],
                  "properties": {"objectType": {"const": "Group"}, "name": {"type": "string"},
                                 "member": {"type": "array", "items": _ref("agent")}, **_IFI_PROPERTIES}},
        "actor": {"type": "object", "if": {"required": ["objectType"], "properties": {"objectType": {"const": "Group"}}},
                  "then": _ref("group"), "else": _ref("agent")},
        # An authority is an Agent, or the anonymous Group of two Agents that OAuth makes (1.0.3 Data 2.4.9).
        "authority": {"type": "object", "if": {"required": ["objectType"], "properties": {"objectType": {"const": "Group"}}},
                      "then": {"allOf": [_ref("group"), {"required": ["member"], "not": {"anyOf": _ONE_IFI},
                                                         "properties": {"member": {"minItems": 2, "maxItems": 2}}}]},
                      "else": _ref("agent")},
        "verb": {"type": "object", "required": ["id"], "additionalProperties": False,
                 "properties": {"id": _ref("iri"), "display": _ref("langmap")}},
        "component": {"type": "object", "required": ["id"], "additionalProperties": False,
                      "properties": {"id": {"type": "string", "minLength": 1}, "description": _ref("langmap")}},
        "definition": {"type": "object", "additionalProperties": False, "properties": {
            "name": _ref("langmap"), "description": _ref("langmap"), "type": _ref("iri"), "moreInfo": _ref("iri"),
            "extensions": _ref("extensions"),
            "interactionType": {"enum": ["true-false", "choice", "fill-in", "long-fill-in", "matching", "performance",
                                         "sequencing", "likert", "numeric", "other"]},
            "correctResponsesPattern": {"type": "array", "items": {"type": "string"}},
            **{name: {"type": "array", "items": _ref("component")} for name in _COMPONENTS}}},
        "activity": {"type": "object", "required": ["id"], "additionalProperties": False,
                     "properties": {"objectType": {"const": "Activity"}, "id": _ref("iri"), "definition": _ref("definition")}},
        "activities": {"oneOf": [_ref("activity"), {"type": "array", "items": _ref("activity")}]},
        "statementref": {"type": "object", "required": ["objectType", "id"], "additionalProperties": False,
                         "properties": {"objectType": {"const": "StatementRef"}, "id": _ref("uuid")}},
        "score": {"type": "object", "additionalProperties": False, "properties": {
            "scaled": {"type": "number", "minimum": -1, "maximum": 1}, "raw": {"type": "number"},
            "min": {"type": "number"}, "max": {"type": "number"}}},
        "result": {"type": "object", "additionalProperties": False, "properties": {
            "score": _ref("score"), "success": {"type": "boolean"}, "completion": {"type": "boolean"},
            "response": {"type": "string"}, "duration": {"type": "string", "format": "xapi-duration"},
            "extensions": _ref("extensions")}},
        "context": {"type": "object", "additionalProperties": False, "properties": {
            "registration": _ref("uuid"), "instructor": _ref("actor"), "team": _ref("group"),
            "contextActivities": {"type": "object", "additionalProperties": False,
                                  "properties": {k: _ref("activities") for k in ("parent", "grouping", "category", "other")}},
            "revision": {"type": "string"}, "platform": {"type": "string"},
            "language": {"type": "string", "format": "xapi-lang"}, "statement": _ref("statementref"),
            "extensions": _ref("extensions")}},
        "attachment": {"type": "object", "required": ["usageType", "display", "contentType", "length", "sha2"],
                       "additionalProperties": False, "properties": {
                           "usageType": _ref("iri"), "display": _ref("langmap"), "description": _ref("langmap"),
                           "contentType": {"type": "string"}, "length": {"type": "integer", "minimum": 0},
                           "sha2": {"type": "string", "pattern": "^[0-9a-fA-F]{56,128}$"}, "fileUrl": _ref("iri")}},
        "object": _object_by_type({"Activity": "activity", "Agent": "agent", "Group": "group",
                                   "StatementRef": "statementref", "SubStatement": "substatement"}),
        "subobject": _object_by_type({"Activity": "activity", "Agent": "agent", "Group": "group",
                                      "StatementRef": "statementref"}),
        "substatement": {"type": "object", "required": ["objectType", "actor", "verb", "object"],
                         "additionalProperties": False,
                         "properties": {"objectType": {"const": "SubStatement"}, "object": _ref("subobject"),
                                        **_STATEMENT_PARTS}},
    },
    "type": "object",
    "required": ["actor", "verb", "object"],
    "additionalProperties": False,
    "properties": {"id": _ref("uuid"), "object": _ref("object"), "stored": _ref("timestamp"),
                   "authority": _ref("authority"), "version": {"type": "string", "pattern": r"^1\.0(\.\d+)?$"},
                   **_STATEMENT_PARTS},
}

_VALIDATOR = jsonschema_rs.validator_for(SCHEMA, validate_formats=True, formats={
    "xapi-iri": _is_iri, "xapi-lang": _is_lang, "xapi-timestamp": _is_timestamp, "xapi-duration": _is_duration})

_ALLOWED_COMPONENTS = {"choice": {"choices"}, "sequencing": {"choices"}, "likert": {"scale"},
                       "matching": {"source", "target"}, "performance": {"steps"}}


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "statement"


def _deepest(errors: list[Any]) -> Any:
    """The most specific of the schema's complaints (the one deepest in the statement)."""
    return max(errors, key=lambda e: len(list(e.instance_path)))


def _check_rules(statement: dict[str, Any], index: int, sub: bool = False) -> None:
    """What the schema does not say (the structure is valid already)."""
    where = "object." if sub else ""
    obj = statement["object"]
    kind = obj.get("objectType", "Activity")
    if statement["verb"]["id"] == VOIDED and kind != "StatementRef":
        raise StatementError(index, f"{where}object", "a voiding statement's object must be a StatementRef")
    context = statement.get("context") or {}
    for name in ("revision", "platform"):
        if name in context and kind != "Activity":
            raise StatementError(index, f"{where}context.{name}", f"only allowed when the object is an Activity, not a {kind}")
    score = (statement.get("result") or {}).get("score") or {}
    low, high, raw = score.get("min"), score.get("max"), score.get("raw")
    if low is not None and high is not None and low > high:
        raise StatementError(index, f"{where}result.score", "min is greater than max")
    if raw is not None and ((low is not None and raw < low) or (high is not None and raw > high)):
        raise StatementError(index, f"{where}result.score.raw", "outside min and max")
    activities = [obj] if kind == "Activity" else []
    for value in (context.get("contextActivities") or {}).values():
        activities += value if isinstance(value, list) else [value]
    for activity in activities:
        definition = activity.get("definition") or {}
        present = {name for name in _COMPONENTS if name in definition}
        interaction = definition.get("interactionType")
        if (present or "correctResponsesPattern" in definition) and interaction is None:
            raise StatementError(index, f"{where}object.definition.interactionType",
                                 "needed with correctResponsesPattern or interaction components")
        wrong = present - _ALLOWED_COMPONENTS.get(interaction or "", set())
        if wrong:
            raise StatementError(index, f"{where}object.definition.{sorted(wrong)[0]}",
                                 f"not a component of a {interaction} interaction")
        for name in present:
            ids = [c["id"] for c in definition[name]]
            if len(set(ids)) != len(ids):
                raise StatementError(index, f"{where}object.definition.{name}", "component ids repeat")
    if kind == "SubStatement":
        _check_rules(obj, index, sub=True)


def validate_statement(statement: Any, index: int) -> None:
    """Raise StatementError naming the field when `statement` is not a valid xAPI 1.0.3 statement."""
    if not isinstance(statement, dict):
        raise StatementError(index, "", "a statement is a JSON object")
    try:
        errors = list(_VALIDATOR.iter_errors(statement))
    except UnicodeEncodeError:
        raise StatementError(index, "", "a text holds a lone surrogate (\\ud800-\\udfff): not Unicode") from None
    if errors:
        error = _deepest(errors)
        raise StatementError(index, _path(error.instance_path), " ".join(error.message.split())[:300])
    _check_rules(statement, index)


def check_batch(statements: Sequence[Any]) -> None:
    """The whole batch valid, or StatementError for the first invalid statement."""
    seen: set[str] = set()
    for index, statement in enumerate(statements):
        validate_statement(statement, index)
        sid = statement.get("id")
        if sid is not None:
            if sid.lower() in seen:
                raise StatementError(index, "id", f"{sid} appears twice in the batch")
            seen.add(sid.lower())


# --- storing ----------------------------------------------------------------------------------

def _activities_as_lists(statement: dict[str, Any]) -> None:
    """1.0.3: an LRS returns every contextActivities value as an array."""
    for part in (statement, statement.get("object") if isinstance(statement.get("object"), dict) else None):
        activities = ((part or {}).get("context") or {}).get("contextActivities")
        if isinstance(activities, dict):
            for key, value in activities.items():
                if isinstance(value, dict):
                    activities[key] = [value]


def _canonical(value: Any) -> Any:
    """The statement's meaning for comparison: group members in any order are the same group."""
    if isinstance(value, dict):
        out = {k: _canonical(v) for k, v in value.items()}
        if out.get("objectType") == "Group" and isinstance(out.get("member"), list):
            out["member"] = sorted(out["member"], key=lambda m: json.dumps(m, sort_keys=True))
        return out
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def content_hash(statement: dict[str, Any]) -> str:
    meaning = {k: v for k, v in statement.items() if k not in ("stored", "authority", "version", "id")}
    text = json.dumps(_canonical(meaning), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def authority_of(organisation_name: str, key_id: str, home_page: str) -> dict[str, Any]:
    """The Agent for the credentials that stored a statement (1.0.3 Data 2.4.9)."""
    return {"objectType": "Agent", "name": organisation_name, "account": {"homePage": home_page, "name": key_id}}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Prepared:
    statement_id: str
    body: dict[str, Any]
    content_sha256: str
    voids: str | None


@dataclass
class Outcome:
    ids: list[str]
    new: int = 0
    learners: set[str] = field(default_factory=set)
    job: Job | None = None


def prepare(statements: Sequence[dict[str, Any]], authority: dict[str, Any], now: datetime | None = None) -> list[Prepared]:
    """Ids given (lower case) or made, `stored`, `authority`, `version` set, context activities as
    arrays, `timestamp` = `stored` where the sender gave none."""
    stored = _iso(now or utcnow())
    out = []
    for statement in statements:
        body = json.loads(json.dumps(statement))  # a copy the caller's dict does not share
        body["id"] = (body.get("id") or str(uuid.uuid4())).lower()
        _activities_as_lists(body)
        digest = content_hash(body)
        body.setdefault("timestamp", stored)
        body["stored"], body["authority"] = stored, authority
        body.setdefault("version", "1.0.0")
        voids = body["object"]["id"].lower() if body["verb"]["id"] == VOIDED else None
        out.append(Prepared(body["id"], body, digest, voids))
    return out


def _existing(db: Session, organisation_id: str, ids: Iterable[str]) -> dict[str, XapiStatement]:
    wanted = sorted(set(ids))
    found: dict[str, XapiStatement] = {}
    for start in range(0, len(wanted), 500):
        rows = db.exec(select(XapiStatement).where(XapiStatement.organisation_id == organisation_id,
                                                    XapiStatement.statement_id.in_(wanted[start:start + 500]))).all()  # type: ignore[attr-defined]
        found.update({r.statement_id: r for r in rows})
    return found


# The two places where statements meet the learning-event store: one function each, so the
# store layer can take them over with a one-line change.

def store_learning_events(db: Session, organisation_id: str, events: list[Any], judge_delay_s: float) -> Job | None:
    """Statements that stand for learning events, stored as events (idempotent by id)."""
    return store_events(db, organisation_id, events, judge_delay_s)[1]


def forget_learning_events(db: Session, organisation_id: str, statement_ids: Sequence[str]) -> Job | None:
    """Voided statements stop counting: their events go and their learners are judged again."""
    rows = db.exec(select(Event).where(Event.organisation_id == organisation_id,
                                       Event.event_id.in_(list(statement_ids)))).all()  # type: ignore[attr-defined]
    if not rows:
        return None
    subjects = subjects_of_ids(db, [r.learner_id for r in rows if r.learner_id])
    db.exec(delete(Event).where(Event.organisation_id == organisation_id,  # type: ignore[call-overload]
                                Event.event_id.in_([r.event_id for r in rows])))  # type: ignore[attr-defined]
    return mark_dirty(db, subjects)


def save(db: Session, organisation_id: str, key_id: str, prepared: list[Prepared], events: list[Any],
         judge_delay_s: float, attachments: dict[str, tuple[str, bytes]] | None = None) -> Outcome:
    """Store a validated batch in the caller's transaction (the caller commits). Raises Conflict
    (409) for an id stored before with other content and StatementError for voiding a voiding
    statement; nothing of the batch is written then (the caller rolls back)."""
    outcome = Outcome(ids=[p.statement_id for p in prepared])
    targets = {p.voids for p in prepared if p.voids}
    known = _existing(db, organisation_id, [p.statement_id for p in prepared] + list(targets))
    batch = {p.statement_id: p for p in prepared}
    fresh: list[Prepared] = []
    for index, p in enumerate(prepared):
        row = known.get(p.statement_id)
        if row is not None:
            if row.content_sha256 != p.content_sha256:
                raise Conflict(p.statement_id)
            continue
        if p.voids:
            target = known.get(p.voids)
            target_voids = target.voids if target is not None else (batch[p.voids].voids if p.voids in batch else None)
            if target_voids:
                raise StatementError(index, "object.id", f"statement {p.voids} is itself a voiding statement: "
                                                         "a voiding statement cannot be voided")
        fresh.append(p)
    if not fresh:
        return outcome
    # Statements voided by a voiding statement stored earlier (the target arrived after it).
    voided_before = set(db.exec(select(XapiStatement.voids).where(
        XapiStatement.organisation_id == organisation_id,
        XapiStatement.voids.in_([p.statement_id for p in fresh]))).all())  # type: ignore[union-attr]
    voided_now = {p.voids for p in fresh if p.voids}
    learner_of = {e.id: e.learner for e in events}
    fresh_ids = {p.statement_id for p in fresh}
    counted = [e for e in events if e.id in fresh_ids and e.id not in voided_before | voided_now]
    db.add_all([XapiStatement(organisation_id=organisation_id, statement_id=p.statement_id, verb_id=p.body["verb"]["id"],
                              body=json.dumps(p.body, ensure_ascii=False, separators=(",", ":")),
                              content_sha256=p.content_sha256, stored=parse_timestamp(p.body["stored"]) or utcnow(),
                              key_id=key_id, voids=p.voids, voided=p.statement_id in voided_before | voided_now,
                              learner=learner_of.get(p.statement_id)) for p in fresh])
    for sha2, (content_type, content) in (attachments or {}).items():
        if db.exec(select(XapiAttachment.id).where(XapiAttachment.organisation_id == organisation_id,
                                                   XapiAttachment.sha2 == sha2)).first() is None:
            db.add(XapiAttachment(organisation_id=organisation_id, sha2=sha2, content_type=content_type, content=content))
    db.flush()
    outcome.new = len(fresh)
    job = store_learning_events(db, organisation_id, counted, judge_delay_s) if counted else None
    # Voiding statements whose targets are stored: the targets stop counting.
    newly_voided = [t for t in voided_now if t in known and not known[t].voided]
    if newly_voided:
        rows = [known[t] for t in newly_voided]
        for row in rows:
            row.voided = True
            db.add(row)
        again = forget_learning_events(db, organisation_id, [r.statement_id for r in rows])
        job = job or again
    outcome.job = job
    return outcome


def find(db: Session, organisation_id: str, statement_id: str) -> XapiStatement | None:
    return db.exec(select(XapiStatement).where(XapiStatement.organisation_id == organisation_id,
                                               XapiStatement.statement_id == statement_id.lower())).first()


def attachments_of(db: Session, organisation_id: str, sha2s: Iterable[str]) -> list[XapiAttachment]:
    wanted = sorted(set(sha2s))
    if not wanted:
        return []
    return list(db.exec(select(XapiAttachment).where(XapiAttachment.organisation_id == organisation_id,
                                                     XapiAttachment.sha2.in_(wanted))).all())  # type: ignore[attr-defined]


def ids_format(statement: dict[str, Any]) -> dict[str, Any]:
    """`format=ids`: agents and groups by their identifier only, activities and verbs by id."""

    def actor(a: dict[str, Any]) -> dict[str, Any]:
        out = {k: a[k] for k in ("objectType", *_IFIS) if k in a}
        if a.get("objectType") == "Group" and not any(k in a for k in _IFIS):
            out["member"] = [actor(m) for m in a.get("member", [])]
        return out

    def obj(o: dict[str, Any]) -> dict[str, Any]:
        kind = o.get("objectType", "Activity")
        if kind in ("Agent", "Group"):
            return actor(o)
        if kind == "Activity":
            return {"id": o["id"]}
        if kind == "SubStatement":
            return {**o, "actor": actor(o["actor"]), "verb": {"id": o["verb"]["id"]}, "object": obj(o["object"])}
        return o

    out = dict(statement)
    out["actor"], out["verb"], out["object"] = actor(statement["actor"]), {"id": statement["verb"]["id"]}, obj(statement["object"])
    return out


_LANGUAGE_MAPS = ("display", "name", "description")


def canonical_format(statement: Any, languages: Sequence[str]) -> Any:
    """`format=canonical`: every language map reduced to the one language the reader prefers
    (Accept-Language order; then the same primary language; else the map's first)."""
    if isinstance(statement, list):
        return [canonical_format(v, languages) for v in statement]
    if not isinstance(statement, dict):
        return statement
    out = {}
    for key, value in statement.items():
        if key in _LANGUAGE_MAPS and isinstance(value, dict) and value:
            out[key] = {(tag := _best_language(list(value), languages)): value[tag]}
        else:
            out[key] = canonical_format(value, languages)
    return out


def _best_language(tags: list[str], languages: Sequence[str]) -> str:
    lower = {t.lower(): t for t in tags}
    for wanted in languages:
        if wanted.lower() in lower:
            return lower[wanted.lower()]
    for wanted in languages:
        primary = wanted.lower().split("-")[0]
        for tag in tags:
            if tag.lower().split("-")[0] == primary:
                return tag
    return tags[0]


def accept_languages(header: str | None) -> list[str]:
    """Accept-Language as tags in order of preference."""
    weighted = []
    for n, item in enumerate((header or "").split(",")):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and tag != "*" and q > 0:
            weighted.append((-q, n, tag))
    return [tag for _, _, tag in sorted(weighted)]


_JWS_ALGORITHMS = ("RS256", "RS384", "RS512")


def check_signature(statement: dict[str, Any], index: int, jws: bytes) -> None:
    """A signature attachment (1.0.3 Data 2.6): a JWS in compact serialization, RS256/384/512,
    whose payload is this statement (actor, verb and object the same). The signature itself is
    not verified: the statement does not say whose key to trust."""
    import base64

    def part(text: str) -> Any:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))

    try:
        header, payload, _signature = jws.decode("ascii").strip().split(".")
        header_data, signed = part(header), part(payload)
    except (ValueError, UnicodeDecodeError):
        raise StatementError(index, "attachments", "the signature is not a JWS (RFC 7515, compact serialization) "
                                                   "whose header and payload are JSON") from None
    if not isinstance(header_data, dict) or header_data.get("alg") not in _JWS_ALGORITHMS:
        raise StatementError(index, "attachments", f"the signature's algorithm must be one of {', '.join(_JWS_ALGORITHMS)}")
    if not isinstance(signed, dict) or any(signed.get(k) != statement.get(k) for k in ("actor", "verb", "object")):
        raise StatementError(index, "attachments", "the signature's payload is not this statement")
