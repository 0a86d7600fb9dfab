"""Randomized differential SQL test: random tables with a column of every scalar type (NULLs
included), random rows partly flushed to the cold tier, updated and deleted across tiers, and
random WHERE trees (AND/OR/NOT, comparisons with the literal on either side, IN, BETWEEN, IS,
IS NULL, CASE, subqueries, JOIN ON, `$n` parameters, functions of constants) with literals in the
forms people write them.
Every answer is checked against an independent evaluator in plain Python (three-valued logic)
and against the ternary partitioning identity rows(q) = rows(q AND p) ⊎ rows(q AND NOT p) ⊎
rows(q AND (p) IS NULL); random UPDATE/DELETE … WHERE and live subscriptions are checked against
the model too.

The default run is bounded (well under a minute); KALAMDB_DIFF_QUERIES=N runs N random queries per
table, KALAMDB_DIFF_SEED=S replays a run (every failure message names its seed)."""
import datetime
import decimal
import os
import random
import re
import struct
import time

import pytest

from kalam_harness import ROOT_PASSWORD
from live_client import LiveClient

SEED = int(os.environ.get("KALAMDB_DIFF_SEED", random.SystemRandom().randrange(1 << 32)))
QUERIES = int(os.environ.get("KALAMDB_DIFF_QUERIES", "250"))
D = decimal.Decimal
UTC = datetime.timezone.utc
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
DAY_US = 86_400_000_000
USER, USER_PW = "diffuser", "password123"


# ---- column types: model values, and the literals people write for them --------------------

def quote(s):
    return "'" + s.replace("'", "''") + "'"


def iso_ts(us):
    dt = EPOCH + datetime.timedelta(microseconds=us)
    return dt


class Type:
    """A column type: `gen` draws a model value, `insert_sql` renders one for INSERT, `literal`
    renders a value as a comparison literal (any form a user writes) or a JSON parameter."""
    sql = ""

    def literal(self, rng, v):
        return self.insert_sql(v)

    def param(self, rng, v):
        return v

    def near(self, rng, v):
        return v


class IntType(Type):
    def __init__(self, sql, lo, hi):
        self.sql, self.lo, self.hi = sql, lo, hi

    def gen(self, rng):
        return rng.randint(self.lo, self.hi)

    def insert_sql(self, v):
        return str(v)

    def near(self, rng, v):
        return max(self.lo, min(self.hi, v + rng.choice([-1, 0, 1])))


class RealType(Type):
    def __init__(self, sql, step, span):
        self.sql, self.step, self.span = sql, step, span

    def gen(self, rng):
        return rng.randint(-self.span, self.span) * self.step

    def insert_sql(self, v):
        return repr(v)

    def literal(self, rng, v):
        return str(int(v)) if v == int(v) and rng.random() < 0.5 else repr(v)

    def near(self, rng, v):
        return v + rng.choice([-1, 0, 1]) * self.step


class BoolType(Type):
    sql = "BOOLEAN"

    def gen(self, rng):
        return rng.randint(0, 1)

    def insert_sql(self, v):
        return "TRUE" if v else "FALSE"

    def literal(self, rng, v):
        return rng.choice([self.insert_sql(v), str(v)])

    def param(self, rng, v):
        return bool(v)


class TextType(Type):
    sql = "TEXT"

    def gen(self, rng):
        return "".join(rng.choice("abA") for _ in range(rng.randint(0, 3)))

    def insert_sql(self, v):
        return quote(v)


class DecimalType(Type):
    def __init__(self, precision, scale, big):
        self.sql = f"DECIMAL({precision},{scale})"
        self.scale, self.big = scale, big

    def gen(self, rng):
        magnitude = rng.choice([10, 1000, self.big])
        return D(rng.randint(-magnitude * 10**self.scale, magnitude * 10**self.scale)).scaleb(
            -self.scale)

    def insert_sql(self, v):
        return quote(str(v))

    def literal(self, rng, v):
        forms = [quote(str(v)), quote(format(v.normalize(), "f"))]
        if D(repr(float(v))) == v:  # a number literal SQLite reads back exactly
            forms.append(repr(float(v)) if v != int(v) else str(int(v)))
        return rng.choice(forms)

    def param(self, rng, v):
        return str(v)

    def near(self, rng, v):
        # One more decimal than the column keeps: compares, though it could not be stored.
        return v + rng.choice([-1, 0, 1]) * D(1).scaleb(-self.scale - rng.randint(0, 1))


