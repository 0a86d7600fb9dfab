"""GET /metrics (Prometheus text format 0.0.4) and system.stats (docs/metrics.md)."""
import re
import shutil
import subprocess

import pytest
import requests

from kalam_harness import DEFAULT_TEST_CONFIG, Server
from live_client import LiveClient
from security_helpers import non_loopback_ip
from test_cold_tier import flush

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$")


def scrape(server):
    r = requests.get(server.base + "/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == CONTENT_TYPE
    return r.text


def parse(text):
    """{'name{labels}': value} for every sample; checks each family has HELP and TYPE first."""
    samples, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, line
        name = m.group(1)
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or family in typed, f"{name} has no # TYPE line"
        samples[name + (m.group(2) or "")] = float(m.group(3))
    return samples


def delta(before, after, key):
    return after.get(key, 0) - before.get(key, 0)


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path / "data").start()
    yield s
    s.stop()


def test_series_move_with_sql_live_and_flush(server):
    server.sql("CREATE NAMESPACE m")
    server.sql("CREATE SHARED TABLE m.t (id INT PRIMARY KEY, v TEXT)")
    m0 = parse(scrape(server))
    for i in range(5):
        server.sql(f"INSERT INTO m.t (id, v) VALUES ({i}, 'x')")
    assert len(server.rows("SELECT * FROM m.t")) == 5
    c = LiveClient(server)
    c.subscribe_ready("s", "SELECT * FROM m.t")
    for i in range(5, 8):
        server.sql(f"INSERT INTO m.t (id, v) VALUES ({i}, 'y')")
    assert len(c.changes(3)) == 3
    flush(server, "m.t")
    for _ in range(2):  # the first read decodes the segment, the second finds it cached
        assert server.rows("SELECT v FROM m.t WHERE id = 1") == [["x"]]
    m1 = parse(scrape(server))

    assert delta(m0, m1, 'kalamdb_sql_statements_total{kind="INSERT",outcome="ok"}') == 8
    assert delta(m0, m1, 'kalamdb_sql_statements_total{kind="SELECT",outcome="ok"}') >= 3
    assert delta(m0, m1, 'kalamdb_http_requests_total{route="/v1/api/sql",status="200"}') >= 12
    assert delta(m0, m1, 'kalamdb_http_request_duration_seconds_count{route="/v1/api/sql"}') >= 12
    assert m1['kalamdb_http_request_duration_seconds_bucket{route="/v1/api/sql",le="+Inf"}'] == \
        m1['kalamdb_http_request_duration_seconds_count{route="/v1/api/sql"}']
    assert delta(m0, m1, "kalamdb_commits_total") >= 8
    assert delta(m0, m1, "kalamdb_committed_rows_total") >= 8
    assert delta(m0, m1, "kalamdb_commit_groups_total") >= 1
    assert delta(m0, m1, "kalamdb_commit_duration_seconds_count") >= 8
    assert delta(m0, m1, "kalamdb_commit_group_rows_count") >= 1
    assert delta(m0, m1, "kalamdb_live_events_delivered_total") == 3
    assert delta(m0, m1, "kalamdb_live_notify_latency_seconds_count") >= 1
    assert m1["kalamdb_live_subscriptions"] == 1 and m1["kalamdb_live_connections"] == 1
    assert m1["kalamdb_live_lagging_closes_total"] == 0
    assert m1['kalamdb_jobs{type="flush",status="completed"}'] >= 1
    assert delta(m0, m1, "kalamdb_cold_cache_misses_total") >= 1
    assert delta(m0, m1, "kalamdb_cold_cache_hits_total") >= 1
    assert m1["kalamdb_tables"] >= 1 and m1["kalamdb_namespaces"] >= 1
    for gauge in ("kalamdb_rocksdb_memtable_bytes", "kalamdb_rocksdb_pending_compaction_bytes",
                  "kalamdb_rocksdb_live_sst_bytes", "kalamdb_rocksdb_wal_bytes"):
        assert gauge in m1
    assert m1["kalamdb_rocksdb_wal_bytes"] > 0
    assert m1["process_resident_memory_bytes"] > 1 << 20
    assert m1["process_open_fds"] > 3
    assert m1["process_start_time_seconds"] > 1.7e9
    assert m1["kalamdb_uptime_seconds"] >= 0
    # Per-group Raft series exist on cluster nodes only (test_cluster.py).
    assert [k for k in m1 if k.startswith("kalamdb_raft_")] == []
    c.close()
    # the connection and subscription gauges go back down
    m2 = parse(scrape(server))
    assert m2["kalamdb_live_connections"] in (0, 1)  # the close may still be in flight
    # an unknown path is counted under one bounded label, not its raw path
    assert requests.get(server.base + "/no/such/path").status_code == 404
    m3 = parse(scrape(server))
    assert m3['kalamdb_http_requests_total{route="unmatched",status="404"}'] >= 1
    assert not any("/no/such/path" in k for k in m3)


