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

Validation is monitor.online.xapi_schema's (a JSON Schema of 1.0.3 statements run by jsonschema-rs
plus the rules a schema cannot say), shared with `monitor online`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, NamedTuple, Sequence

import msgspec
from sqlalchemy import and_, delete, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from api.core.problems import not_found
from api.store.events import mark_dirty, sqlite_time, store_events, subjects_of_ids
from monitor.online.xapi_schema import (SIGNATURE, VERSION, VOIDED, StatementError, check_batch,  # noqa: F401 (the API's)
                                        parse_timestamp, validate_statement)
from models.statements import XapiAttachment, XapiOrigin, XapiStatement
from models.tables import Event, Job, Organisation
from models.types import utcnow

_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")


class Conflict(Exception):
    """A statement id stored before with other content: 409."""

    def __init__(self, statement_id: str) -> None:
        super().__init__(f"statement {statement_id} is stored already with other content")
        self.statement_id = statement_id


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


def encode_json(value: Any, order: Any = None) -> bytes:
    """JSON bytes by msgspec (fast); integers beyond 64 bits, which it refuses, by the json module."""
    try:
        return msgspec.json.encode(value, order=order)
    except (OverflowError, TypeError, msgspec.EncodeError):
        return json.dumps(value, sort_keys=order == "sorted", ensure_ascii=False, separators=(",", ":")).encode()


_SET_BY_THE_LRS = ("stored", "authority", "version", "id")


def _meaning(statement: dict[str, Any]) -> tuple[bytes, str]:
    """The statement without what the LRS sets, as sorted JSON, and the SHA-256 of its meaning."""
    text = encode_json({k: v for k, v in statement.items() if k not in _SET_BY_THE_LRS}, "sorted")
    if b'"member"' in text:  # a group's members in any order are the same group
        return text, hashlib.sha256(encode_json(_canonical(json.loads(text)), "sorted")).hexdigest()
    return text, hashlib.sha256(text).hexdigest()


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
    text: str  # `body` as stored (JSON)


@dataclass
class Outcome:
    ids: list[str]
    new: int = 0
    learners: set[str] = field(default_factory=set)
    job: Job | None = None


def prepare(statements: Sequence[dict[str, Any]], authority: dict[str, Any], now: datetime | None = None) -> list[Prepared]:
    """Ids given (lower case) or made, `stored`, `authority`, `version` set, context activities as
    arrays, `timestamp` = `stored` where the sender gave none. The statements are taken over (their
    context activities are changed in place), not copied."""
    stored = _iso(now or utcnow())
    # What the LRS adds, encoded once for the batch: each statement's stored JSON is its id, these
    # and its meaning's JSON (already made for the content hash), so no statement is encoded twice.
    added = encode_json({"stored": stored, "authority": authority})[1:-1]
    out = []
    for statement in statements:
        body = dict(statement)  # the statements are the batch's own: prepare takes them over
        body["id"] = (body.get("id") or str(uuid.uuid4())).lower()
        _activities_as_lists(body)
        meaning, digest = _meaning(body)
        extra = {"id": body["id"], "version": body.setdefault("version", "1.0.0")}
        if "timestamp" not in body:
            extra["timestamp"] = body["timestamp"] = stored
        body["stored"], body["authority"] = stored, authority
        voids = body["object"]["id"].lower() if body["verb"]["id"] == VOIDED else None
        text = b"".join((encode_json(extra)[:-1], b",", added, b"," if meaning != b"{}" else b"", meaning[1:]))
        out.append(Prepared(body["id"], body, digest, voids, text.decode()))
    return out


class _Known(NamedTuple):
    content_sha256: str
    voids: str | None
    voided: bool


def _existing(db: Session, organisation_id: str, ids: Iterable[str]) -> dict[str, _Known]:
    """What a batch needs of its ids stored before: three columns by the driver (whole ORM rows
    for a batch's thousand ids, nearly always none of them stored, cost a twentieth of it)."""
    wanted = sorted(set(ids))
    found: dict[str, _Known] = {}
    connection = db.connection()
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    for start in range(0, len(wanted), 500):
        part = wanted[start:start + 500]
        rows = connection.exec_driver_sql(
            "SELECT statement_id, content_sha256, voids, voided FROM xapi_statement "
            f"WHERE organisation_id = {marker} AND statement_id IN ({', '.join([marker] * len(part))})",
            (organisation_id, *part)).fetchall()
        found.update({r[0]: _Known(r[1], r[2], bool(r[3])) for r in rows})
    return found


