#pragma once

// The gtest fixture the cluster process tests share: a ClusterHarness in a temporary folder
// named after the test (removed when the test passed), a C++ client connection made on first
// use, and a bounded poll.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "integration/cluster_harness.h"
#include "strom/client.h"

namespace strom::testing {

/// Polls `done` every 200 ms until it holds or `bound` has passed; true when it held.
inline bool Eventually(const std::function<bool()>& done, std::chrono::seconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return done();
}

class ClusterTest : public ::testing::Test {
 protected:
  /// Starts the cluster of `options` (the `strom-server` binary and the folder filled in:
  /// `{tmp}/{prefix}-{pid}-{test name}`). Fails the test when it does not start.
  void StartCluster(const std::string& prefix, ClusterHarness::Options options) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    options.server_binary = STROM_SERVER_BIN;
    options.dir = std::filesystem::temp_directory_path() /
                  (prefix + "-" + std::to_string(::getpid()) + "-" + info->name());
    dir_ = options.dir;
    cluster_ = std::make_unique<ClusterHarness>(options);
    std::string why;
    ASSERT_TRUE(cluster_->Start(&why)) << why;
  }

  void TearDown() override {
    connection_.reset();
    cluster_.reset();
    if (!HasFailure() && !dir_.empty()) std::filesystem::remove_all(dir_);
  }

  /// The test's client connection, bootstrapped from the running tablet servers.
  Connection& Conn() {
    if (connection_ == nullptr) {
      ClientConfig config;
      config.bootstrap_servers = cluster_->bootstrap();
      config.request_timeout = std::chrono::seconds(10);
      auto conn = Connection::Create(config);
      EXPECT_TRUE(conn.ok()) << conn.status().ToString();
      if (conn.ok()) connection_ = std::move(*conn);
    }
    return *connection_;
  }

  std::filesystem::path dir_;
  std::unique_ptr<ClusterHarness> cluster_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace strom::testing
