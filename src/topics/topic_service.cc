// The topic service: opening, DDL, publishing in the commit (the CommitHook) and listing.
// Consumption is in topic_consumer.cc, cleanup and retention in topic_retention.cc.
#include "topics/topic_service.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "sql/parser/splitter.h"
#include "sql/result_builder.h"

namespace kalam::topics {

using sql::parser::TopicOp;
using sql::parser::TopicStatement;
using storage::Partition;

namespace {

constexpr uint64_t kMaxConsumeLimit = 100000;  // as the HTTP API's `limit`

sql::StatementResult MessageResult(std::string message) {
  sql::StatementResult r;
  r.message = std::move(message);
  return r;
}

bool OpMatches(TopicOp op, table::ChangeKind kind) {
  switch (op) {
    case TopicOp::kInsert: return kind == table::ChangeKind::kInsert;
    case TopicOp::kUpdate: return kind == table::ChangeKind::kUpdate;
    case TopicOp::kDelete: return kind == table::ChangeKind::kDelete;
  }
  return false;
}

std::string RouteText(const Route& r) {
  return r.table_name + " ON " + std::string(sql::parser::TopicOpTitle(r.op));
}

}  // namespace

TopicService::TopicService(storage::KvStore& kv, catalog::Catalog& catalog, const Clock& clock,
                           TopicServiceOptions options)
    : kv_(kv), catalog_(catalog), clock_(clock), options_(options),
      routes_(std::make_shared<RouteIndex>()) {}

TopicService::~TopicService() { Stop(); }

Status TopicService::Open() {
  KALAM_ASSIGN_OR_RETURN(filters_, live::FilterEngine::Create());
  KALAM_ASSIGN_OR_RETURN(auto num, kv_.Get(Partition::kMeta, kNextTopicNumKey));
  if (num) {
    auto n = ReadU64(*num);
    if (!n) return Status::Corruption("Bad topic_next_num in meta partition");
    next_num_ = *n;
  }
  auto catalog = catalog_.snapshot();
  std::map<std::string, std::shared_ptr<const Topic>> loaded;
  {
    storage::ReadOptions ro;
    ro.lower_bound = std::string(kTopicDefPrefix);
    ro.upper_bound = "tpc0";  // '0' follows '/'
    auto it = kv_.NewIterator(Partition::kSystem, ro);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      KALAM_ASSIGN_OR_RETURN(TopicDef def, TopicDef::FromJson(it->value()));
      auto topic = std::make_shared<Topic>();
      for (const Route& r : def.routes) {
        std::shared_ptr<const live::FilterEngine::Filter> filter;
        std::shared_ptr<const catalog::TableDef> table = catalog->FindTableById(r.table_id);
        if (r.filter && table && table->schema_version != r.schema_version) {
          KALAM_ASSIGN_OR_RETURN(auto history, catalog_.SchemaHistory(r.table_id));
          for (const auto& version : history) {
            if (version->schema_version == r.schema_version) table = version;
          }
        }
        if (r.filter && table) {
          auto stmts = sql::parser::SplitStatements(*r.filter);
          if (stmts.ok() && stmts->size() == 1) {
            auto compiled = filters_->Compile(*table, (*stmts)[0].tokens, (*stmts)[0].text);
            if (compiled.ok()) filter = *compiled;
          }
          if (!filter) {
            return Status::Corruption("The WHERE of topic route " + RouteText(r) + " of topic '" +
                                      def.topic_id + "' no longer compiles");
          }
        }
        topic->filters.push_back(std::move(filter));
      }
      for (uint32_t p = 0; p < def.partitions; ++p) {
        KALAM_ASSIGN_OR_RETURN(auto next, kv_.Get(Partition::kMeta, NextOffsetKey(def.num, p)));
        KALAM_ASSIGN_OR_RETURN(auto low, kv_.Get(Partition::kMeta, LowOffsetKey(def.num, p)));
        if (next && ReadU64(*next)) next_[{def.num, p}] = *ReadU64(*next);
        if (low && ReadU64(*low)) low_[{def.num, p}] = *ReadU64(*low);
      }
      topic->def = std::move(def);
      loaded[topic->def.topic_id] = std::move(topic);
    }
    KALAM_RETURN_IF_ERROR(it->status());
  }
  {
    storage::ReadOptions ro;
    ro.lower_bound = "tpo/";
    ro.upper_bound = "tpo0";
    auto it = kv_.NewIterator(Partition::kSystem, ro);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      GroupKey k;
      std::optional<GroupRecord> rec;
      if (!ParseGroupOffsetKey(it->key(), &k.num, &k.partition, &k.group) ||
          !(rec = GroupRecord::Decode(it->value()))) {
        return Status::Corruption("Bad consumer group offset record");
      }
      committed_[k] = std::move(*rec);
    }
    KALAM_RETURN_IF_ERROR(it->status());
  }
  KALAM_RETURN_IF_ERROR(DeleteOrphanMessages(loaded));
  std::lock_guard lock(mu_);
  topics_ = std::move(loaded);
  RebuildRoutes();
  return Status::OK();
}

