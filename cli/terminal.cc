// Terminal helpers: isatty, TIOCGWINSZ, termios no-echo reads, ANSI colors, the SIGINT flag.
#include "terminal.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace kalam::cli {

namespace {

volatile sig_atomic_t g_interrupted = 0;
int g_wake_pipe[2] = {-1, -1};  // set once by InstallSignalHandlers, before the handler

void OnSigint(int) {
  g_interrupted = 1;
  if (g_wake_pipe[1] >= 0) {
    const int saved = errno;
    const char byte = 1;
    // A failed write means the pipe is full, so already readable: the waiter wakes either way.
    [[maybe_unused]] const ssize_t written = ::write(g_wake_pipe[1], &byte, 1);
    errno = saved;
  }
}

size_t EnvSize(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return 0;
  const long n = std::atol(v);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

winsize WindowSize() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) {
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) != 0) ws = winsize{};
  }
  return ws;
}

std::string Wrap(std::string_view text, const char* code, bool on) {
  if (!on) return std::string(text);
  return std::string(code) + std::string(text) + "\x1b[0m";
}

}  // namespace

bool IsTty(int fd) { return ::isatty(fd) == 1; }

size_t TerminalWidth() {
  if (size_t n = EnvSize("COLUMNS")) return n;
  return WindowSize().ws_col;
}

size_t TerminalHeight() {
  if (size_t n = EnvSize("LINES")) return n;
  return WindowSize().ws_row;
}

bool UseColor(client::ColorMode mode, int fd) {
  switch (mode) {
    case client::ColorMode::kAlways: return true;
    case client::ColorMode::kNever: return false;
    case client::ColorMode::kAuto: {
      if (!IsTty(fd)) return false;
      if (std::getenv("NO_COLOR")) return false;
      const char* term = std::getenv("TERM");
      return !(term && std::string_view(term) == "dumb");
    }
  }
  return false;
}

std::optional<std::string> ReadPassword(const std::string& prompt) {
  const bool tty = IsTty(STDIN_FILENO);
  termios old{};
  if (tty) {
    ::tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  // The prompt only once echo is off: TCSAFLUSH discards input already typed, so a password
  // typed in answer to an earlier prompt would be lost (and echoed).
  std::fprintf(stderr, "%s", prompt.c_str());
  std::fflush(stderr);
  std::string line;
  bool got = false;
  char c;
  while (true) {
    const ssize_t n = ::read(STDIN_FILENO, &c, 1);
    if (n <= 0) break;
    got = true;
    if (c == '\n') break;
    if (c != '\r') line.push_back(c);
  }
  if (tty) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  if (!got) return std::nullopt;
  return line;
}

std::string Bold(std::string_view t, bool on) { return Wrap(t, "\x1b[1m", on); }
std::string Dim(std::string_view t, bool on) { return Wrap(t, "\x1b[2m", on); }
std::string Red(std::string_view t, bool on) { return Wrap(t, "\x1b[31m", on); }
std::string Green(std::string_view t, bool on) { return Wrap(t, "\x1b[32m", on); }
std::string Yellow(std::string_view t, bool on) { return Wrap(t, "\x1b[33m", on); }
std::string Cyan(std::string_view t, bool on) { return Wrap(t, "\x1b[36m", on); }

void InstallSignalHandlers() {
  if (g_wake_pipe[0] < 0 && ::pipe2(g_wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
    g_wake_pipe[0] = g_wake_pipe[1] = -1;  // no pipe: waits still end on EINTR, as before
  }
  struct sigaction sa {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking read returns EINTR and sees the flag
  ::sigaction(SIGINT, &sa, nullptr);
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  ::sigaction(SIGPIPE, &ign, nullptr);  // a pager that quits early must not kill us
}

bool Interrupted() { return g_interrupted != 0; }
void ClearInterrupt() {
  g_interrupted = 0;
  char buf[64];
  while (g_wake_pipe[0] >= 0 && ::read(g_wake_pipe[0], buf, sizeof buf) > 0) {
  }
}

int InterruptFd() { return g_wake_pipe[0]; }

}  // namespace kalam::cli
