"""JSON functions beyond SQLite's own (docs/sql_functions.md): json_contains, json_get_*, json_as_text,
json_length, json_object_keys and the `doc ? 'key'` key test, with NULL for a missing path or a value of
another type."""
import pytest

from helpers import assert_sql_error

DOC = '{"a":1,"b":"x","c":{"d":[10,20.5,true,null]},"e":null,"f":1.5,"g":false}'


def one(server, expr):
    params = [DOC] if "$1" in expr else None
    res = server.sql(f"SELECT {expr}", params=params)["results"][0]
    assert res["row_count"] == 1, res
    return res["rows"][0][0]


@pytest.mark.parametrize("expr,expected", [
    ("json_contains($1, 'a')", True),
    ("json_contains($1, 'zz')", False),
    ("json_contains($1, 'e')", True),               # present, JSON null
    ("json_contains($1, 'c', 'd', 3)", True),
    ("json_contains($1, 'c', 'd', 4)", False),
    ("json_contains($1, 'c', 'd', -1)", True),
    ("json_contains('not json', 'a')", False),
    ("json_contains(NULL, 'a')", None),
    ("json_get_int($1, 'a')", 1),
    ("json_get_int($1, 'f')", None),                # a float is not an int
    ("json_get_int($1, 'b')", None),
    ("json_get_int($1, 'c', 'd', 0)", 10),
    ("json_get_float($1, 'f')", 1.5),
    ("json_get_float($1, 'a')", 1.0),                # an int reads as a float
    ("json_get_float($1, 'c', 'd', 1)", 20.5),
    ("json_get_str($1, 'b')", "x"),
    ("json_get_str($1, 'a')", None),
    ("json_get_bool($1, 'c', 'd', 2)", True),
    ("json_get_bool($1, 'g')", False),
    ("json_get_bool($1, 'a')", None),
    ("json_get_json($1, 'c')", '{"d":[10,20.5,true,null]}'),
    ("json_get_json($1, 'e')", "null"),
    ("json_get_json($1, 'f')", "1.5"),
    ("json_get_json('{\"big\":1e300,\"s\":\"a\\\"b\"}')", '{"big":1e+300,"s":"a\\"b"}'),
    ("json_get_json($1, 'nope')", None),
    ("json_as_text($1, 'b')", "x"),
    ("json_as_text($1, 'a')", "1"),
    ("json_as_text($1, 'c', 'd')", "[10,20.5,true,null]"),
    ("json_as_text($1, 'e')", None),
    ("json_length($1)", 6),
    ("json_length($1, 'c', 'd')", 4),
    ("json_length($1, 'a')", None),
    ("json_object_keys($1)", '["a","b","c","e","f","g"]'),
    ("json_object_keys($1, 'c')", '["d"]'),
    ("json_object_keys($1, 'c', 'd')", None),
    ("json_get_int($1, NULL)", None),
])
def test_function_values(server, expr, expected):
    got = one(server, expr)
    # An expression's integer result is a BIGINT, sent as a string (PROTOCOL §5); a truth value
    # is 1 or 0 (SQLite has no boolean type).
    if expected is True or expected is False:
        expected = "1" if expected else "0"
    elif isinstance(expected, int):
        expected = str(expected)
    assert got == expected, (expr, got)


def test_object_keys_in_document_order(server):
    res = server.sql("SELECT json_object_keys($1)", params=['{"z":1,"a":2,"m":3}'])["results"][0]
    assert res["rows"] == [['["z","a","m"]']]


def test_call_without_document_is_an_error(server):
    r = server.sql_raw("SELECT json_length()")
    assert r.status_code == 400, r.text
    assert "JSON functions take a JSON document" in r.json()["error"]["message"], r.text


def test_key_test_operator_filters_rows(server, ns):
    server.sql(f"CREATE TABLE {ns}.docs (id INT PRIMARY KEY, body JSON)")
    server.sql(f"""INSERT INTO {ns}.docs VALUES (1, '{{"tag":"a"}}'), (2, '{{"other":1}}'),
                   (3, '{{"tag":null}}'), (4, NULL)""")
    res = server.sql(f"SELECT id FROM {ns}.docs WHERE body ? 'tag' ORDER BY id")["results"][0]
    assert res["rows"] == [[1], [3]]
    res = server.sql(f"SELECT id FROM {ns}.docs WHERE NOT body ? 'tag' ORDER BY id")["results"][0]
    assert res["rows"] == [[2]]
    res = server.sql(f"SELECT id FROM {ns}.docs WHERE body ? 'tag' AND id > 1")["results"][0]
    assert res["rows"] == [[3]]
    res = server.sql(f"SELECT id, json_get_str(body, 'tag') FROM {ns}.docs ORDER BY id")["results"][0]
    assert res["rows"] == [[1, "a"], [2, None], [3, None], [4, None]]


def test_bare_question_mark_is_still_not_a_parameter(server):
    r = server.sql_raw("SELECT 1 WHERE 1 = ?")
    assert_sql_error(r, 400, "INVALID_SQL", message_prefix="Unsupported parameter '?'")


def test_live_filter_with_json_functions(server, ns):
    from live_client import LiveClient
    server.sql(f"CREATE SHARED TABLE {ns}.ev (id INT PRIMARY KEY, body JSON)")
    c = LiveClient(server)
    c.subscribe_ready("k", f"SELECT id FROM {ns}.ev WHERE body ? 'tag'")
    c.subscribe_ready("n", f"SELECT id FROM {ns}.ev WHERE json_get_int(body, 'n') > 5")
    server.sql(f"""INSERT INTO {ns}.ev VALUES (1, '{{"tag":1}}'), (2, '{{"n":9}}'), (3, '{{"n":2}}')""")
    by_sub = {}
    for e in c.changes(2):
        by_sub.setdefault(e["subscription_id"], []).append(e["rows"][0]["id"])
    c.expect_silence(0.5)
    assert by_sub == {"k": [1], "n": [2]}
    c.close()
