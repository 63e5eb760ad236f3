#include "server/tablet_server.h"

#include <asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>

#include "common/config/options.h"
#include "common/logging.h"
#include "coordinator/cluster_view.h"
#include "coordinator/coordinator_service.h"
#include "log/log_config.h"
#include "replica/replica_manager.h"
#include "rpc/server.h"
#include "tablet/tablet_control_service.h"
#include "tablet/tablet_service.h"
#include "zk/registration.h"
#include "zk/zk_client.h"
#include "zk/zk_metadata_store.h"

namespace strom::server {
namespace {

constexpr std::string_view kComponent = "server";

TimestampMs WallClockMs() {
  return TimestampMs(std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
}

/// A tablet server serves no DDL: the read-only admin handlers never reach a BucketHost.
class NoBucketHost final : public coordinator::BucketHost {
 public:
  Task<Status> CreateTableBuckets(metadata::TableInfo, metadata::TableAssignment) override {
    co_return Status(ErrorCode::kNotCoordinatorLeader, "a tablet server creates no tables");
  }
  Status CheckTable(const record::TableDescriptor&) override { return Status::OK(); }
  Task<Status> DropTableBuckets(TableId) override {
    co_return Status(ErrorCode::kNotCoordinatorLeader, "a tablet server drops no tables");
  }
};

NoBucketHost& SharedNoBucketHost() {
  static NoBucketHost host;
  return host;
}

}  // namespace

/// Metadata answers of a tablet server: the coordinator's last UpdateMetadata.
class TabletServer::CacheView final : public coordinator::ClusterView {
 public:
  explicit CacheView(const tablet::MetadataCache& cache) : cache_(cache) {}
  std::optional<metadata::ServerNode> CoordinatorNode() const override {
    return cache_.coordinator();
  }
  std::vector<metadata::ServerNode> TabletServers() const override {
    return cache_.tablet_servers();
  }
  std::optional<coordinator::BucketLeader> Leader(
      const metadata::TableBucket& bucket) const override {
    auto cached = cache_.leader(bucket);
    if (!cached) return std::nullopt;
    coordinator::BucketLeader out;
    out.leader = cached->leader;
    out.leader_epoch = cached->leader_epoch;
    out.isr = cached->isr;
    return out;
  }
  Status CheckActive() const override {
    return Status(ErrorCode::kNotCoordinatorLeader, "this is a tablet server");
  }

