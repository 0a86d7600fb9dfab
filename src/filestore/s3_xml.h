// The little XML S3 speaks back: a minimal, strict XML reader and the two documents the S3 client
// needs from it (a ListObjectsV2 page and an error body).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "filestore/object_store.h"

namespace kalam::filestore {

// One element: its name (prefix included, e.g. "ListBucketResult"), its text content with
// entities decoded (the concatenation of its direct text and CDATA pieces), its child elements.
// Attributes are parsed and dropped. Value type.
struct XmlElement {
  std::string name;
  std::string text;
  std::vector<XmlElement> children;

  // The first child named `child`, or nullptr.
  const XmlElement* Find(std::string_view child) const;
};

// Parses a document: an optional XML declaration, comments and processing instructions, then one
// root element. Understands the five predefined entities and numeric character references;
// refuses DOCTYPE (so no custom entities), unknown entities, mismatched tags, trailing content and
// nesting deeper than 64. kInvalidArgument naming the problem and its byte offset.
Result<XmlElement> ParseXml(std::string_view xml);

// One page of a ListObjectsV2 response.
struct ListObjectsPage {
  std::vector<ObjectInfo> objects;  // keys as S3 returned them (the bucket-relative full key)
  bool is_truncated = false;
  std::string next_continuation_token;  // non-empty when is_truncated
};

// Reads a <ListBucketResult>: every <Contents> with its <Key> and <Size>, <IsTruncated> and
// <NextContinuationToken>. kInvalidArgument when the document is not such a page (bad XML, a
// Contents without Key or with a non-numeric Size, truncated without a token).
Result<ListObjectsPage> ParseListObjectsV2(std::string_view xml);

// The <Code> and <Message> of an S3 <Error> body; empty strings when the body is not one.
struct S3ErrorInfo {
  std::string code;
  std::string message;
};
S3ErrorInfo ParseS3Error(std::string_view xml);

}  // namespace kalam::filestore
