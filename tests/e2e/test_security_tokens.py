"""Attacks on authentication at the SQL endpoint (PROTOCOL §2 "Tokens", "On the SQL endpoint").

The module's server runs with a fixed KALAMDB_JWT_SECRET so the suite can forge tokens signed
with the real secret (the strongest attacker: one who knows the key must still be bound by the
claim checks) and tokens signed with anything else.
Every rejected request carries a destructive payload; afterwards root's view must be unchanged.
"""
import base64
import hashlib
import hmac
import json
import time

import pytest
import requests

from helpers import unique
from security_helpers import (JWT_SECRET, PW, assert_sql_error, assert_unchanged, b64url,
                              b64url_decode_json, b64url_json, claims_for, forge, login_ok,
                              parse_raw, post_sql_tok, raw_http, sign, snapshot)
from kalam_harness import ROOT_PASSWORD, Server, DEFAULT_TEST_CONFIG

ATTACK = "CREATE NAMESPACE pwned_ns; CREATE USER pwned_user WITH PASSWORD 'password123' ROLE system"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("sectok") / "data",
               env={"KALAMDB_JWT_SECRET": JWT_SECRET}).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def victim(server):
    """A plain user plus a shared table root owns, for the 'nothing changed' checks."""
    name = unique("tokuser")
    server.create_user(name)
    server.sql("CREATE NAMESPACE IF NOT EXISTS tokns")
    server.sql("CREATE SHARED TABLE IF NOT EXISTS tokns.secret (id INT PRIMARY KEY, v TEXT) "
               "WITH (ACCESS_LEVEL = 'DBA')")
    server.sql("INSERT INTO tokns.secret VALUES (1, 'crown jewels')")
    return name


def attempt(server, headers, expect_code):
    """Fires the destructive batch with `headers`; asserts the 401 SQL shape and no effect."""
    before = snapshot(server, tables=["tokns.secret"])
    r = requests.post(server.base + "/v1/api/sql", json={"sql": ATTACK}, headers=headers)
    err = assert_sql_error(r, 401, expect_code)
    assert set(err) == {"code", "message"}, err  # never details on an auth failure
    assert "Set-Cookie" not in r.headers
    r2 = requests.post(server.base + "/v1/api/sql",
                       json={"sql": "UPDATE tokns.secret SET v = 'stolen'"}, headers=headers)
    assert r2.status_code == 401, r2.text
    assert_unchanged(server, before, tables=["tokns.secret"])
    return err


def bearer(tok):
    return {"Authorization": f"Bearer {tok}"}


# A token that is not a valid access token of this server (format, algorithm, signature, claims,
# type) is AUTHENTICATION_ERROR; a valid one whose user is unknown, deleted or of another role is
# INVALID_CREDENTIALS; an expired one is TOKEN_EXPIRED.
BAD_TOKEN = "AUTHENTICATION_ERROR"
WRONG_USER = "INVALID_CREDENTIALS"


# ---- headers ---------------------------------------------------------------------------------------

def test_no_header_exact_shape(server, victim):
    err = attempt(server, {}, "MISSING_AUTHORIZATION")
    assert err["message"]


@pytest.mark.parametrize("value", [
    "Bearer garbage", "Bearer", "Bearer ", "Bearer    ", "Bearer a.b.c", "Bearer ...",
    "Bearer eyJhbGciOiJIUzI1NiJ9", "bearer", "Token abc", "JWT abc", "Digest username=root",
    "Negotiate YIIB", "Bearer\tabc",
])
def test_garbage_authorization(server, victim, value):
    attempt(server, {"Authorization": value}, BAD_TOKEN)  # a header was sent: not "missing"


def test_basic_auth_with_correct_root_password(server, victim):
    basic = base64.b64encode(f"root:{ROOT_PASSWORD}".encode()).decode()
    attempt(server, {"Authorization": f"Basic {basic}"}, BAD_TOKEN)


def test_valid_token_with_trailing_garbage(server, victim):
    tok = server.token()
    for h in (f"Bearer {tok}x", f"Bearer {tok}.", f"Bearer {tok} {tok}", f"Bearer {tok},{tok}",
              f"Bearer .{tok}"):
        attempt(server, {"Authorization": h}, BAD_TOKEN)


def test_cookie_plus_garbage_bearer(server, victim):
    """A valid auth cookie does not rescue a bad Bearer (cookies never authenticate SQL)."""
    tok = server.token()
    before = snapshot(server)
    r = requests.post(server.base + "/v1/api/sql", json={"sql": ATTACK},
                      headers={"Authorization": "Bearer nope", "Cookie": f"kalamdb_auth={tok}"})
    assert_sql_error(r, 401, BAD_TOKEN)
    assert_unchanged(server, before)


# ---- algorithm confusion ----------------------------------------------------------------------------

