// Interactive shell on libedit's native API (histedit.h): prompt callback, history, a TAB
// completion function and a Ctrl+C function bound as editor commands.
#include "shell.h"

#include <histedit.h>
#include <poll.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cwchar>

#include "kalam/format.h"
#include "terminal.h"

namespace kalam::cli {

namespace {

// Owns the libedit editor and history. Not thread-safe.
class LineEditor {
 public:
  enum class Read { kLine, kEof, kCancelled };

  LineEditor(std::string history_path, Completer* completer)
      : history_path_(std::move(history_path)), completer_(completer) {
    hist_ = history_init();
    history(hist_, &ev_, H_SETSIZE, 2000);
    history(hist_, &ev_, H_SETUNIQUE, 1);
    history(hist_, &ev_, H_LOAD, history_path_.c_str());
    el_ = el_init("kalam", stdin, stdout, stderr);
    el_set(el_, EL_CLIENTDATA, this);
    el_set(el_, EL_EDITOR, "emacs");
    el_set(el_, EL_PROMPT, &LineEditor::PromptFn);
    el_set(el_, EL_HIST, history, hist_);
    el_set(el_, EL_SIGNAL, 1);
    el_set(el_, EL_ADDFN, "kalam-complete", "Complete SQL keywords, tables and columns",
           &LineEditor::CompleteFn);
    el_set(el_, EL_BIND, "^I", "kalam-complete", nullptr);
    // Ctrl+C while editing is a key, not a signal: it clears the line.
    el_set(el_, EL_ADDFN, "kalam-cancel", "Cancel the line", &LineEditor::CancelFn);
    el_set(el_, EL_BIND, "^C", "kalam-cancel", nullptr);
    el_set(el_, EL_SETTY, "-d", "-isig", nullptr);
    el_set(el_, EL_GETCFN, &LineEditor::ReadCharFn);
    el_source(el_, nullptr);  // ~/.editrc, if the user has one
  }

  ~LineEditor() {
    el_end(el_);
    history_end(hist_);
  }

  Read ReadLine(const std::string& prompt, std::string* line) {
    prompt_ = prompt;
    cancelled_ = false;
    int count = 0;
    const char* s = el_gets(el_, &count);
    if (cancelled_) return Read::kCancelled;
    if (Interrupted()) {
      // A SIGINT: Ctrl+C typed before the editor put the terminal in raw mode (the terminal
      // echoed "^C" without a newline), or one sent from outside. Either way the line is gone,
      // including what was typed while the terminal was still in cooked mode and is not read
      // yet (the kernel echoed it; the next prompt would read it), as a terminal's own ^C does.
      if (::isatty(STDIN_FILENO)) ::tcflush(STDIN_FILENO, TCIFLUSH);
      std::fputs("\n", stdout);
      std::fflush(stdout);
      return Read::kCancelled;
    }
    if (!s || count <= 0) return Read::kEof;
    line->assign(s, static_cast<size_t>(count));
    while (!line->empty() && (line->back() == '\n' || line->back() == '\r')) line->pop_back();
    return Read::kLine;
  }

  void AddHistory(const std::string& entry) {
    history(hist_, &ev_, H_ENTER, entry.c_str());
    history(hist_, &ev_, H_SAVE, history_path_.c_str());
    ::chmod(history_path_.c_str(), 0600);  // statements can hold passwords
  }

  // Statement text typed on earlier lines, for context-aware completion.
  void set_context(std::string pending) { context_ = std::move(pending); }

 private:
  static LineEditor* Self(EditLine* el) {
    void* p = nullptr;
    el_get(el, EL_CLIENTDATA, &p);
    return static_cast<LineEditor*>(p);
  }

