"""The seed's HTTPTransport, copied unchanged (seed_fixture.py), against the
real daemon: every send succeeds and stores one event; behind a proxy that
drops every third answer, a retry around it still stores each event once."""

from __future__ import annotations

import asyncio
import secrets
from typing import List

import pydantic
import pytest

import seed_fixture
from conftest import DropProxy, new_session, settled_events


class AgentMessage(pydantic.BaseModel):
    """A pydantic event as a seed user defines one."""

    type: str = "agent_message"
    session_id: str
    text: str
    temperature: float = 0.2
    tags: List[str] = []


def _transport(url: str, token: str) -> seed_fixture.HTTPTransport:
    return seed_fixture.HTTPTransport(url + "/v1/events", headers={"Authorization": "Bearer " + token})


def test_seed_http_transport_succeeds_and_stores_one_event_per_send(daemon, client):
    sid = new_session("seed")
    sent = [AgentMessage(session_id=sid, text=f"message {i}", tags=["a", str(i)]) for i in range(5)]

    async def run() -> List[bool]:
        async with _transport(daemon.url, daemon.token) as t:
            return [await t.send(ev, {"model": "m1", "step": i}) for i, ev in enumerate(sent)]

    assert asyncio.run(run()) == [True] * 5
    stored = settled_events(client, sid)
    assert [e.data for e in stored] == [ev.dict() for ev in sent]
    assert all(e.type == "agent_message" and e.session_id == sid for e in stored)


async def _send_with_retries(t: seed_fixture.HTTPTransport, ev, meta, attempts: int = 4) -> int:
    """The retry a seed user wraps around send: up to `attempts` tries on
    TransportError. Returns the number of tries used."""
    for n in range(1, attempts + 1):
        try:
            assert await t.send(ev, meta) is True
            return n
        except seed_fixture.TransportError:
            if n == attempts:
                raise
            # aiohttp keeps the dropped connection in its pool otherwise
            await t.disconnect()
    raise AssertionError("unreachable")


def test_seed_http_transport_retries_through_dropping_proxy_store_once(daemon, client):
    sid = new_session("seed-drop")
    events = [AgentMessage(session_id=sid, text=f"retry {i}") for i in range(12)]
    ids = [f"{sid}-ev-{i}" for i in range(12)]

    async def run(url: str) -> List[int]:
        t = _transport(url, daemon.token)
        try:
            return [await _send_with_retries(t, ev, {"event_id": eid, "temperature": 0.2})
                    for ev, eid in zip(events, ids)]
        finally:
            await t.close()

    with DropProxy(daemon.url, every=3) as proxy:
        tries = asyncio.run(run(proxy.url))
    assert proxy.dropped >= 4, "the proxy dropped answers"
    assert sum(tries) > len(events), "some sends needed a retry"
    stored = settled_events(client, sid)
    assert sorted(e.id for e in stored) == sorted(ids), "each event is stored exactly once"
    assert [e.data["text"] for e in stored] == [ev.text for ev in events]
