"""A comparison of a TIMESTAMP/DATETIME/DATE/TIME/UUID/DECIMAL column with a literal or a `$n`
means the same wherever it stands — under OR and NOT, in CASE, JOIN ON, subqueries, HAVING,
UPDATE/DELETE, with the literal on either side, and in live filters — as in a simple
`WHERE col > literal` (docs/sql_types.md)."""
import pytest

from live_client import LiveClient


def ids(server, sql, params=None):
    return [r[0] for r in server.rows(sql, params)]


def test_issue_reproductions(server):
    server.sql("CREATE NAMESPACE chat")
    server.sql("CREATE SHARED TABLE chat.ev (id INT PRIMARY KEY, at TIMESTAMP, n INT)")
    server.sql("INSERT INTO chat.ev VALUES (1, '2020-01-01T00:00:00Z', 1), "
               "(2, '2030-01-01T00:00:00Z', 2)")
    assert ids(server, "SELECT id FROM chat.ev WHERE at > '2025-01-01' OR n = 99") == [2]
    assert ids(server, "SELECT id FROM chat.ev WHERE n = 0 OR at < '2025-01-01'") == [1]


@pytest.fixture
def ev(server, ns):
    """id 1 early (2020), id 2 late (2030), id 3 with NULLs."""
    server.sql(f"CREATE SHARED TABLE {ns}.ev (id INT PRIMARY KEY, at TIMESTAMP, dt DATETIME, "
               f"day DATE, t TIME, u UUID, n INT)")
    server.sql(f"INSERT INTO {ns}.ev VALUES "
               f"(1, '2020-01-01T00:00:00Z', '2020-01-01 00:00:00', '2020-01-01', '08:00:00', "
               f"'0190c9a0-0000-7000-8000-00000000000a', 1), "
               f"(2, '2030-01-01T00:00:00Z', '2030-01-01 00:00:00', '2030-01-01', '20:00:00', "
               f"'0190c9a0-0000-7000-8000-00000000000b', 2), "
               f"(3, NULL, NULL, NULL, NULL, NULL, 3)")
    return f"{ns}.ev"


def test_reversed_operands_under_or(server, ev):
    assert ids(server, f"SELECT id FROM {ev} WHERE '2025-01-01' < at OR n = 99") == [2]
    assert ids(server, f"SELECT id FROM {ev} WHERE n = 99 OR '2025-01-01T00:00:00+02:00' >= dt") \
        == [1]


def test_not_in_between_and_is(server, ev):
    assert ids(server, f"SELECT id FROM {ev} WHERE NOT (at > '2025-01-01') OR n = 99") == [1]
    assert ids(server, f"SELECT id FROM {ev} WHERE n = 99 OR day IN ('2030-01-01', '1999-01-01')") \
        == [2]
    assert ids(server, f"SELECT id FROM {ev} WHERE n = 99 OR day NOT IN ('2030-01-01') "
                       f"ORDER BY id") == [1]
    assert ids(server, f"SELECT id FROM {ev} WHERE n = 99 OR "
                       f"at BETWEEN '2019-12-31' AND '2020-01-02T00:00:00Z'") == [1]
    assert ids(server, f"SELECT id FROM {ev} WHERE n = 99 OR at IS '2030-01-01T00:00:00Z'") == [2]
    assert ids(server, f"SELECT id FROM {ev} WHERE at IS NOT '2030-01-01' ORDER BY id") == [1, 3]


def test_date_and_time_under_or(server, ev):
    assert ids(server, f"SELECT id FROM {ev} WHERE day > '2025-01-01' OR n = 99") == [2]
    assert ids(server, f"SELECT id FROM {ev} WHERE n = 99 OR t < '12:00'") == [1]
    assert ids(server, f"SELECT id FROM {ev} WHERE n = 99 OR t = '20:00:00.000000'") == [2]


def test_uuid_in_any_case_under_or(server, ev):
    assert ids(server, f"SELECT id FROM {ev} WHERE n = 99 OR "
                       f"u = '0190C9A0-0000-7000-8000-00000000000B'") == [2]
    assert ids(server, f"SELECT id FROM {ev} WHERE n = 99 OR "
                       f"u > '0190C9A0-0000-7000-8000-00000000000A'") == [2]


def test_case_expressions(server, ev):
    rows = server.rows(f"SELECT id, CASE WHEN at > '2025-01-01' THEN 'late' ELSE 'early' END "
                       f"FROM {ev} ORDER BY id")
    assert rows == [[1, "early"], [2, "late"], [3, "early"]]
    rows = server.rows(f"SELECT id, CASE day WHEN '2030-01-01' THEN 'new year' ELSE '-' END "
                       f"FROM {ev} ORDER BY id")
    assert rows == [[1, "-"], [2, "new year"], [3, "-"]]


