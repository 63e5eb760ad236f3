#include "rpc/server.h"

#include <fmt/format.h>

#include <algorithm>
#include <asio/ip/address.hpp>
#include <cctype>
#include <csignal>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include "common/check.h"
#include "common/config/options.h"
#include "common/logging.h"
#include "rpc/detail/server_connection.h"

namespace strom::rpc {

namespace {

// The protocol name a PLAINTEXT listener answers to (Fluss's PlainTextAuthenticationPlugin).
constexpr std::string_view kPlaintextProtocol = "PLAINTEXT";

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string FormatEndpoint(const asio::ip::tcp::endpoint& endpoint) {
  const asio::ip::address& address = endpoint.address();
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

Task<Result<proto::ApiVersionsResponse>> AnswerApiVersions(proto::ApiVersionsResponse response,
                                                           RequestContext context,
                                                           proto::ApiVersionsRequest request) {
  STROM_LOG_DEBUG("rpc", "connection {} from {}: client {} {}", context.connection_id,
                  context.peer_address, request.client_software_name(),
                  request.client_software_version());
  co_return response;
}

Task<Result<proto::AuthenticateResponse>> AnswerAuthenticate(RequestContext context,
                                                             proto::AuthenticateRequest request) {
  // A PLAINTEXT listener has nothing to verify: the matching protocol gets an empty answer
  // (no challenge, so both Fluss clients consider the exchange complete); any other
  // protocol means client and server are configured differently.
  if (!EqualsIgnoreCase(request.protocol(), kPlaintextProtocol)) {
    co_return MakeError(ErrorCode::kAuthenticate,
                        "authentication protocol mismatch: listener {} uses {}, the client "
                        "asked for '{}'",
                        context.listener_name, kPlaintextProtocol, request.protocol());
  }
  co_return proto::AuthenticateResponse();
}

}  // namespace

ServerOptions ServerOptions::FromConfiguration(const config::Configuration& conf) {
  ServerOptions options;
  options.max_frame_size = static_cast<size_t>(conf.Get(config::kNettyServerMaxRequestSize));
  options.max_in_flight_per_connection =
      static_cast<size_t>(std::max(1, conf.Get(config::kNettyServerMaxQueuedRequests)));
  options.max_idle_time = conf.Get(config::kNettyConnectionMaxIdleTime);
  options.max_queued_bytes =
      static_cast<size_t>(std::max<int64_t>(0, conf.Get(config::kStromServerMaxQueuedBytes)));
  return options;
}

Server::Server(Executor reactor, ServerOptions options, Dispatcher dispatcher)
    : reactor_(reactor),
      options_(std::move(options)),
      dispatcher_(std::make_shared<Dispatcher>(std::move(dispatcher))),
      budget_(std::make_shared<detail::QueueBudget>(options_.max_queued_bytes)),
      acceptor_(reactor) {
  STROM_CHECK(options_.max_in_flight_per_connection > 0, "max_in_flight_per_connection is 0");
  RegisterBuiltins();
}

Server::~Server() {
  STROM_DCHECK(state_ == State::kCreated || state_ == State::kStopped,
               "a started Server must be stopped before it is destroyed");
}

void Server::RegisterBuiltins() {
  STROM_CHECK(!dispatcher_->Contains(proto::ApiKey::kApiVersions) &&
                  !dispatcher_->Contains(proto::ApiKey::kAuthenticate),
              "ApiVersions and Authenticate are answered by the Server itself");
  // The answer is fixed once the handlers are known: every registered api plus the two
  // built-in ones, with their version ranges, ordered by key.
  advertised_ = dispatcher_->SupportedApis();
  for (proto::ApiKey key : {proto::ApiKey::kApiVersions, proto::ApiKey::kAuthenticate}) {
    const proto::ApiInfo& info = proto::GetApiInfo(key);
    advertised_.push_back({key, info.min_version, info.max_version});
  }
  std::sort(advertised_.begin(), advertised_.end(),
            [](const ApiVersionRange& a, const ApiVersionRange& b) { return a.key < b.key; });
  proto::ApiVersionsResponse versions;
  for (const ApiVersionRange& range : advertised_) {
    proto::PbApiVersion* entry = versions.add_api_versions();
    entry->set_api_key(static_cast<int32_t>(range.key));
    entry->set_min_version(range.min_version);
    entry->set_max_version(range.max_version);
  }
  if (options_.server_type) versions.set_server_type(static_cast<int32_t>(*options_.server_type));

  dispatcher_->Handle<proto::ApiKey::kApiVersions>(
      [versions](RequestContext context, proto::ApiVersionsRequest request) {
        return AnswerApiVersions(versions, std::move(context), std::move(request));
      });
  dispatcher_->Handle<proto::ApiKey::kAuthenticate>(
      [](RequestContext context, proto::AuthenticateRequest request) {
        return AnswerAuthenticate(std::move(context), std::move(request));
      });
}

namespace {

// FetchLog records leave by sendfile(2), which has no MSG_NOSIGNAL: a peer that closes its
// socket mid-response would raise SIGPIPE and end the process. Every write path reports EPIPE
// as an error instead once the signal is ignored, so a serving process ignores it.
void IgnoreSigpipeOnce() {
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

}  // namespace

Status Server::Start() {
  STROM_CHECK(state_ == State::kCreated, "Server::Start called twice");
  IgnoreSigpipeOnce();
  asio::error_code ec;
  asio::ip::tcp::endpoint endpoint;
  asio::ip::address address = asio::ip::make_address(options_.host, ec);
  if (!ec) {
    endpoint = asio::ip::tcp::endpoint(address, options_.port);
  } else {
    // A host name: resolve it once, at start-up, and bind the first address.
    asio::ip::tcp::resolver resolver(reactor_);
    auto results = resolver.resolve(options_.host, std::to_string(options_.port), ec);
    if (ec || results.empty()) {
      return MakeError(ErrorCode::kNetwork, "cannot resolve listen host '{}': {}", options_.host,
                       ec ? ec.message() : "no address");
    }
    endpoint = results.begin()->endpoint();
  }
  std::string where = FormatEndpoint(endpoint);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    asio::error_code ignored;
    acceptor_.close(ignored);
    return MakeError(ErrorCode::kNetwork, "cannot listen on {}: {}", where, ec.message());
  }
  port_ = acceptor_.local_endpoint(ec).port();
  state_ = State::kRunning;
  SpawnBackground(reactor_, gate_, "rpc accept loop", AcceptLoop());
  STROM_LOG_INFO("rpc", "listener {} serving on {}:{} ({} apis)", options_.listener_name,
                 endpoint.address().to_string(), port_, advertised_.size());
  return Status::OK();
}

Task<void> Server::AcceptLoop() {
  while (state_ == State::kRunning) {
    auto [ec, socket] = co_await acceptor_.async_accept(kAwaitTuple);
    if (state_ != State::kRunning) break;
    if (ec) {
      // Typically out of file descriptors: pause instead of spinning on the error.
      STROM_LOG_WARN("rpc", "accept failed on listener {}: {}", options_.listener_name,
                     ec.message());
      asio::steady_timer pause(reactor_, std::chrono::milliseconds(100));
      co_await pause.async_wait(kAwaitTuple);
      continue;
    }
    asio::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    asio::ip::tcp::endpoint remote = socket.remote_endpoint(ignored);
    uint64_t id = next_connection_id_++;
    detail::ConnectionLimits limits{options_.listener_name, options_.max_frame_size,
                                    options_.max_in_flight_per_connection, options_.max_idle_time};
    auto connection = std::make_shared<detail::ServerConnection>(
        reactor_, std::move(socket), id, FormatEndpoint(remote), dispatcher_, std::move(limits),
        budget_, [this](uint64_t closed_id) { connections_.erase(closed_id); });
    connections_.emplace(id, connection);
    if (!SpawnBackground(reactor_, gate_, "rpc connection",
                         detail::ServerConnection::Run(connection))) {
      connections_.erase(id);
    }
  }
}

Task<void> Server::Stop(SteadyClock::duration drain_timeout) {
  if (state_ == State::kCreated) {
    state_ = State::kStopped;
    co_return;
  }
  if (state_ != State::kRunning) {
    // Someone else is stopping (or stopped) the server; wait for the same end.
    co_await gate_.Close();
    co_return;
  }
  state_ = State::kStopping;
  STROM_LOG_INFO("rpc", "listener {} stopping: {} connections open", options_.listener_name,
                 connections_.size());
  asio::error_code ignored;
  acceptor_.close(ignored);
  std::vector<std::shared_ptr<detail::ServerConnection>> open;
  for (auto& [id, connection] : connections_) open.push_back(connection);
  for (auto& connection : open) connection->StopReading();
  if (!co_await WithTimeout(gate_.Close(), drain_timeout)) {
    open.clear();
    for (auto& [id, connection] : connections_) open.push_back(connection);
    STROM_LOG_WARN("rpc",
                   "listener {}: {} connections still busy after the drain timeout; "
                   "closing them",
                   options_.listener_name, open.size());
    for (auto& connection : open) connection->Abort();
    co_await gate_.Close();
  }
  state_ = State::kStopped;
  STROM_LOG_INFO("rpc", "listener {} stopped", options_.listener_name);
}

}  // namespace strom::rpc
