// ResultBuilder.
#include "sql/result_builder.h"

#include "common/value_json.h"

namespace kalam::sql {

void ResultBuilder::AddColumn(std::string name, DataType type, std::vector<std::string> flags) {
  result_.schema.push_back(ResultColumn{std::move(name), type.WireJson(), std::move(flags)});
  types_.push_back(type);
}

Status ResultBuilder::AddRow(const std::vector<Value>& row) {
  std::string& json = result_.rows_json;
  if (result_.row_count) json.push_back(',');
  json.push_back('[');
  for (size_t i = 0; i < types_.size(); ++i) {
    if (i) json.push_back(',');
    KALAM_RETURN_IF_ERROR(AppendJsonValue(&types_[i], i < row.size() ? row[i] : Value(), &json));
  }
  json.push_back(']');
  ++result_.row_count;
  return Status::OK();
}

StatementResult ResultBuilder::Finish() && { return std::move(result_); }

}  // namespace kalam::sql
