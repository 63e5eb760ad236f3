#pragma once

#include <asio/io_context.hpp>
#include <asio/thread_pool.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "common/async.h"
#include "common/config/config.h"
#include "common/status.h"

namespace strom::metadata {
class EmbeddedMetadataStore;
}
namespace strom::replica {
class ReplicaManager;
}
namespace strom::coordinator {
class CoordinatorService;
}
namespace strom::tablet {
class TabletService;
}
namespace strom::rpc {
class Server;
}

namespace strom::server {

/// What `strom-server local` runs with.
struct LocalServerOptions {
  /// `server.yaml` values (Fluss option names).
  config::Configuration config;
  /// Overrides `data.dir` when set.
  std::optional<std::string> data_dir;
  /// Overrides the listener host / port (`bind.listeners`, default 127.0.0.1:9123, where a
  /// Fluss local cluster's coordinator listens). Port 0 picks a free port.
  std::optional<std::string> host;
  std::optional<uint16_t> port;

  /// The effective values.
  std::string DataDir() const;
  Result<std::pair<std::string, uint16_t>> Listener() const;
  /// `advertised.listeners` (first entry), when set: what Metadata tells clients to use.
  Result<std::optional<std::pair<std::string, uint16_t>>> Advertised() const;
};

/// A whole single-node cluster in one process on one port: the embedded metadata store, the
/// tablets (ReplicaManager), the coordinator and tablet-server handlers, and the RPC server
/// that serves both roles (ApiVersions without server_type, spec pitfall 7).
///
/// Lifecycle: Start() brings components up in dependency order (data dir, blocking pool,
/// metadata store, tablets, coordinator, RPC listener) and fails without leaving anything
/// running; Stop() takes them down in reverse (listener drains, tablets close cleanly, the
/// pool joins). Thread: Start/Stop and all serving run on `io`'s single thread; the pool runs
/// metadata fsyncs. Ownership: owns every component.
class LocalServer {
 public:
  /// Server id of the single node (coordinator and tablet server share it).
  static constexpr int32_t kServerId = 0;

  LocalServer(asio::io_context& io, LocalServerOptions options);
  ~LocalServer();

  Task<Status> Start();
  Task<void> Stop();

  /// The bound port (after Start).
  uint16_t port() const;
  const std::string& host() const { return host_; }
  const std::string& data_dir() const { return data_dir_; }

 private:
  class BucketHostAdapter;

  asio::io_context& io_;
  LocalServerOptions options_;
  std::string data_dir_;
  std::string host_;
  std::unique_ptr<asio::thread_pool> pool_;
  std::unique_ptr<metadata::EmbeddedMetadataStore> store_;
  std::unique_ptr<replica::ReplicaManager> replicas_;
  std::unique_ptr<BucketHostAdapter> bucket_host_;
  std::unique_ptr<coordinator::CoordinatorService> coordinator_;
  std::unique_ptr<tablet::TabletService> tablet_;
  std::unique_ptr<rpc::Server> rpc_server_;
  bool started_ = false;
};

}  // namespace strom::server
