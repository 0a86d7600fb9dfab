// UserExport: reading one user's current rows and writing the ZIP.
#include "exports/user_export.h"

#include <algorithm>

#include <boost/json.hpp>

#include "common/time_format.h"
#include "common/value_json.h"
#include "common/zip_writer.h"
#include "table/cold_format.h"
#include "table/keys.h"

namespace kalam::exports {

namespace json = boost::json;
using catalog::TableDef;
using catalog::TableType;

namespace {

// The user's current rows of a USER table: newest version of each row, tombstones left out, in
// primary-key order.
Result<std::vector<table::ExportRow>> ReadUserRows(const TableDef& def,
                                                   const table::TableStore& store,
                                                   const UserExportRequest& req) {
  const std::string prefix = table::ScopePrefix(def.table_id, req.user_id);
  KALAM_ASSIGN_OR_RETURN(auto scan,
                         store.NewScan(def, req.user_id, prefix, table::PrefixSuccessor(prefix),
                                       req.snapshot.get(), {}, req.read_seq));
  std::vector<table::ExportRow> rows;
  const size_t ncols = def.columns.size();
  for (; scan->Valid(); scan->Next()) {
    if (scan->deleted()) continue;
    rows.push_back({scan->seq(), std::vector<Value>(scan->values(), scan->values() + ncols)});
  }
  KALAM_RETURN_IF_ERROR(scan->status());
  return rows;
}

// The user's rows of a STREAM table that have not expired, in `_seq` order.
Result<std::vector<table::ExportRow>> ReadStreamRows(const TableDef& def,
                                                     const table::StreamStore& streams,
                                                     const UserExportRequest& req) {
  KALAM_ASSIGN_OR_RETURN(auto scan, streams.NewScan(def, req.user_id, 0, req.read_seq, req.now_ms,
                                                    /*include_deleted=*/false, req.snapshot.get()));
  std::vector<table::ExportRow> rows;
  for (; scan->Valid(); scan->Next()) rows.push_back({scan->seq(), scan->values()});
  KALAM_RETURN_IF_ERROR(scan->status());
  return rows;
}

// The rows as a JSON array of objects, one member per column plus `_seq`, values as PROTOCOL §5.
Result<std::string> RowsJson(const TableDef& def, const std::vector<table::ExportRow>& rows) {
  static const DataType kSeqType{TypeKind::kBigInt};
  std::string out = "[";
  for (size_t r = 0; r < rows.size(); ++r) {
    out += r ? ",\n{" : "\n{";
    for (size_t c = 0; c < def.columns.size(); ++c) {
      if (c) out.push_back(',');
      AppendJsonString(def.columns[c].name, &out);
      out.push_back(':');
      KALAM_RETURN_IF_ERROR(AppendJsonValue(&def.columns[c].type, rows[r].values[c], &out));
    }
    if (!def.columns.empty()) out.push_back(',');
    out += "\"_seq\":";
    KALAM_RETURN_IF_ERROR(AppendJsonValue(&kSeqType, Value::Int(rows[r].seq), &out));
    out.push_back('}');
  }
  out += rows.empty() ? "]\n" : "\n]\n";
  return out;
}

json::object TableEntry(const TableDef& def, size_t row_count, const json::array& files) {
  json::array columns;
  for (const auto& col : def.columns) {
    columns.push_back(json::object{{"name", col.name},
                                   {"data_type", json::parse(col.type.WireJson())},
                                   {"sql_type", col.type.SqlName()},
                                   {"nullable", col.nullable},
                                   {"primary_key", col.primary_key}});
  }
  columns.push_back(json::object{{"name", "_seq"},
                                 {"data_type", "BigInt"},
                                 {"sql_type", "BIGINT"},
                                 {"nullable", false},
                                 {"primary_key", false}});
  return json::object{{"namespace", def.namespace_id},
                      {"table", def.table_name},
                      {"table_type", def.type == TableType::kStream ? "stream" : "user"},
                      {"columns", std::move(columns)},
                      {"row_count", row_count},
                      {"files", files}};
}

}  // namespace

bool IsSafePathSegment(std::string_view s) {
  return !s.empty() && s.find("..") == std::string_view::npos &&
         s.find('/') == std::string_view::npos && s.find('\\') == std::string_view::npos &&
         s.find('\0') == std::string_view::npos;
}

Result<UserExportArchive> BuildUserExport(const std::vector<std::shared_ptr<const TableDef>>& tables,
                                          const table::TableStore& store,
                                          const table::StreamStore& streams,
                                          const UserExportRequest& req) {
  std::vector<std::shared_ptr<const TableDef>> mine;
  for (const auto& def : tables) {
    if (def->type == TableType::kUser || def->type == TableType::kStream) mine.push_back(def);
  }
  std::sort(mine.begin(), mine.end(), [](const auto& a, const auto& b) {
    return a->QualifiedName() < b->QualifiedName();
  });
  UserExportArchive out;
  ZipWriter zip(req.created_at_us / 1000000);
  json::array entries;
  for (const auto& def : mine) {
    if (req.cancelled && req.cancelled()) return Status::Unavailable("Export cancelled");
    auto rows = def->type == TableType::kStream ? ReadStreamRows(*def, streams, req)
                                                : ReadUserRows(*def, store, req);
    if (!rows.ok()) {
      return rows.status().WithPrefix("Reading table '" + def->QualifiedName() + "': ");
    }
    json::array files;
    if (!rows->empty()) {
      const std::string base = def->namespace_id + "/" + def->table_name;
      KALAM_ASSIGN_OR_RETURN(std::string parquet, table::EncodeExportParquet(*def, *rows));
      KALAM_ASSIGN_OR_RETURN(std::string rows_json, RowsJson(*def, *rows));
      KALAM_RETURN_IF_ERROR(zip.Add(base + ".parquet", parquet));
      KALAM_RETURN_IF_ERROR(zip.Add(base + ".json", rows_json));
      files.push_back(json::string(base + ".parquet"));
      files.push_back(json::string(base + ".json"));
      ++out.tables_with_rows;
      out.rows += rows->size();
    }
    entries.push_back(TableEntry(*def, rows->size(), files));
    ++out.tables;
  }
  json::object readme{{"format", "kalamdb-user-export"},
                      {"format_version", 1},
                      {"export_id", req.export_id},
                      {"user_id", req.user_id},
                      {"created_at", FormatRfc3339(req.created_at_us)},
                      {"created_at_us", req.created_at_us},
                      {"read_seq", std::to_string(req.read_seq)},
                      {"tables", std::move(entries)}};
  KALAM_RETURN_IF_ERROR(zip.Add("README.json", json::serialize(readme) + "\n"));
  KALAM_ASSIGN_OR_RETURN(out.zip, zip.Finish());
  return out;
}

}  // namespace kalam::exports
