// Tests for storage path templates and object-key validation, including a table of hostile keys,
// templates and template values.
#include "filestore/path_template.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kalam::filestore {
namespace {

using namespace std::string_literals;

std::string Expand(std::string_view tmpl, const TemplateValues& v) {
  Result<std::string> r = ExpandTemplate(tmpl, v);
  EXPECT_TRUE(r.ok()) << tmpl << ": " << r.status().ToString();
  return r.ok() ? *r : "<error>";
}

TemplateValues Values(std::string ns, std::string table, std::string user,
                      std::string shard = "0") {
  TemplateValues v;
  v.namespace_id = std::move(ns);
  v.table_name = std::move(table);
  v.user_id = std::move(user);
  v.shard = std::move(shard);
  return v;
}

// ---- ValidateKey ----

TEST(ValidateKeyTest, AcceptsOrdinaryRelativeKeys) {
  for (const char* key : {"a", "chat/messages/u1/seg-00001.parquet", "manifest.json",
                          ".kalam-check/probe-1", "a/b.c/d..e/...", "%2e%2e/x", "a b/c+d=e",
                          "ключ/データ/🙂", "x~y/_z-"}) {
    EXPECT_TRUE(ValidateKey(key).ok()) << key << ": " << ValidateKey(key).ToString();
  }
}

TEST(ValidateKeyTest, AcceptsExactly1024BytesAndRefuses1025) {
  EXPECT_TRUE(ValidateKey(std::string(1024, 'k')).ok());
  Status st = ValidateKey(std::string(1025, 'k'));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "object key of 1025 bytes is longer than the limit of 1024 bytes");
}

struct HostileCase {
  std::string input;
  std::string message_part;  // expected in the error message
};

// Every one of these must be refused by ValidateKey with kInvalidArgument.
const std::vector<HostileCase>& HostileKeys() {
  static const std::vector<HostileCase> cases = {
      {"", "is empty"},
      {"..", "'..' segment"},
      {".", "'.' segment"},
      {"../etc/passwd", "'..' segment"},
      {"a/../../b", "'..' segment"},
      {"a/..", "'..' segment"},
      {"a/./b", "'.' segment"},
      {"./a", "'.' segment"},
      {"/etc/passwd", "is absolute"},
      {"/", "is absolute"},
      {"//server/share", "is absolute"},
      {"a//b", "empty path segment"},
      {"a/", "empty path segment"},
      {"a/b/", "empty path segment"},
      {"a\\b", "backslash"},
      {"..\\..\\windows", "backslash"},
      {"\\\\server\\share", "backslash"},
      {"a\0b"s, "NUL byte"},
      {"\0"s, "NUL byte"},
      {"a\nb", "control character"},
      {"a\rb", "control character"},
      {"a\tb", "control character"},
      {"a\x1b[31mred", "control character"},
      {"a\x7f", "control character"},
      {"\xff\xfe", "not valid UTF-8"},
      {"a\xc0\xaf", "not valid UTF-8"},         // overlong '/'
      {"\xc0\xae\xc0\xae/x", "not valid UTF-8"},  // overlong ".."
      {"\xed\xa0\x80", "not valid UTF-8"},        // surrogate
      {std::string(5000, 'a'), "longer than the limit"},
      {std::string(600, 'a') + "/" + std::string(600, 'b'), "longer than the limit"},
  };
  return cases;
}

TEST(ValidateKeyTest, RefusesEveryHostileKey) {
  ASSERT_GE(HostileKeys().size(), 25u);
  for (const HostileCase& c : HostileKeys()) {
    Status st = ValidateKey(c.input);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << "key accepted: " << c.input;
    EXPECT_NE(st.message().find(c.message_part), std::string::npos)
        << "key '" << c.input << "' gave '" << st.message() << "', want '" << c.message_part
        << "'";
  }
}

TEST(ValidateKeyTest, MessageNamesTheKeyWithControlBytesEscaped) {
  EXPECT_EQ(ValidateKey("a/../b").message(), "object key 'a/../b' has a '..' segment");
  EXPECT_EQ(ValidateKey("a\nb").message(), "object key 'a\\x0ab' contains a control character");
  EXPECT_EQ(ValidateKey("/x").message(),
            "object key '/x' is absolute; it must be relative to the storage base");
}

