"""SQL.md §2 ALTER TABLE: every form creates a schema version; rows written under old versions keep
reading correctly; permissions (§5); DESCRIBE … HISTORY; schemas survive a restart."""
import pytest

from helpers import PK, msg_result, unique

PW = "password123"


def cm(err):
    """An error object's code and message (errors also carry the failing statement as details)."""
    return {"code": err["code"], "message": err["message"]}


def altered(ns, table):
    return [msg_result(f"Table {ns}.{table} altered successfully")]


def user_columns(server, sql):
    """The names of a SELECT's result columns without the system columns."""
    schema = server.sql(sql)["results"][0]["schema"]
    return [c["name"] for c in schema if c["name"] not in ("_seq", "_deleted")]


def describe(server, table, history=False):
    """DESCRIBE rows as (column_name, column_id, data_type, is_nullable, default, version)."""
    rows = server.rows(f"DESCRIBE TABLE {table}{' HISTORY' if history else ''}")
    return [(r[0], r[2], r[3], r[4], r[6], r[8]) for r in rows]


@pytest.fixture
def people(server, ns):
    """A shared table with two rows written under schema version 1."""
    server.sql(f"CREATE TABLE {ns}.people (id INT PRIMARY KEY, name TEXT, age INT)")
    server.sql(f"INSERT INTO {ns}.people VALUES (1, 'ann', 30), (2, 'bob', NULL)")
    return f"{ns}.people"


# ---- ADD COLUMN ----

def test_add_column_with_default_old_rows_read_it_new_rows_write_it(server, ns, people):
    body = server.sql(f"ALTER TABLE {people} ADD COLUMN score INT NOT NULL DEFAULT 7")
    assert body["results"] == altered(ns, "people")
    res = server.sql(f"SELECT * FROM {people} ORDER BY id")["results"][0]
    assert [c["name"] for c in res["schema"]] == ["id", "name", "age", "score", "_seq", "_deleted"]
    assert res["schema"][3] == {"name": "score", "data_type": "Int", "index": 3, "flags": ["nn"]}
    assert [r[:4] for r in res["rows"]] == [[1, "ann", 30, 7], [2, "bob", None, 7]]
    server.sql(f"INSERT INTO {people} (id, name, score) VALUES (3, 'cy', 9)")
    server.sql(f"INSERT INTO {people} (id, name) VALUES (4, 'di')")
    assert server.rows(f"SELECT id, score FROM {people} ORDER BY id") == [
        [1, 7], [2, 7], [3, 9], [4, 7]]
    # Old rows can be filtered and updated through the new column.
    assert server.rows(f"SELECT id FROM {people} WHERE score = 7 ORDER BY id") == [[1], [2], [4]]
    server.sql(f"UPDATE {people} SET score = 1 WHERE id = 1")
    assert server.rows(f"SELECT score FROM {people} WHERE id = 1") == [[1]]


def test_changing_a_default_later_does_not_change_what_old_rows_read(server, ns, people):
    server.sql(f"ALTER TABLE {people} ADD COLUMN tier TEXT DEFAULT 'basic'")
    server.sql(f"ALTER TABLE {people} ADD COLUMN note TEXT")
    server.sql(f"ALTER TABLE {people} ALTER COLUMN tier SET DEFAULT 'gold'")
    server.sql(f"ALTER TABLE {people} ALTER COLUMN note SET DEFAULT 'n/a'")
    server.sql(f"INSERT INTO {people} (id) VALUES (3)")
    assert server.rows(f"SELECT id, tier, note FROM {people} ORDER BY id") == [
        [1, "basic", None], [2, "basic", None], [3, "gold", "n/a"]]
    server.sql(f"ALTER TABLE {people} ALTER COLUMN tier DROP DEFAULT")
    server.sql(f"INSERT INTO {people} (id) VALUES (4)")
    assert server.rows(f"SELECT id, tier FROM {people} ORDER BY id") == [
        [1, "basic"], [2, "basic"], [3, "gold"], [4, None]]


