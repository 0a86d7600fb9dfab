// Tests for SetupLogging: file output with the ISO-time pattern, level filtering, rotation, and
// the errors for a bad level or an unopenable file.
#include "server/logging.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

namespace kalam::server {
namespace {

namespace fs = std::filesystem;

class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kalam_logging_test_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
  }
  void TearDown() override {
    EXPECT_TRUE(SetupLogging(LoggingConfig{}).ok());  // back to console only, releasing the file
    fs::remove_all(dir_);
  }

  static std::string ReadAll(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  fs::path dir_;
};

TEST_F(LoggingTest, WritesIsoTimestampLevelThreadAndMessageToFile) {
  LoggingConfig config;
  config.level = "debug";
  config.file = (dir_ / "logs" / "kalamdb.log").string();  // parent directories are created
  ASSERT_TRUE(SetupLogging(config).ok());
  spdlog::debug("hello {}", 42);
  spdlog::trace("below the level");
  spdlog::default_logger()->flush();

  std::string text = ReadAll(config.file);
  EXPECT_TRUE(std::regex_search(
      text, std::regex(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z \[debug\] \[tid \d+\] hello 42\n)")))
      << text;
  EXPECT_EQ(text.find("below the level"), std::string::npos);
}

TEST_F(LoggingTest, LevelFiltersMessages) {
  LoggingConfig config;
  config.level = "warn";
  config.file = (dir_ / "kalamdb.log").string();
  ASSERT_TRUE(SetupLogging(config).ok());
  spdlog::info("quiet info");
  spdlog::warn("loud warning");  // warn and above flush at once
  std::string text = ReadAll(config.file);
  EXPECT_EQ(text.find("quiet info"), std::string::npos);
  EXPECT_NE(text.find("[warning] [tid "), std::string::npos) << text;
  EXPECT_NE(text.find("loud warning"), std::string::npos);
}

TEST_F(LoggingTest, FileRotatesBySize) {
  LoggingConfig config;
  config.file = (dir_ / "kalamdb.log").string();
  config.max_file_mb = 1;
  config.max_files = 2;
  ASSERT_TRUE(SetupLogging(config).ok());
  const std::string line(1000, 'x');
  for (int i = 0; i < 1500; ++i) spdlog::info("{} {}", i, line);  // ~1.5 MiB
  spdlog::default_logger()->flush();
  EXPECT_TRUE(fs::exists(dir_ / "kalamdb.log"));
  EXPECT_TRUE(fs::exists(dir_ / "kalamdb.1.log"));
  EXPECT_LE(fs::file_size(dir_ / "kalamdb.log"), 1024u * 1024u);
}

TEST_F(LoggingTest, UnknownLevelIsInvalidArgument) {
  LoggingConfig config;
  config.level = "chatty";
  Status s = SetupLogging(config);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("logging.level"), std::string::npos);
}

TEST_F(LoggingTest, UnopenableFileIsIoError) {
  fs::create_directories(dir_ / "a_directory");
  LoggingConfig config;
  config.file = (dir_ / "a_directory").string();  // a directory, not a file
  Status s = SetupLogging(config);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("Cannot open log file"), std::string::npos) << s.message();
}

TEST_F(LoggingTest, ConsoleOnlyWhenNoFile) {
  ASSERT_TRUE(SetupLogging(LoggingConfig{}).ok());
  EXPECT_EQ(spdlog::default_logger()->sinks().size(), 1u);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::info);
}

TEST_F(LoggingTest, JsonFormatWritesOneJsonObjectPerLine) {
  LoggingConfig config;
  config.format = "json";
  config.file = (dir_ / "server.jsonl").string();
  ASSERT_TRUE(SetupLogging(config).ok());
  spdlog::info("hello \"{}\"\nnext", "json");
  spdlog::warn("second");
  spdlog::default_logger()->flush();

  std::string text = ReadAll(config.file);
  EXPECT_TRUE(std::regex_match(
      text,
      std::regex(R"(\{"timestamp":"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z","level":"info",)"
                 R"("thread":"\d+","target":"kalamdb","message":"hello \\"json\\"\\nnext"\}\n)"
                 R"(\{"timestamp":"[^"]+","level":"warning","thread":"\d+","target":"kalamdb",)"
                 R"("message":"second"\}\n)")))
      << text;
}

TEST_F(LoggingTest, UnknownFormatIsInvalidArgument) {
  LoggingConfig config;
  config.format = "xml";
  Status s = SetupLogging(config);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "Invalid configuration: logging.format must be one of compact, json (got \"xml\")");
}

}  // namespace
}  // namespace kalam::server
