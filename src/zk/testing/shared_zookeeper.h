#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "zk/testing/zookeeper_server.h"

namespace strom::zk::testing {

/// One ZooKeeper server shared by the tests of a binary, started on first use and killed at
/// exit. Tests isolate themselves with their own root path (UniqueRoot()); tests that stop
/// or restart a server start their own ZooKeeperServer instead.
inline ZooKeeperServer* SharedZooKeeper() {
  static std::unique_ptr<ZooKeeperServer> server = [] {
    // Ticks of 400 ms allow sessions of up to 8 s: room for a loaded test machine.
    ZooKeeperServer::Options options;
    options.tick = std::chrono::milliseconds(400);
    auto started = ZooKeeperServer::Start(options);
    if (!started.ok()) {
      ADD_FAILURE() << "cannot start ZooKeeper: " << started.status().ToString();
      return std::unique_ptr<ZooKeeperServer>();
    }
    return std::move(started).value();
  }();
  return server.get();
}

/// A root path no other test of this process uses ("/strom-test-N").
inline std::string UniqueRoot(const std::string& name) {
  static std::atomic<int> counter{0};
  return "/" + name + "-" + std::to_string(counter.fetch_add(1));
}

}  // namespace strom::zk::testing
