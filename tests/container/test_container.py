"""The container image (docker/Dockerfile) and docker/docker-compose.yml, run with podman.

Run through scripts/container_test.sh, which builds the image first and exports KALAMDB_IMAGE
(and KALAMDB_IMAGE_REV, the git revision the image was built from). Containers use the host
network with a free port (KALAMDB_SERVER_PORT), so /health is reached over loopback as it is
meant to be; the compose test uses a bridge network and a published port instead.
"""
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("KALAMDB_IMAGE", "localhost/kalamdb:test")
PODMAN = ["podman", "--runtime", "runc"]
PASSWORD = "container-pass-1"
HEALTH_LIMIT_S = 30.0
SIZE_LIMIT_BYTES = 100 * 1000 * 1000


def podman(*args, check=True, timeout=180, env=None):
    r = subprocess.run(PODMAN + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, env=env)
    if check:
        assert r.returncode == 0, f"podman {' '.join(map(str, args))}: {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_health(port, started, limit=HEALTH_LIMIT_S):
    """Polls GET /health until it answers 200; returns the body and the seconds since `started`."""
    while True:
        try:
            r = requests.get(f"http://127.0.0.1:{port}/health", timeout=2)
            if r.status_code == 200:
                return r.json(), time.monotonic() - started
        except requests.ConnectionError:
            pass
        assert time.monotonic() - started < limit, f"no /health answer on port {port} within {limit} s"
        time.sleep(0.2)


def login(port, password, user="root"):
    return requests.post(f"http://127.0.0.1:{port}/v1/api/auth/login",
                         json={"user": user, "password": password}, timeout=10)


def sql(port, token, text):
    r = requests.post(f"http://127.0.0.1:{port}/v1/api/sql", json={"sql": text},
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)
    body = r.json()
    assert r.status_code == 200 and body["status"] == "success", f"{text!r} -> {r.status_code} {body}"
    return body


class Pod:
    """Containers and volumes made by one test, removed at its end."""

    def __init__(self):
        self.tag = uuid.uuid4().hex[:8]
        self.containers, self.volumes = [], []

    def volume(self):
        name = f"kalamdb-test-{self.tag}-{len(self.volumes)}"
        podman("volume", "create", name)
        self.volumes.append(name)
        return name

    def run(self, volume, env):
        """Starts a detached container on the host network; returns (name, port, start time)."""
        name = f"kalamdb-test-{self.tag}-{len(self.containers)}"
        port = free_port()
        args = ["run", "-d", "--name", name, "--network", "host", "-v", f"{volume}:/data",
                "-e", f"KALAMDB_SERVER_PORT={port}"]
        for k, v in env.items():
            args += ["-e", f"{k}={v}"]
        started = time.monotonic()
        podman(*args, IMAGE)
        self.containers.append(name)
        return name, port, started

    def logs(self, name):
        r = podman("logs", name)
        return r.stdout + r.stderr

    def cleanup(self):
        for c in self.containers:
            podman("rm", "-f", "-v", "-t", "10", c, check=False)
        for v in self.volumes:
            podman("volume", "rm", "-f", v, check=False)


@pytest.fixture
def pod():
    p = Pod()
    yield p
    p.cleanup()