def test_failed_statements_are_counted_as_errors(server):
    m0 = parse(scrape(server))
    r = server.sql_raw("SELECT * FROM nope.missing")
    assert r.status_code == 400
    m1 = parse(scrape(server))
    assert delta(m0, m1, 'kalamdb_sql_statements_total{kind="SELECT",outcome="error"}') == 1
    assert delta(m0, m1, 'kalamdb_http_requests_total{route="/v1/api/sql",status="400"}') == 1


def test_promtool_accepts_the_output(server):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package 'prometheus')")
    server.sql("CREATE NAMESPACE p")
    server.sql("CREATE SHARED TABLE p.t (id INT PRIMARY KEY)")
    server.sql("INSERT INTO p.t (id) VALUES (1)")
    text = scrape(server)
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "" and r.stderr.strip() == "", r.stdout + r.stderr


def test_system_stats_rows_use_the_original_names_and_ours(server):
    server.create_user("alice")

    def stat(name):
        rows = server.rows("SELECT metric_value FROM system.stats WHERE metric_name = $1", [name])
        assert len(rows) == 1, (name, rows)
        return rows[0][0]

    assert stat("total_users") == "2"  # root and alice
    assert stat("total_namespaces") == stat("namespaces")
    assert int(stat("memory_rss_bytes")) > 1 << 20
    assert int(stat("open_files_total")) > 3
    assert int(stat("thread_count")) > 1
    assert int(stat("server_uptime_seconds")) >= 0
    assert stat('kalamdb_sql_statements_total{kind="CREATE USER",outcome="ok"}') == "1"
    assert stat("kalamdb_commit_duration_seconds_count").isdigit()
    assert int(stat("kalamdb_rocksdb_wal_bytes")) > 0
    # a plain user may not read system tables
    r = server.sql_raw("SELECT * FROM system.stats", user="alice", password="password123")
    assert r.status_code == 403 or r.status_code == 400, r.text


def test_remote_peer_allowed_when_configured(tmp_path):
    ip = non_loopback_ip()
    if ip is None:
        pytest.skip("no non-loopback address on this machine")
    s = Server(tmp_path / "data", env={"KALAMDB_SERVER_HOST": "0.0.0.0"},
               config_toml=DEFAULT_TEST_CONFIG + "[metrics]\nallow_remote = true\n").start()
    try:
        r = requests.get(f"http://{ip}:{s.port}/metrics")
        assert r.status_code == 200 and r.headers["Content-Type"] == CONTENT_TYPE
        assert "# TYPE kalamdb_http_requests_total counter" in r.text
    finally:
        s.stop()


def test_remote_peer_refused_by_default(tmp_path):
    ip = non_loopback_ip()
    if ip is None:
        pytest.skip("no non-loopback address on this machine")
    s = Server(tmp_path / "data", env={"KALAMDB_SERVER_HOST": "0.0.0.0"}).start()
    try:
        r = requests.get(f"http://{ip}:{s.port}/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
        assert r.status_code == 403
        assert r.json() == {"error": "FORBIDDEN",
                            "message": "Metrics are only answered on loopback (set [metrics] "
                                       "allow_remote = true to allow other machines)"}
    finally:
        s.stop()
