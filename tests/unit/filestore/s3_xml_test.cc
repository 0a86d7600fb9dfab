// Tests for the minimal XML reader and the ListObjectsV2 / Error documents read with it.
#include "filestore/s3_xml.h"

#include <gtest/gtest.h>

namespace kalam::filestore {
namespace {

TEST(XmlTest, ParsesElementsTextAttributesAndEntities) {
  auto r = ParseXml(
      "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->"
      "<Root xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\" a='1'>"
      "<A>x &amp; y &lt;z&gt; &quot;q&quot; &apos;s&apos; &#65;&#x42;&#x1F642;</A>"
      "<B/><B >two</B ><![CDATA[<raw & text>]]><?pi x?><!-- inner --></Root>\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "Root");
  ASSERT_EQ(r->children.size(), 3u);
  EXPECT_EQ(r->children[0].text, "x & y <z> \"q\" 's' AB\xF0\x9F\x99\x82");
  EXPECT_EQ(r->Find("B")->text, "");
  EXPECT_EQ(r->children[2].text, "two");
  EXPECT_EQ(r->text, "<raw & text>");
  EXPECT_EQ(r->Find("Missing"), nullptr);
}

TEST(XmlTest, RefusesMalformedDocuments) {
  for (const char* bad : {
           "", "text", "<a>", "<a></b>", "<a><b></a></b>", "<a>&bogus;</a>", "<a>&amp</a>",
           "<a>&#0;</a>", "<a>&#xD800;</a>", "<a>&#x110000;</a>", "<a x=1></a>", "<a x=\"1></a>",
           "<a></a><b></b>", "<a></a>trailing", "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
           "<a><![CDATA[x</a>", "<a><!-- x</a>", "< a></a>"}) {
    EXPECT_EQ(ParseXml(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(XmlTest, RefusesExcessiveNesting) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  for (int i = 0; i < 100; ++i) deep += "</a>";
  EXPECT_EQ(ParseXml(deep).status().code(), StatusCode::kInvalidArgument);
  std::string ok;
  for (int i = 0; i < 10; ++i) ok += "<a>";
  for (int i = 0; i < 10; ++i) ok += "</a>";
  EXPECT_TRUE(ParseXml(ok).ok());
}

TEST(ListObjectsV2Test, ReadsAPage) {
  auto page = ParseListObjectsV2(
      R"(<?xml version="1.0" encoding="UTF-8"?>)"
      R"(<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
      R"(<Name>bucket</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>)"
      R"(<IsTruncated>true</IsTruncated>)"
      R"(<Contents><Key>p/a &amp; b.parquet</Key>)"
      R"(<LastModified>2024-01-01T00:00:00.000Z</LastModified>)"
      R"(<ETag>&quot;abc&quot;</ETag><Size>123</Size>)"
      R"(<StorageClass>STANDARD</StorageClass></Contents>)"
      R"(<Contents><Key>p/&lt;z&gt;</Key><Size>0</Size></Contents>)"
      R"(<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=)"
      R"(</NextContinuationToken>)"
      R"(</ListBucketResult>)");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "p/a & b.parquet");
  EXPECT_EQ(page->objects[0].size_bytes, 123u);
  EXPECT_EQ(page->objects[1].key, "p/<z>");
  EXPECT_EQ(page->objects[1].size_bytes, 0u);
  EXPECT_TRUE(page->is_truncated);
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(ListObjectsV2Test, ReadsTheLastAndAnEmptyPage) {
  auto page = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>0</KeyCount>"
      "</ListBucketResult>");
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->objects.empty());
  EXPECT_FALSE(page->is_truncated);
  EXPECT_EQ(page->next_continuation_token, "");
}

TEST(ListObjectsV2Test, RefusesWhatIsNotAPage) {
  EXPECT_FALSE(ParseListObjectsV2("<Error><Code>x</Code></Error>").ok());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Size>1</Size></Contents>"
                                  "</ListBucketResult>")
                   .ok());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key><Size>-1</Size>"
                                  "</Contents></ListBucketResult>")
                   .ok());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key><Size>1x</Size>"
                                  "</Contents></ListBucketResult>")
                   .ok());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key></Contents>"
                                  "</ListBucketResult>")
                   .ok());
  EXPECT_FALSE(
      ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>")
          .ok());
  EXPECT_FALSE(
      ParseListObjectsV2("<ListBucketResult><IsTruncated>yes</IsTruncated></ListBucketResult>")
          .ok());
}

TEST(S3ErrorTest, ReadsCodeAndMessage) {
  S3ErrorInfo e = ParseS3Error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
      "<Message>The specified key does not exist.</Message><Key>a&amp;b</Key>"
      "<RequestId>x</RequestId></Error>");
  EXPECT_EQ(e.code, "NoSuchKey");
  EXPECT_EQ(e.message, "The specified key does not exist.");
  EXPECT_EQ(ParseS3Error("").code, "");
  EXPECT_EQ(ParseS3Error("<html>502 Bad Gateway</html>").code, "");
  EXPECT_EQ(ParseS3Error("<Error><Code>Slow").code, "");
}

}  // namespace
}  // namespace kalam::filestore
