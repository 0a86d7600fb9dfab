"""Vector search (docs/vectors.md): ALTER TABLE … CREATE/DROP INDEX, vector_search() and
ORDER BY <distance> LIMIT k, against exact answers; per-user scopes; writes seen at once; flush
and restart; recall@10 of the HNSW index on clustered 384-d vectors."""
import json
import math
import random

import duckdb
import pyarrow as pa
import pytest

from helpers import flush, msg_result
from kalam_harness import Server
from live_client import LiveClient
from test_cold_s3 import CREDS, s3  # noqa: F401 (s3: the moto fixture)


def cm(err):
    return {"code": err["code"], "message": err["message"]}


def vec(v):
    return "[" + ", ".join(repr(float(x)) for x in v) + "]"


def search(server, table, query, k=None, column="emb", **kw):
    """vector_search rows as (row_id, score rounded to 4 places)."""
    args = f"'{table}', '{column}', '{vec(query)}'" + ("" if k is None else f", {k}")
    rows = server.rows(f"SELECT row_id, score FROM vector_search({args})", **kw)
    return [(r[0], round(r[1], 4)) for r in rows]


def ids(server, table, query, k, **kw):
    return [r[0] for r in search(server, table, query, k, **kw)]


# Four 2-d points at known angles and lengths: a (1,0), b (1,1), c (0,2), d (-3,0).
POINTS = {1: [1.0, 0.0], 2: [1.0, 1.0], 3: [0.0, 2.0], 4: [-3.0, 0.0]}


