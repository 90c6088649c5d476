"""Turning the caller's events into eventgate's JSON event form."""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import decimal
import enum
import json
import os
import pathlib
import time
import uuid
from typing import Any, Dict, Mapping, Optional, Tuple

from .errors import SerializationError


def new_event_id() -> str:
    """Return a new time-ordered UUID (version 7) as text.

    The first 48 bits are the Unix time in milliseconds, so ids sort by
    creation time; 74 bits are random.
    """
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76                                   # version
    value |= ((rand >> 62) & 0xFFF) << 64                # rand_a, 12 bits
    value |= 0b10 << 62                                  # variant
    value |= rand & ((1 << 62) - 1)                      # rand_b, 62 bits
    return str(uuid.UUID(int=value))


def to_jsonable(obj: Any, _depth: int = 0) -> Any:
    """Return obj as plain JSON values (dict, list, str, int, float, bool, None).

    Accepts pydantic models (v2 ``model_dump`` and v1 ``dict``), dataclasses,
    mappings, sequences and sets, and the common scalar types (datetime and
    date as ISO 8601, UUID, Decimal and Path as text, Enum as its value,
    bytes as base64). Any other object with a ``dict()`` method (the seed's
    convention) is encoded from what that method returns. Raises
    SerializationError for anything else.
    """
    if _depth > 100:
        raise SerializationError("the event nests deeper than 100 levels")
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        if obj != obj or obj in (float("inf"), float("-inf")):
            raise SerializationError(f"{obj!r} has no JSON form")
        return obj
    d = _depth + 1
    dump = getattr(obj, "model_dump", None)
    if callable(dump) and not isinstance(obj, type):
        try:
            return to_jsonable(dump(mode="json"), d)
        except TypeError:
            return to_jsonable(dump(), d)
    if hasattr(obj, "__fields__") and callable(getattr(obj, "json", None)) and not isinstance(obj, type):
        # pydantic v1: .json() knows how to encode the field types.
        return json.loads(obj.json())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name), d) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        out: Dict[str, Any] = {}
        for k, v in obj.items():
            if isinstance(k, enum.Enum):
                k = k.value
            if not isinstance(k, (str, int, float, bool)) and k is not None:
                raise SerializationError(f"a mapping key of type {type(k).__name__} has no JSON form")
            out[k if isinstance(k, str) else json.dumps(k)] = to_jsonable(v, d)
        return out
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v, d) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return [to_jsonable(v, d) for v in obj]
    if isinstance(obj, enum.Enum):
        return to_jsonable(obj.value, d)
    if isinstance(obj, _dt.datetime):
        return obj.isoformat()
    if isinstance(obj, (_dt.date, _dt.time)):
        return obj.isoformat()
    if isinstance(obj, _dt.timedelta):
        return obj.total_seconds()
    if isinstance(obj, (uuid.UUID, decimal.Decimal, pathlib.PurePath)):
        return str(obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(obj)).decode("ascii")
    legacy = getattr(obj, "dict", None)
    if callable(legacy):
        return to_jsonable(legacy(), d)
    raise SerializationError(
        f"cannot encode an event of type {type(obj).__name__}: "
        "pass a pydantic model, a dataclass, a dict, or an object with a dict() method")


def dumps(value: Any) -> bytes:
    """Encode plain JSON values as compact UTF-8 JSON."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as e:
        raise SerializationError(f"cannot encode as JSON: {e}") from e


def rfc3339(unix_ns: int) -> str:
    """Format a Unix time in nanoseconds as RFC 3339 in UTC."""
    s, ns = divmod(unix_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + f".{ns:09d}Z"


def _time_of(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.astimezone()
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return rfc3339(int(value * 1_000_000_000))
    if isinstance(value, str):
        return value
    raise SerializationError(f"time: want a datetime, Unix seconds or RFC 3339 text, not {type(value).__name__}")


def encode_event(event: Any, metadata: Optional[Mapping[str, Any]] = None, *,
                 session_id: Optional[str] = None, event_type: Optional[str] = None,
                 event_id: Optional[str] = None, when: Any = None,
                 default_session_id: Optional[str] = None) -> Tuple[str, Dict[str, Any]]:
    """Return (id, wire object) for one event in eventgate's event form.

    The id is event_id, else metadata["event_id"], else a new UUIDv7: the
    same logical event sent again with the same id is recorded once.

    The session is session_id, else the one the server derives from the
    event's own "user_session_id" or "session_id" member, else
    metadata["session_id"], else default_session_id. The type is
    event_type, else the event's "type" member, else metadata["type"], else
    the class name of an event that is not a mapping (as the seed's Redis
    transport names it). The time is ``when`` (datetime, Unix seconds or
    RFC 3339), else now. The metadata is sent as given, its JSON types kept.
    """
    data = to_jsonable(event)
    meta = to_jsonable(dict(metadata)) if metadata else {}
    given = meta.get("event_id")
    if isinstance(given, int) and not isinstance(given, bool):
        given = str(given)
    eid = event_id or (given if isinstance(given, str) and given else None) or new_event_id()
    wire: Dict[str, Any] = {"id": eid}
    own_session = isinstance(data, dict) and any(
        isinstance(data.get(k), (str, int)) and not isinstance(data.get(k), bool) and data.get(k) != ""
        for k in ("user_session_id", "session_id"))
    sid = session_id
    if sid is None and not own_session:
        ms = meta.get("session_id")
        sid = ms if isinstance(ms, str) and ms else default_session_id
    if sid:
        wire["session_id"] = sid
    typ = event_type
    if typ is None and not (isinstance(data, dict) and isinstance(data.get("type"), str) and data.get("type")):
        mt = meta.get("type")
        if isinstance(mt, str) and mt:
            typ = mt
        elif not isinstance(event, (Mapping, str, int, float, bool, list, tuple, set, frozenset, type(None))):
            typ = type(event).__name__
    if typ:
        wire["type"] = typ
    wire["time"] = _time_of(when) or rfc3339(time.time_ns())
    wire["data"] = data
    if meta:
        wire["meta"] = meta
    return eid, wire
