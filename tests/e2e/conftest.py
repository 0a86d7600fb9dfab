"""pytest fixtures: a fresh server per test module (`server`) or per test (`fresh_server`)."""
import pytest

from kalam_harness import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("kdb") / "data").start()
    yield s
    s.stop()


@pytest.fixture
def fresh_server(tmp_path):
    s = Server(tmp_path / "data").start()
    yield s
    s.stop()


_counter = [0]


@pytest.fixture
def ns(server):
    """A new namespace for one test, so tests in a module don't see each other's tables."""
    _counter[0] += 1
    name = f"t{_counter[0]}"
    server.sql(f"CREATE NAMESPACE {name}")
    return name
