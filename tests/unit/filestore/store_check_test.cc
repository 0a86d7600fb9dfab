// Tests for RunStoreCheck (STORAGE CHECK) over a store that misbehaves on purpose: the failing
// step is named, the probe is removed after a failure, and a probe that cannot be removed is
// reported in the same error rather than left behind silently.
#include "filestore/store_check.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "filestore/object_store.h"

namespace kalam::filestore {
namespace {

// An in-memory ObjectStore whose reads can return altered bytes and whose deletes can fail.
class FlakyStore final : public ObjectStore {
 public:
  bool corrupt_reads = false;
  bool fail_deletes = false;

  Status Put(std::string_view key, std::string_view data) override {
    std::lock_guard lock(mu_);
    objects_[std::string(key)] = std::string(data);
    return Status::OK();
  }
  Result<std::string> Get(std::string_view key) override {
    std::lock_guard lock(mu_);
    auto it = objects_.find(std::string(key));
    if (it == objects_.end()) return Status::NotFound("no object");
    return corrupt_reads ? it->second + "!" : it->second;
  }
  Status Delete(std::string_view key) override {
    if (fail_deletes) return Status::IoError("permission denied");
    std::lock_guard lock(mu_);
    objects_.erase(std::string(key));
    return Status::OK();
  }
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    std::lock_guard lock(mu_);
    std::vector<ObjectInfo> out;
    for (const auto& [k, v] : objects_) {
      if (k.starts_with(prefix)) out.push_back({k, v.size()});
    }
    return out;
  }
  Status Check() override { return RunStoreCheck(*this); }
  std::string Describe(std::string_view key) const override { return "mem://" + std::string(key); }

  size_t size() {
    std::lock_guard lock(mu_);
    return objects_.size();
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> objects_;
};

// Runs the check on a FlakyStore set up so; `left` gets how many objects remain afterwards.
Status CheckWith(bool corrupt_reads, bool fail_deletes, size_t* left) {
  FlakyStore store;
  store.corrupt_reads = corrupt_reads;
  store.fail_deletes = fail_deletes;
  Status st = store.Check();
  *left = store.size();
  return st;
}

// `st` is the failure of step `step`, whose message ends with `end`.
void ExpectFailedAt(const Status& st, const std::string& step, const std::string& end) {
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  const std::string start = "storage check failed at " + step + " (mem://.kalam-check/probe-";
  EXPECT_EQ(st.message().rfind(start, 0), 0u) << st.message();
  ASSERT_GE(st.message().size(), end.size());
  EXPECT_EQ(st.message().substr(st.message().size() - end.size()), end) << st.message();
}

TEST(StoreCheckTest, ReportsWhichStepsPassed) {
  FlakyStore good;
  StoreCheckSteps steps;
  EXPECT_TRUE(RunStoreCheck(good, &steps).ok());
  EXPECT_TRUE(steps.writable && steps.readable && steps.listable && steps.deletable);
  FlakyStore corrupt;
  corrupt.corrupt_reads = true;
  EXPECT_FALSE(RunStoreCheck(corrupt, &steps).ok());
  EXPECT_TRUE(steps.writable);
  EXPECT_FALSE(steps.readable || steps.listable || steps.deletable);
  FlakyStore undeletable;
  undeletable.fail_deletes = true;
  EXPECT_FALSE(RunStoreCheck(undeletable, &steps).ok());
  EXPECT_TRUE(steps.writable && steps.readable && steps.listable);
  EXPECT_FALSE(steps.deletable);
}

TEST(StoreCheckTest, PassesOnAWorkingStoreAndLeavesNothing) {
  size_t left = 99;
  Status st = CheckWith(false, false, &left);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(left, 0u);
}

TEST(StoreCheckTest, AFailedReadRemovesTheProbe) {
  size_t left = 99;
  // Nothing appended after the cause: the removal worked.
  ExpectFailedAt(CheckWith(true, false, &left), "read", " bytes)");
  EXPECT_EQ(left, 0u);
}

TEST(StoreCheckTest, AProbeThatCannotBeRemovedAfterAFailedReadIsReported) {
  size_t left = 0;
  ExpectFailedAt(CheckWith(true, true, &left), "read",
                 "; the probe object could not be removed either: permission denied");
  EXPECT_EQ(left, 1u);
}

TEST(StoreCheckTest, AFailedDeleteIsTheDeleteStep) {
  size_t left = 0;
  ExpectFailedAt(CheckWith(false, true, &left), "delete", "): permission denied");
  EXPECT_EQ(left, 1u);
}

}  // namespace
}  // namespace kalam::filestore
