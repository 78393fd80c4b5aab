"""Validation of xAPI 1.0.3 statements, for the service (a batch valid as a whole or refused as a
whole: 400 naming the statement and the field) and for `monitor online` (an invalid statement is
reported and the others judged).

A JSON Schema of 1.0.3 statements (Part Two, 2.x and 4.0) run by jsonschema-rs (compiled once, in
Rust: a statement checks in microseconds) plus the few rules a schema cannot say (score bounds,
interaction components by type, revision/platform only with an activity, voiding needs a
StatementRef). tests/monitor/online/test_xapi_schema.py holds it to every declarative test of
ADL's LRS conformance suite (the statements an LRS must take and the ones it must refuse).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Iterable, Sequence

import jsonschema_rs

from monitor.online.jsonsafe import find_poison

VERSION = "1.0.3"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"


class StatementError(ValueError):
    """A statement that is not valid xAPI 1.0.3 (or that the service cannot take): 400."""

    def __init__(self, index: int | None, field: str, message: str) -> None:
        self.index, self.field, self.message = index, field, message
        where = f"statement {index}: " if index is not None else ""
        super().__init__(f"{where}{field}: {message}" if field else f"{where}{message}")


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


def is_iri(value: str) -> bool:
    """An IRI as xAPI takes it: a scheme, then no space or character IRIs exclude (for query parameters too)."""
    return bool(_IRI.match(value))


def is_language_tag(value: str) -> bool:
    """An RFC 5646 language tag (its form; subtags are not looked up in the IANA registry)."""
    return bool(_LANGTAG.match(value))


@lru_cache(maxsize=8192)
def parse_timestamp(value: str) -> datetime | None:
    """An ISO 8601 date and time as xAPI takes it, as an aware datetime (no offset: UTC), or None.
    Remembered for the last few thousand texts: a batch's statements are read twice (validated,
    then made events), and a datetime is immutable."""
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
_COMPONENT_SET = frozenset(_COMPONENTS)
_STATEMENT_PARTS: dict[str, Any] = {
    "actor": _ref("actor"), "verb": _ref("verb"), "result": _ref("result"), "context": _ref("context"),
    "timestamp": _ref("timestamp"), "attachments": {"type": "array", "items": _ref("attachment")}}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {
        # IRIs and language tags as patterns, matched in Rust: as formats they would call back into
        # Python for every string (a third of the time of a statement's check).
        "iri": {"type": "string", "pattern": _IRI.pattern},
        "uuid": {"type": "string", "pattern": _UUID},
        "timestamp": {"type": "string", "format": "xapi-timestamp"},
        "langmap": {"type": "object", "propertyNames": {"pattern": _LANGTAG.pattern}, "additionalProperties": {"type": "string"}},
        "extensions": {"type": "object", "propertyNames": {"pattern": _IRI.pattern}},
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
            "language": {"type": "string", "pattern": _LANGTAG.pattern}, "statement": _ref("statementref"),
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
    "xapi-timestamp": _is_timestamp, "xapi-duration": _is_duration})

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
        definition = activity.get("definition")
        if not definition or ("interactionType" not in definition and "correctResponsesPattern" not in definition
                              and _COMPONENT_SET.isdisjoint(definition)):
            continue  # (nearly every activity: no interaction to check)
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


def validate_statement(statement: Any, index: int, clean: bool = False) -> None:
    """Raise StatementError naming the field when `statement` is not a valid xAPI 1.0.3 statement.
    `clean`: decoded by msgspec, which refuses NaN, 1e400 and lone surrogates, so they are not
    looked for (json.loads lets them through: jsonsafe names them)."""
    if not isinstance(statement, dict):
        raise StatementError(index, "", "a statement is a JSON object")
    if not clean:
        poisoned = find_poison(statement)
        if poisoned is not None:
            raise StatementError(index, *poisoned)
    if not _VALIDATOR.is_valid(statement):  # (collecting every error costs more: only for the invalid)
        error = _deepest(list(_VALIDATOR.iter_errors(statement)))
        raise StatementError(index, _path(error.instance_path), " ".join(error.message.split())[:300])
    _check_rules(statement, index)


def check_batch(statements: Sequence[Any], clean: bool = False) -> None:
    """The whole batch valid, or StatementError for the first invalid statement (a statement's
    index counts from 0, as in the JSON array). `clean` as for validate_statement."""
    seen: set[str] = set()
    for index, statement in enumerate(statements):
        validate_statement(statement, index, clean)
        sid = statement.get("id")
        if sid is not None:
            if sid.lower() in seen:
                raise StatementError(index, "id", f"{sid} appears twice in the batch")
            seen.add(sid.lower())


def statement_problems(statements: Sequence[Any], first: int = 0, clean: bool = False) -> list[StatementError]:
    """Every invalid statement of a file, each with its index (counted from `first`) and field:
    `monitor online` reports them and judges the others, as an LRS export is what it is."""
    problems = []
    for index, statement in enumerate(statements, start=first):
        try:
            validate_statement(statement, index, clean)
        except StatementError as exc:
            problems.append(exc)
    return problems
