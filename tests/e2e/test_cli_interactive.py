"""The interactive `kalam` shell driven through a pseudo-terminal: prompt, multi-line input,
history across sessions, TAB completion, \\d, live subscriptions stopped with Ctrl+C, \\pause,
paging, errors."""
import os
import stat
import time

import pytest

from cli_pty import PtySession, cli_binary, cli_env, spawn_shell
from kalam_harness import ROOT_PASSWORD

UP_ARROW = "\x1b[A"


@pytest.fixture
def shell(server, tmp_path):
    sessions = []

    def start(*args, env=None, **kw):
        s = spawn_shell(server, tmp_path, *args, env=env, **kw)
        sessions.append(s)
        return s

    yield start
    for s in sessions:
        s.close()


def test_banner_prompt_took_and_quit(server, shell):
    s = shell()
    assert f"Connected to {server.base} as root (system), KalamDB " in s.text()
    s.sendline("SELECT 40 + 2 AS answer;")
    s.expect(r"\+--------\+\n\| answer \|\n\+--------\+\n\|     42 \|\n\+--------\+\n\(1 row\)\n"
             r"Took: \d+\.\d{3} ms\n")
    s.expect(r"kalam> ")
    s.sendline("\\q")
    assert s.wait() == 0


def test_multiline_statement_and_namespace_prompt(server, ns, shell):
    server.sql(f"CREATE SHARED TABLE {ns}.t (id INT PRIMARY KEY, v TEXT)")
    server.sql(f"INSERT INTO {ns}.t (id, v) VALUES (1, 'a;b')")
    s = shell()
    s.sendline(f"USE {ns};")
    s.expect(f"Namespace switched to '{ns}'")
    prompt = f"kalam:{ns}> "
    s.expect(prompt)
    s.sendline("SELECT id,")
    cont = " " * (len(prompt) - 3) + "-> "
    s.expect(cont)
    s.sendline("  v FROM t")
    s.expect(cont)
    s.sendline("WHERE v = 'a;b';")
    s.expect(r"\|  1 \| a;b \|\n\+----\+-----\+\n\(1 row\)")
    s.expect(prompt)
    # --namespace sets the starting namespace.
    s2 = shell("--namespace", ns)
    assert f"kalam:{ns}> " in s2.text()


def test_history_is_kept_across_sessions(server, shell, tmp_path):
    s = shell()
    s.sendline("SELECT 4242 AS remembered;")
    s.expect(r"\|       4242 \|")
    s.expect(r"kalam> ")
    s.sendline("SELECT\r  7 AS two_lines;")
    s.expect(r"\|         7 \|")
    s.expect(r"kalam> ")
    s.sendline("\\q")
    assert s.wait() == 0
    history = tmp_path / ".kalam" / "history"
    assert history.exists()
    assert stat.S_IMODE(history.stat().st_mode) == 0o600
    s = shell()
    s.send(UP_ARROW)  # \q
    s.send(UP_ARROW)  # the multi-line statement is one entry
    s.send(UP_ARROW)
    s.send("\r")
    s.expect(r"\|       4242 \|")
    s.expect(r"kalam> ")
    s.send(UP_ARROW + "\r")  # the statement just run is the newest entry
    s.expect(r"\|       4242 \|")
    s.expect(r"kalam> ")


def test_tab_completes_keywords_tables_and_columns(server, ns, shell):
    server.sql(f"CREATE SHARED TABLE {ns}.messages (id INT PRIMARY KEY, body_text TEXT)")
    server.sql(f"INSERT INTO {ns}.messages (id, body_text) VALUES (1, 'completed')")
    s = shell()
    s.send("sel\t")  # keyword, in the case typed
    s.expect("select ")
    s.send("body_t\t")  # a column (the statement names no table yet: any table's columns)
    s.expect("body_text ")
    s.send(f"FROM {ns}.mess\t")  # namespace-qualified table
    s.expect(f"{ns}.messages ")
    s.send(";\r")
    s.expect(r"\| completed \|")
    s.expect(r"kalam> ")
    # "table." completes that table's columns.
    s.send(f"SELECT {ns}.messages.bo\t")
    s.expect(f"{ns}.messages.body_text ")
    s.ctrl_c()
    s.expect(r"kalam> ")
    s.send("\\d\t")  # commands; ambiguous, so listed
    s.expect(r"\\d\s+\\dt")
    s.send("t\t")  # now unique: completed, with the space after it
    s.expect(r"kalam> \\dt")
    s.send(f"{ns}\r")
    s.expect(r"\| " + ns + r" +\| messages")


