"""Attacks on the auth endpoints: login, lockout, refresh, me, logout (PROTOCOL §2)."""
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from helpers import unique
from security_helpers import (JWT_SECRET, PW, assert_sql_error, auth_error_body, forge,
                              login_ok, login_raw, post_sql_tok, set_cookies, snapshot,
                              assert_unchanged)
from kalam_harness import ROOT_PASSWORD, Server

INVALID = {"error": "unauthorized", "message": "Invalid credentials"}
USER_KEYS = ["id", "role", "email", "created_at", "updated_at"]
LOGIN_KEYS = ["user", "admin_ui_access", "expires_at", "access_token", "refresh_token",
              "refresh_expires_at"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("secauth") / "data",
               env={"KALAMDB_JWT_SECRET": JWT_SECRET}).start()
    yield s
    s.stop()


def cookie_map(resp):
    out = {}
    for c in set_cookies(resp):
        name, _, rest = c.partition("=")
        value, _, attrs = rest.partition(";")
        out[name] = (value, [a.strip() for a in attrs.split(";") if a.strip()])
    return out


# ---- login -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    {"user": "root", "password": ROOT_PASSWORD, "role": "system"},
    {"user": "root", "password": ROOT_PASSWORD, "token_type": "access"},
    {"user": "root", "password": ROOT_PASSWORD, "user_id": "root"},
    {"user": "root", "password": ROOT_PASSWORD, "": 1},
    {"user": ["root"], "password": ROOT_PASSWORD},
    {"user": {"$ne": None}, "password": {"$ne": None}},
    {"user": "root", "password": None},
    {"user": "root", "password": 12345678},
    {"user": None, "password": ROOT_PASSWORD},
])
def test_login_unknown_or_mistyped_fields_400(server, body):
    r = login_raw(server, body)
    assert r.status_code == 400, r.text
    assert set(r.json()) == {"error", "message"}, r.text
    assert not set_cookies(r)
    assert "access_token" not in r.text


def test_login_with_non_object_json(server):
    for data in ("[]", "null", '"root"', "1", "", "{", '{"user":"root","password":"' + ROOT_PASSWORD + '"'):
        r = login_raw(server, data=data)
        assert r.status_code == 400, (data, r.text)
        assert set(r.json()) == {"error", "message"}
        assert not set_cookies(r)


def test_login_sql_injection_in_user_name(server):
    for user in ("root' --", "root' OR '1'='1", "root\u0000", "ROOT", " root", "root "):
        r = login_raw(server, {"user": user, "password": "x' OR '1'='1"})
        assert r.status_code == 401 and r.json() == INVALID, (user, r.text)
        r = login_raw(server, {"user": user, "password": ROOT_PASSWORD})
        assert r.status_code == 401 and r.json() == INVALID, (user, r.text)


def test_login_duplicate_keys_cannot_smuggle(server):
    """JSON with two 'user' keys: the last one wins (root), so the victim's password is checked
    against root and fails like any wrong password; never root with the victim's password."""
    name = unique("dupk")
    server.create_user(name)
    data = '{"user":"%s","password":"%s","user":"root"}' % (name, PW)
    r = login_raw(server, data=data)
    assert r.status_code == 401 and r.json() == INVALID, r.text
    assert not set_cookies(r)
    # the same body with root's password logs in as root: the last key is the one used
    r = login_raw(server, data='{"user":"%s","password":"%s","user":"root"}' % (name, ROOT_PASSWORD))
    assert r.status_code == 200 and r.json()["user"]["id"] == "root", r.text


def test_unknown_user_vs_wrong_password_identical_and_timing(server):
    name = unique("timing")
    server.create_user(name)
    t_wrong, t_unknown = [], []
    for i in range(10):
        if i % 4 == 3:
            login_ok(server, name)  # resets the failure counter so the account never locks
        t0 = time.perf_counter()
        a = login_raw(server, {"user": name, "password": "wrong-password-x"})
        t_wrong.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        b = login_raw(server, {"user": unique("ghost"), "password": "wrong-password-x"})
        t_unknown.append(time.perf_counter() - t0)
        assert a.status_code == b.status_code == 401
        assert a.content == b.content, (a.text, b.text)
        assert a.json() == INVALID
        assert sorted(k.lower() for k in a.headers if k.lower() not in ("date", "content-length")) == \
            sorted(k.lower() for k in b.headers if k.lower() not in ("date", "content-length"))
    mw, mu = statistics.median(t_wrong), statistics.median(t_unknown)
    assert mw / mu < 3 and mu / mw < 3, (mw, mu)


def test_deleted_user_login_identical_to_unknown(server):
    name = unique("gone")
    server.create_user(name)
    server.sql(f"DROP USER {name}")
    a = login_raw(server, {"user": name, "password": PW})
    b = login_raw(server, {"user": unique("never"), "password": PW})
    assert a.status_code == b.status_code == 401
    assert a.content == b.content and a.json() == INVALID


