// How a failed statement reads on the wire (docs/compatibility.md "Error messages"): the
// original server's shape, "Statement N failed: <kind prefix><message>", in one place.
#pragma once

#include <cstddef>
#include <string_view>

#include "common/status.h"

namespace kalam::sql {

// The kind prefix the original server's errors start with for `code` ("Not found: ",
// "Already exists: ", "Invalid operation: ", "Permission denied: ", …); empty for codes whose
// messages carry none (kInvalidSql: parse errors; kInvalidParameter).
std::string_view ErrorKindPrefix(StatusCode code);

// True when `message` already starts with one of the kind prefixes (texts written with theirs,
// e.g. "Idempotent conflict: …"), so none is added twice.
bool HasErrorKindPrefix(std::string_view message);

// The error of statement `number` (1-based) of a request of one or more statements:
// - a classifier-level denial (`bare`: a role check before anything runs) keeps its bare text;
// - a parse error (kInvalidSql) or a parameter error (kInvalidParameter: PROTOCOL's exact
//   `parameter mismatch: expected 2, got 1`) keeps its message, with "Statement N failed: " only
//   when the request is a batch, so its statement can be found;
// - every other failure reads "Statement N failed: " + ErrorKindPrefix + message, also for a
//   single statement.
// The code is unchanged.
Status DescribeStatementFailure(const Status& st, size_t number, bool batch, bool bare);

}  // namespace kalam::sql
