// The server's scrape-time metrics: each callback reads one source when /metrics or system.stats
// is read.
#include "server/server_metrics.h"

#include <map>
#include <utility>

#include "api/ws_transport.h"
#include "catalog/catalog.h"
#include "commit/commit_shards.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "live/live_manager.h"
#include "sql/cluster_status.h"
#include "sql/job_service.h"
#include "sql/sqlite/connection.h"
#include "storage/kv_store.h"

namespace kalam::server {

using metrics::MetricType;
using metrics::Sample;

ServerMetrics::ServerMetrics(ServerMetricsSources sources) : sources_(std::move(sources)) {
  auto& registry = metrics::Registry::Default();
  auto add = [&](std::string_view name, std::string_view help, MetricType type,
                 metrics::Registry::Collector fn) {
    callback_ids_.push_back(registry.AddCallback(name, help, type, std::move(fn)));
  };
  auto one = [](double v) {
    return [v](std::vector<Sample>* out) { out->push_back({{}, v}); };
  };
  const ServerMetricsSources* s = &sources_;

  add("kalamdb_build_info", "Always 1; the labels name the running build", MetricType::kGauge,
      [s](std::vector<Sample>* out) {
        out->push_back({{{"version", s->version}, {"git_rev", s->git_rev}}, 1});
      });
  add("process_start_time_seconds", "Start time of the process since the Unix epoch",
      MetricType::kGauge, one(static_cast<double>(s->started_at_unix_us) / 1e6));
  add("kalamdb_uptime_seconds", "Seconds since the server started", MetricType::kGauge,
      [s](std::vector<Sample>* out) {
        const int64_t up = Clock::System().NowMicros() - s->started_at_unix_us;
        out->push_back({{}, static_cast<double>(up / 1000000)});
      });
  add("process_resident_memory_bytes", "Resident memory size in bytes", MetricType::kGauge,
      [](std::vector<Sample>* out) {
        out->push_back({{}, static_cast<double>(metrics::ReadProcessStats().rss_bytes)});
      });
  add("process_open_fds", "Number of open file descriptors", MetricType::kGauge,
      [](std::vector<Sample>* out) {
        out->push_back({{}, static_cast<double>(metrics::ReadProcessStats().open_fds)});
      });
  add("kalamdb_statement_cache_hits_total",
      "SQL statements found prepared in a connection's statement cache", MetricType::kCounter,
      [](std::vector<Sample>* out) {
        out->push_back({{}, static_cast<double>(sql::StatementCacheStats::Global().hits.load(
                                std::memory_order_relaxed))});
      });
  add("kalamdb_statement_cache_misses_total",
      "SQL statements that had to be prepared (not in the statement cache)", MetricType::kCounter,
      [](std::vector<Sample>* out) {
        out->push_back({{}, static_cast<double>(sql::StatementCacheStats::Global().misses.load(
                                std::memory_order_relaxed))});
      });

  if (s->shards) {
    auto stat = [s](uint64_t commit::CommitStats::*field) {
      return [s, field](std::vector<Sample>* out) {
        out->push_back({{}, static_cast<double>(s->shards->stats().*field)});
      };
    };
    add("kalamdb_commits_total", "Commits (write sets) taken by the commit pipeline",
        MetricType::kCounter, stat(&commit::CommitStats::commits));
    add("kalamdb_commit_groups_total", "Commit groups written (one RocksDB write each)",
        MetricType::kCounter, stat(&commit::CommitStats::groups));
    add("kalamdb_committed_rows_total", "Rows written by commit groups", MetricType::kCounter,
        stat(&commit::CommitStats::rows));
    add("kalamdb_commit_conflicts_total",
        "Commits refused because a row changed since it was read or its key now exists",
        MetricType::kCounter, stat(&commit::CommitStats::conflicts));
  }
  if (s->ws) {
    add("kalamdb_live_connections", "WebSocket connections open now", MetricType::kGauge,
        [s](std::vector<Sample>* out) {
          out->push_back({{}, static_cast<double>(s->ws->open_connections())});
        });
  }
  if (s->live) {
    add("kalamdb_live_subscriptions", "Live-query subscriptions registered now",
        MetricType::kGauge, [s](std::vector<Sample>* out) {
          out->push_back({{}, static_cast<double>(s->live->subscription_count())});
        });
  }
  if (s->jobs) {
    add("kalamdb_jobs", "Jobs known to the job manager (system.jobs), by type and status",
        MetricType::kGauge, [s](std::vector<Sample>* out) {
          std::map<std::pair<std::string, std::string>, uint64_t> counts;
          for (const auto& j : s->jobs->ListJobs()) {
            ++counts[{j.job_type, std::string(sql::JobStatusName(j.status))}];
          }
          for (const auto& [key, n] : counts) {
            out->push_back({{{"type", key.first}, {"status", key.second}},
                            static_cast<double>(n)});
          }
        });
  }
  if (s->catalog) {
    add("kalamdb_namespaces", "Namespaces in the catalog", MetricType::kGauge,
        [s](std::vector<Sample>* out) {
          out->push_back({{}, static_cast<double>(s->catalog->snapshot()->namespaces().size())});
        });
    add("kalamdb_tables", "Tables in the catalog", MetricType::kGauge,
        [s](std::vector<Sample>* out) {
          out->push_back({{}, static_cast<double>(s->catalog->snapshot()->AllTables().size())});
        });
  }
  if (s->cluster) {
    // One sample per Raft group replica of this node, labelled by the group's directory name.
    auto per_group = [s](auto figure) {
      return [s, figure](std::vector<Sample>* out) {
        const std::vector<sql::ClusterGroupStatus> groups = s->cluster->Groups();
        for (const sql::ClusterGroupStatus& g : groups) {
          const std::string name = g.group_id == 0 ? "meta"
                                   : g.group_type == "shared_data"
                                       ? "shared"
                                       : "user_" + std::to_string(g.group_id - 1);
          out->push_back({{{"group", name}}, static_cast<double>(figure(g))});
        }
      };
    };
    using G = sql::ClusterGroupStatus;
    add("kalamdb_raft_term", "The latest Raft term this replica has seen", MetricType::kGauge,
        per_group([](const G& g) { return g.current_term; }));
    add("kalamdb_raft_commit_index", "The highest entry this replica knows to be committed",
        MetricType::kGauge, per_group([](const G& g) { return g.committed; }));
    add("kalamdb_raft_applied_index", "The last entry this replica applied", MetricType::kGauge,
        per_group([](const G& g) { return g.last_applied; }));
    add("kalamdb_raft_last_log_index", "The last entry of this replica's log", MetricType::kGauge,
        per_group([](const G& g) { return g.last_log_index; }));
    add("kalamdb_raft_is_leader", "1 while this node leads the group", MetricType::kGauge,
        per_group([](const G& g) { return g.state == "Leader" ? 1 : 0; }));
    add("kalamdb_raft_leader_id", "The node this replica knows to lead the group (0: none)",
        MetricType::kGauge, per_group([](const G& g) { return g.current_leader; }));
    add("kalamdb_raft_proposals_total", "Entries proposed to the group on this node",
        MetricType::kCounter, per_group([](const G& g) { return g.proposals; }));
    add("kalamdb_raft_apply_failed",
        "1 once this replica's state machine failed to apply an entry (it applies no more)",
        MetricType::kGauge, per_group([](const G& g) { return g.failed ? 1 : 0; }));
  }
  if (s->kv) {
    auto engine = [s](uint64_t storage::KvEngineStats::*field) {
      return [s, field](std::vector<Sample>* out) {
        out->push_back({{}, static_cast<double>(s->kv->EngineStats().*field)});
      };
    };
    add("kalamdb_rocksdb_memtable_bytes", "Bytes in RocksDB memtables (all partitions)",
        MetricType::kGauge, engine(&storage::KvEngineStats::memtable_bytes));
    add("kalamdb_rocksdb_pending_compaction_bytes",
        "Bytes RocksDB estimates compaction still has to rewrite", MetricType::kGauge,
        engine(&storage::KvEngineStats::pending_compaction_bytes));
    add("kalamdb_rocksdb_live_sst_bytes", "Bytes of RocksDB's live SST files", MetricType::kGauge,
        engine(&storage::KvEngineStats::live_sst_bytes));
    add("kalamdb_rocksdb_wal_bytes", "Bytes of RocksDB's live write-ahead log files",
        MetricType::kGauge, engine(&storage::KvEngineStats::wal_bytes));
  }
}

ServerMetrics::~ServerMetrics() {
  for (uint64_t id : callback_ids_) metrics::Registry::Default().RemoveCallback(id);
}

}  // namespace kalam::server