Status TopicService::DeleteOrphanMessages(
    const std::map<std::string, std::shared_ptr<const Topic>>& topics) {
  std::set<TopicNum> known;
  for (const auto& [id, t] : topics) known.insert(t->def.num);
  storage::WriteBatch batch;
  auto it = kv_.NewIterator(Partition::kTopic);
  // One seek per topic number present: a dropped topic whose cleanup job never ran (a crash or
  // a shutdown came first) leaves messages no topic owns.
  for (it->SeekToFirst(); it->Valid();) {
    TopicNum num = 0;
    uint32_t p = 0;
    uint64_t offset = 0;
    if (!ParseMessageKey(it->key(), &num, &p, &offset)) {
      return Status::Corruption("Bad topic message key");
    }
    if (!known.count(num)) {
      spdlog::info("Deleting the messages of dropped topic number {}", num);
      batch.DeleteRange(Partition::kTopic, MessageKey(num, 0, 0), MessageKey(num + 1, 0, 0));
    }
    it->Seek(MessageKey(num + 1, 0, 0));
  }
  KALAM_RETURN_IF_ERROR(it->status());
  return batch.empty() ? Status::OK() : kv_.Write(batch);
}

void TopicService::Start() {
  std::lock_guard lock(mu_);
  if (notifier_.joinable() || stopping_) return;
  notifier_ = std::thread([this] { NotifierLoop(); });
}

void TopicService::Stop() {
  std::vector<Waiter> pending;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !notifier_.joinable()) return;
    stopping_ = true;
    for (auto& [k, list] : waiters_) {
      for (auto& w : list) pending.push_back(std::move(w));
    }
    waiters_.clear();
  }
  cv_.notify_all();
  if (notifier_.joinable()) notifier_.join();
  for (auto& w : pending) w.done(std::move(w.empty));
}

size_t TopicService::waiting() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [k, list] : waiters_) n += list.size();
  return n;
}

std::shared_ptr<const TopicService::Topic> TopicService::Find(const std::string& topic_id) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(topic_id);
  return it == topics_.end() ? nullptr : it->second;
}

void TopicService::RebuildRoutes() {
  auto index = std::make_shared<RouteIndex>();
  for (const auto& [id, topic] : topics_) {
    for (size_t i = 0; i < topic->def.routes.size(); ++i) {
      (*index)[topic->def.routes[i].table_id].push_back(RouteTarget{topic, i});
    }
  }
  routes_ = std::move(index);
}

Status TopicService::Publish(const std::string& topic_id, std::shared_ptr<const Topic> topic) {
  storage::WriteBatch batch;
  if (topic) batch.Put(Partition::kSystem, TopicDefKey(topic_id), topic->def.ToJson());
  else batch.Delete(Partition::kSystem, TopicDefKey(topic_id));
  KALAM_RETURN_IF_ERROR(kv_.Write(batch));
  std::lock_guard lock(mu_);
  if (topic) topics_[topic_id] = std::move(topic);
  else topics_.erase(topic_id);
  RebuildRoutes();
  return Status::OK();
}

// ---- statements -------------------------------------------------------------------------------

