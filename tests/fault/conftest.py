"""Fixtures of the fault suite: the e2e harness (tests/e2e/kalam_harness.py, live_client.py) on
the import path, the form being run (short or long) and its numbers, and one summary line per
test printed at the end of the run."""
import os
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

# KALAMDB_FAULT_FORM=short (default; inside scripts/test.sh) or long (release checks). Any number
# can be overridden for a local run with KALAMDB_FAULT_<NAME>, e.g. KALAMDB_FAULT_SOAK_SECONDS=60.
FORMS = {
    "short": {
        "crash_cycles": 20,
        "chaos_reconnects": 1000,
        "chaos_max_seconds": 240,
        "soak_seconds": 300,
        "soak_warmup_seconds": 30,
        "cluster_kills": 3,
        "cluster_bench_seconds": 3,
    },
    "long": {
        "crash_cycles": 200,
        "chaos_reconnects": 10000,
        "chaos_max_seconds": 2400,
        "soak_seconds": 3600,
        "soak_warmup_seconds": 120,
        "cluster_kills": 50,
        "cluster_bench_seconds": 10,
    },
}

_summaries = []


@pytest.fixture(scope="session")
def form():
    name = os.environ.get("KALAMDB_FAULT_FORM", "short")
    if name not in FORMS:
        raise pytest.UsageError(f"KALAMDB_FAULT_FORM must be short or long, not {name!r}")
    numbers = dict(FORMS[name], name=name)
    for key in FORMS[name]:
        env = os.environ.get(f"KALAMDB_FAULT_{key.upper()}")
        if env:
            numbers[key] = int(env)
    return numbers


@pytest.fixture
def seed():
    """The test's random seed: KALAMDB_FAULT_SEED to replay a run, else a fresh one. Tests print
    it in their summary line and failure messages."""
    env = os.environ.get("KALAMDB_FAULT_SEED")
    return int(env) if env else random.randrange(1 << 30)


@pytest.fixture
def summary(request):
    """summary(text): one line reported for this test at the end of the run."""
    def add(text):
        line = f"{request.node.name}: {text}"
        _summaries.append(line)
        print(line, flush=True)
    return add


def pytest_terminal_summary(terminalreporter):
    if _summaries:
        terminalreporter.section("fault suite numbers")
        for line in _summaries:
            terminalreporter.write_line(line)