def test_describe_command(server, ns, shell):
    server.sql(f"CREATE SHARED TABLE {ns}.d (id INT PRIMARY KEY, name TEXT NOT NULL)")
    s = shell()
    s.sendline(f"\\d {ns}.d")
    s.expect(r"\| column_name \| ordinal_position \| column_id \| data_type \| is_nullable \|")
    s.expect(r"\| id +\| +1 \| +1 \| INT +\| false +\| true +\|")
    s.expect(r"\| name +\| +2 \| +2 \| TEXT +\| false +\| false +\|")
    s.expect(r"\(2 rows\)")
    s.sendline("\\d nope_nope")
    s.expect(r"Error \[")
    s.expect(r"kalam> ")


def test_subscription_streams_until_ctrl_c_then_returns_to_prompt(server, ns, shell):
    server.sql(f"CREATE USER TABLE {ns}.chat (id INT PRIMARY KEY, body TEXT)")
    s = shell()
    s.sendline(f"SUBSCRIBE TO {ns}.chat;")
    # Printed once the server acknowledged the subscription.
    s.expect(f"Subscribed to SELECT \\* FROM {ns}.chat \\(id 'sub-chat'\\). Ctrl\\+C stops")
    server.sql(f"INSERT INTO {ns}.chat (id, body) VALUES (1, 'hello')")
    s.expect(r"\[\d\d:\d\d:\d\d\.\d{3}\] INSERT  id=1, body='hello', _seq=\d+\n")
    server.sql(f"UPDATE {ns}.chat SET body = 'it''s me' WHERE id = 1")
    s.expect(r"\[\d\d:\d\d:\d\d\.\d{3}\] UPDATE  id=1, body='it''s me', _seq=\d+  "
             r"\(was: id=1, body='hello', _seq=\d+\)\n")
    server.sql(f"DELETE FROM {ns}.chat WHERE id = 1")
    s.expect(r"\[\d\d:\d\d:\d\d\.\d{3}\] DELETE  id=1, body='it''s me', _seq=\d+\n")
    s.ctrl_c()
    s.expect(r"Subscription stopped \(3 change\(s\)\)\.")
    s.expect(r"kalam> ")
    # The subscription is gone on the server, and the shell still works.
    deadline = time.time() + 5
    while server.rows(f"SELECT live_id FROM system.live WHERE namespace_id = '{ns}'") and \
            time.time() < deadline:
        time.sleep(0.05)
    assert server.rows(f"SELECT live_id FROM system.live WHERE namespace_id = '{ns}'") == []
    s.sendline("SELECT 'still here' AS s;")
    s.expect(r"\| still here \|")


def test_subscribe_command_with_initial_rows_and_pause(server, ns, shell):
    server.sql(f"CREATE USER TABLE {ns}.feed (id INT PRIMARY KEY, v TEXT)")
    server.sql(f"INSERT INTO {ns}.feed (id, v) VALUES (1, 'old')")
    s = shell()
    s.sendline(f"SUBSCRIBE TO {ns}.feed OPTIONS (last_rows = 5);")
    s.expect(r"INITIAL id=1, v='old', _seq=\d+\n")
    s.expect(r"-- 1 initial row\(s\); waiting for changes\n")
    s.sendline("\\pause")
    s.expect("Paused: changes are kept")
    server.sql(f"INSERT INTO {ns}.feed (id, v) VALUES (2, 'while paused')")
    assert "while paused" not in s.pump(0.8)  # held back
    s.sendline("\\continue")
    s.expect("Continuing.")
    s.expect(r"INSERT  id=2, v='while paused'")
    s.ctrl_c()
    s.expect(r"Subscription stopped \(1 change\(s\)\)\.")
    s.expect(r"kalam> ")
    # \subscribe takes a plain SELECT.
    s.sendline(f"\\subscribe SELECT v FROM {ns}.feed WHERE id > 2")
    s.expect(r"Subscribed to SELECT v FROM .* \(id 'cli-1'\)")
    server.sql(f"INSERT INTO {ns}.feed (id, v) VALUES (3, 'three'), (1000, 'big')")
    s.expect(r"INSERT  id=3, v='three'|INSERT  v='three'")
    s.ctrl_c()
    s.expect(r"kalam> ")


def test_ctrl_c_clears_the_line_being_typed(server, shell):
    s = shell()
    s.sendline("SELECT 'never")
    s.expect(r"-> ")
    s.ctrl_c()
    s.expect(r"\^C")
    s.expect(r"\nkalam> ")  # the primary prompt: the half-typed statement is gone
    s.sendline("SELECT 'fresh' AS f;")
    s.expect(r"\| fresh \|")