Result<sql::StatementResult> TopicService::Run(const TopicStatement& stmt,
                                               const sql::TopicStatementContext& ctx) {
  switch (stmt.kind) {
    case TopicStatement::Kind::kCreate: return Create(stmt, ctx.topic_id);
    case TopicStatement::Kind::kDrop: return DropOrClear(ctx.topic_id, true);
    case TopicStatement::Kind::kClear: return DropOrClear(ctx.topic_id, false);
    case TopicStatement::Kind::kAddSource: return AddSource(stmt, ctx);
    case TopicStatement::Kind::kDropSource: return DropSource(stmt, ctx);
    case TopicStatement::Kind::kSetOptions: return SetOptions(stmt, ctx.topic_id);
    case TopicStatement::Kind::kConsume: return RunConsume(stmt, ctx.topic_id);
    case TopicStatement::Kind::kAck: return RunAck(stmt, ctx.topic_id);
  }
  return Status::Internal("unknown topic statement");
}

Result<sql::StatementResult> TopicService::Create(const TopicStatement& stmt,
                                                  const std::string& topic_id) {
  if (stmt.partitions < 1 || stmt.partitions > kMaxTopicPartitions) {
    return Status::InvalidArgument("Partition count must be between 1 and " +
                                   std::to_string(kMaxTopicPartitions) + " (got " +
                                   std::to_string(stmt.partitions) + ")");
  }
  std::lock_guard ddl(ddl_mu_);
  if (Find(topic_id)) {
    return Status::AlreadyExists("Topic '" + topic_id + "' already exists");
  }
  auto topic = std::make_shared<Topic>();
  topic->def.num = next_num_;
  topic->def.topic_id = topic_id;
  topic->def.partitions = static_cast<uint32_t>(stmt.partitions);
  topic->def.created_at_ms = topic->def.updated_at_ms = clock_.NowMillis();
  storage::WriteBatch batch;
  batch.Put(Partition::kMeta, kNextTopicNumKey, U64Bytes(next_num_ + 1));
  batch.Put(Partition::kSystem, TopicDefKey(topic_id), topic->def.ToJson());
  KALAM_RETURN_IF_ERROR(kv_.Write(batch));
  ++next_num_;
  {
    std::lock_guard lock(mu_);
    topics_[topic_id] = std::move(topic);
    RebuildRoutes();
  }
  return MessageResult("Created topic '" + topic_id + "' with " + std::to_string(stmt.partitions) +
                       " partition(s)");
}

Result<size_t> TopicService::ForgetGroups(TopicNum num) {
  std::lock_guard groups(groups_mu_);
  storage::WriteBatch batch;
  size_t n = 0;
  for (const auto& [k, c] : committed_) {
    if (k.num != num) continue;
    batch.Delete(Partition::kSystem, GroupOffsetKey(k.num, k.partition, k.group));
    ++n;
  }
  if (!batch.empty()) KALAM_RETURN_IF_ERROR(kv_.Write(batch));
  std::erase_if(committed_, [&](const auto& e) { return e.first.num == num; });
  std::erase_if(groups_, [&](const auto& e) { return e.first.num == num; });
  return n;
}

Result<sql::StatementResult> TopicService::DropOrClear(const std::string& topic_id, bool drop) {
  std::lock_guard ddl(ddl_mu_);
  auto topic = Find(topic_id);
  if (!topic) return TopicNotFound(topic_id);
  const TopicNum num = topic->def.num;
  std::map<uint32_t, uint64_t> upto;
  if (drop) {
    KALAM_RETURN_IF_ERROR(Publish(topic_id, nullptr));
  } else {
    // Messages below each partition's current next offset are cleared at once for readers (the
    // low watermark) and deleted by the job; offsets continue from the next offset.
    storage::WriteBatch batch;
    std::map<PartitionKey, uint64_t> lows;
    {
      std::lock_guard lock(mu_);
      for (uint32_t p = 0; p < topic->def.partitions; ++p) {
        auto it = next_.find({num, p});
        const uint64_t next = it == next_.end() ? 0 : it->second;
        upto[p] = next;
        lows[{num, p}] = next;
        batch.Put(Partition::kMeta, LowOffsetKey(num, p), U64Bytes(next));
      }
    }
    KALAM_RETURN_IF_ERROR(kv_.Write(batch));
    std::lock_guard lock(mu_);
    for (const auto& [k, v] : lows) low_[k] = std::max(low_[k], v);
  }
  KALAM_ASSIGN_OR_RETURN(size_t offsets, ForgetGroups(num));
  KALAM_ASSIGN_OR_RETURN(std::string job, ScheduleCleanup(topic_id, num, drop, upto, offsets));
  if (drop) {
    return MessageResult("Dropped topic '" + topic_id + "' and scheduled cleanup job [" + job +
                         "]");
  }
  return MessageResult("Scheduled cleanup job [" + job + "] for topic '" + topic_id + "'");
}

