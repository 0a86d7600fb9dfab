// TopicService: topics and consumer groups (docs/topics.md) — topic definitions, routes from
// tables, messages appended in the same commit as the row change (a commit::CommitHook), offsets,
// consumer-group claims, long-poll waiters, and the cleanup and retention jobs. Implemented in
// topic_service.cc (definitions, DDL, publishing), topic_consumer.cc (fetches, claims, acks, long
// polls) and topic_retention.cc (the job bodies).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "catalog/catalog.h"
#include "commit/commit_hook.h"
#include "common/clock.h"
#include "jobs/job_manager.h"
#include "live/row_filter.h"
#include "sql/topic_service.h"
#include "storage/kv_store.h"
#include "topics/consumer_group.h"
#include "topics/message.h"
#include "topics/topic_def.h"

namespace kalam::topics {

struct TopicServiceOptions {
  // A claim not acknowledged within this time is redelivered. Default 60 s.
  std::chrono::milliseconds visibility_timeout{60000};
  // How often retention is checked (a `topic_retention` job runs when something expired).
  // Default 60 s; 0 = never.
  std::chrono::seconds retention_check_interval{60};
  // Longest long poll; longer requested waits are cut to this. Default 60 s.
  std::chrono::seconds max_wait{60};
};

// A fetch from one partition.
struct ConsumeRequest {
  std::string topic_id;
  std::optional<std::string> group;  // with a group: claims (docs/topics.md)
  // Where a reader without a committed offset or cursor starts.
  sql::parser::TopicStatement::Start start = sql::parser::TopicStatement::Start::kLatest;
  uint64_t start_offset = 0;
  uint64_t limit = 100;
  uint32_t partition = 0;
  // Long poll: wait up to this long for a message when none is available (capped at max_wait).
  std::chrono::milliseconds wait{0};
};

struct ConsumedMessage {
  uint64_t offset = 0;
  Message message;
};

struct ConsumeResult {
  std::string topic_id;
  uint32_t partition = 0;
  std::vector<ConsumedMessage> messages;
  uint64_t next_offset = 0;  // last returned offset + 1, or where the fetch started
};

using ConsumeCallback = std::function<void(Result<ConsumeResult>)>;

// Thread-safe. Lock order: ddl_mu_ → groups_mu_ → mu_.
class TopicService : public sql::TopicService, public commit::CommitHook {
 public:
  TopicService(storage::KvStore& kv, catalog::Catalog& catalog, const Clock& clock,
               TopicServiceOptions options);
  ~TopicService() override;
  TopicService(const TopicService&) = delete;
  TopicService& operator=(const TopicService&) = delete;

  // Loads topic definitions, offsets and committed group offsets, and compiles route filters.
  // Call before the commit pipeline starts.
  Status Open();
  // Where cleanup and retention jobs run (null: they run on the calling thread). Set before
  // Start; not owned.
  void SetJobManager(jobs::JobManager* jobs) { jobs_ = jobs; }
  // Starts the thread that answers long polls and checks retention.
  void Start();
  // Answers every waiting long poll (with what is available, usually nothing), refuses new
  // waits and joins the thread. Idempotent.
  void Stop();

  // Fetches from one partition now. kNotFound "Topic '<id>' does not exist"; kInvalidArgument
  // for a partition the topic does not have.
  Result<ConsumeResult> ConsumeNow(const ConsumeRequest& request);
  // Like ConsumeNow, but when nothing is available and request.wait > 0 calls `done` later: when
  // a commit appends to the partition or the wait ends. `done` may run on the calling thread or
  // on the service's thread; it must not block.
  void Consume(ConsumeRequest request, ConsumeCallback done);
  // Acknowledges `offset` for (topic, group, partition): the batch (claim) holding it, from the
  // batch's start (ConsumerGroup::Ack); the committed offset, persisted, advances over the
  // contiguous acknowledged run. Returns `offset` (the wire echoes the request). Refused
  // (kInvalidArgument) for an offset at or beyond the partition's next offset.
  Result<uint64_t> Ack(const std::string& topic_id, const std::string& group, uint32_t partition,
                       uint64_t offset);

  // Runs the retention pass now (the `topic_retention` job's body). Returns its message.
  Result<std::string> EnforceRetention();
  // Long polls waiting (for tests and metrics).
  size_t waiting() const;

  // sql::TopicService.
  Result<sql::StatementResult> Run(const sql::parser::TopicStatement& stmt,
                                   const sql::TopicStatementContext& ctx) override;
  std::vector<std::string> TopicsWithSource(catalog::TableId table) const override;
  std::vector<sql::TopicInfo> ListTopics() const override;
  std::vector<sql::TopicOffsetInfo> ListOffsets() const override;

  // commit::CommitHook.
  Status OnStamped(const std::vector<table::ChangeRecord>& records,
                   storage::WriteBatch* batch) override;
  void OnWritten(const Status& written) override;

