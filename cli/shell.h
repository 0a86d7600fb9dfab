// The interactive shell: a libedit line editor (history file, TAB completion, Ctrl+C clears the
// line) driving a Session.
#pragma once

#include <string>

#include "session.h"

namespace kalam::cli {

// Reads lines at the prompt until \q, exit, or Ctrl+D; history is loaded from and saved to
// `history_path` (mode 0600) after every entry. Returns the process exit code (0).
int RunShell(Session& session, const std::string& history_path);

}  // namespace kalam::cli