TEST(ValidatePrefixTest, AcceptsEmptyDirectoryAndPartialPrefixes) {
  for (const char* p : {"", "chat", "chat/", "chat/messages/seg-", ".kalam-check/"}) {
    EXPECT_TRUE(ValidatePrefix(p).ok()) << p << ": " << ValidatePrefix(p).ToString();
  }
}

TEST(ValidatePrefixTest, RefusesPathTricks) {
  for (const char* p : {"/", "//", "a//", "../", "..", "a/../", "/etc/", "a\\", "a/./"}) {
    EXPECT_EQ(ValidatePrefix(p).code(), StatusCode::kInvalidArgument) << p;
  }
}

// ---- ValidateTemplate ----

TEST(ValidateTemplateTest, AcceptsTheDocumentedTemplates) {
  EXPECT_TRUE(ValidateTemplate("{namespace}/{tableName}/{userId}", true).ok());
  EXPECT_TRUE(ValidateTemplate("{namespace}/{tableName}", false).ok());
  EXPECT_TRUE(ValidateTemplate("{namespace}/{table_name}/{user_id}", true).ok());
  EXPECT_TRUE(ValidateTemplate("data/{namespace}/{tableName}/shard-{shard}", false).ok());
  EXPECT_TRUE(ValidateTemplate("users/{userId}/{namespace}.{tableName}", true).ok());
  EXPECT_TRUE(ValidateTemplate("{namespace}-{tableName}-{shard}", false).ok());
}

TEST(ValidateTemplateTest, UserTemplatesNeedUserIdAndSharedOnesMustNotHaveIt) {
  Status st = ValidateTemplate("{namespace}/{tableName}", true);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "storage path template '{namespace}/{tableName}' of a USER table must contain "
            "{userId}, so that every user's rows live in their own folder");
  st = ValidateTemplate("{namespace}/{tableName}/{userId}", false);
  EXPECT_EQ(st.message(),
            "storage path template '{namespace}/{tableName}/{userId}' of a SHARED table must not "
            "contain {userId}");
  EXPECT_FALSE(ValidateTemplate("{namespace}/{user_id}", false).ok());
  EXPECT_TRUE(ValidateTemplate("{namespace}/{user_id}", true).ok());
}

TEST(ValidateTemplateTest, RefusesBadTemplates) {
  const std::vector<HostileCase> cases = {
      {"", "is empty"},
      {"/{namespace}/{tableName}", "is absolute"},
      {"{namespace}/../{tableName}", "'..' segment"},
      {"../{namespace}/{tableName}", "'..' segment"},
      {"{namespace}/./{tableName}", "'.' segment"},
      {"{namespace}//{tableName}", "empty path segment"},
      {"{namespace}/{tableName}/", "empty path segment"},
      {"{namespace}\\{tableName}", "backslash"},
      {"{namespace}/{tableName}\n", "control character"},
      {"{namespace}/\0{tableName}"s, "NUL byte"},
      {"{namespace}/{tableName", "unclosed '{'"},
      {"{namespace}/{{tableName}}", "unclosed '{'"},
      {"{namespace}/tableName}", "unmatched '}'"},
      {"{namespace}/{table}", "unknown placeholder {table}"},
      {"{namespace}/{TableName}", "unknown placeholder {TableName}"},
      {"{namespace}/{}", "unknown placeholder {}"},
      {"{namespace}/{ tableName }", "unknown placeholder { tableName }"},
  };
  for (const HostileCase& c : cases) {
    Status st = ValidateTemplate(c.input, false);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << "template accepted: " << c.input;
    EXPECT_NE(st.message().find(c.message_part), std::string::npos)
        << "template '" << c.input << "' gave '" << st.message() << "'";
  }
}

// ---- ExpandTemplate ----

TEST(ExpandTemplateTest, SubstitutesEveryPlaceholderAndAlias) {
  TemplateValues v = Values("chat", "messages", "u1", "3");
  EXPECT_EQ(Expand("{namespace}/{tableName}/{userId}", v), "chat/messages/u1");
  EXPECT_EQ(Expand("{namespace}/{table_name}/{user_id}", v), "chat/messages/u1");
  EXPECT_EQ(Expand("data/{namespace}/{tableName}/shard-{shard}", v), "data/chat/messages/shard-3");
  EXPECT_EQ(Expand("{namespace}.{tableName}", v), "chat.messages");
  EXPECT_EQ(Expand("{userId}/{userId}", v), "u1/u1");
}

