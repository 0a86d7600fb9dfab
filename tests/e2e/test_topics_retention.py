"""Topic retention (docs/topics.md "Retention"): retention_seconds and retention_max_bytes are
enforced by topic_retention jobs (TR-…) from the oldest offset forward."""
import json
import time

import pytest

from kalam_harness import DEFAULT_TEST_CONFIG, Server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("kdb") / "data",
               config_toml=DEFAULT_TEST_CONFIG +
               "[topics]\nretention_check_interval_seconds = 1\n").start()
    yield s
    s.stop()


def offsets(server, topic):
    res = server.sql(f"CONSUME FROM {topic} LIMIT 1000")["results"][0]
    return [int(r[2]) for r in res.get("rows", [])]


def wait_for(fn, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    return fn()


def test_retention_seconds_deletes_expired_messages(server):
    server.sql("CREATE SHARED TABLE default.r1 (id INT PRIMARY KEY)")
    server.sql("CREATE TOPIC default.r1t")
    server.sql("ALTER TOPIC default.r1t ADD SOURCE default.r1 ON INSERT")
    server.sql("INSERT INTO default.r1 (id) VALUES (1), (2), (3)")
    assert offsets(server, "default.r1t") == [0, 1, 2]
    time.sleep(1.1)
    server.sql("ALTER TOPIC default.r1t SET (retention_seconds = 1)")
    assert wait_for(lambda: offsets(server, "default.r1t") == []), offsets(server, "default.r1t")
    jobs = server.rows("SELECT job_id, status, message FROM system.jobs "
                       "WHERE job_type = 'topic_retention'")
    assert any(j[0].startswith("TR-") and j[1] == "completed" and
               j[2].startswith("Topic retention: 3 messages deleted") for j in jobs), jobs
    # New messages continue the offsets and stay until they expire.
    server.sql("ALTER TOPIC default.r1t SET (retention_seconds = 3600)")
    server.sql("INSERT INTO default.r1 (id) VALUES (4)")
    assert offsets(server, "default.r1t") == [3]


def test_retention_max_bytes_keeps_the_newest_messages(server):
    server.sql("CREATE SHARED TABLE default.r2 (id INT PRIMARY KEY, body TEXT)")
    server.sql("CREATE TOPIC default.r2t")
    server.sql("ALTER TOPIC default.r2t ADD SOURCE default.r2 ON INSERT")
    for i in range(20):
        server.sql(f"INSERT INTO default.r2 (id, body) VALUES ({i}, '{'x' * 200}')")
    assert offsets(server, "default.r2t") == list(range(20))
    server.sql("ALTER TOPIC default.r2t SET (retention_max_bytes = 1500)")
    left = wait_for(lambda: (lambda o: o if len(o) < 20 else None)(offsets(server, "default.r2t")))
    assert left and left == list(range(20 - len(left), 20)), left
    assert 3 <= len(left) <= 6, left  # ~300 bytes per message
