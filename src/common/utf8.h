// UTF-8 (RFC 3629) well-formedness: validation, the maximal ill-formed subparts that JSON output
// replaces with U+FFFD, and cutting text at a character boundary. The server's one copy.
#pragma once

#include <cstddef>
#include <string_view>

namespace kalam {

// Length in bytes (1–4) of the well-formed UTF-8 sequence starting at s[i] (i < s.size()), or 0
// when there is none there: a stray continuation or invalid lead byte, a truncated sequence, an
// overlong form, a surrogate or a code point above U+10FFFF. When it returns 0 and
// `invalid_bytes` is given, *invalid_bytes is the length (>= 1) of the maximal subpart of an
// ill-formed sequence at s[i] (Unicode §3.9), the bytes one U+FFFD stands for.
size_t Utf8SequenceLength(std::string_view s, size_t i, size_t* invalid_bytes = nullptr);

// True when the whole of `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

// The largest n <= max_bytes such that s[0, n) does not end inside a multi-byte sequence (`s`
// itself is not validated): the length to cut `s` to so that it fits in max_bytes.
size_t Utf8CutLength(std::string_view s, size_t max_bytes);

}  // namespace kalam
