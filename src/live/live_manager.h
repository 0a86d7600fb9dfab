// LiveManager: live queries (PROTOCOL.md §4, ARCHITECTURE.md §7). Subscriptions are compiled once
// (table, scope, projection, filter), indexed by (table, scope), fed an optional snapshot in
// `_seq` order read at a consistent point, then every committed change in commit order, with the
// changes committed during the snapshot held and delivered after it (none lost, none doubled).
// Everything one subscription delivers (snapshot rows, replayed deletes, changes) comes in
// strictly increasing `_seq`, so the largest `_seq` a client received is its exact resume point.
#pragma once

#include <functional>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "commit/commit_pipeline.h"
#include "commit/commit_shards.h"
#include "common/gzip.h"
#include "live/row_filter.h"
#include "live/subscription_query.h"
#include "sql/executor.h"
#include "sql/live_registry.h"

namespace kalam::live {

// One server→client message as the live-query service hands it over: `head`, then the text of
// `tail` when there is one. For a change event, head = its start up to the subscription_id, and
// tail = the rest, one object shared by every subscriber with the same projection (a transport
// that compresses deflates it once for all of them). The WebSocket session's own message type
// (net::WsMessage), so a transport passes events on as they are.
using LiveEvent = TailedMessage;

// One connection's outbound side, implemented by the WebSocket transport's connection handle
// (api::WsConnection). Thread-safe.
class LiveSink {
 public:
  virtual ~LiveSink() = default;
  virtual uint64_t connection_id() const = 0;
  // Queues one JSON message; false when the connection's queue is full or it is closed.
  virtual bool Send(std::string json) = 0;
  // Queues the longest prefix of `events` that fits, as Send would one by one, and returns its
  // length. Every event is consumed. Transports override it to queue them at one go (and to
  // encode each shared body once for all their connections).
  virtual size_t SendMany(std::vector<LiveEvent>& events) {
    size_t n = 0;
    while (n < events.size() && Send(events[n].Text())) ++n;
    return n;
  }
  // Queues a control message (SUBSCRIBER_LAGGING, kills) in the transport's reserve, so it gets
  // through even when Send has just failed. False if even the reserve is full or it is closed.
  virtual bool SendControl(std::string json) { return Send(std::move(json)); }
  // Queues the error object `{"type":"error","subscription_id":…,"code":…,"message":…}` of
  // PROTOCOL.md §4, written by the transport: as Send would, or with `control` in the reserve as
  // SendControl would. False when it does not fit or the connection is closed.
  virtual bool SendError(std::string_view subscription_id, std::string_view code,
                         std::string_view message, bool control) = 0;
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
  // Subscriptions one user may hold across all connections; 0 = unlimited. Default: 10.
  size_t max_subscriptions_per_user = 10;
  // Subscriptions one connection may hold. Default: 100.
  size_t max_subscriptions_per_connection = 100;
  uint32_t max_batch_size = 1000;
  std::string node_id = "1";
  // `_seq` ranges (exclusive at both ends) this server's history does not contain: after a
  // restore from a backup, the `_seq`s between the backup's point and the first commit of the
  // restored server. A resume (`from`) inside one is refused, since the client may hold rows the
  // restore discarded.
  std::vector<std::pair<int64_t, int64_t>> foreign_seq_ranges;
};

// Thread-safe. Subscribe/NextBatch run SQL: call them on a worker thread.
class LiveManager : public sql::LiveRegistry {
 public:
  // `shards`: the commit pipelines (a single node passes its one); a subscription's read point
  // comes from its (table, scope)'s pipeline, and every pipeline's changes fan out.
  LiveManager(catalog::Catalog& catalog, sql::Executor& executor, commit::CommitShards shards,
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

  // Whether `table`'s `scope` has a registered subscription (loading or live). Thread-safe and
  // quick (its own mutex, never held across I/O): the commit pipeline asks it for inserts into
  // EPHEMERAL streams while it writes a group.
  bool HasSubscriber(catalog::TableId table, const std::string& scope) const;
  // Subscriptions registered now (loading or live), for metrics. Thread-safe.
  size_t subscription_count() const { return subscriptions_.load(std::memory_order_relaxed); }

  // Ends every subscription whose (table, scope) `matches` with an error message
  // (SUBSCRIPTION_FAILED, `message`), so its client subscribes again and gets a fresh initial
  // snapshot: a cluster node calls it after a shard restored a snapshot, whose rows changed
  // without change records. Returns how many were ended. Thread-safe.
  size_t EndWhere(const std::function<bool(const catalog::TableDef& table, const std::string& scope)>& matches,
                  const std::string& message);

  // sql::LiveRegistry
  size_t CountOnTable(catalog::TableId table) const override;
  std::vector<sql::LiveQueryInfo> List() const override;
  Status Kill(std::string_view live_id) override;

 private:
  struct Sub;
  using SubPtr = std::shared_ptr<Sub>;
  using IndexKey = std::pair<catalog::TableId, std::string>;

  // What the dispatcher already computed for the record being fanned out, shared by its
  // subscribers: event bodies by projection and change kind (every subscriber with the same
  // projection gets the same bytes after its subscription_id) and filter results by filter and
  // row version (identical filters are one FilterEngine::Filter).
  struct RecordScratch;
  // The events of one dispatch round for one connection, in order, and all of them: handed to
  // each connection with one SendMany (so they tend to leave in one write).
  struct OutBox;
  struct Outboxes;

  void OnCommit(const std::vector<table::ChangeRecord>& records);
  // Creates the live metrics' series (docs/metrics.md) in the default registry.
  static void RegisterMetrics();
  void DispatchLoop();
  // Sends the next step of `sub`'s snapshot with one SendMany: the ack before the first, one
  // initial_data_batch, and on a resume the `delete` events that follow the batch's rows in
  // `_seq` order (the step ends before the next row). The last step (status `ready`, which comes
  // after every replayed delete) is followed by the changes held meanwhile. A step that does not
  // fit in the connection's queue makes the subscription lag.
  void SendBatch(const SubPtr& sub);
  // The event `rec` makes for `sub`, or nothing. `scratch` (may be null) is for `rec` only.
  // Requires mu_.
  std::optional<LiveEvent> EncodeEvent(const Sub& sub, const table::ChangeRecord& rec,
                                       RecordScratch* scratch);
  // Hands one connection's waiting events over with one SendMany; subscribers whose events did
  // not fit are told SUBSCRIBER_LAGGING, flagged and added to `lagging`. Requires mu_.
  void Hand(OutBox& box, int64_t now_us, std::vector<Sub*>& lagging);
  // Drops the subscriptions Hand found lagging. Requires mu_.
  void DropLagging(std::vector<Sub*>& lagging);
  // Tells `sub` its queue overflowed (or closes its connection when even that does not fit).
  // The caller drops it.
  void ReportLagging(const Sub& sub);
  // Takes `sub` by value: callers often pass a reference into a map this erases from.
  void Drop(SubPtr sub);  // requires mu_
  void SendError(const std::shared_ptr<LiveSink>& sink, const std::string& subscription_id,
                 const std::string& code, const std::string& message);

  catalog::Catalog& catalog_;
  sql::Executor& executor_;
  const commit::CommitShards shards_;
  const Clock& clock_;
  const LiveManagerOptions options_;
  std::unique_ptr<FilterEngine> filters_;
  // Subscriptions registered (index_ entries): OnCommit copies nothing while there are none.
  std::atomic<size_t> subscriptions_{0};

  mutable std::mutex mu_;
  std::map<IndexKey, std::vector<SubPtr>> index_;                  // guarded by mu_
  // index_'s sizes, for HasSubscriber without mu_ (which the dispatcher holds for whole rounds).
  // Updated together with index_ (mu_ then scopes_mu_).
  mutable std::mutex scopes_mu_;
  std::map<IndexKey, size_t> scope_counts_;  // guarded by scopes_mu_
  std::map<std::pair<uint64_t, std::string>, SubPtr> by_conn_;     // guarded by mu_
  std::unordered_map<std::string, SubPtr> by_live_id_;             // guarded by mu_
  std::unordered_map<std::string, size_t> per_user_;               // guarded by mu_

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::vector<table::ChangeRecord>> queue_;  // guarded by queue_mu_
  // When each queue_ entry was committed (steady clock, ns): write→notify latency.
  std::deque<int64_t> queue_commit_ns_;                 // guarded by queue_mu_
  bool stopping_ = false;                               // guarded by queue_mu_
  std::thread dispatcher_;
};

}  // namespace kalam::live