Result<sql::StatementResult> TopicService::AddSource(const TopicStatement& stmt,
                                                     const sql::TopicStatementContext& ctx) {
  std::lock_guard ddl(ddl_mu_);
  auto topic = Find(ctx.topic_id);
  if (!topic) return TopicNotFound(ctx.topic_id);
  Route route;
  route.table_id = ctx.source->table_id;
  route.table_name = ctx.source->QualifiedName();
  route.op = stmt.op;
  route.payload = stmt.payload;
  for (const Route& r : topic->def.routes) {
    if (r.table_id == route.table_id && r.op == route.op) {
      return Status::AlreadyExists("Route for " + RouteText(route) +
                                   " already exists in topic '" + ctx.topic_id + "'");
    }
  }
  std::shared_ptr<const live::FilterEngine::Filter> filter;
  if (stmt.where) {
    auto compiled = filters_->Compile(*ctx.source, stmt.where->tokens, stmt.where->text);
    if (!compiled.ok()) {
      std::string m = compiled.status().message();
      const std::string live_prefix = "Invalid subscription filter: ";
      if (m.rfind(live_prefix, 0) == 0) m = m.substr(live_prefix.size());
      return Status::InvalidSql("Invalid WHERE for topic source " + route.table_name + ": " + m);
    }
    filter = *compiled;
    route.filter = stmt.where->text;
    route.schema_version = ctx.source->schema_version;
  }
  auto next = std::make_shared<Topic>(*topic);
  next->def.routes.push_back(route);
  next->filters.push_back(std::move(filter));
  next->def.updated_at_ms = clock_.NowMillis();
  KALAM_RETURN_IF_ERROR(Publish(ctx.topic_id, next));
  return MessageResult("Added source " + RouteText(route) + " to topic '" + ctx.topic_id + "'");
}

Result<sql::StatementResult> TopicService::DropSource(const TopicStatement& stmt,
                                                      const sql::TopicStatementContext& ctx) {
  std::lock_guard ddl(ddl_mu_);
  auto topic = Find(ctx.topic_id);
  if (!topic) return TopicNotFound(ctx.topic_id);
  auto next = std::make_shared<Topic>(*topic);
  for (size_t i = 0; i < next->def.routes.size(); ++i) {
    const Route& r = next->def.routes[i];
    if (r.table_id != ctx.source->table_id || r.op != stmt.op) continue;
    const std::string text = RouteText(r);
    next->def.routes.erase(next->def.routes.begin() + static_cast<ptrdiff_t>(i));
    next->filters.erase(next->filters.begin() + static_cast<ptrdiff_t>(i));
    next->def.updated_at_ms = clock_.NowMillis();
    KALAM_RETURN_IF_ERROR(Publish(ctx.topic_id, next));
    return MessageResult("Dropped source " + text + " from topic '" + ctx.topic_id + "'");
  }
  Route wanted;
  wanted.table_name = ctx.source->QualifiedName();
  wanted.op = stmt.op;
  return Status::NotFound("Route for " + RouteText(wanted) +
                          " does not exist in topic '" + ctx.topic_id + "'");
}