 private:
  const tablet::MetadataCache& cache_;
};

TabletServer::TabletServer(asio::io_context& io, TabletServerOptions options)
    : io_(io), options_(std::move(options)) {}

TabletServer::~TabletServer() = default;

uint16_t TabletServer::port() const { return rpc_server_ ? rpc_server_->port() : 0; }

Task<Status> TabletServer::Start() {
  const config::Configuration& config = options_.config;
  std::optional<int32_t> id = options_.id ? options_.id : config.GetOptional(config::kTabletServerId);
  if (!id || *id < 0) {
    co_return Status(ErrorCode::kInvalidConfig,
                     "a tablet server needs a non-negative id (--id or tablet-server.id)");
  }
  id_ = ServerId(*id);
  data_dir_ = options_.data_dir ? *options_.data_dir : config.Get(config::kDataDir);
  STROM_CO_ASSIGN_OR_RETURN(bound_, BindEndpoint(config, ListenerRole::kTabletServer,
                                                 options_.host, options_.port));
  STROM_CO_ASSIGN_OR_RETURN(log::LogConfig log_config, log::LogConfig::FromConfiguration(config));
  STROM_CO_ASSIGN_OR_RETURN(zk::ZkClientOptions zk_options, zk::ZkClientOptions::FromConfig(config));
  std::error_code ec;
  std::filesystem::create_directories(data_dir_, ec);
  if (ec) {
    co_return MakeError(ErrorCode::kStorage, "cannot create data dir {}: {}", data_dir_,
                        ec.message());
  }

  STROM_CO_ASSIGN_OR_RETURN(zk_, co_await zk::ZkClient::Connect(io_.get_executor(), zk_options));
  std::string root = config.Get(config::kZookeeperPathRoot);
  auto store = co_await zk::ZkMetadataStore::Open(*zk_, root);
  if (!store.ok()) {
    co_await zk_->Close();
    co_return store.status();
  }
  store_ = std::move(store).value();

  cache_ = std::make_unique<tablet::MetadataCache>();
  view_ = std::make_unique<CacheView>(*cache_);
  isr_channel_ = std::make_unique<tablet::CoordinatorIsrChannel>(io_.get_executor(), id_,
                                                                 *cache_, rpc::ConnectionOptions());

  replica::ReplicaManagerOptions replica_options;
  replica_options.data_dir = data_dir_;
  replica_options.server_id = id_;
  replica_options.log_config = log_config;
  replica_options.local_leadership = false;
  STROM_CO_ASSIGN_OR_RETURN(replica_options.rocksdb,
                            kv::RocksDbOptions::FromConfiguration(config));
  replica_options.kv_snapshot_interval = config.Get(config::kKvSnapshotInterval);
  replica_options.kv_snapshot_num_retained = config.Get(config::kKvSnapshotNumRetained);
  replica_options.kv_recover_read_bytes = config.Get(config::kKvRecoverLogRecordBatchMaxSize);
  replica_options.kv_flush_off_reactor = config.Get(config::kStromKvFlushOffReactor);
  replica_options.scanners.ttl = config.Get(config::kKvScannerTtl);
  replica_options.scanners.expiration_interval = config.Get(config::kKvScannerExpirationInterval);
  replica_options.scanners.max_per_bucket = config.Get(config::kKvScannerMaxPerBucket);
  replica_options.scanners.max_per_server = config.Get(config::kKvScannerMaxPerServer);
  replica_options.scanners.max_batch_bytes = config.Get(config::kKvScannerMaxBatchSize);
  replicas_ = std::make_unique<replica::ReplicaManager>(io_.get_executor(), replica_options,
                                                        *store_);
  replicas_->SetIsrChannel(isr_channel_.get());
  replicas_->SetServerDirectory(cache_.get());
  Status replicas_started = co_await replicas_->Start();
  if (!replicas_started.ok()) {
    co_await replicas_->Stop();
    co_await zk_->Close();
    co_return replicas_started;
  }
  session_listener_ =
      zk_->AddSessionListener([this](zk::SessionEvent event) { OnSessionEvent(event); });

  tablet_ = std::make_unique<tablet::TabletService>(*replicas_, *store_);
  control_ = std::make_unique<tablet::TabletControlService>(*replicas_, *cache_);
  coordinator::TableDefaults defaults;
  admin_reads_ = std::make_unique<coordinator::CoordinatorService>(*store_, SharedNoBucketHost(),
                                                                   defaults, WallClockMs);
  admin_reads_->SetClusterView(view_.get());

  rpc::Dispatcher dispatcher;
  admin_reads_->RegisterReadOnly(dispatcher);
  tablet_->Register(dispatcher);
  control_->Register(dispatcher);
  rpc::ServerOptions server_options = rpc::ServerOptions::FromConfiguration(config);
  server_options.host = bound_.host;
  server_options.port = bound_.port;
  server_options.server_type = proto::ServerType::kTabletServer;
  rpc_server_ = std::make_unique<rpc::Server>(io_.get_executor(), server_options,
                                              std::move(dispatcher));
  Status listening = rpc_server_->Start();
  if (!listening.ok()) {
    co_await replicas_->Stop();
    co_await zk_->Close();
    co_return listening;
  }
  bound_.port = rpc_server_->port();
  STROM_CO_ASSIGN_OR_RETURN(Endpoint advertised, AdvertisedEndpoint(config, bound_));
  if (advertised.port == 0) advertised.port = bound_.port;

  std::string rack = config.Get(config::kTabletServerRack);
  registration_ = zk::MakeTabletServerRegistration(
      *zk_, zk::ZkPaths(root), id_, fmt::format("FLUSS://{}:{}", advertised.host, advertised.port),
      rack.empty() ? std::nullopt : std::optional<std::string>(rack));
  Status registered = co_await registration_->Register();
  if (!registered.ok()) {
    co_await rpc_server_->Stop(std::chrono::seconds(1));
    co_await replicas_->Stop();
    co_await isr_channel_->Close();
    co_await zk_->Close();
    co_return registered;
  }
  started_ = true;
  STROM_LOG_INFO(kComponent, "tablet server {} serving on {}:{} with data dir {}", id_,
                 bound_.host, bound_.port, data_dir_);
  co_return Status::OK();
}

void TabletServer::OnSessionEvent(zk::SessionEvent event) {
  if (replicas_ == nullptr) return;
  if (event == zk::SessionEvent::kExpired) {
    // The session, and with it the registration, is gone (or may be: cut off for longer than
    // the session timeout). The coordinator elects other leaders for this server's buckets,
    // so nothing may be acknowledged here as their leader any more.
    size_t fenced = replicas_->FenceLeadership();
    STROM_LOG_WARN(kComponent,
                   "tablet server {} lost its ZooKeeper session: fenced, no longer leading {} "
                   "buckets",
                   id_, fenced);
  } else if (event == zk::SessionEvent::kNewSession) {
    // The registration is re-created on this session; the coordinator then sends the leaders
    // it decided meanwhile, with newer leader epochs.
    replicas_->AllowLeadership();
  }
}

Task<void> TabletServer::MoveLeadershipAway() {
  auto deadline = SteadyClock::now() + options_.controlled_shutdown_timeout;
  while (SteadyClock::now() < deadline) {
    // Epoch -1, as Fluss 0.9.1's TabletServer sends: tablet servers have no epoch there yet
    // and its coordinator leaves the field unchecked (CoordinatorEventProcessor).
    auto remaining = co_await isr_channel_->ControlledShutdown(-1);
    if (remaining.ok() && remaining->empty()) {
      STROM_LOG_INFO(kComponent, "controlled shutdown: no bucket is led here any more");
      co_return;
    }
    if (remaining.ok()) {
      STROM_LOG_INFO(kComponent, "controlled shutdown: still leading {} buckets",
                     remaining->size());
    } else {
      STROM_LOG_WARN(kComponent, "controlled shutdown: {}", remaining.status().ToString());
      if (!remaining.status().IsRetriable()) co_return;
    }
    asio::steady_timer timer(io_.get_executor(), std::chrono::milliseconds(500));
    co_await timer.async_wait(kAwaitTuple);
  }
}

Task<void> TabletServer::Stop() {
  if (!started_) co_return;
  started_ = false;
  STROM_LOG_INFO(kComponent, "tablet server {} stopping", id_);
  if (cache_->coordinator()) co_await MoveLeadershipAway();
  co_await registration_->Unregister();
  zk_->RemoveSessionListener(session_listener_);
  replicas_->delayed_fetches().Stop();  // long polls answer now
  co_await rpc_server_->Stop(std::chrono::seconds(5));
  co_await replicas_->Stop();
  co_await isr_channel_->Close();
  co_await zk_->Close();
  STROM_LOG_INFO(kComponent, "tablet server {} stopped", id_);
}

}  // namespace strom::server
