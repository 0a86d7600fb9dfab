// SubscriptionState: the delivery bookkeeping of one live subscription — which server messages
// become events, which are duplicates, and where a resubscription must start so that nothing is
// lost. No I/O: the connection feeds it messages and sends what it returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "kalam/live.h"

namespace kalam::client {

// Resume correctness rests on one number, last_seq: the largest `_seq` received. The server
// delivers everything of a subscription (snapshot rows, replayed deletes, changes) in strictly
// increasing `_seq`, and a changes-only subscription's ack names its read point (PROTOCOL.md §4),
// so a resume with `from` = last_seq loses and doubles nothing, wherever the connection was cut;
// anything at or below it is a duplicate.
// Not thread-safe: LiveConnection guards it with its mutex.
class SubscriptionState {
 public:
  explicit SubscriptionState(SubscribeRequest request);

  const SubscribeRequest& request() const { return request_; }
  int64_t last_seq() const { return last_seq_; }
  // Whether a subscribe message is out on the current connection.
  bool sent() const { return sent_; }
  // Counts subscribe messages, so a delayed resubscription can tell it was overtaken.
  uint64_t attempt() const { return attempt_; }
  // The connection dropped: the next connection must subscribe again.
  void MarkUnsent() {
    sent_ = false;
    acked_ = false;
  }

  // The subscribe message for a new server-side subscription: the request as given until the
  // subscription has a position (a caller-given `from`, a changes-only ack, a row or an event),
  // then a resume with `from` = last_seq. Resets the per-connection state.
  std::string NextSubscribeMessage();

  // Handlers of the server's messages for this subscription. Events to deliver are appended to
  // `events`; messages to send back (next_batch) to `replies`.
  void OnAck(const boost::json::object& msg, std::vector<LiveEvent>* events);
  void OnBatch(const boost::json::object& msg, std::vector<LiveEvent>* events,
               std::vector<std::string>* replies);
  void OnChange(const boost::json::object& msg, std::vector<LiveEvent>* events);

  // The server ended the subscription with error `code`. Returns how long to wait before
  // subscribing again (zero: at once), or nothing when the subscription is over: it never
  // worked, the option is off, the code is not a server-side close, or it failed too often
  // without an acknowledgement in between.
  std::optional<std::chrono::milliseconds> OnServerClose(std::string_view code,
                                                         const LiveOptions& options);

 private:
  // Takes `seq` as received; false when it is a duplicate (at or below last_seq).
  bool Advance(int64_t seq);

  SubscribeRequest request_;
  std::vector<Column> schema_;
  bool sent_ = false;          // subscribe sent on the current connection
  bool acked_ = false;         // acknowledged on the current connection
  bool ever_acked_ = false;
  int64_t last_seq_ = 0;
  bool positioned_ = false;    // last_seq_ is where a resume starts
  bool changes_only_ = false;  // the current server-side subscription has no initial data
  bool resuming_ = false;      // the current one is a resume that has not sent `ready` yet
  int failures_since_ack_ = 0; // server-side closes without an ack in between
  uint64_t attempt_ = 0;
};

}  // namespace kalam::client