class TimestampType(Type):
    def __init__(self, sql):
        self.sql = sql

    def gen(self, rng):
        us = rng.randint(946_684_800, 2_208_988_800) * 1_000_000
        return us + rng.choice([0, 0, rng.randint(0, 999_999)])

    def insert_sql(self, v):
        return quote(iso_ts(v).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))

    def literal(self, rng, v):
        return str(v) if rng.random() < 0.15 else quote(self.iso(rng, v))

    def param(self, rng, v):
        return v if rng.random() < 0.1 else self.iso(rng, v)

    @staticmethod
    def iso(rng, v):
        """`v` as ISO-8601 text in one of the forms people write."""
        dt = iso_ts(v)
        frac = "" if dt.microsecond == 0 else dt.strftime(".%f")
        forms = [dt.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z",
                 dt.strftime("%Y-%m-%d %H:%M:%S") + frac]
        minutes = rng.choice([120, -330, 60])
        local = dt + datetime.timedelta(minutes=minutes)
        sign = "+" if minutes >= 0 else "-"
        hh, mm = divmod(abs(minutes), 60)
        offset = rng.choice([f"{sign}{hh:02d}:{mm:02d}", f"{sign}{hh:02d}{mm:02d}"])
        forms.append(local.strftime("%Y-%m-%dT%H:%M:%S") + frac + offset)
        if v % DAY_US == 0:
            forms.append(dt.strftime("%Y-%m-%d"))
        if v % 1_000_000 == 0 and dt.second == 0:
            forms.append(dt.strftime("%Y-%m-%d %H:%M"))
        return rng.choice(forms)

    def near(self, rng, v):
        return v + rng.choice([0, 0, 1, -1, 1_000_000, -DAY_US, DAY_US - v % DAY_US])


class DateType(Type):
    sql = "DATE"

    def gen(self, rng):
        return rng.randint(10_957, 25_567)  # 2000 … 2040

    def insert_sql(self, v):
        return quote((EPOCH + datetime.timedelta(days=v)).strftime("%Y-%m-%d"))

    def literal(self, rng, v):
        return str(v) if rng.random() < 0.15 else self.insert_sql(v)

    def param(self, rng, v):
        return self.insert_sql(v).strip("'")

    def near(self, rng, v):
        return v + rng.choice([-1, 0, 1])


class TimeType(Type):
    sql = "TIME"

    def gen(self, rng):
        return rng.randint(0, 1439) * 60_000_000 + rng.choice([0, 0, rng.randint(0, 59_999_999)])

    def insert_sql(self, v):
        return quote(self._text(v, full=True))

    @staticmethod
    def _text(v, full=False):
        s, us = divmod(v, 1_000_000)
        h, rem = divmod(s, 3600)
        m, sec = divmod(rem, 60)
        if full or us:
            return f"{h:02d}:{m:02d}:{sec:02d}.{us:06d}"
        return f"{h:02d}:{m:02d}" if sec == 0 and rem % 60 == 0 else f"{h:02d}:{m:02d}:{sec:02d}"

    def literal(self, rng, v):
        return str(v) if rng.random() < 0.15 else quote(self._text(v))

    def param(self, rng, v):
        return self._text(v)

    def near(self, rng, v):
        return min(DAY_US - 1, max(0, v + rng.choice([-1, 0, 1, 60_000_000])))


class UuidType(Type):
    sql = "UUID"
    POOL = [f"0190c9a0-{i:04x}-7000-8{i % 7:03x}-{i * 7919:012x}" for i in range(1, 40)]

    def gen(self, rng):
        return rng.choice(self.POOL)

    def insert_sql(self, v):
        return quote(v)

    def literal(self, rng, v):
        forms = [v, v.upper(), v.replace("-", ""), v.upper().replace("-", "")]
        if rng.random() < 0.1:
            return "x'" + v.replace("-", "") + "'"
        return quote(rng.choice(forms))

    def param(self, rng, v):
        return rng.choice([v, v.upper()])


