#include "server/coordinator_server.h"

#include <unistd.h>

#include <chrono>

#include "common/config/options.h"
#include "common/logging.h"
#include "coordinator/cluster_controller.h"
#include "coordinator/coordinator_service.h"
#include "replica/replica_manager.h"
#include "rpc/server.h"
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

}  // namespace

CoordinatorServer::CoordinatorServer(asio::io_context& io, CoordinatorServerOptions options)
    : io_(io), options_(std::move(options)) {}

CoordinatorServer::~CoordinatorServer() = default;

uint16_t CoordinatorServer::port() const { return rpc_server_ ? rpc_server_->port() : 0; }

bool CoordinatorServer::active() const { return controller_ && controller_->active(); }

size_t CoordinatorServer::live_tablet_servers() const {
  return active() ? controller_->TabletServers().size() : 0;
}

Task<Status> CoordinatorServer::Start() {
  const config::Configuration& config = options_.config;
  STROM_CO_ASSIGN_OR_RETURN(bound_, BindEndpoint(config, ListenerRole::kCoordinator,
                                                 options_.host, options_.port));
  STROM_CO_ASSIGN_OR_RETURN(zk::ZkClientOptions zk_options, zk::ZkClientOptions::FromConfig(config));
  STROM_CO_ASSIGN_OR_RETURN(zk_, co_await zk::ZkClient::Connect(io_.get_executor(), zk_options));
  std::string root = config.Get(config::kZookeeperPathRoot);
  auto store = co_await zk::ZkMetadataStore::Open(*zk_, root);
  if (!store.ok()) {
    co_await zk_->Close();
    co_return store.status();
  }
  store_ = std::move(store).value();

  coordinator::ClusterControllerOptions controller_options;
  controller_options.probe_attempts = config.Get(config::kStromCoordinatorServerProbeAttempts);
  controller_options.probe_interval = config.Get(config::kStromCoordinatorServerProbeInterval);
  controller_options.check_table = [](const record::TableDescriptor& table) {
    return replica::ReplicaManager::CheckKvTable(table);
  };
  controller_ = std::make_unique<coordinator::ClusterController>(
      io_.get_executor(), *zk_, zk::ZkPaths(root), *store_, metadata::ServerNode{},
      controller_options);

  coordinator::TableDefaults defaults;
  defaults.default_bucket_number = config.Get(config::kDefaultBucketNumber);
  defaults.default_replication_factor = config.Get(config::kDefaultReplicationFactor);
  defaults.max_bucket_number = config.Get(config::kMaxBucketNum);
  defaults.allow_log_tables = config.Get(config::kAllowCreateLogTables);
  defaults.allow_kv_tables = config.Get(config::kAllowCreateKvTables);
  service_ = std::make_unique<coordinator::CoordinatorService>(*store_, *controller_, defaults,
                                                               WallClockMs);
  service_->SetClusterView(controller_.get());
  Status db = co_await service_->Start();  // the default database of an empty cluster
  if (!db.ok()) {
    co_await zk_->Close();
    co_return db;
  }

  rpc::Dispatcher dispatcher;
  service_->Register(dispatcher);
  controller_->Register(dispatcher);
  rpc::ServerOptions server_options = rpc::ServerOptions::FromConfiguration(config);
  server_options.host = bound_.host;
  server_options.port = bound_.port;
  server_options.server_type = proto::ServerType::kCoordinator;
  rpc_server_ = std::make_unique<rpc::Server>(io_.get_executor(), server_options,
                                              std::move(dispatcher));
  Status listening = rpc_server_->Start();
  if (!listening.ok()) {
    co_await zk_->Close();
    co_return listening;
  }
  bound_.port = rpc_server_->port();
  STROM_CO_ASSIGN_OR_RETURN(Endpoint advertised, AdvertisedEndpoint(config, bound_));
  if (advertised.port == 0) advertised.port = bound_.port;
  controller_->SetSelfNode(metadata::ServerNode{ServerId(0), advertised.host, advertised.port,
                                                metadata::ServerRole::kCoordinator,
                                                std::nullopt});
  std::string listeners = fmt::format("FLUSS://{}:{}", advertised.host, advertised.port);
  zk::CoordinatorAddress self{fmt::format("{}:{}-{}", advertised.host, advertised.port, ::getpid()),
                              listeners};
  coordinator::ClusterController* controller = controller_.get();
  election_ = std::make_unique<zk::CoordinatorElection>(
      *zk_, zk::ZkPaths(root), self,
      zk::CoordinatorElection::Callbacks{
          [controller](CoordinatorEpoch epoch) { controller->OnElected(epoch); },
          [controller]() { controller->OnLost(); }});
  election_->Start();
  started_ = true;
  STROM_LOG_INFO(kComponent, "coordinator serving on {}:{} (zookeeper {}{})", bound_.host,
                 bound_.port, zk_options.connect_string, root);
  co_return Status::OK();
}

Task<void> CoordinatorServer::Stop() {
  if (!started_) co_return;
  started_ = false;
  STROM_LOG_INFO(kComponent, "coordinator stopping");
  co_await election_->Stop();  // resign first: a standby takes over at once
  co_await rpc_server_->Stop(std::chrono::seconds(5));
  co_await controller_->Stop();
  co_await zk_->Close();
  STROM_LOG_INFO(kComponent, "coordinator stopped");
}

}  // namespace strom::server
