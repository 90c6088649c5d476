"""EventGateTransport: the seed's TransportInterface over eventgate's HTTP API."""

from __future__ import annotations

import asyncio
import collections
import logging
import ssl
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Sequence

from ._encode import dumps, encode_event
from ._http import Connection, RetryPolicy
from ._ingest import ItemOutcome, post_once
from ._types import LogResult
from .errors import ClosedError, TransportError
from .interface import TransportInterface

log = logging.getLogger("eventgate")

ErrorHandler = Callable[[str, TransportError], None]


@dataclass
class TransportStats:
    """Counters of one EventGateTransport since it was made."""

    sent: int = 0         #: events the server recorded (duplicates included)
    duplicates: int = 0   #: of those, events it had already recorded
    failed: int = 0       #: events given up on (refused, or retries spent)
    requests: int = 0     #: POST requests made, retries included
    retries: int = 0      #: of those, repeats of a failed request


@dataclass
class _Item:
    id: str
    body: bytes
    future: Optional["asyncio.Future[LogResult]"] = None


@dataclass
class _Waiter:
    upto: int
    future: "asyncio.Future[None]"
    errors: List[TransportError] = field(default_factory=list)


class EventGateTransport(TransportInterface):
    """Send events to an eventgate server (POST /v1/events).

    It implements the seed's TransportInterface: ``await send(event,
    metadata)`` returns True once the server has recorded the event durably,
    and raises TransportError when it could not be (refused, or the retries
    ran out). Events are pydantic models (v1 or v2), dataclasses, dicts, or
    any object with a ``dict()`` method; metadata is sent as JSON, its types
    kept (see ``encode_event`` for how the id, session and type are chosen).

    Batching: events sent while a request is in flight, or within
    ``flush_interval`` seconds of each other, go in one request of at most
    ``batch_size`` events (and about ``max_batch_bytes``); a full batch, a
    ``flush()``, ``disconnect()`` and ``close()`` send at once. One request
    is in flight at a time, so events reach the server in the order they
    were sent.

    Retries: a broken connection, a timeout, 408, 429, 5xx and 507 are
    retried per ``retry`` with the same event ids, so a retried request
    never stores an event twice (the server reports it as a duplicate).

    With ``wait=False``, ``send`` returns True as soon as the event is
    queued (the seed's BatchingTransport behaviour); failures then go to
    ``on_error(event_id, error)`` and are raised by the next ``flush()``.
    ``max_pending`` bounds the queue; ``send`` waits for room.

    Usable from one event loop (the one that first connects). ``close()``
    sends what is queued and releases the connection; ``send`` after
    ``close()`` raises ClosedError. After ``disconnect()`` the next
    ``send`` connects again, as the seed's HTTPTransport does.
    """

    def __init__(self, url: str = "http://127.0.0.1:8080", token: Optional[str] = None, *,
                 session_id: Optional[str] = None, batch_size: int = 100,
                 flush_interval: float = 0.0, max_batch_bytes: int = 4 << 20,
                 wait: bool = True, retry: Optional[RetryPolicy] = None, timeout: float = 10.0,
                 max_pending: int = 10000, on_error: Optional[ErrorHandler] = None,
                 headers: Optional[Mapping[str, str]] = None,
                 ssl_context: Optional[ssl.SSLContext] = None) -> None:
        if batch_size < 1:
            raise ValueError("batch_size: at least 1")
        if flush_interval < 0:
            raise ValueError("flush_interval: not negative")
        if max_pending < 1:
            raise ValueError("max_pending: at least 1")
        self.url = url
        self.session_id = session_id
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_batch_bytes = max_batch_bytes
        self.wait = wait
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.max_pending = max_pending
        self.on_error = on_error
        self.stats = TransportStats()
        self._token = token
        self._headers = dict(headers or {})
        self._ssl = ssl_context
        self._conn: Optional[Connection] = None
        self._task: Optional["asyncio.Task[None]"] = None
        self._buf: Deque[_Item] = collections.deque()
        self._queued = 0      # items ever queued
        self._done = 0        # items ever finished (recorded or failed)
        self._waiters: List[_Waiter] = []
        self._wake: Optional[asyncio.Event] = None
        self._kick: Optional[asyncio.Event] = None
        self._room: Optional[asyncio.Event] = None
        self._stopping = False
        self._closed = False
        self._unreported: List[TransportError] = []

    # -- the seed's interface ------------------------------------------------

    async def connect(self) -> None:
        """Prepare the connection and start the sender. No request is made;
        use ``ping()`` to check that the server answers."""
        if self._closed:
            raise ClosedError("the transport is closed")
        if self._task is not None and not self._task.done():
            return
        if self._conn is None:
            self._conn = Connection(self.url, self._token, timeout=self.timeout,
                                    ssl_context=self._ssl, headers=self._headers)
        self._wake, self._kick, self._room = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self._room.set()
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name="eventgate-sender")

    async def send(self, event: Any, metadata: Optional[Dict[str, Any]] = None) -> bool:
        """Send one event; see the class documentation. Raises
        SerializationError (a TransportError) when the event has no JSON
        form, and ClosedError after close()."""
        if self._closed:
            raise ClosedError("the transport is closed")
        eid, wire = encode_event(event, metadata, default_session_id=self.session_id)
        await self._enqueue(eid, dumps(wire))  # raises when it was not recorded
        return True

    async def disconnect(self) -> None:
        """Send everything queued (retrying as configured), stop the sender
        and close the connection."""
        task = self._task
        if task is not None:
            self._stopping = True
            assert self._wake is not None and self._kick is not None
            self._wake.set()
            self._kick.set()
            try:
                await task
            finally:
                self._task = None
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.to_thread(conn.close)

    async def close(self) -> None:
        """Clean shutdown: send what is queued, then release everything.
        Idempotent."""
        if self._closed:
            return
        try:
            await self.disconnect()
        finally:
            self._closed = True

    async def __aenter__(self) -> "EventGateTransport":
        await self.connect()
        return self

    # -- more than the seed's interface --------------------------------------

    async def log(self, event: Any, metadata: Optional[Dict[str, Any]] = None, *,
                  session_id: Optional[str] = None, type: Optional[str] = None,
                  id: Optional[str] = None, time: Any = None) -> Optional[LogResult]:
        """Like send, with the session, type, id and time given explicitly.

        Returns the LogResult (the stored id, and whether it was a duplicate)
        when the transport waits for acknowledgements, None otherwise."""
        if self._closed:
            raise ClosedError("the transport is closed")
        eid, wire = encode_event(event, metadata, session_id=session_id, event_type=type,
                                 event_id=id, when=time, default_session_id=self.session_id)
        return await self._enqueue(eid, dumps(wire))

    async def flush(self) -> None:
        """Wait until every event queued so far is recorded or given up on.

        Raises TransportError naming the failures among those events that no
        ``send`` call has reported (with ``wait=False``)."""
        if self._task is None:
            if self._unreported:
                self._raise_unreported()
            return
        loop = asyncio.get_running_loop()
        w = _Waiter(upto=self._queued, future=loop.create_future())
        if self._done >= w.upto:
            w.future.set_result(None)
        else:
            self._waiters.append(w)
            assert self._kick is not None
            self._kick.set()
        await w.future
        if self._unreported:
            self._raise_unreported()

    async def ping(self) -> Dict[str, Any]:
        """GET /healthz: the server's status and version. Raises
        TransportError when it does not answer 200."""
        if self._conn is None:
            self._conn = Connection(self.url, self._token, timeout=self.timeout,
                                    ssl_context=self._ssl, headers=self._headers)
        conn = self._conn
        resp = await asyncio.to_thread(conn.request, "GET", conn.path("/healthz"))
        if resp.status != 200:
            from ._http import error_for
            raise error_for(resp, "GET /healthz")
        return resp.json() or {}

    # -- machinery -----------------------------------------------------------

    def _raise_unreported(self) -> None:
        errs, self._unreported = self._unreported, []
        first = errs[0]
        msg = f"{len(errs)} event(s) were not recorded; the first: {first}"
        raise TransportError(msg, status=first.status, body=first.body) from first

    async def _enqueue(self, eid: str, body: bytes) -> Optional[LogResult]:
        if self._task is None or self._task.done():
            await self.connect()
        assert self._room is not None and self._wake is not None and self._kick is not None
        while len(self._buf) >= self.max_pending:
            self._room.clear()
            await self._room.wait()
            if self._closed:
                raise ClosedError("the transport is closed")
        fut: Optional["asyncio.Future[LogResult]"] = None
        if self.wait:
            fut = asyncio.get_running_loop().create_future()
        self._buf.append(_Item(eid, body, fut))
        self._queued += 1
        self._wake.set()
        if len(self._buf) >= self.batch_size:
            self._kick.set()
        if fut is None:
            return None
        return await fut

    async def _run(self) -> None:
        assert self._wake is not None and self._kick is not None and self._room is not None
        while True:
            while not self._buf:
                if self._stopping:
                    return
                self._wake.clear()
                await self._wake.wait()
            if (self.flush_interval > 0 and len(self._buf) < self.batch_size and not self._stopping
                    and not self._waiters):
                self._kick.clear()
                try:
                    await asyncio.wait_for(self._kick.wait(), self.flush_interval)
                except asyncio.TimeoutError:
                    pass
            batch: List[_Item] = []
            size = 2
            while self._buf and len(batch) < self.batch_size:
                it = self._buf[0]
                if batch and size + len(it.body) + 1 > self.max_batch_bytes:
                    break
                batch.append(self._buf.popleft())
                size += len(it.body) + 1
            self._room.set()
            try:
                outcomes = await self._deliver([it.id for it in batch], [it.body for it in batch])
            except asyncio.CancelledError:
                # The loop is going away: whoever waits on these events is told.
                self._finish(batch, [TransportError("the sender was cancelled")] * len(batch))
                while self._buf:
                    it = self._buf.popleft()
                    self._finish([it], [TransportError("the sender was cancelled")])
                raise
            except Exception as e:  # a bug: fail the batch, not the loop
                err = e if isinstance(e, TransportError) else TransportError(f"sending failed: {e!r}")
                outcomes = [err] * len(batch)
            self._finish(batch, outcomes)

    def _finish(self, batch: Sequence[_Item], outcomes: Sequence[ItemOutcome]) -> None:
        for it, out in zip(batch, outcomes):
            self._done += 1
            if isinstance(out, LogResult):
                self.stats.sent += 1
                if out.duplicate:
                    self.stats.duplicates += 1
                if it.future is not None and not it.future.done():
                    it.future.set_result(out)
                continue
            self.stats.failed += 1
            if it.future is not None and not it.future.done():
                it.future.set_exception(out)
                continue
            log.warning("eventgate: event %s not recorded: %s", it.id, out)
            self._unreported.append(out)
            if len(self._unreported) > 1000:
                del self._unreported[:-1000]
            if self.on_error is not None:
                try:
                    self.on_error(it.id, out)
                except Exception:  # the handler's failure must not stop delivery
                    log.exception("eventgate: on_error handler failed")
        still = []
        for w in self._waiters:
            if self._done >= w.upto:
                if not w.future.done():
                    w.future.set_result(None)
            else:
                still.append(w)
        self._waiters = still

    async def _deliver(self, ids: List[str], bodies: List[bytes]) -> List[ItemOutcome]:
        """POST the events, retrying as the policy says; split a batch the
        server finds too large."""
        assert self._conn is not None
        conn = self._conn
        attempt = 0
        while True:
            self.stats.requests += 1
            res = await asyncio.to_thread(post_once, conn, ids, bodies, self.timeout)
            if res.split:
                mid = len(ids) // 2
                first = await self._deliver(ids[:mid], bodies[:mid])
                return first + await self._deliver(ids[mid:], bodies[mid:])
            if res.items is not None:
                return res.items
            assert res.retry is not None
            attempt += 1
            if attempt >= self.retry.max_attempts:
                return [res.retry] * len(ids)
            self.stats.retries += 1
            delay = self.retry.delay(attempt - 1, res.retry_after)
            log.debug("eventgate: retrying %d event(s) in %.2fs: %s", len(ids), delay, res.retry)
            await asyncio.sleep(delay)