Result<sql::StatementResult> TopicService::SetOptions(const TopicStatement& stmt,
                                                      const std::string& topic_id) {
  std::lock_guard ddl(ddl_mu_);
  auto topic = Find(topic_id);
  if (!topic) return TopicNotFound(topic_id);
  auto next = std::make_shared<Topic>(*topic);
  if (stmt.retention_seconds) next->def.retention_seconds = *stmt.retention_seconds;
  if (stmt.retention_max_bytes) next->def.retention_max_bytes = *stmt.retention_max_bytes;
  next->def.updated_at_ms = clock_.NowMillis();
  KALAM_RETURN_IF_ERROR(Publish(topic_id, next));
  return MessageResult("Altered topic '" + topic_id + "': retention_seconds = " +
                       std::to_string(next->def.retention_seconds) + ", retention_max_bytes = " +
                       std::to_string(next->def.retention_max_bytes));
}

Result<sql::StatementResult> TopicService::RunConsume(const TopicStatement& stmt,
                                                      const std::string& topic_id) {
  if (stmt.limit > kMaxConsumeLimit) {
    return Status::InvalidArgument("CONSUME LIMIT must be at most " +
                                   std::to_string(kMaxConsumeLimit) + " (got " +
                                   std::to_string(stmt.limit) + ")");
  }
  ConsumeRequest req;
  req.topic_id = topic_id;
  req.group = stmt.group;
  req.start = stmt.start == TopicStatement::Start::kDefault ? TopicStatement::Start::kEarliest
                                                            : stmt.start;
  req.start_offset = stmt.start_offset;
  req.limit = stmt.limit;
  req.partition = stmt.partition.value_or(0);
  KALAM_ASSIGN_OR_RETURN(ConsumeResult result, ConsumeNow(req));
  sql::ResultBuilder b;
  const std::vector<std::string> pk = {"pk", "nn", "uq"};
  b.AddColumn("topic_id", DataType{TypeKind::kText}, pk);
  b.AddColumn("partition_id", DataType{TypeKind::kInt}, pk);
  b.AddColumn("offset", DataType{TypeKind::kBigInt}, pk);
  b.AddColumn("key", DataType{TypeKind::kText});
  b.AddColumn("payload", DataType{TypeKind::kBytes});
  b.AddColumn("timestamp_ms", DataType{TypeKind::kBigInt});
  b.AddColumn("user_id", DataType{TypeKind::kText});
  b.AddColumn("op", DataType{TypeKind::kText});
  for (const auto& m : result.messages) {
    const Message& msg = m.message;
    KALAM_RETURN_IF_ERROR(b.AddRow(
        {Value::Text(topic_id), Value::Int(result.partition),
         Value::Int(static_cast<int64_t>(m.offset)),
         msg.key ? Value::Text(*msg.key) : Value::Null(), Value::Bytes(msg.payload),
         Value::Int(msg.timestamp_ms), msg.user_id ? Value::Text(*msg.user_id) : Value::Null(),
         Value::Text(std::string(sql::parser::TopicOpName(msg.op)))}));
  }
  return std::move(b).Finish();
}

Result<sql::StatementResult> TopicService::RunAck(const TopicStatement& stmt,
                                                  const std::string& topic_id) {
  const uint32_t partition = stmt.partition.value_or(0);
  KALAM_ASSIGN_OR_RETURN(uint64_t committed,
                         Ack(topic_id, *stmt.group, partition, stmt.upto_offset));
  (void)committed;  // the row echoes the requested offset (docs/topics.md)
  sql::ResultBuilder b;
  b.AddColumn("topic", DataType{TypeKind::kText});
  b.AddColumn("group_id", DataType{TypeKind::kText});
  b.AddColumn("partition", DataType{TypeKind::kInt});
  b.AddColumn("committed_offset", DataType{TypeKind::kBigInt});
  KALAM_RETURN_IF_ERROR(b.AddRow({Value::Text(topic_id), Value::Text(*stmt.group),
                                  Value::Int(partition),
                                  Value::Int(static_cast<int64_t>(stmt.upto_offset))}));
  return std::move(b).Finish();
}

// ---- publishing -------------------------------------------------------------------------------

