// Live-query messages as JSON text, written straight into strings (the fan-out's hot path).
#include "live/event_encoder.h"

#include "common/value_json.h"

namespace kalam::live {
namespace {

using catalog::TableDef;
using table::ChangeKind;
using table::ChangeRecord;

// `"name":<value>` for a column of `table` (by name), or nothing when the column no longer exists.
void AppendField(const TableDef& table, const std::vector<Value>& values, const std::string& name,
                 bool* first, std::string* out) {
  int c = table.FindColumn(name);
  if (c < 0 || static_cast<size_t>(c) >= values.size()) return;
  if (!*first) out->push_back(',');
  *first = false;
  AppendJsonString(name, out);
  out->push_back(':');
  if (!AppendJsonValue(&table.columns[c].type, values[c], out).ok()) *out += "null";
}

void AppendSeq(int64_t seq, bool* first, std::string* out) {
  if (!*first) out->push_back(',');
  *first = false;
  *out += "\"_seq\":\"" + std::to_string(seq) + "\"";
}

}  // namespace

std::string ChangeEventHead(std::string_view subscription_id) {
  std::string head;
  head.reserve(40 + subscription_id.size());
  head = "{\"type\":\"change\",\"subscription_id\":";
  AppendJsonString(subscription_id, &head);
  return head;
}

std::string ChangeEventBody(const TableDef& t, const std::vector<std::string>& columns,
                            const ChangeRecord& rec, ChangeEventKind kind) {
  // A STREAM table may have no primary key: then no key column is added to deletes.
  const std::string pk = t.has_pk() ? t.pk_column().name : std::string();
  auto projected = [&](const std::vector<Value>& values, int64_t seq, bool with_pk,
                       bool deleted) {
    std::string o = "{";
    bool first = true;
    bool has_pk = false;
    for (const auto& c : columns) has_pk |= c == pk;
    if (with_pk && !has_pk) AppendField(t, values, pk, &first, &o);
    for (const auto& c : columns) AppendField(t, values, c, &first, &o);
    AppendSeq(seq, &first, &o);
    if (deleted) o += ",\"_deleted\":true";
    return o + "}";
  };
  switch (kind) {
    case ChangeEventKind::kUpdate: {
      std::string row = "{", old = "{";
      bool rf = true, of = true;
      AppendField(t, rec.values, pk, &rf, &row);
      AppendSeq(rec.seq, &rf, &row);
      AppendField(t, rec.old_values, pk, &of, &old);
      AppendSeq(rec.previous_seq, &of, &old);
      for (const auto& c : columns) {
        if (c == pk) continue;
        int i = t.FindColumn(c);
        if (i < 0) continue;
        if (!rec.values[i].is_null()) AppendField(t, rec.values, c, &rf, &row);
        if (!(rec.values[i] == rec.old_values[i])) AppendField(t, rec.old_values, c, &of, &old);
      }
      return ",\"change_type\":\"update\",\"rows\":[" + row + "}],\"old_values\":[" + old + "}]}";
    }
    case ChangeEventKind::kInsert:
      return ",\"change_type\":\"insert\",\"rows\":[" +
             projected(rec.values, rec.seq, false, false) + "]}";
    case ChangeEventKind::kDelete: {
      const auto& gone = rec.kind == ChangeKind::kUpdate ? rec.old_values : rec.values;
      return ",\"change_type\":\"delete\",\"old_values\":[" +
             projected(gone, rec.seq, true, true) + "]}";
    }
  }
  return std::string();
}

std::string BatchControlJson(int batch_num, bool has_more, std::optional<int64_t> last_seq_id) {
  const char* status = has_more ? (batch_num == 0 ? "loading" : "loading_batch") : "ready";
  return "{\"batch_num\":" + std::to_string(batch_num) +
         ",\"has_more\":" + (has_more ? "true" : "false") + ",\"status\":\"" + status +
         "\",\"last_seq_id\":" +
         (last_seq_id ? std::to_string(*last_seq_id) : std::string("null")) + "}";
}

std::string SubscriptionAckJson(std::string_view subscription_id, uint64_t total_rows,
                                const std::string& batch_control,
                                const std::vector<sql::ResultColumn>& schema, size_t columns) {
  std::string ack = "{\"type\":\"subscription_ack\",\"subscription_id\":";
  AppendJsonString(subscription_id, &ack);
  ack += ",\"total_rows\":" + std::to_string(total_rows) + ",\"batch_control\":" + batch_control +
         ",\"schema\":[";
  for (size_t i = 0; i < columns && i < schema.size(); ++i) {
    const auto& c = schema[i];
    if (i) ack.push_back(',');
    ack += "{\"name\":";
    AppendJsonString(c.name, &ack);
    ack += ",\"data_type\":" + c.data_type_json + ",\"index\":" + std::to_string(i);
    if (!c.flags.empty()) {
      ack += ",\"flags\":[";
      for (size_t f = 0; f < c.flags.size(); ++f) {
        if (f) ack.push_back(',');
        AppendJsonString(c.flags[f], &ack);
      }
      ack.push_back(']');
    }
    ack.push_back('}');
  }
  ack += "]}";
  return ack;
}

std::string InitialDataBatchJson(std::string_view subscription_id, const std::string& rows,
                                 const std::string& batch_control) {
  std::string batch = "{\"type\":\"initial_data_batch\",\"subscription_id\":";
  AppendJsonString(subscription_id, &batch);
  batch += ",\"rows\":[" + rows + "],\"batch_control\":" + batch_control + "}";
  return batch;
}

}  // namespace kalam::live
