"""PROTOCOL §3: request fields, params, batches, errors, limits, transactions, SQLite guards."""
import pytest
import requests

from helpers import TOOK_RE, assert_sql_error, msg_result, post_sql, unique

PW = "password123"


@pytest.fixture
def t(server, ns):
    server.sql(f"CREATE TABLE {ns}.t (id INT PRIMARY KEY, v TEXT)")
    return f"{ns}.t"


@pytest.fixture(scope="module")
def plain_user(server):
    name = unique("plain")
    server.create_user(name)
    return name


# ---- success shape / took -----------------------------------------------------------------------

def test_success_shape_and_took(server, t):
    server.sql(f"INSERT INTO {t} VALUES (1, 'a')")
    r = server.sql_raw(f"SELECT id, v FROM {t}")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["status", "results", "took"]
    assert body["results"] == [{
        "schema": [{"name": "id", "data_type": "Int", "index": 0, "flags": ["pk", "nn", "uq"]},
                   {"name": "v", "data_type": "Text", "index": 1}],
        "rows": [[1, "a"]], "row_count": 1, "as_user": "root"}]
    m = TOOK_RE.search(r.text)
    assert m, r.text
    assert isinstance(body["took"], (int, float)) and body["took"] >= 0


@pytest.mark.parametrize("sql", ["SELECT 1", "SELECT * FROM nope_table", "CREATE NAMESPACE default"])
def test_took_has_at_most_three_decimals(server, sql):
    r = server.sql_raw(sql)
    assert TOOK_RE.search(r.text), r.text


def test_empty_result_has_empty_rows_and_schema(server, t):
    res = server.sql(f"SELECT id FROM {t}")["results"][0]
    assert res == {"schema": [{"name": "id", "data_type": "Int", "index": 0, "flags": ["pk", "nn", "uq"]}],
                   "rows": [], "row_count": 0, "as_user": "root"}


def test_message_result_has_no_rows(server, t):
    res = server.sql(f"INSERT INTO {t} (id) VALUES (7)")["results"][0]
    assert "rows" not in res and "schema" not in res and res["row_count"] == 1


def test_ddl_result_has_no_schema(server):
    name = unique("ddl")
    body = server.sql(f"CREATE NAMESPACE {name}")
    assert body["results"] == [{"row_count": 0, "message": f"Namespace {name} created successfully",
                                "as_user": "root"}]


# ---- params -------------------------------------------------------------------------------------

def test_params_basic(server, t):
    server.sql(f"INSERT INTO {t} VALUES ($1, $2)", params=[1, "o'neil"])
    assert server.rows(f"SELECT v FROM {t} WHERE id = $1", params=[1]) == [["o'neil"]]
    assert server.rows("SELECT $1 AS a, $2 AS b, $3 AS c, $4 AS d",
                       params=[None, True, 2.5, "s"]) == [[None, "1", 2.5, "s"]]


def test_param_reused(server):
    assert server.rows("SELECT $1 + $1 AS x", params=[21]) == [["42"]]


def test_param_count_mismatch(server, t):
    err = server.sql_error(f"INSERT INTO {t} VALUES ($1, $2)", params=[1])
    assert err["code"] == "INVALID_PARAMETER"
    assert err["message"] == "parameter mismatch: expected 2, got 1"
    err = server.sql_error(f"INSERT INTO {t} VALUES ($1, $2)", params=[1, "a", 3])
    assert err["message"] == "parameter mismatch: expected 2, got 3"
    err = server.sql_error(f"INSERT INTO {t} VALUES ($1, $2)")
    assert err["message"] == "parameter mismatch: expected 2, got 0"
    err = server.sql_error("SELECT 1", params=[1])
    assert err["message"] == "parameter mismatch: expected 0, got 1"
    assert server.rows(f"SELECT id FROM {t}") == []


# An array of numbers is a vector (docs/vectors.md); other arrays and objects are refused.
@pytest.mark.parametrize("params,idx", [([["a"], "a"], 1), ([1, {"a": 1}], 2), ([1, [True]], 2)])
def test_param_array_or_object(server, t, params, idx):
    err = server.sql_error(f"INSERT INTO {t} VALUES ($1, $2)", params=params)
    assert err["code"] == "INVALID_PARAMETER"
    assert err["message"].startswith(f"Parameter ${idx} invalid: "), err
    assert server.rows(f"SELECT id FROM {t}") == []


