// InlineReads: which SQL requests run on the HTTP I/O thread that parsed them instead of being
// handed to the worker pool (docs/architecture.md "Request path"). Handing a request to a worker
// and its response back costs two thread wake-ups, more than a cached point SELECT itself; a
// statement text that has proved short runs where it was parsed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace kalam::api {

// Thread-safe. A request may run inline only when all of these hold:
//  - its text is one SELECT (IsSingleSelect: no ';' before the end, so never a batch with a
//    write or a COMMIT in it);
//  - the same text, in the same namespace, ran at least `min_fast_runs` times in a row in at most
//    `max_run` each (timed around the executor, wherever it ran); one longer run sends the text
//    back to the worker pool until it has proved short again;
//  - fewer than `max_concurrent` requests are running inline (the server allows one per I/O
//    thread);
//  - a pooled SQLite connection is free (the caller uses Executor::TryExecute).
// An inline run is given budget() (kBudgetRuns × max_run): a statement still running then is
// cancelled and run again on a worker (it is one SELECT: nothing was written), so a text that
// turns long — whatever its parameters — holds its I/O thread for about the budget, not for the
// request time limit.
// Everything else — writes, batches, long or new statements — keeps going to the workers.
class InlineReads {
 public:
  struct Options {
    // Requests that may run inline at once. Must be >= 1.
    size_t max_concurrent = 1;
    // Longest run that still counts as short.
    std::chrono::microseconds max_run{250};
    // Short runs in a row a text needs before it runs inline.
    uint32_t min_fast_runs = 3;
    // Texts remembered; when full, the history starts over.
    size_t max_texts = 4096;
  };

  // Held while a request runs inline; frees its place when destroyed. Move-only.
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Ticket& operator=(Ticket&&) = delete;
    Ticket(const Ticket&) = delete;
    ~Ticket() {
      if (owner_) owner_->running_.fetch_sub(1);
    }

   private:
    friend class InlineReads;
    explicit Ticket(InlineReads* owner) : owner_(owner) {}
    InlineReads* owner_;
  };

  // budget() in units of max_run: enough slack that a statement near max_run is not cancelled.
  static constexpr int kBudgetRuns = 4;

  explicit InlineReads(Options options) : options_(options) {}

  // True when `sql` is one SELECT statement: optional whitespace, the keyword SELECT (any case)
  // followed by a non-identifier character, and no ';' except trailing ones (with whitespace).
  // Comments and WITH are not recognised (such requests just stay on the workers).
  static bool IsSingleSelect(std::string_view sql);

  // The history key of `sql` run in namespace `namespace_id` (as the request gave it).
  static uint64_t Key(std::string_view namespace_id, std::string_view sql);

  // A ticket when the text `key` (of an IsSingleSelect request) may run inline now.
  std::optional<Ticket> Admit(uint64_t key);

  // Records one run of the text `key`, inline or on a worker, that took `took`.
  void Record(uint64_t key, std::chrono::nanoseconds took);

  // How long an inline run may take before it is cancelled and handed to the workers.
  std::chrono::microseconds budget() const { return options_.max_run * kBudgetRuns; }

  // Requests running inline now (a snapshot, for tests and metrics).
  size_t running() const { return running_.load(); }

 private:
  const Options options_;
  std::atomic<size_t> running_{0};
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, uint32_t> fast_runs_;  // guarded by mu_: short runs in a row
};

}  // namespace kalam::api