def test_add_nullable_column_without_default_reads_null(server, ns, people):
    server.sql(f"ALTER TABLE {people} ADD email TEXT")
    assert server.rows(f"SELECT id, email FROM {people} ORDER BY id") == [[1, None], [2, None]]


def test_add_not_null_column_without_default_to_table_with_rows_fails(server, ns, people):
    err = server.sql_error(f"ALTER TABLE {people} ADD COLUMN email TEXT NOT NULL")
    assert cm(err) == {"code": "SQL_EXECUTION_ERROR", "message":
                       f"Statement 1 failed: Invalid operation: Cannot add NOT NULL column 'email' without a literal DEFAULT to table "
                       f"'{ns}.people': it has rows, which would read NULL. Give the column a "
                       "DEFAULT value (existing rows read it) or add it as nullable."}
    # A function DEFAULT does not fill existing rows either.
    err = server.sql_error(f"ALTER TABLE {people} ADD COLUMN at TIMESTAMP NOT NULL DEFAULT NOW()")
    assert err["message"].startswith("Statement 1 failed: Invalid operation: Cannot add NOT NULL column 'at' without a literal DEFAULT")
    assert server.rows(f"SHOW TABLES IN {ns}")[0][4] == 1  # no version was created
    # Deleted rows do not count.
    server.sql(f"DELETE FROM {people}")
    server.sql(f"ALTER TABLE {people} ADD COLUMN email TEXT NOT NULL")
    err = server.sql_error(f"INSERT INTO {people} (id) VALUES (5)")
    assert err["message"] == "Statement 1 failed: Invalid operation: Column 'email' cannot be NULL"


def test_add_not_null_checks_rows_of_every_user_scope(server, ns):
    alice = unique("alteralice")
    server.create_user(alice)
    server.sql(f"CREATE USER TABLE {ns}.notes (id INT PRIMARY KEY, body TEXT)")
    server.sql(f"ALTER TABLE {ns}.notes ADD COLUMN a TEXT NOT NULL")  # empty: allowed
    server.sql(f"INSERT INTO {ns}.notes (id, body, a) VALUES (1, 'hers', 'x')",
               user=alice, password=PW)
    assert server.rows(f"SELECT * FROM {ns}.notes") == []  # root sees no row in its own scope
    err = server.sql_error(f"ALTER TABLE {ns}.notes ADD COLUMN b TEXT NOT NULL")
    assert err["message"].startswith("Statement 1 failed: Invalid operation: Cannot add NOT NULL column 'b' without a literal DEFAULT")


def test_add_existing_or_invalid_column_fails(server, ns, people):
    err = server.sql_error(f"ALTER TABLE {people} ADD COLUMN NAME TEXT")
    assert cm(err) == {"code": "SQL_EXECUTION_ERROR",
                       "message": f"Statement 1 failed: Already exists: Column 'name' already exists in table '{ns}.people'"}
    err = server.sql_error(f"ALTER TABLE {people} ADD COLUMN x FOO")
    assert err["message"] == "Statement 1 failed: Invalid operation: Column 'x': Unknown data type 'FOO'"
    err = server.sql_error(f"ALTER TABLE {people} ADD COLUMN x INT DEFAULT 'abc'")
    assert err["message"].startswith("Statement 1 failed: Invalid operation: DEFAULT of column 'x': ")
    err = server.sql_error(f"ALTER TABLE {people} ADD COLUMN k INT PRIMARY KEY")
    assert cm(err) == {"code": "INVALID_SQL", "message": "Cannot add PRIMARY KEY column 'k': a "
                       "table's primary key is chosen when it is created"}
    err = server.sql_error(f"ALTER TABLE {ns}.nope ADD COLUMN x INT")
    assert cm(err) == {"code": "TABLE_NOT_FOUND", "message": f"Statement 1 failed: Not found: Table '{ns}.nope' does not exist"}


# ---- DROP COLUMN ----

