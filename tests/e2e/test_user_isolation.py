"""SQL.md §1: USER tables scope every read and write to the caller, for every role."""
import pytest

from helpers import msg_result, unique

PW = "password123"


@pytest.fixture(scope="module")
def pair(server):
    a, b = unique("ua"), unique("ub")
    server.create_user(a)
    server.create_user(b)
    return a, b


@pytest.fixture
def iso(server, ns, pair):
    a, b = pair
    server.sql(f"CREATE USER TABLE {ns}.notes (id INT PRIMARY KEY, v TEXT)")
    t = f"{ns}.notes"
    server.sql(f"INSERT INTO {t} VALUES (1, 'a1'), (2, 'a2'), (5, 'a5')", user=a, password=PW)
    server.sql(f"INSERT INTO {t} VALUES (1, 'b1'), (3, 'b3')", user=b, password=PW)
    server.sql(f"DELETE FROM {t} WHERE id = 5", user=a, password=PW)
    return t, a, b


def rows_as(server, sql, user):
    body = server.sql(sql, user=user, password=PW)
    res = body["results"][-1]
    assert res["as_user"] == user
    return res.get("rows", [])


@pytest.mark.parametrize("query,a_rows,b_rows", [
    ("SELECT id, v FROM {t} ORDER BY id", [[1, "a1"], [2, "a2"]], [[1, "b1"], [3, "b3"]]),
    ("SELECT x.id, y.v FROM {t} x JOIN {t} y ON x.id = y.id ORDER BY x.id",
     [[1, "a1"], [2, "a2"]], [[1, "b1"], [3, "b3"]]),
    ("SELECT x.v, y.v FROM {t} x, {t} y WHERE x.id < y.id", [["a1", "a2"]], [["b1", "b3"]]),
    ("SELECT v FROM {t} WHERE id IN (SELECT id FROM {t}) ORDER BY v", [["a1"], ["a2"]], [["b1"], ["b3"]]),
    ("SELECT (SELECT count(*) FROM {t}) AS c", [["2"]], [["2"]]),
    ("SELECT EXISTS (SELECT 1 FROM {t} WHERE v = 'b3') AS e", [["0"]], [["1"]]),
    ("SELECT v FROM {t} UNION SELECT v FROM {t} ORDER BY v", [["a1"], ["a2"]], [["b1"], ["b3"]]),
    ("SELECT v FROM {t} UNION ALL SELECT 'x' ORDER BY v", [["a1"], ["a2"], ["x"]], [["b1"], ["b3"], ["x"]]),
    ("WITH c AS (SELECT * FROM {t}) SELECT id, v FROM c ORDER BY id",
     [[1, "a1"], [2, "a2"]], [[1, "b1"], [3, "b3"]]),
    ("SELECT id, v FROM {t} WHERE _deleted = true", [[5, "a5"]], []),
    ("SELECT id FROM {t} WHERE _deleted = true OR _deleted = false ORDER BY id", [[1], [2], [5]], [[1], [3]]),
    ("SELECT count(*) FROM {t}", [["2"]], [["2"]]),
    ("SELECT group_concat(v, ',') FROM (SELECT v FROM {t} ORDER BY v)", [["a1,a2"]], [["b1,b3"]]),
    ("SELECT v FROM {t} WHERE v IN ('a1', 'b1', 'a2', 'b3') ORDER BY v", [["a1"], ["a2"]], [["b1"], ["b3"]]),
    ("SELECT * FROM (SELECT id, v FROM {t}) s WHERE s.id = 3", [], [[3, "b3"]]),
])
def test_each_user_sees_only_own_rows(server, iso, query, a_rows, b_rows):
    t, a, b = iso
    assert rows_as(server, query.format(t=t), a) == a_rows
    assert rows_as(server, query.format(t=t), b) == b_rows


def test_root_sees_only_own_rows_too(server, iso):
    t, _, _ = iso
    res = server.sql(f"SELECT id, v FROM {t}")["results"][0]
    assert res["rows"] == [] and res["row_count"] == 0 and res["as_user"] == "root"
    server.sql(f"INSERT INTO {t} VALUES (1, 'root1')")
    assert server.rows(f"SELECT id, v FROM {t}") == [[1, "root1"]]


def test_same_pk_for_two_users(server, iso):
    t, a, b = iso
    # both already hold id 1; a second insert of 1 fails only within the same user's scope
    err = server.sql_error(f"INSERT INTO {t} VALUES (1, 'again')", user=a, password=PW)
    assert err["message"] == "Statement 1 failed: Already exists: Primary key violation: value '1' already exists in column 'id'"
    server.sql(f"INSERT INTO {t} VALUES (2, 'b2')", user=b, password=PW)
    assert rows_as(server, f"SELECT id, v FROM {t} ORDER BY id", b) == [[1, "b1"], [2, "b2"], [3, "b3"]]
    assert rows_as(server, f"SELECT id, v FROM {t} ORDER BY id", a) == [[1, "a1"], [2, "a2"]]


