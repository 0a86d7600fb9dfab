"""SQL.md §1-§2 rows: INSERT/RETURNING/UPDATE/DELETE, versions and `_seq`, soft delete, PK
violations, SELECT features, row limits."""
import pytest

from helpers import PK, msg_result, seq_time_ms

M_SCHEMA = [
    {"name": "id", "data_type": "Int", "index": 0, "flags": PK},
    {"name": "body", "data_type": "Text", "index": 1},
    {"name": "n", "data_type": "Int", "index": 2},
    {"name": "_seq", "data_type": "BigInt", "index": 3},
    {"name": "_deleted", "data_type": "Boolean", "index": 4},
]


@pytest.fixture
def m(server, ns):
    server.sql(f"CREATE TABLE {ns}.m (id INT PRIMARY KEY, body TEXT, n INT)")
    return f"{ns}.m"


def strip_seq(rows):
    for r in rows:
        assert isinstance(r[-2], str) and r[-2].isdigit(), r
    return [r[:-2] + r[-1:] for r in rows]


def test_multi_row_insert(server, m):
    body = server.sql(f"INSERT INTO {m} VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30)")
    assert body["results"] == [msg_result("Inserted 3 row(s)", 3)]
    res = server.sql(f"SELECT * FROM {m} ORDER BY id")["results"][0]
    assert res["schema"] == M_SCHEMA
    assert res["row_count"] == 3
    assert strip_seq(res["rows"]) == [[1, "a", 10, False], [2, "b", 20, False], [3, "c", 30, False]]


def test_insert_with_column_list_and_reordering(server, m):
    server.sql(f"INSERT INTO {m} (n, id) VALUES (5, 1)")
    assert server.rows(f"SELECT id, body, n FROM {m}") == [[1, None, 5]]


def test_insert_unknown_column(server, m):
    err = server.sql_error(f"INSERT INTO {m} (id, nope) VALUES (1, 2)")
    assert "nope" in err["message"]


def test_insert_wrong_value_count(server, m):
    err = server.sql_error(f"INSERT INTO {m} VALUES (1, 'a')")
    assert err["code"] in ("INVALID_SQL", "SQL_EXECUTION_ERROR")


def test_insert_returning_seq(server, m):
    res = server.sql(f"INSERT INTO {m} VALUES (1, 'a', 1), (2, 'b', 2) RETURNING _seq")["results"]
    assert len(res) == 1
    assert res[0]["schema"] == [{"name": "_seq", "data_type": "BigInt", "index": 0}]
    assert res[0]["row_count"] == 2
    seqs = [r[0] for r in res[0]["rows"]]
    assert all(isinstance(s, str) for s in seqs)
    assert int(seqs[0]) < int(seqs[1])
    assert server.rows(f"SELECT _seq FROM {m} ORDER BY id") == [[s] for s in seqs]


def test_insert_returning_star(server, m):
    res = server.sql(f"INSERT INTO {m} VALUES (1, 'a', 1) RETURNING *")["results"]
    assert len(res) == 1
    assert res[0]["schema"] == M_SCHEMA
    assert res[0]["row_count"] == 1
    assert res[0]["as_user"] == "root"
    assert strip_seq(res[0]["rows"]) == [[1, "a", 1, False]]
    assert res[0]["rows"] == server.rows(f"SELECT * FROM {m}")


def test_insert_returning_cols(server, m):
    res = server.sql(f"INSERT INTO {m} VALUES (1, 'a', 1), (2, 'b', 2) RETURNING body, id")["results"]
    assert res == [{"schema": [{"name": "body", "data_type": "Text", "index": 0},
                               {"name": "id", "data_type": "Int", "index": 1, "flags": PK}],
                    "rows": [["a", 1], ["b", 2]], "row_count": 2, "as_user": "root"}]


def test_insert_returning_with_params(server, m):
    res = server.sql(f"INSERT INTO {m} (id, body) VALUES ($1, $2) RETURNING id, body, n",
                     params=[9, "p"])["results"]
    assert res[0]["rows"] == [[9, "p", None]]


