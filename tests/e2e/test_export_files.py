"""User data export with FILE attachments (docs/export.md, "FILE attachments"): each user's ZIP
holds exactly the files their current USER-table rows refer to, byte-exact, as
`<ns>/<table>/files/<sub>/<stored_name>`, described in README.json; replaced files, files of
deleted rows, SHARED tables and other users' files are not exported, and a FileRef forged to name
another user's file is listed as missing instead of leaking it."""
import hashlib
import json
import os

import pytest
import requests

from helpers import stored_name
from test_export import export_of, flush
from kalam_harness import serve

PW = "password123"
NS = "xf"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve(tmp_path_factory, config_toml=(
        "[rate_limit]\nmax_auth_requests_per_ip_per_sec = 100000\n"))


def upload(server, sql, files, user):
    """A multipart SQL request as `user`: `files` maps part name → (filename, bytes, mime)."""
    parts = [("sql", (None, sql))]
    for name, (filename, data, mime) in files.items():
        parts.append((f"file:{name}", (filename, data, mime)))
    token = server.token(user, PW) if user != "root" else server.token(user)
    r = requests.post(server.base + "/v1/api/sql", files=parts,
                      headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["status"] == "success", (r.status_code, r.text)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def rand(tag):
    return tag.encode() + os.urandom(3000)


@pytest.fixture(scope="module")
def data(server):
    for u in ("alice", "bob", "carol"):
        server.create_user(u, PW)
    server.sql(f"CREATE NAMESPACE {NS}")
    server.sql(f"CREATE USER TABLE {NS}.docs (id INT PRIMARY KEY, doc FILE, thumb FILE)")
    server.sql(f"CREATE SHARED TABLE {NS}.pub (id INT PRIMARY KEY, doc FILE)")
    server.sql(f"CREATE USER TABLE {NS}.plain (id INT PRIMARY KEY, v TEXT)")
    b = {k: rand(k) for k in ("a1", "apng", "a2old", "a2new", "a3", "a7", "b1", "b2", "shared")}
    upload(server, f"INSERT INTO {NS}.pub VALUES (1, FILE('s'))",
           {"s": ("shared.bin", b["shared"], "application/octet-stream")}, "root")
    upload(server, f"INSERT INTO {NS}.docs VALUES (1, FILE('d'), FILE('t'))",
           {"d": ("Report Q3.pdf", b["a1"], "application/pdf"),
            "t": ("thumb.png", b["apng"], "image/png")}, "alice")
    upload(server, f"INSERT INTO {NS}.docs (id, doc) VALUES (2, FILE('d'))",
           {"d": ("old.txt", b["a2old"], "text/plain")}, "alice")
    upload(server, f"UPDATE {NS}.docs SET doc = FILE('d') WHERE id = 2",
           {"d": ("new.txt", b["a2new"], "text/plain")}, "alice")
    upload(server, f"INSERT INTO {NS}.docs (id, doc) VALUES (3, FILE('d'))",
           {"d": ("gone.txt", b["a3"], "text/plain")}, "alice")
    server.sql(f"DELETE FROM {NS}.docs WHERE id = 3", user="alice", password=PW)
    server.sql(f"INSERT INTO {NS}.docs VALUES (4, NULL, '{{\"k\": 1}}')", user="alice", password=PW)
    server.sql(f"INSERT INTO {NS}.plain VALUES (1, 'alice-plain')", user="alice", password=PW)
    upload(server, f"INSERT INTO {NS}.docs (id, doc) VALUES (1, FILE('d'))",
           {"d": ("bob.txt", b["b1"], "text/plain")}, "bob")
    upload(server, f"INSERT INTO {NS}.docs (id, thumb) VALUES (2, FILE('t'))",
           {"t": ("b2.bin", b["b2"], "application/octet-stream")}, "bob")
    flush(server, f"{NS}.docs")  # rows 1-4 of alice and both of bob: cold; the rest hot
    rows = lambda sql, u: server.rows(sql, user=u, password=PW)
    bob_ref = json.loads(rows(f"SELECT doc FROM {NS}.docs WHERE id = 1", "bob")[0][0])
    # alice forges FileRefs: bob's, verbatim, and one whose name tries to climb out.
    forged = dict(bob_ref)
    forged["name"] = "../../bob/f0001/" + stored_name(bob_ref)
    for i, ref in ((5, bob_ref), (6, forged)):
        server.sql(f"INSERT INTO {NS}.docs (id, doc) VALUES ({i}, '{json.dumps(ref)}')",
                   user="alice", password=PW)
    # A file whose bytes changed in storage after the upload: exported, flagged as damaged.
    upload(server, f"INSERT INTO {NS}.docs (id, doc) VALUES (7, FILE('d'))",
           {"d": ("tamper.txt", b["a7"], "text/plain")}, "alice")
    ref7 = json.loads(rows(f"SELECT doc FROM {NS}.docs WHERE id = 7", "alice")[0][0])
    path7 = server.data_dir / "storage" / NS / "docs" / "alice" / ref7["sub"] / stored_name(ref7)
    assert path7.read_bytes() == b["a7"]
    path7.write_bytes(b"tampered")
    return b, bob_ref, forged


def refs(server, user):
    rows = server.rows(f"SELECT id, doc, thumb FROM {NS}.docs ORDER BY id", user=user, password=PW)
    out = {}
    for id_, doc, thumb in rows:
        for col, v in (("doc", doc), ("thumb", thumb)):
            if v is not None:
                out[(id_, col)] = json.loads(v)
    return out


def path_of(ref):
    return f"{NS}/docs/files/{ref['sub']}/{stored_name(ref)}"


def entry(col, ref, data, status="ok", **extra):
    e = {"column": col, "id": ref["id"], "path": path_of(ref), "name": ref["name"],
         "mime": ref["mime"], "size": len(data), "sha256": sha(data), "status": status}
    e.update(extra)
    return e


def all_bytes(z):
    return b"".join(z.read(n) for n in z.namelist())


def readme_table(z, table):
    readme = json.loads(z.read("README.json"))
    return {t["table"]: t for t in readme["tables"] if t["namespace"] == NS}[table]


def test_alice_gets_exactly_her_current_files(server, data):
    b, bob_ref, forged = data
    r = refs(server, "alice")
    row, export_id, z = export_of(server, "alice")
    files = {path_of(r[(1, "doc")]): b["a1"], path_of(r[(1, "thumb")]): b["apng"],
             path_of(r[(2, "doc")]): b["a2new"], path_of(r[(7, "doc")]): b"tampered"}
    assert set(z.namelist()) == {"README.json", f"{NS}/docs.parquet", f"{NS}/docs.json",
                                 f"{NS}/plain.parquet", f"{NS}/plain.json"} | set(files)
    for path, content in files.items():
        assert z.read(path) == content, path
    docs = readme_table(z, "docs")
    assert docs["row_count"] == 6  # 1, 2, 4, 5, 6, 7
    assert docs["files"] == [f"{NS}/docs.parquet", f"{NS}/docs.json"]
    assert docs["file_columns"] == ["doc", "thumb"]
    assert docs["attachments"] == [
        entry("doc", r[(1, "doc")], b["a1"]),
        entry("thumb", r[(1, "thumb")], b["apng"]),
        entry("doc", r[(2, "doc")], b["a2new"]),
        entry("doc", r[(7, "doc")], b"tampered", status="damaged",
              expected_size=len(b["a7"]), expected_sha256=sha(b["a7"])),
    ]
    assert [e["mime"] for e in docs["attachments"]] == ["application/pdf", "image/png",
                                                        "text/plain", "text/plain"]
    missing = lambda ref: {
        "column": "doc", "id": ref["id"], "sub": ref["sub"], "name": ref["name"],
        "reason": "not_found",
        "message": f"No file '{ref['sub']}/{stored_name(ref)}' in this user's storage of the table"}
    assert docs["missing_attachments"] == [missing(bob_ref), missing(forged)]
    # Tables without FILE columns keep the plain layout.
    plain = readme_table(z, "plain")
    assert "file_columns" not in plain and "attachments" not in plain
    # The JSON rows keep the FileRef text and name the file's place in the archive.
    rows = json.loads(z.read(f"{NS}/docs.json"))
    assert [(x["id"], x["_files"]) for x in rows] == [
        (1, {"doc": path_of(r[(1, "doc")]), "thumb": path_of(r[(1, "thumb")])}),
        (2, {"doc": path_of(r[(2, "doc")])}), (4, {}), (5, {}), (6, {}),
        (7, {"doc": path_of(r[(7, "doc")])})]
    assert json.loads(rows[0]["doc"]) == r[(1, "doc")]
    assert json.loads(rows[3]["doc"]) == bob_ref and rows[2]["thumb"] == '{"k": 1}'
    # Nothing of bob's, of the replaced or deleted files or of the shared table.
    everything = all_bytes(z)
    for k in ("b1", "b2", "a2old", "a3", "shared", "a7"):
        assert b[k] not in everything, k
    assert row[3].startswith("Exported 7 row(s) from 2 of 2 table(s) (")


def test_bob_gets_only_his_files(server, data):
    b, _, _ = data
    r = refs(server, "bob")
    _, _, z = export_of(server, "bob")
    files = {path_of(r[(1, "doc")]): b["b1"], path_of(r[(2, "thumb")]): b["b2"]}
    assert set(z.namelist()) == {"README.json", f"{NS}/docs.parquet", f"{NS}/docs.json"} | set(files)
    for path, content in files.items():
        assert z.read(path) == content
    docs = readme_table(z, "docs")
    assert docs["attachments"] == [entry("doc", r[(1, "doc")], b["b1"]),
                                   entry("thumb", r[(2, "thumb")], b["b2"])]
    assert docs["missing_attachments"] == []
    everything = all_bytes(z)
    for k in ("a1", "apng", "a2old", "a2new", "a3", "a7", "shared"):
        assert b[k] not in everything, k
    assert b"tampered" not in everything


def test_user_without_rows_or_files(server, data):
    _, _, z = export_of(server, "carol")
    assert z.namelist() == ["README.json"]
    docs = readme_table(z, "docs")
    assert (docs["row_count"], docs["files"], docs["file_columns"], docs["attachments"],
            docs["missing_attachments"]) == (0, [], ["doc", "thumb"], [], [])


def test_rows_without_files_export_as_before(server, data):
    server.sql(f"CREATE USER TABLE {NS}.nofile (id INT PRIMARY KEY, f FILE)")
    server.sql(f"INSERT INTO {NS}.nofile VALUES (1, NULL), (2, '[1, 2]')", user="carol",
               password=PW)
    _, _, z = export_of(server, "carol")
    assert set(z.namelist()) == {"README.json", f"{NS}/nofile.parquet", f"{NS}/nofile.json"}
    rows = json.loads(z.read(f"{NS}/nofile.json"))
    assert [{k: v for k, v in r.items() if k != "_seq"} for r in rows] == [
        {"id": 1, "f": None, "_files": {}}, {"id": 2, "f": "[1, 2]", "_files": {}}]
    t = readme_table(z, "nofile")
    assert (t["row_count"], t["attachments"], t["missing_attachments"]) == (2, [], [])