def test_params_not_array(server):
    r = post_sql(server, {"sql": "SELECT $1", "params": {"1": 2}})
    assert_sql_error(r, 400, "INVALID_PARAMETER")


def test_too_many_params(server):
    sql = "SELECT " + ", ".join(f"${i}" for i in range(1, 52))
    err = server.sql_error(sql, params=list(range(51)))
    assert err["code"] == "INVALID_PARAMETER"
    assert "50" in err["message"]


def test_fifty_params_ok(server):
    sql = "SELECT " + ", ".join(f"${i} AS p{i}" for i in range(1, 51))
    assert server.rows(sql, params=list(range(50))) == [[str(i) for i in range(50)]]


def test_params_with_batch(server, t):
    err = server.sql_error(f"INSERT INTO {t} VALUES ($1, 'a'); SELECT 1", params=[1])
    assert err["code"] == "PARAMS_WITH_BATCH"
    assert server.rows(f"SELECT id FROM {t}") == []


def test_param_is_data_not_sql(server, t):
    server.sql(f"INSERT INTO {t} VALUES (1, 'x')")
    assert server.rows(f"SELECT id FROM {t} WHERE v = $1", params=["x' OR '1'='1"]) == []


# ---- batches ------------------------------------------------------------------------------------

def test_batch_error_message_and_partial_apply(server, t):
    r = server.sql_raw(f"INSERT INTO {t} VALUES (1, 'a'); INSERT INTO {t} VALUES (1, 'b'); "
                       f"INSERT INTO {t} VALUES (2, 'c')")
    err = assert_sql_error(r, 400, "SQL_EXECUTION_ERROR",
                           message="Statement 2 failed: Already exists: Primary key violation: value '1' already "
                                   "exists in column 'id'")
    assert err["details"] == f"INSERT INTO {t} VALUES (1, 'b')"
    assert server.rows(f"SELECT id, v FROM {t}") == [[1, "a"]]


def test_batch_error_code_follows_failure(server, t):
    r = server.sql_raw(f"SELECT 1; SELECT 2; SELECT * FROM {t}_missing")
    err = assert_sql_error(r, 400, "TABLE_NOT_FOUND")
    assert err["message"] == f"Statement 3 failed: Not found: Table '{t}_missing' does not exist"


def test_single_statement_error_has_no_prefix(server, t):
    err = server.sql_error(f"SELECT * FROM {t}_missing")
    assert err["message"] == f"Statement 1 failed: Not found: Table '{t}_missing' does not exist"


def test_batch_dml_summed_in_order(server, t):
    body = server.sql(
        f"INSERT INTO {t} VALUES (1, 'a'); DELETE FROM {t} WHERE id = 99; "
        f"UPDATE {t} SET v = 'x' WHERE id = 1; SELECT id FROM {t}; INSERT INTO {t} VALUES (2, 'b'), (3, 'c'); "
        f"DELETE FROM {t} WHERE id = 3; SELECT count(*) FROM {t}; UPDATE {t} SET v = 'y'")
    assert body["results"] == [
        {"schema": [{"name": "id", "data_type": "Int", "index": 0, "flags": ["pk", "nn", "uq"]}],
         "rows": [[1]], "row_count": 1, "as_user": "root"},
        {"schema": [{"name": "count(*)", "data_type": "BigInt", "index": 0}],
         "rows": [["2"]], "row_count": 1, "as_user": "root"},
        msg_result("Inserted 3 row(s)", 3),
        msg_result("Updated 3 row(s)", 3),
        msg_result("Deleted 1 row(s)", 1),
    ]


def test_batch_only_updates(server, t):
    server.sql(f"INSERT INTO {t} VALUES (1, 'a')")
    body = server.sql(f"UPDATE {t} SET v = 'b'; UPDATE {t} SET v = 'c'")
    assert body["results"] == [msg_result("Updated 2 row(s)", 2)]