def test_image_size_under_limit():
    size = int(podman("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout.strip())
    print(f"image size: {size} bytes ({size / 1e6:.1f} MB)")
    assert size < SIZE_LIMIT_BYTES


def test_image_config():
    image = json.loads(podman("image", "inspect", IMAGE).stdout)[0]
    cfg = image["Config"]
    assert cfg["User"] == "kalam"
    assert cfg["Entrypoint"] == ["/usr/local/bin/kalamdb-server"]
    assert cfg["Volumes"] == {"/data": {}}
    assert cfg["ExposedPorts"] == {"8080/tcp": {}}
    assert "KALAMDB_DATA_DIR=/data" in cfg["Env"]
    assert "KALAMDB_SERVER_HOST=0.0.0.0" in cfg["Env"]
    # The HEALTHCHECK survives only in the docker image format.
    hc = image["Healthcheck"]
    assert hc["Test"][:3] == ["CMD", "bash", "-c"]
    assert (hc["Interval"], hc["Timeout"], hc["StartPeriod"], hc["Retries"]) == (10e9, 5e9, 30e9, 3)
    assert "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" in cfg["Env"]


def test_version_reports_build_revision():
    out = podman("run", "--rm", IMAGE, "--version").stdout
    m = re.fullmatch(r"kalamdb-server \d+\.\d+\.\d+ \(rev ([0-9a-f]{12}), built \S+Z\)\n", out)
    assert m, out
    if os.environ.get("KALAMDB_IMAGE_REV"):
        assert m.group(1) == os.environ["KALAMDB_IMAGE_REV"]


def test_starts_healthy_within_30s_as_non_root(pod):
    name, port, started = pod.run(pod.volume(), {"KALAMDB_ROOT_PASSWORD": PASSWORD})
    body, elapsed = wait_health(port, started)
    print(f"/health answered {elapsed:.2f} s after podman run")
    assert body["status"] == "healthy" and body["api_version"] == "v1"
    # The image's HEALTHCHECK, run by podman inside the container.
    r = podman("healthcheck", "run", name, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert podman("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip() == "healthy"
    # Runs as the image's system user, which owns the data directory.
    assert podman("exec", name, "id", "-un").stdout.strip() == "kalam"
    assert podman("exec", name, "id", "-u").stdout.strip() != "0"
    assert podman("exec", name, "stat", "-c", "%U", "/data").stdout.strip() == "kalam"
    logs = pod.logs(name)
    assert f"listening on http://0.0.0.0:{port} — data in /data" in logs


def test_serves_the_admin_console(pod):
    """The image carries the console (its ui stage) and the server finds it at
    /usr/local/share/kalamdb/ui without any setting."""
    name, port, started = pod.run(pod.volume(), {"KALAMDB_ROOT_PASSWORD": PASSWORD})
    wait_health(port, started)
    r = requests.get(f"http://127.0.0.1:{port}/ui/", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assets = re.findall(r'(/ui/assets/app-[A-Za-z0-9]+\.(?:js|css))', r.text)
    assert sorted(a.rsplit(".", 1)[1] for a in assets) == ["css", "js"], r.text
    for a in assets:
        asset = requests.get(f"http://127.0.0.1:{port}{a}", timeout=10)
        assert asset.status_code == 200 and len(asset.content) > 1000, (a, asset.status_code)
    # A client-side route falls back to index.html (its CSP nonce is fresh in every answer).
    route = requests.get(f"http://127.0.0.1:{port}/ui/sql", timeout=10)
    assert route.status_code == 200
    assert re.findall(r'(/ui/assets/app-[A-Za-z0-9]+\.(?:js|css))', route.text) == assets
    assert podman("exec", name, "test", "-f", "/usr/local/share/kalamdb/ui/index.html").returncode == 0


def test_healthcheck_fails_when_server_is_not_answering(pod):
    """The HEALTHCHECK must be able to fail: pointed at a port nothing listens on, it does."""
    name, port, started = pod.run(pod.volume(), {"KALAMDB_ROOT_PASSWORD": PASSWORD})
    wait_health(port, started)
    check = json.loads(podman("image", "inspect", IMAGE).stdout)[0]["Healthcheck"]["Test"]
    assert check[0] == "CMD"
    ok = podman("exec", name, *check[1:], check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = podman("exec", "-e", f"KALAMDB_SERVER_PORT={free_port()}", name, *check[1:], check=False)
    assert bad.returncode != 0


def test_root_password_env_override(pod):
    name, port, started = pod.run(pod.volume(), {"KALAMDB_ROOT_PASSWORD": PASSWORD})
    wait_health(port, started)
    ok = login(port, PASSWORD)
    assert ok.status_code == 200, ok.text
    assert ok.json()["access_token"]
    bad = login(port, "not-the-password")
    assert bad.status_code == 401
    assert bad.json() == {"error": "unauthorized", "message": "Invalid credentials"}
    assert "Generated password" not in pod.logs(name)


def test_generated_root_password_is_in_the_logs(pod):
    name, port, started = pod.run(pod.volume(), {})
    wait_health(port, started)
    m = re.search(r"Generated password for user 'root': (\S+)\n", pod.logs(name))
    assert m, pod.logs(name)
    r = login(port, m.group(1))
    assert r.status_code == 200, r.text


def test_log_level_env_override(pod):
    name, port, started = pod.run(pod.volume(),
                                  {"KALAMDB_ROOT_PASSWORD": PASSWORD, "KALAMDB_LOG_LEVEL": "warn"})
    wait_health(port, started)
    assert login(port, PASSWORD).status_code == 200
    logs = pod.logs(name)
    assert "[info]" not in logs, logs
    assert "listening on" not in logs, logs


def test_bad_env_value_stops_with_clear_error(pod):
    name = f"kalamdb-test-{pod.tag}-bad"
    r = podman("run", "--name", name, "--network", "host", "-e", "KALAMDB_LOG_LEVEL=loud", IMAGE,
               check=False)
    pod.containers.append(name)
    assert r.returncode == 1
    assert "KALAMDB_LOG_LEVEL" in r.stderr, r.stderr


def test_data_survives_new_container_on_same_volume(pod):
    volume = pod.volume()
    env = {"KALAMDB_ROOT_PASSWORD": PASSWORD}
    first, port, started = pod.run(volume, env)
    wait_health(port, started)
    token = login(port, PASSWORD).json()["access_token"]
    sql(port, token, "CREATE NAMESPACE box")
    sql(port, token, "CREATE SHARED TABLE box.items (id BIGINT PRIMARY KEY, name TEXT)")
    sql(port, token, "INSERT INTO box.items (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three')")
    sql(port, token, "DELETE FROM box.items WHERE id = 2")
    podman("stop", "-t", "30", first)
    podman("rm", first)

    # A new container on the same volume, without the password variable: root keeps it.
    second, port, started = pod.run(volume, {})
    wait_health(port, started)
    r = login(port, PASSWORD)
    assert r.status_code == 200, r.text
    rows = sql(port, r.json()["access_token"],
               "SELECT id, name FROM box.items ORDER BY id")["results"][0]["rows"]
    assert rows == [["1", "one"], ["3", "three"]]  # BIGINT travels as a JSON string
    assert "Generated password" not in pod.logs(second)


def test_compose_file_up_healthy_and_down(tmp_path):
    compose = [str(Path(sys.executable).parent / "podman-compose"), "--podman-args=--runtime runc",
               "-f", str(ROOT / "docker/docker-compose.yml"), "-p", f"kalamdbtest{uuid.uuid4().hex[:6]}"]
    port = free_port()
    env = dict(os.environ, KALAMDB_HOST_PORT=str(port), KALAMDB_ROOT_PASSWORD=PASSWORD,
               KALAMDB_IMAGE=IMAGE)
    cfg = subprocess.run(compose + ["config"], capture_output=True, text=True, env=env, timeout=60)
    assert cfg.returncode == 0, cfg.stdout + cfg.stderr
    assert "kalamdb-data:/data" in cfg.stdout and f"{port}:8080" in cfg.stdout, cfg.stdout

    assert f"image: {IMAGE}" in cfg.stdout, cfg.stdout  # the image built by the script
    try:
        started = time.monotonic()
        up = subprocess.run(compose + ["up", "-d"], capture_output=True, text=True, env=env,
                            timeout=300)
        assert up.returncode == 0, up.stdout + up.stderr
        name = podman("ps", "--filter", f"label=io.podman.compose.project={compose[-1]}",
                      "--format", "{{.Names}}").stdout.split()
        assert len(name) == 1, name
        name = name[0]
        # Through the published port (a bridge network: not loopback, so /health is refused and
        # the login route shows the server is up).
        while True:
            try:
                r = login(port, PASSWORD)
                if r.status_code != 503:  # 503 UNAVAILABLE: still starting
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() - started < HEALTH_LIMIT_S, "compose service not up"
            time.sleep(0.2)
        print(f"compose service answered login {time.monotonic() - started:.2f} s after up -d")
        assert r.status_code == 200, r.text
        assert requests.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 403
        hc = podman("healthcheck", "run", name, check=False)
        assert hc.returncode == 0, hc.stdout + hc.stderr
        assert podman("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip() == "healthy"
        assert podman("inspect", "--format", "{{.HostConfig.RestartPolicy.Name}}",
                      name).stdout.strip() == "unless-stopped"
    finally:
        down = subprocess.run(compose + ["down", "-v"], capture_output=True, text=True, env=env,
                              timeout=120)
    assert down.returncode == 0, down.stdout + down.stderr
    left = podman("ps", "-a", "--filter", f"label=io.podman.compose.project={compose[-1]}",
                  "--format", "{{.Names}}").stdout.split()
    assert left == []
    vols = podman("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert f"{compose[-1]}_kalamdb-data" not in vols
