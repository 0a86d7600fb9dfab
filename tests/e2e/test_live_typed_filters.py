"""Live-query filters on TIMESTAMP/DATETIME/DATE/TIME/UUID columns take literals in the forms
people write (ISO text with or without offset, plain dates and times, UUIDs in any case) and
deliver exactly the rows the same WHERE selects in a SELECT (test_typed_filters.py): an insert that
matches is delivered, one that does not is not."""
import pytest

from kalam_harness import DEFAULT_TEST_CONFIG, Server
from live_client import LiveClient

ROWS = [  # n, id, at (TIMESTAMP), dt (DATETIME), day (DATE), t (TIME)
    (1, "0190c9a0-0000-7000-8000-000000000001", "2026-01-01T00:00:00Z", "2026-01-01 08:00:00",
     "2026-01-01", "08:00:00"),
    (2, "0190c9a0-0000-7000-8000-000000000002", "2026-03-15T12:30:00Z", "2026-03-15 12:30:00",
     "2026-03-15", "12:30:00"),
    (3, "0190C9A0-0000-7000-8000-000000000003", "2026-06-30T23:59:59Z", "2026-06-30 23:59:59",
     "2026-06-30", "23:59:59"),
    (4, "0190c9a0-0000-7000-8000-000000000004", None, None, None, None),
]

