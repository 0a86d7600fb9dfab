// TopicDef's JSON form and the topic storage keys.
#include "topics/topic_def.h"

#include <boost/json.hpp>

#include "common/value_codec.h"

namespace kalam::topics {

namespace json = boost::json;
using sql::parser::PayloadMode;
using sql::parser::TopicOp;

namespace {

json::array RoutesArray(const std::vector<Route>& routes, bool stored) {
  json::array a;
  for (const Route& r : routes) {
    json::object o;
    if (stored) {
      o["table_num"] = r.table_id;
      o["schema_version"] = r.schema_version;
    }
    o["table_id"] = r.table_name;
    o["op"] = std::string(sql::parser::TopicOpName(r.op));
    o["payload_mode"] = std::string(sql::parser::PayloadModeName(r.payload));
    o["filter_expr"] = r.filter ? json::value(*r.filter) : json::value(nullptr);
    o["partition_key_expr"] = nullptr;
    a.push_back(std::move(o));
  }
  return a;
}

void AppendU32(uint32_t v, std::string* out) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool ReadU32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) *v = (*v << 8) | static_cast<uint8_t>((*in)[i]);
  in->remove_prefix(4);
  return true;
}

std::string NumPartitionKey(std::string_view prefix, TopicNum num, uint32_t partition) {
  std::string k(prefix);
  AppendOrderedU64(num, &k);
  AppendU32(partition, &k);
  return k;
}

}  // namespace

std::string TopicDef::RoutesJson() const { return json::serialize(RoutesArray(routes, false)); }

std::string TopicDef::ToJson() const {
  json::object o;
  o["num"] = num;
  o["topic_id"] = topic_id;
  o["partitions"] = partitions;
  o["retention_seconds"] = retention_seconds;
  o["retention_max_bytes"] = retention_max_bytes;
  o["routes"] = RoutesArray(routes, true);
  o["created_at_ms"] = created_at_ms;
  o["updated_at_ms"] = updated_at_ms;
  return json::serialize(o);
}

Result<TopicDef> TopicDef::FromJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Status::Corruption("Bad topic definition JSON");
  try {
    const json::object& o = v.as_object();
    TopicDef d;
    d.num = json::value_to<uint64_t>(o.at("num"));
    d.topic_id = json::value_to<std::string>(o.at("topic_id"));
    d.partitions = json::value_to<uint32_t>(o.at("partitions"));
    d.retention_seconds = json::value_to<int64_t>(o.at("retention_seconds"));
    d.retention_max_bytes = json::value_to<int64_t>(o.at("retention_max_bytes"));
    d.created_at_ms = json::value_to<int64_t>(o.at("created_at_ms"));
    d.updated_at_ms = json::value_to<int64_t>(o.at("updated_at_ms"));
    for (const auto& rv : o.at("routes").as_array()) {
      const json::object& ro = rv.as_object();
      Route r;
      r.table_id = json::value_to<uint64_t>(ro.at("table_num"));
      r.table_name = json::value_to<std::string>(ro.at("table_id"));
      if (const auto* v = ro.if_contains("schema_version")) {
        r.schema_version = json::value_to<uint32_t>(*v);
      }
      const std::string op = json::value_to<std::string>(ro.at("op"));
      r.op = op == "update" ? TopicOp::kUpdate : op == "delete" ? TopicOp::kDelete
                                                                : TopicOp::kInsert;
      const std::string mode = json::value_to<std::string>(ro.at("payload_mode"));
      r.payload = mode == "key" ? PayloadMode::kKey : mode == "diff" ? PayloadMode::kDiff
                                                                      : PayloadMode::kFull;
      if (ro.at("filter_expr").is_string()) {
        r.filter = json::value_to<std::string>(ro.at("filter_expr"));
      }
      d.routes.push_back(std::move(r));
    }
    return d;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("Bad topic definition: ") + e.what());
  }
}

Status TopicNotFound(const std::string& topic_id) {
  return Status::NotFound("Topic '" + topic_id + "' does not exist");
}

std::string TopicDefKey(std::string_view topic_id) {
  return std::string(kTopicDefPrefix) + std::string(topic_id);
}

std::string GroupOffsetPrefix(TopicNum num) {
  std::string k = "tpo/";
  AppendOrderedU64(num, &k);
  return k;
}

std::string GroupOffsetKey(TopicNum num, uint32_t partition, std::string_view group) {
  std::string k = NumPartitionKey("tpo/", num, partition);
  k += group;
  return k;
}

bool ParseGroupOffsetKey(std::string_view key, TopicNum* num, uint32_t* partition,
                         std::string* group) {
  if (key.substr(0, 4) != "tpo/") return false;
  key.remove_prefix(4);
  uint64_t n = 0;
  if (!ReadOrderedU64(&key, &n) || !ReadU32(&key, partition)) return false;
  *num = n;
  *group = std::string(key);
  return true;
}

std::string NextOffsetKey(TopicNum num, uint32_t partition) {
  return NumPartitionKey("tpn/", num, partition);
}

std::string LowOffsetKey(TopicNum num, uint32_t partition) {
  return NumPartitionKey("tpl/", num, partition);
}

std::string MessageKey(TopicNum num, uint32_t partition, uint64_t offset) {
  std::string k = NumPartitionKey("", num, partition);
  AppendOrderedU64(offset, &k);
  return k;
}

bool ParseMessageKey(std::string_view key, TopicNum* num, uint32_t* partition, uint64_t* offset) {
  uint64_t n = 0;
  if (!ReadOrderedU64(&key, &n) || !ReadU32(&key, partition) || !ReadOrderedU64(&key, offset) ||
      !key.empty()) {
    return false;
  }
  *num = n;
  return true;
}

std::optional<uint64_t> ReadU64(std::string_view bytes) {
  uint64_t v = 0;
  if (bytes.size() != 8 || !ReadOrderedU64(&bytes, &v)) return std::nullopt;
  return v;
}

std::string U64Bytes(uint64_t v) {
  std::string out;
  AppendOrderedU64(v, &out);
  return out;
}

}  // namespace kalam::topics
