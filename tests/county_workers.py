"""A real ``xueji-duty county sync`` process that stops dead in the middle of a batch (issue 19).

``python -m tests.county_workers sync-stall MARKER N -- <county sync arguments>`` runs the real
CLI; after the server committed the N-th batch, and before the school marks it sent, it writes
MARKER and sleeps, so the parent can SIGKILL it at exactly the worst moment.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path


def main() -> int:
    mode, marker, nth = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    rest = sys.argv[sys.argv.index("--") + 1:]
    assert mode == "sync-stall"
    from models.county import server
    real = server.apply_changes
    calls = {"n": 0}

    def stalling(conn, school, changes):
        got = real(conn, school, changes)       # committed on the server
        calls["n"] += 1
        if calls["n"] == nth:
            marker.write_text(str(got))
            time.sleep(120)                      # killed here: the batch is never marked sent
        return got

    server.apply_changes = stalling
    from tui.cli import main as cli_main
    return cli_main(["county", "sync", *rest])


if __name__ == "__main__":
    sys.exit(main())
