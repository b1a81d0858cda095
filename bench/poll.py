"""The polling fallback of the live viewer page: what a 304 costs against a full render.

Starts the demo site as `make run` does (one gevent worker, SQLite), starts the demo live
session and presents its first vacancy, then runs wrk for DURATION seconds each against
  - /live/1/board with If-None-Match (what a polling viewer sends when nothing changed: 304),
  - /live/1/board without it (the board fragment rendered: 200),
  - /live/1 (the whole viewer page rendered),
and nginx serving a 5 KB static file as the machine's ceiling.

    .venv/bin/python bench/poll.py [--seconds 8] [--port P] [--nginx-port P]
                                          # --seconds defaults to $DURATION, else 8

No targets: it prints figures only (exit status 0, or 1 on a crash).
"""
from __future__ import annotations

import argparse
import os
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Targets, nginx_ceiling, port_options, site, wrk  # noqa: E402
from bench.live_viewers import SESSION_ID, Host  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("DURATION", "8")),
                        help="each load under wrk (default: $DURATION, else 8)")
    port_options(parser)
    args = parser.parse_args()
    duration = args.seconds
    with site(port=args.port) as s:
        host = Host(s.base)
        host.post(f"/live/{SESSION_ID}/start")
        host.post(f"/live/{SESSION_ID}/present", step="next")
        board = s.url(f"/live/{SESSION_ID}/board")
        with urllib.request.urlopen(urllib.request.Request(board, headers={"HX-Request": "true"})) as r:
            etag = r.headers["ETag"]
            size = len(r.read())
        hx = {"HX-Request": "true"}
        not_modified = wrk(board, duration=duration, connections=32, headers={**hx, "If-None-Match": etag})
        full_board = wrk(board, duration=duration, connections=32, headers=hx)
        page = wrk(s.url(f"/live/{SESSION_ID}"), duration=duration, connections=32)
    ceiling = nginx_ceiling(duration=min(duration, 5), port=args.nginx_port)
    print(f"board fragment {size:,} bytes; ETag {etag}")
    print(not_modified.line("poll, nothing changed (304)"))
    print(full_board.line("poll, changed (board render, 200)"))
    print(page.line("viewer page (full render, 200)"))
    print(ceiling.line("nginx 5 KB static (the ceiling)"))
    if full_board.rate and not_modified.rate:
        print(f"one worker spends {1000 / not_modified.rate:.2f} ms on a 304 and "
              f"{1000 / full_board.rate:.2f} ms on a board render: "
              f"{not_modified.rate / full_board.rate:.1f}x cheaper")
    return Targets().finish()


if __name__ == "__main__":
    sys.exit(main())
