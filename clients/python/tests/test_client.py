"""The sync Client against the real daemon."""

from __future__ import annotations

import threading

import pytest

import eventgate
from conftest import DropProxy, new_session, settled_events, wait_until


def test_log_returns_the_id_and_stores_the_event(client):
    sid = new_session("log")
    r = client.log({"text": "hi"}, {"model": "m1"}, session_id=sid, type="user_message")
    assert isinstance(r, eventgate.LogResult) and r.id and not r.duplicate
    (ev,) = settled_events(client, sid)
    assert (ev.id, ev.type, ev.data, ev.session_id) == (r.id, "user_message", {"text": "hi"}, sid)


def test_log_same_id_twice_is_a_duplicate_stored_once(client):
    sid = new_session("dup")
    first = client.log({"session_id": sid, "type": "x"}, id=f"{sid}-1")
    again = client.log({"session_id": sid, "type": "x"}, id=f"{sid}-1")
    seed_style = client.log({"session_id": sid, "type": "x"}, {"event_id": f"{sid}-1"})
    assert not first.duplicate and again.duplicate and seed_style.duplicate
    assert again.id == first.id == f"{sid}-1"
    assert [e.id for e in settled_events(client, sid)] == [f"{sid}-1"]


def test_log_retries_through_dropping_proxy_store_once(daemon, client):
    sid = new_session("cdrop")
    policy = eventgate.RetryPolicy(max_attempts=5, initial_delay=0.01, max_delay=0.05)
    with DropProxy(daemon.url, every=3) as proxy:
        with eventgate.Client(proxy.url, daemon.token, retry=policy, batch_size=5) as c:
            ids = [c.log({"session_id": sid, "type": "n", "i": i}).id for i in range(9)]
            ids += [r.id for r in c.log_many({"session_id": sid, "type": "n", "i": i} for i in range(9, 29))]
    assert proxy.dropped >= 3
    stored = settled_events(client, sid)
    assert [e.id for e in stored] == ids
    assert [e.data["i"] for e in stored] == list(range(29))


def test_log_refused_raises_rejected(client):
    with pytest.raises(eventgate.RejectedError):
        client.log({"session_id": "../escape", "type": "bad session id"})


def test_log_many_partial_reports_each_item(client):
    sid = new_session("partial")
    out = client.log_many([{"session_id": sid, "type": "ok"}, {"session_id": "../escape", "type": "bad"},
                           ({"session_id": sid, "type": "ok"}, {"k": 1})], raise_on_error=False)
    assert isinstance(out[0], eventgate.LogResult) and isinstance(out[2], eventgate.LogResult)
    assert isinstance(out[1], eventgate.RejectedError) and out[1].code == "invalid_event"
    assert len(settled_events(client, sid)) == 2


def test_sessions_pages_through_every_session(client):
    prefix = new_session("pages")
    sids = [f"{prefix}-{i}" for i in range(7)]
    client.log_many([{"session_id": s, "type": "t"} for s in sids])

    def all_listed():
        # The listing comes from the session catalog, which follows the
        # session files: wait until it has every session.
        got = list(client.sessions(page_size=2, prefix=prefix, with_types=True))
        return got if len(got) == 7 and all(s.count == 1 for s in got) else None

    listed = wait_until(all_listed, 30, "the catalog to list the sessions")
    assert sorted(s.id for s in listed) == sorted(sids)
    assert all(s.types == ["t"] for s in listed), listed
    page = client.sessions_page(limit=3, prefix=prefix)
    assert len(page.sessions) == 3 and page.next_cursor and page.total == 7
    rest = client.sessions_page(limit=5, prefix=prefix, cursor=page.next_cursor)
    assert len(rest.sessions) == 4 and rest.next_cursor is None
    assert {s.id for s in page.sessions + rest.sessions} == set(sids)
    one = client.session(sids[0])
    assert one.id == sids[0] and one.first is not None and one.last >= one.first
    with pytest.raises(eventgate.NotFoundError):
        client.session(prefix + "-missing")


def test_events_pages_and_after_seq(client):
    sid = new_session("events")
    client.log_many({"session_id": sid, "type": "odd" if i % 2 else "even", "i": i} for i in range(23))
    stored = settled_events(client, sid)
    assert [e.data["i"] for e in stored] == list(range(23))
    paged = list(client.events(sid, page_size=5))[:23]
    assert [e.seq for e in paged] == [e.seq for e in stored]
    assert [e.seq for e in paged] == sorted(e.seq for e in paged)
    after = list(client.events(sid, after_seq=stored[9].seq))[:13]
    assert [e.data["i"] for e in after] == list(range(10, 23))
    assert [e.data["i"] for e in client.events(sid, type="odd")] == list(range(1, 23, 2))
    assert len(list(client.events(sid, limit=4, page_size=3))) == 4


def test_follow_replays_then_streams_live(daemon, client):
    sid = new_session("follow")
    client.log_many({"session_id": sid, "type": "hist", "i": i} for i in range(3))
    got = []
    with eventgate.Client(daemon.url, daemon.token) as writer:
        for ev in client.follow(sid, read_timeout=30):
            got.append(ev)
            if len(got) == 3:
                writer.log_many({"session_id": sid, "type": "live", "i": i} for i in range(3, 5))
            if len(got) == 5:
                break
    assert [e.data["i"] for e in got] == list(range(5))
    assert [e.type for e in got] == ["hist"] * 3 + ["live"] * 2
    seqs = [e.seq for e in got]
    assert seqs == sorted(set(seqs))
    resumed = next(iter(client.follow(sid, after_seq=seqs[2], read_timeout=30)))
    assert resumed.seq == seqs[3]


def test_follow_stops_when_asked(daemon, client):
    sid = new_session("stop")
    client.log({"session_id": sid, "type": "a"})
    stop = threading.Event()
    got = []
    for ev in client.follow(sid, stop=stop, read_timeout=30):
        got.append(ev)
        stop.set()
    assert len(got) == 1


def test_agent_loop_example_records_its_turn(daemon, client):
    import asyncio
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / "agent_loop.py"
    spec = importlib.util.spec_from_file_location("agent_loop", path)
    mod = importlib.util.module_from_spec(spec)
    import sys
    sys.modules["agent_loop"] = mod
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    sid = new_session("agent")
    asyncio.run(mod.main(["what is the weather in Paris?", "--url", daemon.url,
                          "--token", daemon.token, "--session", sid]))
    stored = settled_events(client, sid)
    assert [e.type for e in stored] == ["user_message", "tool_call", "tool_result", "agent_reply"]
    assert stored[-1].data["text"].startswith("It is sunny in Paris")
    assert [e.meta["step"] for e in stored] in ([1, 2, 3, 4], ["1", "2", "3", "4"])