def _voided_earlier(db: Session, organisation_id: str, ids: list[str]) -> set[str]:
    """Which of these ids a voiding statement stored earlier voids (the target arriving after it).
    Most platforms never void: one probe of the voids index says so and the batch's thousand ids
    are not looked up."""
    connection = db.connection()
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    if connection.exec_driver_sql(f"SELECT 1 FROM xapi_statement WHERE organisation_id = {marker} "
                                  "AND voids IS NOT NULL LIMIT 1", (organisation_id,)).first() is None:
        return set()
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        found.update(r[0] for r in connection.exec_driver_sql(
            f"SELECT voids FROM xapi_statement WHERE organisation_id = {marker} "
            f"AND voids IN ({', '.join([marker] * len(part))})", (organisation_id, *part)))
    return found


def _driver_time(db: Session, instant: datetime) -> Any:
    """An instant as the driver takes it for a UTCDateTime column (SQLite: SQLAlchemy's text)."""
    return sqlite_time(instant) if db.get_bind().dialect.name == "sqlite" else instant


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


_STATEMENT_COLUMNS = ("organisation_id", "statement_id", "verb_id", "body", "content_sha256", "stored", "key_id",
                      "voided", "voids", "learner")


def _insert_statements(db: Session, rows: list[tuple[Any, ...]]) -> None:
    """One executemany straight to the driver, rows in _STATEMENT_COLUMNS' order (`stored` as
    the driver takes it: `_driver_time`): SQLAlchemy's per-row parameter processing (even Core's,
    without the ORM) cost about a fifth of a statement batch, more than the database's own work."""
    connection = db.connection()
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO xapi_statement ({', '.join(_STATEMENT_COLUMNS)}) "
           f"VALUES ({', '.join([marker] * len(_STATEMENT_COLUMNS))})")
    connection.exec_driver_sql(sql, rows)  # (driver errors come wrapped: a racing insert is an IntegrityError)


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
    voided_before = _voided_earlier(db, organisation_id, [p.statement_id for p in fresh])
    voided_now = {p.voids for p in fresh if p.voids}
    learner_of = {e.id: e.learner for e in events}
    fresh_ids = {p.statement_id for p in fresh}
    counted = [e for e in events if e.id in fresh_ids and e.id not in voided_before | voided_now]
    stored = parse_timestamp(fresh[0].body["stored"]) or utcnow()  # one instant for the batch
    voided = voided_before | voided_now
    at = _driver_time(db, stored)
    _insert_statements(db, [(organisation_id, p.statement_id, p.body["verb"]["id"], p.text,
                             p.content_sha256, at, key_id, p.statement_id in voided, p.voids,
                             learner_of.get(p.statement_id)) for p in fresh])
    for sha2, (content_type, content) in (attachments or {}).items():
        if db.exec(select(XapiAttachment.id).where(XapiAttachment.organisation_id == organisation_id,
                                                   XapiAttachment.sha2 == sha2)).first() is None:
            db.add(XapiAttachment(organisation_id=organisation_id, sha2=sha2, content_type=content_type, content=content))
    db.flush()
    outcome.new = len(fresh)
    job = store_learning_events(db, organisation_id, counted, judge_delay_s) if counted else None
    # Voiding statements whose targets are stored: the targets stop counting.
    newly_voided = sorted(t for t in voided_now if t in known and not known[t].voided)
    if newly_voided:
        db.exec(update(XapiStatement).where(XapiStatement.organisation_id == organisation_id,  # type: ignore[call-overload]
                                            XapiStatement.statement_id.in_(newly_voided)).values(voided=True))  # type: ignore[attr-defined]
        again = forget_learning_events(db, organisation_id, newly_voided)
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


# --- statement queries ------------------------------------------------------------------------

def _ifi(agent: Any) -> tuple[str, str] | None:
    """An Agent's or identified Group's identifier as (kind, value), or None."""
    if not isinstance(agent, dict):
        return None
    for name in ("mbox", "mbox_sha1sum", "openid"):
        if isinstance(agent.get(name), str):
            return name, agent[name]
    account = agent.get("account")
    if isinstance(account, dict) and isinstance(account.get("name"), str):
        return "account", f"{account.get('homePage')} {account['name']}"
    return None