def test_lockout_then_right_password_still_locked(server):
    name = unique("lk")
    server.create_user(name)
    for _ in range(5):
        assert login_raw(server, {"user": name, "password": "nope-nope"}).json() == INVALID
    for pw in ("nope-nope", PW):
        r = login_raw(server, {"user": name, "password": pw})
        auth_error_body(r, 401, "account_locked")
        assert not set_cookies(r)
    rows = server.rows(f"SELECT locked_until FROM system.users WHERE user_id = '{name}'")
    assert rows and rows[0][0] is not None, rows


def test_concurrent_bruteforce_cannot_exceed_lockout(server):
    """30 wrong passwords fired concurrently: at most 5 may be evaluated as 'Invalid credentials'
    (the rest must say account_locked); otherwise the lockout is a read-modify-write race and an
    attacker gets unlimited guesses by parallelising."""
    name = unique("race")
    server.create_user(name)

    def guess(i):
        return login_raw(server, {"user": name, "password": f"guess-{i:04d}"})

    with ThreadPoolExecutor(30) as pool:
        results = list(pool.map(guess, range(30)))
    codes = [r.json().get("error") for r in results]
    assert all(r.status_code == 401 for r in results), [r.status_code for r in results]
    assert codes.count("unauthorized") <= 5, codes
    r = login_raw(server, {"user": name, "password": PW})
    auth_error_body(r, 401, "account_locked")


def test_lockout_persists_across_restart(server):
    name = unique("lkr")
    server.create_user(name)
    for _ in range(5):
        login_raw(server, {"user": name, "password": "nope-nope"})
    auth_error_body(login_raw(server, {"user": name, "password": PW}), 401, "account_locked")
    server.stop()
    server.start()
    auth_error_body(login_raw(server, {"user": name, "password": PW}), 401, "account_locked")


def test_admin_can_see_but_not_bypass_lock_by_alter_password(server):
    """Changing the password (ALTER USER) of a locked account is allowed, but the lock stays until
    its window passes (as in MySQL and Oracle, where only an explicit unlock or the lock time ends
    it): neither the new nor the old password logs in meanwhile."""
    name = unique("lkp")
    server.create_user(name)
    for _ in range(5):
        assert login_raw(server, {"user": name, "password": "nope-nope"}).json() == INVALID
    locked = server.rows(f"SELECT locked_until FROM system.users WHERE user_id = '{name}'")
    assert locked[0][0] is not None, locked
    assert server.sql(f"ALTER USER {name} SET PASSWORD 'brand-new-pass'")["results"][0][
        "message"] == f"User {name} altered successfully"
    for pw in ("brand-new-pass", PW):
        r = login_raw(server, {"user": name, "password": pw})
        auth_error_body(r, 401, "account_locked")
        assert not set_cookies(r)
    assert server.rows(f"SELECT locked_until FROM system.users WHERE user_id = '{name}'") == locked


# ---- refresh -----------------------------------------------------------------------------------------

def assert_login_shape(r, user, role):
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == LOGIN_KEYS, body
    assert list(body["user"]) == USER_KEYS
    assert body["user"]["id"] == user and body["user"]["role"] == role
    cm = cookie_map(r)
    assert set(cm) == {"kalamdb_auth", "kalamdb_refresh"}, set_cookies(r)
    assert cm["kalamdb_auth"][0] == body["access_token"]
    assert cm["kalamdb_refresh"][0] == body["refresh_token"]
    for _, attrs in cm.values():
        assert "HttpOnly" in attrs and "SameSite=Strict" in attrs and "Path=/" in attrs
    return body


def test_refresh_with_cookie_and_with_bearer(server):
    name = unique("rf")
    server.create_user(name, role="service")
    ref = login_ok(server, name)["refresh_token"]
    r = requests.post(server.base + "/v1/api/auth/refresh", cookies={"kalamdb_refresh": ref})
    body = assert_login_shape(r, name, "service")
    assert post_sql_tok(server, "SELECT 1", body["access_token"]).status_code == 200
    r = requests.post(server.base + "/v1/api/auth/refresh", headers={"Authorization": f"Bearer {ref}"})
    body = assert_login_shape(r, name, "service")
    assert post_sql_tok(server, "SELECT 1", body["access_token"]).status_code == 200


@pytest.mark.parametrize("how", ["cookie", "bearer"])
def test_refresh_rejects_access_token(server, how):
    acc = login_ok(server, "root", ROOT_PASSWORD)["access_token"]
    kw = {"cookies": {"kalamdb_refresh": acc}} if how == "cookie" else \
        {"headers": {"Authorization": f"Bearer {acc}"}}
    r = requests.post(server.base + "/v1/api/auth/refresh", **kw)
    assert r.status_code == 401, r.text
    assert set(r.json()) == {"error", "message"}
    assert not set_cookies(r)


def test_refresh_rejects_access_in_auth_cookie(server):
    """Only kalamdb_refresh is a refresh credential; the auth cookie is not."""
    acc = login_ok(server, "root", ROOT_PASSWORD)["access_token"]
    r = requests.post(server.base + "/v1/api/auth/refresh", cookies={"kalamdb_auth": acc})
    assert r.status_code == 401, r.text
    assert not set_cookies(r)


