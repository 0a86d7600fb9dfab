"""The runnable examples of the documentation, run in order against one fresh server.

Convention (docs/reference/sql.md, "How to read the examples"): a fenced block whose info string
is `sql run` (optionally `sql run as=<user>`) is one request to POST /v1/api/sql; the next fenced
block is its exact result, rendered by `render` below:

- a query result: a header line `col | col`, then one line per row with each value as JSON
  (`"42"` for a BIGINT, `null`, `true`), then `(N rows)` or `(N rows, truncated)`;
- a message result (DDL, DML without RETURNING): the message text;
- a failed request: `ERROR <http status> <CODE>: <message>`;
- a successful request with no results (a committed or rolled back transaction): `(no results)`;
- the results of a request with several statements are separated by one blank line.

In an expected line, `…` matches any text (ids and times that differ per run). `as=<user>` runs
the request as that user, logged in with the password an earlier example gave it in
`CREATE USER <user> WITH PASSWORD '<pw>'`.

`python tests/e2e/test_docs_examples.py --update FILE.md` runs a page's examples and rewrites
result blocks that no longer match (review the diff: the result blocks are the documentation).
"""
import json
import re
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kalam_harness import ROOT_PASSWORD, REPO, Server  # noqa: E402

DOCS = [REPO / "docs" / "reference" / "sql.md", REPO / "docs" / "guides" / "quickstart.md"]
MIN_EXAMPLES = 40

FENCE = re.compile(r"^```(.*)$")
CREATE_USER = re.compile(r"CREATE USER (\w+) WITH PASSWORD '([^']*)'", re.IGNORECASE)


class Example:
    def __init__(self, path, line, sql, user, expected, result_span):
        self.path, self.line, self.sql, self.user = path, line, sql, user
        self.expected = expected          # list of lines, or None when the page has none yet
        self.result_span = result_span    # (first, last) line index of the result block's body


def extract(path):
    """The runnable examples of one Markdown page, in page order."""
    lines = Path(path).read_text().splitlines()
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m.group(1).strip():
            i += 1
            continue
        info = m.group(1).split()
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        if info[:2] == ["sql", "run"]:
            attrs = dict(a.split("=", 1) for a in info[2:])
            sql = "\n".join(lines[i + 1:j])
            k = j + 1
            while k < len(lines) and not lines[k].strip():
                k += 1
            expected, span = None, None
            if k < len(lines) and lines[k].startswith("```") and lines[k].strip() != "```sql run":
                if not lines[k].startswith("```sql"):
                    e = k + 1
                    while e < len(lines) and not lines[e].startswith("```"):
                        e += 1
                    expected, span = lines[k + 1:e], (k + 1, e)
                    j = e
            out.append(Example(path, i + 1, sql, attrs.get("as", "root"), expected, span))
        i = j + 1
    return out


def render_value(v):
    return json.dumps(v, ensure_ascii=False)


def render(status_code, body):
    """The text form of a /v1/api/sql response (see the module docstring)."""
    if body.get("status") != "success":
        err = body["error"]
        return [f"ERROR {status_code} {err['code']}: {err['message']}"]
    if not body["results"]:
        return ["(no results)"]
    lines = []
    for n, r in enumerate(body["results"]):
        if n:
            lines.append("")
        if "schema" in r:
            lines.append(" | ".join(c["name"] for c in r["schema"]))
            for row in r["rows"]:
                lines.append(" | ".join(render_value(v) for v in row))
            count = f"({r['row_count']} row{'' if r['row_count'] == 1 else 's'}"
            lines.append(count + (", truncated)" if r.get("truncated") else ")"))
        if "message" in r:
            lines.append(r["message"])
    return lines


def line_matches(expected, actual):
    pattern = ".*".join(re.escape(part) for part in expected.split("…"))
    return re.fullmatch(pattern, actual, re.DOTALL) is not None


def matches(expected, actual):
    return len(expected) == len(actual) and all(line_matches(e, a) for e, a in zip(expected, actual))


class Runner:
    def __init__(self, server):
        self.server = server
        self.passwords = {"root": ROOT_PASSWORD}

    def run(self, ex):
        for user, pw in CREATE_USER.findall(ex.sql):
            self.passwords[user] = pw
        r = self.server.sql_raw(ex.sql, user=ex.user, password=self.passwords[ex.user])
        return render(r.status_code, r.json())


def all_examples():
    return [ex for doc in DOCS if doc.exists() for ex in extract(doc)]


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("docs") / "data").start()
    yield s
    s.stop()


