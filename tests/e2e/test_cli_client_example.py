"""The client library's example program (client/examples/live_tail.cc) against the real server:
a query, then a live tail that survives a server restart with every row exactly once."""
import json
import os
import queue
import subprocess
import threading
import time
from pathlib import Path

import pytest

from cli_pty import cli_binary
from kalam_harness import ROOT_PASSWORD


def example_binary() -> str:
    """$KALAM_CLIENT_EXAMPLE_BIN, else kalam_client_example next to the CLI's build dir."""
    path = os.environ.get("KALAM_CLIENT_EXAMPLE_BIN") or str(
        Path(cli_binary()).resolve().parents[1] / "client" / "kalam_client_example")
    if not Path(path).is_file():
        raise RuntimeError(f"kalam_client_example not found at {path}: build the "
                           "'kalam_client_example' target or set KALAM_CLIENT_EXAMPLE_BIN")
    return path


class Tail:
    """The example's stdout, one parsed JSON event per line, read on a thread."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.events = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.events.put(json.loads(line))

    def next(self, timeout=20.0):
        return self.events.get(timeout=timeout)

    def stop(self):
        self.proc.terminate()
        return self.proc.wait(timeout=10)


def test_example_runs_a_query(fresh_server):
    fresh_server.sql("CREATE NAMESPACE ex")
    r = subprocess.run([example_binary(), "--url", fresh_server.base, "--user", "root",
                        "--password", ROOT_PASSWORD, "--query", "SELECT 'hi' AS greeting"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "+----------+\n| greeting |\n+----------+\n| hi       |\n+----------+\n(1 row)\n"


def test_example_tail_survives_a_server_restart(fresh_server):
    s = fresh_server
    s.sql("CREATE NAMESPACE ex")
    s.sql("CREATE USER TABLE ex.t (id INT PRIMARY KEY, body TEXT)")
    s.sql("INSERT INTO ex.t (id, body) VALUES (1, 'before')")
    tail = Tail([example_binary(), "--url", s.base, "--user", "root", "--password", ROOT_PASSWORD,
                 "--subscribe", "SELECT * FROM ex.t", "--initial"])
    try:
        assert tail.next()["event"] == "SUBSCRIBED"
        initial = tail.next()
        assert initial["event"] == "INITIAL" and [r["id"] for r in initial["rows"]] == [1]
        s.sql("INSERT INTO ex.t (id, body) VALUES (2, 'live')")
        ev = tail.next()
        assert ev["event"] == "INSERT" and ev["rows"][0]["id"] == 2

        s.stop()
        assert tail.next()["event"] == "DISCONNECTED"
        s.start()
        for i in range(3, 8):  # while the tail reconnects
            s.sql(f"INSERT INTO ex.t (id, body) VALUES ({i}, 'after')")
        s.sql("DELETE FROM ex.t WHERE id = 1")

        seen, deleted = [], []
        deadline = time.time() + 30
        while (sorted(seen) != [3, 4, 5, 6, 7] or deleted != [1]) and time.time() < deadline:
            ev = tail.next()
            if ev["event"] in ("INSERT", "INITIAL"):
                seen.extend(r["id"] for r in ev["rows"])
            elif ev["event"] == "DELETE":
                deleted.extend(r["id"] for r in ev["old_rows"])
            else:
                assert ev["event"] == "RECONNECTED", ev
        assert sorted(seen) == [3, 4, 5, 6, 7]  # each exactly once: none lost, none repeated
        assert deleted == [1]
        with pytest.raises(queue.Empty):
            tail.next(timeout=0.5)
    finally:
        tail.stop()