@dataclass(frozen=True)
class StatementFilter:
    """The `agent`, `activity` and `registration` filters of GET /statements (1.0.3 Part Three 2.1.3)."""

    agent: tuple[str, str] | None = None
    activity: str | None = None
    registration: str | None = None
    related_agents: bool = False
    related_activities: bool = False

    @classmethod
    def from_params(cls, params: Any) -> "StatementFilter":
        agent = None
        if "agent" in params:
            try:
                given = json.loads(params["agent"])
            except ValueError:
                raise StatementError(None, "agent", "a JSON Agent or identified Group") from None
            agent = _ifi(given)
            if agent is None:
                raise StatementError(None, "agent", "an Agent or identified Group with one identifier")
        activity = params.get("activity")
        if activity is not None and not _IRI_START.match(activity):
            raise StatementError(None, "activity", "an activity id (an IRI)")
        registration = params.get("registration")
        if registration is not None and not _UUID_TEXT.match(registration):
            raise StatementError(None, "registration", "a UUID")
        flags = {}
        for name in ("related_agents", "related_activities"):
            value = params.get(name, "false").lower()
            if value not in ("true", "false"):
                raise StatementError(None, name, "true or false")
            flags[name] = value == "true"
        return cls(agent, activity, registration.lower() if registration else None, **flags)

    def needles(self) -> list[str]:
        """Texts a matching statement's stored JSON holds (a LIKE narrows the rows down)."""
        out = []
        if self.agent is not None:
            out.append(self.agent[1].rsplit(" ", 1)[-1] if self.agent[0] == "account" else self.agent[1])
        if self.activity is not None:
            out.append(self.activity)
        return [json.dumps(n, ensure_ascii=False)[1:-1] for n in out]

    def matches(self, statement: dict[str, Any]) -> bool:
        if self.agent is not None and self.agent not in self._agents(statement):
            return False
        if self.activity is not None and self.activity not in self._activities(statement):
            return False
        if self.registration is not None:
            registration = ((statement.get("context") or {}).get("registration") or "").lower()
            if registration != self.registration:
                return False
        return True

    def _agents(self, statement: dict[str, Any]) -> set[tuple[str, str]]:
        parts = [statement.get("actor"), statement.get("object")]
        if self.related_agents:
            context = statement.get("context") or {}
            parts += [statement.get("authority"), context.get("instructor"), context.get("team")]
            sub = statement.get("object") or {}
            if sub.get("objectType") == "SubStatement":
                sub_context = sub.get("context") or {}
                parts += [sub.get("actor"), sub.get("object"), sub_context.get("instructor"), sub_context.get("team")]
            parts += [m for p in list(parts) if isinstance(p, dict) for m in (p.get("member") or [])]
        return {i for i in map(_ifi, parts) if i is not None}

    def _activities(self, statement: dict[str, Any]) -> set[str]:
        def of(part: dict[str, Any]) -> list[Any]:
            obj = part.get("object") or {}
            found = [obj.get("id")] if obj.get("objectType", "Activity") == "Activity" else []
            if self.related_activities:
                for value in ((part.get("context") or {}).get("contextActivities") or {}).values():
                    found += [a.get("id") for a in (value if isinstance(value, list) else [value]) if isinstance(a, dict)]
            return found

        ids = of(statement)
        sub = statement.get("object") or {}
        if self.related_activities and sub.get("objectType") == "SubStatement":
            ids += of(sub)
        return {i for i in ids if isinstance(i, str)}


_IRI_START = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
_UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


# --- Reading a platform's statements (GET /xapi/statements) ---------------------------------

SCAN_MAX = 20_000  # rows looked at for one page of a filtered query; then `more` goes on from there
_BATCH = 500


