"""Server lifecycle: configuration errors, port conflicts, startup line, ordered shutdown."""
import os
import socket
import subprocess

import pytest

from kalam_harness import ROOT_PASSWORD, Server, free_port, server_binary


def run_server(args, env_extra, cwd, timeout=20):
    env = dict(os.environ)
    env.update(env_extra)
    return subprocess.run([server_binary(), *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def test_version_flag_prints_version_and_revision(tmp_path):
    r = run_server(["--version"], {}, tmp_path)
    assert r.returncode == 0
    assert r.stdout.startswith("kalamdb-server 0.1.0 (rev ")


def test_invalid_config_file_is_one_clear_line_and_nonzero_exit_before_data(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[limits]\nmax_query_limit = 0\n")
    data = tmp_path / "data"
    r = run_server([str(cfg)], {"KALAMDB_DATA_DIR": str(data)}, tmp_path)
    assert r.returncode != 0
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert "limits.max_query_limit" in lines[0] and "Invalid configuration" in lines[0]
    assert not data.exists(), "no data may be touched when the configuration is invalid"


def test_unknown_config_key_is_rejected(tmp_path):
    cfg = tmp_path / "typo.toml"
    cfg.write_text("[server]\nprot = 9000\n")
    r = run_server([str(cfg)], {"KALAMDB_DATA_DIR": str(tmp_path / "d")}, tmp_path)
    assert r.returncode != 0
    assert "server.prot" in r.stderr


def test_bad_port_env_is_rejected(tmp_path):
    r = run_server([], {"KALAMDB_SERVER_PORT": "70000", "KALAMDB_DATA_DIR": str(tmp_path / "d")},
                   tmp_path)
    assert r.returncode != 0
    assert "KALAMDB_SERVER_PORT" in r.stderr


def test_port_in_use_fails_before_touching_data(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        data = tmp_path / "data"
        r = run_server([], {"KALAMDB_SERVER_PORT": str(port), "KALAMDB_DATA_DIR": str(data),
                            "KALAMDB_ROOT_PASSWORD": ROOT_PASSWORD}, tmp_path)
    assert r.returncode != 0
    assert f"Cannot bind 127.0.0.1:{port}" in r.stderr
    assert not data.exists()


def test_startup_line_shows_version_and_revision_and_sigterm_exits_cleanly(tmp_path):
    s = Server(tmp_path / "data", env={"KALAMDB_LOG_LEVEL": "info"}).start()
    s.sql("CREATE NAMESPACE life")
    code = s.stop()
    assert code == 0
    log = s.log()
    assert "kalamdb-server 0.1.0 (rev " in log
    assert "Shutdown complete" in log


def test_generated_root_password_is_printed_once(tmp_path):
    port = free_port()
    data = tmp_path / "data"
    env = dict(os.environ)
    env.pop("KALAMDB_ROOT_PASSWORD", None)
    env.update({"KALAMDB_SERVER_PORT": str(port), "KALAMDB_DATA_DIR": str(data)})
    out = tmp_path / "out.txt"

    def start():
        f = open(out, "w")
        p = subprocess.Popen([server_binary()], env=env, stdout=f, stderr=subprocess.STDOUT,
                             cwd=tmp_path)
        import time
        import requests
        deadline = time.time() + 30
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/health", timeout=0.3).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert p.poll() is None, f"the server exited: {out.read_text()}"
            assert time.time() < deadline, "the server did not become ready within 30 s"
            time.sleep(0.05)
        return p, f

    p, f = start()
    p.terminate()
    p.wait(timeout=20)
    f.close()
    first = out.read_text()
    assert "Generated password for user 'root': " in first
    password = first.split("Generated password for user 'root': ")[1].split()[0]
    p, f = start()
    try:
        import requests
        r = requests.post(f"http://127.0.0.1:{port}/v1/api/auth/login",
                          json={"user": "root", "password": password})
        assert r.status_code == 200, r.text
    finally:
        p.terminate()
        p.wait(timeout=20)
        f.close()
    assert "Generated password" not in out.read_text()


def test_sigterm_finishes_in_flight_requests(tmp_path):
    import threading
    import time

    s = Server(tmp_path / "data").start()
    token = s.token()
    result = {}
    slow = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 6000000) "
            "SELECT count(*) FROM c")

    def run():
        import requests
        result["r"] = requests.post(s.base + "/v1/api/sql", json={"sql": slow},
                                    headers={"Authorization": f"Bearer {token}"}, timeout=30)

    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.3)
    assert s.proc.poll() is None
    assert "r" not in result, "the query must still be running when SIGTERM arrives"
    code = s.stop()  # SIGTERM while the query runs
    t.join()
    assert code == 0
    r = result["r"]
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["rows"] == [["6000000"]]
