"""bench/parity_bench (docs/benchmarks.md) in its smoke mode: every workload of the original
benchmark tool's list runs with tiny counts against a real server and passes its checks, a failed
check marks its workload FAILED (exit 1), and --compare reads an earlier run's JSON."""
import json
import subprocess
import time
from pathlib import Path

import pytest

from kalam_harness import ROOT_PASSWORD, serve, server_binary

# The server settings the driver documents: many logins from one address, thousands of
# subscriptions for one user, subscribe messages faster than 50/s on one connection.
BENCH_CONFIG = ("[rate_limit]\nmax_auth_requests_per_ip_per_sec = 0\n"
                "max_subscriptions_per_user = 0\nmax_messages_per_sec = 0\n")

WORKLOADS = [
    "create_table", "drop_table", "single_insert", "bulk_insert", "transaction_multi_insert",
    "select_all", "select_by_filter", "select_count", "select_order_by_limit", "single_update",
    "single_delete", "concurrent_insert", "concurrent_select", "point_lookup", "aggregate_query",
    "multi_table_join", "large_payload_insert", "wide_column_insert", "bulk_delete",
    "sequential_crud", "alter_table", "concurrent_update", "concurrent_mixed_dml",
    "namespace_isolation", "subscribe_initial_load", "subscribe_change_latency",
    "reconnect_subscribe", "flushed_parquet_query", "concurrent_subscribers",
    "concurrent_publishers", "concurrent_consumers", "sql_1k_concurrent", "create_user",
    "drop_user", "connection_storm", "mixed_read_write", "wide_fanout_query", "subscriber_scale",
]


def bench_binary() -> Path:
    # build/<preset>/src/server/kalamdb-server → build/<preset>/bench/parity_bench
    return Path(server_binary()).resolve().parents[2] / "bench" / "parity_bench"


def run_bench(server, *args, timeout=90):
    cmd = [str(bench_binary()), "--port", str(server.port), "--password", ROOT_PASSWORD, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def bench_server(tmp_path_factory):
    yield from serve(tmp_path_factory, config_toml=BENCH_CONFIG)


def test_quick_mode_runs_every_workload_with_checked_results(bench_server, tmp_path):
    out = tmp_path / "quick.json"
    start = time.monotonic()
    p = run_bench(bench_server, "--quick", "--json", str(out))
    elapsed = time.monotonic() - start
    assert p.returncode == 0, p.stdout + p.stderr
    assert elapsed < 60, f"smoke mode took {elapsed:.1f} s"
    report = json.loads(out.read_text())
    results = report["results"]
    assert [r["name"] for r in results] == WORKLOADS
    failed = [(r["name"], r["error"]) for r in results if not r["success"]]
    assert failed == []
    # Quick mode: 3 timed iterations (after 1 warm-up), the scale test exactly one.
    assert {r["name"]: r["iterations"] for r in results} == {
        n: (1 if n == "subscriber_scale" else 3) for n in WORKLOADS}
    for r in results:
        assert 0 < r["min_us"] <= r["median_us"] <= r["p95_us"] <= r["p99_us"] <= r["max_us"], r
        assert r["ops_per_sec"] > 0
    assert report["summary"] == {**report["summary"], "total_benchmarks": 38, "passed": 38,
                                 "failed": 0}
    assert report["config"]["quick"] is True and report["config"]["iterations"] == 3
    scale = next(r for r in results if r["name"] == "subscriber_scale")
    assert [d["label"] for d in scale["details"]] == ["tier 10", "tier 20"]
    assert "probe delivered 20/20" in scale["details"][1]["value"]
    # The run's namespace is gone afterwards.
    ns = report["config"]["namespace"]
    assert bench_server.rows(
        f"SELECT COUNT(*) FROM system.namespaces WHERE namespace_id = '{ns}'") == [["0"]]
    # Readable table, then --compare against this run's JSON.
    assert "38 workloads, 38 passed, 0 failed" in p.stdout
    p2 = run_bench(bench_server, "--quick", "--only", "select_count,point_lookup",
                   "--compare", str(out))
    assert p2.returncode == 0, p2.stdout + p2.stderr
    assert "geometric mean of p50 ratios over 2 workloads" in p2.stdout


@pytest.fixture(scope="module")
def default_limits_server(tmp_path_factory):
    yield from serve(tmp_path_factory, config_toml="")


def test_a_failed_check_marks_the_workload_failed(default_limits_server, tmp_path):
    # Built-in limits: 10 subscriptions per user, so the scale test's 11th subscription is refused.
    out = tmp_path / "fail.json"
    p = run_bench(default_limits_server, "--quick", "--only", "select_count,subscriber_scale",
                  "--json", str(out))
    assert p.returncode == 1, p.stdout + p.stderr
    results = {r["name"]: r for r in json.loads(out.read_text())["results"]}
    assert results["select_count"]["success"] is True
    scale = results["subscriber_scale"]
    assert scale["success"] is False
    assert scale["error"].startswith("iteration 0: subscription 11: subscribe scale_10: ")
    assert "SUBSCRIPTION_LIMIT_EXCEEDED" in scale["error"]
    assert "FAILED: iteration 0: subscription 11" in p.stdout


def test_usage_errors_change_nothing(bench_server):
    p = run_bench(bench_server, "--only", "select_all,nope")
    assert (p.returncode, p.stderr.splitlines()[0]) == (
        2, "parity_bench: unknown workload 'nope' (see --list)")
    p = run_bench(bench_server, "--iterations", "0")
    assert (p.returncode, p.stderr.splitlines()[0]) == (
        2, "parity_bench: bad value '0' for --iterations")
    listed = subprocess.run([str(bench_binary()), "--list"], capture_output=True, text=True,
                            timeout=10)
    assert [line.split()[0] for line in listed.stdout.splitlines()] == WORKLOADS
