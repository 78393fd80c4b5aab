"""The xAPI 1.0.3 Statement API at /xapi/ (issue #15): what an existing learning record store
client (a video.js player's xAPI plug-in, TinCanJS, @xapi/xapi, ADL's conformance suite) sends,
taken unmodified.

- auth: HTTP Basic (user `tm_<id>`, password the secret after it) or Bearer, a platform's key;
- `POST /xapi/statements`: one statement or an array (JSON, or multipart/mixed with attachments),
  answering every id in request order; `PUT /xapi/statements?statementId=`: one, 204;
- `GET /xapi/statements?statementId=` / `?voidedStatementId=`: the platform's own statement as
  stored; without them, the platform's latest statements (a plain page, see the README);
- `GET /xapi/about`; `X-Experience-API-Version: 1.0.3` on every answer of /xapi/*; a request
  without a 1.0.x version header is refused (400);
- CORS for the browser origins an admin registered for a platform (`/admin/organisations/{id}/xapi-origins`).

Every refusal is RFC 9457 problem details."""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import urllib.parse
from typing import Annotated, Any, Awaitable, Callable

import msgspec
from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from api.store import statements as xapi_store
from api.core.bodies import read_limited
from api.deps import DB, Admin, Platform, Svc, audit, ingest_limit

from api.core.problems import Problem, documented, not_found, problem_response
from api.core.settings import ServiceSettings
from api.store.events import in_time, sender
from api.store.faces import foreign_images
from models.retry import write_unit
from models.types import utcnow
from monitor.online import supervision
from monitor.online.reader import parse_records
from monitor.online.table import gc_paused

VERSION_HEADER = "X-Experience-API-Version"
_CORS_HEADERS = "Authorization, Content-Type, X-Experience-API-Version, If-Match, If-None-Match"
_CORS_EXPOSE = "X-Experience-API-Version, X-Experience-API-Consistent-Through, ETag, Last-Modified, Location"
_METHODS = {"/xapi/statements": "GET, HEAD, POST, PUT, OPTIONS", "/xapi/about": "GET, HEAD, OPTIONS",
            "/xapi/profile": "GET, HEAD, OPTIONS"}
_NO_VERSION_NEEDED = ("/xapi/about", "/xapi/profile")  # documents a client reads before it knows the version


def _version_ok(value: str | None) -> bool:
    if not value:
        return False
    parts = value.strip().split(".")
    return parts[:2] == ["1", "0"] and len(parts) <= 3 and all(p.isdigit() for p in parts)


def _allowed_origin(request: Request, organisation_id: str | None) -> bool:
    """An Origin registered by an admin (for this platform, when the caller is known)."""
    origin = request.headers.get("origin")
    if not origin:
        return False
    service = request.app.state.service
    with service.session() as db:
        return xapi_store.origin_allowed(db, origin, organisation_id)


def _finish(request: Request, response: Response) -> Response:
    """What every answer of /xapi/* carries: the version, CORS for registered origins, and a
    Basic challenge beside the Bearer one on a 401."""
    response.headers[VERSION_HEADER] = xapi_store.VERSION
    if request.url.path == "/xapi/statements" and request.method in ("GET", "HEAD"):
        response.headers.setdefault("X-Experience-API-Consistent-Through", _consistent_through())
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="training-monitor xAPI", Bearer realm="training-monitor"'
    return response


async def _cors(request: Request, response: Response) -> Response:
    if request.headers.get("origin") and await run_in_threadpool(
            _allowed_origin, request, getattr(request.state, "xapi_org", None)):
        response.headers["Access-Control-Allow-Origin"] = request.headers["origin"]
        response.headers["Access-Control-Expose-Headers"] = _CORS_EXPOSE
        response.headers["Vary"] = "Origin"
    return response


_FORM_HEADERS = {"authorization", "x-experience-api-version", "content-type", "content-length", "if-match", "if-none-match"}


