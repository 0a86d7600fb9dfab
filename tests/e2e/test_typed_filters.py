"""Comparisons on typed columns take literals in the form people write them (PROTOCOL §5 input
forms): ISO timestamps, dates, times, and UUIDs in any case."""


def setup_events(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.ev (id UUID PRIMARY KEY, at TIMESTAMP, day DATE, "
               f"t TIME, n INT)")
    server.sql(f"INSERT INTO {ns}.ev (id, at, day, t, n) VALUES "
               f"('0190c9a0-0000-7000-8000-000000000001', '2026-01-01T00:00:00Z', '2026-01-01', '08:00:00', 1), "
               f"('0190c9a0-0000-7000-8000-000000000002', '2026-03-15T12:30:00Z', '2026-03-15', '12:30:00', 2), "
               f"('0190c9a0-0000-7000-8000-000000000003', '2026-06-30T23:59:59Z', '2026-06-30', '23:59:59', 3)")


def ids(server, sql, params=None):
    return [r[0] for r in server.rows(sql, params)]


def test_timestamp_compared_with_iso_text(server, ns):
    setup_events(server, ns)
    assert ids(server, f"SELECT n FROM {ns}.ev WHERE at > '2026-02-01T00:00:00Z' ORDER BY n") == [2, 3]
    assert ids(server, f"SELECT n FROM {ns}.ev WHERE at <= '2026-03-15 12:30:00' ORDER BY n") == [1, 2]
    assert ids(server, f"SELECT n FROM {ns}.ev WHERE at = '2026-03-15T14:30:00+02:00'") == [2]
    assert ids(server, f"SELECT n FROM {ns}.ev WHERE at >= $1 ORDER BY n",
               ["2026-06-01T00:00:00Z"]) == [3]
    # Integer microseconds keep working.
    assert ids(server, f"SELECT n FROM {ns}.ev WHERE at < 1767225600000001") == [1]


def test_date_time_and_not_equal(server, ns):
    setup_events(server, ns)
    assert ids(server, f"SELECT n FROM {ns}.ev WHERE day BETWEEN '2026-01-02' AND '2026-06-30' ORDER BY n") == [2, 3]
    assert ids(server, f"SELECT n FROM {ns}.ev WHERE t < '12:00:00'") == [1]
    assert ids(server, f"SELECT n FROM {ns}.ev WHERE day != '2026-03-15' ORDER BY n") == [1, 3]


def test_uuid_in_any_case_finds_the_row_also_as_primary_key(server, ns):
    setup_events(server, ns)
    assert ids(server, f"SELECT n FROM {ns}.ev WHERE id = '0190C9A0-0000-7000-8000-000000000002'") == [2]
    assert ids(server, f"SELECT n FROM {ns}.ev WHERE id > '0190c9a0-0000-7000-8000-000000000001' ORDER BY n") == [2, 3]
    r = server.sql(f"UPDATE {ns}.ev SET n = 20 WHERE id = '0190C9A0-0000-7000-8000-000000000002'")
    assert r["results"][0]["message"] == "Updated 1 row(s)"
    assert ids(server, f"SELECT n FROM {ns}.ev WHERE id = $1", ["0190c9a0-0000-7000-8000-000000000002"]) == [20]


def test_malformed_literal_in_a_typed_comparison_is_a_clear_error(server, ns):
    setup_events(server, ns)
    err = server.sql_error(f"SELECT n FROM {ns}.ev WHERE at > 'yesterday'")
    assert err["code"] == "SQL_EXECUTION_ERROR"
    assert "column 'at'" in err["message"] and "TIMESTAMP" in err["message"]


def test_null_comparison_matches_nothing(server, ns):
    setup_events(server, ns)
    assert ids(server, f"SELECT n FROM {ns}.ev WHERE at = NULL") == []
    server.sql(f"INSERT INTO {ns}.ev (id, n) VALUES ('0190c9a0-0000-7000-8000-000000000009', 9)")
    assert ids(server, f"SELECT n FROM {ns}.ev WHERE at IS NULL") == [9]
    assert ids(server, f"SELECT n FROM {ns}.ev WHERE at > '2000-01-01' ORDER BY n") == [1, 2, 3]
