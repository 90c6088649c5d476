"""Read a session back with the sync Client, as in a script or a notebook.

    python examples/read_session.py <session> [--follow]
"""

from __future__ import annotations

import argparse
import os

import eventgate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("session", nargs="?")
    ap.add_argument("--follow", action="store_true", help="keep printing new events (Ctrl-C ends)")
    ap.add_argument("--url", default=os.environ.get("EVENTGATE_URL", "http://127.0.0.1:8080"))
    ap.add_argument("--token", default=os.environ.get("EVENTGATE_TOKEN"))
    args = ap.parse_args()
    with eventgate.Client(args.url, args.token) as c:
        if not args.session:
            for s in c.sessions(page_size=50):
                print(f"{s.id}\t{s.count} events\tlast {s.last:%Y-%m-%d %H:%M:%S}")
            return
        events = c.follow(args.session) if args.follow else c.events(args.session)
        try:
            for e in events:
                print(f"{e.seq:>8} {e.time:%H:%M:%S.%f} {e.type:<14} {e.data} {e.meta}")
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
