"""Client: a synchronous client for scripts and notebooks."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import socket
import ssl
import threading
import time as _time
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

from ._encode import dumps, encode_event
from ._http import RETRY_STATUSES, Connection, RetryPolicy, error_for
from ._ingest import post_once
from ._types import LogResult, Session, SessionPage, StoredEvent
from .errors import NotFoundError, RejectedError, TransportConnectionError, TransportError

log = logging.getLogger("eventgate")

TimeArg = Union[_dt.datetime, str, None]


def _time_param(v: TimeArg) -> Optional[str]:
    if v is None or isinstance(v, str):
        return v
    if v.tzinfo is None:
        v = v.astimezone()
    return v.isoformat()


class Client:
    """A synchronous eventgate client: log events, list sessions, read and
    follow a session's events.

    ``log`` and ``log_many`` retry (per ``retry``) with the same event ids,
    so an event is recorded once however many attempts it takes. Reading
    methods retry a broken connection or a 5xx the same way. The client
    keeps one connection alive and is safe to share between threads
    (requests are serialized). ``close()`` (or ``with Client(...)``)
    releases it.
    """

    def __init__(self, url: str = "http://127.0.0.1:8080", token: Optional[str] = None, *,
                 session_id: Optional[str] = None, timeout: float = 10.0,
                 retry: Optional[RetryPolicy] = None, batch_size: int = 500,
                 headers: Optional[Mapping[str, str]] = None,
                 ssl_context: Optional[ssl.SSLContext] = None) -> None:
        self.url = url
        self.session_id = session_id
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.batch_size = batch_size
        self._conn = Connection(url, token, timeout=timeout, ssl_context=ssl_context, headers=headers)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the kept-alive connection. The client can still be used;
        it connects again on the next call."""
        self._conn.close()

    # -- writing -------------------------------------------------------------

    def log(self, event: Any, metadata: Optional[Mapping[str, Any]] = None, *,
            session_id: Optional[str] = None, type: Optional[str] = None,
            id: Optional[str] = None, time: Any = None) -> LogResult:
        """Record one event and return its id (and whether the server already
        had it). The event is a pydantic model, a dataclass, a dict or an
        object with a dict() method; metadata is kept as JSON. Without
        ``id``, metadata["event_id"] or a new UUIDv7 is the id. Raises
        RejectedError when the server refuses the event, TransportError when
        the retries run out."""
        eid, wire = encode_event(event, metadata, session_id=session_id, event_type=type,
                                 event_id=id, when=time, default_session_id=self.session_id)
        out = self._post([eid], [dumps(wire)])[0]
        if isinstance(out, TransportError):
            raise out
        return out

    def log_many(self, events: Iterable[Any], *, session_id: Optional[str] = None,
                 type: Optional[str] = None, raise_on_error: bool = True
                 ) -> List[Union[LogResult, TransportError]]:
        """Record many events, ``batch_size`` to a request. Each item is an
        event or an (event, metadata) pair. Returns one outcome per event, in
        order: a LogResult, or (with ``raise_on_error=False``) the error for
        an event that was not recorded; by default the first such error is
        raised after every batch was tried."""
        out: List[Union[LogResult, TransportError]] = []
        ids: List[str] = []
        bodies: List[bytes] = []
        for item in events:
            ev, meta = (item if isinstance(item, tuple) and len(item) == 2 else (item, None))
            eid, wire = encode_event(ev, meta, session_id=session_id, event_type=type,
                                     default_session_id=self.session_id)
            ids.append(eid)
            bodies.append(dumps(wire))
            if len(ids) >= self.batch_size:
                out.extend(self._post(ids, bodies))
                ids, bodies = [], []
        if ids:
            out.extend(self._post(ids, bodies))
        if raise_on_error:
            for o in out:
                if isinstance(o, TransportError):
                    raise o
        return out

    def _post(self, ids: List[str], bodies: List[bytes]) -> List[Union[LogResult, TransportError]]:
        attempt = 0
        while True:
            res = post_once(self._conn, ids, bodies, self.timeout)
            if res.split:
                mid = len(ids) // 2
                return self._post(ids[:mid], bodies[:mid]) + self._post(ids[mid:], bodies[mid:])
            if res.items is not None:
                return list(res.items)
            assert res.retry is not None
            attempt += 1
            if attempt >= self.retry.max_attempts:
                return [res.retry] * len(ids)
            _time.sleep(self.retry.delay(attempt - 1, res.retry_after))

    # -- reading -------------------------------------------------------------

    def _get(self, path: str, query: Optional[Mapping[str, Any]] = None) -> Any:
        target = self._conn.path(path, query)
        attempt = 0
        while True:
            try:
                resp = self._conn.request("GET", target)
            except TransportConnectionError as e:
                err: TransportError = e
                retry_after = None
            else:
                if resp.status == 200:
                    body = resp.json()
                    if body is None:
                        raise TransportError(f"GET {path}: the answer is not JSON", status=200)
                    return body
                err = error_for(resp, "GET " + path)
                if resp.status not in RETRY_STATUSES:
                    raise err
                retry_after = resp.retry_after()
            attempt += 1
            if attempt >= self.retry.max_attempts:
                raise err
            _time.sleep(self.retry.delay(attempt - 1, retry_after))

    def health(self) -> Dict[str, Any]:
        """GET /healthz: the server's status and version."""
        return self._get("/healthz")

    def sessions_page(self, *, limit: int = 100, cursor: Optional[str] = None,
                      prefix: Optional[str] = None, type: Optional[str] = None,
                      active_since: TimeArg = None, active_until: TimeArg = None,
                      with_types: bool = False) -> SessionPage:
        """One page of sessions, newest activity first (GET /v1/sessions).
        Pass the page's ``next_cursor`` as ``cursor`` for the next one."""
        q = {"limit": limit, "cursor": cursor, "prefix": prefix, "type": type,
             "active_since": _time_param(active_since), "active_until": _time_param(active_until),
             "types": "1" if with_types else None}
        body = self._get("/v1/sessions", q)
        return SessionPage(sessions=[Session.from_json(s) for s in body.get("sessions") or []],
                           next_cursor=body.get("next_cursor") or None, total=int(body.get("total") or 0))

    def sessions(self, *, page_size: int = 100, prefix: Optional[str] = None,
                 type: Optional[str] = None, active_since: TimeArg = None,
                 active_until: TimeArg = None, with_types: bool = False) -> Iterator[Session]:
        """Every session matching the filters, newest activity first, fetched
        a page at a time as the iteration goes."""
        cursor: Optional[str] = None
        while True:
            page = self.sessions_page(limit=page_size, cursor=cursor, prefix=prefix, type=type,
                                      active_since=active_since, active_until=active_until,
                                      with_types=with_types)
            yield from page.sessions
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def session(self, session_id: str) -> Session:
        """One session's summary; raises NotFoundError when it does not exist."""
        return Session.from_json(self._get(self._session_path(session_id)))

    def events(self, session_id: str, *, after_seq: int = 0, type: Optional[str] = None,
               since: TimeArg = None, until: TimeArg = None, page_size: int = 1000,
               limit: Optional[int] = None) -> Iterator[StoredEvent]:
        """The session's events with a seq above ``after_seq``, in order,
        fetched a page at a time (GET /v1/sessions/{id}/events); at most
        ``limit`` of them when given. Filters: type, since, until."""
        n = 0
        while True:
            size = page_size if limit is None else min(page_size, limit - n)
            if size <= 0:
                return
            body = self._get(self._session_path(session_id) + "/events",
                             {"after_seq": after_seq, "type": type, "since": _time_param(since),
                              "until": _time_param(until), "limit": size})
            for e in body.get("events") or []:
                yield StoredEvent.from_json(e)
                n += 1
            nxt = body.get("next_after_seq")
            if not nxt:
                return
            after_seq = int(nxt)

    def follow(self, session_id: str, *, after_seq: int = 0, reconnect: bool = True,
               read_timeout: float = 60.0, stop: Optional[threading.Event] = None,
               on_damage: Optional[Callable[[Dict[str, Any]], None]] = None) -> Iterator[StoredEvent]:
        """The session's events above ``after_seq``, then live ones as they
        are recorded (Server-Sent Events on GET /v1/sessions/{id}/stream).

        The iteration does not end by itself: stop it with ``break`` (which
        closes the stream), or set ``stop`` (checked whenever an event or the
        server's keep-alive arrives). A dropped stream is reopened from the
        last seq received (Last-Event-ID), so no event is skipped or repeated,
        unless ``reconnect`` is False. Damaged records the server reports are
        passed to ``on_damage`` (and logged) and skipped.
        """
        last = after_seq
        attempt = 0
        while stop is None or not stop.is_set():
            conn = self._conn.new_connection(read_timeout)
            try:
                h = dict(self._conn.headers)
                h["Accept"] = "text/event-stream"
                if last:
                    h["Last-Event-ID"] = str(last)
                try:
                    conn.request("GET", self._conn.path(self._session_path(session_id) + "/stream",
                                                        {"after_seq": last}), headers=h)
                    resp = conn.getresponse()
                except (OSError, socket.timeout) as e:
                    err: TransportError = TransportConnectionError(f"follow {session_id}: {e}")
                else:
                    if resp.status != 200:
                        from ._http import Response
                        r = Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
                        err = error_for(r, "GET stream")
                        if resp.status not in RETRY_STATUSES:
                            raise err
                    else:
                        attempt = 0
                        try:
                            for kind, eid, data in _sse(resp, stop):
                                if kind == "error":
                                    log.warning("eventgate: stream of %s: damaged records skipped: %s",
                                                session_id, data)
                                    if on_damage is not None:
                                        on_damage(json.loads(data) if data else {})
                                    continue
                                ev = StoredEvent.from_json(json.loads(data))
                                last = max(last, ev.seq)
                                yield ev
                            if stop is not None and stop.is_set():
                                return
                            err = TransportConnectionError(f"follow {session_id}: the server ended the stream")
                        except (OSError, socket.timeout, ValueError) as e:
                            err = TransportConnectionError(f"follow {session_id}: {e}")
                if not reconnect:
                    raise err
                attempt += 1
                delay = self.retry.delay(min(attempt - 1, 10))
                log.info("eventgate: stream of %s lost (%s); reopening after seq %d in %.1fs",
                         session_id, err, last, delay)
                if stop is not None:
                    if stop.wait(delay):
                        return
                else:
                    _time.sleep(delay)
            finally:
                conn.close()

    @staticmethod
    def _session_path(session_id: str) -> str:
        from urllib.parse import quote
        return "/v1/sessions/" + quote(session_id, safe="")


def _sse(resp: Any, stop: Optional[threading.Event]) -> Iterator[Tuple[str, str, str]]:
    """Read Server-Sent Events from resp: (event, id, data) triples."""
    kind, eid, data = "", "", []
    while True:
        if stop is not None and stop.is_set():
            return
        raw = resp.readline()
        if not raw:
            return
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield kind or "message", eid, "\n".join(data)
            kind, eid, data = "", "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            kind = value
        elif name == "id":
            eid = value
