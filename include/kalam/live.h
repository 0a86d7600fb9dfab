// Live queries over WebSocket: subscribe to a table's changes and receive them as a stream of
// events, with automatic reconnect and exact resume.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kalam/status.h"
#include "kalam/value.h"

namespace kalam::client {

// What to subscribe to (PROTOCOL.md §4 `subscription`).
struct SubscribeRequest {
  // Unique on the connection, 1 to 128 characters.
  std::string id;
  // SELECT <cols|*> FROM <ns>.<table> [WHERE <expr>].
  std::string sql;
  // Send the rows that match now (in `_seq` order) before the changes. Default false: changes
  // only. Implied by `last_rows` and `from`.
  bool initial_data = false;
  // Rows per initial batch; 0 = server default (1000).
  uint32_t batch_size = 0;
  // Only the newest N matching rows as initial data; 0 = all.
  uint32_t last_rows = 0;
  // Start after this `_seq`: rows changed since then, then live changes. Use it to continue a
  // subscription across process restarts (persist LiveConnection::last_seq()).
  std::optional<int64_t> from;

  // Parses the `subscription` object that `SUBSCRIBE TO …` returns over HTTP
  // ({"id":…,"sql":…,"options":{…}}). kInvalidArgument when it is not that shape.
  static Result<SubscribeRequest> FromJson(std::string_view json);
};

enum class LiveEventType {
  kSubscribed,    // the server accepted a subscription: `schema` is set
  kInitialRows,   // rows of the initial data (or, after a reconnect, rows changed meanwhile)
  kInsert,        // `rows` = the new row
  kUpdate,        // `rows` = PK + `_seq` + new non-null values, `old_rows` = PK + old values
                  // of the changed columns
  kDelete,        // `old_rows` = the deleted row, `_deleted` true
  kError,         // `error` is set; the subscription has ended (unless it was resubscribed)
  kDisconnected,  // the connection dropped (`error` says why); the client is reconnecting
  kReconnected,   // the connection is back; every subscription is resumed from its last `_seq`
};

// Stable upper-case name ("INSERT", "UPDATE", …) of an event type.
std::string_view LiveEventTypeName(LiveEventType type);

// One thing that happened on a live connection.
struct LiveEvent {
  LiveEventType type = LiveEventType::kError;
  std::string subscription_id;  // empty for kDisconnected / kReconnected
  std::vector<Column> schema;   // kSubscribed
  std::vector<LiveRow> rows;
  std::vector<LiveRow> old_rows;
  // Highest `_seq` carried by the event (0 for events without rows).
  int64_t seq = 0;
  // kInitialRows: true on the last batch of the initial data.
  bool ready = false;
  // Delivered by a resume after a reconnect (rows and deletes the client missed), before the
  // resume caught up with the server. Catch-up or not, each subscription's events arrive in
  // strictly increasing `seq`.
  bool catch_up = false;
  Status error;  // kError, kDisconnected
};

// Behaviour of a LiveConnection.
struct LiveOptions {
  // Ask for gzip binary frames for large messages (both kinds are always accepted).
  // Default true.
  bool compression = true;
  // Send {"type":"ping"} this often; the server closes connections silent for 10 s.
  // Default 4 s.
  std::chrono::milliseconds ping_interval{4000};
  // Reconnect when nothing (not even a pong) arrived for this long. Default 15 s.
  std::chrono::milliseconds idle_timeout{15000};
  // Deadline for connect + WebSocket handshake + auth_success. Default 10 s.
  std::chrono::milliseconds connect_timeout{10000};
  // Reconnect back-off: starts at the minimum, doubles, capped at the maximum.
  // Defaults 100 ms and 5 s.
  std::chrono::milliseconds reconnect_min_delay{100};
  std::chrono::milliseconds reconnect_max_delay{5000};
  // Consecutive failed connection attempts before giving up (then every subscription gets a
  // kError event and the connection is closed); -1 = never give up. Default -1.
  int max_reconnect_attempts = -1;
  // When the server ends an established subscription on its own (SUBSCRIBER_LAGGING, or
  // `KILL LIVE QUERY`), subscribe again from the last `_seq` instead of reporting kError.
  // Default true.
  bool resubscribe_on_server_close = true;
  // When set, every event is passed here (on the connection's own thread; keep it short) and
  // Next() returns nothing. Otherwise events are queued for Next().
  std::function<void(const LiveEvent&)> on_event;
};

// One WebSocket connection to /v1/ws carrying any number of subscriptions. It connects, keeps
// the connection alive with pings, and when it drops reconnects with back-off and resubscribes
// every subscription with `from` = the last `_seq` received (a subscription without initial data
// has one from its acknowledgement on): no event is lost or delivered twice. (The server
// coalesces what happened while the client was away: a row changed several times arrives once,
// with its newest version, as kInitialRows with catch_up set; rows deleted meanwhile arrive as
// kDelete with catch_up set, in `_seq` order among those rows.)
// Thread-safe: all methods may be called from any thread. Destroying it closes it.
class LiveConnection {
 public:
  ~LiveConnection();
  LiveConnection(const LiveConnection&) = delete;
  LiveConnection& operator=(const LiveConnection&) = delete;

  // Adds a subscription; it is sent now if connected, else on connect. kInvalidArgument for an
  // empty or duplicate id or empty SQL; kClosed after Close(). Server-side failures arrive as a
  // kError event.
  Status Subscribe(SubscribeRequest request);
  // Ends a subscription (no more events for it). kNotFound for an unknown id.
  Status Unsubscribe(const std::string& id);

  // Waits up to `timeout` for the next event. kTimeout when none came; kClosed once the
  // connection is closed and every queued event was returned. Not for use with on_event.
  Result<LiveEvent> Next(std::chrono::milliseconds timeout);

  // Closes the connection and ends every subscription. Idempotent; returns after the
  // connection's thread stopped (so on_event is never called after it).
  void Close();

  // True while a WebSocket is open and authenticated.
  bool connected() const;
  // Where subscription `id` stands: the largest `_seq` received for it (for a subscription
  // without initial data, at least the position its acknowledgement named); 0 if none or
  // unknown. A resume (or SubscribeRequest::from) from it loses and repeats nothing.
  int64_t last_seq(const std::string& id) const;
  // How many times the connection was re-established.
  uint64_t reconnects() const;

  class Impl;  // implementation detail

 private:
  friend class Client;
  explicit LiveConnection(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace kalam::client