TEST(ExpandTemplateTest, ShardDefaultsToZeroAndSharedTablesIgnoreUserId) {
  TemplateValues v;
  v.namespace_id = "app";
  v.table_name = "config";
  EXPECT_EQ(Expand("{namespace}/{tableName}/{shard}", v), "app/config/0");
}

TEST(ExpandTemplateTest, ValuesAreTakenLiterallyIncludingPercentAndUnicode) {
  // '%' is never decoded anywhere, so "%2e%2e" stays a harmless five-byte name.
  EXPECT_EQ(Expand("{namespace}/{tableName}/{userId}", Values("ns", "t", "%2e%2e")),
            "ns/t/%2e%2e");
  EXPECT_EQ(Expand("{namespace}/{tableName}/{userId}", Values("ns", "t", "пользователь")),
            "ns/t/пользователь");
  EXPECT_EQ(Expand("{namespace}/{tableName}/{userId}", Values("ns", "t", "...")), "ns/t/...");
  EXPECT_EQ(Expand("{namespace}/{tableName}/{userId}", Values("ns", "t", "a.b")), "ns/t/a.b");
}

TEST(ExpandTemplateTest, RefusesEveryHostileValue) {
  const std::vector<HostileCase> cases = {
      {"", "value of {userId} is empty"},
      {".", "is not allowed in a storage path"},
      {"..", "is not allowed in a storage path"},
      {"../../etc", "contains '/'"},
      {"a/b", "contains '/'"},
      {"/", "contains '/'"},
      {"/etc/passwd", "contains '/'"},
      {"..\\..", "backslash"},
      {"a\\b", "backslash"},
      {"u\0x"s, "NUL byte"},
      {"u\n", "control character"},
      {"\x7f", "control character"},
      {"\xc0\xae\xc0\xae", "not valid UTF-8"},
      {std::string(2000, 'u'), "longer than the limit"},
  };
  for (const HostileCase& c : cases) {
    Result<std::string> r =
        ExpandTemplate("{namespace}/{tableName}/{userId}", Values("ns", "t", c.input));
    ASSERT_FALSE(r.ok()) << "value accepted: " << c.input << " → " << *r;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.message_part), std::string::npos)
        << "value '" << c.input << "' gave '" << r.status().message() << "'";
  }
}

TEST(ExpandTemplateTest, RefusesHostileValuesInEveryPlaceholder) {
  EXPECT_EQ(ExpandTemplate("{namespace}/{tableName}", Values("..", "t", "")).status().message(),
            "value '..' of {namespace} is not allowed in a storage path");
  EXPECT_EQ(ExpandTemplate("{namespace}/{table_name}", Values("n", "a/b", "")).status().message(),
            "value 'a/b' of {table_name} contains '/'; a value must be one path segment");
  EXPECT_FALSE(ExpandTemplate("{namespace}/{tableName}/{shard}", Values("n", "t", "", "")).ok());
  // A USER template with no user id to put in it.
  EXPECT_EQ(ExpandTemplate("{namespace}/{tableName}/{userId}", Values("n", "t", ""))
                .status()
                .message(),
            "value of {userId} is empty");
}

TEST(ExpandTemplateTest, RefusesAnInvalidTemplateEvenWithSafeValues) {
  EXPECT_FALSE(ExpandTemplate("../{namespace}", Values("n", "t", "u")).ok());
  EXPECT_FALSE(ExpandTemplate("{namespace}/{bogus}", Values("n", "t", "u")).ok());
  EXPECT_FALSE(ExpandTemplate("/{namespace}", Values("n", "t", "u")).ok());
}

TEST(ExpandTemplateTest, EveryExpansionIsAValidKey) {
  const std::vector<std::string> templates = {"{namespace}/{tableName}/{userId}",
                                              "x/{namespace}{tableName}{userId}{shard}",
                                              "{userId}.{shard}/{namespace}"};
  const std::vector<std::string> values = {"a", "...", "a.", ".a", "%2f", "~", "-", "ü"};
  for (const auto& t : templates) {
    for (const auto& a : values) {
      for (const auto& b : values) {
        Result<std::string> r = ExpandTemplate(t, Values(a, b, a, b));
        ASSERT_TRUE(r.ok()) << t << " " << a << " " << b << ": " << r.status().ToString();
        EXPECT_TRUE(ValidateKey(*r).ok()) << *r;
      }
    }
  }
}

}  // namespace
}  // namespace kalam::filestore
