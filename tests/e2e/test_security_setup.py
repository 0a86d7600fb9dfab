"""First-run setup, status, password-less root, loopback-only routes (PROTOCOL §1, §2).

A server "needs setup" when root has no password: KALAMDB_ROOT_PASSWORD empty (= unset) and
auth.generate_root_password = false.
"""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from helpers import unique
from security_helpers import (NEEDS_SETUP_ENV, NEEDS_SETUP_TOML, PW, assert_sql_error,
                              auth_error_body, login_raw, non_loopback_ip, post_sql_tok,
                              set_cookies)
from kalam_harness import Server

INVALID = {"error": "unauthorized", "message": "Invalid credentials"}


@pytest.fixture
def setup_server(tmp_path):
    s = Server(tmp_path / "data", env=dict(NEEDS_SETUP_ENV), config_toml=NEEDS_SETUP_TOML).start()
    yield s
    s.stop()


@pytest.fixture
def remote_setup_server(tmp_path):
    """Needs setup, listening on every interface so a non-loopback peer can be tested."""
    ip = non_loopback_ip()
    if ip is None:
        pytest.skip("no non-loopback address on this machine")
    env = dict(NEEDS_SETUP_ENV, KALAMDB_SERVER_HOST="0.0.0.0")
    s = Server(tmp_path / "data", env=env, config_toml=NEEDS_SETUP_TOML).start()
    s.remote = f"http://{ip}:{s.port}"
    yield s
    s.stop()


def status(s, base=None):
    return requests.get((base or s.base) + "/v1/api/auth/status")


def setup(s, body, base=None):
    return requests.post((base or s.base) + "/v1/api/auth/setup", json=body)


GOOD = {"user": "admin1", "password": "admin-password-1", "root_password": "root-password-1",
        "email": None}