async def _alternate(request: Request) -> Request | None:
    """xAPI 1.0.3's alternate request syntax (Part Three 1.3; browsers that cannot send custom
    headers cross-origin): `POST ?method=PUT|GET|…` with a form body carrying the headers, the
    resource's parameters and `content`; the request it stands for, or None."""
    if "method" not in request.query_params:
        return None
    if request.method != "POST":
        raise Problem(400, "the alternate request syntax (?method=) is only issued as a POST", "xapi-alternate")
    method = request.query_params["method"].upper()
    if method not in ("GET", "HEAD", "PUT", "POST") or len(request.query_params) != 1:
        raise Problem(400, "?method= names GET, HEAD, PUT or POST and is the only parameter in the URL", "xapi-alternate")
    if not request.headers.get("content-type", "").lower().startswith("application/x-www-form-urlencoded"):
        raise Problem(400, "the alternate request syntax needs Content-Type: application/x-www-form-urlencoded",
                      "xapi-alternate")
    try:
        form = urllib.parse.parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise Problem(400, "the form body is not UTF-8 form data", "xapi-alternate") from None
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]
               if k.decode("latin-1") not in ("content-type", "content-length")}  # the form's own: not the request's
    params, content = [], b""
    for name, value in form:
        if name.lower() in _FORM_HEADERS:
            headers[name.lower()] = value
        elif name == "content":
            content = value.encode("utf-8")
        else:
            params.append((name, value))
    headers.setdefault("content-type", "application/json")
    headers["content-length"] = str(len(content))
    scope = {**request.scope, "method": method, "query_string": urllib.parse.urlencode(params).encode(),
             "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": content, "more_body": False}

    return Request(scope, receive)


class XapiRoute(APIRoute):
    """Routes of /xapi/: the version header checked before anything else and set on every
    answer, errors included (which then do not pass through the app's handlers)."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = self.xapi_handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                alternate = await _alternate(request) if request.url.path == "/xapi/statements" else None
                if alternate is not None:  # the handler of the method the form stands for
                    request = alternate
                    target = next((r for r in router.routes if isinstance(r, XapiRoute) and r.path == "/xapi/statements"
                                   and request.method in (r.methods or ())), None)
                    if target is None:
                        raise Problem(405, f"{request.method} is not a method of /xapi/statements")
                    handler_now = target.xapi_handler
                else:
                    handler_now = handler
                allowed = _METHODS.get(request.url.path)
                if allowed is not None and request.method not in allowed.split(", "):
                    raise Problem(405, f"{request.method} is not a method of {request.url.path}", headers={"Allow": allowed})
                if (request.method != "OPTIONS" and request.url.path not in _NO_VERSION_NEEDED
                        and not _version_ok(request.headers.get(VERSION_HEADER))):
                    raise Problem(400, f"{VERSION_HEADER}: 1.0.x is required (this LRS speaks {xapi_store.VERSION})",
                                  "xapi-version")
                response = await handler_now(request)
            except Problem as exc:
                response = problem_response(exc.status, exc.detail, exc.kind, exc.title, exc.headers, **exc.extra)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body", "header"))
                response = problem_response(400, f"{where or 'request'}: {first.get('msg', 'invalid')}", "validation")
            return await _cors(request, _finish(request, response))

        return route


router = APIRouter(tags=["xapi"], route_class=XapiRoute)
admin_router = APIRouter(tags=["xapi"])


# --- reading requests -------------------------------------------------------------------------

def _only_params(request: Request, allowed: set[str]) -> None:
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise Problem(400, f"parameter {unknown[0]!r} is not one of this resource's ({', '.join(sorted(allowed)) or 'none'})",
                      "xapi-parameter")


def _parse_json(raw: bytes) -> tuple[Any, bool]:
    """The body, and whether msgspec read it (then it holds no NaN, lone surrogate or number out
    of range: the validator need not look for them)."""
    try:  # msgspec: fast, and strict (no NaN, no lone surrogates, no numbers out of range) ...
        with gc_paused():  # thousands of small dicts: the cyclic collector would walk them again and again
            # (it lets a NUL through: then the validator looks for poison, and names the NUL's place)
            return msgspec.json.decode(raw), b"\\u0000" not in raw
    except msgspec.DecodeError:
        pass
    except RecursionError:
        raise Problem(400, "the body is nested too deeply", "bad-statements") from None
    try:  # ... else the json module, for a message naming the fault (and poison the validator names)
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant), False
    except UnicodeDecodeError:
        raise Problem(400, "the body is not UTF-8 text", "bad-statements") from None
    except RecursionError:
        raise Problem(400, "the body is nested too deeply", "bad-statements") from None
    except ValueError as exc:
        raise Problem(400, f"the body is not valid JSON: {exc}", "bad-statements") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _multipart(content_type: str, raw: bytes) -> tuple[Any, dict[str, tuple[str, bytes]], bool]:
    """multipart/mixed: the statements first (application/json), then one part per attachment
    carrying X-Experience-API-Hash and Content-Transfer-Encoding: binary (1.0.3 Part Three 1.5.2)."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
    if not message.is_multipart():
        raise Problem(400, "multipart/mixed without parts (is the boundary right?)", "bad-attachments")
    parts = list(message.iter_parts())
    if not parts or parts[0].get_content_type() != "application/json":
        raise Problem(400, "the first part of multipart/mixed must be the statements (application/json)", "bad-attachments")
    first = parts[0].get_payload(decode=True)
    data, clean = _parse_json(first if isinstance(first, bytes) else b"")
    attachments: dict[str, tuple[str, bytes]] = {}
    for number, part in enumerate(parts[1:], start=2):
        sha2 = part.get("X-Experience-API-Hash")
        if not sha2:
            raise Problem(400, f"part {number} has no X-Experience-API-Hash header", "bad-attachments")
        if (part.get("Content-Transfer-Encoding") or "").strip().lower() != "binary":
            raise Problem(400, f"part {number}: Content-Transfer-Encoding: binary is required", "bad-attachments")
        content = part.get_payload(decode=True)
        content = content if isinstance(content, bytes) else b""
        if hashlib.sha256(content).hexdigest() != sha2.strip().lower():
            raise Problem(400, f"part {number}: its content does not have the SHA-256 its X-Experience-API-Hash says",
                          "bad-attachments")
        attachments[sha2.strip().lower()] = (part.get_content_type(), content)
    return data, attachments, clean