def test_alg_none_unsigned(server, victim):
    tok = b64url_json({"alg": "none", "typ": "JWT"}) + "." + b64url_json(claims_for("root", "system")) + "."
    attempt(server, bearer(tok), BAD_TOKEN)


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_with_signature(server, victim, alg):
    """alg:none but carrying a correct HS256 signature over the same bytes."""
    tok = sign({"alg": alg, "typ": "JWT"}, claims_for("root", "system"))
    attempt(server, bearer(tok), BAD_TOKEN)


def test_alg_hs512_with_right_secret(server, victim):
    tok = sign({"alg": "HS512", "typ": "JWT"}, claims_for("root", "system"), alg="sha512")
    attempt(server, bearer(tok), BAD_TOKEN)


@pytest.mark.parametrize("alg", ["RS256", "ES256", "HS384", "hs256", "HS256 ", ""])
def test_alg_other_headers_with_hs256_signature(server, victim, alg):
    """Key-confusion: header says another algorithm, signature is HMAC-SHA256 with the secret."""
    tok = sign({"alg": alg, "typ": "JWT"}, claims_for("root", "system"))
    attempt(server, bearer(tok), BAD_TOKEN)


def test_alg_missing_and_non_string(server, victim):
    for header in ({"typ": "JWT"}, {"alg": None}, {"alg": ["HS256"]}, {"alg": 256}):
        tok = sign(header, claims_for("root", "system"))
        attempt(server, bearer(tok), BAD_TOKEN)


def test_other_secret(server, victim):
    for secret in ("", "secret", "kalamdb", JWT_SECRET + "x", JWT_SECRET[:-1]):
        tok = forge("root", "system", secret=secret)
        attempt(server, bearer(tok), BAD_TOKEN)


def test_genuine_payload_resigned_header_swapped(server, victim):
    """Take a genuine token and change only the header to alg none (keeping the signature)."""
    tok = server.token()
    _, p, s = tok.split(".")
    attempt(server, bearer(b64url_json({"alg": "none"}) + "." + p + "." + s), BAD_TOKEN)


# ---- claims ----------------------------------------------------------------------------------------

def test_forged_token_with_right_secret_is_accepted_control(server, victim):
    """Control: our forging is correct (a token matching the stored user is accepted)."""
    r = post_sql_tok(server, "SELECT CURRENT_USER()", forge(victim, "user"))
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["rows"] == [[victim]]


def test_expired_beyond_leeway(server, victim):
    now = int(time.time())
    tok = forge("root", "system", iat=now - 7200, exp=now - 120)
    attempt(server, bearer(tok), "TOKEN_EXPIRED")


def test_expired_within_leeway_accepted(server, victim):
    now = int(time.time())
    tok = forge(victim, "user", iat=now - 7200, exp=now - 20)
    r = post_sql_tok(server, "SELECT CURRENT_USER()", tok)
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["rows"] == [[victim]]


def test_iat_in_future(server, victim):
    now = int(time.time())
    tok = forge("root", "system", iat=now + 3600, exp=now + 7200)
    attempt(server, bearer(tok), BAD_TOKEN)


@pytest.mark.parametrize("mutate", [
    lambda c: c.update(iss="evil"),
    lambda c: c.pop("iss"),
    lambda c: c.pop("sub"),
    lambda c: c.update(sub=""),
    lambda c: c.pop("exp"),
    lambda c: c.update(exp=str(c["exp"])),
    lambda c: c.update(exp=float(c["exp"]) + 0.5),
    lambda c: c.pop("iat"),
    lambda c: c.pop("role"),
    lambda c: c.pop("token_type"),
    lambda c: c.update(token_type="ACCESS"),
    lambda c: c.update(token_type="id"),
    lambda c: c.update(role="SYSTEM"),
    lambda c: c.update(role="admin"),
    lambda c: c.update(sub="ROOT"),
    lambda c: c.update(sub="root "),
    lambda c: c.update(sub="root\u0000x"),
    lambda c: c.update(exp=2 ** 63),
], ids=["iss", "no-iss", "no-sub", "empty-sub", "no-exp", "exp-str", "exp-float", "no-iat",
        "no-role", "no-type", "type-upper", "type-id", "role-upper", "role-alias", "sub-upper",
        "sub-space", "sub-nul", "exp-huge"])
def test_malformed_claims_signed_with_right_secret(server, victim, mutate, request):
    c = claims_for("root", "system")
    mutate(c)
    # Well-formed claims naming no such user, or root with another role, pass the token checks
    # and fail on the user; everything else fails as a bad token.
    user_checks = ("role-upper", "role-alias", "sub-upper", "sub-space", "sub-nul")
    code = WRONG_USER if request.node.callspec.id in user_checks else BAD_TOKEN
    attempt(server, bearer(sign({"alg": "HS256", "typ": "JWT"}, c)), code)