def test_status_and_setup_flow(setup_server):
    s = setup_server
    r = status(s)
    assert r.status_code == 200 and list(r.json()) == ["needs_setup", "message"], r.text
    assert r.json()["needs_setup"] is True
    # validation failures change nothing
    auth_error_body(setup(s, dict(GOOD, user="root")), 400, "invalid_user")
    auth_error_body(setup(s, dict(GOOD, password="short")), 400, "weak_password")
    auth_error_body(setup(s, dict(GOOD, root_password="short")), 400, "weak_password")
    auth_error_body(setup(s, dict(GOOD, root_password="")), 400, "weak_password")
    # 8 bytes but 4 characters: the policy counts characters
    auth_error_body(setup(s, dict(GOOD, password="éééé")), 400, "weak_password")
    assert setup(s, dict(GOOD, role="system")).status_code == 400
    assert status(s).json()["needs_setup"] is True
    r = setup(s, GOOD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["user", "message"], body
    assert body["user"]["id"] == "admin1" and body["user"]["role"] == "dba"
    assert body["user"]["email"] is None
    assert not set_cookies(r)
    assert status(s).json()["needs_setup"] is False
    # second setup (even a valid one with different passwords) → 409, nothing changes
    auth_error_body(setup(s, dict(GOOD, user="admin2", root_password="hijack-root-1")),
                    409, "already_configured")
    auth_error_body(setup(s, dict(GOOD, user="root")), 409, "already_configured")
    # both can log in; root with the password set by setup, not with the empty one
    r = login_raw(s, {"user": "root", "password": "root-password-1"})
    assert r.status_code == 200 and r.json()["user"]["role"] == "system", r.text
    r = login_raw(s, {"user": "admin1", "password": "admin-password-1"})
    assert r.status_code == 200 and r.json()["user"]["role"] == "dba", r.text
    assert login_raw(s, {"user": "root", "password": ""}).json() == INVALID
    assert login_raw(s, {"user": "root", "password": "hijack-root-1"}).json() == INVALID
    assert login_raw(s, {"user": "admin2", "password": "admin-password-1"}).json() == INVALID


def test_setup_existing_user_409(setup_server):
    s = setup_server
    # a password-less root may log in from loopback with the empty password
    r = login_raw(s, {"user": "root", "password": ""})
    assert r.status_code == 200, r.text
    tok = r.json()["access_token"]
    assert post_sql_tok(s, "CREATE USER early WITH PASSWORD 'password123' ROLE user", tok).status_code == 200
    auth_error_body(setup(s, dict(GOOD, user="early")), 409, "user_exists")
    # the existing user's role and password are untouched, root still needs setup
    r = login_raw(s, {"user": "early", "password": "password123"})
    assert r.status_code == 200 and r.json()["user"]["role"] == "user", r.text
    assert status(s).json()["needs_setup"] is True


def test_passwordless_root_wrong_password_and_setup_persists(setup_server):
    s = setup_server
    assert login_raw(s, {"user": "root", "password": "anything"}).json() == INVALID
    assert setup(s, GOOD).status_code == 200
    s.stop()
    s.start()  # harness passes KALAMDB_ROOT_PASSWORD="" again: must not wipe the new password
    assert status(s).json()["needs_setup"] is False
    assert login_raw(s, {"user": "root", "password": "root-password-1"}).status_code == 200
    assert login_raw(s, {"user": "root", "password": ""}).status_code == 401


def test_concurrent_setup_single_winner(setup_server):
    s = setup_server

    def go(i):
        return setup(s, {"user": f"adm{i}", "password": f"admin-password-{i}",
                         "root_password": f"root-password-{i}", "email": None})

    with ThreadPoolExecutor(12) as pool:
        res = list(pool.map(go, range(12)))
    winners = [i for i, r in enumerate(res) if r.status_code == 200]
    assert len(winners) == 1, [(r.status_code, r.text) for r in res]
    assert all(r.status_code == 409 and r.json()["error"] == "already_configured"
               for i, r in enumerate(res) if i not in winners)
    w = winners[0]
    assert login_raw(s, {"user": "root", "password": f"root-password-{w}"}).status_code == 200
    for i in range(12):
        expect = 200 if i == w else 401
        assert login_raw(s, {"user": f"adm{i}", "password": f"admin-password-{i}"}).status_code == expect


def test_sql_without_header_while_needs_setup(setup_server):
    r = requests.post(setup_server.base + "/v1/api/sql", json={"sql": "CREATE NAMESPACE x"})
    # No Authorization header is the first thing wrong with the request, setup or not.
    err = assert_sql_error(r, 401, code="MISSING_AUTHORIZATION")
    assert set(err) == {"code", "message"}


def test_remote_peer_cannot_setup_or_use_passwordless_root(remote_setup_server):
    s = remote_setup_server
    r = status(s, s.remote)
    auth_error_body(r, 403, "forbidden")
    r = setup(s, GOOD, s.remote)
    auth_error_body(r, 403, "forbidden")
    r = requests.post(s.remote + "/v1/api/auth/login", json={"user": "root", "password": ""})
    auth_error_body(r, 403, "forbidden")
    assert not set_cookies(r)
    # spoofed forwarding headers do not make a remote peer local
    spoof = {"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1", "Forwarded": "for=127.0.0.1",
             "Host": "127.0.0.1"}
    assert requests.post(s.remote + "/v1/api/auth/setup", json=GOOD, headers=spoof).status_code == 403
    assert requests.post(s.remote + "/v1/api/auth/login", json={"user": "root", "password": ""},
                         headers=spoof).status_code == 403
    assert requests.get(s.remote + "/health", headers=spoof).status_code == 403
    # still needs setup: nothing was changed by the remote attempts
    assert status(s).json()["needs_setup"] is True


def test_metrics_is_loopback_only(remote_setup_server):
    s = remote_setup_server
    spoof = {"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1", "Host": "127.0.0.1"}
    assert requests.get(s.remote + "/metrics", headers=spoof).status_code == 403
    r = requests.get(s.base + "/metrics")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain"), r.text


def test_remote_setup_allowed_when_configured(tmp_path):
    ip = non_loopback_ip()
    if ip is None:
        pytest.skip("no non-loopback address")
    env = dict(NEEDS_SETUP_ENV, KALAMDB_SERVER_HOST="0.0.0.0")
    s = Server(tmp_path / "data", env=env,
               config_toml=NEEDS_SETUP_TOML.replace("[auth]\n", "[auth]\nallow_remote_setup = true\n")).start()
    try:
        remote = f"http://{ip}:{s.port}"
        assert requests.get(remote + "/v1/api/auth/status").json()["needs_setup"] is True
        # remote login of a password-less root stays forbidden even when remote setup is allowed
        r = requests.post(remote + "/v1/api/auth/login", json={"user": "root", "password": ""})
        auth_error_body(r, 403, "forbidden")
        assert requests.post(remote + "/v1/api/auth/setup", json=GOOD).status_code == 200
        assert requests.post(remote + "/v1/api/auth/login",
                             json={"user": "root", "password": "root-password-1"}).status_code == 200
    finally:
        s.stop()
