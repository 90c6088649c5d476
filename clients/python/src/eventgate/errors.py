"""Exceptions raised by the eventgate client.

They mirror the seed's ``transport_exceptions`` module: every error is a
:class:`TransportError`, and the narrower classes say why, so that code
written for the seed's ``except TransportError`` keeps working.
"""

from __future__ import annotations

from typing import Any, Optional


class TransportError(Exception):
    """Any failure to deliver events to, or read them from, eventgate.

    ``status`` is the HTTP status of the answer that caused it (None when no
    answer arrived) and ``body`` the decoded JSON answer, when there was one.
    """

    def __init__(self, message: str, *, status: Optional[int] = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class TransportConnectionError(TransportError):
    """The server could not be reached, or the connection broke before an
    answer arrived. The request may or may not have been recorded; a retry
    with the same event ids is safe."""


class TransportTimeoutError(TransportConnectionError):
    """No answer arrived within the timeout. As for a broken connection, the
    request may have been recorded; a retry with the same ids is safe."""


class SerializationError(TransportError):
    """An event or its metadata cannot be encoded as JSON. Never retried."""


class RejectedError(TransportError):
    """The server refused the event for good (invalid, too large, bad
    request, missing permission). Retrying the same request cannot succeed.

    ``code`` is the server's per-item code when it gave one
    (``invalid_json``, ``invalid_event``, ``too_large``)."""

    def __init__(self, message: str, *, status: Optional[int] = None, body: Any = None,
                 code: Optional[str] = None) -> None:
        super().__init__(message, status=status, body=body)
        self.code = code


class AuthError(RejectedError):
    """The token is missing, unknown, or lacks the scope (401, 403)."""


class NotFoundError(TransportError):
    """The session (or other resource) does not exist (404)."""


class ClosedError(TransportError):
    """The transport was closed; it accepts no more events."""


__all__ = [
    "TransportError",
    "TransportConnectionError",
    "TransportTimeoutError",
    "SerializationError",
    "RejectedError",
    "AuthError",
    "NotFoundError",
    "ClosedError",
]
