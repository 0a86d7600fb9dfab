"""Cold tier on S3: a storage of type 's3' against a local S3-compatible server (moto), flushed,
read back (also after a restart), checked, and its objects listed by an independent client."""
import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import io
import pytest
import requests

from kalam_harness import Server

CREDS = {"access_key_id": "kalamtest", "secret_access_key": "kalamsecret"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    moto = Path(sys.executable).parent / "moto_server"
    assert moto.exists(), f"moto_server not found next to {sys.executable}: run scripts/setup.sh"
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")
    proc = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=log,
                            stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            requests.get(endpoint, timeout=0.5)
            break
        except requests.RequestException:
            time.sleep(0.1)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=CREDS["access_key_id"],
                          aws_secret_access_key=CREDS["secret_access_key"])
    client.create_bucket(Bucket="kalam-cold")
    yield endpoint, client
    proc.terminate()
    proc.wait(timeout=10)


def wait_job(server, job_id):
    deadline = time.time() + 30
    while time.time() < deadline:
        rows = server.rows(f"SELECT status, message FROM system.jobs WHERE job_id = '{job_id}'")
        if rows and rows[0][0] not in ("queued", "running"):
            return rows[0]
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_s3_storage_flush_and_read_back(s3, tmp_path):
    endpoint, client = s3
    server = Server(tmp_path / "data").start()
    try:
        server.sql(f"CREATE STORAGE s3cold TYPE 's3' BUCKET 'kalam-cold' REGION 'us-east-1' "
                   f"ENDPOINT '{endpoint}' BASE_DIRECTORY 's3://kalam-cold/prefix' "
                   f"CREDENTIALS '{json.dumps(CREDS)}'")
        [check] = server.rows("STORAGE CHECK s3cold EXTENDED")
        assert check[:6] == ["s3cold", "healthy", True, True, True, True], check
        assert check[7:10] == [None, None, None], check  # no capacity for an object store
        assert server.rows("SELECT storage_type, base_directory FROM system.storages "
                           "WHERE storage_id = 's3cold'") == [["s3", "s3://kalam-cold/prefix"]]
        server.create_user("sara", "password123")
        server.sql("CREATE NAMESPACE cloud")
        server.sql("CREATE USER TABLE cloud.msgs (id INT PRIMARY KEY, body TEXT) "
                   "WITH (STORAGE_ID = 's3cold')")
        server.sql("INSERT INTO cloud.msgs VALUES " + ", ".join(f"({i}, 'm{i}')" for i in range(100)),
                   user="sara", password="password123")
        msg = server.sql("STORAGE FLUSH TABLE cloud.msgs")["results"][0]["message"]
        job = re.search(r"Job ID: (FL-\d+)", msg).group(1)
        status, message = wait_job(server, job)
        assert status == "completed", message
        keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket="kalam-cold")["Contents"])
        assert keys == ["prefix/cloud/msgs/sara/batch-1.parquet",
                        "prefix/cloud/msgs/sara/manifest.json"]
        body = client.get_object(Bucket="kalam-cold",
                                 Key="prefix/cloud/msgs/sara/batch-1.parquet")["Body"].read()
        table = pq.read_table(io.BytesIO(body))
        assert table.num_rows == 100 and table.column("body").to_pylist()[:2] == ["m0", "m1"]
        read = lambda: server.rows("SELECT count(*), min(body), max(id) FROM cloud.msgs",
                                   user="sara", password="password123")
        assert read() == [["100", "m0", "99"]]
        server.sql("UPDATE cloud.msgs SET body = 'changed' WHERE id = 5", user="sara",
                   password="password123")
        server.stop()  # graceful: flushes the update as a second segment
        server.start()
        assert read() == [["100", "changed", "99"]]
        keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket="kalam-cold")["Contents"])
        assert "prefix/cloud/msgs/sara/batch-2.parquet" in keys
    finally:
        server.stop()


def test_s3_storage_with_wrong_credentials_fails_check_cleanly(s3, tmp_path):
    endpoint, _ = s3
    server = Server(tmp_path / "data").start()
    try:
        bad = {"access_key_id": "kalamtest", "secret_access_key": "wrong"}
        server.sql(f"CREATE STORAGE nobucket TYPE 's3' BUCKET 'does-not-exist' REGION 'us-east-1' "
                   f"ENDPOINT '{endpoint}' CREDENTIALS '{json.dumps(bad)}'")
        row = server.rows("STORAGE CHECK nobucket")[0]
        assert row[:6] == ["nobucket", "unreachable", False, False, False, False], row
        assert row[9].startswith("storage check failed at write ("), row
        masked = server.rows("SELECT * FROM system.storages WHERE storage_id = 'nobucket'")
        assert "wrong" not in json.dumps(masked)
    finally:
        server.stop()
