// KvMachine: the test StateMachine of the cluster tests (a key → value map with a digest).
#pragma once

#include <map>
#include <sstream>
#include <string>

#include "cluster/shard_router.h"
#include "cluster/state_machine.h"

namespace kalam::cluster {

// A replica's state: key → value from "key=value" commit-group payloads. Checks that entries
// arrive at increasing indices (not consecutive: configuration entries take indices too), so a
// repeat or a step back fails the test on the spot.
class KvMachine : public StateMachine {
 public:
  Status Apply(LogIndex index, const LogEntry& entry) override {
    if (index <= last_index_) {
      return Status::Internal("entry " + std::to_string(index) + " applied after " +
                              std::to_string(last_index_));
    }
    const size_t eq = entry.payload.find('=');
    if (eq == std::string::npos) return Status::InvalidArgument("bad payload " + entry.payload);
    kv_[entry.payload.substr(0, eq)] = entry.payload.substr(eq + 1);
    last_index_ = index;
    return Status::OK();
  }

  Result<std::string> Snapshot() override {
    std::string out = std::to_string(last_index_) + "\n";
    for (const auto& [k, v] : kv_) out += k + "=" + v + "\n";
    ++snapshots_taken_;
    return out;
  }

  Status Restore(std::string_view snapshot) override {
    std::istringstream in{std::string(snapshot)};
    std::string line;
    if (!std::getline(in, line)) return Status::Corruption("empty snapshot");
    last_index_ = std::stoull(line);
    kv_.clear();
    while (std::getline(in, line)) {
      const size_t eq = line.find('=');
      kv_[line.substr(0, eq)] = line.substr(eq + 1);
    }
    ++restores_;
    return Status::OK();
  }

  // The applied state as one number (the index is part of it: equal digests mean equal logs
  // applied, not only equal maps).
  uint64_t Digest() const {
    std::string all = std::to_string(last_index_) + "\n";
    for (const auto& [k, v] : kv_) all += k + "=" + v + "\n";
    return Fnv1a64(all);
  }

  const std::map<std::string, std::string>& kv() const { return kv_; }
  LogIndex last_index() const { return last_index_; }
  int restores() const { return restores_; }
  int snapshots_taken() const { return snapshots_taken_; }

 private:
  std::map<std::string, std::string> kv_;
  LogIndex last_index_ = 0;
  int restores_ = 0;
  int snapshots_taken_ = 0;
};

}  // namespace kalam::cluster