def test_update(server, m):
    server.sql(f"INSERT INTO {m} VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30)")
    body = server.sql(f"UPDATE {m} SET body = 'bb', n = n + 1 WHERE id >= 2")
    assert body["results"] == [msg_result("Updated 2 row(s)", 2)]
    assert server.rows(f"SELECT id, body, n FROM {m} ORDER BY id") == [
        [1, "a", 10], [2, "bb", 21], [3, "bb", 31]]
    body = server.sql(f"UPDATE {m} SET n = 0 WHERE id = 99")
    assert body["results"] == [msg_result("Updated 0 row(s)", 0)]


def test_update_pk_rejected(server, m):
    server.sql(f"INSERT INTO {m} VALUES (1, 'a', 10)")
    err = server.sql_error(f"UPDATE {m} SET id = 2 WHERE id = 1")
    assert err["code"] == "SQL_EXECUTION_ERROR"
    assert "id" in err["message"]
    assert server.rows(f"SELECT id FROM {m}") == [[1]]


def test_update_gives_new_seq(server, m):
    s1 = server.sql(f"INSERT INTO {m} VALUES (1, 'a', 10) RETURNING _seq")["results"][0]["rows"][0][0]
    server.sql(f"UPDATE {m} SET body = 'z' WHERE id = 1")
    (s2,) = server.rows(f"SELECT _seq FROM {m}")[0]
    assert int(s2) > int(s1)


def test_delete_soft(server, m):
    server.sql(f"INSERT INTO {m} VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30)")
    body = server.sql(f"DELETE FROM {m} WHERE id = 2")
    assert body["results"] == [msg_result("Deleted 1 row(s)", 1)]
    assert strip_seq(server.rows(f"SELECT * FROM {m} ORDER BY id")) == [
        [1, "a", 10, False], [3, "c", 30, False]]
    assert strip_seq(server.rows(f"SELECT * FROM {m} WHERE _deleted = true")) == [[2, "b", 20, True]]
    assert server.rows(f"SELECT id, _deleted FROM {m} WHERE _deleted = false ORDER BY id") == [
        [1, False], [3, False]]
    assert server.rows(f"SELECT count(*) FROM {m}") == [["2"]]
    body = server.sql(f"DELETE FROM {m} WHERE id = 2")
    assert body["results"] == [msg_result("Deleted 0 row(s)", 0)]


def test_delete_seq_greater_than_insert(server, m):
    s1 = server.sql(f"INSERT INTO {m} VALUES (1, 'a', 10) RETURNING _seq")["results"][0]["rows"][0][0]
    server.sql(f"DELETE FROM {m} WHERE id = 1")
    (s2,) = server.rows(f"SELECT _seq FROM {m} WHERE _deleted = true")[0]
    assert int(s2) > int(s1)


def test_delete_all_and_reinsert(server, m):
    server.sql(f"INSERT INTO {m} VALUES (1, 'a', 10), (2, 'b', 20)")
    body = server.sql(f"DELETE FROM {m}")
    assert body["results"] == [msg_result("Deleted 2 row(s)", 2)]
    assert server.rows(f"SELECT * FROM {m}") == []
    server.sql(f"INSERT INTO {m} VALUES (1, 'again', 11)")
    assert strip_seq(server.rows(f"SELECT * FROM {m}")) == [[1, "again", 11, False]]
    assert server.rows(f"SELECT id FROM {m} WHERE _deleted = true") == [[2]]


def test_update_deleted_row_affects_nothing(server, m):
    server.sql(f"INSERT INTO {m} VALUES (1, 'a', 10)")
    server.sql(f"DELETE FROM {m} WHERE id = 1")
    body = server.sql(f"UPDATE {m} SET body = 'zombie'")
    assert body["results"] == [msg_result("Updated 0 row(s)", 0)]
    assert server.rows(f"SELECT body, _deleted FROM {m} WHERE _deleted = true") == [["a", True]]


def test_system_columns_after_user_columns(server, m):
    server.sql(f"INSERT INTO {m} (id) VALUES (1)")
    res = server.sql(f"SELECT * FROM {m}")["results"][0]
    assert [c["name"] for c in res["schema"]] == ["id", "body", "n", "_seq", "_deleted"]
    res = server.sql(f"SELECT *, id AS again FROM {m}")["results"][0]
    assert [c["name"] for c in res["schema"]] == ["id", "body", "n", "_seq", "_deleted", "again"]