COLUMNS = {
    "c_int": IntType("INT", -50, 50),
    "c_big": IntType("BIGINT", -(1 << 40), 1 << 40),
    "c_small": IntType("SMALLINT", -300, 300),
    "c_dbl": RealType("DOUBLE", 0.25, 400),
    "c_flt": RealType("FLOAT", 0.125, 80),
    "c_bool": BoolType(),
    "c_txt": TextType(),
    "c_d10": DecimalType(10, 2, 10**7),
    "c_d30": DecimalType(30, 4, 10**20),
    "c_ts": TimestampType("TIMESTAMP"),
    "c_date": DateType(),
    "c_time": TimeType(),
    "c_dt": TimestampType("DATETIME"),
    "c_uuid": UuidType(),
}


# ---- predicates: SQL and three-valued evaluation ----------------------------------------------

def t_and(a, b):
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def t_or(a, b):
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def t_not(a):
    return None if a is None else not a


FLIP = {"=": "=", "<>": "<>", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def compare(a, op, b):
    if a is None or b is None:
        return None
    return {"=": a == b, "<>": a != b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b,
            ">=": a >= b}[op]


class Render:
    """Renders predicates; `$n` parameters are collected in `params`."""

    def __init__(self, rng, table, qualifier=""):
        self.rng, self.qualifier, self.params = rng, qualifier, []
        self.table, self.pk = table.name, table.pk_col

    def value(self, col, v):
        if v is None:
            return "NULL"
        t = COLUMNS[col] if col in COLUMNS else PK_TYPES[col]
        if self.rng.random() < 0.2:
            self.params.append(t.param(self.rng, v))
            return f"${len(self.params)}"
        lit = t.literal(self.rng, v)
        if lit.startswith("'") and self.rng.random() < 0.08:
            return f"trim({lit})"  # a function of constants, converted when the statement runs
        return lit


class Leaf:
    def __init__(self, rng, model):
        self.col = rng.choice(list(model.types))
        t = model.types[self.col]
        values = [r[self.col] for r in model.rows.values() if r[self.col] is not None]

        def pick():
            if rng.random() < 0.05:
                return None
            v = rng.choice(values) if values and rng.random() < 0.7 else t.gen(rng)
            return t.near(rng, v)

        self.kind = rng.choices(["cmp", "in", "between", "null", "is"], [10, 3, 3, 2, 1])[0]
        self.negate = rng.random() < 0.3
        self.flip = rng.random() < 0.3
        self.op = rng.choice(list(FLIP))
        self.values = [pick() for _ in range(rng.randint(1, 4) if self.kind == "in" else 2)]
        if self.kind == "in" and rng.random() < 0.8:
            self.values = [v for v in self.values if v is not None] or [t.gen(rng)]
        if self.kind == "between":
            bounds = [v for v in self.values if v is not None]
            while len(bounds) < 2:
                bounds.append(t.gen(rng))
            self.values = sorted(bounds)
            if rng.random() < 0.2:
                self.values.reverse()  # an empty range

    def sql(self, r):
        c = r.qualifier + self.col
        v = self.values
        if self.kind == "cmp":
            lit = r.value(self.col, v[0])
            return f"{lit} {FLIP[self.op]} {c}" if self.flip else f"{c} {self.op} {lit}"
        if self.kind == "in":
            items = ", ".join(r.value(self.col, x) for x in v)
            return f"{c} {'NOT ' if self.negate else ''}IN ({items})"
        if self.kind == "between":
            return (f"{c} {'NOT ' if self.negate else ''}BETWEEN {r.value(self.col, v[0])} AND "
                    f"{r.value(self.col, v[1])}")
        if self.kind == "null":
            return f"{c} IS {'NOT ' if self.negate else ''}NULL"
        return f"{c} IS {'NOT ' if self.negate else ''}{r.value(self.col, v[0])}"

    def eval(self, row):
        x = row[self.col]
        v = self.values
        if self.kind == "cmp":
            return compare(x, self.op, v[0])
        if self.kind == "in":
            if x is None:
                return None
            hit = any(e is not None and e == x for e in v)
            res = True if hit else (None if any(e is None for e in v) else False)
            return t_not(res) if self.negate else res
        if self.kind == "between":
            res = t_and(compare(x, ">=", v[0]), compare(x, "<=", v[1]))
            return t_not(res) if self.negate else res
        if self.kind == "null":
            return (x is not None) if self.negate else (x is None)
        same = (x is None and v[0] is None) or (x is not None and v[0] is not None and x == v[0])
        return not same if self.negate else same


class Node:
    def __init__(self, rng, model, depth=0):
        weights = [4, 3, 3, 1, 1, 1] if depth < 3 else [1, 0, 0, 0, 0, 0]
        self.kind = rng.choices(["leaf", "and", "or", "not", "case", "subq"], weights)[0]
        if self.kind == "leaf":
            self.leaf = Leaf(rng, model)
        else:
            self.kids = [Node(rng, model, depth + 1)
                         for _ in range(2 if self.kind in ("and", "or") else 1)]

    def sql(self, r):
        if self.kind == "leaf":
            return self.leaf.sql(r)
        a = self.kids[0].sql(r)
        if self.kind == "and":
            return f"({a} AND {self.kids[1].sql(r)})"
        if self.kind == "or":
            return f"({a} OR {self.kids[1].sql(r)})"
        if self.kind == "not":
            return f"NOT ({a})"
        if self.kind == "case":
            return f"(CASE WHEN {a} THEN 1 ELSE 0 END = 1)"
        return f"{r.qualifier}{r.pk} IN (SELECT {r.pk} FROM {r.table} WHERE {a})"

    def eval(self, row):
        if self.kind == "leaf":
            return self.leaf.eval(row)
        a = self.kids[0].eval(row)
        if self.kind == "and":
            return t_and(a, self.kids[1].eval(row))
        if self.kind == "or":
            return t_or(a, self.kids[1].eval(row))
        if self.kind == "not":
            return t_not(a)
        return a is True  # CASE … = 1, pk IN (SELECT …): never NULL


# ---- the model and the server side of a table ------------------------------------------------

PK_TYPES = {"pk_uuid": UuidType(), "pk_ts": TimestampType("TIMESTAMP")}


class Table:
    def __init__(self, server, rng, name, kind, pk_col, user):
        self.server, self.rng, self.name, self.user = server, rng, name, user
        self.pk_col = pk_col
        self.types = {pk_col: PK_TYPES[pk_col], **COLUMNS}
        self.rows = {}  # pk → row dict
        cols = ", ".join(f"{c} {t.sql}" for c, t in COLUMNS.items())
        self.run(f"CREATE {kind} TABLE {name} ({pk_col} {PK_TYPES[pk_col].sql} PRIMARY KEY, "
                 f"{cols})")

    def run(self, sql, params=None, user=None):
        who = user or self.user
        return self.server.sql(sql, params, user=who,
                               password=USER_PW if who == USER else ROOT_PASSWORD)

    def new_row(self):
        pk_type = self.types[self.pk_col]
        while True:
            pk = pk_type.gen(self.rng) if self.pk_col == "pk_ts" else \
                f"{self.rng.getrandbits(128):032x}"
            if self.pk_col == "pk_uuid":
                pk = f"{pk[:8]}-{pk[8:12]}-{pk[12:16]}-{pk[16:20]}-{pk[20:]}"
            if pk not in self.rows:
                break
        row = {self.pk_col: pk}
        for c, t in COLUMNS.items():
            row[c] = None if self.rng.random() < 0.12 else t.gen(self.rng)
        return row

    def insert(self, rows, user=None):
        cols = [self.pk_col, *COLUMNS]
        def sql(r, c):
            return "NULL" if r[c] is None else self.types[c].insert_sql(r[c])
        values = ", ".join("(" + ", ".join(sql(r, c) for c in cols) + ")" for r in rows)
        self.run(f"INSERT INTO {self.name} ({', '.join(cols)}) VALUES {values}", user=user)
        if user is None:
            for r in rows:
                self.rows[r[self.pk_col]] = dict(r, **{c: stored(c, r[c]) for c in COLUMNS})

    def flush(self):
        msg = self.server.sql(f"STORAGE FLUSH TABLE {self.name}")["results"][0]["message"]
        job = re.search(r"Job ID: (\S+)", msg).group(1)
        deadline = time.time() + 30
        while time.time() < deadline:
            rows = self.server.rows(
                f"SELECT status, message FROM system.jobs WHERE job_id = '{job}'")
            if rows and rows[0][0] not in ("queued", "running"):
                assert rows[0][0] == "completed", rows
                return
            time.sleep(0.05)
        raise AssertionError(f"flush job {job} did not finish")

    def select(self, where, params, head="SELECT pk_x FROM {t}"):
        # An explicit LIMIT: without one a SELECT returns at most limits.default_query_limit rows.
        sql = head.replace("pk_x", self.pk_col).replace("{t}", self.name) + \
            f" WHERE {where} LIMIT 1000"
        res = self.run(sql, params or None)["results"][0]
        assert len(res.get("rows", [])) < 1000
        return sql, {r[0] for r in res.get("rows", [])}

    def matching(self, pred):
        return {pk for pk, row in self.rows.items() if pred.eval(row) is True}


def stored(col, v):
    """The model value of an inserted value: FLOAT keeps float32 precision."""
    if v is not None and col == "c_flt":
        return struct.unpack("f", struct.pack("f", v))[0]
    return v


# ---- the test ---------------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def setup(server):
    server.sql("CREATE NAMESPACE diff")
    server.create_user(USER, USER_PW)


def build(server, rng, name, kind, pk_col, user):
    t = Table(server, rng, name, kind, pk_col, user)
    t.insert([t.new_row() for _ in range(40)])
    if kind == "USER":  # another user's rows, never visible to `user`
        t.insert([t.new_row() for _ in range(5)], user="root")
    t.flush()
    t.insert([t.new_row() for _ in range(30)])
    for pk in rng.sample(sorted(t.rows), 12):  # newer hot versions of flushed rows
        col = rng.choice(["c_int", "c_ts", "c_d30", "c_uuid", "c_date"])
        v = COLUMNS[col].gen(rng)
        t.run(f"UPDATE {t.name} SET {col} = {COLUMNS[col].insert_sql(v)} "
              f"WHERE {t.pk_col} = {t.types[t.pk_col].insert_sql(pk)}")
        t.rows[pk][col] = v
    for pk in rng.sample(sorted(t.rows), 6):
        t.run(f"DELETE FROM {t.name} WHERE {t.pk_col} = {t.types[t.pk_col].insert_sql(pk)}")
        del t.rows[pk]
    t.flush()  # a second segment, with tombstones
    t.insert([t.new_row() for _ in range(15)])
    return t


def start(server, label, kind, pk_col, user):
    """A seeded generator, the context for messages, and a built table."""
    rng = random.Random(f"{SEED}-{label}-{kind}")
    ctx = f"seed={SEED} (KALAMDB_DIFF_SEED={SEED} replays) table={kind}"
    return rng, ctx, build(server, rng, f"diff.{label}_{kind.lower()}", kind, pk_col, user)


def expect(t, node, where, params, ctx):
    """Runs `SELECT pk … WHERE where` and checks it against the model; returns the pks."""
    sql, got = t.select(where, params)
    want = t.matching(node)
    assert got == want, f"{ctx}\n{sql}\nparams={params}\nmissing={want - got} extra={got - want}"
    return got


def check_query(t, rng, node, ctx):
    r = Render(rng, t)
    expect(t, node, node.sql(r), r.params, ctx)


@pytest.mark.parametrize("kind,pk_col,user", [("SHARED", "pk_uuid", "root"),
                                              ("USER", "pk_ts", USER)])
def test_random_queries_match_the_model_and_the_partitioning_identity(server, kind, pk_col, user):
    rng, ctx, t = start(server, "q", kind, pk_col, user)
    for _ in range(QUERIES):
        q, p = Node(rng, t), Node(rng, t)
        r = Render(rng, t)
        qs = q.sql(r)
        q_params = list(r.params)
        ps = p.sql(r)
        all_rows = expect(t, q, qs, q_params, ctx)
        parts = [t.select(f"({qs}) AND {w}", r.params)[1]
                 for w in (f"({ps})", f"NOT ({ps})", f"({ps}) IS NULL")]
        assert parts[0] | parts[1] | parts[2] == all_rows and \
            sum(map(len, parts)) == len(all_rows), \
            f"{ctx}\npartition of\n{qs}\nby\n{ps}\nparams={r.params}\nparts={parts}"
    for _ in range(max(3, QUERIES // 20)):  # a self-join with the predicate in ON
        q = Node(rng, t)
        r = Render(rng, t, qualifier="b.")
        on = q.sql(r)
        res = t.run(f"SELECT a.{t.pk_col} FROM {t.name} a JOIN {t.name} b "
                    f"ON b.{t.pk_col} = a.{t.pk_col} AND ({on}) LIMIT 1000", r.params or None)
        got = {row[0] for row in res["results"][0].get("rows", [])}
        assert got == t.matching(q), f"{ctx}\nJOIN ON {on}\nparams={r.params}"


@pytest.mark.parametrize("kind,pk_col,user", [("SHARED", "pk_ts", "root"),
                                              ("USER", "pk_uuid", USER)])
def test_random_updates_and_deletes_match_the_model(server, kind, pk_col, user):
    rng, ctx, t = start(server, "dml", kind, pk_col, user)
    for i in range(max(10, QUERIES // 6)):
        q = Node(rng, t)
        want = t.matching(q)
        r = Render(rng, t)
        where = q.sql(r)
        if i % 3 == 2 and len(want) <= len(t.rows) // 4:
            msg = t.run(f"DELETE FROM {t.name} WHERE {where}", r.params or None)
            assert msg["results"][0]["message"] == f"Deleted {len(want)} row(s)", \
                f"{ctx}\nDELETE … WHERE {where}\nparams={r.params}"
            for pk in want:
                del t.rows[pk]
        else:
            col = rng.choice(["c_int", "c_ts", "c_d30", "c_txt", "c_time"])
            v = COLUMNS[col].gen(rng)
            msg = t.run(f"UPDATE {t.name} SET {col} = {COLUMNS[col].insert_sql(v)} "
                        f"WHERE {where}", r.params or None)
            assert msg["results"][0]["message"] == f"Updated {len(want)} row(s)", \
                f"{ctx}\nUPDATE … WHERE {where}\nparams={r.params}"
            for pk in want:
                t.rows[pk][col] = v
        check_query(t, rng, Node(rng, t), ctx)  # the table holds what the model holds
        if i == 5:
            t.flush()


@pytest.mark.parametrize("kind,pk_col,user", [("SHARED", "pk_uuid", "root"),
                                              ("USER", "pk_ts", USER)])
def test_group_by_and_distinct_match_sqlites_sort(server, kind, pk_col, user):
    """GROUP BY and DISTINCT on a column, which the table hands SQLite already grouped, against
    the same query grouped by `+column` (SQLite sorts), over hot and cold rows, newer hot
    versions of cold rows, tombstones and (USER) another user's rows; group sizes add up to the
    model's rows."""
    rng, ctx, t = start(server, "grp", kind, pk_col, user)

    def rows(sql):
        return t.run(sql)["results"][0].get("rows", [])

    for col in COLUMNS:
        for shape in ("SELECT {c}, count(*), count({c}), min({pk}) FROM {t} GROUP BY {g} "
                      "LIMIT 1000",
                      "SELECT {c}, count(*) FROM {t} GROUP BY {g} ORDER BY {c} DESC LIMIT 1000"):
            def sql(g):
                return shape.format(c=col, g=g, pk=t.pk_col, t=t.name)
            grouped = rows(sql(col))
            assert grouped == rows(sql("+" + col)), f"{ctx}\n{sql(col)}"
            assert sum(int(r[1]) for r in grouped) == len(t.rows), f"{ctx}\n{sql(col)}"
        distinct = rows(f"SELECT DISTINCT {col} FROM {t.name} LIMIT 1000")
        by_sort = rows(f"SELECT {col} FROM {t.name} GROUP BY +{col} LIMIT 1000")
        assert sorted(map(repr, distinct)) == sorted(map(repr, by_sort)), f"{ctx}\nDISTINCT {col}"


@pytest.mark.parametrize("kind,pk_col,user", [("SHARED", "pk_uuid", "root"),
                                              ("USER", "pk_ts", USER)])
def test_aggregate_path_matches_sqlite(server, kind, pk_col, user):
    """GROUP BY + COUNT/SUM/AVG/MIN/MAX computed by the aggregate path (EXPLAIN shows its row)
    against the same statement computed by SQLite (`+column` is an expression: the path does not
    take it), over hot and cold rows, newer hot versions of cold rows, tombstones and (USER)
    another user's rows: the same rows, byte for byte."""
    rng, ctx, t = start(server, "agg", kind, pk_col, user)
    numeric = ["c_int", "c_big", "c_small", "c_dbl", "c_flt"]

    def run(sql):
        return t.run(sql)["results"][0]

    for group in ["c_int", "c_small", "c_txt", None]:
        for _ in range(6):
            aggs = ["COUNT(*)"] + [rng.choice(["COUNT", "sum", "AVG", "min", "MAX"]) + "({p}" +
                                   rng.choice(numeric) + ")" for _ in range(3)]
            items = ([group] if group else []) + aggs
            shape = "SELECT " + ", ".join(items) + " FROM " + t.name
            if group:
                shape += " GROUP BY {p}" + group
                if rng.random() < 0.5:
                    shape += " ORDER BY " + group + rng.choice([" DESC", ""])
            shape += " LIMIT 1000"
            fast, slow = shape.replace("{p}", ""), shape.replace("{p}", "+")
            plans = {r[0] for r in run("EXPLAIN " + fast)["rows"]}
            assert "aggregate_path" in plans, f"{ctx}\n{fast}"
            assert "aggregate_path" not in {r[0] for r in run("EXPLAIN " + slow)["rows"]}
            got = run(fast)
            assert got.get("rows", []) == run(slow).get("rows", []), f"{ctx}\n{fast}"
            assert int(got["rows"][0][items.index("COUNT(*)")]) > 0, f"{ctx}\n{fast}"
            if not group:
                assert int(got["rows"][0][0]) == len(t.rows), f"{ctx}\n{fast}"


class NoParams(Render):
    """Literals only: live filters take no parameters."""

    def value(self, col, v):
        return "NULL" if v is None else (COLUMNS.get(col) or PK_TYPES[col]).literal(self.rng, v)


def test_live_subscriptions_deliver_what_the_model_selects(server):
    rng, ctx, t = start(server, "live", "SHARED", "pk_uuid", "root")
    c = LiveClient(server)
    subs = []
    for k in range(6):
        q = Node(rng, t)
        where = q.sql(NoParams(rng, t))
        if " IN (SELECT" in where:
            continue  # a live filter reads only its row
        _, rows = c.subscribe_ready(f"s{k}", f"SELECT pk_uuid FROM {t.name} WHERE {where}", {})
        assert {r["pk_uuid"] for r in rows} == t.matching(q), f"{ctx}\nsnapshot of {where}"
        subs.append((f"s{k}", q, where))
    new = [t.new_row() for _ in range(8)]
    t.insert(new)
    expected = sorted((sid, row[t.pk_col]) for row in new for sid, q, _ in subs
                      if q.eval(t.rows[row[t.pk_col]]) is True)
    got = sorted((e["subscription_id"], e["rows"][0]["pk_uuid"]) for e in c.changes(len(expected)))
    c.expect_silence(0.5)
    assert got == expected, f"{ctx}\n" + "\n".join(w for _, _, w in subs)
    c.close()