@pytest.mark.parametrize("make", [
    lambda n: forge(n, "dba", token_type="refresh"),                       # role forged upward
    lambda n: forge(n, "user", token_type="refresh", secret="other"),      # wrong secret
    lambda n: forge(n, "user", token_type="refresh", iat=int(time.time()) - 10 ** 6,
                    exp=int(time.time()) - 300),                           # expired
    lambda n: forge(n, "user", token_type="refresh", header={"alg": "none"}),
    lambda n: "garbage",
], ids=["role-up", "secret", "expired", "alg-none", "garbage"])
def test_refresh_forged(server, make):
    name = unique("rff")
    server.create_user(name)
    before = snapshot(server)
    for kw in ({"cookies": {"kalamdb_refresh": make(name)}},
               {"headers": {"Authorization": f"Bearer {make(name)}"}}):
        r = requests.post(server.base + "/v1/api/auth/refresh", **kw)
        assert r.status_code == 401, r.text
        assert set(r.json()) == {"error", "message"}
        assert not set_cookies(r)
    assert_unchanged(server, before)


def test_refresh_after_drop_and_role_change(server):
    a, b = unique("rfd"), unique("rfr")
    server.create_user(a)
    server.create_user(b)
    ra, rb = login_ok(server, a)["refresh_token"], login_ok(server, b)["refresh_token"]
    server.sql(f"DROP USER {a}")
    server.sql(f"ALTER USER {b} SET ROLE dba")
    for ref in (ra, rb):
        r = requests.post(server.base + "/v1/api/auth/refresh", cookies={"kalamdb_refresh": ref})
        assert r.status_code == 401, r.text
        assert not set_cookies(r)


def test_refresh_without_credentials(server):
    r = requests.post(server.base + "/v1/api/auth/refresh")
    assert r.status_code == 401
    assert set(r.json()) == {"error", "message"}


# ---- me / logout --------------------------------------------------------------------------------------

def test_me_with_bearer_and_cookie(server):
    name = unique("me")
    server.sql(f"CREATE USER {name} WITH PASSWORD '{PW}' ROLE analyst EMAIL '{name}@x.io'")
    body = login_ok(server, name)
    for kw in ({"headers": {"Authorization": f"Bearer {body['access_token']}"}},
               {"cookies": {"kalamdb_auth": body["access_token"]}}):
        r = requests.get(server.base + "/v1/api/auth/me", **kw)
        assert r.status_code == 200, r.text
        me = r.json()
        assert list(me) == ["user", "admin_ui_access"], me
        assert me["user"] == body["user"], me
        assert me["user"]["role"] == "service" and me["user"]["email"] == f"{name}@x.io"
        assert me["admin_ui_access"] is False
        assert "argon" not in r.text.lower() and "password" not in r.text.lower()


@pytest.mark.parametrize("creds", ["refresh-bearer", "refresh-cookie", "none", "forged-role",
                                   "basic", "refresh-in-auth-cookie"])
def test_me_rejections(server, creds):
    name = unique("mer")
    server.create_user(name)
    body = login_ok(server, name)
    kw = {
        "refresh-bearer": {"headers": {"Authorization": f"Bearer {body['refresh_token']}"}},
        "refresh-cookie": {"cookies": {"kalamdb_refresh": body["refresh_token"]}},
        "none": {},
        "forged-role": {"headers": {"Authorization": f"Bearer {forge(name, 'system')}"}},
        "basic": {"headers": {"Authorization": "Basic cm9vdDpyb290LXRlc3QtcGFzc3dvcmQ="}},
        "refresh-in-auth-cookie": {"cookies": {"kalamdb_auth": body["refresh_token"]}},
    }[creds]
    r = requests.get(server.base + "/v1/api/auth/me", **kw)
    assert r.status_code == 401, r.text
    assert set(r.json()) == {"error", "message"}, r.text
    assert name not in r.text


def test_me_for_deleted_user(server):
    name = unique("med")
    server.create_user(name)
    tok = login_ok(server, name)["access_token"]
    server.sql(f"DROP USER {name}")
    r = requests.get(server.base + "/v1/api/auth/me", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 401, r.text


def test_logout_clears_cookies(server):
    tok = login_ok(server, "root", ROOT_PASSWORD)["access_token"]
    r = requests.post(server.base + "/v1/api/auth/logout", cookies={"kalamdb_auth": tok})
    assert r.status_code == 200
    assert r.json() == {"message": "Logged out successfully"}
    cm = cookie_map(r)
    assert set(cm) == {"kalamdb_auth", "kalamdb_refresh"}, set_cookies(r)
    for value, attrs in cm.values():
        assert value == ""
        assert "Max-Age=0" in attrs, attrs
        assert "HttpOnly" in attrs and "Path=/" in attrs


def test_wrong_methods_on_auth_routes(server):
    for method, path in (("GET", "/v1/api/auth/login"), ("GET", "/v1/api/auth/refresh"),
                         ("POST", "/v1/api/auth/me"), ("GET", "/v1/api/auth/setup"),
                         ("GET", "/v1/api/sql"), ("PUT", "/v1/api/sql")):
        r = requests.request(method, server.base + path)
        assert r.status_code == 405, (method, path, r.status_code, r.text)