Status TopicService::OnStamped(const std::vector<table::ChangeRecord>& records,
                               storage::WriteBatch* batch) {
  std::shared_ptr<const RouteIndex> routes;
  {
    std::lock_guard lock(mu_);
    routes = routes_;
  }
  pending_.clear();
  if (routes->empty()) return Status::OK();
  const int64_t now_ms = clock_.NowMillis();
  for (const table::ChangeRecord& rec : records) {
    auto targets = routes->find(rec.table->table_id);
    if (targets == routes->end()) continue;
    for (const RouteTarget& target : targets->second) {
      const Route& route = target.topic->def.routes[target.route];
      if (!OpMatches(route.op, rec.kind)) continue;
      const auto& filter = target.topic->filters[target.route];
      if (filter && !filters_->Matches(*filter, *rec.table, rec.values, rec.seq,
                                       rec.kind == table::ChangeKind::kDelete)) {
        continue;
      }
      Message m;
      m.key = MessageKeyText(rec);
      m.payload = BuildPayload(rec, route.payload);
      m.timestamp_ms = now_ms;
      if (rec.table->type != catalog::TableType::kShared && !rec.scope.empty()) {
        m.user_id = rec.scope;
      }
      m.op = route.op;
      m.seq = rec.seq;
      const uint32_t p = PartitionFor(m.key, rec.seq, target.topic->def.partitions);
      const PartitionKey pk{target.topic->def.num, p};
      auto it = pending_.find(pk);
      if (it == pending_.end()) {
        uint64_t next = 0;
        {
          std::lock_guard lock(mu_);
          if (auto n = next_.find(pk); n != next_.end()) next = n->second;
        }
        it = pending_.emplace(pk, next).first;
      }
      batch->Put(Partition::kTopic, MessageKey(pk.first, p, it->second), m.Encode());
      ++it->second;
    }
  }
  for (const auto& [pk, next] : pending_) {
    batch->Put(Partition::kMeta, NextOffsetKey(pk.first, pk.second), U64Bytes(next));
  }
  return Status::OK();
}

void TopicService::OnWritten(const Status& written) {
  if (pending_.empty()) return;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (written.ok()) {
      for (const auto& [pk, next] : pending_) {
        next_[pk] = next;
        if (waiters_.count(pk)) wake = dirty_.insert(pk).second || wake;
      }
    }
  }
  pending_.clear();
  if (wake) cv_.notify_all();
}

// ---- listing ----------------------------------------------------------------------------------

std::vector<std::string> TopicService::TopicsWithSource(catalog::TableId table) const {
  std::vector<std::string> out;
  std::lock_guard lock(mu_);
  for (const auto& [id, t] : topics_) {
    for (const Route& r : t->def.routes) {
      if (r.table_id == table) {
        out.push_back(id);
        break;
      }
    }
  }
  return out;
}

std::vector<sql::TopicInfo> TopicService::ListTopics() const {
  std::vector<sql::TopicInfo> out;
  std::lock_guard lock(mu_);
  for (const auto& [id, t] : topics_) {
    sql::TopicInfo i;
    i.topic_id = id;
    i.partitions = t->def.partitions;
    i.retention_seconds = t->def.retention_seconds;
    i.retention_max_bytes = t->def.retention_max_bytes;
    i.routes_json = t->def.RoutesJson();
    i.created_at_ms = t->def.created_at_ms;
    i.updated_at_ms = t->def.updated_at_ms;
    out.push_back(std::move(i));
  }
  return out;
}

std::vector<sql::TopicOffsetInfo> TopicService::ListOffsets() const {
  std::map<TopicNum, std::string> names;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, t] : topics_) names[t->def.num] = id;
  }
  std::vector<sql::TopicOffsetInfo> out;
  std::lock_guard groups(groups_mu_);
  for (const auto& [k, c] : committed_) {
    auto name = names.find(k.num);
    if (name == names.end() || !c.committed) continue;
    out.push_back(sql::TopicOffsetInfo{name->second, k.group, k.partition,
                                       static_cast<int64_t>(*c.committed), c.updated_ms});
  }
  return out;
}

}  // namespace kalam::topics