@pytest.fixture
def docs(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.docs (id INT PRIMARY KEY, title TEXT, emb EMBEDDING(2))")
    server.sql(f"INSERT INTO {ns}.docs VALUES " + ", ".join(
        f"({i}, 't{i}', '{vec(v)}')" for i, v in POINTS.items()))
    return f"{ns}.docs"


# ---- DDL ------------------------------------------------------------------------------------------

def test_index_ddl_messages(server, ns, docs):
    def msg(sql):
        return server.sql(sql)["results"]

    assert msg(f"ALTER TABLE {docs} CREATE INDEX emb") == [
        msg_result(f"Vector index enabled on {docs}.emb (Cosine)")]
    assert msg(f"ALTER TABLE {docs} CREATE VECTOR INDEX emb USING l2") == [
        msg_result(f"Vector index enabled on {docs}.emb (L2)")]
    assert msg(f"ALTER TABLE {docs} CREATE INDEX EMB USING DOT") == [
        msg_result(f"Vector index enabled on {docs}.emb (Dot)")]
    assert msg(f"ALTER TABLE {docs} DROP VECTOR INDEX emb") == [
        msg_result(f"Vector index disabled on {docs}.emb")]
    assert msg(f"ALTER TABLE {docs} DROP INDEX emb") == [
        msg_result(f"Vector index disabled on {docs}.emb")]
    # A column called "index" is still a column.
    server.sql(f"ALTER TABLE {docs} ADD COLUMN vector TEXT")
    server.sql(f"ALTER TABLE {docs} DROP vector")


def test_index_ddl_errors(server, ns, docs):
    server.sql(f"CREATE STREAM TABLE {ns}.s (id BIGINT, emb EMBEDDING(2)) WITH (TTL_SECONDS = 60)")
    cases = [
        (f"ALTER TABLE {docs} CREATE INDEX nope", "SQL_EXECUTION_ERROR",
         "Statement 1 failed: Invalid operation: Column 'nope' does not exist"),
        (f"ALTER TABLE {docs} CREATE INDEX title", "SQL_EXECUTION_ERROR",
         "Statement 1 failed: Invalid operation: Column 'title' is not EMBEDDING"),
        (f"ALTER TABLE {docs} DROP INDEX title", "SQL_EXECUTION_ERROR",
         "Statement 1 failed: Invalid operation: Column 'title' is not EMBEDDING"),
        (f"ALTER TABLE {ns}.s CREATE INDEX emb", "SQL_EXECUTION_ERROR",
         "Statement 1 failed: Invalid operation: Vector indexing is only supported for USER/SHARED tables"),
        (f"ALTER TABLE {docs} ADD INDEX emb", "INVALID_SQL",
         f"ALTER TABLE … ADD INDEX is not supported: create a vector index with ALTER TABLE "
         f"{docs} CREATE INDEX <embedding column>"),
    ]
    for sql, code, message in cases:
        assert cm(server.sql_error(sql)) == {"code": code, "message": message}, sql
    err = server.sql_error(f"ALTER TABLE {docs} CREATE INDEX emb USING HAMMING")
    assert err["code"] == "INVALID_SQL" and "COSINE, L2 or DOT" in err["message"], err
    # Nothing changed: still schema version 1.
    assert server.rows(f"SELECT schema_version FROM system.schemas WHERE namespace_id = '{ns}' "
                       "AND table_name = 'docs' AND is_latest = true") == [[1]]


# ---- vector_search ---------------------------------------------------------------------------

def test_vector_search_argument_errors(server, ns, docs):
    server.sql(f"CREATE STREAM TABLE {ns}.s (id BIGINT, emb EMBEDDING(2)) WITH (TTL_SECONDS = 60)")
    cases = [
        (f"SELECT * FROM vector_search('{docs}', 'emb')",
         "Statement 1 failed: Invalid operation: vector_search(table_id, column_name, query_vector[, top_k]) expects 3 or 4 literal "
         "arguments"),
        ("SELECT * FROM vector_search('docs', 'emb', '[1, 0]')",
         "Statement 1 failed: Invalid operation: vector_search table_id must be in 'namespace.table' format, got 'docs'"),
        (f"SELECT * FROM vector_search('{docs}', 'emb', '[1, 0]', 0)",
         "Statement 1 failed: Invalid operation: vector_search top_k must be > 0"),
        (f"SELECT * FROM vector_search('{docs}', 'emb', '[]', 3)",
         "Statement 1 failed: Invalid operation: vector_search query_vector cannot be empty"),
        (f"SELECT * FROM vector_search('{ns}.s', 'emb', '[1, 0]')",
         "Statement 1 failed: Invalid operation: vector_search supports only user/shared tables, got Stream"),
        (f"SELECT * FROM vector_search('{docs}', 'title', '[1, 0]')",
         "Statement 1 failed: Invalid operation: vector_search column 'title' is not EMBEDDING"),
        (f"SELECT * FROM vector_search('{docs}', 'nope', '[1, 0]')",
         f"Statement 1 failed: Invalid operation: Column 'nope' does not exist in table '{docs}'"),
        (f"SELECT * FROM vector_search('{docs}', 'emb', '[1, 0, 0]')",
         f"Statement 1 failed: Invalid operation: Query vector has 3 dimensions but column 'emb' of table '{docs}' is EMBEDDING(2)"),
    ]
    for sql, message in cases:
        err = server.sql_error(sql)
        assert err["message"] == message, (sql, err)
    err = server.sql_error(f"SELECT * FROM vector_search('{ns}.nope', 'emb', '[1, 0]')")
    assert cm(err) == {"code": "TABLE_NOT_FOUND",
                      "message": f"Statement 1 failed: Not found: Table '{ns}.nope' does not exist"}


# Expected (row_id, score) per metric for `query`, best k (no ties for (2, 0.4)).
def expected(metric, query, k):
    q = query
    out = []
    for i, p in POINTS.items():
        dot = p[0] * q[0] + p[1] * q[1]
        if metric == "cosine":
            score = dot / (math.hypot(*p) * math.hypot(*q))
        elif metric == "dot":
            score = dot
        else:
            score = -((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2)
        out.append((str(i), round(score, 4)))
    out.sort(key=lambda r: -r[1])
    return out[:k]


@pytest.mark.parametrize("metric", ["cosine", "l2", "dot"])
def test_vector_search_scores_and_order_per_metric(server, ns, docs, metric):
    q = [2.0, 0.4]
    server.sql(f"ALTER TABLE {docs} CREATE INDEX emb USING {metric.upper()}")
    assert search(server, docs, q, 3) == expected(metric, q, 3)
    # Default top_k is 10; joins back to the rows by the PK text.
    assert len(search(server, docs, q)) == 4
    rows = server.rows(f"SELECT d.title, v.score FROM vector_search('{docs}', 'emb', '[2, 0.4]', 1) v "
                       f"JOIN {docs} d ON CAST(d.id AS TEXT) = v.row_id")
    assert [r[0] for r in rows] == ["t" + expected(metric, q, 1)[0][0]]


def test_no_index_is_exact_cosine_never_empty(server, ns, docs):
    q = [2.0, 0.4]
    assert search(server, docs, q, 4) == expected("cosine", q, 4)
    server.sql(f"ALTER TABLE {docs} CREATE INDEX emb USING L2")
    server.sql(f"ALTER TABLE {docs} DROP INDEX emb")
    assert search(server, docs, q, 2) == expected("cosine", q, 2)


def test_query_vector_as_params(server, ns, docs):
    server.sql(f"ALTER TABLE {docs} CREATE INDEX emb")
    sql = f"SELECT row_id FROM vector_search('{docs}', 'emb', $1, $2)"
    assert server.rows(sql, params=[[0, 1], 2]) == [["3"], ["2"]]
    assert server.rows(sql, params=["[0, 1]", 2]) == [["3"], ["2"]]
    # An EMBEDDING value of a row as the query.
    assert server.rows(f"SELECT v.row_id FROM {docs} d, vector_search('{docs}', 'emb', d.emb, 1) v "
                       "WHERE d.id = 4") == [["4"]]
    # Arrays of numbers are accepted as EMBEDDING values too.
    server.sql(f"INSERT INTO {docs} VALUES ($1, 'p', $2)", params=[5, [0.5, -0.5]])
    assert server.rows(f"SELECT emb FROM {docs} WHERE id = 5") == [[[0.5, -0.5]]]
    err = server.sql_error(sql, params=[["x"], 2])
    assert cm(err) == {"code": "INVALID_PARAMETER", "message":
                       "Parameter $1 invalid: an array parameter must hold only numbers (a vector)"}


def test_writes_are_seen_at_once_and_deleted_rows_never_come_back(server, ns, docs):
    server.sql(f"ALTER TABLE {docs} CREATE INDEX emb")
    q = [1.0, 0.0]
    assert ids(server, docs, q, 2) == ["1", "2"]  # builds the index
    server.sql(f"DELETE FROM {docs} WHERE id = 1")
    assert ids(server, docs, q, 2) == ["2", "3"]
    server.sql(f"UPDATE {docs} SET emb = '[5, 0.1]' WHERE id = 4")
    assert ids(server, docs, q, 2) == ["4", "2"]
    server.sql(f"UPDATE {docs} SET emb = NULL WHERE id = 4")
    assert ids(server, docs, q, 4) == ["2", "3"]
    server.sql(f"INSERT INTO {docs} VALUES (1, 'again', '[0.1, -1]')")
    assert ids(server, docs, q, 4) == ["2", "1", "3"]
    # Inside a transaction that rolls back, nothing reaches the index.
    server.sql(f"BEGIN; INSERT INTO {docs} VALUES (9, 'x', '[1, 0]'); ROLLBACK")
    assert ids(server, docs, q, 1) == ["2"]


def test_user_tables_search_only_the_callers_rows(server, ns):
    t = f"{ns}.notes"
    server.sql(f"CREATE USER TABLE {t} (id INT PRIMARY KEY, emb EMBEDDING(2))")
    server.sql(f"ALTER TABLE {t} CREATE INDEX emb")
    for u in ("va", "vb"):
        server.create_user(f"{ns}{u}")
    server.sql(f"INSERT INTO {t} VALUES (1, '[1, 0]'), (2, '[0, 1]')", user=f"{ns}va",
               password="password123")
    server.sql(f"INSERT INTO {t} VALUES (3, '[1, 0.1]')", user=f"{ns}vb", password="password123")
    assert ids(server, t, [1, 0], 10, user=f"{ns}va", password="password123") == ["1", "2"]
    assert ids(server, t, [1, 0], 10, user=f"{ns}vb", password="password123") == ["3"]
    assert ids(server, t, [1, 0], 10) == []  # root has no rows of its own
    # Through ORDER BY as well.
    assert server.rows(f"SELECT id FROM {t} ORDER BY COSINE_DISTANCE(emb, '[1, 0]') LIMIT 5",
                       user=f"{ns}vb", password="password123") == [[3]]


def test_identical_results_before_and_after_flush(server, ns):
    t = f"{ns}.big"
    server.sql(f"CREATE SHARED TABLE {t} (id INT PRIMARY KEY, emb EMBEDDING(8))")
    server.sql(f"ALTER TABLE {t} CREATE INDEX emb")
    rnd = random.Random(3)
    data = {i: [rnd.uniform(-1, 1) for _ in range(8)] for i in range(300)}
    server.sql(f"INSERT INTO {t} VALUES " + ", ".join(f"({i}, '{vec(v)}')" for i, v in data.items()))
    queries = [[rnd.uniform(-1, 1) for _ in range(8)] for _ in range(5)]
    before = [search(server, t, q, 10) for q in queries]
    flush(server, t)
    assert [search(server, t, q, 10) for q in queries] == before
    # A graph built afresh from the cold rows (a re-created index is a new graph) agrees.
    server.sql(f"ALTER TABLE {t} DROP INDEX emb")
    server.sql(f"ALTER TABLE {t} CREATE INDEX emb")
    assert [search(server, t, q, 10) for q in queries] == before
    # Half cold, half hot after more writes: a cold row deleted stays gone.
    top = before[0][0][0]
    server.sql(f"DELETE FROM {t} WHERE id = {top}")
    assert top not in ids(server, t, queries[0], 10)
    flush(server, t)
    assert top not in ids(server, t, queries[0], 10)


def test_order_by_distance_with_filter_is_exact(server, ns):
    t = f"{ns}.filt"
    server.sql(f"CREATE SHARED TABLE {t} (id INT PRIMARY KEY, tag TEXT, emb EMBEDDING(4))")
    server.sql(f"ALTER TABLE {t} CREATE INDEX emb")
    rnd = random.Random(5)
    data = {i: [rnd.uniform(-1, 1) for _ in range(4)] for i in range(400)}
    server.sql(f"INSERT INTO {t} VALUES " + ", ".join(
        f"({i}, '{'rare' if i % 97 == 0 else 'common'}', '{vec(v)}')" for i, v in data.items()))
    q = [0.3, -0.2, 0.9, 0.1]

    def exact(fn, keep, k, reverse=False):
        def dist(v):
            dot = sum(a * b for a, b in zip(v, q))
            if fn == "COSINE_DISTANCE":
                return 1 - dot / (math.sqrt(sum(a * a for a in v)) * math.sqrt(sum(b * b for b in q)))
            if fn == "L2_DISTANCE":
                return math.sqrt(sum((a - b) ** 2 for a, b in zip(v, q)))
            return dot
        ranked = sorted((i for i in data if keep(i)), key=lambda i: dist(data[i]), reverse=reverse)
        return [[i] for i in ranked[:k]]

    for fn, order, reverse in (("COSINE_DISTANCE", "", False), ("L2_DISTANCE", "ASC", False),
                               ("DOT_PRODUCT", "DESC", True)):
        sql = f"SELECT id FROM {t} WHERE tag = 'rare' ORDER BY {fn}(emb, $1) {order} LIMIT 3"
        assert server.rows(sql, params=[q]) == exact(fn, lambda i: i % 97 == 0, 3, reverse), fn
        sql = f"SELECT id FROM {t} WHERE id > 200 ORDER BY {fn}(emb, $1) {order} LIMIT 5"
        assert server.rows(sql, params=[q]) == exact(fn, lambda i: i > 200, 5, reverse), fn


# ---- recall through the server -----------------------------------------------------------------

def clustered(n, dim, clusters, spread, seed):
    """n vectors around `clusters` Gaussian centres, with uniform noise of ±spread."""
    rnd = random.Random(seed)
    centres = [[rnd.gauss(0, 1) for _ in range(dim)] for _ in range(clusters)]
    out = []
    for _ in range(n):
        c = centres[rnd.randrange(clusters)]
        r = rnd.random
        out.append([round(x + spread * (2 * r() - 1), 4) for x in c])
    return out


def test_recall_at_10_on_clustered_384d_vectors(server, ns):
    n, dim, k = 10000, 384, 10
    t = f"{ns}.emb384"
    server.sql(f"CREATE SHARED TABLE {t} (id INT PRIMARY KEY, emb EMBEDDING({dim}))")
    server.sql(f"ALTER TABLE {t} CREATE INDEX emb")
    data = clustered(n, dim, 40, 0.8, 21)
    for start in range(0, n, 200):
        server.sql(f"INSERT INTO {t} VALUES " + ", ".join(
            f"({i}, '{json.dumps(data[i])}')" for i in range(start, min(n, start + 200))))
    rnd = random.Random(100)  # queries near stored vectors, as real queries are
    queries = [[round(x + rnd.gauss(0, 0.3), 4) for x in data[j * 97]] for j in range(40)]
    con = duckdb.connect()
    con.register("v", pa.table({"id": list(range(n)),
                                "e": pa.array(data, pa.list_(pa.float64(), dim))}))
    found = 0
    for q in queries:
        exact = {r[0] for r in con.execute(
            f"SELECT id FROM v ORDER BY array_cosine_distance(e, ?::DOUBLE[{dim}]) LIMIT {k}",
            [q]).fetchall()}
        got = server.rows(f"SELECT row_id FROM vector_search('{t}', 'emb', $1, {k})", params=[q])
        assert len(got) == k
        found += len(exact & {int(r[0]) for r in got})
    recall = found / (len(queries) * k)
    assert recall >= 0.95, recall


# ---- restart -----------------------------------------------------------------------------------

def test_restart_rebuilds_and_keeps_answers(tmp_path):
    s = Server(tmp_path / "data").start()
    try:
        s.sql("CREATE NAMESPACE r")
        s.sql("CREATE SHARED TABLE r.docs (id INT PRIMARY KEY, emb EMBEDDING(2))")
        s.sql("ALTER TABLE r.docs CREATE INDEX emb USING L2")
        s.sql("INSERT INTO r.docs VALUES " + ", ".join(f"({i}, '{vec(v)}')" for i, v in POINTS.items()))
        before = search(s, "r.docs", [2.0, 0.4], 4)
        assert before == expected("l2", [2.0, 0.4], 4)
        flush(s, "r.docs")
        s.sql("INSERT INTO r.docs VALUES (5, '[100, 100]')")  # hot, beside the cold rows
        s.kill9()
        s.start()
        # L2 scores after the restart: the index definition survived (without it: cosine).
        assert search(s, "r.docs", [2.0, 0.4], 4) == before
        assert search(s, "r.docs", [100, 99], 1) == [("5", -1.0)]
        s.sql("DELETE FROM r.docs WHERE id = 2")
        assert [r[0] for r in search(s, "r.docs", [2.0, 0.4], 3)] == [
            r[0] for r in before if r[0] != "2"]
        # A clean stop flushes the hot rows (storage.flush_on_shutdown), writing a new snapshot
        # beside them; the next start loads it. Then a kill -9 after more writes: reconciled.
        s.stop()
        s.start()
        after_delete = search(s, "r.docs", [2.0, 0.4], 4)
        assert [r[0] for r in after_delete] == [r[0] for r in before if r[0] != "2"] + ["5"]
        s.sql("UPDATE r.docs SET emb = '[2, 0.4]' WHERE id = 4")
        s.sql("DELETE FROM r.docs WHERE id = 1")
        s.kill9()
        s.start()
        assert [r[0] for r in search(s, "r.docs", [2.0, 0.4], 4)] == ["4", "3", "5"]
    finally:
        s.stop()


# ---- snapshots next to the cold segments ---------------------------------------------------------

def sha256_of(path):
    import hashlib
    return hashlib.sha256(path.read_bytes()).hexdigest()


def vector_files(folder):
    d = folder / "vectors"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def loads_in_log(s):
    return s.log_path.read_text(errors="replace").count("loaded from its snapshot")


def compact(server, table):
    import re
    from helpers import wait_job
    msg = server.sql(f"STORAGE COMPACT TABLE {table}")["results"][0]["message"]
    m = re.fullmatch(rf"Storage compaction started for table '{re.escape(table)}'\. Job ID: (CO-\d+)", msg)
    assert m, msg
    assert wait_job(server, m.group(1))[0] == "completed"


def test_snapshot_written_at_flush_replaced_at_compaction_and_loaded_after_restart(tmp_path):
    s = Server(tmp_path / "data", env={"KALAMDB_LOG_LEVEL": "info"}).start()
    folder = tmp_path / "data" / "storage" / "sn" / "docs"
    try:
        s.sql("CREATE NAMESPACE sn")
        s.sql("CREATE SHARED TABLE sn.docs (id INT PRIMARY KEY, emb EMBEDDING(2))")
        s.sql("ALTER TABLE sn.docs CREATE INDEX emb USING L2")
        s.sql("INSERT INTO sn.docs VALUES " + ", ".join(f"({i}, '{vec(v)}')" for i, v in POINTS.items()))
        q = [2.0, 0.4]
        before = search(s, "sn.docs", q, 4)
        assert before == expected("l2", q, 4)
        flush(s, "sn.docs")
        # The snapshot sits beside the segment, named by the manifest with its checksum.
        assert vector_files(folder) == ["emb.1.hnsw"]
        manifest = json.loads((folder / "manifest.json").read_text())
        [entry] = manifest["vector_indexes"]
        assert entry["file"] == "vectors/emb.1.hnsw" and entry["vectors"] == 4, entry
        assert entry["sha256"] == sha256_of(folder / "vectors" / "emb.1.hnsw")
        assert entry["size_bytes"] == (folder / "vectors" / "emb.1.hnsw").stat().st_size
        assert search(s, "sn.docs", q, 4) == before
        # A delete and an insert, flushed: a new snapshot replaces the old one, which is deleted.
        s.sql("DELETE FROM sn.docs WHERE id = 2")
        s.sql("INSERT INTO sn.docs VALUES (5, '[100, 100]')")
        after = [r for r in before if r[0] != "2"]
        assert search(s, "sn.docs", q, 3) == after
        # A file no manifest names (as a crash between writing a snapshot and committing its
        # manifest leaves) goes too.
        (folder / "vectors" / "emb.99.hnsw").write_bytes(b"orphan")
        flush(s, "sn.docs")
        assert vector_files(folder) == ["emb.2.hnsw"]
        [entry] = json.loads((folder / "manifest.json").read_text())["vector_indexes"]
        assert entry["file"] == "vectors/emb.2.hnsw" and entry["vectors"] == 4, entry
        assert search(s, "sn.docs", q, 3) == after
        # Compaction rebuilds from the surviving rows; its manifest names the new snapshot (the
        # old one is deleted with the merged segments, after the grace period).
        compact(s, "sn.docs")
        [entry] = json.loads((folder / "manifest.json").read_text())["vector_indexes"]
        assert entry["file"] == "vectors/emb.4.hnsw" and entry["vectors"] == 4, entry
        assert "emb.4.hnsw" in vector_files(folder)
        assert search(s, "sn.docs", q, 3) == after
        # Clean restart: the snapshot is loaded (not rebuilt), with identical answers; the
        # deleted row never comes back.
        s.stop()
        s.start()
        assert search(s, "sn.docs", q, 3) == after
        assert [r[0] for r in search(s, "sn.docs", q, 5)] == [r[0] for r in after] + ["5"]
        assert loads_in_log(s) == 1
        # kill -9 after writes that no snapshot holds: loaded, then reconciled with the rows.
        s.sql("UPDATE sn.docs SET emb = '[2, 0.4]' WHERE id = 4")
        s.sql("DELETE FROM sn.docs WHERE id = 1")
        s.kill9()
        s.start()
        assert [r[0] for r in search(s, "sn.docs", q, 5)] == ["4", "3", "5"]
        assert loads_in_log(s) == 2
        # A damaged snapshot (its checksum no longer matches): rebuilt from the rows, same answer.
        flush(s, "sn.docs")
        [entry] = json.loads((folder / "manifest.json").read_text())["vector_indexes"]
        good = search(s, "sn.docs", q, 5)
        assert [r[0] for r in good] == ["4", "3", "5"]
        s.stop()
        snap = folder / entry["file"]
        data = bytearray(snap.read_bytes())
        data[len(data) // 2] ^= 0xFF
        snap.write_bytes(bytes(data))
        s.start()
        assert search(s, "sn.docs", q, 5) == good
        assert loads_in_log(s) == 2  # not loaded this time
        assert "does not match its checksum" in s.log_path.read_text(errors="replace")
        # DROP INDEX removes the snapshot files; so does DROP TABLE.
        s.sql("ALTER TABLE sn.docs DROP INDEX emb")
        assert vector_files(folder) == []
        s.sql("ALTER TABLE sn.docs CREATE INDEX emb USING L2")
        assert [r[0] for r in search(s, "sn.docs", q, 5)] == ["4", "3", "5"]
        s.sql("INSERT INTO sn.docs VALUES (6, '[-1, -1]')")
        flush(s, "sn.docs")
        assert vector_files(folder) == ["emb.6.hnsw"]
        # The re-created index's entry replaced the dropped one's.
        [entry] = json.loads((folder / "manifest.json").read_text())["vector_indexes"]
        assert entry["file"] == "vectors/emb.6.hnsw" and entry["vectors"] == 4, entry
        s.sql("DROP TABLE sn.docs")
        assert vector_files(folder) == []
    finally:
        s.stop()


def test_kill9_between_snapshot_and_manifest_leaves_no_wrong_answer_and_no_orphan(tmp_path):
    import re
    import time
    s = Server(tmp_path / "data", env={"KALAMDB_TEST_FLUSH_PAUSE_MS": "3000"}).start()
    folder = tmp_path / "data" / "storage" / "kf" / "docs"
    q = [2.0, 0.4]
    try:
        s.sql("CREATE NAMESPACE kf")
        s.sql("CREATE SHARED TABLE kf.docs (id INT PRIMARY KEY, emb EMBEDDING(2))")
        s.sql("ALTER TABLE kf.docs CREATE INDEX emb USING L2")
        s.sql("INSERT INTO kf.docs VALUES " + ", ".join(f"({i}, '{vec(v)}')" for i, v in POINTS.items()))
        flush(s, "kf.docs")  # pauses 3 s before publishing, then completes
        assert vector_files(folder) == ["emb.1.hnsw"]
        s.sql("DELETE FROM kf.docs WHERE id = 2")
        s.sql("INSERT INTO kf.docs VALUES (5, '[100, 100]')")
        want = [r[0] for r in search(s, "kf.docs", q, 5)]
        assert want == ["1", "3", "4", "5"]
        msg = s.sql("STORAGE FLUSH TABLE kf.docs")["results"][0]["message"]
        job = re.search(r"Job ID: (FL-\d+)", msg).group(1)
        pause = "Scope '': segment batch-2.parquet written (2 rows); publishing its manifest"
        deadline = time.time() + 60
        while s.rows(f"SELECT status, message FROM system.jobs WHERE job_id = '{job}'") != [
                ["running", pause]]:
            assert time.time() < deadline, "the flush never paused"
            time.sleep(0.02)
        s.kill9()
        # The new snapshot is written, the manifest naming it never committed: an unnamed file.
        assert vector_files(folder) == ["emb.1.hnsw", "emb.2.hnsw"]
        s.extra_env = {}
        s.start()
        # The committed manifest names emb.1: loaded and reconciled, the deleted row stays gone.
        assert [r[0] for r in search(s, "kf.docs", q, 5)] == want
        flush(s, "kf.docs")
        assert vector_files(folder) == ["emb.2.hnsw"]
        assert [r[0] for r in search(s, "kf.docs", q, 5)] == want
    finally:
        s.stop()


def test_snapshot_on_s3_storage_survives_kill9_and_goes_with_the_table(s3, tmp_path):
    import hashlib
    endpoint, client = s3
    s = Server(tmp_path / "data").start()
    pw = {"user": "sara", "password": "password123"}

    def keys():
        out = client.list_objects_v2(Bucket="kalam-cold", Prefix="vec/")
        return sorted(o["Key"] for o in out.get("Contents", []))

    try:
        s.sql(f"CREATE STORAGE s3vec TYPE 's3' BUCKET 'kalam-cold' REGION 'us-east-1' "
              f"ENDPOINT '{endpoint}' BASE_DIRECTORY 's3://kalam-cold/vec' "
              f"CREDENTIALS '{json.dumps(CREDS)}'")
        s.create_user("sara", "password123")
        s.sql("CREATE NAMESPACE sv")
        s.sql("CREATE USER TABLE sv.notes (id INT PRIMARY KEY, emb EMBEDDING(2)) "
              "WITH (STORAGE_ID = 's3vec')")
        s.sql("ALTER TABLE sv.notes CREATE INDEX emb USING L2")
        s.sql("INSERT INTO sv.notes VALUES " + ", ".join(
            f"({i}, '{vec(v)}')" for i, v in POINTS.items()), **pw)
        q = [2.0, 0.4]
        before = search(s, "sv.notes", q, 4, **pw)
        assert before == expected("l2", q, 4)
        flush(s, "sv.notes")
        assert keys() == ["vec/sv/notes/sara/batch-1.parquet", "vec/sv/notes/sara/manifest.json",
                          "vec/sv/notes/sara/vectors/emb.1.hnsw"]
        manifest = json.loads(client.get_object(
            Bucket="kalam-cold", Key="vec/sv/notes/sara/manifest.json")["Body"].read())
        [entry] = manifest["vector_indexes"]
        body = client.get_object(Bucket="kalam-cold",
                                 Key="vec/sv/notes/sara/vectors/emb.1.hnsw")["Body"].read()
        assert entry["sha256"] == hashlib.sha256(body).hexdigest() and entry["vectors"] == 4
        s.sql("DELETE FROM sv.notes WHERE id = 2", **pw)
        s.kill9()
        s.start()
        assert search(s, "sv.notes", q, 4, **pw) == [r for r in before if r[0] != "2"]
        s.sql("DROP TABLE sv.notes")
        assert keys() == []
    finally:
        s.stop()


# ---- live queries and topics carry EMBEDDING values as number arrays ---------------------------

def test_live_and_topics_carry_embeddings_as_number_arrays(server, ns):
    t = f"{ns}.live"
    server.sql(f"CREATE SHARED TABLE {t} (id INT PRIMARY KEY, emb EMBEDDING(3))")
    server.sql(f"CREATE TOPIC {ns}.ev")
    server.sql(f"ALTER TOPIC {ns}.ev ADD SOURCE {t} ON INSERT")
    c = LiveClient(server)
    c.subscribe_ready("v", f"SELECT * FROM {t}")
    server.sql(f"INSERT INTO {t} VALUES (1, '[0.5, -1.25, 2]')")
    (ev,) = c.changes(1)
    assert ev["rows"][0]["emb"] == [0.5, -1.25, 2.0]
    c.close()
    res = server.sql(f"CONSUME FROM {ns}.ev")["results"][0]
    payload = json.loads(bytes(res["rows"][0][4]).decode())
    assert payload["emb"] == [0.5, -1.25, 2.0]


def test_order_by_uses_the_index_only_when_metric_and_form_match(server, ns, docs):
    """Observable through the documented difference: the indexed form never returns a row whose
    embedding is NULL, while an exact scan sorts its NULL distance first."""
    server.sql(f"INSERT INTO {docs} (id, title) VALUES (9, 'no vector')")
    sql = f"SELECT id FROM {docs} ORDER BY COSINE_DISTANCE(emb, '[1, 0]') LIMIT 2"
    assert server.rows(sql) == [[9], [1]]  # no index: exact scan
    server.sql(f"ALTER TABLE {docs} CREATE INDEX emb")
    assert server.rows(sql) == [[1], [2]]  # indexed
    assert server.rows(sql, params=None) == [[1], [2]]
    # Other forms run as written (exact): DESC on a distance, another metric, OFFSET.
    assert server.rows(f"SELECT id FROM {docs} ORDER BY COSINE_DISTANCE(emb, '[1, 0]') DESC "
                       "LIMIT 2") == [[4], [3]]
    assert server.rows(f"SELECT id FROM {docs} ORDER BY L2_DISTANCE(emb, '[1, 0]') LIMIT 2") == \
        [[9], [1]]
    assert server.rows(f"SELECT id FROM {docs} ORDER BY COSINE_DISTANCE(emb, '[1, 0]') "
                       "LIMIT 2 OFFSET 0") == [[9], [1]]
    server.sql(f"ALTER TABLE {docs} CREATE INDEX emb USING L2")
    assert server.rows(f"SELECT id FROM {docs} ORDER BY L2_DISTANCE(emb, '[1, 0]') LIMIT 2") == \
        [[1], [2]]
    assert server.rows(sql) == [[9], [1]]  # the index is L2 now
