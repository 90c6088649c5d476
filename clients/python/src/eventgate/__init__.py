"""eventgate: a client for the eventgate session event logger.

* :class:`EventGateTransport` implements the seed's TransportInterface
  (async ``send(event, metadata) -> bool``, ``connect``, ``disconnect``,
  ``close``, ``async with``) over eventgate's HTTP API, with batching and
  retries that never store an event twice.
* :class:`Client` is a synchronous client for scripts and notebooks:
  ``log``, ``sessions``, ``events`` and ``follow``.

Only the standard library is used.
"""

from ._encode import encode_event, new_event_id, to_jsonable
from ._http import RetryPolicy
from ._types import LogResult, Session, SessionPage, StoredEvent
from .client import Client
from .errors import (AuthError, ClosedError, NotFoundError, RejectedError, SerializationError,
                     TransportConnectionError, TransportError, TransportTimeoutError)
from .interface import TransportInterface
from .transport import EventGateTransport, TransportStats

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "Client",
    "ClosedError",
    "EventGateTransport",
    "LogResult",
    "NotFoundError",
    "RejectedError",
    "RetryPolicy",
    "SerializationError",
    "Session",
    "SessionPage",
    "StoredEvent",
    "TransportConnectionError",
    "TransportError",
    "TransportInterface",
    "TransportStats",
    "TransportTimeoutError",
    "encode_event",
    "new_event_id",
    "to_jsonable",
]
