// SubscriptionState: the delivery bookkeeping of one live subscription — which server messages
// become events, which are duplicates, and where a resubscription must start so that nothing is
// lost. No I/O: the connection feeds it messages and sends what it returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "kalam/live.h"

namespace kalam::client {

// Resume correctness rests on three numbers:
//   last_seq — the highest `_seq` delivered; anything at or below it is a duplicate, except the
//              deletes a resume replays after its rows;
//   cursor   — every event at or below it was delivered, so a resume starts here. It trails
//              last_seq during a resume's catch-up, because the catch-up's deletes come after its
//              rows and may have smaller `_seq`s: if the connection drops in between, the next
//              resume must start early enough to still get them;
//   catch_up_deletes — the deletes delivered above `cursor`, so a repeated catch-up does not
//              deliver them twice.
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

  // The subscribe message for a new server-side subscription: the request as given the first
  // time, then a resume with `from` = the cursor (or, before anything was delivered, a moment
  // `clock_slack` before the first acknowledgement). Resets the per-connection state.
  std::string NextSubscribeMessage(std::chrono::milliseconds clock_slack);

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
  SubscribeRequest request_;
  std::vector<Column> schema_;
  bool sent_ = false;            // subscribe sent on the current connection
  bool acked_ = false;           // acknowledged on the current connection
  bool ever_acked_ = false;
  int64_t acked_at_ms_ = 0;      // wall clock of the first ack
  int64_t last_seq_ = 0;
  int64_t cursor_ = 0;
  std::set<int64_t> catch_up_deletes_;
  int64_t floor_ = 0;            // `from` of the current server-side subscription
  bool resuming_ = false;        // the current server-side subscription is a resume
  bool catching_up_ = false;     // resuming, and no live insert/update seen yet
  bool resume_deletes_ = false;  // the resume's last batch arrived: its deletes follow
  int failures_since_ack_ = 0;   // server-side closes without an ack in between
  uint64_t attempt_ = 0;
};

}  // namespace kalam::client
