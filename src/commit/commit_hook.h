// CommitHook: lets a service above the commit pipeline add its own writes to a group's atomic
// batch (topic messages published in the same commit as the row changes they describe).
#pragma once

#include <vector>

#include "common/status.h"
#include "storage/kv_store.h"
#include "table/change_record.h"

namespace kalam::commit {

// Called by the commit leader, one group at a time (never concurrently, in `_seq` order).
class CommitHook {
 public:
  virtual ~CommitHook() = default;

  // Called after a group's rows are stamped and staged in `batch` and before the batch is
  // written: the hook may add its own writes for `records` (the group's accepted changes, in
  // `_seq` order). A non-OK status fails every commit of the group with that status and nothing
  // of the group is written. Must not call CommitPipeline methods.
  virtual Status OnStamped(const std::vector<table::ChangeRecord>& records,
                           storage::WriteBatch* batch) = 0;

  // Called after the write of a group whose OnStamped returned OK: `written` is the write's
  // outcome (OK = durable). A failed write means nothing OnStamped added exists; the hook undoes
  // whatever in-memory state it advanced. Must be quick (hand slow work to another thread).
  virtual void OnWritten(const Status& written) = 0;
};

// Several hooks as one (set with CommitPipeline::SetCommitHook): OnStamped calls each in order
// until one fails; then the hooks that had accepted the group get OnWritten(<that failure>), so
// each hook sees OnWritten exactly for the groups it accepted. Hooks are not owned.
class CommitHookChain final : public CommitHook {
 public:
  explicit CommitHookChain(std::vector<CommitHook*> hooks) : hooks_(std::move(hooks)) {}

  Status OnStamped(const std::vector<table::ChangeRecord>& records,
                   storage::WriteBatch* batch) override {
    for (size_t i = 0; i < hooks_.size(); ++i) {
      Status st = hooks_[i]->OnStamped(records, batch);
      if (!st.ok()) {
        for (size_t j = 0; j < i; ++j) hooks_[j]->OnWritten(st);
        return st;
      }
    }
    return Status::OK();
  }
  void OnWritten(const Status& written) override {
    for (CommitHook* h : hooks_) h->OnWritten(written);
  }

 private:
  std::vector<CommitHook*> hooks_;
};

}  // namespace kalam::commit
