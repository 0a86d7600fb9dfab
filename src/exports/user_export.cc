// UserExport: reading one user's current rows and writing the ZIP.
#include "exports/user_export.h"

#include <algorithm>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "common/time_format.h"
#include "common/value_json.h"
#include "common/zip_writer.h"
#include "files/file_ref.h"
#include "filestore/sha256.h"
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

// "<sub>/<stored_name>" of a FileRef: its file's place under the scope folder, and the key of
// the exported files below.
std::string FileRelPath(const files::FileRef& ref) { return ref.sub + "/" + ref.StoredName(); }

// The attachments of one table: README.json's entries and, by FileRelPath, the archive path of
// every file that was written.
struct TableFiles {
  json::array exported;
  json::array missing;
  std::map<std::string, std::string> paths;
};

// The rows as a JSON array of objects, one member per column plus `_seq`, values as PROTOCOL §5.
// A table with FILE columns adds `_files`: {"<column>": "<archive path>"} for each FILE value whose
// file is in the archive.
Result<std::string> RowsJson(const TableDef& def, const std::vector<table::ExportRow>& rows,
                             const TableFiles* files) {
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
    if (files != nullptr) {
      out += ",\"_files\":{";
      bool first = true;
      for (size_t c = 0; c < def.columns.size(); ++c) {
        const Value& v = rows[r].values[c];
        if (def.columns[c].type.kind != TypeKind::kFile || v.kind() != Value::Kind::kText) continue;
        auto ref = files::ParseFileRef(v.as_text());
        if (!ref) continue;
        auto it = files->paths.find(FileRelPath(*ref));
        if (it == files->paths.end()) continue;
        if (!first) out.push_back(',');
        first = false;
        AppendJsonString(def.columns[c].name, &out);
        out.push_back(':');
        AppendJsonString(it->second, &out);
      }
      out.push_back('}');
    }
    out.push_back('}');
  }
  out += rows.empty() ? "]\n" : "\n]\n";
  return out;
}

// Writes the file of every FileRef in the FILE columns of `rows` to `zip` as
// `<ns>/<table>/files/<sub>/<stored_name>`, read from `def`'s storage in the user's scope only; a
// FileRef whose file cannot be exported is listed in `out->missing` with the reason. Each file is
// written once however many rows refer to it. Errors: a storage failure other than "not found".
Status AddTableFiles(const TableDef& def, const std::vector<table::ExportRow>& rows,
                     files::FileService* service, const UserExportRequest& req, ZipWriter* zip,
                     TableFiles* out) {
  const std::string base = def.namespace_id + "/" + def.table_name + "/files/";
  std::set<std::string> seen;  // FileRelPaths handled
  auto missing = [&](const std::string& column, const files::FileRef& ref, std::string reason,
                     std::string message) {
    out->missing.push_back(json::object{{"column", column},
                                        {"id", ref.id},
                                        {"sub", ref.sub},
                                        {"name", ref.name},
                                        {"reason", std::move(reason)},
                                        {"message", std::move(message)}});
  };
  for (const auto& row : rows) {
    for (size_t c = 0; c < def.columns.size(); ++c) {
      const Value& v = row.values[c];
      if (def.columns[c].type.kind != TypeKind::kFile || v.kind() != Value::Kind::kText) continue;
      auto ref = files::ParseFileRef(v.as_text());
      if (!ref) continue;  // any other JSON text: no file
      const std::string& column = def.columns[c].name;
      const std::string stored = ref->StoredName();
      const std::string rel = FileRelPath(*ref);
      if (!seen.insert(rel).second) continue;
      if (req.cancelled && req.cancelled()) return Status::Unavailable("Export cancelled");
      // The download route's rule: `f` + 4 digits, a stored name of the one shape, its id the
      // FileRef's (ParseFileRef checked the sub and that the id is digits).
      auto id = files::StoredNameId(stored);
      if (!files::IsValidSub(ref->sub) || !id || *id != ref->id) {
        missing(column, *ref, "invalid_path", "The FileRef does not name a valid stored file");
        continue;
      }
      if (def.type != TableType::kUser) {
        missing(column, *ref, "unsupported_table", "Stream tables have no file storage");
        continue;
      }
      if (service == nullptr) {
        missing(column, *ref, "unavailable", "File attachments are not available");
        continue;
      }
      // Always the exporting user's own folder: a FileRef naming another user's file finds
      // nothing here.
      KALAM_ASSIGN_OR_RETURN(files::FileLocation loc,
                             service->Locate(def, req.user_id, ref->sub, stored));
      KALAM_ASSIGN_OR_RETURN(auto object_store, service->Store(loc.storage_id));
      auto data = object_store->Get(loc.key);
      if (!data.ok()) {
        if (data.status().code() == StatusCode::kNotFound) {
          missing(column, *ref, "not_found",
                  "No file '" + rel + "' in this user's storage of the table");
          continue;
        }
        return data.status().WithPrefix("Reading file '" + rel + "': ");
      }
      const std::string path = base + rel;
      KALAM_RETURN_IF_ERROR(zip->Add(path, *data));
      const std::string sha256 = filestore::Sha256Hex(*data);
      const bool damaged = (!ref->sha256.empty() && ref->sha256 != sha256) ||
                           ref->size != data->size();
      json::object entry{{"column", column},   {"id", ref->id},
                         {"path", path},       {"name", ref->name},
                         {"mime", ref->mime},  {"size", data->size()},
                         {"sha256", sha256},   {"status", damaged ? "damaged" : "ok"}};
      if (damaged) {
        entry["expected_size"] = ref->size;
        entry["expected_sha256"] = ref->sha256;
      }
      out->exported.push_back(std::move(entry));
      out->paths.emplace(rel, path);
    }
  }
  return Status::OK();
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

// README.json members of a table with FILE columns.
void AddFileMembers(const TableDef& def, TableFiles* files, json::object* entry) {
  json::array columns;
  for (const auto& col : def.columns) {
    if (col.type.kind == TypeKind::kFile) columns.push_back(json::string(col.name));
  }
  (*entry)["file_columns"] = std::move(columns);
  (*entry)["attachments"] = std::move(files->exported);
  (*entry)["missing_attachments"] = std::move(files->missing);
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
                                          files::FileService* file_service,
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
    const bool has_files = files::HasFileColumn(*def);
    TableFiles attachments;
    if (!rows->empty()) {
      const std::string base = def->namespace_id + "/" + def->table_name;
      if (has_files) {
        Status added = AddTableFiles(*def, *rows, file_service, req, &zip, &attachments);
        if (!added.ok()) return added.WithPrefix("Table '" + def->QualifiedName() + "': ");
      }
      KALAM_ASSIGN_OR_RETURN(std::string parquet, table::EncodeExportParquet(*def, *rows));
      KALAM_ASSIGN_OR_RETURN(std::string rows_json,
                             RowsJson(*def, *rows, has_files ? &attachments : nullptr));
      KALAM_RETURN_IF_ERROR(zip.Add(base + ".parquet", parquet));
      KALAM_RETURN_IF_ERROR(zip.Add(base + ".json", rows_json));
      files.push_back(json::string(base + ".parquet"));
      files.push_back(json::string(base + ".json"));
      ++out.tables_with_rows;
      out.rows += rows->size();
    }
    json::object entry = TableEntry(*def, rows->size(), files);
    if (has_files) AddFileMembers(*def, &attachments, &entry);
    entries.push_back(std::move(entry));
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
