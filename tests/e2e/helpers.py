"""Small helpers for the black-box e2e tests (the lead owns kalam_harness.py / conftest.py)."""
import itertools
import os
import re
import time

import requests

_names = itertools.count(1)

# "took" must be a JSON number rounded to at most 3 decimals.
TOOK_RE = re.compile(r'"took":(-?\d+(?:\.\d{1,3})?)(?=[,}])')

SQL_ERROR_KEYS = {"status", "results", "took", "error"}


def unique(prefix):
    """A process-unique identifier, for users/tables that must not collide inside a module."""
    return f"{prefix}{next(_names)}"


def post_sql(server, body, token=None, headers=None, path="/v1/api/sql"):
    """POST a JSON body to the SQL endpoint with an explicit token (or explicit headers)."""
    h = {"Authorization": f"Bearer {token or server.token()}"} if headers is None else headers
    return requests.post(server.base + path, json=body, headers=h, timeout=30)


def login_raw(server, body=None, data=None, headers=None):
    """POST /v1/api/auth/login with an arbitrary JSON body (or raw data, sent as JSON unless
    `headers` say otherwise); returns the response."""
    url = server.base + "/v1/api/auth/login"
    if data is not None:
        return requests.post(url, data=data,
                             headers=headers or {"Content-Type": "application/json"}, timeout=30)
    return requests.post(url, json=body, headers=headers, timeout=30)


def assert_sql_error_envelope(resp, status):
    """Asserts HTTP `status` and the exact SQL-endpoint error envelope (a JSON body with exactly
    status/results/took/error, a non-empty message); returns the error object."""
    try:
        body = resp.json()
    except ValueError:
        raise AssertionError(f"non-JSON body {resp.status_code}: {resp.text[:300]!r}")
    assert resp.status_code == status, (resp.status_code, body)
    assert set(body) == SQL_ERROR_KEYS, body
    assert body["status"] == "error" and body["results"] == [], body
    assert isinstance(body["took"], (int, float)) and not isinstance(body["took"], bool), body
    err = body["error"]
    assert isinstance(err, dict) and isinstance(err.get("message"), str) and err["message"], body
    return err


def assert_sql_error(resp, status, code, message=None, message_prefix=None):
    """Asserts the exact SQL-endpoint error (HTTP `status`, envelope, error `code`, and the
    message when given: whole or its start); returns the error object."""
    err = assert_sql_error_envelope(resp, status)
    body = resp.json()
    assert err["code"] == code, body
    if message is not None:
        assert err["message"] == message, body
    if message_prefix is not None:
        assert err["message"].startswith(message_prefix), body
    return err


def msg_result(message, row_count=0, as_user="root"):
    """The exact result entry of a DDL/command/DML statement."""
    return {"row_count": row_count, "message": message, "as_user": as_user}


def col(name, data_type, index, flags=None):
    d = {"name": name, "data_type": data_type, "index": index}
    if flags is not None:
        d["flags"] = flags
    return d


PK = ["pk", "nn", "uq"]


def schema_of(server, sql, **kw):
    return server.sql(sql, **kw)["results"][0]["schema"]


def seq_time_ms(seq):
    """Milliseconds since the Unix epoch encoded in a Snowflake `_seq`."""
    return (int(seq) >> 22) + 1704067200000


def wait_job(server, job_id, timeout=60.0):
    """Waits until system.jobs shows `job_id` finished; returns [status, message]."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = server.rows(f"SELECT status, message FROM system.jobs WHERE job_id = '{job_id}'")
        if rows and rows[0][0] not in ("queued", "running"):
            return rows[0]
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def flush(server, table):
    """STORAGE FLUSH TABLE `table` as root and waits for it to complete; returns (job id, message)."""
    msg = server.sql(f"STORAGE FLUSH TABLE {table}")["results"][0]["message"]
    m = re.fullmatch(rf"Storage flush started for table '{re.escape(table)}'\. Job ID: (FL-\d+)", msg)
    assert m, msg
    status, message = wait_job(server, m.group(1))
    assert status == "completed", message
    return m.group(1), message


def stored_name(ref):
    """The name a FILE column's bytes are stored under (FileRef::StoredName, docs/files.md): the
    file id, then the original name's stem lower-cased and reduced to [a-z0-9-] (at most 50
    characters), then its extension (or `bin`)."""
    base = os.path.basename(ref["name"].replace("\\", "/"))
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem:
        stem, ext = base, ""
    s = re.sub(r"[ _-]+", "-", stem.lower())
    s = re.sub(r"[^a-z0-9-]", "", s)
    s = re.sub(r"-+", "-", s).strip("-")[:50].rstrip("-")
    ext = ext.lower() if ext and len(ext) <= 10 and ext.isalnum() and ext.isascii() else "bin"
    return f"{ref['id']}-{s}.{ext}" if s else f"{ref['id']}.{ext}"
