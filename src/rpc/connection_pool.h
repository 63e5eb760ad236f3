#pragma once

#include <asio/steady_timer.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/async.h"
#include "common/result.h"
#include "rpc/connection.h"

namespace strom::rpc {

/// Client connections shared by host:port, for clients and server-to-server calls.
///
/// Get() returns the open connection to an address, or connects. Concurrent Get()s for an
/// address that is still connecting wait for that one attempt instead of opening more. A
/// connection that has failed is replaced on the next Get(); a failed attempt is not
/// cached, so the next Get() tries again.
///
/// Lifecycle: construct, Get() as needed, Close() (awaited) before destruction.
/// Threads: the executor must be single-threaded; every method runs on it.
/// Ownership: the pool owns its connections; callers share them through the shared_ptr
/// returned by Get() and must not close them (Close() here does).
class ConnectionPool {
 public:
  ConnectionPool(Executor executor, ConnectionOptions options);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  /// An open connection to host:port. Fails like Connection::Connect, or with
  /// NETWORK_EXCEPTION once the pool is closed.
  Task<Result<std::shared_ptr<Connection>>> Get(std::string host, uint16_t port);

  /// Closes every connection, waits for their loops to end, and refuses further Get()s.
  Task<void> Close();

  /// Addresses with an open connection.
  size_t size() const;

 private:
  // One connect in progress; its waiters sleep on `done` until the result is in.
  struct Attempt {
    explicit Attempt(Executor executor)
        : done(std::move(executor), asio::steady_timer::time_point::max()) {}
    asio::steady_timer done;
    std::optional<Result<std::shared_ptr<Connection>>> result;
  };
  struct Entry {
    std::shared_ptr<Connection> connection;
    std::shared_ptr<Attempt> attempt;
  };

  Executor executor_;
  ConnectionOptions options_;
  std::map<std::string, Entry> entries_;
  bool closed_ = false;
};

}  // namespace strom::rpc
