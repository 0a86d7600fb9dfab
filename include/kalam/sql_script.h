// Splitting SQL scripts into statements, the way the server splits a request: at `;` outside
// quotes, quoted identifiers and comments. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kalam::client {

// One statement of a script.
struct ScriptStatement {
  std::string text;  // trimmed, without the terminating `;`; comments inside are kept
  size_t line = 1;   // 1-based line of the statement's first character in the script
};

// Splits `script` at every `;` that is not inside '…' (with '' escapes), "…", `…` or […]
// identifiers, a -- line comment or a /* */ block comment. Statements holding only whitespace
// and comments are dropped. Text after the last `;` is a statement too, even if an unterminated
// quote or comment runs to the end.
std::vector<ScriptStatement> SplitStatements(std::string_view script);

// Whether interactive input is ready to run.
enum class InputState {
  kEmpty,       // only whitespace and comments
  kIncomplete,  // more lines are needed: no terminating `;` yet, or inside a quote or comment
  kComplete,    // ends with `;` (then only whitespace or -- comments)
};
InputState ClassifyInput(std::string_view buffer);

// The statement's first word in upper case, skipping leading whitespace and comments
// ("select 1" → "SELECT"); "" when there is none.
std::string FirstKeyword(std::string_view statement);

// True for statements that only read: SELECT, SHOW, DESCRIBE/DESC, EXPLAIN, WITH … SELECT
// (a WITH that contains INSERT/UPDATE/DELETE is not), VALUES.
bool IsReadOnlyStatement(std::string_view statement);

}  // namespace kalam::client