def test_join_on_condition_on_the_left_table(server, ev):
    # In a LEFT JOIN the ON condition on the left table cannot be pushed to it: SQLite evaluates
    # it itself.
    rows = server.rows(f"SELECT a.id, b.id FROM {ev} a LEFT JOIN {ev} b "
                       f"ON b.id = a.id AND a.at > '2025-01-01' ORDER BY a.id")
    assert rows == [[1, None], [2, 2], [3, None]]


def test_correlated_subquery_and_having(server, ev):
    assert ids(server, f"SELECT id FROM {ev} a WHERE EXISTS "
                       f"(SELECT 1 FROM {ev} b WHERE b.id = a.id AND a.at > '2025-01-01')") == [2]
    assert ids(server, f"SELECT id FROM {ev} WHERE id IN "
                       f"(SELECT id FROM {ev} WHERE day < '2025-01-01' OR n = 99)") == [1]
    assert ids(server, f"SELECT n FROM {ev} GROUP BY n HAVING max(at) > '2025-01-01'") == [2]


def test_parameters_under_or(server, ev):
    assert ids(server, f"SELECT id FROM {ev} WHERE at > $1 OR n = $2",
               ["2025-01-01", 99]) == [2]
    assert ids(server, f"SELECT id FROM {ev} WHERE n = $2 OR u = $1",
               ["0190C9A0-0000-7000-8000-00000000000A", 99]) == [1]
    err = server.sql_error(f"SELECT id FROM {ev} WHERE at > $1 OR n = 1", ["garbage"])
    assert err["code"] == "INVALID_PARAMETER"
    assert err["message"].startswith("Invalid value for column 'at' of type TIMESTAMP: "
                                     "'garbage' is not a valid timestamp"), err


def test_constants_known_when_the_statement_runs(server, ev):
    assert ids(server, f"SELECT id FROM {ev} WHERE at > datetime('now', '-100 years') OR n = 99 "
                       f"ORDER BY id") == [1, 2]
    assert ids(server, f"SELECT id FROM {ev} WHERE n = 99 OR day > date(CURRENT_DATE, "
                       f"'-300 years') ORDER BY id") == [1, 2]
    assert ids(server, f"SELECT id FROM {ev} WHERE n = 99 OR "
                       f"datetime(CURRENT_TIMESTAMP, '+300 years') > dt ORDER BY id") == [1, 2]
    assert ids(server, f"SELECT id FROM {ev} WHERE n = 99 OR t < CURRENT_TIME OR "
                       f"t < '00:00:01' ORDER BY id") == ids(
        server, f"SELECT id FROM {ev} WHERE t < time('now') ORDER BY id")
    err = server.sql_error(f"SELECT id FROM {ev} WHERE n = 99 OR day > lower('soon')")
    assert err["code"] == "SQL_EXECUTION_ERROR"
    assert err["message"].startswith("Statement 1 failed: Execution error: Invalid value for column 'day' of type DATE: 'soon'"), err


def test_update_and_delete_under_or(server, ev):
    r = server.sql(f"UPDATE {ev} SET n = 20 WHERE at > '2025-01-01' OR n = 99")
    assert r["results"][0]["message"] == "Updated 1 row(s)"
    assert server.rows(f"SELECT id, n FROM {ev} ORDER BY id") == [[1, 1], [2, 20], [3, 3]]
    r = server.sql(f"DELETE FROM {ev} WHERE n = 99 OR day < '2025-01-01'")
    assert r["results"][0]["message"] == "Deleted 1 row(s)"
    assert ids(server, f"SELECT id FROM {ev} ORDER BY id") == [2, 3]


def test_invalid_literal_under_or_is_the_simple_where_error(server, ev):
    simple = server.sql_error(f"SELECT id FROM {ev} WHERE at > 'garbage'")
    under_or = server.sql_error(f"SELECT id FROM {ev} WHERE n = 1 OR at > 'garbage'")
    assert under_or["code"] == simple["code"] == "SQL_EXECUTION_ERROR"
    assert under_or["message"] == simple["message"] == (
        "Statement 1 failed: Execution error: Invalid value for column 'at' of type TIMESTAMP: 'garbage' is not a valid timestamp: "
        "expected a date as YYYY-MM-DD (expected ISO-8601 like '2026-05-01T10:00:00Z')")


