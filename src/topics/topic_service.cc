// The topic service: DDL, publishing in the commit, consumption, claims, long polls and the
// cleanup/retention jobs.
#include "topics/topic_service.h"

#include <algorithm>
#include <limits>

#include <spdlog/spdlog.h>

#include "sql/parser/splitter.h"
#include "sql/result_builder.h"

namespace kalam::topics {

using sql::parser::TopicOp;
using sql::parser::TopicStatement;
using storage::Partition;

namespace {

constexpr uint64_t kMaxPartitions = 256;
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

Status NoTopic(const std::string& topic_id) {
  return Status::NotFound("Not found: Topic '" + topic_id + "' does not exist");
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
      if (!ParseGroupOffsetKey(it->key(), &k.num, &k.partition, &k.group) ||
          it->value().size() != 16) {
        return Status::Corruption("Bad consumer group offset record");
      }
      Committed c;
      c.offset = *ReadU64(it->value().substr(0, 8));
      c.updated_ms = static_cast<int64_t>(*ReadU64(it->value().substr(8, 8)));
      committed_[k] = c;
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
  if (stmt.partitions < 1 || stmt.partitions > kMaxPartitions) {
    return Status::InvalidArgument("Invalid operation: Partition count must be between 1 and " +
                                   std::to_string(kMaxPartitions) + " (got " +
                                   std::to_string(stmt.partitions) + ")");
  }
  std::lock_guard ddl(ddl_mu_);
  if (Find(topic_id)) {
    return Status::AlreadyExists("Already exists: Topic '" + topic_id + "' already exists");
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
  if (!topic) return NoTopic(topic_id);
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

Status TopicService::DeleteMessages(TopicNum num, uint32_t p, uint64_t from, uint64_t to,
                                    uint64_t* messages, uint64_t* bytes) {
  if (from >= to) return Status::OK();
  storage::ReadOptions ro;
  ro.lower_bound = MessageKey(num, p, from);
  ro.upper_bound = MessageKey(num, p, to);
  auto it = kv_.NewIterator(Partition::kTopic, ro);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++*messages;
    *bytes += it->key().size() + it->value().size();
  }
  KALAM_RETURN_IF_ERROR(it->status());
  storage::WriteBatch batch;
  batch.DeleteRange(Partition::kTopic, ro.lower_bound, ro.upper_bound);
  return kv_.Write(batch);
}

Result<std::string> TopicService::ScheduleCleanup(const std::string& topic_id, TopicNum num,
                                                  bool drop, std::map<uint32_t, uint64_t> upto,
                                                  size_t offsets_deleted) {
  auto body = [this, topic_id, num, drop, upto, offsets_deleted](
                  jobs::JobContext&) -> Result<std::string> {
    uint64_t messages = 0, bytes = 0;
    if (drop) {
      // Every partition of the topic: the key range of `num`.
      storage::ReadOptions ro;
      ro.lower_bound = MessageKey(num, 0, 0);
      ro.upper_bound = MessageKey(num + 1, 0, 0);
      auto it = kv_.NewIterator(Partition::kTopic, ro);
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        ++messages;
        bytes += it->key().size() + it->value().size();
      }
      KALAM_RETURN_IF_ERROR(it->status());
      storage::WriteBatch batch;
      batch.DeleteRange(Partition::kTopic, ro.lower_bound, ro.upper_bound);
      for (uint32_t p = 0; p < kMaxPartitions; ++p) {
        batch.Delete(Partition::kMeta, NextOffsetKey(num, p));
        batch.Delete(Partition::kMeta, LowOffsetKey(num, p));
      }
      KALAM_RETURN_IF_ERROR(kv_.Write(batch));
      std::lock_guard lock(mu_);
      std::erase_if(next_, [&](const auto& e) { return e.first.first == num; });
      std::erase_if(low_, [&](const auto& e) { return e.first.first == num; });
    } else {
      for (const auto& [p, to] : upto) {
        KALAM_RETURN_IF_ERROR(DeleteMessages(num, p, 0, to, &messages, &bytes));
      }
    }
    return "Cleaned up topic '" + topic_id + "' - " + std::to_string(offsets_deleted) +
           " consumer group offsets deleted, " + std::to_string(messages) +
           " messages deleted, " + std::to_string(bytes) + " bytes freed";
  };
  const std::string params = "{\"topic_id\":\"" + topic_id + "\"}";
  const std::string key = std::string(drop ? "drop_topic:" : "clear_topic:") + std::to_string(num);
  if (!jobs_) {
    jobs::JobContext ctx;
    KALAM_ASSIGN_OR_RETURN(std::string message, body(ctx));
    (void)message;  // no job record to carry it without a job manager (unit tests)
    return std::string("TC-inline");
  }
  bool already = false;
  return jobs_->Submit("TC", "topic_cleanup", key, params, body, &already);
}

Result<sql::StatementResult> TopicService::AddSource(const TopicStatement& stmt,
                                                     const sql::TopicStatementContext& ctx) {
  std::lock_guard ddl(ddl_mu_);
  auto topic = Find(ctx.topic_id);
  if (!topic) return NoTopic(ctx.topic_id);
  Route route;
  route.table_id = ctx.source->table_id;
  route.table_name = ctx.source->QualifiedName();
  route.op = stmt.op;
  route.payload = stmt.payload;
  for (const Route& r : topic->def.routes) {
    if (r.table_id == route.table_id && r.op == route.op) {
      return Status::AlreadyExists("Already exists: Route for " + RouteText(route) +
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
  if (!topic) return NoTopic(ctx.topic_id);
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
  return Status::NotFound("Not found: Route for " + RouteText(wanted) +
                          " does not exist in topic '" + ctx.topic_id + "'");
}

Result<sql::StatementResult> TopicService::SetOptions(const TopicStatement& stmt,
                                                      const std::string& topic_id) {
  std::lock_guard ddl(ddl_mu_);
  auto topic = Find(topic_id);
  if (!topic) return NoTopic(topic_id);
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
    return Status::InvalidArgument("Invalid operation: CONSUME LIMIT must be at most " +
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

// ---- consumption ------------------------------------------------------------------------------

Result<ConsumeResult> TopicService::ConsumeNow(const ConsumeRequest& request) {
  auto topic = Find(request.topic_id);
  if (!topic) return NoTopic(request.topic_id);
  if (request.partition >= topic->def.partitions) {
    return Status::InvalidArgument("Invalid operation: Partition " +
                                   std::to_string(request.partition) + " does not exist in topic '" +
                                   request.topic_id + "' (it has " +
                                   std::to_string(topic->def.partitions) + " partition(s))");
  }
  const TopicNum num = topic->def.num;
  const PartitionKey pk{num, request.partition};
  std::unique_lock groups(groups_mu_, std::defer_lock);
  if (request.group) groups.lock();
  uint64_t latest = 0, low = 0;
  {
    std::lock_guard lock(mu_);
    if (auto it = next_.find(pk); it != next_.end()) latest = it->second;
    if (auto it = low_.find(pk); it != low_.end()) low = it->second;
  }
  uint64_t start = 0;
  switch (request.start) {
    case TopicStatement::Start::kEarliest:
    case TopicStatement::Start::kDefault: start = low; break;
    case TopicStatement::Start::kLatest: start = latest; break;
    case TopicStatement::Start::kOffset: start = request.start_offset; break;
  }
  const int64_t now_ms = clock_.NowMillis();
  uint64_t stop = std::numeric_limits<uint64_t>::max();
  ConsumerGroup* group = nullptr;
  uint64_t begin = start;
  if (request.group) {
    GroupKey gk{num, request.partition, *request.group};
    auto it = groups_.find(gk);
    if (it == groups_.end()) {
      std::optional<uint64_t> committed;
      if (auto c = committed_.find(gk); c != committed_.end()) committed = c->second.offset;
      it = groups_.emplace(gk, ConsumerGroup(committed)).first;
    }
    group = &it->second;
    begin = group->NextWindow(start, now_ms, &stop);
  }
  begin = std::max(begin, low);
  ConsumeResult result;
  result.topic_id = request.topic_id;
  result.partition = request.partition;
  result.next_offset = begin;
  const uint64_t end = std::min(latest, stop);
  if (request.limit == 0 || begin >= end) return result;
  storage::ReadOptions ro;
  ro.lower_bound = MessageKey(num, request.partition, begin);
  ro.upper_bound = MessageKey(num, request.partition, end);
  auto it = kv_.NewIterator(Partition::kTopic, ro);
  for (it->SeekToFirst(); it->Valid() && result.messages.size() < request.limit; it->Next()) {
    TopicNum n = 0;
    uint32_t p = 0;
    uint64_t offset = 0;
    if (!ParseMessageKey(it->key(), &n, &p, &offset)) {
      return Status::Corruption("Bad topic message key");
    }
    KALAM_ASSIGN_OR_RETURN(Message m, Message::Decode(it->value()));
    result.messages.push_back(ConsumedMessage{offset, std::move(m)});
  }
  KALAM_RETURN_IF_ERROR(it->status());
  if (!result.messages.empty()) {
    result.next_offset = result.messages.back().offset + 1;
    if (group) {
      group->Take(result.messages.front().offset, result.next_offset,
                  now_ms + options_.visibility_timeout.count());
    }
  }
  return result;
}

void TopicService::Consume(ConsumeRequest request, ConsumeCallback done) {
  uint64_t latest_seen = 0;
  if (auto topic = Find(request.topic_id)) {
    std::lock_guard lock(mu_);
    if (auto it = next_.find({topic->def.num, request.partition}); it != next_.end()) {
      latest_seen = it->second;
    }
  }
  auto result = ConsumeNow(request);
  if (!result.ok() || !result->messages.empty() || request.wait.count() <= 0) {
    done(std::move(result));
    return;
  }
  const auto wait = std::min<std::chrono::milliseconds>(request.wait, options_.max_wait);
  Waiter w;
  w.deadline = std::chrono::steady_clock::now() + wait;
  w.empty = std::move(*result);
  w.request = std::move(request);
  w.done = std::move(done);
  Register(std::move(w), latest_seen);
}

void TopicService::Register(Waiter waiter, uint64_t latest_seen) {
  auto topic = Find(waiter.request.topic_id);
  {
    std::unique_lock lock(mu_);
    if (!stopping_ && topic) {
      const PartitionKey pk{topic->def.num, waiter.request.partition};
      auto it = next_.find(pk);
      // A commit between the fetch and now must not be missed: look again at once.
      if (it != next_.end() && it->second != latest_seen) dirty_.insert(pk);
      waiters_[pk].push_back(std::move(waiter));
      waiters_changed_ = true;
      lock.unlock();
      cv_.notify_all();
      return;
    }
  }
  waiter.done(std::move(waiter.empty));
}

void TopicService::NotifierLoop() {
  std::unique_lock lock(mu_);
  auto last_retention = std::chrono::steady_clock::now();
  while (!stopping_) {
    auto wake = std::chrono::steady_clock::time_point::max();
    for (const auto& [k, list] : waiters_) {
      for (const auto& w : list) wake = std::min(wake, w.deadline);
    }
    if (options_.retention_check_interval.count() > 0) {
      wake = std::min(wake, last_retention + options_.retention_check_interval);
    }
    waiters_changed_ = false;
    cv_.wait_until(lock, wake, [&] { return stopping_ || !dirty_.empty() || waiters_changed_; });
    if (stopping_) break;
    const auto now = std::chrono::steady_clock::now();
    std::vector<Waiter> retry, expired;
    for (const auto& pk : dirty_) {
      auto it = waiters_.find(pk);
      if (it == waiters_.end()) continue;
      for (auto& w : it->second) retry.push_back(std::move(w));
      waiters_.erase(it);
    }
    dirty_.clear();
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      auto& list = it->second;
      for (auto w = list.begin(); w != list.end();) {
        if (w->deadline <= now) {
          expired.push_back(std::move(*w));
          w = list.erase(w);
        } else {
          ++w;
        }
      }
      it = list.empty() ? waiters_.erase(it) : std::next(it);
    }
    const bool retention_due = options_.retention_check_interval.count() > 0 &&
                               now >= last_retention + options_.retention_check_interval;
    if (retention_due) last_retention = now;
    lock.unlock();
    for (auto& w : retry) {
      uint64_t latest_seen = 0;
      if (auto topic = Find(w.request.topic_id)) {
        std::lock_guard l(mu_);
        if (auto it = next_.find({topic->def.num, w.request.partition}); it != next_.end()) {
          latest_seen = it->second;
        }
      }
      auto result = ConsumeNow(w.request);
      if (!result.ok() || !result->messages.empty() || w.deadline <= now) {
        w.done(std::move(result));
      } else {
        Register(std::move(w), latest_seen);
      }
    }
    for (auto& w : expired) w.done(std::move(w.empty));
    if (retention_due && RetentionDue()) {
      if (jobs_) {
        bool already = false;
        auto job = jobs_->Submit("TR", "topic_retention", "topic_retention", "{}",
                                 [this](jobs::JobContext&) { return EnforceRetention(); },
                                 &already);
        if (!job.ok()) spdlog::error("Topic retention job not queued: {}", job.status().ToString());
      } else {
        auto r = EnforceRetention();
        if (!r.ok()) spdlog::error("Topic retention failed: {}", r.status().ToString());
      }
    }
    lock.lock();
  }
}

Result<uint64_t> TopicService::Ack(const std::string& topic_id, const std::string& group,
                                   uint32_t partition, uint64_t offset) {
  auto topic = Find(topic_id);
  if (!topic) return NoTopic(topic_id);
  if (partition >= topic->def.partitions) {
    return Status::InvalidArgument("Invalid operation: Partition " + std::to_string(partition) +
                                   " does not exist in topic '" + topic_id + "' (it has " +
                                   std::to_string(topic->def.partitions) + " partition(s))");
  }
  const TopicNum num = topic->def.num;
  std::lock_guard groups(groups_mu_);
  uint64_t latest = 0;
  {
    std::lock_guard lock(mu_);
    if (auto it = next_.find({num, partition}); it != next_.end()) latest = it->second;
  }
  if (offset >= latest) {
    return Status::InvalidArgument(
        "Invalid operation: Cannot acknowledge offset " + std::to_string(offset) +
        " of topic '" + topic_id + "' partition " + std::to_string(partition) + ": " +
        (latest == 0 ? std::string("the partition has no messages")
                     : "the newest offset is " + std::to_string(latest - 1)));
  }
  GroupKey gk{num, partition, group};
  auto it = groups_.find(gk);
  uint64_t committed = offset;
  if (it != groups_.end()) {
    committed = it->second.Ack(offset);
  } else if (auto c = committed_.find(gk); c != committed_.end()) {
    committed = std::max(c->second.offset, offset);
  }
  const int64_t now_ms = clock_.NowMillis();
  storage::WriteBatch batch;
  batch.Put(Partition::kSystem, GroupOffsetKey(num, partition, group),
            U64Bytes(committed) + U64Bytes(static_cast<uint64_t>(now_ms)));
  KALAM_RETURN_IF_ERROR(kv_.Write(batch));
  committed_[gk] = Committed{committed, now_ms};
  return committed;
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

// ---- retention --------------------------------------------------------------------------------

bool TopicService::RetentionDue() {
  std::vector<std::shared_ptr<const Topic>> topics;
  std::map<PartitionKey, std::pair<uint64_t, uint64_t>> ranges;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, t] : topics_) {
      topics.push_back(t);
      for (uint32_t p = 0; p < t->def.partitions; ++p) {
        const PartitionKey pk{t->def.num, p};
        ranges[pk] = {low_.count(pk) ? low_[pk] : 0, next_.count(pk) ? next_[pk] : 0};
      }
    }
  }
  const int64_t now_ms = clock_.NowMillis();
  for (const auto& t : topics) {
    for (uint32_t p = 0; p < t->def.partitions; ++p) {
      auto [low, next] = ranges[{t->def.num, p}];
      if (low >= next) continue;
      storage::ReadOptions ro;
      ro.lower_bound = MessageKey(t->def.num, p, 0);
      ro.upper_bound = MessageKey(t->def.num, p, next);
      auto it = kv_.NewIterator(Partition::kTopic, ro);
      it->SeekToFirst();
      if (!it->Valid()) continue;
      uint64_t offset = 0;
      TopicNum n = 0;
      uint32_t part = 0;
      if (ParseMessageKey(it->key(), &n, &part, &offset) && offset < low) return true;
      auto m = Message::Decode(it->value());
      if (t->def.retention_seconds > 0 && m.ok() &&
          m->timestamp_ms < now_ms - t->def.retention_seconds * 1000) {
        return true;
      }
      if (t->def.retention_max_bytes > 0 &&
          kv_.ApproximateSize(Partition::kTopic, ro.lower_bound, ro.upper_bound) >
              static_cast<uint64_t>(t->def.retention_max_bytes)) {
        return true;
      }
    }
  }
  return false;
}

Result<std::string> TopicService::EnforceRetention() {
  std::vector<std::shared_ptr<const Topic>> topics;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, t] : topics_) topics.push_back(t);
  }
  const int64_t now_ms = clock_.NowMillis();
  uint64_t messages = 0, bytes = 0;
  size_t partitions = 0;
  for (const auto& t : topics) {
    const TopicNum num = t->def.num;
    for (uint32_t p = 0; p < t->def.partitions; ++p) {
      uint64_t low = 0, next = 0;
      {
        std::lock_guard lock(mu_);
        if (auto it = low_.find({num, p}); it != low_.end()) low = it->second;
        if (auto it = next_.find({num, p}); it != next_.end()) next = it->second;
      }
      uint64_t cut = low;
      storage::ReadOptions ro;
      ro.lower_bound = MessageKey(num, p, 0);
      ro.upper_bound = MessageKey(num, p, next);
      if (t->def.retention_seconds > 0) {
        const int64_t cutoff = now_ms - t->def.retention_seconds * 1000;
        auto it = kv_.NewIterator(Partition::kTopic, ro);
        for (it->Seek(MessageKey(num, p, low)); it->Valid(); it->Next()) {
          KALAM_ASSIGN_OR_RETURN(Message m, Message::Decode(it->value()));
          if (m.timestamp_ms >= cutoff) break;
          TopicNum n = 0;
          uint32_t part = 0;
          uint64_t offset = 0;
          if (ParseMessageKey(it->key(), &n, &part, &offset)) cut = std::max(cut, offset + 1);
        }
        KALAM_RETURN_IF_ERROR(it->status());
      }
      if (t->def.retention_max_bytes > 0) {
        uint64_t total = 0;
        auto it = kv_.NewIterator(Partition::kTopic, ro);
        for (it->SeekToLast(); it->Valid(); it->Prev()) {
          total += it->key().size() + it->value().size();
          if (total > static_cast<uint64_t>(t->def.retention_max_bytes)) {
            TopicNum n = 0;
            uint32_t part = 0;
            uint64_t offset = 0;
            if (ParseMessageKey(it->key(), &n, &part, &offset)) cut = std::max(cut, offset + 1);
            break;
          }
        }
        KALAM_RETURN_IF_ERROR(it->status());
      }
      const uint64_t before = messages;
      // Everything below `cut` goes, including what CLEAR TOPIC already hid below `low`.
      KALAM_RETURN_IF_ERROR(DeleteMessages(num, p, 0, cut, &messages, &bytes));
      if (cut > low) {
        storage::WriteBatch batch;
        batch.Put(Partition::kMeta, LowOffsetKey(num, p), U64Bytes(cut));
        KALAM_RETURN_IF_ERROR(kv_.Write(batch));
        std::lock_guard lock(mu_);
        low_[{num, p}] = std::max(low_[{num, p}], cut);
      }
      if (messages > before) ++partitions;
    }
  }
  return "Topic retention: " + std::to_string(messages) + " messages deleted (" +
         std::to_string(bytes) + " bytes) from " + std::to_string(partitions) + " partition(s)";
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
    if (name == names.end()) continue;
    out.push_back(sql::TopicOffsetInfo{name->second, k.group, k.partition,
                                       static_cast<int64_t>(c.offset), c.updated_ms});
  }
  return out;
}

}  // namespace kalam::topics
