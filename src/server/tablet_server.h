#pragma once

#include <asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/async.h"
#include "common/config/config.h"
#include "common/ids.h"
#include "common/status.h"
#include "server/listeners.h"

namespace strom::zk {
class ZkClient;
class ZkMetadataStore;
class EphemeralNode;
enum class SessionEvent;
}  // namespace strom::zk
namespace strom::replica {
class ReplicaManager;
}
namespace strom::coordinator {
class CoordinatorService;
}
namespace strom::tablet {
class TabletService;
class TabletControlService;
class MetadataCache;
class CoordinatorIsrChannel;
}  // namespace strom::tablet
namespace strom::rpc {
class Server;
}

namespace strom::server {

/// What `strom-server tablet` runs with.
struct TabletServerOptions {
  /// `server.yaml` values (Fluss option names; `zookeeper.address` is required).
  config::Configuration config;
  /// Overrides `tablet-server.id` (one of them is required).
  std::optional<int32_t> id;
  /// Override `data.dir` and the listener (`bind.listeners`, default 127.0.0.1, free port).
  std::optional<std::string> data_dir;
  std::optional<std::string> host;
  std::optional<uint16_t> port;
  /// How long Stop() tries to move this server's leaderships away first.
  SteadyClock::duration controlled_shutdown_timeout = std::chrono::seconds(10);
};

/// A tablet server of a distributed cluster (Fluss `TabletServer`): a ZooKeeper session, the
/// metadata store (table definitions), the ReplicaManager in cluster mode (buckets open when
/// the coordinator names their leader), the client data handlers (TabletService), the
/// coordinator's requests (TabletControlService: NotifyLeaderAndIsr, StopReplica,
/// UpdateMetadata into a MetadataCache), the read-only admin and Metadata handlers (answered
/// from the cache and the store), AdjustIsr towards the active coordinator, and the
/// registration at `/tabletservers/ids/{id}` (re-created on a new session). Losing the
/// ZooKeeper session fences the server: it stops leading every bucket until the coordinator
/// names it leader again with a newer leader epoch (ReplicaManager::FenceLeadership).
///
/// Lifecycle: Start() brings components up in dependency order and registers last (the
/// coordinator may call at once); Stop() first asks the coordinator to move leaderships away
/// (ControlledShutdown, bounded), unregisters, drains the listener, stops the replicas and
/// closes the session. Thread: `io`'s thread. Ownership: owns
/// every component.
class TabletServer {
 public:
  TabletServer(asio::io_context& io, TabletServerOptions options);
  ~TabletServer();

  Task<Status> Start();
  Task<void> Stop();

  ServerId id() const { return id_; }
  uint16_t port() const;
  const std::string& host() const { return bound_.host; }
  const std::string& data_dir() const { return data_dir_; }

 private:
  class CacheView;
  Task<void> MoveLeadershipAway();
  /// Session expiry fences every leadership (ReplicaManager::FenceLeadership); a new session
  /// allows leadership again.
  void OnSessionEvent(zk::SessionEvent event);

  asio::io_context& io_;
  TabletServerOptions options_;
  ServerId id_{-1};
  std::string data_dir_;
  Endpoint bound_;
  std::unique_ptr<zk::ZkClient> zk_;
  std::unique_ptr<zk::ZkMetadataStore> store_;
  std::unique_ptr<tablet::MetadataCache> cache_;
  std::unique_ptr<CacheView> view_;
  std::unique_ptr<tablet::CoordinatorIsrChannel> isr_channel_;
  std::unique_ptr<replica::ReplicaManager> replicas_;
  std::unique_ptr<tablet::TabletService> tablet_;
  std::unique_ptr<tablet::TabletControlService> control_;
  std::unique_ptr<coordinator::CoordinatorService> admin_reads_;
  std::unique_ptr<rpc::Server> rpc_server_;
  std::unique_ptr<zk::EphemeralNode> registration_;
  int session_listener_ = 0;
  bool started_ = false;
};

}  // namespace strom::server