def test_wide_decimal_compares_as_a_number(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.price (id INT PRIMARY KEY, p DECIMAL(30,4), "
               f"q DECIMAL(10,2))")
    server.sql(f"INSERT INTO {ns}.price VALUES (1, 100.50, 100.50), (2, 9.99, 9.99), "
               f"(3, -5, -5), (4, -10, -10)")
    t = f"{ns}.price"
    assert ids(server, f"SELECT id FROM {t} WHERE p > 20") == [1]
    assert ids(server, f"SELECT id FROM {t} WHERE p > '20' OR id = 99") == [1]
    assert ids(server, f"SELECT id FROM {t} WHERE p < -6 ORDER BY id") == [4]
    assert ids(server, f"SELECT id FROM {t} WHERE p BETWEEN '-5' AND 9.995 ORDER BY id") == [2, 3]
    assert ids(server, f"SELECT id FROM {t} ORDER BY p") == [4, 3, 2, 1]
    assert server.rows(f"SELECT max(p), min(p) FROM {t}") == [["100.5000", "-10.0000"]]
    assert ids(server, f"SELECT id FROM {t} WHERE p > $1 ORDER BY id", ["-5.00001"]) == [1, 2, 3]
    assert ids(server, f"SELECT a.id FROM {t} a JOIN {t} b ON a.p = b.q WHERE b.id = 2") == [2]
    # More decimals than the column keeps still compare exactly.
    assert ids(server, f"SELECT id FROM {t} WHERE q > 9.985 AND q < '9.995'") == [2]


def test_column_names_show_the_literal_as_written(server, ev):
    r = server.sql(f"SELECT at > '2025-01-01' FROM {ev} WHERE id = 2")
    assert [c["name"] for c in r["results"][0]["schema"]] == ["at > '2025-01-01'"]
    r = server.sql(f"SELECT day = $1 FROM {ev} WHERE id = 2", ["2030-01-01"])
    assert [c["name"] for c in r["results"][0]["schema"]] == ["day = $1"]
    assert r["results"][0]["rows"] == [["1"]]


def test_collated_text_comparison_is_not_narrowed_by_the_binary_key(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.names (name TEXT PRIMARY KEY, tag TEXT)")
    server.sql(f"INSERT INTO {ns}.names VALUES ('alice', 'x'), ('Bob', 'y')")
    assert [r[0] for r in server.rows(f"SELECT name FROM {ns}.names "
                                      f"WHERE name = 'ALICE' COLLATE NOCASE")] == ["alice"]
    assert [r[0] for r in server.rows(f"SELECT name FROM {ns}.names "
                                      f"WHERE name > 'a' COLLATE NOCASE ORDER BY name")] \
        == ["Bob", "alice"]


def test_live_filter_under_or_snapshot_and_changes(server, ev):
    c = LiveClient(server)
    _, rows = c.subscribe_ready("late", f"SELECT id FROM {ev} WHERE at > '2025-01-01' OR n = 99",
                                {})
    assert [r["id"] for r in rows] == [2]
    _, rows = c.subscribe_ready("day", f"SELECT id FROM {ev} WHERE n = 99 OR day < '2025-01-01'",
                                {})
    assert [r["id"] for r in rows] == [1]
    _, rows = c.subscribe_ready("now", f"SELECT id FROM {ev} WHERE n = 99 OR "
                                       f"at > datetime('now', '-300 years')", {})
    assert [r["id"] for r in rows] == [1, 2]
    server.sql(f"INSERT INTO {ev} (id, at, day, n) VALUES (10, '2026-06-01T00:00:00Z', "
               f"'2026-06-01', 10), (11, '2024-06-01T00:00:00Z', '2024-06-01', 11)")
    got = sorted((e["subscription_id"], e["change_type"], e["rows"][0]["id"])
                 for e in c.changes(4))
    assert got == [("day", "insert", 11), ("late", "insert", 10), ("now", "insert", 10),
                   ("now", "insert", 11)]
    c.expect_silence(0.5)
    c.close()


def test_live_filter_with_an_invalid_literal_under_or_is_refused(server, ev):
    select_error = server.sql_error(f"SELECT id FROM {ev} WHERE n = 1 OR day = '2026-13-45'")
    c = LiveClient(server)
    c.subscribe("bad", f"SELECT id FROM {ev} WHERE n = 1 OR day = '2026-13-45'")
    err = c.recv()
    assert err["type"] == "error" and err["code"] == "INVALID_SQL", err
    # The subscription's error has no statement number or kind prefix (docs/compatibility.md).
    assert err["message"] == "Invalid subscription filter: " + select_error["message"].removeprefix(
        "Statement 1 failed: Execution error: ")
    # A constant converted only when the filter runs is checked when it is compiled.
    c.subscribe("later", f"SELECT id FROM {ev} WHERE n = 1 OR day > lower('Soon')")
    err = c.recv()
    assert err["type"] == "error" and err["code"] == "INVALID_SQL", err
    assert err["message"].startswith("Invalid subscription filter: Invalid value for column 'day' "
                                     "of type DATE: 'soon'"), err
    c.close()
