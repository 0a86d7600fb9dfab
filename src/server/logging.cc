// SetupLogging: builds the spdlog default logger from LoggingConfig.
#include "server/logging.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common/log_line.h"

namespace kalam::server {

namespace {

// ISO 8601 UTC time with milliseconds, level (colored on a terminal), thread id, message.
constexpr const char* kPattern = "%Y-%m-%dT%H:%M:%S.%eZ [%^%l%$] [tid %t] %v";

std::optional<spdlog::level::level_enum> ParseLevel(const std::string& level) {
  if (level == "trace") return spdlog::level::trace;
  if (level == "debug") return spdlog::level::debug;
  if (level == "info") return spdlog::level::info;
  if (level == "warn") return spdlog::level::warn;
  if (level == "error") return spdlog::level::err;
  if (level == "critical") return spdlog::level::critical;
  if (level == "off") return spdlog::level::off;
  return std::nullopt;
}

}  // namespace

std::unique_ptr<spdlog::formatter> NewJsonLogFormatter() {
  return std::make_unique<JsonLogFormatter>();
}

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  LogLine line;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
      msg.time.time_since_epoch());
  line.timestamp = FormatLogTimestamp(us.count());
  const auto level = spdlog::level::to_string_view(msg.level);
  line.level.assign(level.data(), level.size());
  line.thread = std::to_string(msg.thread_id);
  line.target.assign(msg.logger_name.data(), msg.logger_name.size());
  if (!msg.source.empty()) {
    line.file = msg.source.filename;
    line.line = msg.source.line;
  }
  line.message.assign(msg.payload.data(), msg.payload.size());
  std::string text = FormatJsonLogLine(line);
  text += '\n';
  dest.append(text.data(), text.data() + text.size());
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

Status SetupLogging(const LoggingConfig& config) {
  std::optional<spdlog::level::level_enum> level = ParseLevel(config.level);
  if (!level) {
    return Status::InvalidArgument(
        "Invalid configuration: logging.level must be one of trace, debug, info, warn, error, "
        "critical, off (got \"" + config.level + "\")");
  }
  if (config.format != "compact" && config.format != "json") {
    return Status::InvalidArgument(
        "Invalid configuration: logging.format must be one of compact, json (got \"" +
        config.format + "\")");
  }
  if (!config.file.empty() && (config.max_file_mb == 0 || config.max_files == 0)) {
    return Status::InvalidArgument(
        "Invalid configuration: logging.max_file_mb and logging.max_files must be > 0");
  }

  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (!config.file.empty()) {
    std::error_code ec;
    std::filesystem::path parent = std::filesystem::path(config.file).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) {
      return Status::IoError("Cannot create log directory '" + parent.string() +
                             "': " + ec.message());
    }
    try {
      const size_t max_bytes = static_cast<size_t>(config.max_file_mb) * 1024 * 1024;
      sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          config.file, max_bytes, config.max_files));
    } catch (const spdlog::spdlog_ex& e) {
      return Status::IoError("Cannot open log file '" + config.file + "': " + e.what());
    }
  }

  auto logger = std::make_shared<spdlog::logger>("kalamdb", sinks.begin(), sinks.end());
  if (config.format == "json") {
    logger->set_formatter(NewJsonLogFormatter());
  } else {
    logger->set_formatter(
        std::make_unique<spdlog::pattern_formatter>(kPattern, spdlog::pattern_time_type::utc));
  }
  logger->set_level(*level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  spdlog::flush_every(std::chrono::seconds(1));
  return Status::OK();
}

void ShutdownLogging() { spdlog::shutdown(); }

}  // namespace kalam::server
