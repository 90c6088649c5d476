"""A small HTTP/1.1 client on http.client: keep-alive, bearer token, JSON."""

from __future__ import annotations

import email.utils
import http.client
import json
import random
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

from .errors import (AuthError, NotFoundError, RejectedError, TransportConnectionError,
                     TransportError, TransportTimeoutError)

USER_AGENT = "eventgate-python/0.1"

# Statuses after which the same request may succeed later.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 507})


@dataclass
class Response:
    """An answer read to its end."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON, or None when it is not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def retry_after(self) -> Optional[float]:
        """Seconds the Retry-After header asks to wait, when it is given."""
        v = self.headers.get("retry-after")
        if not v:
            return None
        try:
            return max(0.0, float(v))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(v)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            return None


@dataclass
class RetryPolicy:
    """How often and how long to retry a request that may succeed later.

    A request is retried on a broken connection, a timeout, and the statuses
    408, 425, 429, 500, 502, 503, 504 and 507, at most ``max_attempts``
    times in all, waiting ``initial_delay`` × ``multiplier``^n (at most
    ``max_delay``, with up to 50 % random jitter) between attempts, or what
    the server's Retry-After asks (at most ``max_delay``).
    """

    max_attempts: int = 5
    initial_delay: float = 0.1
    multiplier: float = 2.0
    max_delay: float = 5.0

    def delay(self, attempt: int, retry_after: Optional[float] = None) -> float:
        """Seconds to wait before attempt number ``attempt + 1`` (0-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        d = min(self.initial_delay * (self.multiplier ** attempt), self.max_delay)
        return d * (0.5 + random.random() / 2)


def error_for(resp: Response, what: str) -> TransportError:
    """The exception for a non-success answer."""
    body = resp.json()
    msg = ""
    if isinstance(body, dict):
        msg = str(body.get("error") or "")
    if not msg:
        msg = resp.body[:200].decode("utf-8", "replace").strip()
    text = f"{what}: HTTP {resp.status}" + (f": {msg}" if msg else "")
    if resp.status in (401, 403):
        return AuthError(text, status=resp.status, body=body)
    if resp.status == 404:
        return NotFoundError(text, status=resp.status, body=body)
    if resp.status in RETRY_STATUSES:
        return TransportError(text, status=resp.status, body=body)
    if 400 <= resp.status < 500:
        return RejectedError(text, status=resp.status, body=body)
    return TransportError(text, status=resp.status, body=body)


class Connection:
    """One keep-alive connection to an eventgate server, safe for use from
    several threads (requests are serialized)."""

    def __init__(self, url: str, token: Optional[str] = None, *, timeout: float = 10.0,
                 ssl_context: Optional[ssl.SSLContext] = None,
                 headers: Optional[Mapping[str, str]] = None) -> None:
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"url: want http://host:port or https://host:port, not {url!r}")
        self.url = url.rstrip("/")
        self.scheme = u.scheme
        self.host = u.hostname
        self.port = u.port or (443 if u.scheme == "https" else 80)
        self.prefix = u.path.rstrip("/")
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.headers: Dict[str, str] = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = "Bearer " + token
        if headers:
            self.headers.update(headers)
        self._conn: Optional[http.client.HTTPConnection] = None
        self._lock = threading.Lock()

    def new_connection(self, timeout: Optional[float]) -> http.client.HTTPConnection:
        """A fresh connection to the server (not shared)."""
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout,
                                               context=self.ssl_context or ssl.create_default_context())
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def path(self, p: str, query: Optional[Mapping[str, Any]] = None) -> str:
        """The request target for API path p with the query's non-None values."""
        out = self.prefix + p
        if query:
            q = {k: v for k, v in query.items() if v is not None}
            if q:
                out += "?" + urllib.parse.urlencode(q)
        return out

    def request(self, method: str, path: str, body: Optional[bytes] = None,
                headers: Optional[Mapping[str, str]] = None,
                timeout: Optional[float] = None) -> Response:
        """Send one request on the kept-alive connection and read the answer.

        Raises TransportTimeoutError or TransportConnectionError when no
        answer arrived; any answer, whatever its status, is returned.
        """
        h = dict(self.headers)
        if headers:
            h.update(headers)
        if body is not None:
            h.setdefault("Content-Type", "application/json")
        with self._lock:
            # Only a GET is repeated here on a kept-alive connection the
            # server had closed; a POST's failure goes to the caller, whose
            # retry resends the same event ids (and is counted).
            reused = self._conn is not None and method in ("GET", "HEAD")
            for attempt in range(2):
                if self._conn is None:
                    self._conn = self.new_connection(timeout or self.timeout)
                conn = self._conn
                try:
                    if conn.sock is not None:
                        conn.sock.settimeout(timeout or self.timeout)
                    conn.request(method, path, body=body, headers=h)
                    r = conn.getresponse()
                    data = r.read()
                    resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
                    if r.will_close:
                        self._drop()
                    return resp
                except (socket.timeout, TimeoutError) as e:
                    self._drop()
                    raise TransportTimeoutError(f"{method} {path}: no answer within {timeout or self.timeout}s") from e
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                    self._drop()
                    # A kept-alive connection the server had already closed:
                    # reconnect once.
                    if reused and attempt == 0:
                        reused = False
                        continue
                    raise TransportConnectionError(f"{method} {path}: connection lost: {e}") from e
                except (OSError, http.client.HTTPException) as e:
                    self._drop()
                    raise TransportConnectionError(f"{method} {path}: {e}") from e
            raise AssertionError("unreachable")

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
            self._conn = None

    def close(self) -> None:
        """Close the kept-alive connection. The Connection stays usable."""
        with self._lock:
            self._drop()
