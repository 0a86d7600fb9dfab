"""`kalam` one-shot runs (-c, -f, stdin) against the real server: exact table/CSV/JSON output,
errors and exit codes, config and credentials files, flags."""
import json
import os
import re
import signal
import stat
import subprocess
import time

import pytest

from cli_pty import cli_binary, cli_env, run_cli
from kalam_harness import ROOT_PASSWORD, free_port


@pytest.fixture
def items(server, ns):
    """A SHARED table with ASCII, East Asian wide, emoji, quotes, commas, newlines and NULLs."""
    server.sql(f"CREATE SHARED TABLE {ns}.items (id INT PRIMARY KEY, name TEXT, price DOUBLE, "
               f"note TEXT, qty BIGINT)")
    server.sql(f"INSERT INTO {ns}.items (id, name, price, note, qty) VALUES "
               f"(1, 'apple', 1.5, NULL, 10), "
               f"(2, '日本語テキスト', 20.25, 'say \"hi\", ok', 3), "
               f"(3, 'emoji 🎉', 3.0, 'a\nb', NULL)")
    return f"{ns}.items"


def test_command_prints_exact_aligned_table_with_wide_characters(server, items, tmp_path):
    r = run_cli(server, tmp_path, "-c", f"SELECT id, name, price, note, qty FROM {items} ORDER BY id")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout == (
        "+----+----------------+-------+--------------+------+\n"
        "| id | name           | price | note         | qty  |\n"
        "+----+----------------+-------+--------------+------+\n"
        "|  1 | apple          |   1.5 | NULL         |   10 |\n"
        "|  2 | 日本語テキスト | 20.25 | say \"hi\", ok |    3 |\n"
        "|  3 | emoji 🎉       |   3.0 | a\\nb         | NULL |\n"
        "+----+----------------+-------+--------------+------+\n"
        "(3 rows)\n")


def test_command_csv_output_quotes_exactly(server, items, tmp_path):
    r = run_cli(server, tmp_path, "--csv", "-c",
                f"SELECT id, name, price, note, qty FROM {items} ORDER BY id")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("id,name,price,note,qty\n"
                        "1,apple,1.5,,10\n"
                        "2,日本語テキスト,20.25,\"say \"\"hi\"\", ok\",3\n"
                        "3,emoji 🎉,3.0,\"a\nb\",\n")


def test_command_json_output_is_one_exact_line_per_result(server, items, tmp_path):
    r = run_cli(server, tmp_path, "--json", "-c",
                f"SELECT id, name, price, note, qty FROM {items} WHERE id < 3 ORDER BY id; "
                f"UPDATE {items} SET qty = 11 WHERE id = 1")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        '{"rows":[{"id":1,"name":"apple","price":1.5,"note":null,"qty":"10"},'
        '{"id":2,"name":"日本語テキスト","price":20.25,"note":"say \\"hi\\", ok","qty":"3"}],'
        '"row_count":2}\n'
        '{"row_count":1,"message":"Updated 1 row(s)"}\n')
    for line in r.stdout.splitlines():
        json.loads(line)


def test_empty_result_and_messages_in_table_format(server, ns, tmp_path):
    r = run_cli(server, tmp_path, "-c",
                f"CREATE SHARED TABLE {ns}.e (id INT PRIMARY KEY, v TEXT); "
                f"SELECT id, v FROM {ns}.e; INSERT INTO {ns}.e (id, v) VALUES (1, 'x'), (2, 'y')")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (f"shared table {ns}.e created successfully\n"
                        "+----+---+\n"
                        "| id | v |\n"
                        "+----+---+\n"
                        "(0 rows)\n"
                        "Inserted 2 row(s)\n")


SCRIPT = """-- a script with comments, multi-line statements and ';' inside strings
CREATE SHARED TABLE {ns}.notes (
  id INT PRIMARY KEY,
  body TEXT   /* block comment; with a semicolon */
);
INSERT INTO {ns}.notes (id, body) VALUES (1, 'one; two'), (2, 'it''s');

SELECT id, body
FROM {ns}.notes
ORDER BY id;
"""


