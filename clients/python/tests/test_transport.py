"""EventGateTransport against the real daemon."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any, Dict, List

import pydantic
import pytest

import eventgate
from conftest import DropProxy, new_session, settled_events, wait_until


class ToolCall(pydantic.BaseModel):
    type: str = "tool_call"
    session_id: str
    tool: str
    args: Dict[str, Any] = {}


@dataclasses.dataclass
class Reply:
    user_session_id: str
    text: str
    type: str = "agent_reply"


class Untyped:
    """An object with only the seed's dict() convention."""

    def __init__(self, sid: str) -> None:
        self.sid = sid

    def dict(self) -> Dict[str, Any]:
        return {"session_id": self.sid, "note": "legacy"}


def test_is_a_transport_interface():
    t = eventgate.EventGateTransport("http://127.0.0.1:1")
    assert isinstance(t, eventgate.TransportInterface)
    for name in ("send", "connect", "disconnect", "close", "__aenter__", "__aexit__"):
        assert asyncio.iscoroutinefunction(getattr(t, name)), name


def test_send_pydantic_dataclass_dict_and_legacy_objects(daemon, client):
    sid = new_session("tr")

    async def run() -> List[bool]:
        async with eventgate.EventGateTransport(daemon.url, daemon.token) as t:
            return [
                await t.send(ToolCall(session_id=sid, tool="search", args={"q": "x"}), {"step": 1}),
                await t.send(Reply(user_session_id=sid, text="hi"), {"step": 2}),
                await t.send({"session_id": sid, "type": "user_message", "text": "hello"}),
                await t.send(Untyped(sid)),
            ]

    assert asyncio.run(run()) == [True] * 4
    stored = settled_events(client, sid)
    assert [e.type for e in stored] == ["tool_call", "agent_reply", "user_message", "Untyped"]
    assert stored[0].data == {"type": "tool_call", "session_id": sid, "tool": "search", "args": {"q": "x"}}
    assert stored[1].data == {"user_session_id": sid, "text": "hi", "type": "agent_reply"}
    assert stored[3].data == {"session_id": sid, "note": "legacy"}


def test_metadata_keeps_its_json_types(daemon, client):
    sid = new_session("meta")
    meta = {"temperature": 0.2, "tags": ["a", "b"], "n": 3, "ok": True, "model": "m1"}

    async def run() -> None:
        async with eventgate.EventGateTransport(daemon.url, daemon.token) as t:
            await t.send({"session_id": sid, "type": "x"}, meta)

    asyncio.run(run())
    (ev,) = settled_events(client, sid)
    assert ev.meta == meta


def test_batches_concurrent_sends_in_order(daemon, client):
    sid = new_session("batch")

    async def run() -> eventgate.TransportStats:
        async with eventgate.EventGateTransport(daemon.url, daemon.token, batch_size=100) as t:
            res = await asyncio.gather(*(t.send({"session_id": sid, "type": "n", "i": i}) for i in range(300)))
            assert all(res)
            return t.stats

    stats = asyncio.run(run())
    assert stats.sent == 300 and stats.failed == 0
    assert stats.requests <= 10, f"{stats.requests} requests for 300 events: not batched"
    stored = settled_events(client, sid)
    assert [e.data["i"] for e in stored] == list(range(300))


def test_flush_on_size_and_on_close_without_waiting(daemon, client):
    sid = new_session("nowait")

    async def run() -> None:
        t = eventgate.EventGateTransport(daemon.url, daemon.token, batch_size=10, flush_interval=3600, wait=False)
        await t.connect()
        for i in range(25):
            assert await t.send({"session_id": sid, "type": "n", "i": i}) is True
        # two full batches go at once; five wait for the interval or close
        await asyncio.to_thread(wait_until, lambda: t.stats.sent == 20, 30, "two full batches")
        assert t.stats.sent == 20 and t.stats.requests == 2
        await t.close()
        assert t.stats.sent == 25 and t.stats.requests == 3
        with pytest.raises(eventgate.ClosedError):
            await t.send({"session_id": sid})

    asyncio.run(run())
    assert [e.data["i"] for e in settled_events(client, sid)] == list(range(25))


def test_flush_on_interval(daemon, client):
    sid = new_session("interval")

    async def run() -> None:
        async with eventgate.EventGateTransport(daemon.url, daemon.token, batch_size=1000,
                                                flush_interval=0.2, wait=False) as t:
            for i in range(5):
                await t.send({"session_id": sid, "type": "n", "i": i})
            assert t.stats.sent == 0
            await asyncio.to_thread(wait_until, lambda: t.stats.sent == 5, 30, "the interval flush")
            assert t.stats.requests == 1

    asyncio.run(run())


def test_retries_through_dropping_proxy_store_each_event_once(daemon, client):
    sid = new_session("drop")
    n = 60

    async def run(url: str) -> eventgate.TransportStats:
        policy = eventgate.RetryPolicy(max_attempts=6, initial_delay=0.01, max_delay=0.1)
        async with eventgate.EventGateTransport(url, daemon.token, batch_size=4, retry=policy) as t:
            for i in range(0, n, 4):
                res = await asyncio.gather(*(t.send({"session_id": sid, "type": "n", "i": j})
                                             for j in range(i, i + 4)))
                assert all(res)
            return t.stats

    with DropProxy(daemon.url, every=3) as proxy:
        stats = asyncio.run(run(proxy.url))
    assert proxy.dropped > 0 and stats.retries > 0
    assert stats.sent == n and stats.failed == 0
    assert stats.duplicates > 0, "the retried events were reported as duplicates"
    stored = settled_events(client, sid)
    assert [e.data["i"] for e in stored] == list(range(n)), "each event once, in order"


def test_refused_event_raises_and_the_transport_goes_on(daemon, client):
    sid = new_session("refuse")

    async def run() -> None:
        async with eventgate.EventGateTransport(daemon.url, daemon.token) as t:
            with pytest.raises(eventgate.RejectedError) as ei:
                await t.send({"session_id": "../escape", "type": "bad session id"})
            assert ei.value.code == "invalid_event"
            assert await t.send({"session_id": sid, "type": "after"}) is True

    asyncio.run(run())
    assert [e.type for e in settled_events(client, sid)] == ["after"]


def test_unserializable_event_raises_serialization_error():
    async def run() -> None:
        async with eventgate.EventGateTransport("http://127.0.0.1:1") as t:
            with pytest.raises(eventgate.SerializationError):
                await t.send({"session_id": "s", "x": object()})
            with pytest.raises(eventgate.TransportError):
                await t.send({"session_id": "s", "x": float("nan")})

    asyncio.run(run())


def test_unreachable_server_raises_connection_error():
    with socket_closed_port() as port:
        async def run() -> None:
            policy = eventgate.RetryPolicy(max_attempts=3, initial_delay=0.01, max_delay=0.02)
            async with eventgate.EventGateTransport(f"http://127.0.0.1:{port}", "x" * 20, retry=policy) as t:
                with pytest.raises(eventgate.TransportConnectionError):
                    await t.send({"session_id": "s"})
                assert t.stats.requests == 3

        asyncio.run(run())


def test_wrong_token_raises_auth_error(daemon):
    async def run() -> None:
        async with eventgate.EventGateTransport(daemon.url, "wrong-token-0123456789") as t:
            with pytest.raises(eventgate.AuthError):
                await t.send({"session_id": "s"})
            assert t.stats.requests == 1, "an auth failure is not retried"

    asyncio.run(run())


class socket_closed_port:
    """A loopback port with nothing listening on it."""

    def __enter__(self) -> int:
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        return self.port

    def __exit__(self, *exc: object) -> None:
        pass