def _statements_of(request: Request, raw: bytes) -> tuple[Any, dict[str, tuple[str, bytes]], bool]:
    content_type = request.headers.get("content-type", "application/json")
    if content_type.lower().startswith("multipart/mixed"):
        return _multipart(content_type, raw)
    if not content_type.lower().startswith("application/json"):
        raise Problem(400, f"Content-Type {content_type!r}: application/json or multipart/mixed is needed", "bad-statements")
    data, clean = _parse_json(raw)
    return data, {}, clean


def _check_attachments(statements: list[dict[str, Any]], attachments: dict[str, tuple[str, bytes]]) -> None:
    """Every attachment without a fileUrl has its data in the request, and every part belongs to one."""
    declared: set[str] = set()
    for index, statement in enumerate(statements):
        for n, a in enumerate(statement.get("attachments") or []):
            sha2 = a["sha2"].lower()
            declared.add(sha2)
            if a["usageType"] == xapi_store.SIGNATURE and a["contentType"] != "application/octet-stream":
                raise xapi_store.StatementError(index, f"attachments[{n}].contentType",
                                                "a signature's contentType is application/octet-stream")
            if a["usageType"] == xapi_store.SIGNATURE and sha2 in attachments:
                xapi_store.check_signature(statement, index, attachments[sha2][1])
            if "fileUrl" not in a and sha2 not in attachments:
                raise xapi_store.StatementError(index, f"attachments[{n}]", "no fileUrl, and its data is not in the request "
                                                "(send it as a part of multipart/mixed with X-Experience-API-Hash)")
    extra = sorted(set(attachments) - declared)
    if extra:
        raise Problem(400, f"a part with X-Experience-API-Hash {extra[0]} belongs to no attachment of the statements",
                      "bad-attachments")