def statement_page(db: Session, organisation_id: str, matcher: "StatementFilter", verb: str | None,
                   since: datetime | None, until: datetime | None, ascending: bool, cursor: int | None,
                   limit: int) -> tuple[list[dict[str, Any]], int | None]:
    """The platform's statements (not voided) matching the query, newest first unless
    `ascending`, and the cursor of the next page (None when there is none).

    `since`, `until`, `verb` and the order are SQL; `agent`, `activity` and `registration` (and
    `related_agents` / `related_activities`, which widen them) are matched exactly in Python on rows
    a LIKE on the statement's text has narrowed down to, a batch at a time."""
    query = select(XapiStatement).where(XapiStatement.organisation_id == organisation_id, XapiStatement.voided == False)  # noqa: E712
    if since is not None:
        query = query.where(XapiStatement.stored > since)  # type: ignore[operator]
    if until is not None:
        query = query.where(XapiStatement.stored <= until)  # type: ignore[operator]
    # What a statement must match itself; a voiding statement is also returned when its target
    # matches (1.0.3 Part Three 2.1.4: the voided statement is not, what targets it still is).
    conditions = [XapiStatement.verb_id == verb] if verb else []
    conditions += [XapiStatement.body.contains(n, autoescape=True) for n in matcher.needles()]  # type: ignore[attr-defined]
    if conditions:
        target = aliased(XapiStatement)
        target_conditions = ([target.verb_id == verb] if verb else []) + [
            target.body.contains(n, autoescape=True) for n in matcher.needles()]  # type: ignore[attr-defined]
        targets = select(target.statement_id).where(target.organisation_id == organisation_id, *target_conditions)
        query = query.where(or_(and_(*conditions), XapiStatement.voids.in_(targets)))  # type: ignore[union-attr]

    def matches(row: XapiStatement, statement: dict[str, Any]) -> bool:
        if (verb is None or statement["verb"]["id"] == verb) and matcher.matches(statement):
            return True
        if not (conditions and row.voids):
            return False
        voided = find(db, organisation_id, row.voids)
        body = json.loads(voided.body) if voided is not None else None
        return body is not None and (verb is None or body["verb"]["id"] == verb) and matcher.matches(body)
    if cursor is not None:
        query = query.where(XapiStatement.id > cursor if ascending else XapiStatement.id < cursor)  # type: ignore[operator]
    query = query.order_by(XapiStatement.id.asc() if ascending else XapiStatement.id.desc())  # type: ignore[union-attr]
    found: list[dict[str, Any]] = []
    last_id, scanned = None, 0
    while len(found) <= limit and scanned < SCAN_MAX:
        after = query
        if last_id is not None:
            after = query.where(XapiStatement.id > last_id if ascending else XapiStatement.id < last_id)  # type: ignore[operator]
        rows = db.exec(after.limit(_BATCH)).all()
        if not rows:
            return found, None
        for row in rows:
            scanned += 1
            statement = json.loads(row.body)
            if matches(row, statement):
                if len(found) == limit:  # one more than the page: there is a next page
                    return found, last_id
                found.append(statement)
            last_id = row.id
    return found, last_id


# --- Browser origins allowed to call a platform's /xapi/ (registered by an admin) ------------

def origin_allowed(db: Session, origin: str, organisation_id: str | None) -> bool:
    """An Origin registered by an admin (for this platform, when the caller is known)."""
    query = select(XapiOrigin.id).where(XapiOrigin.origin == origin)
    if organisation_id:
        query = query.where(XapiOrigin.organisation_id == organisation_id)
    return db.exec(query.limit(1)).first() is not None


def _platform(db: Session, organisation_id: str) -> Organisation:
    organisation = db.get(Organisation, organisation_id)
    if organisation is None or organisation.kind != "platform":
        raise not_found(f"platform {organisation_id}")
    return organisation


def origins_of(db: Session, organisation_id: str) -> list[str]:
    _platform(db, organisation_id)
    return list(db.exec(select(XapiOrigin.origin).where(XapiOrigin.organisation_id == organisation_id)
                        .order_by(XapiOrigin.origin)).all())  # type: ignore[arg-type]


def add_origin(db: Session, organisation_id: str, origin: str) -> bool:
    """Whether it is new (adding it again changes nothing)."""
    _platform(db, organisation_id)
    if db.exec(select(XapiOrigin.id).where(XapiOrigin.organisation_id == organisation_id,
                                           XapiOrigin.origin == origin)).first() is not None:
        return False
    db.add(XapiOrigin(organisation_id=organisation_id, origin=origin))
    return True


def remove_origin(db: Session, organisation_id: str, origin: str) -> None:
    _platform(db, organisation_id)
    row = db.exec(select(XapiOrigin).where(XapiOrigin.organisation_id == organisation_id,
                                           XapiOrigin.origin == origin)).first()
    if row is None:
        raise not_found(f"origin {origin}")
    db.delete(row)
