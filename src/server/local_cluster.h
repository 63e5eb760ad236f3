#pragma once

#include <asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/async.h"
#include "common/config/config.h"
#include "common/status.h"

namespace strom::zk {
class ZooKeeperProcess;
}

namespace strom::server {

class CoordinatorServer;
class TabletServer;

/// What `strom-server local --tablet-servers N` (N > 1) runs with.
struct LocalClusterOptions {
  /// `server.yaml` values (Fluss option names). When `zookeeper.address` is set, that
  /// ZooKeeper is used; otherwise one is started from Debian's `zookeeper` package as a child
  /// process with its data in `{data dir}/zookeeper`.
  config::Configuration config;
  std::optional<std::string> data_dir;
  /// The coordinator's listener (default 127.0.0.1:9123, the bootstrap address); tablet
  /// server i listens on the next free port after it.
  std::optional<std::string> host;
  std::optional<uint16_t> port;
  int32_t tablet_servers = 3;
};

/// A replicated cluster on one machine, for trying replication without writing
/// configuration files: ZooKeeper, one coordinator and N tablet servers (ids 0..N-1, data in
/// `{data dir}/tablet-server-{id}`), each server on its own loopback port, all served by
/// this process's reactor. `default.replication.factor` defaults to min(3, N). The servers
/// are the same classes `strom-server coordinator` and `strom-server tablet` run, talking to
/// each other over RPC as separate processes would.
///
/// Lifecycle: Start() brings up ZooKeeper, the coordinator, then the tablet servers, and
/// fails without leaving anything running; Stop() stops the tablet servers (controlled
/// shutdown), the coordinator, then ZooKeeper. Thread: `io`'s thread.
class LocalCluster {
 public:
  LocalCluster(asio::io_context& io, LocalClusterOptions options);
  ~LocalCluster();

  Task<Status> Start();
  Task<void> Stop();

  /// The coordinator's address (the bootstrap server), after Start.
  std::string bootstrap() const;
  std::string zookeeper_address() const { return zookeeper_address_; }
  const std::string& data_dir() const { return data_dir_; }
  /// "id@host:port" of every tablet server, after Start.
  std::vector<std::string> tablet_server_addresses() const;

 private:
  asio::io_context& io_;
  LocalClusterOptions options_;
  std::string data_dir_;
  std::string zookeeper_address_;
  std::unique_ptr<zk::ZooKeeperProcess> zookeeper_;
  std::unique_ptr<CoordinatorServer> coordinator_;
  std::vector<std::unique_ptr<TabletServer>> tablets_;
};

}  // namespace strom::server