def test_file_runs_each_statement_with_exact_output(server, ns, tmp_path):
    script = tmp_path / "script.sql"
    script.write_text(SCRIPT.format(ns=ns))
    r = run_cli(server, tmp_path, "-f", str(script))
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout == (f"shared table {ns}.notes created successfully\n"
                        "Inserted 2 row(s)\n"
                        "+----+----------+\n"
                        "| id | body     |\n"
                        "+----+----------+\n"
                        "|  1 | one; two |\n"
                        "|  2 | it's     |\n"
                        "+----+----------+\n"
                        "(2 rows)\n")


def test_file_stops_at_the_first_failing_statement(server, ns, tmp_path):
    script = tmp_path / "broken.sql"
    script.write_text(f"CREATE SHARED TABLE {ns}.b (id INT PRIMARY KEY);\n"
                      f"INSERT INTO {ns}.b (id) VALUES (1);\n"
                      f"\n"
                      f"SELECT *\n  FROM {ns}.missing;\n"
                      f"INSERT INTO {ns}.b (id) VALUES (2);\n")
    r = run_cli(server, tmp_path, "-f", str(script))
    assert r.returncode == 1
    assert r.stdout == f"shared table {ns}.b created successfully\nInserted 1 row(s)\n"
    assert r.stderr == (f"{script}:4: Error [TABLE_NOT_FOUND]: Statement 1 failed: Not found: Table '{ns}.missing' does not "
                        f"exist\n")
    # The statement after the failure never ran.
    assert server.rows(f"SELECT id FROM {ns}.b ORDER BY id") == [[1]]


def test_command_sql_error_exits_1_with_the_server_message(server, tmp_path):
    r = run_cli(server, tmp_path, "-c", "SELECT * FROM nope_table")
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr == "Error [TABLE_NOT_FOUND]: Statement 1 failed: Not found: Table 'default.nope_table' does not exist\n"


def test_syntax_error_exits_1(server, tmp_path):
    r = run_cli(server, tmp_path, "-c", "SELEC 1")
    assert r.returncode == 1
    assert r.stderr == "Error [INVALID_SQL]: Unsupported statement: SELEC\n"


def test_bad_password_exits_4(server, tmp_path):
    r = run_cli(server, tmp_path, "-c", "SELECT 1", password="wrong-password")
    assert r.returncode == 4
    assert r.stdout == ""
    assert r.stderr == "Error: Authentication failed for user 'root': Invalid credentials\n"


def test_unknown_user_gets_the_same_answer_as_a_bad_password(server, tmp_path):
    r = run_cli(server, tmp_path, "-c", "SELECT 1", user="nobody", password="whatever1")
    assert r.returncode == 4
    assert r.stderr == "Error: Authentication failed for user 'nobody': Invalid credentials\n"


def test_unreachable_host_exits_3(tmp_path):
    port = free_port()

    class Nowhere:
        base = f"http://127.0.0.1:{port}"

    r = run_cli(Nowhere(), tmp_path, "-c", "SELECT 1")
    assert r.returncode == 3
    assert r.stdout == ""
    assert r.stderr.startswith(f"Error: Cannot connect to http://127.0.0.1:{port}: ")
    assert "refused" in r.stderr.lower()
    assert r.stderr.endswith("Is the server running there? Check --host.\n")


def test_no_credentials_without_a_terminal_exits_4(server, tmp_path):
    r = run_cli(server, tmp_path, "-c", "SELECT 1", user=None, password=None)
    assert r.returncode == 4
    assert r.stderr == (f"Error: No credentials for {server.base}: pass -p PASSWORD (or -p to be "
                        f"asked), --token, or set KALAM_PASSWORD\n")


