"""Values the client returns."""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$")


def parse_time(value: Any) -> Optional[_dt.datetime]:
    """Parse RFC 3339 text (any number of fraction digits; kept to the
    microsecond) into an aware datetime. None and "" give None."""
    if not value:
        return None
    m = _RFC3339.match(str(value))
    if not m:
        raise ValueError(f"not an RFC 3339 time: {value!r}")
    y, mo, d, h, mi, s, frac, zone = m.groups()
    us = int((frac or "0")[:6].ljust(6, "0"))
    if zone in ("Z", "z"):
        tz = _dt.timezone.utc
    else:
        sign = 1 if zone[0] == "+" else -1
        tz = _dt.timezone(sign * _dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    return _dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), us, tzinfo=tz)


@dataclass(frozen=True)
class LogResult:
    """The server's answer for one recorded event.

    ``id`` is the id the event is stored under. ``duplicate`` is True when
    the server had already recorded an event with this id (a retry, or the
    same event sent twice) and did not store it again.
    """

    id: str
    duplicate: bool = False


@dataclass(frozen=True)
class Session:
    """One session as the server lists it."""

    id: str
    first: Optional[_dt.datetime]
    last: Optional[_dt.datetime]
    count: int
    bytes: int
    types: List[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Session":
        """Build a Session from the server's JSON object."""
        return cls(id=d["id"], first=parse_time(d.get("first")), last=parse_time(d.get("last")),
                   count=int(d.get("count") or 0), bytes=int(d.get("bytes") or 0),
                   types=list(d.get("types") or []))


@dataclass(frozen=True)
class SessionPage:
    """One page of GET /v1/sessions. ``next_cursor`` is None on the last page;
    pass it as ``cursor`` to get the next one. ``total`` counts every
    session matching the filters."""

    sessions: List[Session]
    next_cursor: Optional[str]
    total: int


@dataclass(frozen=True)
class StoredEvent:
    """An event as the server stored it.

    ``seq`` orders the session's events (it grows, with gaps); ``data`` is
    the event as it was sent and ``meta`` its metadata; ``raw`` is the
    server's whole JSON object."""

    seq: int
    id: str
    session_id: str
    type: str
    time: Optional[_dt.datetime]
    data: Any
    meta: Dict[str, Any]
    raw: Dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "StoredEvent":
        """Build a StoredEvent from the server's JSON object."""
        return cls(seq=int(d.get("seq") or 0), id=d.get("id", ""), session_id=d.get("session_id", ""),
                   type=d.get("type", ""), time=parse_time(d.get("time")), data=d.get("data"),
                   meta=dict(d.get("meta") or {}), raw=d)
