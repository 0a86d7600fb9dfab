"""EXPLAIN and EXPLAIN ANALYZE (docs/explain.md): the plan text of point lookups, ranges, `_seq`
ranges, statistics pruning over flushed segments, joins, GROUP BY and USER tables; the same
permissions as the SELECT; and the errors for everything that is not a SELECT."""
import re

from helpers import flush

PW = "password123"


def explain(server, sql, **kw):
    """The EXPLAIN result's rows as {plan_type: plan}, checking the columns."""
    res = server.sql(sql, **kw)["results"][0]
    assert [c["name"] for c in res["schema"]] == ["plan_type", "plan"]
    return {row[0]: row[1] for row in res["rows"]}


def masked(text):
    """`text` with its measured times replaced by T."""
    return re.sub(r"time(=| )\d+\.\d{3} ms", r"time\1T ms", text)


def analyze(server, sql, **kw):
    """EXPLAIN ANALYZE's `Plan with Metrics` text with its times masked."""
    plans = explain(server, "EXPLAIN ANALYZE " + sql, **kw)
    assert list(plans) == ["Plan with Metrics"]
    return masked(plans["Plan with Metrics"])


def head(sql, limit="50 rows (the default LIMIT: the statement has none)"):
    return f"SQL: {sql}\nRow limit: {limit}\n"


def three_segments(server, ns):
    """ns.m with ids 1–3, 4–6, 7–9 flushed into three segments (n = id) and id 10 hot."""
    server.sql(f"CREATE SHARED TABLE {ns}.m (id INT PRIMARY KEY, n INT, body TEXT)")
    for lo in (1, 4, 7):
        server.sql(f"INSERT INTO {ns}.m VALUES " +
                   ", ".join(f"({i}, {i}, 'r{i}')" for i in range(lo, lo + 3)))
        flush(server, f"{ns}.m")
    server.sql(f"INSERT INTO {ns}.m VALUES (10, 10, 'hot')")