def test_batch_ddl_messages_in_order(server):
    a, b = unique("bn"), unique("bn")
    body = server.sql(f"CREATE NAMESPACE {a}; CREATE NAMESPACE {b}; CREATE TABLE {a}.x (id INT PRIMARY KEY); "
                      f"INSERT INTO {a}.x VALUES (1)")
    assert body["results"] == [
        msg_result(f"Namespace {a} created successfully"),
        msg_result(f"Namespace {b} created successfully"),
        msg_result(f"shared table {a}.x created successfully"),
        msg_result("Inserted 1 row(s)", 1),
    ]


def test_statement_split_respects_quotes_and_comments(server, t):
    body = server.sql(f"INSERT INTO {t} VALUES (1, 'a;b'); /* ; */ INSERT INTO {t} VALUES "
                      f"(2, 'it''s; -- not a comment') -- trailing ; comment\n; SELECT v AS \"x;y\" FROM {t} "
                      "ORDER BY id;")
    assert body["results"] == [
        {"schema": [{"name": "x;y", "data_type": "Text", "index": 0}],
         "rows": [["a;b"], ["it's; -- not a comment"]], "row_count": 2, "as_user": "root"},
        msg_result("Inserted 2 row(s)", 2),
    ]


def test_empty_statements_between_semicolons_ignored(server):
    body = server.sql("SELECT 1 AS a;; ;SELECT 2 AS b;")
    assert [r["rows"] for r in body["results"]] == [[["1"]], [["2"]]]


# ---- request errors -----------------------------------------------------------------------------

@pytest.mark.parametrize("sql", ["", "   ", ";", " ; ; ", "-- only a comment", "/* nothing */"])
def test_empty_sql(server, sql):
    r = server.sql_raw(sql)
    assert_sql_error(r, 400, "EMPTY_SQL")


def test_oversized_sql_gets_the_original_invalid_sql_text(server):
    sql = "SELECT 1 " + "-" * (1048576 - 9) + "\n"  # one byte over limits.max_sql_length
    assert len(sql.encode()) == 1048577
    r = server.sql_raw(sql)
    assert_sql_error(r, 400, "INVALID_SQL",
                     message="SQL query too long: 1048577 bytes (maximum 1048576 bytes)")
    # at the limit it runs
    ok = "SELECT 1 " + "-" * (1048576 - 9)
    assert server.sql(ok)["results"][0]["rows"] == [["1"]]


@pytest.mark.parametrize("data", ["{not json", "", "{\"sql\": \"SELECT 1\"", "[]", "\"SELECT 1\"",
                                  "{\"sql\": 5}", "{\"params\": []}", "{\"sql\": null}"])
def test_malformed_body(server, data):
    r = server.sql_raw(body=data)
    assert_sql_error(r, 400, "INVALID_INPUT", message_prefix="Invalid JSON payload: ")


def test_body_not_utf8(server):
    r = server.sql_raw(body=b'{"sql": "SELECT \xff"}')
    assert_sql_error(r, 400, "INVALID_INPUT")


def test_oversized_body_413(server):
    data = "x" * (3 * 1024 * 1024)
    r = server.sql_raw(body=data)
    assert r.status_code == 413
    body = r.json()
    assert set(body) == {"error", "message", "size_bytes", "max_bytes"}
    assert body["error"] == "BODY_TOO_LARGE"
    assert body["size_bytes"] == len(data)
    assert isinstance(body["max_bytes"], int) and body["max_bytes"] < len(data)


def test_oversized_body_413_before_auth(server):
    r = requests.post(server.base + "/v1/api/sql", data="x" * (3 * 1024 * 1024))
    assert r.status_code == 413
    assert r.json()["error"] == "BODY_TOO_LARGE"


def test_oversized_chunked_body_413(server):
    def gen():
        for _ in range(40):
            yield b"y" * 100_000
    r = requests.post(server.base + "/v1/api/sql", data=gen(),
                      headers={"Authorization": f"Bearer {server.token()}"})
    assert r.status_code == 413
    body = r.json()
    assert body["error"] == "BODY_TOO_LARGE"
    assert body["size_bytes"] > body["max_bytes"]


