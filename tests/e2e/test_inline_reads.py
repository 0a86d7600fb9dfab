"""Short single SELECTs run on the HTTP I/O thread (server.inline_read_max_us, api/inline_reads.h).

The inline path must answer exactly what the worker path answers: the caller's scope, the newest
committed write, and the authentication checks of every request. The counter
kalamdb_sql_inline_requests_total shows which path ran.
"""
import pytest
import requests

from helpers import unique
from kalam_harness import DEFAULT_TEST_CONFIG, serve
from security_helpers import login_ok, post_sql_tok
from test_metrics import parse, scrape

INLINE = "kalamdb_sql_inline_requests_total"
POINT = "SELECT id, v FROM inl.items WHERE id = $1"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve(tmp_path_factory)


def inline_count(server):
    return parse(scrape(server)).get(INLINE, 0)


def rows(response):
    assert response.status_code == 200, response.text
    return response.json()["results"][0]["rows"]


def test_a_repeated_point_select_runs_inline_and_sees_each_users_own_rows(server):
    server.sql("CREATE NAMESPACE IF NOT EXISTS inl")
    server.sql("CREATE USER TABLE IF NOT EXISTS inl.items (id BIGINT PRIMARY KEY, v TEXT)")
    alice, bob = unique("inla"), unique("inlb")
    for name in (alice, bob):
        server.create_user(name)
    tok = {name: login_ok(server, name, "password123")["access_token"] for name in (alice, bob)}
    for name in (alice, bob):
        assert post_sql_tok(server, f"INSERT INTO inl.items VALUES (1, '{name}')",
                            tok[name]).status_code == 200

    before = inline_count(server)
    for _ in range(6):
        for name in (alice, bob):
            assert rows(post_sql_tok(server, POINT, tok[name], params=[1])) == [["1", name]]
    # The first three runs of the text go to workers; most later ones run inline.
    assert inline_count(server) - before >= 4

    # A write is seen by the very next inline read.
    assert post_sql_tok(server, "UPDATE inl.items SET v = 'changed' WHERE id = 1",
                        tok[alice]).status_code == 200
    before = inline_count(server)
    assert rows(post_sql_tok(server, POINT, tok[alice], params=[1])) == [["1", "changed"]]
    assert rows(post_sql_tok(server, POINT, tok[bob], params=[1])) == [["1", bob]]
    assert rows(post_sql_tok(server, POINT, tok[bob], params=[2])) == []
    assert inline_count(server) - before == 3


def test_a_deleted_users_token_is_refused_on_the_inline_path(server):
    server.sql("CREATE NAMESPACE IF NOT EXISTS inl")
    server.sql("CREATE SHARED TABLE IF NOT EXISTS inl.open (id BIGINT PRIMARY KEY, v TEXT) "
               "WITH (ACCESS_LEVEL = 'PUBLIC')")
    server.sql("INSERT INTO inl.open VALUES (1, 'x')")
    name = unique("inld")
    server.create_user(name)
    tok = login_ok(server, name, "password123")["access_token"]
    before = inline_count(server)
    for _ in range(5):
        assert rows(post_sql_tok(server, "SELECT v FROM inl.open WHERE id = 1", tok)) == [["x"]]
    assert inline_count(server) - before >= 1
    server.sql(f"DROP USER {name}")
    r = post_sql_tok(server, "SELECT v FROM inl.open WHERE id = 1", tok)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "INVALID_CREDENTIALS", r.text


def test_batches_and_writes_never_run_inline(server):
    server.sql("CREATE NAMESPACE IF NOT EXISTS inl")
    server.sql("CREATE SHARED TABLE IF NOT EXISTS inl.w (id BIGINT PRIMARY KEY, n INT)")
    before = inline_count(server)
    for i in range(5):
        server.sql("INSERT INTO inl.w VALUES ($1, 0)", params=[i + 1])
        body = server.sql("SELECT count(*) FROM inl.w; SELECT 1")
        assert body["results"][0]["rows"] == [[str(i + 1)]]
    assert inline_count(server) == before


@pytest.fixture(scope="module")
def server_off(tmp_path_factory):
    yield from serve(tmp_path_factory,
                     config_toml=DEFAULT_TEST_CONFIG + "[server]\ninline_read_max_us = 0\n")


def test_inline_reads_can_be_turned_off(server_off):
    server_off.sql("CREATE NAMESPACE IF NOT EXISTS inl")
    server_off.sql("CREATE SHARED TABLE IF NOT EXISTS inl.t (id BIGINT PRIMARY KEY, v TEXT)")
    server_off.sql("INSERT INTO inl.t VALUES (1, 'a')")
    for _ in range(6):
        assert server_off.rows("SELECT v FROM inl.t WHERE id = $1", [1]) == [["a"]]
    assert inline_count(server_off) == 0
