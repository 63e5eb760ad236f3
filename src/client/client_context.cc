#include "client/client_context.h"

#include <algorithm>
#include <cctype>


namespace strom::client {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<std::shared_ptr<ClientContext>> ClientContext::Create(const ClientConfig& config) {
  STROM_RETURN_IF_ERROR(config.Validate());
  std::shared_ptr<ClientContext> context(new ClientContext(config));
  STROM_ASSIGN_OR_RETURN(context->bootstrap_, config.BootstrapAddresses());
  Status bootstrapped = context->RunSync(context->Bootstrap());
  if (!bootstrapped.ok()) return bootstrapped;
  return context;
}

ClientContext::ClientContext(ClientConfig config)
    : config_(std::move(config)), rng_(std::random_device()()) {
  rpc::ConnectionOptions options;
  options.connect_timeout = config_.connect_timeout;
  options.client_software_name = "strom-cpp";
  pool_ = std::make_unique<rpc::ConnectionPool>(io_.get_executor(), options);
  work_.emplace(io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });
}

ClientContext::~ClientContext() {
  RunSync(Shutdown()).IgnoreError();
  work_.reset();
  io_.stop();
  thread_.join();
}

Task<Status> ClientContext::Shutdown() {
  co_await gate_.Close();
  co_await pool_->Close();
  co_return Status::OK();
}

Task<Result<std::shared_ptr<rpc::Connection>>> ClientContext::Connect(const ServerNode& node) {
  if (node.port <= 0 || node.port > 65535) {
    co_return MakeError(ErrorCode::kNetwork, "server {} has no valid port ({})", node.id,
                        node.port);
  }
  co_return co_await pool_->Get(node.host, static_cast<uint16_t>(node.port));
}

Task<Status> ClientContext::Bootstrap() {
  Status last = MakeError(ErrorCode::kNetwork, "no bootstrap server configured");
  const int attempts = bootstrap_.size() == 1 ? 4 : 1;
  for (const auto& [host, port] : bootstrap_) {
    for (int attempt = 0; attempt < attempts; ++attempt) {
      if (attempt > 0) {
        asio::steady_timer timer(io_.get_executor(),
                                 std::chrono::milliseconds(100 << (attempt - 1)));
        co_await timer.async_wait(kAwaitTuple);
      }
      Result<std::shared_ptr<rpc::Connection>> conn = co_await pool_->Get(host, port);
      if (!conn.ok()) {
        last = conn.status().WithContext(fmt::format("bootstrap server {}:{}", host, port));
        continue;
      }
      auto response = co_await (*conn)->Call<proto::ApiKey::kGetMetadata>(
          proto::MetadataRequest(), config_.request_timeout);
      if (!response.ok()) {
        last = response.status().WithContext(fmt::format("bootstrap server {}:{}", host, port));
        if (!response.status().IsRetriable()) co_return last;
        continue;
      }
      auto merged = Cluster::Merge(*metadata_.Get(), *response);
      if (!merged.ok()) {
        last = merged.status().WithContext(fmt::format("bootstrap server {}:{}", host, port));
        continue;
      }
      metadata_.Set(std::move(*merged));
      co_return Status::OK();
    }
  }
  co_return last;
}

Task<Status> ClientContext::UpdateMetadata(std::vector<TablePath> tables) {
  proto::MetadataRequest request;
  for (const TablePath& path : tables) {
    auto* entry = request.add_table_path();
    entry->set_database_name(path.database);
    entry->set_table_name(path.table);
  }
  auto response = co_await CallAnyTabletServer<proto::ApiKey::kGetMetadata>(std::move(request));
  if (!response.ok()) co_return UnwrapServerCause(response.status());
  STROM_CO_ASSIGN_OR_RETURN(auto merged, Cluster::Merge(*metadata_.Get(), *response));
  metadata_.Set(std::move(merged));
  co_return Status::OK();
}

void ClientContext::InvalidateLeaders(TableId table) {
  metadata_.Set(metadata_.Get()->WithoutLeaders(table));
}

std::vector<ServerNode> ClientContext::ShuffledTabletServers() {
  std::vector<ServerNode> servers;
  for (const auto& [id, node] : metadata_.Get()->tablet_servers()) servers.push_back(node);
  std::shuffle(servers.begin(), servers.end(), rng_);
  return servers;
}

Task<Result<TableInfo>> ClientContext::FetchTableInfo(TablePath path) {
  proto::GetTableInfoRequest request;
  request.mutable_table_path()->set_database_name(path.database);
  request.mutable_table_path()->set_table_name(path.table);
  auto response = co_await CallAnyTabletServer<proto::ApiKey::kGetTableInfo>(std::move(request));
  if (!response.ok()) co_return std::move(response).status();
  co_return TableInfoFromResponse(path, *response);
}

Status UnwrapServerCause(const Status& status) {
  if (status.code() != ErrorCode::kUnknownServerError) return status;
  // The Java server answers some failures with UNKNOWN_SERVER_ERROR and a stack trace whose
  // "Caused by: org.apache.fluss.exception.TableNotExistException: ..." line names the real
  // error. Recover its code from the class name (TableNotExistException ->
  // TABLE_NOT_EXIST / TABLE_NOT_EXIST_EXCEPTION).
  const std::string& text = status.message();
  constexpr std::string_view kMarker = "Caused by: org.apache.fluss.exception.";
  size_t at = text.rfind(kMarker);
  if (at == std::string::npos) return status;
  size_t name_start = at + kMarker.size();
  size_t colon = text.find(':', name_start);
  size_t line_end = text.find('\n', name_start);
  if (colon == std::string::npos || (line_end != std::string::npos && colon > line_end)) {
    return status;
  }
  std::string snake;
  for (size_t i = name_start; i < colon; ++i) {
    char c = text[i];
    if (std::isupper(static_cast<unsigned char>(c)) && i > name_start) snake += '_';
    snake += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  std::string message(Trim(text.substr(colon + 1, line_end == std::string::npos
                                                      ? std::string::npos
                                                      : line_end - colon - 1)));
  std::string stripped = snake;
  constexpr std::string_view kSuffix = "_EXCEPTION";
  if (stripped.size() > kSuffix.size() &&
      stripped.compare(stripped.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
    stripped.resize(stripped.size() - kSuffix.size());
  }
  for (int32_t code = -1; code <= kMaxKnownErrorCode; ++code) {
    ErrorCode candidate = ErrorCodeFromWire(code);
    std::string_view name = ErrorCodeName(candidate);
    if (candidate != ErrorCode::kUnknownServerError && (name == snake || name == stripped)) {
      return Status(candidate, std::move(message));
    }
  }
  return status;
}

Result<TableInfo> TableInfoFromResponse(const TablePath& path,
                                        const proto::GetTableInfoResponse& response) {
  Result<TableDescriptor> descriptor = TableDescriptor::FromJson(response.table_json());
  if (!descriptor.ok()) {
    return descriptor.status().WithContext(fmt::format("table {}", path.ToString()));
  }
  return TableInfo{path,
                   TableId(response.table_id()),
                   SchemaId(static_cast<int16_t>(response.schema_id())),
                   std::move(*descriptor),
                   response.created_time(),
                   response.modified_time()};
}

}  // namespace strom::client
