"""[auth] password_hash_ops_limit / password_hash_memory_kib set the argon2id cost of stored
passwords: a server configured cheap verifies logins many times faster than one on the defaults,
and hashes made under one setting keep working after it changes. (Out-of-range values are refused
at start: tests/unit/server/config_test.cc.)"""
import statistics
import time

import requests

from kalam_harness import DEFAULT_TEST_CONFIG, Server

PW = "password123"


def config(ops, kib):
    return DEFAULT_TEST_CONFIG + f"[auth]\npassword_hash_ops_limit = {ops}\npassword_hash_memory_kib = {kib}\n"


def login_ms(server, user):
    times = []
    for _ in range(7):
        t = time.perf_counter()
        r = requests.post(server.base + "/v1/api/auth/login", json={"user": user, "password": PW})
        times.append(time.perf_counter() - t)
        assert r.status_code == 200, r.text
    return statistics.median(times) * 1000


def test_cost_setting_takes_effect_and_old_hashes_survive_a_change(tmp_path):
    data = tmp_path / "data"
    s = Server(data, config_toml=config(1, 8)).start()
    try:
        s.sql(f"CREATE USER cheap WITH PASSWORD '{PW}' ROLE user")
        cheap = login_ms(s, "cheap")
    finally:
        s.stop()
    s = Server(data, config_toml=DEFAULT_TEST_CONFIG).start()  # the defaults: 2 passes, 19 MiB
    try:
        s.sql(f"CREATE USER dear WITH PASSWORD '{PW}' ROLE user")
        dear = login_ms(s, "dear")
        # The cheap hash keeps its own parameters under the new setting.
        assert login_ms(s, "cheap") < dear / 3
    finally:
        s.stop()
    assert dear > 3 * cheap, (dear, cheap)