def _events_of(prepared: list[xapi_store.Prepared], platform: tuple[str, str], settings: ServiceSettings) -> list[Any]:
    """The learning events the statements stand for; a statement of a verb the rules use that
    cannot be one refuses the batch (400 naming it). Other verbs: no event, stored all the same."""
    if not prepared:
        return []
    read = parse_records([p.body for p in prepared], platform[0], platform, in_time(settings, "timestamp"), clean=True)
    if read.bad:
        bad = read.bad[0]
        statement = prepared[bad.line - 1].body
        if bad.field == "actor" and statement["actor"].get("objectType") == "Group":
            raise xapi_store.StatementError(bad.line - 1, "actor", "a Group cannot be a learner: a statement of a verb "
                                            "the rules judge needs the learner (an Agent) as its actor")
        raise xapi_store.StatementError(bad.line - 1, bad.field, f"cannot be judged as a learning event: {bad.message}")
    return list(read.events)


async def _store(request: Request, db: DB, caller: Platform, svc: Svc, data: Any,
                 attachments: dict[str, tuple[str, bytes]], clean: bool = False) -> xapi_store.Outcome:
    statements = data if isinstance(data, list) else [data]
    if len(statements) > svc.settings.max_batch_events:
        raise Problem(413, f"the batch holds {len(statements)} statements, at most {svc.settings.max_batch_events} allowed")
    home = str(request.base_url).rstrip("/") + "/xapi/"
    authority = xapi_store.authority_of(caller.organisation.name, caller.key.id, home)
    platform = sender(caller.organisation)

    def checked() -> tuple[list[xapi_store.Prepared], list[Any]]:
        xapi_store.check_batch(statements, clean=clean)
        _check_attachments(statements, attachments)
        prepared = xapi_store.prepare(statements, authority)
        return prepared, _events_of(prepared, platform, svc.settings)

    def checked_without_collector() -> tuple[list[xapi_store.Prepared], list[Any]]:
        with gc_paused():
            return checked()

    try:
        prepared, events = await run_in_threadpool(checked_without_collector)
    except xapi_store.StatementError as exc:
        raise _refusal(exc) from None
    await _check_images(db, caller, svc, events)

    def store() -> xapi_store.Outcome:
        try:
            with gc_paused():  # the batch's statements are thousands of live dicts: each collector pass would walk them all
                outcome = xapi_store.save(db, caller.org_id, caller.key.id, prepared, events, svc.settings.judge_delay_s,
                                          attachments)
            if outcome.new:
                audit(db, caller, "xapi.statements", caller.org_id, stored=outcome.new, events=len(events))
            db.commit()
            return outcome
        except Exception:
            db.rollback()
            raise

    def store_once_more_on_a_race() -> xapi_store.Outcome:
        """Two requests storing the same new id at once: the later one's insert meets the unique
        key; run again, it finds the statement stored (acknowledged, or 409 if other content)."""
        for attempt in range(3):
            try:
                return write_unit(store)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    try:
        outcome = await run_in_threadpool(store_once_more_on_a_race)
    except xapi_store.Conflict as exc:
        raise Problem(409, str(exc), "xapi-conflict", statement_id=exc.statement_id) from None
    except xapi_store.StatementError as exc:
        raise _refusal(exc) from None
    if outcome.job is not None:
        svc.notify_job(outcome.job.id)
    return outcome


async def _check_images(db: DB, caller: Platform, svc: Svc, events: list[Any]) -> None:
    """A capture or kept photo is named by the id POST /captures gave this platform: never a path
    into the server's files, never another platform's capture."""
    foreign = await run_in_threadpool(foreign_images, db, caller.org_id, events, svc.settings.online_face_checks)
    if foreign:
        image, statement = next(iter(foreign.items()))
        raise Problem(400, f"statement {statement}: image {image!r} is not a capture this platform uploaded "
                           "(POST /captures)", "bad-statements", "Statement cannot be judged")


def _refusal(exc: xapi_store.StatementError) -> Problem:
    return Problem(400, f"{exc} (the batch was refused as a whole: nothing of it was stored)", "bad-statements",
                   "Statement is not valid xAPI 1.0.3",
                   errors=[{"statement": str(exc.index), "field": exc.field, "message": exc.message}])


# --- the statement resource -------------------------------------------------------------------

_RESPONSES = {400: {"description": "not valid xAPI 1.0.3 (problem details naming statement and field)"},
              409: {"description": "a statement id stored before with other content"}}


