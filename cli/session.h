// Session: one CLI session against a server — takes input lines (from the shell, -c or -f),
// assembles statements, runs them and backslash commands, prints results, and streams live
// subscriptions. Shared by the interactive shell and script mode.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "completer.h"
#include "connect.h"
#include "kalam/client.h"
#include "kalam/config.h"
#include "kalam/live.h"

namespace kalam::cli {

struct SessionSettings {
  client::OutputFormat format = client::OutputFormat::kTable;
  client::ColorMode color_mode = client::ColorMode::kAuto;
  bool color_out = false;     // ANSI colors on stdout
  bool color_err = false;     // ANSI colors on stderr
  bool timing = false;        // "Took: X.XXX ms" after each statement
  bool pager = false;         // results taller than the terminal go through $PAGER
  bool interactive = false;   // a person types at a terminal (prompt, spinner, \pause)
  bool stop_on_error = true;  // scripts stop at the first failure
  std::string null_text = "NULL";
  std::string source_name;    // for error prefixes in scripts ("report.sql")
  std::string config_path;    // shown by \config
  std::string history_path;   // shown by \config
};

// Not thread-safe: one session is driven by one thread (its helper threads are internal).
class Session {
 public:
  Session(std::unique_ptr<client::Client> client, ConnectRequest connect, SessionSettings settings);
  ~Session();

  // Feeds one input line (no trailing newline); `line_number` is 1-based in the source. A line
  // starting with '\' while no statement is pending is a command. Complete statements run as
  // soon as their ';' arrives. Returns false when the session should end (\q, or a failure in
  // a script that stops on errors, or Ctrl+C in a script).
  bool FeedLine(const std::string& line, size_t line_number);
  // End of input: runs a pending statement that lacks its ';'. Returns false if it failed.
  bool Finish();
  // Drops a partly typed statement (Ctrl+C at the prompt).
  void DiscardPending();

  bool has_pending_input() const { return !pending_.empty(); }
  std::string pending_input() const { return pending_; }
  // "kalam> ", "kalam:chat> ", "kalam:chat*> " inside a transaction; ContinuationPrompt has the
  // same width and ends in "-> ".
  std::string Prompt() const;
  std::string ContinuationPrompt() const;

  int failures() const { return failures_; }
  bool interrupted() const { return interrupted_; }
  Completer& completer() { return completer_; }
  const SessionSettings& settings() const { return settings_; }
  client::Client& client() { return *client_; }

  // Prints the greeting of the interactive shell.
  void PrintBanner();

 private:
  // Statements and results (session.cc).
  bool RunStatements(const std::string& text, size_t first_line);
  bool RunOne(const std::string& sql, size_t line);
  bool SendBatch(const std::string& sql, size_t line, size_t statements);
  client::Result<client::SqlResponse> ExecuteWithFeedback(const std::string& sql,
                                                          std::chrono::microseconds* elapsed);
  void PrintResults(const client::SqlResponse& response);
  void PrintTook(std::chrono::microseconds elapsed);
  void PrintError(const client::Status& status, size_t line);
  void Out(const std::string& text, bool may_page);
  void Info(const std::string& text);
  void NoteNamespaceSwitch(const client::SqlResponse& response);

  // Backslash commands (session_commands.cc). Returns false for \q.
  bool RunCommand(const std::string& line, size_t line_number);
  bool RunQueryCommand(const std::string& sql, size_t line);
  void PrintHelp();
  void PrintConfig();
  bool Reconnect(const std::vector<std::string>& args);

  // Live subscriptions (session_live.cc). Streams until Ctrl+C, an error, or end.
  bool StreamSubscription(const client::SubscribeRequest& request);
  std::optional<SchemaInfo> LoadSchema();

  std::unique_ptr<client::Client> client_;
  ConnectRequest connect_;
  SessionSettings settings_;
  Completer completer_;
  std::string pending_;          // statement text typed so far
  size_t pending_line_ = 0;      // source line where pending_ started
  std::vector<std::string> txn_; // statements of an open BEGIN … waiting for COMMIT/ROLLBACK
  size_t txn_line_ = 0;
  int failures_ = 0;
  bool interrupted_ = false;
  int subscription_counter_ = 0;
  bool csv_table_printed_ = false;
};

}  // namespace kalam::cli
