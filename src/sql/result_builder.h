// ResultBuilder: assembles a StatementResult from typed rows, for statements KalamDB answers
// itself (SHOW, DESCRIBE, RETURNING).
#pragma once

#include <string>
#include <vector>

#include "common/types.h"
#include "common/value.h"
#include "sql/statement_result.h"

namespace kalam::sql {

// Not thread-safe.
class ResultBuilder {
 public:
  void AddColumn(std::string name, DataType type, std::vector<std::string> flags = {});
  // `row` has one value per column, in the stored form of the column's type.
  Status AddRow(const std::vector<Value>& row);
  StatementResult Finish() &&;

 private:
  std::vector<DataType> types_;
  StatementResult result_;
};

}  // namespace kalam::sql
