// Tests of config.toml parsing, first-run creation and the 0600 credentials store.
#include "kalam/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace kalam::client {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/kalam-client-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

mode_t ModeOf(const std::string& path) {
  struct stat st{};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

TEST(ConfigTest, EmptyTextGivesDefaults) {
  auto c = ParseConfig("");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->connection.url, "http://127.0.0.1:8080");
  EXPECT_EQ(c->connection.user, "");
  EXPECT_EQ(c->connection.timeout_secs, 30);
  EXPECT_TRUE(c->connection.save_credentials);
  EXPECT_EQ(c->output.format, OutputFormat::kTable);
  EXPECT_EQ(c->output.color, ColorMode::kAuto);
  EXPECT_TRUE(c->output.timing);
  EXPECT_TRUE(c->output.pager);
  EXPECT_EQ(c->output.null_text, "NULL");
}

TEST(ConfigTest, DefaultFileTextParsesToTheDefaults) {
  auto c = ParseConfig(DefaultConfigText());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->connection.url, "http://127.0.0.1:8080");
  EXPECT_EQ(c->output.format, OutputFormat::kTable);
  EXPECT_NE(DefaultConfigText().find("[connection]"), std::string::npos);
  EXPECT_NE(DefaultConfigText().find("[output]"), std::string::npos);
}

TEST(ConfigTest, ReadsEverySetting) {
  auto c = ParseConfig(R"(
[connection]
url = "http://db:9000"
user = "alice"
namespace = "chat"
timeout_secs = 5
save_credentials = false
[output]
format = "CSV"
color = false
timing = false
pager = false
null_text = "-"
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->connection.url, "http://db:9000");
  EXPECT_EQ(c->connection.user, "alice");
  EXPECT_EQ(c->connection.namespace_id, "chat");
  EXPECT_EQ(c->connection.timeout_secs, 5);
  EXPECT_FALSE(c->connection.save_credentials);
  EXPECT_EQ(c->output.format, OutputFormat::kCsv);
  EXPECT_EQ(c->output.color, ColorMode::kNever);
  EXPECT_FALSE(c->output.timing);
  EXPECT_FALSE(c->output.pager);
  EXPECT_EQ(c->output.null_text, "-");
  EXPECT_EQ(ParseConfig("[output]\ncolor = \"always\"\n")->output.color, ColorMode::kAlways);
}

TEST(ConfigTest, RejectsUnknownKeysWrongTypesAndBadSyntax) {
  auto unknown = ParseConfig("[connection]\nhost = \"x\"\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("'connection.host'"), std::string::npos);

  auto section = ParseConfig("[server]\nport = 1\n");
  ASSERT_FALSE(section.ok());
  EXPECT_NE(section.status().message().find("'server'"), std::string::npos);

  auto type = ParseConfig("[connection]\ntimeout_secs = \"ten\"\n");
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.status().message().find("'connection.timeout_secs' must be an integer"),
            std::string::npos);

  auto format = ParseConfig("[output]\nformat = \"xml\"\n");
  ASSERT_FALSE(format.ok());
  EXPECT_NE(format.status().message().find("unknown format 'xml'"), std::string::npos);

  auto syntax = ParseConfig("[connection]\nurl = \"x\"\nuser = \n");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.status().message().find("line 3"), std::string::npos)
      << syntax.status().message();
}

TEST(ConfigTest, LoadOrCreateWritesTheDefaultFileOnce) {
  TempDir dir;
  const std::string path = dir.path() + "/home/.kalam/config.toml";
  auto first = LoadOrCreateConfig(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->connection.url, "http://127.0.0.1:8080");
  EXPECT_EQ(ModeOf(dir.path() + "/home/.kalam"), 0700u);
  {
    std::ofstream out(path);
    out << "[connection]\nuser = \"bob\"\n";
  }
  auto second = LoadOrCreateConfig(path);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->connection.user, "bob");  // an existing file is never overwritten
}

TEST(ConfigTest, KalamHomeFollowsHome) {
  const char* old = std::getenv("HOME");
  const std::string saved = old ? old : "";
  ::setenv("HOME", "/tmp/some-home", 1);
  EXPECT_EQ(KalamHomeDir(), "/tmp/some-home/.kalam");
  if (old) ::setenv("HOME", saved.c_str(), 1);
}

TEST(CredentialsTest, RoundTripsWithModeOwnerOnlyWhateverTheUmask) {
  TempDir dir;
  const std::string path = dir.path() + "/.kalam/credentials.toml";
  const mode_t old_umask = ::umask(0);
  std::vector<StoredCredentials> list;
  StoredCredentials a;
  a.url = "http://127.0.0.1:8080";
  a.user = "root";
  a.access_token = "a.b.c";
  a.refresh_token = "d.e.f";
  a.access_expires_at = 1700000000;
  a.refresh_expires_at = 1800000000;
  UpsertCredentials(&list, a);
  StoredCredentials b = a;
  b.user = "alice";
  b.access_token = "quote'\"token";
  UpsertCredentials(&list, b);
  ASSERT_TRUE(SaveCredentials(path, list).ok());
  ::umask(old_umask);
  EXPECT_EQ(ModeOf(path), 0600u);
  auto loaded = LoadCredentials(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].access_token, "a.b.c");
  EXPECT_EQ((*loaded)[0].refresh_expires_at, 1800000000);
  EXPECT_EQ((*loaded)[1].access_token, "quote'\"token");
  EXPECT_EQ(FindCredentials(*loaded, "http://127.0.0.1:8080", "alice")->user, "alice");
  EXPECT_EQ(FindCredentials(*loaded, "http://127.0.0.1:8080", "")->user, "root");
  EXPECT_FALSE(FindCredentials(*loaded, "http://other:8080", "").has_value());
  // Upsert replaces the entry for the same url and user.
  StoredCredentials a2 = a;
  a2.access_token = "new";
  UpsertCredentials(&*loaded, a2);
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].access_token, "new");
}

TEST(CredentialsTest, MissingFileIsAnEmptyList) {
  TempDir dir;
  auto loaded = LoadCredentials(dir.path() + "/none.toml");
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->empty());
}

}  // namespace
}  // namespace kalam::client
