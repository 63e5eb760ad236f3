#pragma once

// A distributed Strom cluster for process-level tests: a real ZooKeeper (Debian's, through
// src/zk/testing), coordinators and tablet servers as separate `strom-server` processes on
// loopback, each killable (SIGKILL, a crash) or stoppable (SIGTERM) and restartable.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "integration/child_server.h"
#include "zk/testing/zookeeper_server.h"

namespace strom::testing {

using zk::testing::ZooKeeperServer;

/// ZooKeeper + coordinators + tablet servers. Tablet server `i` keeps its data directory
/// (`{dir}/ts-{i}`) across restarts. Logs of every process are in `{dir}/*.log`.
/// Not thread-safe; owned by one test.
class ClusterHarness {
 public:
  struct Options {
    std::string server_binary;
    std::filesystem::path dir;
    int tablet_servers = 3;
    int default_replication_factor = 3;
    /// ZooKeeper session timeout of every server: how fast a killed server is noticed.
    std::string session_timeout = "3 s";
    std::string log_level = "info";
    std::chrono::milliseconds start_timeout{30000};
    /// More `server.yaml` lines (key, value) for every server, e.g.
    /// {"log.replica.min-in-sync-replicas-number", "2"}.
    std::vector<std::pair<std::string, std::string>> extra_config;
    /// A restarted tablet server listens on the port it had before (as a real deployment's
    /// does), so clients' bootstrap addresses stay valid however often servers restart.
    bool restart_on_same_port = false;
  };

  explicit ClusterHarness(Options options) : options_(std::move(options)) {}
  ~ClusterHarness() {
    tablets_.clear();
    coordinators_.clear();
    zookeeper_.reset();
  }

  /// ZooKeeper, one coordinator, then the tablet servers. False (with a reason) on failure.
  bool Start(std::string* why) {
    std::filesystem::remove_all(options_.dir);
    std::filesystem::create_directories(options_.dir);
    auto zk = ZooKeeperServer::Start();
    if (!zk.ok()) {
      *why = zk.status().ToString();
      return false;
    }
    zookeeper_ = std::move(zk).value();
    config_path_ = (options_.dir / "server.yaml").string();
    std::ofstream config(config_path_);
    config << "zookeeper.address: " << zookeeper_->address() << "\n"
           << "zookeeper.path.root: /strom-it\n"
           << "zookeeper.client.session-timeout: " << options_.session_timeout << "\n"
           << "zookeeper.client.retry-wait: 200 ms\n"
           << "default.replication.factor: " << options_.default_replication_factor << "\n"
           << "default.bucket.number: 3\n";
    for (const auto& [key, value] : options_.extra_config) config << key << ": " << value << "\n";
    config.close();
    if (StartCoordinator() < 0) {
      *why = "coordinator did not start (see " + LogPath("coordinator-0") + ")";
      return false;
    }
    for (int i = 0; i < options_.tablet_servers; ++i) {
      if (!StartTablet(i)) {
        *why = "tablet server " + std::to_string(i) + " did not start (see " +
               LogPath("ts-" + std::to_string(i)) + ")";
        return false;
      }
    }
    return true;
  }

  /// Starts another coordinator (a standby while one is active); returns its index or -1.
  int StartCoordinator() {
    int index = static_cast<int>(coordinators_.size());
    static const std::regex kReady(R"(strom-server coordinator ready on 127\.0\.0\.1:(\d+))");
    auto child = ChildServer::Start({options_.server_binary, "coordinator", "--config", config_path_,
                                     "--port", "0", "--log-level", options_.log_level},
                                    kReady, LogPath("coordinator-" + std::to_string(index)),
                                    options_.start_timeout);
    if (child == nullptr) return -1;
    coordinators_.push_back(std::move(child));
    return index;
  }

  /// Starts (or restarts) tablet server `id` on a free port with its own data directory,
  /// with the cluster's `server.yaml` or the given one (e.g. WriteConfig's copy with another
  /// `zookeeper.address`).
  bool StartTablet(int id, const std::string& config_path = "") {
    static const std::regex kReady(R"(strom-server tablet \d+ ready on 127\.0\.0\.1:(\d+) .*)");
    std::string data = (options_.dir / ("ts-" + std::to_string(id))).string();
    std::string port = "0";
    if (auto it = ports_.find(id); options_.restart_on_same_port && it != ports_.end()) {
      port = std::to_string(it->second);
    }
    const std::string& config = config_path.empty() ? config_path_ : config_path;
    auto child = ChildServer::Start(
        {options_.server_binary, "tablet", "--id", std::to_string(id), "--config", config,
         "--data-dir", data, "--port", port, "--log-level", options_.log_level},
        kReady, LogPath("ts-" + std::to_string(id)), options_.start_timeout);
    if (child == nullptr) return false;
    ports_[id] = child->port();
    tablets_[id] = std::move(child);
    return true;
  }

  /// Writes `{dir}/{name}.yaml`: the cluster's `server.yaml` with `key` set to `value`
  /// (replaced, or added); returns its path.
  std::string WriteConfig(const std::string& name, const std::string& key,
                          const std::string& value) {
    std::ifstream in(config_path_);
    std::string path = (options_.dir / (name + ".yaml")).string();
    std::ofstream out(path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(key + ":", 0) != 0) out << line << "\n";
    }
    out << key << ": " << value << "\n";
    return path;
  }

  ChildServer* tablet(int id) {
    auto it = tablets_.find(id);
    return it == tablets_.end() ? nullptr : it->second.get();
  }
  ChildServer* coordinator(int index) { return coordinators_.at(index).get(); }
  ZooKeeperServer& zookeeper() { return *zookeeper_; }
  const std::string& config_path() const { return config_path_; }
  std::string zk_root() const { return "/strom-it"; }

  /// Every running tablet server's address, comma-separated (a client bootstrap list).
  std::string bootstrap() const {
    std::string out;
    for (const auto& [id, child] : tablets_) {
      if (!child->running()) continue;
      if (!out.empty()) out += ",";
      out += child->address();
    }
    return out;
  }
  std::vector<int> running_tablets() const {
    std::vector<int> out;
    for (const auto& [id, child] : tablets_) {
      if (child->running()) out.push_back(id);
    }
    return out;
  }

  std::string LogPath(const std::string& name) const {
    return (options_.dir / (name + ".log")).string();
  }

 private:
  Options options_;
  std::unique_ptr<ZooKeeperServer> zookeeper_;
  std::string config_path_;
  std::vector<std::unique_ptr<ChildServer>> coordinators_;
  std::map<int, std::unique_ptr<ChildServer>> tablets_;
  std::map<int, uint16_t> ports_;
};

}  // namespace strom::testing
