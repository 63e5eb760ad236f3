#include "server/local_server.h"

#include <charconv>
#include <chrono>
#include <filesystem>

#include "common/config/options.h"
#include "common/logging.h"
#include "coordinator/coordinator_service.h"
#include "log/log_config.h"
#include "metadata/embedded_metadata_store.h"
#include "replica/replica_manager.h"
#include "rpc/server.h"
#include "tablet/tablet_service.h"

namespace strom::server {
namespace {

constexpr std::string_view kComponent = "server";
constexpr std::string_view kDefaultHost = "127.0.0.1";
constexpr uint16_t kDefaultPort = 9123;
/// Directory inside data.dir holding the embedded metadata store ('.' cannot start a
/// database name, so it never collides with one).
constexpr std::string_view kMetadataDir = ".strom-metadata";

Result<uint16_t> ParsePort(std::string_view text) {
  uint32_t port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port > 65535) {
    return MakeError(ErrorCode::kInvalidConfig, "bad port '{}'", text);
  }
  return static_cast<uint16_t>(port);
}

TimestampMs WallClockMs() {
  return TimestampMs(std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
}

}  // namespace

std::string LocalServerOptions::DataDir() const {
  return data_dir ? *data_dir : config.Get(config::kDataDir);
}

namespace {

/// The host and port of the first entry of a listener list `NAME://host:port[,...]`
/// ("localhost" becomes 127.0.0.1, brackets around IPv6 hosts are dropped).
Result<std::pair<std::string, uint16_t>> ParseFirstListener(const std::string& listeners) {
  std::string first = listeners.substr(0, listeners.find(','));
  auto scheme = first.find("://");
  std::string address = scheme == std::string::npos ? first : first.substr(scheme + 3);
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return MakeError(ErrorCode::kInvalidConfig, "listener '{}' has no port", first);
  }
  std::string h = address.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  STROM_ASSIGN_OR_RETURN(uint16_t p, ParsePort(address.substr(colon + 1)));
  if (h == "localhost") h = std::string(kDefaultHost);
  return std::make_pair(h, p);
}

}  // namespace

Result<std::pair<std::string, uint16_t>> LocalServerOptions::Listener() const {
  std::string h(kDefaultHost);
  uint16_t p = kDefaultPort;
  std::string listeners = config.Get(config::kBindListeners);
  if (!listeners.empty()) {
    STROM_ASSIGN_OR_RETURN(auto parsed, ParseFirstListener(listeners));
    h = parsed.first;
    p = parsed.second;
  } else if (config.Contains(config::kCoordinatorPort.key())) {
    STROM_ASSIGN_OR_RETURN(p, ParsePort(config.Get(config::kCoordinatorPort)));
    std::string configured = config.Get(config::kCoordinatorHost);
    if (!configured.empty() && configured != "localhost") h = configured;
  }
  if (host) h = *host;
  if (port) p = *port;
  return std::make_pair(h, p);
}

Result<std::optional<std::pair<std::string, uint16_t>>> LocalServerOptions::Advertised() const {
  std::string listeners = config.Get(config::kAdvertisedListeners);
  if (listeners.empty()) return std::optional<std::pair<std::string, uint16_t>>();
  STROM_ASSIGN_OR_RETURN(auto parsed, ParseFirstListener(listeners));
  return std::optional<std::pair<std::string, uint16_t>>(parsed);
}

/// Lets the coordinator create and drop tablets in this process.
class LocalServer::BucketHostAdapter final : public coordinator::BucketHost {
 public:
  explicit BucketHostAdapter(replica::ReplicaManager& replicas) : replicas_(replicas) {}

  Task<Status> CreateTableBuckets(metadata::TableInfo table,
                                  metadata::TableAssignment assignment) override {
    auto shared = std::make_shared<const metadata::TableInfo>(std::move(table));
    co_return replicas_.CreateTableBuckets(std::move(shared), assignment);
  }
  Status CheckTable(const record::TableDescriptor& table) override {
    return replica::ReplicaManager::CheckKvTable(table);
  }
  Task<Status> DropTableBuckets(TableId table_id) override {
    co_return replicas_.DropTableBuckets(table_id);
  }

 private:
  replica::ReplicaManager& replicas_;
};

LocalServer::LocalServer(asio::io_context& io, LocalServerOptions options)
    : io_(io), options_(std::move(options)) {}

LocalServer::~LocalServer() = default;

uint16_t LocalServer::port() const { return rpc_server_ ? rpc_server_->port() : 0; }

