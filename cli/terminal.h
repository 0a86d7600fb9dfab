// Terminal facts and small terminal actions for the CLI: tty checks, size, colors, no-echo
// password prompts, and the SIGINT flag every long-running step polls.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "kalam/config.h"

namespace kalam::cli {

// True when `fd` is a terminal.
bool IsTty(int fd);
// Terminal columns and rows of stdout (or stderr), 0 when unknown. $COLUMNS / $LINES win.
size_t TerminalWidth();
size_t TerminalHeight();
// Whether to use ANSI colors on `fd` under `mode`: kAuto means a tty, TERM not "dumb" and
// NO_COLOR unset.
bool UseColor(client::ColorMode mode, int fd);

// Reads a line from the terminal without echo, after printing `prompt` to stderr. Falls back to
// a plain line from stdin when there is no terminal. nullopt at end of input.
std::optional<std::string> ReadPassword(const std::string& prompt);

// ANSI wrappers; they return `text` unchanged when `on` is false.
std::string Bold(std::string_view text, bool on);
std::string Dim(std::string_view text, bool on);
std::string Red(std::string_view text, bool on);
std::string Green(std::string_view text, bool on);
std::string Yellow(std::string_view text, bool on);
std::string Cyan(std::string_view text, bool on);

// SIGINT handling: the handler only sets a flag and writes a byte to a wake-up pipe. Install once
// at startup. Thread-safe.
void InstallSignalHandlers();
// True when SIGINT arrived since the last ClearInterrupt().
bool Interrupted();
// Clears the flag and drains the wake-up pipe.
void ClearInterrupt();
// The read end of the wake-up pipe (readable once SIGINT arrived, until ClearInterrupt), or -1
// before InstallSignalHandlers. A blocking wait polls it beside its own descriptor, so a SIGINT
// that lands just before the wait begins still ends it.
int InterruptFd();

}  // namespace kalam::cli