def test_password_from_environment(server, tmp_path):
    env = cli_env(tmp_path, KALAM_PASSWORD=ROOT_PASSWORD)
    r = run_cli(server, tmp_path, "--csv", "-c", "SELECT 7 AS seven", password=None, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "seven\n7\n"


def test_token_flag(server, tmp_path):
    token = server.login()["access_token"]
    r = run_cli(server, tmp_path, "--token", token, "--csv", "-c", "SELECT 1 AS one",
                user=None, password=None)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "one\n1\n"


def test_invalid_token_exits_4(server, tmp_path):
    r = run_cli(server, tmp_path, "--token", "not-a-jwt", "-c", "SELECT 1", user=None,
                password=None)
    assert r.returncode == 4
    assert r.stderr.startswith("Error: Authentication failed for user 'root': Invalid token")


def test_first_run_creates_config_and_private_credentials(server, tmp_path):
    r = run_cli(server, tmp_path, "-c", "SELECT 1")
    assert r.returncode == 0, r.stderr
    kalam_dir = tmp_path / ".kalam"
    assert stat.S_IMODE(kalam_dir.stat().st_mode) == 0o700
    config = (kalam_dir / "config.toml").read_text()
    assert "[connection]" in config and "[output]" in config
    assert 'url = "http://127.0.0.1:8080"' in config and 'format = "table"' in config
    creds = kalam_dir / "credentials.toml"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    text = creds.read_text()
    assert f"url = '{server.base}'" in text and "user = 'root'" in text
    assert "access_token" in text and "refresh_token" in text
    assert ROOT_PASSWORD not in text  # tokens only, never the password


def test_saved_credentials_are_used_without_a_password(server, tmp_path):
    assert run_cli(server, tmp_path, "-c", "SELECT 1").returncode == 0
    r = run_cli(server, tmp_path, "--csv", "-c", "SELECT 'again' AS v", user=None, password=None)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "v\nagain\n"


def test_config_file_supplies_connection_and_output_defaults(server, tmp_path):
    kalam_dir = tmp_path / ".kalam"
    kalam_dir.mkdir()
    (kalam_dir / "config.toml").write_text(
        f'[connection]\nurl = "{server.base}"\nuser = "root"\nsave_credentials = false\n'
        f'[output]\nformat = "csv"\nnull_text = "-"\n')
    r = run_cli(None, tmp_path, "-c", "SELECT 1 AS a, NULL AS b", user=None)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "a,b\n1,\n"
    assert not (kalam_dir / "credentials.toml").exists()
    # Flags win over the config file; null_text applies to tables.
    r = run_cli(None, tmp_path, "--format", "table", "-c", "SELECT NULL AS b", user=None)
    assert r.stdout == "+---+\n| b |\n+---+\n| - |\n+---+\n(1 row)\n"


def test_invalid_config_is_a_usage_error(server, tmp_path):
    kalam_dir = tmp_path / ".kalam"
    kalam_dir.mkdir()
    (kalam_dir / "config.toml").write_text('[output]\nformatt = "csv"\n')
    r = run_cli(server, tmp_path, "-c", "SELECT 1")
    assert r.returncode == 2
    assert "unknown key 'output.formatt'" in r.stderr


def test_namespace_flag_and_use_statement(server, ns, tmp_path):
    server.sql(f"CREATE SHARED TABLE {ns}.t (id INT PRIMARY KEY)")
    server.sql(f"INSERT INTO {ns}.t (id) VALUES (1), (2)")
    r = run_cli(server, tmp_path, "--namespace", ns, "--csv", "-c", "SELECT count(*) AS n FROM t")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "n\n2\n"
    # USE carries over to the following statements (each is its own request).
    r = run_cli(server, tmp_path, "-c", f"USE {ns}; SELECT id FROM t ORDER BY id")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (f"Namespace switched to '{ns}'\n"
                        "+----+\n| id |\n+----+\n|  1 |\n|  2 |\n+----+\n(2 rows)\n")


def test_transaction_block_is_sent_as_one_request(server, ns, tmp_path):
    server.sql(f"CREATE SHARED TABLE {ns}.acct (id INT PRIMARY KEY, v INT)")
    script = tmp_path / "txn.sql"
    script.write_text(f"BEGIN;\nINSERT INTO {ns}.acct (id, v) VALUES (1, 10);\n"
                      f"INSERT INTO {ns}.acct (id, v) VALUES (1, 20);\nCOMMIT;\n")
    r = run_cli(server, tmp_path, "-f", str(script))
    assert r.returncode == 1
    assert "Primary key violation" in r.stderr
    assert server.rows(f"SELECT id FROM {ns}.acct") == []  # rolled back as a whole
    script.write_text(f"BEGIN;\nINSERT INTO {ns}.acct (id, v) VALUES (1, 10);\n"
                      f"SELECT v FROM {ns}.acct;\nCOMMIT;\n")
    r = run_cli(server, tmp_path, "--csv", "-f", str(script))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "v\n10\n"


def test_statements_from_stdin(server, ns, tmp_path):
    r = run_cli(server, tmp_path, "--csv", stdin="SELECT 1 AS a;\nSELECT\n 'b' AS b;\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "a\n1\n\nb\nb\n"
    r = run_cli(server, tmp_path, "--csv", stdin="SELECT 1 AS a;\n\nSELECT * FROM nope;\nSELECT 2;\n")
    assert r.returncode == 1
    assert r.stdout == "a\n1\n"
    assert r.stderr == "stdin:3: Error [TABLE_NOT_FOUND]: Statement 1 failed: Not found: Table 'default.nope' does not exist\n"


def test_describe_and_list_commands_in_scripts(server, ns, tmp_path):
    server.sql(f"CREATE SHARED TABLE {ns}.d (id INT PRIMARY KEY, name TEXT NOT NULL)")
    r = run_cli(server, tmp_path, "-c", f"\\d {ns}.d")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        "+-------------+------------------+-----------+-----------+-------------+----------------+----------------+----------------+----------------+\n"
        "| column_name | ordinal_position | column_id | data_type | is_nullable | is_primary_key | column_default | column_comment | schema_version |\n"
        "+-------------+------------------+-----------+-----------+-------------+----------------+----------------+----------------+----------------+\n"
        "| id          |                1 |         1 | INT       | false       | true           | NULL           | NULL           |              1 |\n"
        "| name        |                2 |         2 | TEXT      | false       | false          | NULL           | NULL           |              1 |\n"
        "+-------------+------------------+-----------+-----------+-------------+----------------+----------------+----------------+----------------+\n"
        "(2 rows)\n")
    r = run_cli(server, tmp_path, "--csv", "-c", f"\\dt {ns}")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "namespace_id,table_name,table_type,storage_id,version,created_at,updated_at"
    assert [l.split(",")[:5] for l in lines[1:]] == [[ns, "d", "SHARED", "local", "1"]]
    r = run_cli(server, tmp_path, "-c", "\\d no_such_table")
    assert r.returncode == 1
    assert r.stderr.startswith("Error [")


def test_unknown_command_fails_in_scripts(server, tmp_path):
    r = run_cli(server, tmp_path, "-c", "\\nope")
    assert r.returncode == 1
    assert r.stderr == "Error: Unknown command '\\nope'. Type \\help for the list.\n"


def test_flush_shows_the_server_answer(server, ns, tmp_path):
    server.sql(f"CREATE SHARED TABLE {ns}.f (id INT PRIMARY KEY)")
    # Nothing to flush: the server's message, exit 0.
    r = run_cli(server, tmp_path, "-c", f"\\flush {ns}.f")
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    assert r.stdout == f"Storage flush skipped: no pending writes for table '{ns}.f'\n"
    # A row waiting: the flush starts and the job id is shown.
    server.sql(f"INSERT INTO {ns}.f VALUES (1)")
    r = run_cli(server, tmp_path, "-c", f"\\flush {ns}.f")
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    assert re.fullmatch(rf"Storage flush started for table '{ns}\.f'\. Job ID: FL-\d+\n", r.stdout), \
        r.stdout
    # A server error is shown with its code and message, exit 1.
    r = run_cli(server, tmp_path, "-c", f"\\flush {ns}.nope")
    direct = server.sql_raw(f"STORAGE FLUSH TABLE {ns}.nope").json()
    assert direct["error"]["code"] == "TABLE_NOT_FOUND", direct
    assert r.returncode == 1
    assert r.stderr == f"Error [TABLE_NOT_FOUND]: {direct['error']['message']}\n"


def test_timing_flag_prints_took_lines(server, tmp_path):
    r = run_cli(server, tmp_path, "--timing", "-c", "SELECT 1 AS a; SELECT 2 AS b")
    assert r.returncode == 0, r.stderr
    assert re.fullmatch(r"\+---\+\n\| a \|\n\+---\+\n\| 1 \|\n\+---\+\n\(1 row\)\n"
                        r"Took: \d+\.\d{3} ms\n"
                        r"\+---\+\n\| b \|\n\+---\+\n\| 2 \|\n\+---\+\n\(1 row\)\n"
                        r"Took: \d+\.\d{3} ms\n", r.stdout), r.stdout
    # Without --timing, scripts print no timing.
    r = run_cli(server, tmp_path, "-c", "SELECT 1 AS a")
    assert "Took" not in r.stdout


def test_help_version_and_h_flags(server, tmp_path):
    env = cli_env(tmp_path)
    r = subprocess.run([cli_binary(), "--help"], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and "Usage: kalam [OPTIONS]" in r.stdout and "-H,-h,--host" in r.stdout
    r = subprocess.run([cli_binary(), "-h"], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and "Usage: kalam [OPTIONS]" in r.stdout
    r = subprocess.run([cli_binary(), "--version"], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and r.stdout.startswith("kalam 0.1.0")
    # -h with a value is the host.
    r = subprocess.run([cli_binary(), "-h", server.base, "-u", "root", "-p", ROOT_PASSWORD,
                        "--csv", "-c", "SELECT 5 AS five"], capture_output=True, text=True,
                       env=env, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "five\n5\n"
    r = subprocess.run([cli_binary(), "--bogus"], capture_output=True, text=True, env=env)
    assert r.returncode == 2
    r = subprocess.run([cli_binary(), "--json", "--csv", "-c", "x"], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 2


def test_missing_script_file_is_a_usage_error(server, tmp_path):
    r = run_cli(server, tmp_path, "-f", str(tmp_path / "nope.sql"))
    assert r.returncode == 2
    assert r.stderr == f"Error: cannot read {tmp_path / 'nope.sql'}\n"


def test_subscribe_in_command_mode_streams_json_until_sigint(server, ns, tmp_path):
    server.sql(f"CREATE USER TABLE {ns}.feed (id INT PRIMARY KEY, body TEXT)")
    argv = [cli_binary(), "-H", server.base, "-u", "root", "-p", ROOT_PASSWORD, "--json", "-c",
            f"SUBSCRIBE TO {ns}.feed"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=cli_env(tmp_path))
    try:
        deadline = time.time() + 10
        while time.time() < deadline:  # wait until the server lists the subscription
            if server.rows(f"SELECT live_id FROM system.live WHERE table_name = 'feed' "
                           f"AND namespace_id = '{ns}'"):
                break
            time.sleep(0.05)
        server.sql(f"INSERT INTO {ns}.feed (id, body) VALUES (1, 'hello')")
        server.sql(f"UPDATE {ns}.feed SET body = 'hello!' WHERE id = 1")
        server.sql(f"DELETE FROM {ns}.feed WHERE id = 1")
        events = []
        while len(events) < 4:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            events.append(json.loads(line))
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == 0
    assert [e["event"] for e in events] == ["SUBSCRIBED", "INSERT", "UPDATE", "DELETE"]
    assert all(e["subscription_id"] == "sub-feed" for e in events)
    assert events[0]["columns"] == ["id", "body", "_seq"]
    assert {k: v for k, v in events[1]["rows"][0].items() if k != "_seq"} == {"id": 1, "body": "hello"}
    assert events[2]["rows"][0]["body"] == "hello!" and events[2]["old_rows"][0]["body"] == "hello"
    assert events[3]["old_rows"][0]["_deleted"] is True
    seqs = [int(events[1]["rows"][0]["_seq"]), int(events[2]["rows"][0]["_seq"]),
            int(events[3]["old_rows"][0]["_seq"])]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    for e in events:
        assert len(e["time"]) == 12 and e["time"][2] == ":"
    stderr = proc.stderr.read()
    assert stderr.startswith(f"Subscribed to SELECT * FROM {ns}.feed (id 'sub-feed'). Ctrl+C stops.")
    assert stderr.endswith("Subscription stopped (3 change(s)).\n")
