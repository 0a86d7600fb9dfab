// FileRef: the JSON a FILE column holds for an uploaded file (docs/files.md), and the names it
// implies in the table's storage (`<sub>/<id>-<sanitised name>.<ext>`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/table_def.h"
#include "common/value.h"

namespace kalam::files {

struct FileRef {
  std::string id;    // Snowflake id, decimal
  std::string sub;   // "f0001"…
  std::string name;  // original file name as uploaded
  uint64_t size = 0;
  std::string mime;
  std::string sha256;  // lower-case hex

  // `{"id":…,"sub":…,"name":…,"size":…,"mime":…,"sha256":…}` in this field order.
  std::string ToJson() const;
  // "<id>-<sanitised name>.<ext>", or "<id>.<ext>" when nothing of the name survives.
  std::string StoredName() const;
};

// The FileRef in `json`, or nullopt when the text is not a FileRef (any string may be stored in
// a FILE column; only real FileRefs take part in the file lifecycle).
std::optional<FileRef> ParseFileRef(std::string_view json);

// The FileRefs in the FILE columns of `values` (a row of `def`, in column order).
std::vector<FileRef> FileRefsOfRow(const catalog::TableDef& def, const std::vector<Value>& values);

// True when `def` has a FILE column.
bool HasFileColumn(const catalog::TableDef& def);

// The name part of a stored name: lower-cased base name, [a-z0-9] kept, space/_/- → '-',
// dashes collapsed and trimmed, at most 50 characters.
std::string SanitizeFileName(std::string_view name);
// The lower-cased extension when alphanumeric and ≤ 10 characters, else "bin".
std::string FileExtension(std::string_view name);

// `f` + 4 digits.
bool IsValidSub(std::string_view sub);
// The id of a stored name `<digits>-<[a-z0-9-]*>.<[a-z0-9]+>` or `<digits>.<ext>`; nullopt when
// the name has another shape (so no path trick can pass).
std::optional<std::string> StoredNameId(std::string_view stored_name);

// MIME type from magic bytes (png, jpeg, gif, pdf, zip, webp) of `head`, then from the name's
// extension, else application/octet-stream.
std::string SniffMime(std::string_view head, std::string_view name);

}  // namespace kalam::files
