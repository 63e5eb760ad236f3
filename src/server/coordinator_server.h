#pragma once

#include <asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/async.h"
#include "common/config/config.h"
#include "common/status.h"
#include "server/listeners.h"

namespace strom::zk {
class ZkClient;
class ZkMetadataStore;
class CoordinatorElection;
}  // namespace strom::zk
namespace strom::coordinator {
class ClusterController;
class CoordinatorService;
}  // namespace strom::coordinator
namespace strom::rpc {
class Server;
}

namespace strom::server {

/// What `strom-server coordinator` runs with.
struct CoordinatorServerOptions {
  /// `server.yaml` values (Fluss option names; `zookeeper.address` is required).
  config::Configuration config;
  /// Override the listener (`bind.listeners`, default 127.0.0.1:9123).
  std::optional<std::string> host;
  std::optional<uint16_t> port;
};

/// The coordinator process of a distributed cluster (Fluss `CoordinatorServer`): a ZooKeeper
/// session, the metadata store in Fluss's znode layout, the ClusterController (the cluster
/// state and its event loop), the coordinator's RPC handlers (DDL, metadata, AdjustIsr,
/// ControlledShutdown) and the election. Several may run: one is active, the others wait as
/// standbys (they refuse DDL with NOT_COORDINATOR_LEADER) and take over when the active one's
/// session ends.
///
/// Lifecycle: Start() (ZooKeeper, store, listener, election) fails without leaving anything
/// running; Stop() resigns (a standby takes over at once), drains the listener, closes the
/// tablet-server connections and the session. Thread: everything on `io`'s thread.
/// Ownership: owns every component.
class CoordinatorServer {
 public:
  CoordinatorServer(asio::io_context& io, CoordinatorServerOptions options);
  ~CoordinatorServer();

  Task<Status> Start();
  Task<void> Stop();

  uint16_t port() const;
  const std::string& host() const { return bound_.host; }
  bool active() const;
  /// How many tablet servers this coordinator knows to be alive (0 unless active).
  size_t live_tablet_servers() const;

 private:
  asio::io_context& io_;
  CoordinatorServerOptions options_;
  Endpoint bound_;
  std::unique_ptr<zk::ZkClient> zk_;
  std::unique_ptr<zk::ZkMetadataStore> store_;
  std::unique_ptr<coordinator::ClusterController> controller_;
  std::unique_ptr<coordinator::CoordinatorService> service_;
  std::unique_ptr<rpc::Server> rpc_server_;
  std::unique_ptr<zk::CoordinatorElection> election_;
  bool started_ = false;
};

}  // namespace strom::server
