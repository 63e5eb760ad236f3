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

#include "zk/testing/zookeeper_server.h"

namespace strom::testing {

using zk::testing::ZooKeeperServer;

/// One `strom-server` child process (any subcommand), ready once it printed a line matching
/// `ready` whose first group is its port. Stderr goes to `log_path`.
/// Lifecycle: Start() forks, execs and waits (bounded); the destructor SIGKILLs and reaps.
/// Not thread-safe; owned by one test.
class ChildServer {
 public:
  ~ChildServer() { Kill(); }

  static std::unique_ptr<ChildServer> Start(std::vector<std::string> args, const std::regex& ready,
                                            const std::string& log_path,
                                            std::chrono::milliseconds timeout) {
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int fds[2];
    if (::pipe(fds) != 0) return nullptr;
    pid_t pid = ::fork();
    if (pid < 0) return nullptr;
    if (pid == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (log >= 0) ::dup2(log, STDERR_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    std::unique_ptr<ChildServer> child(new ChildServer(pid, fds[0]));
    if (!child->AwaitReady(ready, timeout)) return nullptr;
    return child;
  }

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  bool running() const { return pid_ > 0; }

  /// SIGKILL (a crash) and reap; idempotent.
  void Kill() { Signal(SIGKILL, std::chrono::seconds(30)); }
  /// SIGTERM (graceful stop) and reap within `bound` (SIGKILL after it); returns the exit
  /// status, or -1 when it had to be killed.
  int Terminate(std::chrono::milliseconds bound = std::chrono::seconds(30)) {
    return Signal(SIGTERM, bound);
  }

 private:
  ChildServer(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}

  int Signal(int signal, std::chrono::milliseconds bound) {
    int result = -1;
    if (pid_ > 0) {
      ::kill(pid_, signal);
      auto deadline = std::chrono::steady_clock::now() + bound;
      int status = 0;
      while (true) {
        pid_t done = ::waitpid(pid_, &status, WNOHANG);
        if (done == pid_) {
          result = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
          break;
        }
        if (std::chrono::steady_clock::now() > deadline) {
          ::kill(pid_, SIGKILL);
          ::waitpid(pid_, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      pid_ = -1;
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
    return result;
  }

  bool AwaitReady(const std::regex& ready, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string buffer;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd pfd{out_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      char chunk[256];
      ssize_t n = ::read(out_fd_, chunk, sizeof(chunk));
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(n));
      size_t newline = buffer.find('\n');
      if (newline == std::string::npos) continue;
      std::smatch match;
      std::string line = buffer.substr(0, newline);
      if (!std::regex_match(line, match, ready)) return false;
      port_ = static_cast<uint16_t>(std::stoi(match[1].str()));
      return true;
    }
    return false;
  }

  pid_t pid_;
  int out_fd_;
  uint16_t port_ = 0;
};

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

  /// Starts (or restarts) tablet server `id` on a free port with its own data directory.
  bool StartTablet(int id) {
    static const std::regex kReady(R"(strom-server tablet \d+ ready on 127\.0\.0\.1:(\d+) .*)");
    std::string data = (options_.dir / ("ts-" + std::to_string(id))).string();
    auto child = ChildServer::Start(
        {options_.server_binary, "tablet", "--id", std::to_string(id), "--config", config_path_,
         "--data-dir", data, "--port", "0", "--log-level", options_.log_level},
        kReady, LogPath("ts-" + std::to_string(id)), options_.start_timeout);
    if (child == nullptr) return false;
    tablets_[id] = std::move(child);
    return true;
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
};

}  // namespace strom::testing