def test_sigint_at_the_prompt_discards_the_line_and_prompts_again(server, shell):
    # A SIGINT that is not the editor's Ctrl+C key (sent from outside, or typed while the terminal
    # still turned it into a signal) ends the wait for input: the half-typed statement is
    # discarded and a fresh prompt starts on its own line.
    import signal
    s = shell()
    s.sendline("SELECT 'never")
    s.expect(r"-> ")
    s.send("half typed")
    typed = s.expect(r"half typed")
    s.proc.send_signal(signal.SIGINT)
    prompt = s.expect(r"\nkalam> ")
    assert s.text()[typed.end():prompt.start()] in ("", "\r")  # nothing between them
    s.sendline("SELECT 'fresh' AS f;")
    s.expect(r"\| fresh \|")


def test_sql_errors_keep_the_session(server, shell):
    s = shell()
    s.sendline("SELECT * FROM missing_table;")
    s.expect(r"Error \[TABLE_NOT_FOUND\]: Statement 1 failed: Not found: Table 'default.missing_table' does not exist\n")
    s.expect(r"kalam> ")
    s.sendline("\\bogus")
    s.expect(r"Unknown command '\\bogus'")
    s.expect(r"kalam> ")
    s.sendline("exit")
    assert s.wait() == 0


def test_format_timing_config_and_health_commands(server, shell, tmp_path):
    # \stats lists more rows than the terminal has (every /metrics series): no pager to quit.
    s = shell(env=cli_env(tmp_path, PAGER="cat"))
    s.sendline("\\format json")
    s.expect("Output format: json")
    s.sendline("SELECT 1 AS a;")
    s.expect(r'\{"rows":\[\{"a":"1"\}\],"row_count":1\}\n')
    s.sendline("\\format csv")
    s.sendline("\\timing off")
    s.expect("Timing is off.")
    s.sendline("SELECT 2 AS b;")
    s.expect(r"b\n2\n")
    after = s.pos
    s.expect(r"kalam> ")
    assert "Took" not in s.text()[after:s.pos]
    s.sendline("\\format table")
    s.sendline("\\config")
    s.expect(f"Config file: {tmp_path}/.kalam/config.toml")
    s.expect(f"url = {server.base}")
    s.expect("format = table")
    s.sendline("\\health")
    s.expect(r"\| status +\| version +\| api_version \| build_date +\|")
    s.expect(r"\| healthy \|")
    s.sendline("\\stats")
    s.expect(r"\| metric_name +\| metric_value +\|")
    s.sendline("\\help")
    s.expect(r"\\subscribe SELECT")


def test_tall_results_go_through_the_pager_only_interactively(server, tmp_path):
    env = cli_env(tmp_path, PAGER="sed s/^/PAGED:/")
    argv = [cli_binary(), "-H", server.base, "-u", "root", "-p", ROOT_PASSWORD, "--color=false"]
    s = PtySession(argv, env, rows=10)
    try:
        s.expect(r"kalam> ")
        s.sendline("SELECT value FROM json_each('[1,2,3,4,5,6,7,8,9,10,11,12]');")
        s.expect(r"PAGED:\| +12 \|")
        s.expect(r"kalam> ")
        s.sendline("SELECT 1 AS small;")  # fits: printed directly
        s.expect(r"\n\|     1 \|")
    finally:
        s.close()
    # A one-shot run never pages, even on a terminal.
    s = PtySession(argv + ["-c", "SELECT value FROM json_each('[1,2,3,4,5,6,7,8,9,10,11,12]')"],
                   env, rows=10)
    try:
        assert s.wait() == 0
        assert "PAGED" not in s.text() and "(12 rows)" in s.text()
    finally:
        s.close()


def test_password_prompt(server, tmp_path):
    argv = [cli_binary(), "-H", server.base, "-u", "root", "-p", "--color=false"]
    s = PtySession(argv, cli_env(tmp_path))
    try:
        s.expect("Password for root: ")
        s.sendline(ROOT_PASSWORD)
        s.expect(r"kalam> ")
        assert ROOT_PASSWORD not in s.text()  # not echoed
    finally:
        s.close()


def test_password_typed_ahead_of_the_prompt_is_kept(server, tmp_path):
    # Typed before the CLI turned echo off: it must still be read (not flushed away).
    argv = [cli_binary(), "-H", server.base, "-u", "root", "-p", "--color=false"]
    s = PtySession(argv, cli_env(tmp_path))
    try:
        s.sendline(ROOT_PASSWORD)
        s.expect("Password for root: ")
        s.expect(r"kalam> ")
    finally:
        s.close()


def test_slow_statement_shows_a_spinner_and_ctrl_c_cancels_it(server, shell):
    s = shell()
    s.sendline("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) "
               "SELECT count(*) AS n FROM c;")
    s.expect(r"Running… \d+\.\ds")  # only after 0.3 s, with the elapsed time
    s.ctrl_c()
    s.expect(r"Error: Cancelled by Ctrl\+C \(the server may still complete the statement\)\n")
    s.expect(r"kalam> ")
    s.sendline("SELECT 'next' AS n;")
    s.expect(r"\| next \|")