def test_seq_time_and_increasing_in_commit_order(server, m):
    import time
    before = int(time.time() * 1000)
    seqs = []
    for i in range(10):
        r = server.sql(f"INSERT INTO {m} (id) VALUES ({i}) RETURNING _seq")["results"][0]["rows"]
        seqs.append(int(r[0][0]))
    server.sql(f"UPDATE {m} SET n = 1 WHERE id = 0")
    after = int(time.time() * 1000)
    seqs.append(int(server.rows(f"SELECT _seq FROM {m} WHERE id = 0")[0][0]))
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    for s in seqs:
        assert before - 2 <= seq_time_ms(s) <= after + 2


def test_seq_increasing_within_batch(server, m):
    server.sql(f"INSERT INTO {m} (id) VALUES (1); INSERT INTO {m} (id) VALUES (2); "
               f"UPDATE {m} SET n = 5 WHERE id = 1")
    rows = server.rows(f"SELECT id, _seq FROM {m} ORDER BY _seq")
    assert [r[0] for r in rows] == [2, 1]


def test_seq_concurrent_writers_unique_and_ordered(server, m):
    import threading
    import time

    import requests
    tok = server.token()
    results = []
    lock = threading.Lock()

    def worker(k):
        s = requests.Session()
        for i in range(15):
            t0 = time.monotonic()
            r = s.post(server.base + "/v1/api/sql",
                       json={"sql": f"INSERT INTO {m} (id) VALUES ($1) RETURNING _seq",
                             "params": [k * 100 + i]},
                       headers={"Authorization": f"Bearer {tok}"})
            t1 = time.monotonic()
            assert r.status_code == 200, r.text
            with lock:
                results.append((t0, t1, int(r.json()["results"][0]["rows"][0][0])))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 90
    assert len({r[2] for r in results}) == 90
    # a request that finished before another started must have the smaller _seq
    for a in results:
        for b in results:
            if a[1] < b[0]:
                assert a[2] < b[2]
    assert server.rows(f"SELECT count(*) FROM {m}") == [["90"]]


def test_pk_violation_message(server, m):
    server.sql(f"INSERT INTO {m} VALUES (1, 'a', 10)")
    err = server.sql_error(f"INSERT INTO {m} VALUES (1, 'dup', 0)")
    assert err["code"] == "SQL_EXECUTION_ERROR"
    assert err["message"] == "Statement 1 failed: Already exists: Primary key violation: value '1' already exists in column 'id'"
    assert err["details"] == f"INSERT INTO {m} VALUES (1, 'dup', 0)"
    assert strip_seq(server.rows(f"SELECT * FROM {m}")) == [[1, "a", 10, False]]


def test_pk_violation_within_one_statement_inserts_nothing(server, m):
    err = server.sql_error(f"INSERT INTO {m} (id) VALUES (5), (6), (5)")
    assert err["message"] == "Statement 1 failed: Already exists: Primary key violation: value '5' already exists in column 'id'"
    assert server.rows(f"SELECT id FROM {m}") == []


def test_pk_violation_text_key(server, ns):
    server.sql(f"CREATE TABLE {ns}.k (code TEXT PRIMARY KEY)")
    server.sql(f"INSERT INTO {ns}.k VALUES ('abc')")
    err = server.sql_error(f"INSERT INTO {ns}.k VALUES ('abc')")
    assert err["message"] == "Statement 1 failed: Already exists: Primary key violation: value 'abc' already exists in column 'code'"


def test_pk_reuse_after_delete(server, m):
    server.sql(f"INSERT INTO {m} VALUES (1, 'a', 10)")
    server.sql(f"DELETE FROM {m} WHERE id = 1")
    server.sql(f"INSERT INTO {m} VALUES (1, 'b', 20)")
    assert strip_seq(server.rows(f"SELECT * FROM {m}")) == [[1, "b", 20, False]]


