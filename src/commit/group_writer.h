// GroupWriter: how a commit group the pipeline has checked and stamped becomes durable. Without
// one (the single-node server) the pipeline writes the group to its KvStore itself; a cluster
// node sets a replicated writer that proposes the group to the shard's Raft group and lets the
// state machine apply it, on every replica, through CommitPipeline::ApplyGroup.
#pragma once

#include <vector>

#include "common/status.h"
#include "storage/kv_store.h"
#include "table/change_record.h"

namespace kalam::commit {

class GroupWriter {
 public:
  virtual ~GroupWriter() = default;

  // Called by the group's leader thread before the group's rows are re-checked and stamped: OK
  // once the state this node reads is current enough to check a group against (a replicated
  // writer waits until this node leads the shard and has applied every entry committed before
  // its term). Any other status fails every commit of the group with it, nothing written.
  virtual Status BeginGroup() = 0;

  // Makes one commit group durable: `batch` (every KV write of the group, its `last_seq`
  // watermark included) and `records` (its change records, in `_seq` order; `max_seq` is the
  // largest `_seq` stamped). Returns OK only once the group is written AND applied on this node
  // through CommitPipeline::ApplyGroup, which also publishes the records (the pipeline then
  // publishes nothing itself). On an error the caller reports the commit failed with that
  // status: kUnavailable "… outcome unknown …" when the group may still become durable, any
  // other code only when it certainly was not written. Called by one thread at a time (the
  // pipeline's group leader).
  virtual Status Write(const storage::WriteBatch& batch, std::vector<table::ChangeRecord> records,
                       int64_t max_seq) = 0;
};

}  // namespace kalam::commit