def test_sql_longer_than_1mib(server):
    sql = "SELECT 1 /*" + "x" * (1024 * 1024) + "*/"
    r = server.sql_raw(sql)
    err = assert_sql_error(r, 400, "INVALID_SQL")
    assert "1048576" in err["message"]


def test_unknown_table(server, ns):
    err = server.sql_error(f"SELECT * FROM {ns}.nope")
    assert err == {"code": "TABLE_NOT_FOUND", "message": f"Statement 1 failed: Not found: Table '{ns}.nope' does not exist",
                   "details": f"SELECT * FROM {ns}.nope"}


@pytest.mark.parametrize("sql", ["INSERT INTO {ns}.nope VALUES (1)", "UPDATE {ns}.nope SET a = 1",
                                 "DELETE FROM {ns}.nope"])
def test_unknown_table_dml(server, ns, sql):
    err = server.sql_error(sql.format(ns=ns))
    assert err["code"] == "TABLE_NOT_FOUND"
    assert err["message"] == f"Statement 1 failed: Not found: Table '{ns}.nope' does not exist"


def test_unknown_column(server, t):
    err = server.sql_error(f"SELECT nope FROM {t}")
    assert "nope" in err["message"]


def test_syntax_error(server):
    err = server.sql_error("SELEC 1")
    assert err["code"] == "INVALID_SQL"
    assert err["details"] == "SELEC 1"


def test_lexer_error_has_details_for_admin(server):
    """Callers at dba or above get `details` (the offending statement) on every statement error."""
    err = server.sql_error("CREATE NAMESPACE 1abc")
    assert err["code"] == "INVALID_SQL"
    assert err.get("details") == "CREATE NAMESPACE 1abc", err


def test_admin_gets_details(server, t):
    server.sql(f"INSERT INTO {t} VALUES (1, 'a')")
    err = server.sql_error(f"INSERT INTO {t} VALUES (1, 'b')")
    assert err["details"] == f"INSERT INTO {t} VALUES (1, 'b')"


@pytest.mark.parametrize("sql,status,code,message", [
    ("SELECT * FROM {ns}.nope", 400, "TABLE_NOT_FOUND", "Requested table is not available"),
    ("INSERT INTO {ns}.u VALUES (1, 'x'); INSERT INTO {ns}.u VALUES (1, 'y')", 400, "SQL_EXECUTION_ERROR",
     "Statement 2 failed: Already exists: Primary key violation: value '1' already exists in column 'id'"),
    ("INSERT INTO {ns}.u VALUES ($1, $2)", 400, "INVALID_PARAMETER", "parameter mismatch: expected 2, got 0"),
    ("INSERT INTO {ns}.u (id, v) VALUES (5, 'x'); INSERT INTO {ns}.u (id, nn) VALUES (6, 1)", 400, None, None),
    ("CREATE NAMESPACE zz_forbidden", 403, "PERMISSION_DENIED", None),
    ("SELCT 1", 400, "INVALID_SQL", "SQL statement is invalid or not allowed"),
])
def test_non_admin_gets_no_details(server, ns, plain_user, sql, status, code, message):
    server.sql(f"CREATE USER TABLE {ns}.u (id INT PRIMARY KEY, v TEXT)")
    r = server.sql_raw(sql.format(ns=ns), user=plain_user, password=PW)
    body = r.json()
    assert r.status_code == status, body
    assert body["status"] == "error" and body["results"] == []
    err = body["error"]
    assert "details" not in err, err
    assert set(err) == {"code", "message"}
    if code:
        assert err["code"] == code
    if message:
        assert err["message"] == message.format(ns=ns)


def test_non_admin_validation_messages_kept(server, ns, plain_user):
    server.sql(f"CREATE USER TABLE {ns}.u (id INT PRIMARY KEY, n SMALLINT NOT NULL)")
    err = server.sql_error(f"INSERT INTO {ns}.u VALUES (1, 70000)", user=plain_user, password=PW)
    assert "'n'" in err["message"] and "details" not in err
    err = server.sql_error(f"INSERT INTO {ns}.u (id) VALUES (1)", user=plain_user, password=PW)
    assert err["message"] == "Statement 1 failed: Invalid operation: Column 'n' cannot be NULL"