@pytest.mark.parametrize("stmt", [
    "INSERT INTO {m} (id, _seq) VALUES (9, 5)",
    "INSERT INTO {m} (id, _deleted) VALUES (9, true)",
    "UPDATE {m} SET _seq = 5",
    "UPDATE {m} SET _deleted = true",
])
def test_writing_system_columns_rejected(server, m, stmt):
    server.sql(f"INSERT INTO {m} VALUES (1, 'a', 10)")
    err = server.sql_error(stmt.format(m=m))
    column = "_seq" if "_seq" in stmt else "_deleted"
    assert err["code"] == "SQL_EXECUTION_ERROR", err
    assert err["message"] == f"Statement 1 failed: Invalid operation: Column '{column}' is a system column and cannot be written", err
    assert strip_seq(server.rows(f"SELECT * FROM {m}")) == [[1, "a", 10, False]]


def test_upsert_not_supported(server, m):
    server.sql(f"INSERT INTO {m} VALUES (1, 'a', 10)")
    r = server.sql_raw(f"INSERT INTO {m} VALUES (1, 'b', 20) ON CONFLICT (id) DO UPDATE SET body = 'b'")
    assert r.status_code == 400
    assert server.rows(f"SELECT body FROM {m}") == [["a"]]


# ---- SELECT features ----------------------------------------------------------------------------

@pytest.fixture
def two_ns(server, ns):
    from helpers import unique
    other = unique("ons")
    server.sql(f"CREATE NAMESPACE {other}")
    server.sql(f"CREATE TABLE {ns}.users (id INT PRIMARY KEY, name TEXT, meta JSON)")
    server.sql(f"CREATE TABLE {other}.orders (id INT PRIMARY KEY, uid INT, amt DOUBLE)")
    server.sql(f"INSERT INTO {ns}.users VALUES (1, 'ann', '{{\"age\":30,\"tags\":[\"x\",\"y\"]}}'), "
               f"(2, 'bob', '{{\"age\":40}}'), (3, 'cy', NULL)")
    server.sql(f"INSERT INTO {other}.orders VALUES (10, 1, 5.5), (11, 1, 4.5), (12, 2, 1.0)")
    return ns, other


def test_join_across_namespaces(server, two_ns):
    a, b = two_ns
    res = server.sql(f"SELECT u.name, o.amt FROM {a}.users u JOIN {b}.orders o ON o.uid = u.id "
                     "ORDER BY o.id")["results"][0]
    assert res["schema"] == [{"name": "name", "data_type": "Text", "index": 0},
                             {"name": "amt", "data_type": "Double", "index": 1}]
    assert res["rows"] == [["ann", 5.5], ["ann", 4.5], ["bob", 1.0]]
    rows = server.rows(f"SELECT u.name, count(o.id) FROM {a}.users u LEFT JOIN {b}.orders o "
                       "ON o.uid = u.id GROUP BY u.id ORDER BY u.id")
    assert rows == [["ann", "2"], ["bob", "1"], ["cy", "0"]]


def test_aggregates(server, two_ns):
    _, b = two_ns
    res = server.sql(f"SELECT uid, count(*) AS c, sum(amt) AS s, avg(amt) AS a, min(amt) AS lo, "
                     f"max(amt) AS hi FROM {b}.orders GROUP BY uid HAVING count(*) >= 1 "
                     "ORDER BY uid")["results"][0]
    assert res["schema"] == [
        {"name": "uid", "data_type": "Int", "index": 0},
        {"name": "c", "data_type": "BigInt", "index": 1},
        {"name": "s", "data_type": "Double", "index": 2},
        {"name": "a", "data_type": "Double", "index": 3},
        {"name": "lo", "data_type": "Double", "index": 4},
        {"name": "hi", "data_type": "Double", "index": 5},
    ]
    assert res["rows"] == [[1, "2", 10.0, 5.0, 4.5, 5.5], [2, "1", 1.0, 1.0, 1.0, 1.0]]


def test_count_star_is_string(server, two_ns):
    _, b = two_ns
    res = server.sql(f"SELECT count(*) FROM {b}.orders")["results"][0]
    assert res["schema"] == [{"name": "count(*)", "data_type": "BigInt", "index": 0}]
    assert res["rows"] == [["3"]]