def test_drop_column_disappears_and_old_rows_still_read(server, ns, people):
    server.sql(f"ALTER TABLE {people} DROP COLUMN age")
    assert user_columns(server, f"SELECT * FROM {people}") == ["id", "name"]
    assert [r[:2] for r in server.rows(f"SELECT * FROM {people} ORDER BY id")] == [
        [1, "ann"], [2, "bob"]]
    err = server.sql_error(f"SELECT age FROM {people}")
    assert err["message"] == "no such column: age"
    err = server.sql_error(f"INSERT INTO {people} (id, age) VALUES (3, 1)")
    assert err["message"] == f"Statement 1 failed: Invalid operation: Column 'age' does not exist in table '{ns}.people'"
    # A new column of the same name gets a new id: the dropped values never come back.
    server.sql(f"ALTER TABLE {people} ADD COLUMN age INT")
    assert server.rows(f"SELECT id, age FROM {people} ORDER BY id") == [[1, None], [2, None]]
    assert [(r[0], r[1]) for r in describe(server, people)] == [("id", 1), ("name", 2), ("age", 4)]


def test_drop_primary_key_or_unknown_column_fails(server, ns, people):
    err = server.sql_error(f"ALTER TABLE {people} DROP COLUMN id")
    assert err["message"] == (f"Statement 1 failed: Invalid operation: Cannot drop column 'id': it is the primary key of table "
                              f"'{ns}.people'")
    err = server.sql_error(f"ALTER TABLE {people} DROP COLUMN nope")
    assert err["message"] == f"Statement 1 failed: Invalid operation: Column 'nope' does not exist in table '{ns}.people'"
    err = server.sql_error(f"ALTER TABLE {people} DROP COLUMN _seq")
    assert cm(err) == {"code": "INVALID_SQL", "message": "System column '_seq' cannot be dropped: "
                       "KalamDB maintains _seq and _deleted itself"}


# ---- RENAME COLUMN ----

def test_rename_column_old_name_errors_new_name_has_the_values(server, ns, people):
    assert server.sql(f"ALTER TABLE {people} RENAME COLUMN name TO full_name")["results"] == \
        altered(ns, "people")
    assert server.rows(f"SELECT full_name FROM {people} ORDER BY id") == [["ann"], ["bob"]]
    err = server.sql_error(f"SELECT name FROM {people}")
    assert err["message"] == "no such column: name"
    server.sql(f"INSERT INTO {people} (id, full_name) VALUES (3, 'cy')")
    assert server.rows(f"SELECT id, full_name FROM {people} WHERE full_name = 'cy'") == [[3, "cy"]]
    # The column keeps its id.
    assert describe(server, people)[1][:2] == ("full_name", 2)


def test_rename_column_refusals(server, ns, people):
    err = server.sql_error(f"ALTER TABLE {people} RENAME COLUMN name TO AGE")
    assert err["message"] == (f"Statement 1 failed: Already exists: Cannot rename column 'name' to 'age': table '{ns}.people' "
                              "already has a column of that name")
    err = server.sql_error(f"ALTER TABLE {people} RENAME COLUMN name TO _deleted")
    assert cm(err) == {"code": "INVALID_SQL", "message": "Column name '_deleted' is reserved: "
                       "KalamDB adds _seq and _deleted to every table"}
    err = server.sql_error(f"ALTER TABLE {people} RENAME COLUMN name TO \"bad-name\"")
    assert err["code"] == "INVALID_SQL"
    err = server.sql_error(f"ALTER TABLE {people} RENAME COLUMN ghost TO spirit")
    assert err["message"] == f"Statement 1 failed: Invalid operation: Column 'ghost' does not exist in table '{ns}.people'"


# ---- MODIFY COLUMN and ALTER COLUMN ----