# WHERE expressions, each with the n of the rows it must select.
FILTERS = [
    ("at > '2026-02-01T00:00:00Z'", [2, 3]),
    ("at <= '2026-03-15 12:30:00'", [1, 2]),
    ("at = '2026-03-15T14:30:00+02:00'", [2]),
    ("at >= '2026-06-30T23:59:59.000Z'", [3]),
    ("at < 1767225600000001", [1]),  # integer microseconds keep working
    ("dt >= '2026-03-15T00:00:00'", [2, 3]),
    ("day BETWEEN '2026-01-02' AND '2026-06-30'", [2, 3]),
    ("day != '2026-03-15'", [1, 3]),
    ("day IN ('2026-01-01', '2026-06-30')", [1, 3]),
    ("t < '12:00:00'", [1]),
    ("t > '12:00' AND n < 3", [2]),
    ("id = '0190C9A0-0000-7000-8000-000000000002'", [2]),
    ("id = '0190c9a0-0000-7000-8000-000000000003'", [3]),  # inserted upper-case
    ("id > '0190C9A0-0000-7000-8000-000000000001' AND n <= 3", [2, 3]),
    # Under OR the literal is converted too (SQLite does not hand the comparison to the table).
    ("at > '2000-01-01' OR n = 4", [1, 2, 3, 4]),
    ("n = 99 OR day < '2026-03-15' OR id = '0190C9A0-0000-7000-8000-000000000003'", [1, 3]),
    ("at IS NULL", [4]),
    ("n = '2'", [2]),  # the column's affinity applies, as in a SELECT
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    config = DEFAULT_TEST_CONFIG + "max_subscriptions_per_user = 100\n"
    s = Server(tmp_path_factory.mktemp("kdb") / "data", config_toml=config).start()
    yield s
    s.stop()


@pytest.fixture
def table(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.ev (id UUID PRIMARY KEY, at TIMESTAMP, dt DATETIME, "
               f"day DATE, t TIME, n INT)")
    return f"{ns}.ev"


def sql_value(v):
    return "NULL" if v is None else f"'{v}'"


def insert(server, table, row):
    n, *values = row
    server.sql(f"INSERT INTO {table} (n, id, at, dt, day, t) VALUES "
               f"({n}, {', '.join(sql_value(v) for v in values)})")


def selected(server, table, where):
    return sorted(r[0] for r in server.rows(f"SELECT n FROM {table} WHERE {where}"))


def collect(client, expected_total):
    """Change events by subscription id, reading until `expected_total` arrived, then checking
    that nothing else comes."""
    by_sub = {}
    for e in client.changes(expected_total):
        by_sub.setdefault(e["subscription_id"], []).append(e)
    client.expect_silence(0.5)
    return by_sub


def test_inserts_reach_exactly_the_typed_filters_they_match(server, table):
    c = LiveClient(server)
    for k, (where, _) in enumerate(FILTERS):
        c.subscribe_ready(f"f{k}", f"SELECT n FROM {table} WHERE {where}")
    for row in ROWS:
        insert(server, table, row)
    selects = [selected(server, table, where) for where, _ in FILTERS]
    for (where, expect), select in zip(FILTERS, selects):
        assert select == expect, f"{where}: SELECT selects {select}"
    by_sub = collect(c, sum(len(select) for select in selects))
    for k, (where, _) in enumerate(FILTERS):
        events = by_sub.get(f"f{k}", [])
        assert all(e["change_type"] == "insert" for e in events), where
        live = [e["rows"][0]["n"] for e in events]  # in insert order, as the rows' n
        assert live == selects[k], f"{where}: delivered {live}, the SELECT selects {selects[k]}"
    c.close()


def test_updates_of_typed_columns_move_rows_in_and_out_of_the_filter(server, table):
    for row in ROWS[:2]:
        insert(server, table, row)
    c = LiveClient(server)
    c.subscribe_ready("late", f"SELECT n, at FROM {table} WHERE at > '2026-02-01T00:00:00Z'")
    c.subscribe_ready("uuid", f"SELECT n FROM {table} WHERE id = "
                              f"'0190C9A0-0000-7000-8000-000000000001'")
    server.sql(f"UPDATE {table} SET at = '2026-05-01T00:00:00Z' WHERE n = 1")  # moves in
    server.sql(f"UPDATE {table} SET at = '2025-12-31T23:00:00-01:00' WHERE n = 2")  # moves out
    server.sql(f"UPDATE {table} SET at = '2026-01-15T00:00:00Z' WHERE n = 2")  # stays out
    server.sql(f"UPDATE {table} SET n = 10 WHERE id = '0190c9a0-0000-7000-8000-000000000001'")
    by_sub = collect(c, 5)
    late = [(e["change_type"], (e.get("rows") or e.get("old_values"))[0]["n"])
            for e in by_sub["late"]]
    assert late == [("insert", 1), ("delete", 2), ("update", 10)]
    uuid = [(e["change_type"], e["rows"][0]["n"]) for e in by_sub["uuid"]]
    assert uuid == [("update", 1), ("update", 10)]
    c.close()


def test_deletes_are_delivered_to_the_typed_filters_the_row_matched(server, table):
    for row in ROWS:
        insert(server, table, row)
    c = LiveClient(server)
    c.subscribe_ready("day", f"SELECT n FROM {table} WHERE day >= '2026-03-15'")
    server.sql(f"DELETE FROM {table} WHERE n = 1")  # never matched: not delivered
    server.sql(f"DELETE FROM {table} WHERE id = '0190C9A0-0000-7000-8000-000000000003'")
    ev = collect(c, 1)["day"]
    assert ev[0]["change_type"] == "delete" and ev[0]["old_values"][0]["n"] == 3
    assert ev[0]["old_values"][0]["_deleted"] is True
    c.close()


@pytest.mark.parametrize("where,column,type_name", [
    ("at > 'yesterday'", "at", "TIMESTAMP"),
    ("day = '2026-13-45'", "day", "DATE"),
    ("t < 'noon'", "t", "TIME"),
    ("id = 'not-a-uuid'", "id", "UUID"),
])
def test_a_literal_that_does_not_convert_is_the_error_the_select_gives(server, table, where,
                                                                       column, type_name):
    insert(server, table, ROWS[0])
    select_error = server.sql_error(f"SELECT n FROM {table} WHERE {where}")
    c = LiveClient(server)
    c.subscribe("bad", f"SELECT * FROM {table} WHERE {where}")
    err = c.recv()
    assert err["type"] == "error" and err["subscription_id"] == "bad", err
    assert err["code"] == "INVALID_SQL"
    assert f"column '{column}'" in err["message"] and type_name in err["message"], err
    assert select_error["message"].removeprefix("Statement 1 failed: Execution error: ") in err["message"]
    assert server.rows("SELECT subscription_id FROM system.live") == []
    c.close()
