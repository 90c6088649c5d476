"""POST /v1/events: one attempt, and what its answer means for each item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Union

from ._http import RETRY_STATUSES, Connection, Response, error_for
from ._types import LogResult
from .errors import RejectedError, TransportConnectionError, TransportError

ItemOutcome = Union[LogResult, TransportError]


@dataclass
class Attempt:
    """What one POST gave: per-item outcomes, or an error to retry after
    ``retry_after`` seconds (None: the policy's backoff), or a permanent
    error, or ``split`` when the body was too large as a whole."""

    items: Optional[List[ItemOutcome]] = None
    retry: Optional[TransportError] = None
    retry_after: Optional[float] = None
    split: bool = False


def body_of(encoded: Sequence[bytes]) -> bytes:
    """A JSON array of the already encoded events."""
    return b"[" + b",".join(encoded) + b"]"


def post_once(conn: Connection, ids: Sequence[str], encoded: Sequence[bytes],
              timeout: Optional[float] = None) -> Attempt:
    """POST the events once and classify the answer.

    The request carries an Idempotency-Key equal to the event id when it
    holds one event; every event carries its id, so the server records each
    at most once however often the request is repeated.
    """
    headers: Dict[str, str] = {}
    if len(ids) == 1:
        headers["Idempotency-Key"] = ids[0]
    try:
        resp = conn.request("POST", conn.path("/v1/events"), body=body_of(encoded),
                            headers=headers, timeout=timeout)
    except TransportConnectionError as e:
        return Attempt(retry=e)
    return classify(resp, ids)


def classify(resp: Response, ids: Sequence[str]) -> Attempt:
    """Turn an ingest answer into per-item outcomes."""
    body = resp.json()
    if resp.status in (200, 201, 202, 207) and isinstance(body, dict):
        return Attempt(items=_items(resp.status, body, ids))
    if (resp.status in (400, 413) and isinstance(body, dict) and body.get("errors")
            and not body.get("error")):
        # Every item was refused, each for its own reason.
        return Attempt(items=_items(resp.status, body, ids))
    if resp.status == 413 and len(ids) > 1:
        return Attempt(split=True)
    err = error_for(resp, "POST /v1/events")
    if resp.status in RETRY_STATUSES:
        return Attempt(retry=err, retry_after=resp.retry_after())
    if resp.status == 413:
        err = RejectedError(str(err), status=413, body=body, code="too_large")
    return Attempt(items=[err] * len(ids))


def _items(status: int, body: Dict[str, Any], ids: Sequence[str]) -> List[ItemOutcome]:
    n = len(ids)
    out: List[Optional[ItemOutcome]] = [None] * n
    for e in body.get("errors") or []:
        i = e.get("index")
        if isinstance(i, int) and 0 <= i < n:
            out[i] = RejectedError(f"event {ids[i]}: {e.get('code')}: {e.get('error')}", status=status,
                                   body=e, code=e.get("code"))
    if body.get("errors_truncated") and any(o is None for o in out) and body.get("rejected"):
        # Some refused items are not named: which ones is unknown. The named
        # ones failed; the rest are treated as accepted only if the counts
        # say so.
        pass
    dup_idx, dup_ids, stored_as = _duplicates(body, ids)
    accepted_ids = body.get("ids") or []
    k = 0
    for i in range(n):
        if out[i] is not None:
            continue
        sid = ids[i]
        if k < len(accepted_ids) and isinstance(accepted_ids[k], str):
            sid = accepted_ids[k]
        k += 1
        sid = stored_as.get(i, sid)
        out[i] = LogResult(id=sid, duplicate=i in dup_idx or ids[i] in dup_ids)
    if body.get("error"):
        # A request-level failure after some items: the items not named were
        # not all read. Report the failure for those beyond the accepted
        # count so that a retry sends them again.
        accepted = int(body.get("accepted") or 0)
        seen = 0
        for i in range(n):
            if isinstance(out[i], LogResult):
                seen += 1
                if seen > accepted:
                    out[i] = TransportError(f"POST /v1/events: {body.get('error')}", status=status, body=body)
    return [o for o in out if o is not None]


def _duplicates(body: Dict[str, Any], ids: Sequence[str]):
    """Read which items were duplicates from the answer's "items" (objects
    with index, id, duplicate, original id) or "duplicates" (indexes or ids)."""
    idx: set = set()
    dids: set = set()
    stored_as: Dict[int, str] = {}
    items = body.get("items")
    if isinstance(items, list):
        for pos, it in enumerate(items):
            if not isinstance(it, dict):
                continue
            i = it.get("index", pos)
            if it.get("duplicate") and isinstance(i, int):
                idx.add(i)
                orig = it.get("original_id") or it.get("id")
                if isinstance(orig, str) and orig:
                    stored_as[i] = orig
    dups = body.get("duplicates")
    if isinstance(dups, list):
        for d in dups:
            if isinstance(d, int):
                idx.add(d)
            elif isinstance(d, str):
                dids.add(d)
            elif isinstance(d, dict):
                i = d.get("index")
                if isinstance(i, int):
                    idx.add(i)
                if isinstance(d.get("id"), str):
                    dids.add(d["id"])
    if body.get("duplicate") is True and len(ids) == 1:
        idx.add(0)
    return idx, dids, stored_as
