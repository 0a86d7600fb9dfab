"""docs/logging.md: logging.format = "json" (one JSON object per line), the slow-query log
(slow.log with literals redacted, the user, the table and its type, the rows) and
system.server_logs (dba and system only; reads either format)."""
import json
import re
import time

import pytest

from helpers import unique
from kalam_harness import DEFAULT_TEST_CONFIG, serve

DENIED = {"code": "PERMISSION_DENIED",
          "message": "Statement 1 failed: Permission denied: system tables are readable by dba and system roles only"}
TS_JSON = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
SLOW = re.compile(r"\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\] SLOW QUERY - user=(.*?), "
                  r"table=(.*?), duration=\d+\.\d{3}s, rows=(\d+), query=(.*)")


def logging_config(log_file, fmt, threshold):
    return (DEFAULT_TEST_CONFIG +
            f'[logging]\nformat = "{fmt}"\nfile = "{log_file}"\nslow_query_threshold_ms = {threshold}\n')


@pytest.fixture(scope="module")
def json_server(tmp_path_factory):
    logs = tmp_path_factory.mktemp("logs")
    s_gen = serve(tmp_path_factory, config_toml=logging_config(logs / "server.jsonl", "json", 0),
                  env={"KALAMDB_LOG_LEVEL": "info"})
    s = next(s_gen)
    s.logs = logs
    yield s
    next(s_gen, None)


@pytest.fixture(scope="module")
def compact_server(tmp_path_factory):
    logs = tmp_path_factory.mktemp("logs")
    s_gen = serve(tmp_path_factory, config_toml=logging_config(logs / "server.log", "compact", -1),
                  env={"KALAMDB_LOG_LEVEL": "info"})
    s = next(s_gen)
    s.logs = logs
    yield s
    next(s_gen, None)


def wait_for(path, needle, timeout=5.0):
    """The text of `path` once it holds `needle` (info lines reach the file within a second)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = path.read_text() if path.exists() else ""
        if needle in text:
            return text
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} not in {path} after {timeout}s: {text[-2000:]}")


def slow_lines(server):
    return [SLOW.fullmatch(line).groups()
            for line in (server.logs / "slow.log").read_text().splitlines()]


def test_json_log_lines_parse_with_expected_fields(json_server):
    lines = wait_for(json_server.logs / "server.jsonl", " listening on ").splitlines()
    for line in lines:
        obj = json.loads(line)
        assert list(obj)[:4] == ["timestamp", "level", "thread", "target"], line
        assert list(obj)[-1] == "message", line
        assert TS_JSON.fullmatch(obj["timestamp"]), line
        assert obj["level"] in ("trace", "debug", "info", "warning", "error", "critical"), line
        assert obj["thread"].isdigit() and obj["target"] == "kalamdb", line
    messages = [json.loads(line)["message"] for line in lines]
    assert any(m.startswith("kalamdb-server ") and " listening on http://127.0.0.1:" in m
               for m in messages), messages


def test_slow_query_log_redacts_literals_and_names_user_table_rows(json_server):
    ns = unique("slow")
    json_server.sql(f"CREATE NAMESPACE {ns}")
    json_server.sql(f"CREATE USER TABLE {ns}.items (id INT PRIMARY KEY, name TEXT)")
    json_server.sql(f"INSERT INTO {ns}.items (id, name) VALUES (1, 'secret-a'), (2, 'secret-b')")
    json_server.sql(f"SELECT * FROM {ns}.items WHERE id >= 1 AND name <> 'x\ny'")
    text = (json_server.logs / "slow.log").read_text()
    assert "secret-a" not in text and "secret-b" not in text
    lines = [g for g in slow_lines(json_server) if ns in g[3]]
    assert lines == [
        ("root", "unknown (none)", "0", f"CREATE NAMESPACE {ns}"),
        ("root", "unknown (none)", "0", f"CREATE USER TABLE {ns}.items (id INT PRIMARY KEY, name TEXT)"),
        ("root", f"{ns}.items (user)", "2",
         f"INSERT INTO {ns}.items (id, name) VALUES (?, ?), (?, ?)"),
        ("root", f"{ns}.items (user)", "2", f"SELECT * FROM {ns}.items WHERE id >= ? AND name <> ?"),
    ]
    # The warning in the server log, and the counter.
    warnings = [json.loads(line) for line in
                wait_for(json_server.logs / "server.jsonl", "rows=2 | query=SELECT").splitlines()]
    assert any(w["level"] == "warning" and w["message"].startswith("SLOW QUERY: ") and
               f"| user=root | table={ns}.items (user) | rows=2 | query=SELECT * FROM {ns}.items "
               f"WHERE id >= ? AND name <> ?" in w["message"] for w in warnings)
    metrics = json_server.http.get(json_server.base + "/metrics").text
    m = re.search(r"^kalamdb_slow_queries_total (\d+)$", metrics, re.M)
    assert m and int(m.group(1)) >= 4


def test_server_logs_reads_the_json_log_for_dba_only(json_server):
    wait_for(json_server.logs / "server.jsonl", " listening on ")
    res = json_server.sql("SELECT timestamp, level, thread, target, line, message "
                          "FROM system.server_logs WHERE message LIKE 'kalamdb-server %listening%'")
    rows = res["results"][0]["rows"]
    assert len(rows) == 1
    ts, level, thread, target, line, message = rows[0]
    assert TS_JSON.fullmatch(ts) and level == "info" and thread.isdigit()
    assert (target, line) == ("kalamdb", None)
    user = json_server.create_user(unique("logu"))
    err = json_server.sql_error("SELECT * FROM system.server_logs", user=user,
                                password="password123", status=403)
    assert {k: err[k] for k in ("code", "message")} == DENIED
    dba = json_server.create_user(unique("logd"), role="dba")
    assert int(json_server.rows("SELECT count(*) FROM system.server_logs WHERE level = 'info'",
                                user=dba, password="password123")[0][0]) >= 1
    err = json_server.sql_error("DELETE FROM system.server_logs", status=403)
    assert {k: err[k] for k in ("code", "message")} == {
        "code": "PERMISSION_DENIED", "message": "Statement 1 failed: Permission denied: System table 'system.server_logs' is read-only"}


def test_compact_format_stays_human_readable_and_server_logs_reads_it(compact_server):
    first = wait_for(compact_server.logs / "server.log", " listening on ").splitlines()[0]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z \[info\] \[tid \d+\] .*", first)
    rows = compact_server.rows("SELECT level, target, message FROM system.server_logs "
                               "WHERE message LIKE 'kalamdb-server %listening%'")
    assert len(rows) == 1 and rows[0][:2] == ["info", "kalamdb"]
    # Threshold -1: no slow-query log at all.
    compact_server.sql("SELECT 1")
    assert not (compact_server.logs / "slow.log").exists()
