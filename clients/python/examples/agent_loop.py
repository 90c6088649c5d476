"""An agent loop that records every step of its sessions in eventgate.

The loop is the usual shape of an LLM agent: take the user's message, ask
the model, run the tools it asks for, answer. Each step is a pydantic event
sent through EventGateTransport, the seed's TransportInterface, so code
written for the seed's transports plugs in unchanged. The model here is a
stand-in that answers from a table, so the example runs anywhere.

    export EVENTGATE_URL=http://127.0.0.1:8080 EVENTGATE_TOKEN=<secret>
    python examples/agent_loop.py "what is the weather in Paris?"

Then read the session back: ``eventgate events <session>``, or
``python examples/read_session.py <session>``.
"""


import argparse
import asyncio
import os
import time
import uuid
from typing import Any, Dict, List, Optional

try:
    from pydantic import BaseModel
except ImportError:  # the example also runs without pydantic
    from dataclasses import dataclass as _dc

    class BaseModel:  # type: ignore[no-redef]
        def __init_subclass__(cls, **kw: Any) -> None:
            super().__init_subclass__(**kw)
            _dc(cls)

import eventgate


class UserMessage(BaseModel):
    session_id: str
    text: str
    type: str = "user_message"


class ToolCall(BaseModel):
    session_id: str
    tool: str
    args: Dict[str, Any]
    type: str = "tool_call"


class ToolResult(BaseModel):
    session_id: str
    tool: str
    result: Any
    type: str = "tool_result"


class AgentReply(BaseModel):
    session_id: str
    text: str
    type: str = "agent_reply"


def weather(city: str) -> Dict[str, Any]:
    """A tool: a canned forecast."""
    return {"city": city, "forecast": "sunny", "celsius": 21}


TOOLS = {"weather": weather}


def fake_model(history: List[Dict[str, Any]]) -> Dict[str, Any]:
    """A stand-in for the LLM: asks for the weather tool once, then answers."""
    last = history[-1]
    if last["role"] == "user" and "weather" in last["content"]:
        city = last["content"].rstrip("?").split()[-1]
        return {"tool": "weather", "args": {"city": city}}
    if last["role"] == "tool":
        r = last["content"]
        return {"text": f"It is {r['forecast']} in {r['city']}, {r['celsius']} °C."}
    return {"text": "I can tell you the weather: ask me about a city."}


async def run_turn(transport: eventgate.TransportInterface, session_id: str, text: str,
                   model: str = "stand-in-1", temperature: float = 0.2) -> str:
    """One turn of the agent; every step is sent to the transport."""
    meta = {"model": model, "temperature": temperature}
    step = 0

    async def record(event: Any) -> None:
        nonlocal step
        step += 1
        # Metadata keeps its JSON types (numbers stay numbers). A stable
        # event_id makes a caller-level retry of this send store it once.
        await transport.send(event, {**meta, "step": step, "event_id": f"{session_id}/{step}/{uuid.uuid4()}"})

    history: List[Dict[str, Any]] = [{"role": "user", "content": text}]
    await record(UserMessage(session_id=session_id, text=text))
    for _ in range(5):
        t0 = time.perf_counter()
        out = fake_model(history)
        if "tool" in out:
            await record(ToolCall(session_id=session_id, tool=out["tool"], args=out["args"]))
            result = TOOLS[out["tool"]](**out["args"])
            await record(ToolResult(session_id=session_id, tool=out["tool"], result=result))
            history.append({"role": "tool", "content": result})
            continue
        reply = AgentReply(session_id=session_id, text=out["text"])
        meta["latency_ms"] = round((time.perf_counter() - t0) * 1000, 3)
        await record(reply)
        return reply.text
    raise RuntimeError("the model did not answer within 5 steps")


async def main(argv: Optional[List[str]] = None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("message", nargs="?", default="what is the weather in Paris?")
    ap.add_argument("--url", default=os.environ.get("EVENTGATE_URL", "http://127.0.0.1:8080"))
    ap.add_argument("--token", default=os.environ.get("EVENTGATE_TOKEN"))
    ap.add_argument("--session", default=f"agent-{uuid.uuid4().hex[:12]}")
    args = ap.parse_args(argv)
    # `async with` connects, and on leaving sends what is queued and closes.
    async with eventgate.EventGateTransport(args.url, args.token) as transport:
        answer = await run_turn(transport, args.session, args.message)
    print(f"{args.session}: {answer}")
    return args.session


if __name__ == "__main__":
    asyncio.run(main())
