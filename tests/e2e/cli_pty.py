"""Helpers for the `kalam` CLI tests: locating the binary, running it one-shot, and driving an
interactive session through a pseudo-terminal (stdlib only: pty, termios, select)."""
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

from kalam_harness import REPO, ROOT_PASSWORD

# Escape sequences a line editor writes (CSI, OSC, charset and keypad modes) and carriage returns.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\r|\x07")


def cli_binary() -> str:
    """The kalam binary: $KALAM_CLI_BIN, else build/release/cli/kalam. Fails clearly if missing."""
    path = os.environ.get("KALAM_CLI_BIN") or str(REPO / "build" / "release" / "cli" / "kalam")
    if not Path(path).is_file() or not os.access(path, os.X_OK):
        raise RuntimeError(f"kalam CLI binary not found at {path}: build the 'kalam' target or set "
                           "KALAM_CLI_BIN")
    return path


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def cli_env(home, **extra):
    """Environment for a CLI run: its own HOME (so ~/.kalam is a temp dir), no pager, no color
    variables inherited from the caller."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("KALAM_PASSWORD", "PAGER", "NO_COLOR", "COLUMNS", "LINES")}
    env["HOME"] = str(home)
    env["TERM"] = "xterm"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_cli(server, home, *args, user="root", password=ROOT_PASSWORD, stdin=None, timeout=60,
            env=None):
    """Runs `kalam -H <server> [-u user -p password] args…` to completion, stdin not a tty.
    Returns the CompletedProcess (text mode)."""
    argv = [cli_binary()]
    if server is not None:
        argv += ["-H", server.base]
    if user is not None:
        argv += ["-u", user]
    if password is not None:
        argv += ["-p", password]
    argv += list(args)
    return subprocess.run(argv, input=stdin if stdin is not None else "", capture_output=True,
                          text=True, timeout=timeout, env=env or cli_env(home))


class PtySession:
    """A program running on a pseudo-terminal (its controlling terminal, so Ctrl+C written to the
    master becomes SIGINT exactly as in a real terminal)."""

    def __init__(self, argv, env, cols=120, rows=40):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

        def become_session_leader():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     preexec_fn=become_session_leader, close_fds=True)
        os.close(slave)
        self.master = master
        self.raw = b""
        self.pos = 0  # offset in the cleaned text up to which output has been consumed

    def text(self) -> str:
        return strip_ansi(self.raw.decode("utf-8", errors="replace"))

    def _read(self, timeout):
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        self.raw += data
        return True

    def expect(self, pattern, timeout=15.0):
        """Waits until `pattern` (regex) appears in the output after the last match; returns the
        match. Raises AssertionError with the output so far on timeout."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while True:
            m = rx.search(self.text(), self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {pattern!r}; output after the last "
                                     f"match:\n{self.text()[self.pos:]!r}")
            if not self._read(min(left, 0.2)) and self.proc.poll() is not None:
                # Drain anything left, then give up.
                while self._read(0.05):
                    pass
                m = rx.search(self.text(), self.pos)
                if m:
                    self.pos = m.end()
                    return m
                raise AssertionError(f"process exited ({self.proc.returncode}) before {pattern!r}; "
                                     f"output:\n{self.text()[self.pos:]!r}")

    def pump(self, seconds=0.3):
        """Collects output for `seconds` (to look at what arrived without expecting anything)."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            self._read(max(0.0, deadline - time.time()))
        return self.text()[self.pos:]

    def send(self, data: str):
        os.write(self.master, data.encode())

    def sendline(self, line: str):
        self.send(line + "\r")

    def ctrl_c(self):
        self.send("\x03")

    def wait(self, timeout=15.0):
        deadline = time.time() + timeout
        while self.proc.poll() is None and time.time() < deadline:
            self._read(0.1)
        if self.proc.poll() is None:
            self.proc.kill()
            raise AssertionError("process did not exit; output:\n" + self.text()[-2000:])
        while self._read(0.05):
            pass
        return self.proc.returncode

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        try:
            os.close(self.master)
        except OSError:
            pass


def spawn_shell(server, home, *args, user="root", password=ROOT_PASSWORD, env=None, cols=200):
    """Starts an interactive `kalam` on a pty (`cols` wide), logged in, and waits for its first
    prompt."""
    argv = [cli_binary(), "-H", server.base, "--color=false"]
    if user is not None:
        argv += ["-u", user]
    if password is not None:
        argv += ["-p", password]
    argv += list(args)
    s = PtySession(argv, env or cli_env(home), cols=cols)
    s.expect(r"kalam[^\n]*> ")
    return s
