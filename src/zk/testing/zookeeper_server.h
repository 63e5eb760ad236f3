#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"

namespace strom::zk::testing {

/// A standalone ZooKeeper server from Debian's `zookeeper` package (the jars in
/// /usr/share/java, run with `java`), for integration tests: its own process group, a free
/// loopback port, a temporary data directory.
///
/// Lifecycle: Start() launches it and waits (bounded) until it answers the `srvr` command;
/// Stop() (SIGTERM) or Kill() (SIGKILL) end it, Restart() brings it back on the same port
/// with the same data (sessions survive a restart that is shorter than their timeout); the
/// destructor kills it and removes the data directory.
/// Threads: not thread-safe; owned by one test (or one test environment).
class ZooKeeperServer {
 public:
  struct Options {
    /// ZooKeeper's tick; sessions may last 2..20 ticks.
    std::chrono::milliseconds tick{200};
    std::chrono::milliseconds start_timeout{60000};
  };

  /// kUnknownServerError when the server did not come up in time (its log is in the
  /// message).
  static Result<std::unique_ptr<ZooKeeperServer>> Start(Options options);
  static Result<std::unique_ptr<ZooKeeperServer>> Start() { return Start(Options()); }

  ~ZooKeeperServer();
  ZooKeeperServer(const ZooKeeperServer&) = delete;
  ZooKeeperServer& operator=(const ZooKeeperServer&) = delete;

  /// "127.0.0.1:PORT", the connect string of clients.
  std::string address() const;
  uint16_t port() const { return port_; }
  const std::string& data_dir() const { return dir_; }
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
  ZooKeeperServer(Options options, std::string dir, uint16_t port);
  Status Launch();
  void Terminate(int signal);

  Options options_;
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace strom::zk::testing

namespace strom::zk::testing {

/// Ends the session `session_id` on the server at `address` from outside, the way a long
/// network partition does: a second handle attaches to the session with its password and
/// closes it. The original client sees kExpired when it next talks to the server.
Status ExpireSession(const std::string& address, int64_t session_id,
                     const std::string& password);

}  // namespace strom::zk::testing