def test_subqueries(server, two_ns):
    a, b = two_ns
    assert server.rows(f"SELECT name FROM {a}.users WHERE id IN "
                       f"(SELECT uid FROM {b}.orders WHERE amt > 5)") == [["ann"]]
    assert server.rows(f"SELECT name, (SELECT count(*) FROM {b}.orders o WHERE o.uid = u.id) AS c "
                       f"FROM {a}.users u ORDER BY id") == [["ann", "2"], ["bob", "1"], ["cy", "0"]]
    assert server.rows(f"SELECT name FROM {a}.users u WHERE EXISTS "
                       f"(SELECT 1 FROM {b}.orders o WHERE o.uid = u.id) ORDER BY id") == [["ann"], ["bob"]]
    assert server.rows(f"SELECT t.s FROM (SELECT sum(amt) AS s FROM {b}.orders) t") == [[11.0]]


def test_scalar_subquery_column_name_has_no_internal_names(server, two_ns):
    """An unaliased expression column is named after the expression as written by the client; the
    server's internal table names must never leak into the result."""
    _, b = two_ns
    res = server.sql(f"SELECT (SELECT count(*) FROM {b}.orders)")["results"][0]
    assert res["rows"] == [["3"]]
    assert res["schema"] == [{"name": f"(SELECT count(*) FROM {b}.orders)", "data_type": "BigInt",
                              "index": 0}]


def test_cte(server, two_ns):
    _, b = two_ns
    res = server.sql(f"WITH t AS (SELECT uid, sum(amt) AS s FROM {b}.orders GROUP BY uid) "
                     "SELECT uid, s FROM t ORDER BY uid")["results"][0]
    assert res["rows"] == [[1, 10.0], [2, 1.0]]
    rows = server.rows("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5) "
                       "SELECT sum(x) FROM c")
    assert rows == [["15"]]


def test_window_function(server, two_ns):
    _, b = two_ns
    res = server.sql(f"SELECT id, row_number() OVER (PARTITION BY uid ORDER BY amt) AS rn, "
                     f"sum(amt) OVER (ORDER BY id) AS running FROM {b}.orders ORDER BY id")["results"][0]
    assert res["rows"] == [[10, "2", 5.5], [11, "1", 10.0], [12, "1", 11.0]]
    assert res["schema"][1] == {"name": "rn", "data_type": "BigInt", "index": 1}


def test_json_functions(server, two_ns):
    a, _ = two_ns
    rows = server.rows(f"SELECT json_extract(meta, '$.age') AS a1, meta ->> '$.age' AS a2, "
                       f"meta -> '$.tags' AS t, json_array_length(meta, '$.tags') AS n "
                       f"FROM {a}.users ORDER BY id")
    assert rows == [["30", "30", '["x","y"]', "2"], ["40", "40", None, None], [None, None, None, None]]
    assert server.rows(f"SELECT name FROM {a}.users WHERE meta ->> '$.age' > 35") == [["bob"]]


def test_json_each_table_valued_function(server, two_ns):
    """SQLite's JSON table-valued functions (SQL.md: SQLite's own JSON functions)."""
    a, _ = two_ns
    assert server.rows("SELECT value FROM json_each('[1,2,3]')") == [["1"], ["2"], ["3"]]
    rows = server.rows(f"SELECT u.name, j.value FROM {a}.users u, json_each(u.meta, '$.tags') j "
                       "ORDER BY j.value")
    assert rows == [["ann", "x"], ["ann", "y"]]


def test_union(server, two_ns):
    a, b = two_ns
    assert server.rows(f"SELECT id FROM {a}.users UNION SELECT uid FROM {b}.orders ORDER BY 1") == [
        [1], [2], [3]]
    assert server.rows(f"SELECT id FROM {a}.users UNION ALL SELECT uid FROM {b}.orders "
                       "ORDER BY 1") == [[1], [1], [1], [2], [2], [3]]
    assert server.rows(f"SELECT id FROM {a}.users EXCEPT SELECT uid FROM {b}.orders") == [[3]]
    assert server.rows(f"SELECT id FROM {a}.users INTERSECT SELECT uid FROM {b}.orders "
                       "ORDER BY 1") == [[1], [2]]


