#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"

namespace strom::zk {

/// A standalone ZooKeeper server from Debian's `zookeeper` package (the jars in
/// /usr/share/java, run with `java`) as a child process in its own process group, listening
/// on loopback: what `strom-server local --tablet-servers N` and the integration tests use.
///
/// Lifecycle: Start() launches it and waits (bounded) until it answers the `srvr` command;
/// Stop() (SIGTERM) or Kill() (SIGKILL) end it, Restart() brings it back on the same port
/// with the same data (sessions survive a restart that is shorter than their timeout); the
/// destructor kills it and removes the data directory if Start() made a temporary one.
/// Threads: not thread-safe; owned by one user.
class ZooKeeperProcess {
 public:
  struct Options {
    /// ZooKeeper's tick; sessions may last 2..20 ticks.
    std::chrono::milliseconds tick{200};
    std::chrono::milliseconds start_timeout{60000};
    /// Where its configuration, data and log live; empty: a fresh temporary directory,
    /// removed by the destructor.
    std::string dir;
    /// The loopback port; 0: a free one.
    uint16_t port = 0;
  };

  /// kUnknownServerError when the server did not come up in time (its log is in the
  /// message).
  static Result<std::unique_ptr<ZooKeeperProcess>> Start(Options options);
  static Result<std::unique_ptr<ZooKeeperProcess>> Start() { return Start(Options()); }

  ~ZooKeeperProcess();
  ZooKeeperProcess(const ZooKeeperProcess&) = delete;
  ZooKeeperProcess& operator=(const ZooKeeperProcess&) = delete;

  /// "127.0.0.1:PORT", the connect string of clients.
  std::string address() const;
  uint16_t port() const { return port_; }
  const std::string& data_dir() const { return launch_dir_; }
  bool running() const { return pid_ > 0; }

  /// Ends the server gracefully (SIGTERM), waiting for it to exit.
  void Stop();
  /// Ends the server at once (SIGKILL).
  void Kill();
  /// Starts it again on the same port and data.
  Status Restart();

  /// Runs one four-letter command ("srvr", "ruok", "cons") and returns the answer; empty
  /// when the server does not answer.
  std::string FourLetterCommand(const std::string& command) const;

 private:
  ZooKeeperProcess(Options options, std::string owned_dir, uint16_t port);
  Status Launch(const std::string& dir);
  void Terminate(int signal);

  Options options_;
  /// The temporary directory this object removes at destruction (empty: none).
  std::string dir_;
  /// Where the server runs.
  std::string launch_dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace strom::zk
