// UTF-8 validation for object keys and manifest text (S3 keys and JSON strings must be UTF-8).
#pragma once

#include <cstddef>
#include <string_view>

namespace kalam::filestore {

// Length in bytes of the well-formed UTF-8 sequence starting at s[i] (i < s.size()), or 0 when
// there is none there: a stray continuation or invalid lead byte, a truncated sequence, an
// overlong form, a surrogate or a code point above U+10FFFF.
size_t Utf8SequenceLength(std::string_view s, size_t i);

// True when the whole of `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

}  // namespace kalam::filestore
