"""Black-box harness: starts the real kalamdb-server on a free port with a temporary data dir and
talks to it over HTTP, the way any client would."""
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

from helpers import assert_sql_error_envelope

ROOT_PASSWORD = "root-test-password"
REPO = Path(__file__).resolve().parents[2]


def server_binary() -> str:
    env = os.environ.get("KALAMDB_SERVER_BIN")
    if env:
        return env
    for preset in ("release", "debug"):
        p = REPO / "build" / preset / "src" / "server" / "kalamdb-server"
        if p.exists():
            return str(p)
    raise RuntimeError("kalamdb-server not built; run scripts/build.sh or set KALAMDB_SERVER_BIN")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Every test logs in from 127.0.0.1, far above the default per-IP auth rate limit; tests of the
# limit itself pass their own configuration (config_toml="" for the built-in defaults).
DEFAULT_TEST_CONFIG = "[rate_limit]\nmax_auth_requests_per_ip_per_sec = 100000\n"


class Server:
    """One kalamdb-server process. `data_dir` survives restarts of the same object."""

    def __init__(self, data_dir, port=None, env=None, config_toml=DEFAULT_TEST_CONFIG):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.extra_env = env or {}
        self.config_toml = config_toml
        self.proc = None
        self.log_path = self.data_dir.parent / f"server-{self.port}.log"
        self.base = f"http://127.0.0.1:{self.port}"
        self.http = requests.Session()
        self._tokens = {}

    def start(self, timeout=30.0):
        env = dict(os.environ)
        env.update({
            "KALAMDB_SERVER_PORT": str(self.port),
            "KALAMDB_SERVER_HOST": "127.0.0.1",
            "KALAMDB_DATA_DIR": str(self.data_dir),
            "KALAMDB_ROOT_PASSWORD": ROOT_PASSWORD,
            "KALAMDB_LOG_LEVEL": "warn",
        })
        env.update(self.extra_env)
        args = [server_binary()]
        if self.config_toml:
            cfg = self.data_dir.parent / f"server-{self.port}.toml"
            cfg.write_text(self.config_toml)
            args.append(str(cfg))
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=str(self.data_dir.parent))
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log()}")
            try:
                r = requests.get(self.base + "/health", timeout=0.5)
                if r.status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not become healthy: " + self.log())

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._tokens.clear()
        self.http = requests.Session()
        return self.proc.returncode if self.proc else None

    def kill9(self):
        return self.stop(sig=signal.SIGKILL)

    # ---- HTTP helpers ------------------------------------------------------------------------

    def login(self, user="root", password=ROOT_PASSWORD):
        r = self.http.post(self.base + "/v1/api/auth/login", json={"user": user, "password": password})
        assert r.status_code == 200, r.text
        return r.json()

    def token(self, user="root", password=ROOT_PASSWORD):
        if user not in self._tokens:
            self._tokens[user] = self.login(user, password)["access_token"]
        return self._tokens[user]

    def sql_raw(self, sql=None, params=None, namespace_id=None, user="root", password=ROOT_PASSWORD,
                body=None, headers=None):
        """POSTs to /v1/api/sql and returns the requests.Response."""
        h = {"Authorization": f"Bearer {self.token(user, password)}"}
        if headers is not None:
            h = headers
        if body is None:
            payload = {"sql": sql}
            if params is not None:
                payload["params"] = params
            if namespace_id is not None:
                payload["namespace_id"] = namespace_id
            return self.http.post(self.base + "/v1/api/sql", json=payload, headers=h)
        return self.http.post(self.base + "/v1/api/sql", data=body, headers=h)

    def sql(self, sql, params=None, namespace_id=None, user="root", password=ROOT_PASSWORD):
        """Runs SQL that must succeed; returns the parsed body."""
        r = self.sql_raw(sql, params, namespace_id, user, password)
        body = r.json()
        assert r.status_code == 200 and body["status"] == "success", f"{sql!r} → {r.status_code} {body}"
        return body

    def sql_error(self, sql, params=None, namespace_id=None, user="root", password=ROOT_PASSWORD,
                  status=400):
        """Runs SQL that must fail with HTTP `status`; returns the `error` object."""
        r = self.sql_raw(sql, params, namespace_id, user, password)
        try:
            return assert_sql_error_envelope(r, status)
        except AssertionError as e:
            raise AssertionError(f"{sql!r} → {e}") from None

    def rows(self, sql, params=None, **kw):
        """Rows of the first result of a query (arrays in schema order)."""
        return self.sql(sql, params, **kw)["results"][0].get("rows", [])

    def create_user(self, name, password="password123", role="user"):
        self.sql(f"CREATE USER {name} WITH PASSWORD '{password}' ROLE {role}")
        return name


def serve(tmp_path_factory, **kwargs):
    """The body of a module-scoped `server` fixture with its own settings (Server's keyword
    arguments, e.g. config_toml): `yield from serve(tmp_path_factory, config_toml=…)`."""
    s = Server(tmp_path_factory.mktemp("kdb") / "data", **kwargs).start()
    yield s
    s.stop()
