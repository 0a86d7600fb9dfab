"""Server set-up shared by the fault tests: one configuration, a namespace holding a SHARED and a
USER table with the same columns, users with their tokens, and one SQL request as the tests'
writers send it."""
import requests

from kalam_harness import ROOT_PASSWORD, Server

# Every test logs in and subscribes far more than the per-IP and per-user defaults allow; flush
# policies are checked often; a SELECT returns every row (the checks read whole tables).
# The fault suite tests exactness, not limits: a chaos subscriber with batch_size 1 sends a
# next_batch per batch and may exceed the default 50 client messages per second, and the server
# then drops the message with RATE_LIMIT_EXCEEDED (as documented), which would stall that
# subscriber. The limit itself is tested in tests/e2e.
CONFIG = """[rate_limit]
max_auth_requests_per_ip_per_sec = 100000
max_subscriptions_per_user = 100000
max_messages_per_sec = 100000
[storage]
flush_check_interval_ms = 100
[limits]
default_query_limit = 1000000
max_query_limit = 1000000
"""
PASSWORD = "fault-password-1"


def start_server(tmp_path, env=None):
    return Server(tmp_path / "data", config_toml=CONFIG, env=env).start()


def create_tables(s, ns, columns, shared_policy, user_policy, users):
    """Creates `ns`.s (SHARED) and `ns`.u (USER) with `columns` (SQL column list) and the given
    FLUSH_POLICYs, and `users` with PASSWORD. Returns {user: access token}, root included."""
    s.sql(f"CREATE NAMESPACE {ns}")
    s.sql(f"CREATE SHARED TABLE {ns}.s ({columns}) WITH (FLUSH_POLICY = '{shared_policy}')")
    s.sql(f"CREATE USER TABLE {ns}.u ({columns}) WITH (FLUSH_POLICY = '{user_policy}')")
    for user in users:
        s.create_user(user, PASSWORD)
    return {u: s.token(u, ROOT_PASSWORD if u == "root" else PASSWORD) for u in ("root", *users)}


def password_of(user):
    return ROOT_PASSWORD if user == "root" else PASSWORD


def post_sql(http, base, token, sql, timeout=30):
    """Sends one SQL request: (HTTP status, parsed body), or (None, reason) when no answer came
    (connection refused or cut, timeout, a body cut short)."""
    try:
        r = http.post(base + "/v1/api/sql", json={"sql": sql},
                      headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
        return r.status_code, r.json()
    except (requests.RequestException, ValueError) as e:
        return None, f"{type(e).__name__}: {e}"


def start_flushes(http, base, token, tables, stop, rng, errors, pause=(0.1, 0.6)):
    """Until `stop` is set or the server stops answering: STORAGE FLUSH TABLE of a random one of
    `tables` at random moments. Returns how many flushes started; errors go to `errors`."""
    started = 0
    while not stop.wait(rng.uniform(*pause)):
        table = rng.choice(tables)
        status, body = post_sql(http, base, token, f"STORAGE FLUSH TABLE {table}")
        if status is None:
            return started
        if status != 200:
            errors.append(f"STORAGE FLUSH TABLE {table} -> {status} {body}")
        elif "flush started" in body["results"][0]["message"]:
            started += 1
    return started