# ---- transactions -------------------------------------------------------------------------------

def test_transaction_commit(server, t):
    body = server.sql(f"BEGIN; INSERT INTO {t} VALUES (1, 'a'); INSERT INTO {t} VALUES (2, 'b'); "
                      f"SELECT id, v FROM {t} ORDER BY id; COMMIT")
    assert body["results"][0]["rows"] == [[1, "a"], [2, "b"]]
    assert body["results"][-1] == msg_result("Inserted 2 row(s)", 2)
    assert server.rows(f"SELECT id, v FROM {t} ORDER BY id") == [[1, "a"], [2, "b"]]


@pytest.mark.parametrize("begin,commit", [("START TRANSACTION", "COMMIT"),
                                          ("BEGIN TRANSACTION", "COMMIT TRANSACTION"),
                                          ("begin", "commit")])
def test_transaction_spellings(server, t, begin, commit):
    server.sql(f"{begin}; INSERT INTO {t} VALUES (1, 'a'); {commit}")
    assert server.rows(f"SELECT id FROM {t}") == [[1]]


def test_transaction_rollback(server, t):
    server.sql(f"INSERT INTO {t} VALUES (1, 'a'), (2, 'b')")
    body = server.sql(f"BEGIN; INSERT INTO {t} VALUES (3, 'c'); UPDATE {t} SET v = 'z' WHERE id = 1; "
                      f"DELETE FROM {t} WHERE id = 2; SELECT id, v FROM {t} ORDER BY id; ROLLBACK")
    assert body["results"][0]["rows"] == [[1, "z"], [3, "c"]]
    assert server.rows(f"SELECT id, v FROM {t} ORDER BY id") == [[1, "a"], [2, "b"]]
    assert server.rows(f"SELECT id FROM {t} WHERE _deleted = true") == []


def test_transaction_reads_own_writes(server, t):
    body = server.sql(f"BEGIN; INSERT INTO {t} VALUES (1, 'a'); SELECT count(*) FROM {t}; "
                      f"UPDATE {t} SET v = 'b' WHERE id = 1; SELECT v FROM {t}; DELETE FROM {t}; "
                      f"SELECT count(*) FROM {t}; SELECT id FROM {t} WHERE _deleted = true; COMMIT")
    rows = [r.get("rows") for r in body["results"] if "schema" in r]
    assert rows == [[["1"]], [["b"]], [["0"]], [[1]]]


def test_transaction_pk_check_sees_own_insert(server, t):
    r = server.sql_raw(f"BEGIN; INSERT INTO {t} VALUES (1, 'a'); INSERT INTO {t} VALUES (1, 'b'); COMMIT")
    assert_sql_error(r, 400, "SQL_EXECUTION_ERROR",
                     message="Statement 3 failed: Already exists: Primary key violation: value '1' already exists in column 'id'")
    assert server.rows(f"SELECT id FROM {t}") == []


def test_transaction_failure_rolls_back_everything(server, t):
    server.sql(f"INSERT INTO {t} VALUES (10, 'pre')")
    r = server.sql_raw(f"INSERT INTO {t} VALUES (11, 'autocommit'); BEGIN; INSERT INTO {t} VALUES (12, 'tx'); "
                       f"UPDATE {t} SET v = 'changed' WHERE id = 10; INSERT INTO {t} VALUES (10, 'dup'); COMMIT")
    assert_sql_error(r, 400, "SQL_EXECUTION_ERROR",
                     message="Statement 5 failed: Already exists: Primary key violation: value '10' already exists in column 'id'")
    assert server.rows(f"SELECT id, v FROM {t} ORDER BY id") == [[10, "pre"], [11, "autocommit"]]


def test_transaction_failure_on_missing_table_rolls_back(server, t):
    r = server.sql_raw(f"BEGIN; INSERT INTO {t} VALUES (1, 'a'); SELECT * FROM {t}_nope; COMMIT")
    assert_sql_error(r, 400, "TABLE_NOT_FOUND", message_prefix="Statement 3 failed: ")
    assert server.rows(f"SELECT id FROM {t}") == []


