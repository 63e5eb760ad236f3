#include "server/local_cluster.h"

#include <algorithm>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>

#include "common/config/options.h"
#include "common/logging.h"
#include "server/coordinator_server.h"
#include "server/tablet_server.h"
#include "zk/zookeeper_process.h"

namespace strom::server {

namespace {

constexpr const char* kComponent = "local-cluster";

}  // namespace

LocalCluster::LocalCluster(asio::io_context& io, LocalClusterOptions options)
    : io_(io), options_(std::move(options)) {}

LocalCluster::~LocalCluster() = default;

std::string LocalCluster::bootstrap() const {
  if (coordinator_ == nullptr) return "";
  return coordinator_->host() + ":" + std::to_string(coordinator_->port());
}

std::vector<std::string> LocalCluster::tablet_server_addresses() const {
  std::vector<std::string> out;
  for (const auto& tablet : tablets_) {
    out.push_back(std::to_string(tablet->id().value()) + "@" + tablet->host() + ":" +
                  std::to_string(tablet->port()));
  }
  return out;
}

Task<Status> LocalCluster::Start() {
  if (options_.tablet_servers < 1) {
    co_return MakeError(ErrorCode::kInvalidConfig, "--tablet-servers must be at least 1, not {}",
                        options_.tablet_servers);
  }
  config::Configuration config = options_.config;
  data_dir_ = options_.data_dir ? *options_.data_dir : config.Get(config::kDataDir);
  std::error_code ec;
  std::filesystem::create_directories(data_dir_, ec);
  if (ec) {
    co_return MakeError(ErrorCode::kStorage, "cannot create data dir {}: {}", data_dir_,
                        ec.message());
  }
  if (!config.GetRaw(config::kDefaultReplicationFactor.key())) {
    STROM_CO_RETURN_IF_ERROR(config.Set(config::kDefaultReplicationFactor.key(),
                                        std::to_string(std::min(3, options_.tablet_servers))));
  }

  zookeeper_address_ = config.Get(config::kZookeeperAddress);
  if (zookeeper_address_.empty()) {
    // A ZooKeeper of our own, its data beside the servers' so a restart finds the cluster.
    // A 500 ms tick caps sessions at 10 s: a killed server's leaderships move within that.
    zk::ZooKeeperProcess::Options zk_options;
    zk_options.dir = data_dir_ + "/zookeeper";
    zk_options.tick = std::chrono::milliseconds(500);
    auto started = zk::ZooKeeperProcess::Start(zk_options);
    if (!started.ok()) co_return started.status();
    zookeeper_ = std::move(started).value();
    zookeeper_address_ = zookeeper_->address();
    STROM_CO_RETURN_IF_ERROR(config.Set(config::kZookeeperAddress.key(), zookeeper_address_));
    STROM_LOG_INFO(kComponent, "ZooKeeper started on {} (data in {})", zookeeper_address_,
                   zookeeper_->data_dir());
  }

  CoordinatorServerOptions coordinator_options;
  coordinator_options.config = config;
  coordinator_options.host = options_.host;
  coordinator_options.port = options_.port;
  coordinator_ = std::make_unique<CoordinatorServer>(io_, std::move(coordinator_options));
  Status status = co_await coordinator_->Start();
  if (!status.ok()) {
    coordinator_.reset();
    zookeeper_.reset();
    co_return status;
  }

  for (int32_t id = 0; id < options_.tablet_servers; ++id) {
    TabletServerOptions tablet_options;
    tablet_options.config = config;
    tablet_options.id = id;
    tablet_options.data_dir = data_dir_ + "/tablet-server-" + std::to_string(id);
    tablet_options.host = options_.host;
    tablet_options.port = 0;
    // The last server to stop has nobody to hand its leaderships to: do not wait long.
    tablet_options.controlled_shutdown_timeout = std::chrono::seconds(3);
    auto tablet = std::make_unique<TabletServer>(io_, std::move(tablet_options));
    status = co_await tablet->Start();
    if (!status.ok()) {
      co_await Stop();
      co_return status;
    }
    tablets_.push_back(std::move(tablet));
  }
  // Ready means usable: wait (bounded) until the coordinator is active and has seen every
  // tablet server register, so the first CreateTable can place all its replicas.
  const auto deadline = SteadyClock::now() + std::chrono::seconds(30);
  asio::steady_timer timer(io_);
  while (coordinator_->live_tablet_servers() < tablets_.size()) {
    if (SteadyClock::now() >= deadline) {
      co_await Stop();
      co_return MakeError(ErrorCode::kUnknownServerError,
                          "the coordinator did not see all {} tablet servers within 30 s",
                          options_.tablet_servers);
    }
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(kAwaitTuple);
  }
  co_return Status::OK();
}

Task<void> LocalCluster::Stop() {
  // Tablet servers first (each moves its leaderships to the others while they still run),
  // then the coordinator, then ZooKeeper.
  while (!tablets_.empty()) {
    co_await tablets_.back()->Stop();
    tablets_.pop_back();
  }
  if (coordinator_ != nullptr) {
    co_await coordinator_->Stop();
    coordinator_.reset();
  }
  if (zookeeper_ != nullptr) {
    zookeeper_->Stop();
    zookeeper_.reset();
  }
}

}  // namespace strom::server
