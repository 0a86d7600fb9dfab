"""PROTOCOL §2: login, cookies, login failures, authentication on the SQL endpoint."""
import base64
import json
import re
from datetime import datetime, timezone

import pytest
import requests

from helpers import assert_sql_error, login_raw, post_sql, unique
from kalam_harness import ROOT_PASSWORD

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
INVALID = {"error": "unauthorized", "message": "Invalid credentials"}


def _b64json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _parse(ts):
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def test_login_body_exact_keys(server):
    r = login_raw(server, {"user": "root", "password": ROOT_PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["user", "admin_ui_access", "expires_at", "access_token",
                          "refresh_token", "refresh_expires_at"], body
    assert list(body["user"]) == ["id", "role", "email", "created_at", "updated_at"], body
    assert body["user"]["id"] == "root"
    assert body["user"]["role"] == "system"
    assert body["user"]["email"] is None
    for k in ("created_at", "updated_at"):
        assert RFC3339.match(body["user"][k]), body
    for k in ("expires_at", "refresh_expires_at"):
        assert RFC3339.match(body[k]), body
    assert body["admin_ui_access"] is True
    now = datetime.now(timezone.utc)
    # access lifetime 24 h, refresh 7x that
    assert abs((_parse(body["expires_at"]) - now).total_seconds() - 24 * 3600) < 120
    assert abs((_parse(body["refresh_expires_at"]) - now).total_seconds() - 7 * 24 * 3600) < 120


def test_login_tokens_claims(server):
    body = login_raw(server, {"user": "root", "password": ROOT_PASSWORD}).json()
    for tok, kind in ((body["access_token"], "access"), (body["refresh_token"], "refresh")):
        h, p, sig = tok.split(".")
        assert _b64json(h)["alg"] == "HS256"
        claims = _b64json(p)
        assert claims["sub"] == "root"
        assert claims["iss"] == "kalamdb"
        assert claims["role"] == "system"
        assert claims["email"] is None
        assert claims["token_type"] == kind
        assert isinstance(claims["iat"], int) and isinstance(claims["exp"], int)
        life = claims["exp"] - claims["iat"]
        assert life == (24 * 3600 if kind == "access" else 7 * 24 * 3600), claims


def test_login_sets_cookies(server):
    r = login_raw(server, {"user": "root", "password": ROOT_PASSWORD})
    assert r.status_code == 200
    raw = r.raw.headers.getlist("Set-Cookie")
    assert len(raw) == 2, raw
    by_name = {c.split("=", 1)[0]: c for c in raw}
    assert set(by_name) == {"kalamdb_auth", "kalamdb_refresh"}, raw
    body = r.json()
    assert by_name["kalamdb_auth"].startswith("kalamdb_auth=" + body["access_token"] + ";")
    assert by_name["kalamdb_refresh"].startswith("kalamdb_refresh=" + body["refresh_token"] + ";")
    for c in raw:
        attrs = [a.strip() for a in c.split(";")[1:]]
        assert "HttpOnly" in attrs, c
        assert "SameSite=Strict" in attrs, c
        assert "Path=/" in attrs, c


def test_login_username_alias(server):
    r = login_raw(server, {"username": "root", "password": ROOT_PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["id"] == "root"


def test_login_unknown_field_400(server):
    r = login_raw(server, {"user": "root", "password": ROOT_PASSWORD, "remember_me": True})
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"error", "message"}
    assert "remember_me" in body["message"], body
    assert "Set-Cookie" not in r.headers


def test_login_malformed_json_400(server):
    r = login_raw(server, data="{not json")
    assert r.status_code == 400, r.text
    assert set(r.json()) == {"error", "message"}


def test_login_missing_password_400(server):
    r = login_raw(server, {"user": "root"})
    assert r.status_code == 400, r.text
    assert set(r.json()) == {"error", "message"}


def test_wrong_password_and_unknown_user_identical(server):
    a = login_raw(server, {"user": "root", "password": "wrong-password"})
    b = login_raw(server, {"user": "no_such_user_x", "password": "wrong-password"})
    assert a.status_code == 401 and b.status_code == 401
    assert a.json() == INVALID
    assert b.json() == INVALID
    assert a.content == b.content
    assert "Set-Cookie" not in a.headers and "Set-Cookie" not in b.headers


def test_sql_no_auth_header(server):
    r = requests.post(server.base + "/v1/api/sql", json={"sql": "SELECT 1"})
    err = assert_sql_error(r, 401, "MISSING_AUTHORIZATION")
    assert set(err) == {"code", "message"}
    assert err["message"]


def test_sql_cookie_is_not_auth(server):
    tok = server.token()
    r = requests.post(server.base + "/v1/api/sql", json={"sql": "SELECT 1"},
                      cookies={"kalamdb_auth": tok})
    assert_sql_error(r, 401, "MISSING_AUTHORIZATION")


def test_sql_basic_auth_rejected(server):
    basic = base64.b64encode(f"root:{ROOT_PASSWORD}".encode()).decode()
    r = post_sql(server, {"sql": "SELECT 1"}, headers={"Authorization": f"Basic {basic}"})
    err = assert_sql_error(r, 401, "AUTHENTICATION_ERROR")
    assert set(err) == {"code", "message"}


@pytest.mark.parametrize("header", ["Bearer garbage", "Bearer a.b.c", "Bearer ", "Token abc"])
def test_sql_garbage_bearer_rejected(server, header):
    r = post_sql(server, {"sql": "SELECT 1"}, headers={"Authorization": header})
    err = assert_sql_error(r, 401, "AUTHENTICATION_ERROR")
    assert err["message"]


def test_sql_refresh_token_not_access(server):
    refresh = login_raw(server, {"user": "root", "password": ROOT_PASSWORD}).json()["refresh_token"]
    r = post_sql(server, {"sql": "SELECT 1"}, headers={"Authorization": f"Bearer {refresh}"})
    assert_sql_error(r, 401, "AUTHENTICATION_ERROR")


def test_sql_tampered_signature_rejected(server):
    tok = login_raw(server, {"user": "root", "password": ROOT_PASSWORD}).json()["access_token"]
    h, p, sig = tok.split(".")
    bad_sig = ("A" if sig[0] != "A" else "B") + sig[1:]
    r = post_sql(server, {"sql": "SELECT 1"}, headers={"Authorization": f"Bearer {h}.{p}.{bad_sig}"})
    assert_sql_error(r, 401, "AUTHENTICATION_ERROR")


def test_sql_alg_none_rejected(server):
    tok = login_raw(server, {"user": "root", "password": ROOT_PASSWORD}).json()["access_token"]
    _, p, _ = tok.split(".")
    none_hdr = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    r = post_sql(server, {"sql": "SELECT 1"}, headers={"Authorization": f"Bearer {none_hdr}.{p}."})
    assert_sql_error(r, 401, "AUTHENTICATION_ERROR")


def test_sql_forged_role_rejected(server):
    """A token whose role claim differs from the stored role is refused (even with a valid-looking
    structure): here we just swap the payload, which also breaks the signature."""
    name = unique("forge")
    server.create_user(name)
    tok = login_raw(server, {"user": name, "password": "password123"}).json()["access_token"]
    h, p, sig = tok.split(".")
    claims = _b64json(p)
    claims["role"] = "system"
    p2 = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    r = post_sql(server, {"sql": "SELECT 1"}, headers={"Authorization": f"Bearer {h}.{p2}.{sig}"})
    assert_sql_error(r, 401, "AUTHENTICATION_ERROR")


def test_created_user_logs_in_and_runs_sql(server):
    name = unique("alice")
    res = server.sql(f"CREATE USER {name} WITH PASSWORD 'password123' ROLE user")
    assert res["results"] == [{"row_count": 0, "message": f"User {name} created successfully",
                               "as_user": "root"}]
    r = login_raw(server, {"user": name, "password": "password123"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"]["id"] == name
    assert body["user"]["role"] == "user"
    assert body["user"]["email"] is None
    assert body["admin_ui_access"] is False
    r = post_sql(server, {"sql": "SELECT 'hi' AS greeting"}, token=body["access_token"])
    assert r.status_code == 200, r.text
    assert r.json()["results"] == [{
        "schema": [{"name": "greeting", "data_type": "Text", "index": 0}],
        "rows": [["hi"]], "row_count": 1, "as_user": name}]


def test_created_user_wrong_password(server):
    name = unique("bob")
    server.create_user(name)
    r = login_raw(server, {"user": name, "password": "password124"})
    assert r.status_code == 401
    assert r.json() == INVALID


@pytest.mark.parametrize("role,wire,admin", [
    ("user", "user", False), ("service", "service", False), ("dba", "dba", True),
    ("system", "system", True), ("admin", "dba", True), ("developer", "service", False),
    ("analyst", "service", False), ("viewer", "user", False), ("readonly", "user", False),
])
def test_role_and_admin_ui_access(server, role, wire, admin):
    name = unique("r")
    server.sql(f"CREATE USER {name} WITH PASSWORD 'password123' ROLE {role}")
    body = login_raw(server, {"user": name, "password": "password123"}).json()
    assert body["user"]["role"] == wire
    assert body["admin_ui_access"] is admin
    assert _b64json(body["access_token"].split(".")[1])["role"] == wire


def test_create_user_with_email(server):
    name = unique("mail")
    server.sql(f"CREATE USER {name} WITH PASSWORD 'password123' ROLE user EMAIL '{name}@example.com'")
    body = login_raw(server, {"user": name, "password": "password123"}).json()
    assert body["user"]["email"] == f"{name}@example.com"
    assert _b64json(body["access_token"].split(".")[1])["email"] == f"{name}@example.com"


def test_create_user_requires_dba(server):
    name = unique("lowly")
    server.create_user(name)
    err = server.sql_error(f"CREATE USER {unique('x')} WITH PASSWORD 'password123' ROLE user",
                           user=name, password="password123", status=403)
    assert err["code"] == "PERMISSION_DENIED"
    assert "details" not in err


def test_create_user_duplicate(server):
    name = unique("dup")
    server.create_user(name)
    err = server.sql_error(f"CREATE USER {name} WITH PASSWORD 'password123' ROLE user")
    assert err["code"] == "SQL_EXECUTION_ERROR"
    assert name in err["message"] and "already exists" in err["message"], err


def test_create_user_short_password_rejected(server):
    name = unique("weak")
    err = server.sql_error(f"CREATE USER {name} WITH PASSWORD 'short' ROLE user")
    assert err["code"] in ("SQL_EXECUTION_ERROR", "INVALID_SQL")
    r = login_raw(server, {"user": name, "password": "short"})
    assert r.status_code == 401 and r.json() == INVALID


def test_account_locked_after_five_failures(server):
    name = unique("lock")
    server.create_user(name)
    for _ in range(5):
        r = login_raw(server, {"user": name, "password": "bad-password"})
        assert r.status_code == 401 and r.json() == INVALID
    r = login_raw(server, {"user": name, "password": "bad-password"})
    assert r.status_code == 401
    assert r.json()["error"] == "account_locked"
    r = login_raw(server, {"user": name, "password": "password123"})
    assert r.status_code == 401
    assert r.json()["error"] == "account_locked"
    assert set(r.json()) == {"error", "message"}


def test_failures_reset_by_successful_login(server):
    name = unique("reset")
    server.create_user(name)
    for _ in range(4):
        assert login_raw(server, {"user": name, "password": "bad-password"}).status_code == 401
    assert login_raw(server, {"user": name, "password": "password123"}).status_code == 200
    for _ in range(4):
        assert login_raw(server, {"user": name, "password": "bad-password"}).json() == INVALID
    assert login_raw(server, {"user": name, "password": "password123"}).status_code == 200


def test_token_rejected_after_role_change(server):
    name = unique("rolechg")
    server.create_user(name)
    tok = login_raw(server, {"user": name, "password": "password123"}).json()["access_token"]
    assert post_sql(server, {"sql": "SELECT 1"}, token=tok).status_code == 200
    server.sql(f"ALTER USER {name} SET ROLE service")
    r = post_sql(server, {"sql": "SELECT 1"}, token=tok)
    # the token is genuine, but names a role the user no longer has
    assert_sql_error(r, 401, "INVALID_CREDENTIALS")


def test_token_rejected_after_drop_user(server):
    name = unique("dropme")
    server.create_user(name)
    tok = login_raw(server, {"user": name, "password": "password123"}).json()["access_token"]
    server.sql(f"DROP USER {name}")
    r = post_sql(server, {"sql": "SELECT 1"}, token=tok)
    # the token is genuine, but its user is gone
    assert_sql_error(r, 401, "INVALID_CREDENTIALS")
    r = login_raw(server, {"user": name, "password": "password123"})
    assert r.status_code == 401 and r.json() == INVALID
