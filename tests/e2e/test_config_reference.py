"""`kalamdb-server --print-default-config` and docs/reference/config.md describe the same keys,
with the same defaults and the same environment variables."""
import re
import subprocess
import tomllib

from kalam_harness import REPO, server_binary

DOC = REPO / "docs" / "reference" / "config.md"


def printed_config():
    out = subprocess.run([server_binary(), "--print-default-config"], check=True,
                         capture_output=True, text=True).stdout
    return out, tomllib.loads(out)


def printed_keys(parsed):
    return {f"{section}.{key}": value for section, keys in parsed.items()
            for key, value in keys.items()}


def printed_env(text):
    """{key: env var} from the `Env: X` notes in the comment block above each key."""
    env, pending, section = {}, [], None
    for line in text.splitlines():
        if m := re.match(r"^\[(\w+)\]$", line):
            section, pending = m.group(1), []
        elif line.startswith("#"):
            pending.append(line)
        elif m := re.match(r"^(\w+) = ", line):
            for var in re.findall(r"Env: (KALAMDB_\w+)", " ".join(pending)):
                env[f"{section}.{m.group(1)}"] = var
            pending = []
    return env


def doc_table():
    """{key: (default value, env var or None)} from the table between the config-table markers."""
    text = DOC.read_text()
    body = text.split("<!-- config-table:begin -->")[1].split("<!-- config-table:end -->")[0]
    rows = {}
    for line in body.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        key = cells[0].strip("`")
        default = tomllib.loads("v = " + cells[2].strip("`"))["v"]
        env = cells[4].strip("`") or None
        assert key not in rows, f"{key} is listed twice"
        rows[key] = (default, env)
    return rows


def test_every_printed_key_is_documented_with_its_default():
    _, parsed = printed_config()
    printed = printed_keys(parsed)
    doc = doc_table()
    assert sorted(set(printed) - set(doc)) == [], "printed but not documented"
    assert sorted(set(doc) - set(printed)) == [], "documented but not printed"
    wrong = {k: (doc[k][0], v) for k, v in printed.items() if doc[k][0] != v or
             type(doc[k][0]) is not type(v)}
    assert wrong == {}, "documented default != printed default"
    assert len(printed) == 76


def test_environment_overrides_match():
    text, _ = printed_config()
    doc = {k: env for k, (_, env) in doc_table().items() if env}
    assert doc == printed_env(text)
    assert len(doc) == 7


def test_the_file_overrides_a_default(tmp_path):
    """A documented key read from the file reaches the running server."""
    from kalam_harness import Server
    s = Server(tmp_path / "data", config_toml="[limits]\ndefault_query_limit = 7\n")
    s.start()
    try:
        rows = s.rows("SELECT value FROM system.settings WHERE name = 'limits.default_query_limit'")
        assert rows == [["7"]]
    finally:
        s.stop()


def test_an_unknown_key_stops_the_server_with_one_line(tmp_path):
    cfg = tmp_path / "server.toml"
    cfg.write_text("[limits]\nmax_query_limt = 5\n")
    r = subprocess.run([server_binary(), str(cfg)], capture_output=True, text=True, timeout=30,
                       cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr == ("kalamdb-server: Invalid configuration: unknown key 'limits.max_query_limt' "
                        "(did you mean 'limits.max_query_limit'?) in " + str(cfg) + "\n")


def test_a_cluster_member_whose_raft_ports_overlap_another_is_refused(tmp_path):
    """Each member uses user_shards + 2 consecutive Raft ports (docs/cluster.md): two members on
    one host whose ranges overlap stop the server before anything is opened."""
    cfg = tmp_path / "server.toml"
    cfg.write_text(f'[storage]\ndata_dir = "{tmp_path / "data"}"\n'
                   '[cluster]\nnode_id = 1\npeers = ["1=127.0.0.1:9100", "2=127.0.0.1:9105", '
                   '"3=127.0.0.3:9100"]\n')
    r = subprocess.run([server_binary(), str(cfg)], capture_output=True, text=True, timeout=30,
                       cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr == (
        "kalamdb-server: Invalid configuration: cluster.peers '1=127.0.0.1:9100' and "
        "'2=127.0.0.1:9105' share a host and their port ranges overlap: each node uses 10 "
        "consecutive ports (one per Raft group), so put their ports at least 10 apart in "
        + str(cfg) + "\n")
    assert not (tmp_path / "data").exists()


def test_a_cluster_section_without_peers_is_a_single_node(tmp_path):
    from kalam_harness import Server
    s = Server(tmp_path / "data", config_toml="[cluster]\nuser_shards = 4\n")
    s.start()
    try:
        rows = s.rows("SELECT name, value FROM system.settings WHERE category = 'cluster' "
                      "ORDER BY name")
        assert rows == [["cluster.api_peers", ""], ["cluster.election_timeout_ms", "1000"],
                        ["cluster.heartbeat_timeout_ms", "100"], ["cluster.node_id", "0"],
                        ["cluster.peers", ""], ["cluster.raft_dir", ""], ["cluster.secret", ""],
                        ["cluster.shared_storage_dir", ""],
                        ["cluster.snapshot_threshold", "1024"],
                        ["cluster.snapshot_trailing", "8192"], ["cluster.user_shards", "4"]]
    finally:
        s.stop()
