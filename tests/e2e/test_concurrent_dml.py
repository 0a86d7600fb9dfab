"""Concurrent UPDATE and DELETE statements on the same rows: each statement acts on the rows as its
WHERE read them. A row changed or deleted by another commit between a statement's scan and its
write makes that statement run again on what is stored, so counts add up exactly and no update
is applied to a row that no longer matches (no lost update)."""
import threading

N = 60
THREADS = 4


def run_parallel(server, statements_for):
    counts = []
    errors = []
    lock = threading.Lock()

    def worker():
        for sql in statements_for():
            r = server.sql_raw(sql)
            with lock:
                if r.status_code != 200:
                    errors.append(r.text)
                else:
                    counts.append(r.json()["results"][0]["row_count"])

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return counts


def test_concurrent_deletes_count_each_row_once(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.d (id INT PRIMARY KEY, v INT)")
    server.sql(f"INSERT INTO {ns}.d VALUES " + ", ".join(f"({i}, 0)" for i in range(N)))
    counts = run_parallel(server, lambda: [f"DELETE FROM {ns}.d WHERE id = {i} OR id = {i + 1}"
                                           for i in range(0, N, 2)])
    assert sum(counts) == N, counts
    assert server.rows(f"SELECT count(*) FROM {ns}.d") == [["0"]]


def test_concurrent_conditional_updates_apply_once(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.u (id INT PRIMARY KEY, v INT)")
    server.sql(f"INSERT INTO {ns}.u VALUES " + ", ".join(f"({i}, 0)" for i in range(N)))
    # Each key may move from 0 to 1 once: every statement that matched must have been the one.
    counts = run_parallel(server, lambda: [f"UPDATE {ns}.u SET v = v + 1 WHERE v = 0 AND "
                                           f"(id = {i} OR id = {i + 1})" for i in range(0, N, 2)])
    assert sum(counts) == N, counts
    assert server.rows(f"SELECT count(*) FROM {ns}.u WHERE v = 1") == [[str(N)]]


def test_concurrent_whole_table_statements_do_not_overlap(server, ns):
    # Statements that scan many rows before writing them leave a wide window between a row's read
    # and its write: rows another statement changed meanwhile must not be changed or counted twice.
    rows = 3000
    for round_ in range(3):
        t = f"{ns}.w{round_}"
        server.sql(f"CREATE SHARED TABLE {t} (id INT PRIMARY KEY, v INT)")
        for start in range(0, rows, 1000):
            server.sql(f"INSERT INTO {t} VALUES " +
                       ", ".join(f"({i}, 0)" for i in range(start, start + 1000)))
        counts = run_parallel(server, lambda: [f"UPDATE {t} SET v = v + 1 WHERE v = 0"])
        assert sum(counts) == rows, counts
        assert server.rows(f"SELECT count(*) FROM {t} WHERE v = 1") == [[str(rows)]]
        counts = run_parallel(server, lambda: [f"DELETE FROM {t} WHERE v = 1"])
        assert sum(counts) == rows, counts