def test_transaction_left_open_is_rolled_back_and_fails(server, t):
    r = server.sql_raw(f"BEGIN; INSERT INTO {t} VALUES (1, 'a'); SELECT id FROM {t}")
    assert_sql_error(r, 400, "SQL_EXECUTION_ERROR")
    assert server.rows(f"SELECT id FROM {t}") == []


def test_commit_without_transaction(server):
    err = server.sql_error("COMMIT")
    assert err["code"] == "SQL_EXECUTION_ERROR"
    err = server.sql_error("ROLLBACK")
    assert err["code"] == "SQL_EXECUTION_ERROR"


def test_nested_begin_fails(server, t):
    r = server.sql_raw(f"BEGIN; INSERT INTO {t} VALUES (1, 'a'); BEGIN; COMMIT")
    assert_sql_error(r, 400, "SQL_EXECUTION_ERROR", message_prefix="Statement 3 failed: ")
    assert server.rows(f"SELECT id FROM {t}") == []


def test_transaction_does_not_leak_across_requests(server, t):
    r = server.sql_raw("BEGIN")
    assert r.status_code == 400
    server.sql(f"INSERT INTO {t} VALUES (1, 'a')")
    err = server.sql_error("ROLLBACK")
    assert err["code"] == "SQL_EXECUTION_ERROR"
    assert server.rows(f"SELECT id FROM {t}") == [[1]]


def test_transaction_returning(server, t):
    body = server.sql(f"BEGIN; INSERT INTO {t} VALUES (1, 'a') RETURNING id, v; COMMIT")
    assert body["results"][0]["rows"] == [[1, "a"]]
    assert server.rows(f"SELECT id FROM {t}") == [[1]]


def test_seq_after_commit_is_visible_and_ordered(server, t):
    server.sql(f"BEGIN; INSERT INTO {t} VALUES (1, 'a'); INSERT INTO {t} VALUES (2, 'b'); COMMIT")
    server.sql(f"INSERT INTO {t} VALUES (3, 'c')")
    rows = server.rows(f"SELECT id, _seq FROM {t} ORDER BY id")
    seqs = [int(r[1]) for r in rows]
    assert len(set(seqs)) == 3 and seqs[2] > max(seqs[:2])


# ---- SQLite guards ------------------------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "SELECT * FROM sqlite_master",
    "SELECT name FROM main.sqlite_master",
    "SELECT * FROM sqlite_schema",
    "SELECT * FROM sqlite_temp_master",
    "SELECT * FROM pragma_table_list",
    "SELECT * FROM pragma_table_info('t')",
    "PRAGMA table_info(t)",
    "PRAGMA writable_schema = 1",
    "ATTACH DATABASE '/tmp/kalam_attack.db' AS x",
    "DETACH DATABASE x",
    "VACUUM",
    "CREATE VIEW v AS SELECT 1",
    "CREATE INDEX i ON t (id)",
    "CREATE TEMP TABLE x (a)",
    "SELECT load_extension('/tmp/x')",
    "SELECT ?",
])
def test_sqlite_internals_rejected(server, sql):
    r = server.sql_raw(sql)
    assert_sql_error(r, 400, "INVALID_SQL")


def test_upsert_forms_rejected(server, t):
    server.sql(f"INSERT INTO {t} VALUES (1, 'a')")
    for sql in (f"REPLACE INTO {t} VALUES (1, 'b')", f"INSERT OR REPLACE INTO {t} VALUES (1, 'b')",
                f"INSERT INTO {t} VALUES (1, 'b') ON CONFLICT (id) DO UPDATE SET v = 'b'"):
        err = server.sql_error(sql)
        assert err["code"] in ("INVALID_SQL", "SQL_EXECUTION_ERROR")
    assert server.rows(f"SELECT id, v FROM {t}") == [[1, "a"]]


def test_internal_table_names_not_addressable(server, ns):
    server.sql(f"CREATE TABLE {ns}.x (id INT PRIMARY KEY)")
    for sql in ("SELECT * FROM kt_1", "SELECT * FROM temp.kt_1", 'SELECT * FROM "temp"."kt_1"'):
        r = server.sql_raw(sql)
        assert_sql_error(r, 400, "TABLE_NOT_FOUND")