@router.post("/xapi/statements", response_model=list[str], responses=_RESPONSES)
async def post_statements(request: Request, db: DB, caller: Platform, svc: Svc) -> list[str]:
    """One statement or an array; answers the ids in request order (made for statements without one)."""
    request.state.xapi_org = caller.org_id
    _only_params(request, set())
    ingest_limit(caller, svc)
    raw = await read_limited(request, svc.settings.max_batch_bytes, "the body")
    with gc_paused():  # (ended once the batch's thousands of dicts are gone: see _post)
        return await _post(request, db, caller, svc, raw)


async def _post(request: Request, db: DB, caller: Platform, svc: Svc, raw: bytes) -> list[str]:
    """The batch's objects live in this frame only, so that when the route's pause of the cyclic
    collector ends they are freed already and its next pass does not walk them (it did, up to
    three times a request when each stage paused it on its own: about 5 % of the server's CPU)."""
    data, attachments, clean = _statements_of(request, raw)
    if not isinstance(data, (list, dict)):
        raise Problem(400, "the body must be a statement or an array of statements", "bad-statements")
    return (await _store(request, db, caller, svc, data, attachments, clean)).ids


@router.put("/xapi/statements", status_code=204, responses=_RESPONSES)
async def put_statement(request: Request, db: DB, caller: Platform, svc: Svc) -> Response:
    """One statement under the id given by `statementId`."""
    request.state.xapi_org = caller.org_id
    _only_params(request, {"statementId"})
    statement_id = request.query_params.get("statementId")
    if not statement_id:
        raise Problem(400, "statementId is required with PUT", "xapi-parameter")
    ingest_limit(caller, svc)
    data, attachments, clean = _statements_of(request, await read_limited(request, svc.settings.max_batch_bytes, "the body"))
    if not isinstance(data, dict):
        raise Problem(400, "PUT takes one statement (a JSON object)", "bad-statements")
    if "id" in data and isinstance(data["id"], str) and data["id"].lower() != statement_id.lower():
        raise Problem(400, f"the statement's id {data['id']} is not the statementId {statement_id}", "bad-statements")
    data = {**data, "id": statement_id}
    await _store(request, db, caller, svc, data, attachments, clean)
    return Response(status_code=204)


_GET_PARAMS = {"statementId", "voidedStatementId", "agent", "verb", "activity", "registration", "related_activities",
               "related_agents", "since", "until", "limit", "format", "attachments", "ascending", "cursor"}


def _statement_answer(body: dict[str, Any], fmt: str, request: Request) -> dict[str, Any]:
    if fmt == "ids":
        return xapi_store.ids_format(body)
    if fmt == "canonical":
        return xapi_store.canonical_format(body, xapi_store.accept_languages(request.headers.get("accept-language")))
    return body