def test_pk_reuse_of_other_users_deleted_key(server, iso):
    t, a, b = iso
    # id 5 is a tombstone in A's scope only; B inserts 5 freely
    server.sql(f"INSERT INTO {t} VALUES (5, 'b5')", user=b, password=PW)
    assert rows_as(server, f"SELECT v FROM {t} WHERE id = 5", b) == [["b5"]]
    assert rows_as(server, f"SELECT v FROM {t} WHERE id = 5", a) == []


def test_cannot_update_other_users_rows(server, iso):
    t, a, b = iso
    body = server.sql(f"UPDATE {t} SET v = 'hacked' WHERE id = 3", user=a, password=PW)
    assert body["results"] == [msg_result("Updated 0 row(s)", 0, as_user=a)]
    body = server.sql(f"UPDATE {t} SET v = 'mine'", user=a, password=PW)
    assert body["results"] == [msg_result("Updated 2 row(s)", 2, as_user=a)]
    assert rows_as(server, f"SELECT id, v FROM {t} ORDER BY id", b) == [[1, "b1"], [3, "b3"]]


def test_cannot_delete_other_users_rows(server, iso):
    t, a, b = iso
    body = server.sql(f"DELETE FROM {t} WHERE id = 3", user=a, password=PW)
    assert body["results"] == [msg_result("Deleted 0 row(s)", 0, as_user=a)]
    body = server.sql(f"DELETE FROM {t}", user=a, password=PW)
    assert body["results"] == [msg_result("Deleted 2 row(s)", 2, as_user=a)]
    assert rows_as(server, f"SELECT id, v FROM {t} ORDER BY id", b) == [[1, "b1"], [3, "b3"]]
    assert rows_as(server, f"SELECT id FROM {t} WHERE _deleted = true", b) == []


def test_update_with_subquery_stays_in_scope(server, iso):
    t, a, b = iso
    body = server.sql(f"UPDATE {t} SET v = (SELECT max(v) FROM {t}) WHERE id = 1", user=a, password=PW)
    assert body["results"] == [msg_result("Updated 1 row(s)", 1, as_user=a)]
    assert rows_as(server, f"SELECT v FROM {t} WHERE id = 1", a) == [["a2"]]
    assert rows_as(server, f"SELECT v FROM {t} WHERE id = 1", b) == [["b1"]]


def test_insert_select_stays_in_scope(server, iso, ns):
    t, a, b = iso
    server.sql(f"CREATE USER TABLE {ns}.copy (id INT PRIMARY KEY, v TEXT)")
    body = server.sql(f"INSERT INTO {ns}.copy SELECT id, v FROM {t}", user=a, password=PW)
    assert body["results"] == [msg_result("Inserted 2 row(s)", 2, as_user=a)]
    assert rows_as(server, f"SELECT id, v FROM {ns}.copy ORDER BY id", a) == [[1, "a1"], [2, "a2"]]
    assert rows_as(server, f"SELECT id, v FROM {ns}.copy", b) == []


def test_returning_only_own_row(server, iso):
    t, a, b = iso
    res = server.sql(f"INSERT INTO {t} VALUES (7, 'a7') RETURNING *", user=a, password=PW)["results"][0]
    assert [r[:2] for r in res["rows"]] == [[7, "a7"]]
    assert res["as_user"] == a
    assert rows_as(server, f"SELECT id FROM {t} WHERE id = 7", b) == []


def test_isolation_in_transaction(server, iso):
    t, a, b = iso
    body = server.sql(f"BEGIN; INSERT INTO {t} VALUES (8, 'a8'); SELECT id FROM {t} ORDER BY id; COMMIT",
                      user=a, password=PW)
    assert body["results"][0]["rows"] == [[1], [2], [8]]
    assert rows_as(server, f"SELECT id FROM {t} ORDER BY id", b) == [[1], [3]]


def test_user_table_with_service_and_dba_roles(server, ns):
    s, d = unique("svc"), unique("dba")
    server.create_user(s, role="service")
    server.create_user(d, role="dba")
    server.sql(f"CREATE USER TABLE {ns}.r (id INT PRIMARY KEY, v TEXT)")
    server.sql(f"INSERT INTO {ns}.r VALUES (1, 's')", user=s, password=PW)
    server.sql(f"INSERT INTO {ns}.r VALUES (1, 'd')", user=d, password=PW)
    assert rows_as(server, f"SELECT id, v FROM {ns}.r", s) == [[1, "s"]]
    assert rows_as(server, f"SELECT id, v FROM {ns}.r", d) == [[1, "d"]]
    assert server.rows(f"SELECT id, v FROM {ns}.r") == []


def test_shared_table_visible_to_all_writers(server, ns):
    """Contrast: a SHARED table has one scope (a service user and root see the same rows)."""
    s = unique("svc")
    server.create_user(s, role="service")
    server.sql(f"CREATE SHARED TABLE {ns}.sh (id INT PRIMARY KEY, v TEXT)")
    server.sql(f"INSERT INTO {ns}.sh VALUES (1, 'from service')", user=s, password=PW)
    assert server.rows(f"SELECT id, v FROM {ns}.sh") == [[1, "from service"]]
    err = server.sql_error(f"INSERT INTO {ns}.sh VALUES (1, 'root')")
    assert err["message"] == "Statement 1 failed: Already exists: Primary key violation: value '1' already exists in column 'id'"