def test_point_lookup_hot_then_cold(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.p (id INT PRIMARY KEY, v TEXT)")
    server.sql(f"INSERT INTO {ns}.p VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    sql = f'SELECT * FROM {ns}.p AS "p" WHERE id = 2'
    plans = explain(server, f"EXPLAIN SELECT * FROM {ns}.p WHERE id = 2")
    assert list(plans) == ["logical_plan", "physical_plan"]
    assert plans["logical_plan"] == head(sql) + "QUERY PLAN\n`--SCAN p (scan 1)\n"
    scan = f"[1] scan {ns}.p (SHARED table)\n    key: id = ?\n    order: id ascending\n"
    assert plans["physical_plan"] == scan + (
        "    planner estimate: rows=1\n"
        "    cold segments: in_manifest=0 to_read=0 skipped_by_key_range=0 "
        "skipped_by_statistics=0\n")
    assert analyze(server, f"SELECT * FROM {ns}.p WHERE id = 2") == \
        head(sql) + "QUERY PLAN\n`--SCAN p (scan 1)\n" + scan + (
            "    actual: scans=1 rows_to_sqlite=1 hot_rows_read=1 cold_rows_read=0 time=T ms\n"
            "    segments: in_manifest=0 read=0 skipped_by_key_range=0 skipped_by_statistics=0\n"
            "Result: 1 row(s), total time T ms\n")
    flush(server, f"{ns}.p")
    plans = explain(server, f"EXPLAIN SELECT * FROM {ns}.p WHERE id = 2")
    assert plans["physical_plan"].endswith(
        "    cold segments: in_manifest=1 to_read=1 skipped_by_key_range=0 "
        "skipped_by_statistics=0\n"
        "    files to read: batch-1.parquet\n")
    assert analyze(server, f"SELECT * FROM {ns}.p WHERE id = 2").endswith(
        "    actual: scans=1 rows_to_sqlite=1 hot_rows_read=0 cold_rows_read=1 time=T ms\n"
        "    segments: in_manifest=1 read=1 skipped_by_key_range=0 skipped_by_statistics=0\n"
        "Result: 1 row(s), total time T ms\n")


def test_key_lookup_and_range_read_one_segment_of_three(server, ns):
    three_segments(server, ns)
    plans = explain(server, f"EXPLAIN SELECT * FROM {ns}.m WHERE id = 5")
    assert plans["physical_plan"] == (
        f"[1] scan {ns}.m (SHARED table)\n"
        "    key: id = ?\n"
        "    order: id ascending\n"
        "    planner estimate: rows=1\n"
        "    cold segments: in_manifest=3 to_read=1 skipped_by_key_range=2 "
        "skipped_by_statistics=0\n"
        "    files to read: batch-2.parquet\n")
    plans = explain(server, f"EXPLAIN SELECT * FROM {ns}.m WHERE id >= 4 AND id < 7")
    assert plans["logical_plan"] == head(f'SELECT * FROM {ns}.m AS "m" WHERE id >= 4 AND id < 7') \
        + "QUERY PLAN\n`--SCAN m (scan 1)\n"
    assert plans["physical_plan"] == (
        f"[1] scan {ns}.m (SHARED table)\n"
        "    key: id >= ? AND id < ?\n"
        "    order: id ascending\n"
        "    planner estimate: rows=100\n"
        "    cold segments: in_manifest=3 to_read=1 skipped_by_key_range=2 "
        "skipped_by_statistics=0\n"
        "    files to read: batch-2.parquet\n")
    assert analyze(server, f"SELECT * FROM {ns}.m WHERE id >= 4 AND id < 7").endswith(
        "    actual: scans=1 rows_to_sqlite=3 hot_rows_read=0 cold_rows_read=3 time=T ms\n"
        "    segments: in_manifest=3 read=1 skipped_by_key_range=2 skipped_by_statistics=0\n"
        "Result: 3 row(s), total time T ms\n")
    # A parameter is only known at run time: so are the segments.
    plans = explain(server, f"EXPLAIN SELECT * FROM {ns}.m WHERE id = $1", params=[5])
    assert plans["physical_plan"].endswith(
        "    cold segments: chosen at run time (an operand is a parameter or another table's "
        "column)\n")


def test_statistics_prune_two_of_three_segments(server, ns):
    three_segments(server, ns)
    sql = f'SELECT * FROM {ns}.m AS "m" WHERE n > 6'
    scan = (f"[1] scan {ns}.m (SHARED table)\n"
            "    key: every row of the scope (no id constraint)\n"
            "    segment statistics: n > ?\n"
            "    order: id ascending\n")
    plans = explain(server, f"EXPLAIN SELECT * FROM {ns}.m WHERE n > 6")
    assert plans["physical_plan"] == scan + (
        "    planner estimate: rows=50000\n"
        "    cold segments: in_manifest=3 to_read=1 skipped_by_key_range=0 "
        "skipped_by_statistics=2\n"
        "    files to read: batch-3.parquet\n")
    assert analyze(server, f"SELECT * FROM {ns}.m WHERE n > 6") == \
        head(sql) + "QUERY PLAN\n`--SCAN m (scan 1)\n" + scan + (
            "    actual: scans=1 rows_to_sqlite=4 hot_rows_read=1 cold_rows_read=3 time=T ms\n"
            "    segments: in_manifest=3 read=1 skipped_by_key_range=0 skipped_by_statistics=2\n"
            "Result: 4 row(s), total time T ms\n")
    # The answer is the SELECT's.
    assert server.rows(f"SELECT id FROM {ns}.m WHERE n > 6") == [[7], [8], [9], [10]]


def test_stream_seq_range(server, ns):
    server.sql(f"CREATE STREAM TABLE {ns}.ev (kind TEXT) WITH (TTL_SECONDS = 3600)")
    server.sql(f"INSERT INTO {ns}.ev (kind) VALUES ('a'), ('b')")
    plans = explain(server, f"EXPLAIN SELECT kind FROM {ns}.ev WHERE _seq > 5")
    assert plans["physical_plan"] == (
        f"[1] scan {ns}.ev (STREAM table, scope user 'root')\n"
        "    key: _seq > ?\n"
        "    order: _seq ascending\n"
        "    planner estimate: rows=100\n"
        "    cold segments: none (STREAM tables keep rows in the hot tier only)\n")
    assert analyze(server, f"SELECT kind FROM {ns}.ev WHERE _seq > 5").endswith(
        "    actual: scans=1 rows_to_sqlite=2 hot_rows_read=2 cold_rows_read=0 time=T ms\n"
        "Result: 2 row(s), total time T ms\n")


def test_join_of_two_tables(server, ns):
    three_segments(server, ns)
    server.sql(f"CREATE SHARED TABLE {ns}.r (id INT PRIMARY KEY, m_id INT)")
    server.sql(f"INSERT INTO {ns}.r VALUES (1, 5), (2, 10)")
    q = f"SELECT r.id, mm.body FROM {ns}.r JOIN {ns}.m mm ON mm.id = r.m_id"
    shown = f'SELECT r.id, mm.body FROM {ns}.r AS "r" JOIN {ns}.m mm ON mm.id = r.m_id'
    tree = "QUERY PLAN\n|--SCAN r (scan 1)\n`--SCAN mm (scan 2)\n"
    outer = (f"[1] scan {ns}.r (SHARED table)\n"
             "    key: every row of the scope (no id constraint)\n"
             "    order: id ascending\n")
    inner = (f"[2] scan {ns}.m AS mm (SHARED table)\n"
             "    key: id = ?\n"
             "    order: id ascending\n")
    plans = explain(server, "EXPLAIN " + q)
    assert plans["logical_plan"] == head(shown) + tree
    assert plans["physical_plan"] == outer + (
        "    planner estimate: rows=100000\n"
        "    cold segments: in_manifest=0 to_read=0 skipped_by_key_range=0 "
        "skipped_by_statistics=0\n") + inner + (
        "    planner estimate: rows=1\n"
        "    cold segments: chosen at run time (an operand is a parameter or another table's "
        "column)\n")
    # The inner table is looked up once per outer row: id 5 in the second segment, id 10 hot.
    assert analyze(server, q) == head(shown) + tree + outer + (
        "    actual: scans=1 rows_to_sqlite=2 hot_rows_read=2 cold_rows_read=0 time=T ms\n"
        "    segments: in_manifest=0 read=0 skipped_by_key_range=0 skipped_by_statistics=0\n"
    ) + inner + (
        "    actual: scans=2 rows_to_sqlite=2 hot_rows_read=1 cold_rows_read=1 time=T ms\n"
        "    segments: in_manifest=6 read=1 skipped_by_key_range=5 skipped_by_statistics=0\n"
        "Result: 2 row(s), total time T ms\n")


def test_group_by_sorts_in_a_temp_btree(server, ns):
    three_segments(server, ns)
    plans = explain(server, f"EXPLAIN SELECT n % 2, count(*) FROM {ns}.m GROUP BY n % 2 LIMIT 10")
    assert plans["logical_plan"] == head(
        f'SELECT n % 2, count(*) FROM {ns}.m AS "m" GROUP BY n % 2 LIMIT 10',
        "the statement's LIMIT, at most 1000 rows") + (
        "QUERY PLAN\n|--SCAN m (scan 1)\n`--USE TEMP B-TREE FOR GROUP BY\n")
    assert plans["physical_plan"].endswith(
        "    cold segments: in_manifest=3 to_read=3 skipped_by_key_range=0 "
        "skipped_by_statistics=0\n"
        "    files to read: batch-1.parquet, batch-2.parquet, batch-3.parquet\n")
    assert analyze(server, f"SELECT n % 2, count(*) FROM {ns}.m GROUP BY n % 2").endswith(
        "    actual: scans=1 rows_to_sqlite=10 hot_rows_read=1 cold_rows_read=9 time=T ms\n"
        "    segments: in_manifest=3 read=3 skipped_by_key_range=0 skipped_by_statistics=0\n"
        "Result: 2 row(s), total time T ms\n")


def test_user_table_counts_only_the_callers_rows(server, ns):
    a, b = server.create_user(f"{ns}_ann"), server.create_user(f"{ns}_ben")
    server.sql(f"CREATE USER TABLE {ns}.notes (id INT PRIMARY KEY, body TEXT)")
    server.sql(f"INSERT INTO {ns}.notes VALUES (1, 'a1'), (2, 'a2')", user=a, password=PW)
    server.sql(f"INSERT INTO {ns}.notes VALUES (1, 'b1'), (2, 'b2'), (3, 'b3')",
               user=b, password=PW)
    flush(server, f"{ns}.notes")
    server.sql(f"INSERT INTO {ns}.notes VALUES (4, 'b4')", user=b, password=PW)
    text = analyze(server, f"SELECT * FROM {ns}.notes", user=a, password=PW)
    assert text.endswith(
        f"[1] scan {ns}.notes (USER table, scope user '{a}')\n"
        "    key: every row of the scope (no id constraint)\n"
        "    order: id ascending\n"
        "    actual: scans=1 rows_to_sqlite=2 hot_rows_read=0 cold_rows_read=2 time=T ms\n"
        "    segments: in_manifest=1 read=1 skipped_by_key_range=0 skipped_by_statistics=0\n"
        "Result: 2 row(s), total time T ms\n"), text
    assert analyze(server, f"SELECT * FROM {ns}.notes", user=b, password=PW).endswith(
        "    actual: scans=1 rows_to_sqlite=4 hot_rows_read=1 cold_rows_read=3 time=T ms\n"
        "    segments: in_manifest=1 read=1 skipped_by_key_range=0 skipped_by_statistics=0\n"
        "Result: 4 row(s), total time T ms\n")
    plans = explain(server, f"EXPLAIN SELECT * FROM {ns}.notes WHERE id = 1", user=a, password=PW)
    assert plans["physical_plan"] == (
        f"[1] scan {ns}.notes (USER table, scope user '{a}')\n"
        "    key: id = ?\n"
        "    order: id ascending\n"
        "    planner estimate: rows=1\n"
        "    cold segments: in_manifest=1 to_read=1 skipped_by_key_range=0 "
        "skipped_by_statistics=0\n"
        "    files to read: batch-1.parquet\n")


def test_execute_as_user_explains_in_the_users_scope(server, ns):
    a = server.create_user(f"{ns}_ann")
    server.sql(f"CREATE USER TABLE {ns}.notes (id INT PRIMARY KEY, body TEXT)")
    server.sql(f"INSERT INTO {ns}.notes VALUES (1, 'a1'), (2, 'a2')", user=a, password=PW)
    server.sql(f"INSERT INTO {ns}.notes VALUES (1, 'root')")
    text = analyze(server, f"SELECT * FROM {ns}.notes")
    assert f"(USER table, scope user 'root')" in text and "rows_to_sqlite=1 " in text, text
    plans = explain(server, f"EXECUTE AS USER '{a}' (EXPLAIN ANALYZE SELECT * FROM {ns}.notes)")
    text = masked(plans["Plan with Metrics"])
    assert text.endswith(
        f"[1] scan {ns}.notes (USER table, scope user '{a}')\n"
        "    key: every row of the scope (no id constraint)\n"
        "    order: id ascending\n"
        "    actual: scans=1 rows_to_sqlite=2 hot_rows_read=2 cold_rows_read=0 time=T ms\n"
        "    segments: in_manifest=0 read=0 skipped_by_key_range=0 skipped_by_statistics=0\n"
        "Result: 2 row(s), total time T ms\n"), text
    # EXECUTE AS reaches USER and STREAM tables only, EXPLAIN included.
    server.sql(f"CREATE SHARED TABLE {ns}.s (id INT PRIMARY KEY)")
    err = server.sql_error(f"EXECUTE AS USER '{a}' (EXPLAIN SELECT * FROM {ns}.s)")
    assert err["message"] == (f"Statement 1 failed: Invalid operation: EXECUTE AS USER works on USER and STREAM tables only; '{ns}.s' "
                              "is a SHARED table")


def test_same_permissions_as_the_select(server, ns):
    u = server.create_user(f"{ns}_user")
    server.sql(f"CREATE SHARED TABLE {ns}.secret (id INT PRIMARY KEY) "
               "WITH (ACCESS_LEVEL = 'DBA')")
    for sql in (f"SELECT * FROM {ns}.secret", "SELECT * FROM system.users"):
        denied = server.sql_error(sql, user=u, password=PW, status=403)
        for prefix in ("EXPLAIN ", "EXPLAIN ANALYZE "):
            err = server.sql_error(prefix + sql, user=u, password=PW, status=403)
            assert (err["code"], err["message"]) == (denied["code"], denied["message"])
    assert denied["code"] == "PERMISSION_DENIED"
    plans = explain(server, "EXPLAIN SELECT user_id FROM system.users")
    assert plans["physical_plan"] == \
        "[1] scan system.users (system table: its rows are computed for the statement)\n"


def test_only_select_is_explained(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.w (id INT PRIMARY KEY)")
    server.sql(f"INSERT INTO {ns}.w VALUES (1)")
    cases = [
        (f"EXPLAIN ANALYZE DELETE FROM {ns}.w", "EXPLAIN ANALYZE supports SELECT statements only, "
         "not DELETE (writes are never explained, so EXPLAIN ANALYZE never runs one)"),
        (f"EXPLAIN INSERT INTO {ns}.w VALUES (2)", "EXPLAIN supports SELECT statements only, not "
         "INSERT (writes are never explained, so EXPLAIN ANALYZE never runs one)"),
        (f"EXPLAIN UPDATE {ns}.w SET id = 3", "EXPLAIN supports SELECT statements only, not "
         "UPDATE (writes are never explained, so EXPLAIN ANALYZE never runs one)"),
        (f"EXPLAIN CREATE SHARED TABLE {ns}.x (id INT PRIMARY KEY)",
         "EXPLAIN supports SELECT statements only, not CREATE TABLE"),
        (f"EXPLAIN STORAGE FLUSH TABLE {ns}.w", "EXPLAIN supports SELECT statements only, not "
         "STORAGE FLUSH"),
        ("EXPLAIN EXPLAIN SELECT 1", "EXPLAIN supports SELECT statements only, not EXPLAIN"),
        ("EXPLAIN", "EXPLAIN needs a SELECT statement: EXPLAIN SELECT …"),
        ("EXPLAIN ANALYZE", "EXPLAIN ANALYZE needs a SELECT statement: EXPLAIN ANALYZE SELECT …"),
        ("EXPLAIN QUERY PLAN SELECT 1", "EXPLAIN QUERY PLAN is not supported: use EXPLAIN "
         "SELECT … or EXPLAIN ANALYZE SELECT …"),
        ("EXPLAIN VERBOSE SELECT 1", "EXPLAIN VERBOSE is not supported: use EXPLAIN SELECT … or "
         "EXPLAIN ANALYZE SELECT …"),
        ("EXPLAIN PRAGMA table_info(x)", "Unsupported statement: PRAGMA"),
    ]
    for sql, message in cases:
        err = server.sql_error(sql)
        assert (err["code"], err["message"]) == ("INVALID_SQL", message), sql
    assert server.rows(f"SELECT id FROM {ns}.w") == [[1]]
    assert server.rows(f"SELECT count(*) FROM system.tables "
                       f"WHERE namespace_id = '{ns}' AND table_name = 'x'") == [["0"]]
