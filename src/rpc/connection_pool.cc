#include "rpc/connection_pool.h"

#include <fmt/format.h>

#include <utility>
#include <vector>

namespace strom::rpc {

ConnectionPool::ConnectionPool(Executor executor, ConnectionOptions options)
    : executor_(std::move(executor)), options_(std::move(options)) {}

size_t ConnectionPool::size() const {
  size_t open = 0;
  for (const auto& [key, entry] : entries_) {
    if (entry.connection && entry.connection->is_open()) ++open;
  }
  return open;
}

Task<Result<std::shared_ptr<Connection>>> ConnectionPool::Get(std::string host, uint16_t port) {
  std::string key = fmt::format("{}:{}", host, port);
  if (closed_) co_return MakeError(ErrorCode::kNetwork, "connection pool is closed ({})", key);
  Entry& entry = entries_[key];
  if (entry.connection && entry.connection->is_open()) co_return entry.connection;
  if (entry.attempt) {
    std::shared_ptr<Attempt> attempt = entry.attempt;
    co_await attempt->done.async_wait(kAwaitTuple);
    if (attempt->result) co_return *attempt->result;
    co_return MakeError(ErrorCode::kNetwork, "connecting to {} was interrupted", key);
  }
  if (entry.connection) {
    // Failed earlier: its loops have ended or are ending; let it go.
    entry.connection.reset();
  }
  auto attempt = std::make_shared<Attempt>(executor_);
  entry.attempt = attempt;
  Result<std::shared_ptr<Connection>> connected =
      co_await Connection::Connect(executor_, host, port, options_);
  // `entry` may be gone (Close() clears the map while this coroutine waits): look it up.
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.attempt == attempt) {
    it->second.attempt.reset();
    if (connected.ok()) it->second.connection = *connected;
  }
  if (connected.ok() && closed_) {
    co_await (*connected)->CloseAndWait();
    connected =
        MakeError(ErrorCode::kNetwork, "connection pool closed while connecting to {}", key);
  }
  attempt->result.emplace(connected);
  attempt->done.cancel();
  co_return connected;
}

Task<void> ConnectionPool::Close() {
  closed_ = true;
  std::vector<std::shared_ptr<Connection>> open;
  for (auto& [key, entry] : entries_) {
    if (entry.connection) open.push_back(std::move(entry.connection));
  }
  entries_.clear();
  for (auto& connection : open) co_await connection->CloseAndWait();
}

}  // namespace strom::rpc