def test_modify_int_to_bigint_keeps_values(server, ns, people):
    server.sql(f"ALTER TABLE {people} MODIFY COLUMN age BIGINT")
    res = server.sql(f"SELECT id, age FROM {people} ORDER BY id")["results"][0]
    assert res["schema"][1] == {"name": "age", "data_type": "BigInt", "index": 1}
    assert res["rows"] == [[1, "30"], [2, None]]
    server.sql(f"INSERT INTO {people} (id, age) VALUES (3, 9000000000)")
    assert server.rows(f"SELECT age FROM {people} WHERE id = 3") == [["9000000000"]]


def test_modify_primary_key_smallint_to_int_keeps_lookups(server, ns):
    server.sql(f"CREATE TABLE {ns}.k (id SMALLINT PRIMARY KEY, v TEXT)")
    server.sql(f"INSERT INTO {ns}.k VALUES (1, 'a'), (2, 'b')")
    server.sql(f"ALTER TABLE {ns}.k MODIFY COLUMN id INT")
    assert server.rows(f"SELECT v FROM {ns}.k WHERE id = 2") == [["b"]]
    server.sql(f"INSERT INTO {ns}.k VALUES (70000, 'c')")
    err = server.sql_error(f"INSERT INTO {ns}.k VALUES (1, 'dup')")
    assert err["message"] == "Statement 1 failed: Already exists: Primary key violation: value '1' already exists in column 'id'"


def test_modify_to_an_unsafe_type_is_refused_naming_the_types(server, ns, people):
    err = server.sql_error(f"ALTER TABLE {people} MODIFY COLUMN name INT")
    assert cm(err) == {"code": "SQL_EXECUTION_ERROR", "message":
                       f"Statement 1 failed: Invalid operation: Cannot change column 'name' of table '{ns}.people' from TEXT to INT: "
                       "stored values are not rewritten, so only conversions that keep every "
                       "stored value valid are allowed (SMALLINT → INT → BIGINT, FLOAT → DOUBLE, "
                       "DECIMAL(p,s) → DECIMAL(p2,s) with p2 ≥ p, JSON → TEXT, UUID → TEXT)"}
    err = server.sql_error(f"ALTER TABLE {people} ALTER COLUMN age TYPE SMALLINT")
    assert err["message"].startswith(f"Statement 1 failed: Invalid operation: Cannot change column 'age' of table '{ns}.people' from "
                                     "INT to SMALLINT: ")
    assert server.rows(f"SHOW TABLES IN {ns}")[0][4] == 1


def test_modify_not_null_and_set_not_null_check_for_nulls(server, ns, people):
    err = server.sql_error(f"ALTER TABLE {people} MODIFY COLUMN age INT NOT NULL")
    assert cm(err) == {"code": "SQL_EXECUTION_ERROR", "message":
                       f"Statement 1 failed: Invalid operation: Cannot make column 'age' of table '{ns}.people' NOT NULL: the row with "
                       "primary key '2' (and maybe others) holds NULL. Update those rows first."}
    err = server.sql_error(f"ALTER TABLE {people} ALTER COLUMN age SET NOT NULL")
    assert err["message"].startswith(f"Statement 1 failed: Invalid operation: Cannot make column 'age' of table '{ns}.people' NOT NULL")
    server.sql(f"UPDATE {people} SET age = 40 WHERE id = 2")
    server.sql(f"ALTER TABLE {people} ALTER COLUMN age SET NOT NULL")
    err = server.sql_error(f"INSERT INTO {people} (id, name) VALUES (3, 'cy')")
    assert err["message"] == "Statement 1 failed: Invalid operation: Column 'age' cannot be NULL"
    server.sql(f"ALTER TABLE {people} ALTER COLUMN age DROP NOT NULL")
    server.sql(f"INSERT INTO {people} (id, name) VALUES (3, 'cy')")
    server.sql(f"ALTER TABLE {people} MODIFY COLUMN age BIGINT NULL")
    err = server.sql_error(f"ALTER TABLE {people} ALTER COLUMN id DROP NOT NULL")
    assert err["message"] == "Statement 1 failed: Invalid operation: Primary key column 'id' cannot be NULL"