def test_refresh_token_as_access(server, victim):
    body = login_ok(server, "root", ROOT_PASSWORD)
    attempt(server, bearer(body["refresh_token"]), BAD_TOKEN)
    attempt(server, bearer(forge("root", "system", token_type="refresh")), BAD_TOKEN)


def test_role_forged_upward_with_right_secret(server, victim):
    for role in ("service", "dba", "system"):
        attempt(server, bearer(forge(victim, role)), WRONG_USER)


def test_role_forged_downward_with_right_secret(server, victim):
    """The claimed role must equal the stored role, in both directions."""
    attempt(server, bearer(forge("root", "user")), WRONG_USER)


def test_token_of_unknown_user(server, victim):
    attempt(server, bearer(forge("no_such_user_zz", "system")), WRONG_USER)


def test_token_of_deleted_user_genuine_and_forged(server, victim):
    name = unique("deltok")
    server.create_user(name, role="dba")
    tok = login_ok(server, name)["access_token"]
    assert post_sql_tok(server, "SELECT 1", tok).status_code == 200
    server.sql(f"DROP USER {name}")
    attempt(server, bearer(tok), WRONG_USER)
    attempt(server, bearer(forge(name, "dba")), WRONG_USER)


def test_token_after_role_change_up_and_down(server, victim):
    name = unique("rchg")
    server.create_user(name, role="dba")
    tok = login_ok(server, name)["access_token"]
    # used first, so the server has seen (and remembered) the token as valid
    r = post_sql_tok(server, "SELECT CURRENT_ROLE()", tok)
    assert r.status_code == 200 and r.json()["results"][0]["rows"] == [["dba"]], r.text
    server.sql(f"ALTER USER {name} SET ROLE user")
    # the old dba token must not keep dba powers
    attempt(server, bearer(tok), WRONG_USER)
    r = post_sql_tok(server, "SELECT CURRENT_USER(), CURRENT_ROLE()", forge(name, "user"))
    assert r.status_code == 200 and r.json()["results"][0]["rows"] == [[name, "user"]], r.text


def test_ten_kb_token(server, victim):
    c = claims_for("root", "system", pad="A" * 10000)
    tok = sign({"alg": "HS256", "typ": "JWT"}, c, secret="wrong")
    assert len(tok) > 10000
    attempt(server, bearer(tok), BAD_TOKEN)
    # and a 10 KB token signed with the right secret is not a way around anything either
    r = post_sql_tok(server, "SELECT 1", "x" * 10240)
    assert_sql_error(r, 401, BAD_TOKEN)


def test_huge_header_does_not_crash(server, victim):
    r = requests.post(server.base + "/v1/api/sql", json={"sql": "SELECT 1"},
                      headers={"Authorization": "Bearer " + "A" * 200_000})
    assert r.status_code == 431, r.status_code
    body = r.json()
    assert set(body) == {"error", "message"} and body["error"] == "HEADERS_TOO_LARGE", body
    assert requests.get(server.base + "/health").status_code == 200


def test_crlf_header_injection(server, victim):
    """Raw bytes: CR/LF smuggled into header values never authenticate and are never echoed."""
    tok = server.token()
    before = snapshot(server)
    body = json.dumps({"sql": ATTACK}).encode()
    variants = [
        # bare CR inside the Authorization value, then a fake header
        b"Authorization: Bearer garbage\rX-Injected: 1\r\n",
        # obsolete line folding: a garbage value continued on the next line
        b"Authorization: Bearer\r\n garbage\r\n",
        # bare LF splitting the value
        b"Authorization: Bearer garbage\nAuthorization: Bearer " + tok.encode() + b"\r\n",
        # NUL in the value
        b"Authorization: Bearer " + tok.encode() + b"\x00junk\r\n",
    ]
    for extra in variants:
        req = (b"POST /v1/api/sql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               + extra + b"Content-Length: " + str(len(body)).encode() + b"\r\n"
               + b"Connection: close\r\n\r\n" + body)
        raw = raw_http(server.port, req)
        status, headers, resp = parse_raw(raw)
        assert status in (0, 400, 401), (extra, raw[:400])
        assert not any(h.lower().startswith("x-injected") for h in headers), raw[:400]
    assert_unchanged(server, before)
    # server still healthy
    assert requests.get(server.base + "/health").status_code == 200


def test_login_echo_is_not_header_injection(server, victim):
    """An unknown login field with CRLF in its name is reported in a JSON body, never as a header."""
    name = "x\r\nSet-Cookie: kalamdb_auth=evil"
    r = requests.post(server.base + "/v1/api/auth/login",
                      data=json.dumps({"user": "root", "password": "p", name: 1}),
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert all("evil" not in c for c in r.raw.headers.getlist("Set-Cookie"))
    assert r.headers.get("Content-Type", "").startswith("application/json")