def _with_attachments(db: DB, organisation_id: str, payload: Any, statements: list[dict[str, Any]]) -> Response:
    """`attachments=true`: multipart/mixed, the statements first, then each attachment's data."""
    sha2s = [a["sha2"].lower() for s in statements for a in s.get("attachments") or [] if "sha2" in a]
    boundary = "xapi-" + hashlib.sha1(json.dumps(sha2s).encode()).hexdigest()
    chunks = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(), json.dumps(payload).encode(), b"\r\n"]
    for row in xapi_store.attachments_of(db, organisation_id, sha2s):
        chunks += [f"--{boundary}\r\nContent-Type: {row.content_type}\r\nContent-Transfer-Encoding: binary\r\n"
                   f"X-Experience-API-Hash: {row.sha2}\r\n\r\n".encode(), row.content, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return Response(b"".join(chunks), media_type=f'multipart/mixed; boundary="{boundary}"')


def _consistent_through() -> str:
    return utcnow().isoformat(timespec="milliseconds").replace("+00:00", "Z")


@router.get("/xapi/statements", response_model=None, responses={404: {"description": "not found"}})
def get_statements(request: Request, db: DB, caller: Platform) -> Response:
    """`statementId` or `voidedStatementId`: that statement of the platform's, as stored; neither:
    the platform's statements, latest first (`limit`, `since`, `until`, `verb`, `ascending`)."""
    request.state.xapi_org = caller.org_id
    params = request.query_params
    _only_params(request, _GET_PARAMS)
    fmt = params.get("format", "exact")
    if fmt not in ("exact", "ids", "canonical"):
        raise Problem(400, "format: one of exact, ids, canonical", "xapi-parameter")
    with_attachments = params.get("attachments", "false").lower()
    if with_attachments not in ("true", "false"):
        raise Problem(400, "attachments: true or false", "xapi-parameter")
    single = params.get("statementId"), params.get("voidedStatementId")
    headers = {"X-Experience-API-Consistent-Through": _consistent_through()}
    if any(single):
        if all(single):
            raise Problem(400, "statementId and voidedStatementId cannot be asked together", "xapi-parameter")
        extra = set(params) - {"statementId", "voidedStatementId", "format", "attachments"}
        if extra:
            raise Problem(400, f"{sorted(extra)[0]} cannot be used with statementId or voidedStatementId", "xapi-parameter")
        wanted = single[0] or single[1] or ""
        row = xapi_store.find(db, caller.org_id, wanted)
        if row is None or row.voided != bool(single[1]):
            raise not_found(f"statement {wanted}" + (" (voided)" if single[1] else ""))
        body = _statement_answer(json.loads(row.body), fmt, request)
        headers["Last-Modified"] = row.stored.strftime("%a, %d %b %Y %H:%M:%S GMT")
        if with_attachments == "true":
            response = _with_attachments(db, caller.org_id, body, [body])
        else:
            response = Response(json.dumps(body, ensure_ascii=False), media_type="application/json")
        response.headers.update(headers)
        return response
    statements, more = _page(db, caller.org_id, request)
    result = {"statements": [_statement_answer(s, fmt, request) for s in statements], "more": more}
    response = (_with_attachments(db, caller.org_id, result, statements) if with_attachments == "true"
                else Response(json.dumps(result, ensure_ascii=False), media_type="application/json"))
    response.headers.update(headers)
    return response


def _flag(params: Any, name: str) -> bool:
    value = params.get(name, "false").lower()
    if value not in ("true", "false"):
        raise Problem(400, f"{name}: true or false", "xapi-parameter")
    return value == "true"


_PAGE_MAX = 500  # statements per page


def _page(db: DB, organisation_id: str, request: Request) -> tuple[list[dict[str, Any]], str]:
    """The platform's statements (not voided) matching the query, newest first unless `ascending`,
    and the `more` link to the next page ("" when there is none).

    `since`, `until`, `verb` and the order are SQL; `agent`, `activity` and `registration` (and
    `related_agents` / `related_activities`, which widen them) are matched exactly in Python on rows
    a LIKE on the statement's text has narrowed down to, a page's worth at a time."""
    params = request.query_params
    try:
        limit = int(params.get("limit", "0") or 0)
        cursor = int(params["cursor"]) if "cursor" in params else None
    except ValueError:
        raise Problem(400, "limit and cursor: whole numbers", "xapi-parameter") from None
    limit = _PAGE_MAX if limit <= 0 or limit > _PAGE_MAX else limit
    ascending = _flag(params, "ascending")
    bounds: dict[str, Any] = {}
    for name in ("since", "until"):
        if name in params:
            bounds[name] = xapi_store.parse_timestamp(params[name])
            if bounds[name] is None:
                raise Problem(400, f"{name}: an ISO 8601 timestamp", "xapi-parameter")
    try:
        matcher = xapi_store.StatementFilter.from_params(params)
    except xapi_store.StatementError as exc:
        raise Problem(400, str(exc), "xapi-parameter") from None
    found, more = xapi_store.statement_page(db, organisation_id, matcher, params.get("verb"), bounds.get("since"),
                                            bounds.get("until"), ascending, cursor, limit)
    return found, (_more(request, more) if more is not None else "")


def _more(request: Request, cursor: int | None) -> str:
    """The relative IRL of the next page: the same query, going on after `cursor`."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"] + [("cursor", str(cursor))]
    return "/xapi/statements?" + urllib.parse.urlencode(params)


@router.get("/xapi/about", response_model=dict[str, Any])
def about() -> dict[str, Any]:
    """The xAPI versions this LRS speaks."""
    return {"version": ["1.0.3", "1.0.2", "1.0.1", "1.0.0"], "extensions": {}}


_PROFILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the profile, JSON-LD", "content": {"application/ld+json": {"schema": {"type": "object"}}}}}


@router.get("/xapi/profile", response_model=None, responses=_PROFILE_RESPONSES)
def profile() -> Response:
    """The monitor's own xAPI profile (supervision: pop-ups, face captures, window, kept photos), JSON-LD."""
    return Response(json.dumps(supervision.profile_document(), ensure_ascii=False), media_type="application/ld+json")


# HEAD beside GET (xAPI 1.0.3 asks for it) as routes of their own, each with its own operation id:
# one route for both methods gave the two operations one id (FastAPI warned; OpenAPI forbids it).
_HEADS: tuple[tuple[str, Any, Any, dict[int | str, dict[str, Any]]], ...] = (
    ("/xapi/statements", get_statements, None, {404: {"description": "not found"}}),
    ("/xapi/about", about, dict[str, Any], {}), ("/xapi/profile", profile, None, _PROFILE_RESPONSES))
for _path, _endpoint, _model, _responses in _HEADS:
    router.add_api_route(_path, _endpoint, methods=["HEAD"], response_model=_model, responses=_responses,
                         operation_id=f"{_endpoint.__name__}_head")


@router.api_route("/xapi/{rest:path}", methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"],
                  include_in_schema=False)
async def elsewhere(rest: str, request: Request) -> Response:
    """CORS preflight for every resource; other methods of a known resource 405; the other xAPI
    resources (state, activity and agent profiles, activities, agents) are not offered here: 404."""
    path = "/xapi/" + rest
    if request.method == "OPTIONS":
        response = Response(status_code=204)
        if request.headers.get("origin") and await run_in_threadpool(_allowed_origin, request, None):
            response.headers.update({
                "Access-Control-Allow-Origin": request.headers["origin"],
                "Access-Control-Allow-Methods": _METHODS.get(path, "GET, POST, PUT, OPTIONS"),
                "Access-Control-Allow-Headers": request.headers.get("access-control-request-headers") or _CORS_HEADERS,
                "Access-Control-Max-Age": "600", "Vary": "Origin"})
        return response
    if path in _METHODS:
        raise Problem(405, f"{request.method} is not a method of {path}", headers={"Allow": _METHODS[path]})
    raise Problem(404, f"{path} is not offered: this LRS keeps the statement resource (/xapi/statements), "
                       "/xapi/about and /xapi/profile only", "xapi-resource")


# --- CORS origins, registered per platform by an admin --------------------------------------

class OriginIn(BaseModel):
    origin: Annotated[str, Field(pattern=r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?$", max_length=300,
                                 description="scheme://host[:port], as a browser sends it in Origin")]


@admin_router.get("/admin/organisations/{organisation_id}/xapi-origins", response_model=list[str])
def list_origins(organisation_id: str, db: DB, caller: Admin) -> list[str]:
    """The browser origins allowed to call this platform's /xapi/ resources."""
    return xapi_store.origins_of(db, organisation_id)


@admin_router.post("/admin/organisations/{organisation_id}/xapi-origins", status_code=201, response_model=list[str],
                   responses=documented(400))
def add_origin(organisation_id: str, body: OriginIn, db: DB, caller: Admin) -> list[str]:
    """Allow a browser origin (a platform's site whose player sends statements) to call /xapi/."""
    if xapi_store.add_origin(db, organisation_id, body.origin):
        audit(db, caller, "xapi.origin.add", organisation_id, origin=body.origin)
        db.commit()
    return list_origins(organisation_id, db, caller)


@admin_router.delete("/admin/organisations/{organisation_id}/xapi-origins", status_code=204)
def remove_origin(organisation_id: str, origin: str, db: DB, caller: Admin) -> Response:
    xapi_store.remove_origin(db, organisation_id, origin)
    audit(db, caller, "xapi.origin.remove", organisation_id, origin=origin)
    db.commit()
    return Response(status_code=204)
