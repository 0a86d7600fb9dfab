// Session: input assembly, statement execution with spinner and Ctrl+C, result printing, paging.
#include "session.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "kalam/format.h"
#include "kalam/sql_script.h"
#include "terminal.h"

namespace kalam::cli {

using client::Status;
using client::StatusCode;

namespace {

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

size_t CountLines(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

// The second word of a statement, upper-cased ("START TRANSACTION" → "TRANSACTION").
std::string SecondKeyword(const std::string& sql) {
  const std::string first = client::FirstKeyword(sql);
  const std::string upper = [&] {
    std::string u = sql;
    for (auto& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return u;
  }();
  const size_t at = upper.find(first);
  if (at == std::string::npos) return "";
  return client::FirstKeyword(std::string_view(upper).substr(at + first.size()));
}

bool IsDdl(const std::string& keyword) {
  return keyword == "CREATE" || keyword == "ALTER" || keyword == "DROP" || keyword == "USE" ||
         keyword == "SET";
}

}  // namespace

Session::Session(std::unique_ptr<client::Client> client, ConnectRequest connect,
                 SessionSettings settings)
    : client_(std::move(client)),
      connect_(std::move(connect)),
      settings_(std::move(settings)),
      completer_([this] { return LoadSchema(); }) {
  completer_.set_current_namespace(client_->current_namespace());
}

Session::~Session() = default;

std::string Session::Prompt() const {
  std::string p = "kalam";
  const std::string ns = client_->current_namespace();
  if (!ns.empty() && Lower(ns) != "default") p += ":" + ns;
  if (!txn_.empty()) p += "*";
  return p + "> ";
}

std::string Session::ContinuationPrompt() const {
  const size_t width = Prompt().size();
  return std::string(width > 3 ? width - 3 : 0, ' ') + "-> ";
}

void Session::PrintBanner() {
  std::string who = client_->user().empty() ? std::string("(no user)") : client_->user();
  if (!client_->role().empty()) who += " (" + client_->role() + ")";
  std::string version;
  if (auto h = client_->Health(); h.ok() && !h->version.empty()) {
    version = ", KalamDB " + h->version;
  }
  std::printf("Connected to %s as %s%s.\n", client_->url().c_str(), who.c_str(), version.c_str());
  std::printf("Statements end with ';'. Type \\help for commands, \\q to quit.\n");
  std::fflush(stdout);
}

bool Session::FeedLine(const std::string& line, size_t line_number) {
  const int failures_before = failures_;
  if (pending_.empty()) {
    const std::string trimmed = Trim(line);
    if (trimmed.empty()) return true;
    if (trimmed.front() == '\\') {
      const bool go_on = RunCommand(trimmed, line_number);
      if (!go_on) return false;
      if (!settings_.interactive && (interrupted_ ||
                                     (settings_.stop_on_error && failures_ > failures_before))) {
        return false;
      }
      return true;
    }
    if (settings_.interactive) {
      const std::string word = Lower(trimmed);
      if (word == "exit" || word == "quit") return false;
    }
    pending_line_ = line_number;
  }
  pending_ += line;
  pending_ += '\n';
  switch (client::ClassifyInput(pending_)) {
    case client::InputState::kEmpty:
      pending_.clear();
      return true;
    case client::InputState::kIncomplete:
      return true;
    case client::InputState::kComplete:
      break;
  }
  std::string text;
  text.swap(pending_);
  RunStatements(text, pending_line_);
  if (!settings_.interactive &&
      (interrupted_ || (settings_.stop_on_error && failures_ > failures_before))) {
    return false;
  }
  return true;
}

bool Session::Finish() {
  const int failures_before = failures_;
  if (!pending_.empty()) {
    std::string text;
    text.swap(pending_);
    if (client::ClassifyInput(text) != client::InputState::kEmpty) {
      RunStatements(text, pending_line_);
    }
  }
  if (!txn_.empty() && !interrupted_) {
    // The input ended inside BEGIN …: send it, and let the server say it is incomplete.
    std::string batch;
    for (const auto& s : txn_) batch += s + ";\n";
    const size_t n = txn_.size();
    txn_.clear();
    SendBatch(batch, txn_line_, n);
  }
  return failures_ == failures_before;
}

void Session::DiscardPending() {
  pending_.clear();
}

bool Session::RunStatements(const std::string& text, size_t first_line) {
  for (const auto& st : client::SplitStatements(text)) {
    if (!RunOne(st.text, first_line + st.line - 1)) return false;
    if (interrupted_ && !settings_.interactive) return false;
  }
  return true;
}

bool Session::RunOne(const std::string& sql, size_t line) {
  if (!sql.empty() && sql.front() == '\\') {
    // A command after statements on the same line ("USE chat; \dt").
    const int before = failures_;
    RunCommand(sql, line);
    return failures_ == before;
  }
  const std::string kw = client::FirstKeyword(sql);
  if (!txn_.empty()) {
    txn_.push_back(sql);
    if (kw == "COMMIT" || kw == "ROLLBACK" || kw == "END") {
      std::string batch;
      for (const auto& s : txn_) batch += s + ";\n";
      const size_t n = txn_.size();
      txn_.clear();
      return SendBatch(batch, txn_line_, n);
    }
    return true;
  }
  if (kw == "BEGIN" || (kw == "START" && SecondKeyword(sql) == "TRANSACTION")) {
    txn_.push_back(sql);
    txn_line_ = line;
    if (settings_.interactive) {
      Info("Transaction started: the statements are sent together at COMMIT or ROLLBACK.");
    }
    return true;
  }
  if (kw == "SUBSCRIBE") {
    std::chrono::microseconds elapsed{0};
    auto r = ExecuteWithFeedback(sql, &elapsed);
    if (!r.ok()) {
      PrintError(r.status(), line);
      return false;
    }
    for (const auto& result : r->results) {
      const int col = result.FindColumn("subscription");
      if (col < 0 || result.rows.empty()) continue;
      auto req = client::SubscribeRequest::FromJson(result.rows[0][col].as_string());
      if (!req.ok()) {
        PrintError(req.status(), line);
        return false;
      }
      return StreamSubscription(*req);
    }
    PrintResults(*r);
    return true;
  }
  return SendBatch(sql, line, 1);
}

bool Session::SendBatch(const std::string& sql, size_t line, size_t statements) {
  std::chrono::microseconds elapsed{0};
  auto r = ExecuteWithFeedback(sql, &elapsed);
  if (!r.ok()) {
    PrintError(r.status(), line);
    return false;
  }
  NoteNamespaceSwitch(*r);
  PrintResults(*r);
  if (settings_.timing) PrintTook(elapsed);
  const std::string kw = client::FirstKeyword(sql);
  if (IsDdl(kw) || statements > 1) completer_.Invalidate();
  return true;
}

client::Result<client::SqlResponse> Session::ExecuteWithFeedback(
    const std::string& sql, std::chrono::microseconds* elapsed) {
  std::stop_source cancel;
  client::QueryOptions qo;
  qo.stop = cancel.get_token();
  const auto start = std::chrono::steady_clock::now();
  const bool spinner = settings_.interactive && IsTty(STDERR_FILENO);
  // Watches for Ctrl+C and, after a moment, draws a spinner with the elapsed time.
  std::jthread watcher([&](std::stop_token st) {
    static constexpr const char* kFrames[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
    std::mutex m;
    std::condition_variable_any cv;
    bool drawn = false;
    size_t frame = 0;
    while (!st.stop_requested()) {
      if (Interrupted()) cancel.request_stop();
      const auto waited = std::chrono::steady_clock::now() - start;
      if (spinner && waited > std::chrono::milliseconds(300)) {
        const double secs = std::chrono::duration<double>(waited).count();
        std::fprintf(stderr, "\r%s Running… %.1fs ", kFrames[frame++ % 10], secs);
        std::fflush(stderr);
        drawn = true;
      }
      std::unique_lock lock(m);
      cv.wait_for(lock, st, std::chrono::milliseconds(80), [] { return false; });
    }
    if (drawn) {
      std::fprintf(stderr, "\r\x1b[K");
      std::fflush(stderr);
    }
  });
  auto r = client_->Execute(sql, {}, qo);
  watcher.request_stop();
  watcher.join();
  *elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  if (!r.ok() && r.status().code() == StatusCode::kCancelled) {
    ClearInterrupt();
    interrupted_ = true;
    return Status(StatusCode::kCancelled,
                  "Cancelled by Ctrl+C (the server may still complete the statement)");
  }
  return r;
}

void Session::NoteNamespaceSwitch(const client::SqlResponse& response) {
  static constexpr std::string_view kPrefix = "Namespace switched to '";
  for (const auto& r : response.results) {
    if (!r.message || r.message->rfind(kPrefix, 0) != 0) continue;
    const size_t end = r.message->find('\'', kPrefix.size());
    if (end == std::string::npos) continue;
    const std::string ns = r.message->substr(kPrefix.size(), end - kPrefix.size());
    client_->set_current_namespace(ns);
    completer_.set_current_namespace(ns);
  }
}

void Session::PrintResults(const client::SqlResponse& response) {
  for (const auto& r : response.results) {
    switch (settings_.format) {
      case client::OutputFormat::kTable: {
        client::TableOptions to;
        to.color = settings_.color_out;
        to.null_text = settings_.null_text;
        if (settings_.interactive && IsTty(STDOUT_FILENO)) to.max_width = TerminalWidth();
        Out(client::RenderTable(r, to), true);
        break;
      }
      case client::OutputFormat::kJson:
        Out(client::RenderJsonLine(r), false);
        break;
      case client::OutputFormat::kCsv:
        if (r.columns.empty()) {
          Info(r.message ? *r.message : std::string("OK"));
        } else {
          // Consecutive CSV tables are separated by an empty line.
          Out((csv_table_printed_ ? "\n" : "") + client::RenderCsv(r), false);
          csv_table_printed_ = true;
        }
        break;
    }
  }
}

void Session::PrintTook(std::chrono::microseconds elapsed) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "Took: %.3f ms", static_cast<double>(elapsed.count()) / 1000.0);
  if (settings_.format == client::OutputFormat::kTable) {
    Out(Dim(buf, settings_.color_out) + "\n", false);
  } else {
    Info(buf);
  }
}

void Session::PrintError(const Status& status, size_t line) {
  ++failures_;
  std::string text;
  if (!settings_.source_name.empty() && line > 0) {
    text = settings_.source_name + ":" + std::to_string(line) + ": ";
  }
  text += "Error";
  if (!status.server_code().empty()) text += " [" + status.server_code() + "]";
  text += ": " + status.message();
  switch (status.code()) {
    case StatusCode::kConnectionFailed:
    case StatusCode::kTimeout:
      text += ". Is the server still running at " + client_->url() + "?";
      break;
    case StatusCode::kUnauthenticated:
      text += " (log in again with \\connect)";
      break;
    default:
      break;
  }
  std::fflush(stdout);
  std::fprintf(stderr, "%s\n", Red(text, settings_.color_err).c_str());
  std::fflush(stderr);
}

void Session::Info(const std::string& text) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
}

void Session::Out(const std::string& text, bool may_page) {
  if (may_page && settings_.pager && IsTty(STDOUT_FILENO)) {
    const size_t height = TerminalHeight();
    const char* env = std::getenv("PAGER");
    const std::string pager = env ? env : "less -FRSX";
    if (height > 0 && CountLines(text) + 1 > height && !Trim(pager).empty()) {
      std::fflush(stdout);
      if (FILE* p = ::popen(pager.c_str(), "w")) {
        std::fwrite(text.data(), 1, text.size(), p);
        ::pclose(p);
        ClearInterrupt();  // Ctrl+C inside the pager is the pager's
        return;
      }
    }
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

std::optional<SchemaInfo> Session::LoadSchema() {
  SchemaInfo info;
  client::QueryOptions qo;
  qo.timeout = std::chrono::seconds(5);
  auto cols = client_->Execute(
      "SELECT table_schema, table_name, column_name FROM information_schema.columns "
      "ORDER BY table_schema, table_name, ordinal_position LIMIT 1000",
      {}, qo);
  if (!cols.ok() || cols->results.empty()) return std::nullopt;
  for (const auto& row : cols->results[0].rows) {
    if (row.size() < 3) continue;
    info.tables[row[0].ToString() + "." + row[1].ToString()].push_back(row[2].ToString());
  }
  auto ns = client_->Execute("SHOW NAMESPACES", {}, qo);
  if (ns.ok() && !ns->results.empty()) {
    const auto& r = ns->results[0];
    const int c = r.FindColumn("namespace_id");
    for (const auto& row : r.rows) {
      if (c >= 0 && static_cast<size_t>(c) < row.size()) info.namespaces.push_back(row[c].ToString());
    }
  }
  return info;
}

}  // namespace kalam::cli