def test_docs_have_enough_runnable_examples():
    examples = all_examples()
    missing = [f"{e.path.name}:{e.line}" for e in examples if e.expected is None]
    assert not missing, f"runnable examples without a result block: {missing}"
    assert len(examples) >= MIN_EXAMPLES, len(examples)


def test_docs_examples_give_their_documented_results(docs_server):
    runner = Runner(docs_server)
    failures = []
    for ex in all_examples():
        actual = runner.run(ex)
        if not matches(ex.expected or [], actual):
            failures.append(f"{ex.path.relative_to(REPO)}:{ex.line}\n  SQL: {ex.sql}\n"
                            f"  expected: {ex.expected}\n  actual:   {actual}")
    assert not failures, "\n".join(failures)


def test_result_matching_can_fail():
    assert matches(["a | b", '"1" | …', "(1 row)"], ["a | b", '"1" | "x"', "(1 row)"])
    assert not matches(["a | b", '"1" | "y"', "(1 row)"], ["a | b", '"1" | "x"', "(1 row)"])
    assert not matches(["a"], ["a", "b"])


def update(paths):
    """Runs the examples of `paths` (one fresh server for all, in DOCS order) and rewrites the
    result blocks that do not match."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "data").start()
        try:
            runner = Runner(server)
            for doc in DOCS:
                if not doc.exists():
                    continue
                examples = extract(doc)
                results = [(ex, runner.run(ex)) for ex in examples]
                if str(doc) not in paths and doc.name not in paths:
                    continue
                lines = doc.read_text().splitlines()
                for ex, actual in reversed(results):
                    if ex.expected is not None and matches(ex.expected, actual):
                        continue
                    if ex.result_span:
                        a, b = ex.result_span
                        lines[a:b] = actual
                    else:
                        end = ex.line  # index of the sql block's closing fence = first after body
                        while not lines[end].startswith("```"):
                            end += 1
                        lines[end + 1:end + 1] = ["```text", *actual, "```"]
                    print(f"{doc.name}:{ex.line}: updated")
                doc.write_text("\n".join(lines) + "\n")
        finally:
            server.stop()


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--update":
        update(set(sys.argv[2:]))
    else:
        print(__doc__)


# ---- docs/guides/live-queries.md: the complete client, run for real ----------------------------

LIVE_GUIDE = REPO / "docs" / "guides" / "live-queries.md"


def live_guide_client():
    """The namespace of the guide's ```python live-client block, executed."""
    text = LIVE_GUIDE.read_text()
    code = text.split("```python live-client\n", 1)[1].split("\n```", 1)[0]
    namespace = {}
    exec(compile(code, str(LIVE_GUIDE), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace


def test_live_guide_client_resumes_exactly(fresh_server):
    import threading
    follow = live_guide_client()["follow"]
    s = fresh_server
    s.sql("CREATE NAMESPACE notes; CREATE USER TABLE notes.items (id BIGINT PRIMARY KEY, "
          "title TEXT, done BOOLEAN DEFAULT false)")
    s.sql("INSERT INTO notes.items (id, title) VALUES (1, 'a'), (2, 'b')")
    ws_url, token, sql = f"ws://127.0.0.1:{s.port}", s.token(), "SELECT id, title, done FROM notes.items"

    events, result = [], {}

    def run(last_seq, want):
        result["seq"] = follow(ws_url, token, sql, lambda k, r: events.append((k, r["id"])),
                               last_seq, stop=lambda: len(events) >= want)

    t = threading.Thread(target=run, args=(None, 3))
    t.start()
    deadline = time.time() + 10
    while len(events) < 2 and time.time() < deadline:
        time.sleep(0.02)
    s.sql("INSERT INTO notes.items (id, title) VALUES (3, 'c')")
    t.join(15)
    assert events == [("row", "1"), ("row", "2"), ("insert", "3")]
    last = result["seq"]
    assert last == int(s.rows("SELECT max(_seq) FROM notes.items")[0][0])

    # While the client is away: an insert, an update and a delete.
    s.sql("INSERT INTO notes.items (id, title) VALUES (4, 'd')")
    s.sql("UPDATE notes.items SET done = true WHERE id = 1")
    s.sql("DELETE FROM notes.items WHERE id = 2")
    events.clear()
    t = threading.Thread(target=run, args=(last, 3))
    t.start()
    t.join(15)
    assert events == [("row", "4"), ("row", "1"), ("delete", "2")]
    assert result["seq"] > last