Task<Status> LocalServer::Start() {
  data_dir_ = options_.DataDir();
  STROM_CO_ASSIGN_OR_RETURN(auto listener, options_.Listener());
  host_ = listener.first;
  STROM_CO_ASSIGN_OR_RETURN(auto advertised, options_.Advertised());
  STROM_CO_ASSIGN_OR_RETURN(log::LogConfig log_config,
                            log::LogConfig::FromConfiguration(options_.config));

  std::error_code ec;
  std::filesystem::create_directories(data_dir_, ec);
  if (ec) {
    co_return MakeError(ErrorCode::kStorage, "cannot create data dir {}: {}", data_dir_,
                        ec.message());
  }

  pool_ = std::make_unique<asio::thread_pool>(2);
  auto store = metadata::EmbeddedMetadataStore::Open(data_dir_ + "/" + std::string(kMetadataDir),
                                                     *pool_);
  if (!store.ok()) co_return store.status();
  store_ = std::move(store).value();

  replica::ReplicaManagerOptions replica_options;
  replica_options.data_dir = data_dir_;
  replica_options.server_id = ServerId(kServerId);
  replica_options.log_config = log_config;
  STROM_CO_ASSIGN_OR_RETURN(replica_options.rocksdb,
                            kv::RocksDbOptions::FromConfiguration(options_.config));
  replica_options.kv_snapshot_interval = options_.config.Get(config::kKvSnapshotInterval);
  replica_options.kv_snapshot_num_retained = options_.config.Get(config::kKvSnapshotNumRetained);
  replica_options.kv_recover_read_bytes =
      options_.config.Get(config::kKvRecoverLogRecordBatchMaxSize);
  replica_options.kv_flush_off_reactor = options_.config.Get(config::kStromKvFlushOffReactor);
  replica_options.scanners.ttl = options_.config.Get(config::kKvScannerTtl);
  replica_options.scanners.expiration_interval =
      options_.config.Get(config::kKvScannerExpirationInterval);
  replica_options.scanners.max_per_bucket = options_.config.Get(config::kKvScannerMaxPerBucket);
  replica_options.scanners.max_per_server = options_.config.Get(config::kKvScannerMaxPerServer);
  replica_options.scanners.max_batch_bytes = options_.config.Get(config::kKvScannerMaxBatchSize);
  replicas_ = std::make_unique<replica::ReplicaManager>(io_.get_executor(), replica_options,
                                                        *store_);
  Status replicas_started = co_await replicas_->Start();
  if (!replicas_started.ok()) {
    co_await replicas_->Stop();
    co_return replicas_started;
  }

  coordinator::TableDefaults defaults;
  defaults.default_bucket_number = options_.config.Get(config::kDefaultBucketNumber);
  defaults.default_replication_factor = options_.config.Get(config::kDefaultReplicationFactor);
  defaults.max_bucket_number = options_.config.Get(config::kMaxBucketNum);
  defaults.allow_log_tables = options_.config.Get(config::kAllowCreateLogTables);
  defaults.allow_kv_tables = options_.config.Get(config::kAllowCreateKvTables);
  bucket_host_ = std::make_unique<BucketHostAdapter>(*replicas_);
  coordinator_ = std::make_unique<coordinator::CoordinatorService>(*store_, *bucket_host_,
                                                                   defaults, WallClockMs);
  tablet_ = std::make_unique<tablet::TabletService>(*replicas_, *store_);
  Status coordinator_started = co_await coordinator_->Start();
  if (!coordinator_started.ok()) {
    co_await replicas_->Stop();
    co_return coordinator_started;
  }

  rpc::Dispatcher dispatcher;
  coordinator_->Register(dispatcher);
  tablet_->Register(dispatcher);
  rpc::ServerOptions server_options = rpc::ServerOptions::FromConfiguration(options_.config);
  server_options.host = host_;
  server_options.port = listener.second;
  server_options.server_type.reset();  // one port serves both roles
  rpc_server_ = std::make_unique<rpc::Server>(io_.get_executor(), server_options,
                                              std::move(dispatcher));
  Status listening = rpc_server_->Start();
  if (!listening.ok()) {
    co_await replicas_->Stop();
    co_return listening;
  }
  // Nothing has been served yet: the reactor runs accepted connections only after this
  // coroutine suspends, so the cluster view is in place before the first request.
  // Clients connect to what Metadata lists: `advertised.listeners` when set, else the bound
  // address (a wildcard bind advertises the loopback address).
  std::string advertised_host = host_;
  uint16_t advertised_port = rpc_server_->port();
  if (advertised_host == "0.0.0.0" || advertised_host == "::") {
    advertised_host = std::string(kDefaultHost);
  }
  if (advertised) {
    advertised_host = advertised->first;
    advertised_port = advertised->second;
  }
  metadata::ServerNode node{ServerId(kServerId), advertised_host, advertised_port,
                            metadata::ServerRole::kTabletServer, std::nullopt};
  metadata::ServerNode coordinator_node = node;
  coordinator_node.role = metadata::ServerRole::kCoordinator;
  coordinator_->SetCluster(coordinator_node, {node});
  started_ = true;
  STROM_LOG_INFO(kComponent, "serving on {}:{} with data dir {}", host_, rpc_server_->port(),
                 data_dir_);
  co_return Status::OK();
}

Task<void> LocalServer::Stop() {
  if (!started_) co_return;
  started_ = false;
  STROM_LOG_INFO(kComponent, "stopping");
  // Reverse order: stop taking requests, then close the tablets, then the pool.
  replicas_->delayed_fetches().Stop();  // long polls answer now
  co_await rpc_server_->Stop(std::chrono::seconds(5));
  co_await replicas_->Stop();
  pool_->join();
  STROM_LOG_INFO(kComponent, "stopped");
}

}  // namespace strom::server
