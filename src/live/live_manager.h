// LiveManager: live queries (PROTOCOL.md §4, ARCHITECTURE.md §7). Subscriptions are compiled once
// (table, scope, projection, filter), indexed by (table, scope), fed an optional snapshot in
// `_seq` order read at a consistent point, then every committed change in commit order, with the
// changes committed during the snapshot held and delivered after it (none lost, none doubled).
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "commit/commit_pipeline.h"
#include "live/row_filter.h"
#include "live/subscription_query.h"
#include "sql/executor.h"
#include "sql/live_registry.h"

namespace kalam::live {

// One connection's outbound side, implemented by the WebSocket transport. Thread-safe.
class LiveSink {
 public:
  virtual ~LiveSink() = default;
  virtual uint64_t connection_id() const = 0;
  // Queues one JSON message; false when the connection's queue is full or it is closed.
  virtual bool Send(std::string json) = 0;
  // Queues a control message (SUBSCRIBER_LAGGING, kills) in the transport's reserve, so it gets
  // through even when Send has just failed. False if even the reserve is full or it is closed.
  virtual bool SendControl(std::string json) { return Send(std::move(json)); }
  virtual void Close(uint16_t code, std::string reason) = 0;
};

struct SubscribeOptions {
  bool snapshot = false;          // `options` present: send initial data
  uint32_t batch_size = 1000;
  std::optional<uint32_t> last_rows;
  std::optional<int64_t> from;    // resume after this `_seq`
  std::string json = "null";      // as given, for system.live
};

struct LiveManagerOptions {
  size_t max_subscriptions_per_user = 10;
  size_t max_subscriptions_per_connection = 100;
  uint32_t max_batch_size = 1000;
  std::string node_id = "1";
};

// Thread-safe. Subscribe/NextBatch run SQL: call them on a worker thread.
class LiveManager : public sql::LiveRegistry {
 public:
  LiveManager(catalog::Catalog& catalog, sql::Executor& executor, commit::CommitPipeline& pipeline,
              const Clock& clock, LiveManagerOptions options);
  ~LiveManager() override;

  // Starts the fan-out thread and listens to the commit pipeline.
  Status Start();
  void Stop();

  // Handles `{"type":"subscribe",…}`: answers with subscription_ack + the first batch, or an error
  // message, on `sink`.
  void Subscribe(const std::shared_ptr<LiveSink>& sink, const sql::Caller& caller,
                 const std::string& subscription_id, const std::string& query,
                 SubscribeOptions options);
  // Handles `{"type":"next_batch",…}`.
  void NextBatch(uint64_t connection_id, const std::string& subscription_id);
  // Handles `{"type":"unsubscribe",…}`.
  void Unsubscribe(uint64_t connection_id, const std::string& subscription_id);
  // Forgets every subscription of a closed connection.
  void CloseConnection(uint64_t connection_id);

  // sql::LiveRegistry
  size_t CountOnTable(catalog::TableId table) const override;
  std::vector<sql::LiveQueryInfo> List() const override;
  Status Kill(std::string_view live_id) override;

 private:
  struct Sub;
  using SubPtr = std::shared_ptr<Sub>;
  using IndexKey = std::pair<catalog::TableId, std::string>;

  void OnCommit(const std::vector<table::ChangeRecord>& records);
  void DispatchLoop();
  // Sends the next snapshot batch of `sub`; finishing the snapshot flushes held changes.
  void SendBatch(const SubPtr& sub);
  // Event bodies already encoded for one record, keyed by change type and projection: every
  // subscriber with the same projection gets the same bytes after its subscription_id.
  using BodyCache = std::unordered_map<std::string, std::string>;
  void Deliver(const SubPtr& sub, const table::ChangeRecord& rec,
               BodyCache* cache = nullptr);  // requires mu_
  // Takes `sub` by value: callers often pass a reference into a map this erases from.
  void Drop(SubPtr sub);  // requires mu_
  void SendError(const std::shared_ptr<LiveSink>& sink, const std::string& subscription_id,
                 const std::string& code, const std::string& message);

  catalog::Catalog& catalog_;
  sql::Executor& executor_;
  commit::CommitPipeline& pipeline_;
  const Clock& clock_;
  const LiveManagerOptions options_;
  std::unique_ptr<FilterEngine> filters_;

  mutable std::mutex mu_;
  std::map<IndexKey, std::vector<SubPtr>> index_;                  // guarded by mu_
  std::map<std::pair<uint64_t, std::string>, SubPtr> by_conn_;     // guarded by mu_
  std::unordered_map<std::string, SubPtr> by_live_id_;             // guarded by mu_
  std::unordered_map<std::string, size_t> per_user_;               // guarded by mu_

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::vector<table::ChangeRecord>> queue_;  // guarded by queue_mu_
  bool stopping_ = false;                               // guarded by queue_mu_
  std::thread dispatcher_;
};

}  // namespace kalam::live