def test_set_not_null_on_a_column_added_later_checks_old_rows(server, ns, people):
    server.sql(f"ALTER TABLE {people} ADD COLUMN tag TEXT")
    err = server.sql_error(f"ALTER TABLE {people} ALTER COLUMN tag SET NOT NULL")
    assert "primary key '1'" in err["message"]
    server.sql(f"ALTER TABLE {people} ADD COLUMN flag BOOLEAN DEFAULT TRUE")
    server.sql(f"ALTER TABLE {people} ALTER COLUMN flag SET NOT NULL")  # old rows read TRUE
    assert server.rows(f"SELECT flag FROM {people} ORDER BY id") == [[True], [True]]


def test_set_default_is_checked_against_the_type(server, ns, people):
    err = server.sql_error(f"ALTER TABLE {people} ALTER COLUMN age SET DEFAULT 'old'")
    assert err["message"].startswith("Statement 1 failed: Invalid operation: DEFAULT of column 'age': ")
    err = server.sql_error(f"ALTER TABLE {people} ALTER COLUMN name SET DEFAULT SNOWFLAKE_ID()")
    assert err["message"] == "Statement 1 failed: Invalid operation: DEFAULT SNOWFLAKE_ID() does not fit column 'name' of type TEXT"
    server.sql(f"ALTER TABLE {people} ALTER COLUMN name SET DEFAULT CURRENT_USER()")
    server.sql(f"INSERT INTO {people} (id) VALUES (3)")
    assert server.rows(f"SELECT name FROM {people} WHERE id = 3") == [["root"]]


# ---- ACCESS LEVEL ----

def test_set_access_level_public_lets_a_user_read_a_shared_table(server, ns):
    u = unique("reader")
    server.create_user(u)
    server.sql(f"CREATE SHARED TABLE {ns}.news (id INT PRIMARY KEY, title TEXT)")
    server.sql(f"INSERT INTO {ns}.news VALUES (1, 'hello')")
    err = server.sql_error(f"SELECT * FROM {ns}.news", user=u, password=PW, status=403)
    assert err["code"] == "PERMISSION_DENIED"
    assert server.sql(f"ALTER TABLE {ns}.news SET ACCESS LEVEL PUBLIC")["results"] == \
        altered(ns, "news")
    assert server.rows(f"SELECT id, title FROM {ns}.news", user=u, password=PW) == [[1, "hello"]]
    err = server.sql_error(f"INSERT INTO {ns}.news VALUES (2, 'x')", user=u, password=PW,
                           status=403)
    assert err["message"] == (f"Statement 1 failed: Permission denied: role 'user' cannot write shared table "
                              f"'{ns}.news' (access level PUBLIC)")
    server.sql(f"ALTER TABLE {ns}.news SET TBLPROPERTIES (ACCESS_LEVEL = 'PRIVATE')")
    err = server.sql_error(f"SELECT * FROM {ns}.news", user=u, password=PW, status=403)
    assert err["message"] == (f"Statement 1 failed: Permission denied: role 'user' cannot read shared table "
                              f"'{ns}.news' (access level PRIVATE)")


def test_access_level_is_only_for_shared_tables(server, ns):
    server.sql(f"CREATE USER TABLE {ns}.mine (id INT PRIMARY KEY)")
    err = server.sql_error(f"ALTER TABLE {ns}.mine SET ACCESS LEVEL PUBLIC")
    assert cm(err) == {"code": "SQL_EXECUTION_ERROR", "message": "Statement 1 failed: Invalid operation: ACCESS_LEVEL is only valid for "
                       f"SHARED tables, not USER tables ('{ns}.mine')"}


# ---- Versions and DESCRIBE … HISTORY ----

