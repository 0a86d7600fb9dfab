// Tests for FileRef JSON, stored names and MIME sniffing.
#include "files/file_ref.h"

#include <gtest/gtest.h>

namespace kalam::files {
namespace {

TEST(FileRefTest, JsonHasTheFieldsInOrderAndParsesBack) {
  FileRef r{"258874983317667840", "f0001", "My \"Document\".pdf", 1024, "application/pdf",
            std::string(64, 'a')};
  EXPECT_EQ(r.ToJson(),
            "{\"id\":\"258874983317667840\",\"sub\":\"f0001\",\"name\":\"My \\\"Document\\\".pdf\","
            "\"size\":1024,\"mime\":\"application/pdf\",\"sha256\":\"" + std::string(64, 'a') +
                "\"}");
  auto back = ParseFileRef(r.ToJson());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->id, r.id);
  EXPECT_EQ(back->sub, "f0001");
  EXPECT_EQ(back->name, r.name);
  EXPECT_EQ(back->size, 1024u);
  EXPECT_EQ(back->mime, "application/pdf");
}

TEST(FileRefTest, OtherTextIsNotAFileRef) {
  EXPECT_FALSE(ParseFileRef("hello").has_value());
  EXPECT_FALSE(ParseFileRef("{\"id\":\"1\"}").has_value());
  EXPECT_FALSE(ParseFileRef("{\"id\":\"../x\",\"sub\":\"f0001\",\"name\":\"a\"}").has_value());
  EXPECT_FALSE(ParseFileRef("{\"id\":\"1\",\"sub\":\"../..\",\"name\":\"a\"}").has_value());
}

TEST(FileRefTest, StoredNamesAreSanitised) {
  FileRef r;
  r.id = "42";
  r.name = "My Document.PDF";
  EXPECT_EQ(r.StoredName(), "42-my-document.pdf");
  r.name = "../../etc/pa ss__wd";
  EXPECT_EQ(r.StoredName(), "42-pa-ss-wd.bin");
  r.name = "日本.txt";
  EXPECT_EQ(r.StoredName(), "42.txt");
  r.name = "a.verylongextension";
  EXPECT_EQ(r.StoredName(), "42-a.bin");
  EXPECT_EQ(SanitizeFileName(std::string(80, 'x') + ".x").size(), 50u);
}

TEST(FileRefTest, StoredNameIdAcceptsOnlyTheStoredShape) {
  EXPECT_EQ(*StoredNameId("42-my-doc.pdf"), "42");
  EXPECT_EQ(*StoredNameId("42.bin"), "42");
  EXPECT_FALSE(StoredNameId("42").has_value());
  EXPECT_FALSE(StoredNameId("x42.pdf").has_value());
  EXPECT_FALSE(StoredNameId("42-../a.pdf").has_value());
  EXPECT_FALSE(StoredNameId("42-A.pdf").has_value());
  EXPECT_FALSE(StoredNameId("42-a.p/f").has_value());
  EXPECT_TRUE(IsValidSub("f0001"));
  EXPECT_FALSE(IsValidSub("f001"));
  EXPECT_FALSE(IsValidSub("g0001"));
}

TEST(FileRefTest, SniffsMagicBytesThenExtension) {
  EXPECT_EQ(SniffMime("\x89PNG\r\n\x1a\n....", "x.bin"), "image/png");
  EXPECT_EQ(SniffMime("%PDF-1.7", "x"), "application/pdf");
  EXPECT_EQ(SniffMime("RIFF1234WEBPVP8", "x"), "image/webp");
  EXPECT_EQ(SniffMime("hello", "notes.TXT"), "text/plain");
  EXPECT_EQ(SniffMime("hello", "data.weird"), "application/octet-stream");
}

}  // namespace
}  // namespace kalam::files