 private:
  // A topic and its compiled route filters (filters[i] for def.routes[i]; null = no WHERE).
  // Immutable once published; replaced on every change.
  struct Topic {
    TopicDef def;
    std::vector<std::shared_ptr<const live::FilterEngine::Filter>> filters;
  };
  struct RouteTarget {
    std::shared_ptr<const Topic> topic;
    size_t route = 0;
  };
  using RouteIndex = std::unordered_map<catalog::TableId, std::vector<RouteTarget>>;
  using PartitionKey = std::pair<TopicNum, uint32_t>;
  struct GroupKey {
    TopicNum num;
    uint32_t partition;
    std::string group;
    auto operator<=>(const GroupKey&) const = default;
  };
  using Committed = GroupRecord;  // a group's persisted progress
  // A group's in-memory state as its persisted progress starts it. Requires groups_mu_.
  ConsumerGroup StoredGroup(const GroupKey& gk) const;
  struct Waiter {
    ConsumeRequest request;
    ConsumeCallback done;
    std::chrono::steady_clock::time_point deadline;
    ConsumeResult empty;  // the answer when nothing arrives
  };

  Result<sql::StatementResult> Create(const sql::parser::TopicStatement& stmt,
                                      const std::string& topic_id);
  Result<sql::StatementResult> DropOrClear(const std::string& topic_id, bool drop);
  Result<sql::StatementResult> AddSource(const sql::parser::TopicStatement& stmt,
                                         const sql::TopicStatementContext& ctx);
  Result<sql::StatementResult> DropSource(const sql::parser::TopicStatement& stmt,
                                          const sql::TopicStatementContext& ctx);
  Result<sql::StatementResult> SetOptions(const sql::parser::TopicStatement& stmt,
                                          const std::string& topic_id);
  Result<sql::StatementResult> RunConsume(const sql::parser::TopicStatement& stmt,
                                          const std::string& topic_id);
  Result<sql::StatementResult> RunAck(const sql::parser::TopicStatement& stmt,
                                      const std::string& topic_id);

  std::shared_ptr<const Topic> Find(const std::string& topic_id) const;
  // Persists `def` and publishes it with `filters` (null def: drop topic_id). Requires ddl_mu_.
  Status Publish(const std::string& topic_id, std::shared_ptr<const Topic> topic);
  void RebuildRoutes();  // requires mu_
  // Deletes the committed offsets of topic `num` (stored and in memory); returns how many.
  Result<size_t> ForgetGroups(TopicNum num);
  // Queues (or runs) a topic_cleanup job deleting messages of `num` below `upto` per partition
  // (empty = all). Returns the job id.
  Result<std::string> ScheduleCleanup(const std::string& topic_id, TopicNum num, bool drop,
                                      std::map<uint32_t, uint64_t> upto, size_t offsets_deleted);
  // Deletes messages of `num` partition `p` in [from, to); counts messages and bytes.
  Status DeleteMessages(TopicNum num, uint32_t p, uint64_t from, uint64_t to, uint64_t* messages,
                        uint64_t* bytes);
  // Deletes messages of topic numbers no loaded topic has (Open).
  Status DeleteOrphanMessages(const std::map<std::string, std::shared_ptr<const Topic>>& topics);
  bool RetentionDue();
  void NotifierLoop();
  void Register(Waiter waiter, uint64_t latest_seen);

  storage::KvStore& kv_;
  catalog::Catalog& catalog_;
  const Clock& clock_;
  const TopicServiceOptions options_;
  jobs::JobManager* jobs_ = nullptr;
  std::unique_ptr<live::FilterEngine> filters_;

  std::mutex ddl_mu_;  // serialises topic DDL (read-modify-write of definitions)
  TopicNum next_num_ = 1;  // guarded by ddl_mu_

  mutable std::mutex groups_mu_;  // serialises group fetches and acks
  std::map<GroupKey, ConsumerGroup> groups_;  // guarded by groups_mu_
  std::map<GroupKey, Committed> committed_;   // guarded by groups_mu_

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Topic>> topics_;  // guarded by mu_
  std::shared_ptr<const RouteIndex> routes_;                    // guarded by mu_
  std::map<PartitionKey, uint64_t> next_;  // guarded by mu_: durable next offset
  std::map<PartitionKey, uint64_t> low_;   // guarded by mu_: first retained offset
  std::map<PartitionKey, std::vector<Waiter>> waiters_;  // guarded by mu_
  std::set<PartitionKey> dirty_;  // guarded by mu_: partitions appended since the last look
  bool waiters_changed_ = false;  // guarded by mu_
  bool stopping_ = false;         // guarded by mu_
  std::condition_variable cv_;
  std::thread notifier_;

  // Offsets allocated by the group being written; only the commit leader touches it.
  std::map<PartitionKey, uint64_t> pending_;
};

}  // namespace kalam::topics