def test_describe_history_lists_every_version_with_its_columns(server, ns, people):
    server.sql(f"ALTER TABLE {people} ADD COLUMN score INT DEFAULT 0")
    server.sql(f"ALTER TABLE {people} DROP COLUMN age")
    server.sql(f"ALTER TABLE {people} RENAME COLUMN name TO nick")
    server.sql(f"ALTER TABLE {people} MODIFY COLUMN score BIGINT NOT NULL")
    server.sql(f"ALTER TABLE {people} SET ACCESS LEVEL RESTRICTED")
    assert describe(server, people, history=True) == [
        ("id", 1, "INT", False, None, 1), ("name", 2, "TEXT", True, None, 1),
        ("age", 3, "INT", True, None, 1),
        ("id", 1, "INT", False, None, 2), ("name", 2, "TEXT", True, None, 2),
        ("age", 3, "INT", True, None, 2), ("score", 4, "INT", True, "0", 2),
        ("id", 1, "INT", False, None, 3), ("name", 2, "TEXT", True, None, 3),
        ("score", 4, "INT", True, "0", 3),
        ("id", 1, "INT", False, None, 4), ("nick", 2, "TEXT", True, None, 4),
        ("score", 4, "INT", True, "0", 4),
        ("id", 1, "INT", False, None, 5), ("nick", 2, "TEXT", True, None, 5),
        ("score", 4, "BIGINT", False, "0", 5),
        ("id", 1, "INT", False, None, 6), ("nick", 2, "TEXT", True, None, 6),
        ("score", 4, "BIGINT", False, "0", 6),
    ]
    assert describe(server, people) == [
        ("id", 1, "INT", False, None, 6), ("nick", 2, "TEXT", True, None, 6),
        ("score", 4, "BIGINT", False, "0", 6)]
    assert server.rows(f"SHOW TABLES IN {ns}")[0][4] == 6
    assert [r[:3] for r in server.rows(f"SELECT * FROM {people} ORDER BY id")] == [
        [1, "ann", "0"], [2, "bob", "0"]]


def test_alter_then_write_in_one_batch_uses_the_new_schema(server, ns, people):
    body = server.sql(f"ALTER TABLE {people} ADD COLUMN c TEXT DEFAULT 'd'; "
                      f"INSERT INTO {people} (id, c) VALUES (3, 'x'); "
                      f"SELECT id, c FROM {people} ORDER BY id")
    assert body["results"][0] == altered(ns, "people")[0]
    assert body["results"][1]["rows"] == [[1, "d"], [2, "d"], [3, "x"]]


def test_alter_inside_a_transaction_with_staged_writes_to_the_table_fails(server, ns, people):
    r = server.sql_raw(f"BEGIN; INSERT INTO {people} (id) VALUES (3); "
                       f"ALTER TABLE {people} ADD COLUMN c INT; COMMIT")
    body = r.json()
    assert r.status_code == 400, body
    assert cm(body["error"]) == {
        "code": "SQL_EXECUTION_ERROR",
        "message": f"Statement 3 failed: Invalid operation: Cannot ALTER TABLE {ns}.people inside a transaction "
                   "that has uncommitted changes to it: COMMIT or ROLLBACK first"}
    assert server.rows(f"SELECT id FROM {people} ORDER BY id") == [[1], [2]]
    # Staged writes to other tables do not block it.
    server.sql(f"CREATE TABLE {ns}.other (id INT PRIMARY KEY)")
    server.sql(f"BEGIN; INSERT INTO {ns}.other VALUES (1); ALTER TABLE {people} ADD COLUMN c INT; "
               f"INSERT INTO {people} (id, c) VALUES (3, 5); COMMIT")
    assert server.rows(f"SELECT id, c FROM {people} WHERE id = 3") == [[3, 5]]


# ---- Permissions ----

