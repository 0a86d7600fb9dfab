// LiveWsApplication: the live-query service behind `/v1/ws` — turns subscribe / next_batch /
// unsubscribe messages into LiveManager calls on the worker pool, one connection's messages in
// order.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "api/ws_transport.h"
#include "live/live_manager.h"
#include "common/thread_pool.h"

namespace kalam::api {

// Thread-safe.
class LiveWsApplication : public WsApplication {
 public:
  LiveWsApplication(live::LiveManager& live, ThreadPool& workers)
      : live_(live), workers_(workers) {}

  void OnOpen(const std::shared_ptr<WsConnection>& conn) override;
  void OnMessage(const std::shared_ptr<WsConnection>& conn, boost::json::object message) override;
  void OnClose(uint64_t connection_id) override;

 private:
  // Work for one connection, run on the worker pool strictly in arrival order.
  struct Lane {
    std::mutex mu;
    std::deque<std::function<void()>> tasks;  // guarded by mu
    bool running = false;                      // guarded by mu
  };
  void Enqueue(uint64_t connection_id, std::function<void()> task);
  void Handle(const std::shared_ptr<WsConnection>& conn, const boost::json::object& message);

  live::LiveManager& live_;
  ThreadPool& workers_;
  std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Lane>> lanes_;  // guarded by mu_
};

}  // namespace kalam::api
