"""Parquet interop: files KalamDB's codec writes (through parquet_tool) read back identically in
pyarrow and DuckDB, and files pyarrow and DuckDB write read back correctly through parquet_tool.

The tool is found through KALAM_PARQUET_TOOL, else build/release/tests/interop/parquet_tool.
Values are compared exactly; statistics (min/max/null_count) are checked too.
"""

import datetime as dt
import decimal
import json
import os
import random
import struct
import subprocess
import uuid
import zlib
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[2]
UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1)
EPOCH_DATE = dt.date(1970, 1, 1)
D = decimal.Decimal


@pytest.fixture(scope="module")
def tool():
    path = Path(os.environ.get("KALAM_PARQUET_TOOL", REPO / "build/release/tests/interop/parquet_tool"))
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(
            f"parquet_tool not found at {path}. Build it (cmake --build build/release --target "
            "parquet_tool) or point KALAM_PARQUET_TOOL at it."
        )
    return str(path)


def run_read(tool, path):
    r = subprocess.run([tool, "read", str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"parquet_tool read {path} failed: {r.stderr}"
    return json.loads(r.stdout)


def run_write(tool, path, spec, tmp_path):
    spec_path = tmp_path / (Path(path).stem + ".json")
    spec_path.write_text(json.dumps(spec))
    r = subprocess.run([tool, "write", str(path), str(spec_path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, f"parquet_tool write failed: {r.stderr}"


# ---- The data: one generator per KalamDB type mapping, in logical Python values ----

def stable_seed(*parts):
    return zlib.crc32(repr(parts).encode())


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def two_complement(n, length):
    return (n % (1 << (8 * length))).to_bytes(length, "big")


def gen_value(kind, rng, i):
    """A logical value of `kind` for row i (repeats often so that dictionaries kick in)."""
    pick = rng.randrange(12)
    if kind == "bool":
        return rng.random() < 0.3
    if kind == "int32":
        return [-2**31, 2**31 - 1, 0, -1][pick] if pick < 4 else rng.randrange(-1000, 1000)
    if kind == "int16":
        return [-32768, 32767][pick] if pick < 2 else rng.randrange(-300, 300)
    if kind == "int64":
        return [-2**63, 2**63 - 1][pick] if pick < 2 else rng.randrange(-10**15, 10**15)
    if kind == "float":
        return f32([0.1, -2.5, 3.0e38, -0.0][pick]) if pick < 4 else f32(rng.randrange(-100, 100) / 8)
    if kind == "double":
        return [0.1, -1e300, 5e-324, 2.5][pick] if pick < 4 else rng.randrange(-10**6, 10**6) / 3
    if kind == "dec18":
        return D(rng.randrange(-10**18 + 1, 10**18)).scaleb(-4) if pick < 6 else D(rng.randrange(-50, 50)).scaleb(-4)
    if kind == "dec38":
        return D(rng.randrange(-10**38 + 1, 10**38)).scaleb(-10)
    if kind == "dec10":
        return D(rng.randrange(-10**10 + 1, 10**10)).scaleb(-2)
    if kind == "string":
        return ["", "hello", "h\u00e9llo w\u00f6rld \U0001f389", "Zebra", "zebra", "\u00e9t\u00e9"][pick] if pick < 6 else f"msg-{rng.randrange(40)}"
    if kind == "json":
        return json.dumps({"n": rng.randrange(20), "tags": ["a", "b"][: rng.randrange(3)]})
    if kind == "binary":
        return bytes([0, 255, 128])[: pick % 4] if pick < 4 else bytes(rng.randrange(256) for _ in range(rng.randrange(10)))
    if kind in ("timestamp", "timestamptz"):
        micros = rng.randrange(-2 * 10**15, 4 * 10**15)
        value = EPOCH + dt.timedelta(microseconds=micros)
        return value.replace(tzinfo=UTC) if kind == "timestamptz" else value
    if kind == "date":
        return EPOCH_DATE + dt.timedelta(days=rng.randrange(-700000, 2900000))
    if kind == "time":
        return (dt.datetime(2000, 1, 1) + dt.timedelta(microseconds=rng.randrange(86400 * 10**6))).time()
    if kind == "uuid":
        return uuid.UUID(int=rng.getrandbits(128)) if pick < 8 else uuid.UUID(int=pick)
    if kind == "embedding":
        return struct.pack("<4f", *(f32(rng.randrange(-50, 50) / 4) for _ in range(4)))
    raise AssertionError(kind)


# kind → (parquet_tool column schema, pyarrow type)
KINDS = {
    "bool": ({"physical": "BOOLEAN"}, pa.bool_()),
    "int32": ({"physical": "INT32"}, pa.int32()),
    "int16": ({"physical": "INT32", "logical": "INT", "bit_width": 16}, pa.int16()),
    "int64": ({"physical": "INT64"}, pa.int64()),
    "float": ({"physical": "FLOAT"}, pa.float32()),
    "double": ({"physical": "DOUBLE"}, pa.float64()),
    "dec18": ({"physical": "INT64", "logical": "DECIMAL", "precision": 18, "scale": 4}, pa.decimal128(18, 4)),
    "dec38": ({"physical": "FIXED_LEN_BYTE_ARRAY", "logical": "DECIMAL", "precision": 38, "scale": 10,
               "type_length": 16}, pa.decimal128(38, 10)),
    "dec10": ({"physical": "FIXED_LEN_BYTE_ARRAY", "logical": "DECIMAL", "precision": 10, "scale": 2,
               "type_length": 5}, pa.decimal128(10, 2)),
    "string": ({"physical": "BYTE_ARRAY", "logical": "STRING"}, pa.string()),
    "json": ({"physical": "BYTE_ARRAY", "logical": "JSON"}, pa.json_(pa.string())),
    "binary": ({"physical": "BYTE_ARRAY"}, pa.binary()),
    "timestamp": ({"physical": "INT64", "logical": "TIMESTAMP", "unit": "MICROS"}, pa.timestamp("us")),
    "timestamptz": ({"physical": "INT64", "logical": "TIMESTAMP", "unit": "MICROS", "utc_adjusted": True},
                    pa.timestamp("us", tz="UTC")),
    "date": ({"physical": "INT32", "logical": "DATE"}, pa.date32()),
    "time": ({"physical": "INT64", "logical": "TIME", "unit": "MICROS"}, pa.time64("us")),
    "uuid": ({"physical": "FIXED_LEN_BYTE_ARRAY", "logical": "UUID", "type_length": 16}, pa.uuid()),
    "embedding": ({"physical": "FIXED_LEN_BYTE_ARRAY", "type_length": 16}, pa.binary(16)),
}


def to_physical(value, col):
    """The parquet_tool JSON form of a logical value for a column schema (as the tool prints it)."""
    if value is None:
        return None
    physical, logical = col["physical"], col["logical"]
    if logical == "DECIMAL":
        unscaled = int(value.scaleb(col["scale"]))
        if physical in ("INT32", "INT64"):
            return unscaled
        return two_complement(unscaled, col["type_length"]).hex()
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return "NaN" if value != value else value
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return value.encode().hex()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return value.bytes.hex()
    per_second = {"MILLIS": 10**3, "MICROS": 10**6, "NANOS": 10**9}[col["unit"]]
    if isinstance(value, dt.datetime):
        delta = value.replace(tzinfo=None) - EPOCH
        micros = (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds
        return micros * per_second // 10**6
    if isinstance(value, dt.date):
        return (value - EPOCH_DATE).days
    if isinstance(value, dt.time):
        micros = ((value.hour * 60 + value.minute) * 60 + value.second) * 10**6 + value.microsecond
        return micros * per_second // 10**6
    raise AssertionError(repr(value))


def make_rows(kinds, n, seed, null_rate=0.2, required=()):
    rng = random.Random(seed)
    columns = {}
    for kind in kinds:
        values = []
        for i in range(n):
            if kind not in required and rng.random() < null_rate:
                values.append(None)
            else:
                values.append(gen_value(kind, rng, i))
        columns[kind] = values
    return columns


def expected_bounds(values):
    """min/max of the non-null values in the column's sort order (Python order matches it for
    every kind here: UTF-8 byte order = code point order, UUID ints = unsigned bytes)."""
    present = [v for v in values if v is not None and not (isinstance(v, float) and v != v)]
    if not present:
        return None, None
    if isinstance(present[0], float):
        lo, hi = min(present), max(present)
        return (-0.0 if lo == 0 else lo), (0.0 if hi == 0 else hi)
    return min(present), max(present)


# ---- Our files → pyarrow and DuckDB ----

ALL_KINDS = list(KINDS)


def exact_json(value):
    # Floats travel as hex-float text: JSON number parsing in the tool may round the last bit.
    return value.hex() if isinstance(value, float) else value


def write_ours(tool, tmp_path, name, groups, options, required=()):
    columns = []
    for kind in ALL_KINDS:
        schema = dict(KINDS[kind][0], name=kind, nullable=kind not in required)
        columns.append(schema)
    full = [dict({"logical": "NONE", "unit": "MICROS"}, **c) for c in columns]
    spec = {
        "options": options,
        "key_value_metadata": [["kalamdb.table", "chat.messages"], ["kalamdb.schema_version", "3"]],
        "columns": columns,
        "row_groups": [[[exact_json(to_physical(v, full[i])) for v in g[kind]]
                        for i, kind in enumerate(ALL_KINDS)] for g in groups],
    }
    path = tmp_path / f"{name}.parquet"
    run_write(tool, path, spec, tmp_path)
    return path


def check_pyarrow_reads_ours(path, groups, required):
    pf = pq.ParquetFile(path)
    md = pf.metadata
    assert md.num_row_groups == len(groups)
    assert md.created_by == "kalamdb"
    assert pf.schema_arrow.metadata[b"kalamdb.table"] == b"chat.messages"
    table = pq.read_table(path)
    for kind in ALL_KINDS:
        field = table.schema.field(kind)
        assert field.type == KINDS[kind][1], (kind, field.type)
        assert field.nullable == (kind not in required), kind
        expected = [v for g in groups for v in g[kind]]
        got = table.column(kind).to_pylist()
        if kind in ("float", "double"):
            assert [struct.pack("<d", x) if x is not None else None for x in got] == \
                   [struct.pack("<d", x) if x is not None else None for x in expected], kind
        else:
            assert got == expected, kind
    for g, group in enumerate(groups):
        rg = md.row_group(g)
        assert rg.num_rows == len(group["bool"])
        for j, kind in enumerate(ALL_KINDS):
            stats = rg.column(j).statistics
            assert stats is not None, kind
            assert stats.null_count == sum(v is None for v in group[kind]), kind
            lo, hi = expected_bounds(group[kind])
            if lo is None:
                assert not stats.has_min_max, kind
                continue
            assert stats.has_min_max, kind
            got_lo, got_hi = stats.min, stats.max
            if kind == "uuid":
                got_lo, got_hi = uuid.UUID(bytes=got_lo), uuid.UUID(bytes=got_hi)
            if kind == "json":
                lo, hi = lo.encode(), hi.encode()
                got_lo = got_lo if isinstance(got_lo, bytes) else got_lo.encode()
                got_hi = got_hi if isinstance(got_hi, bytes) else got_hi.encode()
            assert (got_lo, got_hi) == (lo, hi), kind


def duck_select(kinds):
    # TIMESTAMPTZ as epoch micros: the Python conversion of TIMESTAMPTZ needs pytz.
    return ", ".join(f'epoch_us("{k}") AS "{k}"' if k == "timestamptz" else f'"{k}"' for k in kinds)


def duck_expected(value, kind):
    if value is None:
        return None
    if kind == "timestamptz":
        return to_physical(value, {"physical": "INT64", "logical": "TIMESTAMP", "unit": "MICROS"})
    return value


def check_duckdb_reads_ours(path, groups):
    con = duckdb.connect()
    rows = con.sql(f"SELECT {duck_select(ALL_KINDS)} FROM read_parquet('{path}')").fetchall()
    expected_rows = list(zip(*[[duck_expected(v, k) for g in groups for v in g[k]] for k in ALL_KINDS]))
    assert len(rows) == len(expected_rows)
    for j, kind in enumerate(ALL_KINDS):
        got = [r[j] for r in rows]
        want = [r[j] for r in expected_rows]
        if kind in ("float", "double"):
            got = [struct.pack("<d", x) if x is not None else None for x in got]
            want = [struct.pack("<d", x) if x is not None else None for x in want]
        assert got == want, kind
    schema = {r[0]: r[1:] for r in con.sql(
        f"SELECT name, type, converted_type, logical_type FROM parquet_schema('{path}')").fetchall()}
    assert schema["int16"][1] == "INT_16"
    assert schema["string"][1] == "UTF8"
    assert schema["json"][1] == "JSON"
    assert schema["timestamp"][1] == "TIMESTAMP_MICROS" and "isAdjustedToUTC=0" in schema["timestamp"][2]
    assert "isAdjustedToUTC=1" in schema["timestamptz"][2]
    assert schema["time"][1] == "TIME_MICROS"
    assert schema["date"][1] == "DATE"
    assert schema["dec38"][0] == "FIXED_LEN_BYTE_ARRAY" and schema["dec38"][1] == "DECIMAL"
    assert "UUID" in schema["uuid"][2]
    kv = dict(con.sql(f"SELECT decode(key), decode(value) FROM parquet_kv_metadata('{path}')").fetchall())
    assert kv["kalamdb.table"] == "chat.messages"
    stats = con.sql(f"SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value, stats_null_count "
                    f"FROM parquet_metadata('{path}') WHERE path_in_schema IN ('int64', 'string')").fetchall()
    for g, name, lo, hi, nulls in stats:
        values = groups[g][name]
        want_lo, want_hi = expected_bounds(values)
        assert nulls == sum(v is None for v in values)
        assert (lo, hi) == (str(want_lo), str(want_hi)), (g, name)


CODECS = ["UNCOMPRESSED", "SNAPPY", "GZIP", "ZSTD"]


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("dictionary", [True, False])
def test_pyarrow_and_duckdb_read_our_files(tool, tmp_path, codec, dictionary):
    required = ("int64", "string")
    groups = [make_rows(ALL_KINDS, n, seed=stable_seed(codec, dictionary, g), required=required)
              for g, n in enumerate([700, 1, 333])]
    options = {"codec": codec, "dictionary": dictionary, "data_page_bytes": 2048}
    path = write_ours(tool, tmp_path, f"ours_{codec}_{dictionary}", groups, options, required)
    check_pyarrow_reads_ours(path, groups, required)
    check_duckdb_reads_ours(path, groups)
    # And our own reader agrees with itself on what it wrote.
    out = run_read(tool, path)
    assert out["num_rows"] == 1034
    assert ["kalamdb.table", "chat.messages"] in out["key_value_metadata"]
    for g, group in enumerate(groups):
        for j, kind in enumerate(ALL_KINDS):
            col = out["columns"][j]
            assert out["row_groups"][g]["columns"][j]["codec"] == codec
            assert out["row_groups"][g]["columns"][j]["values"] == [to_physical(v, col) for v in group[kind]]


def test_all_null_and_empty_string_columns_interoperate(tool, tmp_path):
    n = 50
    spec = {
        "columns": [{"name": "nothing", "physical": "INT64"},
                    {"name": "empty", "physical": "BYTE_ARRAY", "logical": "STRING", "nullable": False}],
        "row_groups": [[[None] * n, [""] * n]],
    }
    path = tmp_path / "nulls.parquet"
    run_write(tool, path, spec, tmp_path)
    table = pq.read_table(path)
    assert table.column("nothing").to_pylist() == [None] * n
    assert table.column("empty").to_pylist() == [""] * n
    stats = pq.ParquetFile(path).metadata.row_group(0).column(0).statistics
    assert stats.null_count == n and not stats.has_min_max
    con = duckdb.connect()
    assert con.sql(f"SELECT count(nothing), count(*), max(length(empty)) FROM '{path}'").fetchall() == [(0, n, 0)]


# ---- pyarrow's and DuckDB's files → our reader ----

def arrow_table(groups_rows, kinds):
    data = {k: [v for v in groups_rows[k]] for k in kinds}
    arrays = {}
    for k in kinds:
        typ = KINDS[k][1]
        if k == "uuid":
            arrays[k] = pa.array([v.bytes if v is not None else None for v in data[k]], typ)
        else:
            arrays[k] = pa.array(data[k], typ)
    return pa.table(arrays)


def check_ours_reads(tool, path, rows, kinds, expect_codec=None, allow_missing_stats=()):
    out = run_read(tool, path)
    names = [c["name"] for c in out["columns"]]
    assert names == kinds
    offset = 0
    for g, rg in enumerate(out["row_groups"]):
        n = rg["num_rows"]
        for j, kind in enumerate(kinds):
            col = out["columns"][j]
            chunk = rg["columns"][j]
            values = rows[kind][offset:offset + n]
            assert chunk["values"] == [to_physical(v, col) for v in values], (path.name, kind, g)
            if expect_codec:
                assert chunk["codec"] == expect_codec
            nulls = sum(v is None for v in values)
            assert chunk["stats"]["null_count"] in (nulls, -1), kind
            lo, hi = expected_bounds(values)
            got = chunk["stats"]
            if got["min"] is None:
                assert kind in allow_missing_stats or lo is None, (path.name, kind, "missing stats")
                continue
            assert (got["min"], got["max"]) == (to_physical(lo, col), to_physical(hi, col)), (path.name, kind, g)
        offset += n
    assert offset == len(rows[kinds[0]])
    return out


EXPECTED_SCHEMA = {
    "int16": ("INT32", "INT"), "dec38": ("FIXED_LEN_BYTE_ARRAY", "DECIMAL"),
    "string": ("BYTE_ARRAY", "STRING"), "json": ("BYTE_ARRAY", "JSON"), "timestamp": ("INT64", "TIMESTAMP"),
    "timestamptz": ("INT64", "TIMESTAMP"), "date": ("INT32", "DATE"), "time": ("INT64", "TIME"),
    "uuid": ("FIXED_LEN_BYTE_ARRAY", "UUID"), "binary": ("BYTE_ARRAY", "NONE"), "bool": ("BOOLEAN", "NONE"),
}


def check_schema(out, dec18_physical="INT64"):
    for col in out["columns"]:
        if col["name"] in EXPECTED_SCHEMA:
            assert (col["physical"], col["logical"]) == EXPECTED_SCHEMA[col["name"]], col
    by_name = {c["name"]: c for c in out["columns"]}
    if "dec18" in by_name:
        assert (by_name["dec18"]["physical"], by_name["dec18"]["logical"]) == (dec18_physical, "DECIMAL")
    if "timestamptz" in by_name:
        assert by_name["timestamptz"]["utc_adjusted"] is True
        assert by_name["timestamp"]["utc_adjusted"] is False
        assert by_name["timestamp"]["unit"] == "MICROS"
    if "int16" in by_name:
        assert by_name["int16"]["bit_width"] == 16 and by_name["int16"]["signed"] is True
    if "dec38" in by_name:
        assert (by_name["dec38"]["precision"], by_name["dec38"]["scale"]) == (38, 10)


PYARROW_KINDS = [k for k in ALL_KINDS if k != "embedding"] + ["embedding"]


@pytest.mark.parametrize("compression", ["snappy", "zstd", "gzip", "none"])
@pytest.mark.parametrize("page_version", ["1.0", "2.0"])
@pytest.mark.parametrize("dictionary", [True, False])
def test_we_read_pyarrow_files(tool, tmp_path, compression, page_version, dictionary):
    rows = make_rows(PYARROW_KINDS, 1500, seed=stable_seed(compression, page_version, dictionary))
    path = tmp_path / f"pa_{compression}_{page_version}_{dictionary}.parquet"
    pq.write_table(arrow_table(rows, PYARROW_KINDS), path, compression=compression,
                   data_page_version=page_version, use_dictionary=dictionary, row_group_size=600,
                   data_page_size=1024, store_decimal_as_integer=dictionary)
    codec = {"none": "UNCOMPRESSED"}.get(compression, compression.upper())
    out = check_ours_reads(tool, path, rows, PYARROW_KINDS, codec)
    # pyarrow stores DECIMAL(18) as INT64 only when asked, else as FIXED_LEN_BYTE_ARRAY(8).
    check_schema(out, "INT64" if dictionary else "FIXED_LEN_BYTE_ARRAY")
    assert len(out["row_groups"]) == 3


@pytest.mark.parametrize("page_version", ["1.0", "2.0"])
def test_we_read_pyarrow_delta_byte_stream_split_and_rle_encodings(tool, tmp_path, page_version):
    kinds = ["int32", "int64", "timestamp", "date", "float", "double", "string", "binary", "json", "bool"]
    rows = make_rows(kinds, 2500, seed=99)
    path = tmp_path / f"pa_delta_{page_version}.parquet"
    pq.write_table(arrow_table(rows, kinds), path, compression="zstd", data_page_version=page_version,
                   use_dictionary=False, row_group_size=1000, data_page_size=512,
                   column_encoding={"int32": "DELTA_BINARY_PACKED", "int64": "DELTA_BINARY_PACKED",
                                    "timestamp": "DELTA_BINARY_PACKED", "date": "BYTE_STREAM_SPLIT",
                                    "float": "BYTE_STREAM_SPLIT", "double": "BYTE_STREAM_SPLIT",
                                    "string": "DELTA_BYTE_ARRAY", "binary": "DELTA_LENGTH_BYTE_ARRAY",
                                    "json": "DELTA_BYTE_ARRAY", "bool": "RLE"})
    encodings = {pq.ParquetFile(path).metadata.row_group(0).column(j).path_in_schema:
                 pq.ParquetFile(path).metadata.row_group(0).column(j).encodings for j in range(len(kinds))}
    assert "DELTA_BYTE_ARRAY" in encodings["string"] and "BYTE_STREAM_SPLIT" in encodings["double"]
    check_ours_reads(tool, path, rows, kinds, "ZSTD")


def test_we_read_pyarrow_int96_timestamps_as_nanoseconds(tool, tmp_path):
    values = [dt.datetime(2024, 2, 29, 12, 0, 0, 123456), None, dt.datetime(1900, 1, 1), EPOCH]
    path = tmp_path / "int96.parquet"
    pq.write_table(pa.table({"ts": pa.array(values, pa.timestamp("us"))}), path,
                   use_deprecated_int96_timestamps=True)
    out = run_read(tool, path)
    assert out["columns"][0]["physical"] == "INT96"
    want = [None if v is None else to_physical(v, {"physical": "INT64", "logical": "TIMESTAMP", "unit": "NANOS"})
            for v in values]
    assert out["row_groups"][0]["columns"][0]["values"] == want


DUCK_TYPES = {
    "bool": "BOOLEAN", "int16": "SMALLINT", "int32": "INTEGER", "int64": "BIGINT", "float": "FLOAT",
    "double": "DOUBLE", "dec18": "DECIMAL(18,4)", "dec38": "DECIMAL(38,10)", "string": "VARCHAR",
    "json": "JSON", "binary": "BLOB", "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMPTZ", "date": "DATE",
    "time": "TIME", "uuid": "UUID",
}
DUCK_KINDS = list(DUCK_TYPES)


@pytest.mark.parametrize("compression", ["snappy", "zstd", "gzip", "uncompressed"])
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_we_read_duckdb_files(tool, tmp_path, compression, version):
    rows = make_rows(DUCK_KINDS, 3000, seed=stable_seed(compression, version))
    table = arrow_table(rows, DUCK_KINDS)
    con = duckdb.connect()
    con.register("src", table)
    casts = ", ".join(f'CAST("{k}" AS {DUCK_TYPES[k]}) AS "{k}"' for k in DUCK_KINDS)
    path = tmp_path / f"duck_{compression}_{version}.parquet"
    con.sql(f"COPY (SELECT {casts} FROM src) TO '{path}' (FORMAT parquet, COMPRESSION {compression}, "
            f"ROW_GROUP_SIZE 2048, PARQUET_VERSION {version})")
    codec = compression.upper()
    out = check_ours_reads(tool, path, rows, DUCK_KINDS, codec)
    check_schema(out)
    assert len(out["row_groups"]) >= 2