def test_permissions_follow_the_table_type(server, ns):
    u, svc = unique("altu"), unique("alts")
    server.create_user(u)
    server.create_user(svc, role="service")
    server.sql(f"CREATE SHARED TABLE {ns}.s (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'PUBLIC')")
    server.sql(f"CREATE USER TABLE {ns}.u (id INT PRIMARY KEY)", user=u, password=PW)
    err = server.sql_error(f"ALTER TABLE {ns}.s ADD COLUMN x INT", user=u, password=PW,
                           status=403)
    assert cm(err) == {"code": "PERMISSION_DENIED", "message": "Statement 1 failed: Permission denied: ALTER TABLE "
                       "on a SHARED table requires role 'service' or higher (you are 'user')"}
    assert server.sql(f"ALTER TABLE {ns}.s ADD COLUMN x INT", user=svc, password=PW)["results"] \
        == [msg_result(f"Table {ns}.s altered successfully", as_user=svc)]
    # A service may not reach past the access level: not alter a DBA-level table, nor create one.
    server.sql(f"CREATE SHARED TABLE {ns}.vault (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'DBA')")
    for sql in (f"ALTER TABLE {ns}.vault SET ACCESS LEVEL PUBLIC",
                f"ALTER TABLE {ns}.vault ADD COLUMN leak TEXT"):
        err = server.sql_error(sql, user=svc, password=PW, status=403)
        assert err["message"] == (f"Statement 1 failed: Permission denied: role 'service' cannot write shared table "
                                  f"'{ns}.vault' (access level DBA)")
    err = server.sql_error(f"ALTER TABLE {ns}.s SET ACCESS LEVEL DBA", user=svc, password=PW,
                           status=403)
    assert err["message"] == ("Statement 1 failed: Permission denied: only roles 'dba' and 'system' can set ACCESS "
                              "LEVEL DBA (you are 'service')")
    assert server.rows(f"SHOW TABLES IN {ns}") and describe(server, f"{ns}.vault")[0][5] == 1
    # Creating a USER table is open to all, altering its shared schema is not.
    for who in (u, svc):
        err = server.sql_error(f"ALTER TABLE {ns}.u ADD COLUMN x INT", user=who, password=PW,
                               status=403)
        assert err["message"].startswith("Statement 1 failed: Permission denied: ALTER TABLE on a USER table "
                                         "requires role 'dba' or higher")
    server.sql(f"ALTER TABLE {ns}.u ADD COLUMN x INT")
    err = server.sql_error("ALTER TABLE system.users ADD COLUMN x INT", status=403)
    assert cm(err) == {"code": "PERMISSION_DENIED", "message":
                       "Statement 1 failed: Permission denied: tables in namespace 'system' cannot be altered"}


# ---- Durability ----

def test_schema_versions_and_old_rows_survive_a_restart(fresh_server):
    s = fresh_server
    s.sql("CREATE NAMESPACE app")
    s.sql("CREATE TABLE app.t (id INT PRIMARY KEY, a TEXT, b INT)")
    s.sql("INSERT INTO app.t VALUES (1, 'one', 10)")
    s.sql("ALTER TABLE app.t ADD COLUMN c TEXT NOT NULL DEFAULT 'cc'")
    s.sql("ALTER TABLE app.t DROP COLUMN b")
    s.sql("ALTER TABLE app.t RENAME COLUMN a TO alpha")
    s.sql("ALTER TABLE app.t ALTER COLUMN c SET DEFAULT 'new'")
    s.sql("INSERT INTO app.t (id, alpha) VALUES (2, 'two')")
    before = (describe(s, "app.t", history=True), s.rows("SELECT * FROM app.t ORDER BY id"))
    s.stop()
    s.start()
    after = (describe(s, "app.t", history=True), s.rows("SELECT * FROM app.t ORDER BY id"))
    assert after == before
    assert [r[:3] for r in after[1]] == [[1, "one", "cc"], [2, "two", "new"]]
    # Column ids keep growing after the restart: the dropped id 3 is never reused.
    s.sql("ALTER TABLE app.t ADD COLUMN b INT")
    assert [(r[0], r[1]) for r in describe(s, "app.t")] == [
        ("id", 1), ("alpha", 2), ("c", 4), ("b", 5)]
    assert s.rows("SELECT b FROM app.t ORDER BY id") == [[None], [None]]