def test_union_all_schema_not_flagged_unique(server, two_ns):
    """`uq` promises unique values: a UNION ALL that repeats a value cannot carry it."""
    a, _ = two_ns
    res = server.sql(f"SELECT id FROM {a}.users UNION ALL SELECT id FROM {a}.users")["results"][0]
    assert sorted(r[0] for r in res["rows"]) == [1, 1, 2, 2, 3, 3]
    assert "uq" not in res["schema"][0].get("flags", [])


def test_like_case_order_limit_offset(server, two_ns):
    a, _ = two_ns
    rows = server.rows(f"SELECT name, CASE WHEN id > 1 THEN 'hi' ELSE 'lo' END FROM {a}.users "
                       "WHERE name LIKE '%b%' OR name LIKE 'a%' ORDER BY id DESC LIMIT 1 OFFSET 1")
    assert rows == [["ann", "lo"]]


# ---- limits -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big(server):
    server.sql("CREATE NAMESPACE IF NOT EXISTS limns")
    server.sql("CREATE TABLE limns.big (id INT PRIMARY KEY, v INT)")
    server.sql("INSERT INTO limns.big VALUES " + ",".join(f"({i}, 0)" for i in range(1, 1201)))
    return "limns.big"


def _res(server, sql):
    return server.sql(sql)["results"][0]


def test_default_limit_50_truncated(server, big):
    res = _res(server, f"SELECT id FROM {big} ORDER BY id")
    assert res["rows"] == [[i] for i in range(1, 51)]
    assert res["row_count"] == 50
    assert res["truncated"] is True


def test_explicit_limit_not_truncated(server, big):
    res = _res(server, f"SELECT id FROM {big} ORDER BY id LIMIT 60")
    assert res["row_count"] == 60 and len(res["rows"]) == 60
    assert "truncated" not in res


def test_exactly_50_rows_not_truncated(server, big):
    res = _res(server, f"SELECT id FROM {big} WHERE id <= 50")
    assert res["row_count"] == 50
    assert "truncated" not in res


def test_limit_capped_at_1000(server, big):
    res = _res(server, f"SELECT id FROM {big} ORDER BY id LIMIT 5000")
    assert res["row_count"] == 1000 and len(res["rows"]) == 1000
    assert res["rows"][-1] == [1000]
    assert res["truncated"] is True
    res = _res(server, f"SELECT id FROM {big} ORDER BY id LIMIT 1000")
    assert res["row_count"] == 1000
    assert "truncated" not in res


def test_inner_limit_is_not_top_level(server, big):
    res = _res(server, f"SELECT id FROM (SELECT id FROM {big} ORDER BY id LIMIT 100)")
    assert res["row_count"] == 50
    assert res["truncated"] is True


def test_aggregate_over_all_rows_not_limited(server, big):
    assert server.rows(f"SELECT count(*), sum(id) FROM {big}") == [["1200", str(1200 * 1201 // 2)]]


def test_update_and_delete_not_limited(server, big):
    body = server.sql(f"UPDATE {big} SET v = v + 1 WHERE id > 1100")
    assert body["results"] == [msg_result("Updated 100 row(s)", 100)]


@pytest.mark.parametrize("sql,params", [
    ("SELECT id FROM {big} LIMIT -1", None),
    ("SELECT id FROM {big} LIMIT $1", [5000]),
    ("SELECT id FROM {big} LIMIT 10, 5000", None),
    ("SELECT id FROM {big} UNION ALL SELECT id FROM {big} LIMIT 3000", None),
])
def test_cap_cannot_be_bypassed(server, big, sql, params):
    res = server.sql(sql.format(big=big), params=params)["results"][0]
    assert res["row_count"] == 1000 and len(res["rows"]) == 1000
    assert res["truncated"] is True


def test_insert_select_not_limited(server, big, ns):
    server.sql(f"CREATE TABLE {ns}.copy (id INT PRIMARY KEY)")
    body = server.sql(f"INSERT INTO {ns}.copy SELECT id FROM {big}")
    assert body["results"] == [msg_result("Inserted 1200 row(s)", 1200)]
    assert server.rows(f"SELECT count(*) FROM {ns}.copy") == [["1200"]]
