#pragma once

#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/async.h"
#include "common/config/config.h"
#include "common/status.h"
#include "proto/api_keys.h"
#include "proto/frame.h"
#include "rpc/detail/queue_budget.h"
#include "rpc/dispatcher.h"

namespace strom::rpc {

namespace detail {
class ServerConnection;
}  // namespace detail

/// How a Server listens and what it tolerates from clients.
struct ServerOptions {
  /// Address to bind ("0.0.0.0", "127.0.0.1", "::"); a host name is resolved once.
  std::string host = "0.0.0.0";
  /// Port to bind; 0 picks a free one (Server::port() tells which).
  uint16_t port = 0;
  /// Fluss listener name, reported to handlers in RequestContext.
  std::string listener_name = "FLUSS";
  /// Largest request frame accepted, length prefix included
  /// (`netty.server.max-request-size`).
  size_t max_frame_size = proto::kDefaultMaxFrameSize;
  /// Requests of one connection being handled or waiting for their response to be written;
  /// at the bound the connection is not read until one completes
  /// (`netty.server.max-queued-requests`, which Fluss applies per request queue).
  size_t max_in_flight_per_connection = 500;
  /// Bytes of request payloads being handled and responses waiting to be written, summed
  /// over every connection (`strom.server.max-queued-bytes`). At the bound, connections that
  /// hold part of it are not read until it drops (a connection holding nothing may still
  /// start one request). 0: unbounded.
  size_t max_queued_bytes = 256u << 20;
  /// A connection without traffic and without requests in flight for this long is closed
  /// (`netty.connection.max-idle-time`); zero disables.
  std::chrono::milliseconds max_idle_time = std::chrono::minutes(10);
  /// ApiVersionsResponse.server_type. Leave unset when one port serves both roles
  /// (spec/fluss-rpc.md §3.2): clients then skip their role check.
  std::optional<proto::ServerType> server_type;

  /// The limits above from Fluss's option names; host, port and listener name are left to
  /// the caller, which parses `bind.listeners`.
  static ServerOptions FromConfiguration(const config::Configuration& conf);
};

/// The Fluss RPC server: accepts TCP connections and serves length-prefixed request frames
/// with the handlers of a Dispatcher.
///
/// Behaviour on the wire (see README.md for the reasoning):
/// - every request frame gets exactly one answer: the handler's SUCCESS_RESPONSE, or an
///   ERROR_RESPONSE carrying a Fluss code (UNSUPPORTED_VERSION for unknown apis and versions,
///   CORRUPT_MESSAGE for unparsable payloads, the handler's code, UNKNOWN_SERVER_ERROR for a
///   handler that threw). Only broken framing closes a connection;
/// - requests of one connection run concurrently; each response is written as soon as it is
///   ready, so responses may overtake each other (clients match them by request id);
/// - ApiVersions (1000) and Authenticate (1038) are answered by the server itself:
///   ApiVersions lists exactly the registered apis; Authenticate accepts only the
///   PLAINTEXT protocol, as a Fluss PLAINTEXT listener does. A client that never sends
///   ApiVersions is served all the same.
///
/// Lifecycle: construct, Start() (binds), then Stop() (awaited) before destruction.
/// Threads: the executor must be single-threaded (the reactor: an io_context run by one
/// thread); Start, Stop, port and every connection run there. Handlers are called on it.
/// Ownership: owns the acceptor and every connection; shares the dispatcher with running
/// requests.
class Server {
 public:
  Server(Executor reactor, ServerOptions options, Dispatcher dispatcher);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and starts accepting. Fails (kNetwork) when the address cannot be bound.
  Status Start();

  /// The bound port (after a successful Start).
  uint16_t port() const { return port_; }

  /// Stops accepting and reading, lets requests already received finish and their
  /// responses be written for at most `drain_timeout`, then closes every connection
  /// (cancelling what handlers still await) and completes once every connection task has
  /// ended. Idempotent.
  Task<void> Stop(SteadyClock::duration drain_timeout);

  /// Open connections.
  size_t connection_count() const { return connections_.size(); }

  /// Bytes of requests being handled and responses not yet written, over all connections;
  /// and the most there ever were.
  size_t queued_bytes() const { return budget_->used(); }
  size_t queued_bytes_peak() const { return budget_->peak(); }

  /// The apis this server advertises in ApiVersions (the registered handlers plus its own).
  const std::vector<ApiVersionRange>& advertised_apis() const { return advertised_; }

 private:
  enum class State { kCreated, kRunning, kStopping, kStopped };

  void RegisterBuiltins();
  Task<void> AcceptLoop();

  Executor reactor_;
  ServerOptions options_;
  std::shared_ptr<Dispatcher> dispatcher_;
  std::shared_ptr<detail::QueueBudget> budget_;
  std::vector<ApiVersionRange> advertised_;
  asio::ip::tcp::acceptor acceptor_;
  Gate gate_;  // the accept loop and every connection task
  std::unordered_map<uint64_t, std::shared_ptr<detail::ServerConnection>> connections_;
  uint64_t next_connection_id_ = 1;
  uint16_t port_ = 0;
  State state_ = State::kCreated;
};

}  // namespace strom::rpc