  // The editor's character reader: one character from stdin, decoded in the current locale (a
  // byte that does not decode is passed as is, as libedit does). It waits on stdin and on the
  // SIGINT wake-up pipe together, so a Ctrl+C that arrives just before the wait begins (when the
  // terminal still turns it into a signal) ends the read instead of being lost: -1 with EINTR,
  // and el_gets returns.
  static int ReadCharFn(EditLine*, wchar_t* out) {
    std::mbstate_t state{};
    while (true) {
      pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {InterruptFd(), POLLIN, 0}};
      const int n = ::poll(fds, fds[1].fd >= 0 ? 2 : 1, -1);
      if (n < 0 && errno != EINTR) return -1;
      if (Interrupted()) {
        errno = EINTR;
        return -1;
      }
      if (n <= 0 || (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char c = 0;
      const ssize_t r = ::read(STDIN_FILENO, &c, 1);
      if (r == 0) return 0;  // end of input
      if (r < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return -1;
      }
      wchar_t wc = 0;
      const size_t k = std::mbrtowc(&wc, &c, 1, &state);
      if (k == static_cast<size_t>(-2)) continue;  // a multi-byte character goes on
      if (k == static_cast<size_t>(-1)) {
        *out = static_cast<unsigned char>(c);
        return 1;
      }
      *out = wc;
      return 1;
    }
  }

  static char* PromptFn(EditLine* el) { return const_cast<char*>(Self(el)->prompt_.c_str()); }

  static unsigned char CancelFn(EditLine* el, int) {
    LineEditor* self = Self(el);
    self->cancelled_ = true;
    std::fputs("^C\n", stdout);
    std::fflush(stdout);
    return CC_NEWLINE;
  }

  static unsigned char CompleteFn(EditLine* el, int) {
    LineEditor* self = Self(el);
    const LineInfo* li = el_line(el);
    const std::string before(li->buffer, static_cast<size_t>(li->cursor - li->buffer));
    size_t start = before.size();
    while (start > 0 && Completer::IsWordChar(before[start - 1])) --start;
    const std::string word = before.substr(start);
    const auto candidates = self->completer_->Candidates(self->context_ + before, word);
    if (candidates.empty()) return CC_ERROR;
    std::string common = CommonPrefix(candidates);
    if (candidates.size() == 1) {
      common = candidates[0];
      const char last = common.empty() ? ' ' : common.back();
      if (last != '.') common += ' ';
    }
    if (common.size() > word.size() || (candidates.size() == 1 && common != word)) {
      // Replace the word (its case may differ from the candidate's).
      el_deletestr(el, static_cast<int>(word.size()));
      el_insertstr(el, common.c_str());
      return CC_REFRESH;
    }
    // Ambiguous and nothing to add: list the candidates under the line.
    const size_t width = std::max<size_t>(TerminalWidth(), 40);
    size_t longest = 0;
    for (const auto& c : candidates) longest = std::max(longest, client::DisplayWidth(c));
    const size_t per_line = std::max<size_t>(1, width / (longest + 2));
    std::string out = "\n";
    for (size_t i = 0; i < candidates.size(); ++i) {
      out += candidates[i];
      const bool end = (i + 1) % per_line == 0 || i + 1 == candidates.size();
      if (end) {
        out += "\n";
      } else {
        out.append(longest + 2 - client::DisplayWidth(candidates[i]), ' ');
      }
    }
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
    return CC_REDISPLAY;
  }

  std::string history_path_;
  Completer* completer_;
  EditLine* el_ = nullptr;
  History* hist_ = nullptr;
  HistEvent ev_{};
  std::string prompt_;
  std::string context_;
  bool cancelled_ = false;
};

bool Blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

}  // namespace

int RunShell(Session& session, const std::string& history_path) {
  LineEditor editor(history_path, &session.completer());
  session.PrintBanner();
  size_t line_number = 0;
  std::string entry;  // lines of the statement being typed, for the history
  while (true) {
    editor.set_context(session.pending_input());
    std::string line;
    const auto read = editor.ReadLine(
        session.has_pending_input() ? session.ContinuationPrompt() : session.Prompt(), &line);
    if (read == LineEditor::Read::kEof) {
      std::fputs("\n", stdout);
      break;
    }
    if (read == LineEditor::Read::kCancelled) {
      session.DiscardPending();
      entry.clear();
      ClearInterrupt();
      continue;
    }
    ++line_number;
    entry += entry.empty() ? line : "\n" + line;
    const bool go_on = session.FeedLine(line, line_number);
    if (!session.has_pending_input()) {
      if (!Blank(entry)) editor.AddHistory(entry);
      entry.clear();
    }
    ClearInterrupt();
    if (!go_on) break;
  }
  return 0;
}

}  // namespace kalam::cli
