#pragma once

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <future>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "client/cluster.h"
#include "common/async.h"
#include "common/result.h"
#include "proto/api_keys.h"
#include "rpc/api_traits.h"
#include "rpc/connection.h"
#include "rpc/connection_pool.h"
#include "strom/config.h"
#include "strom/types.h"

namespace strom::client {

/// What every public client object shares: the configuration, the network thread with its
/// event loop, the connection pool, and the metadata cache (Fluss `FlussConnection` +
/// `MetadataUpdater`).
///
/// Lifecycle: Create() starts the network thread and bootstraps the metadata; the
/// destructor closes the background gate and the connection pool, then stops and joins the
/// thread. Public objects (Connection, Admin, Table, writers, scanners) hold it by
/// shared_ptr; work running on the network thread never owns it (it runs on behalf of an
/// object that is alive), so the destructor always runs on a user thread.
/// Threads: the coroutine methods (the `Task` ones, InvalidateLeaders, rng) run on the
/// network thread only. RunSync, metadata() and config() are for any other thread.
class ClientContext {
 public:
  static Result<std::shared_ptr<ClientContext>> Create(const ClientConfig& config);
  ~ClientContext();
  ClientContext(const ClientContext&) = delete;
  ClientContext& operator=(const ClientContext&) = delete;

  const ClientConfig& config() const { return config_; }
  Executor executor() { return io_.get_executor(); }
  MetadataCache& metadata() { return metadata_; }
  /// Background tasks of this context (closed, and waited for, at destruction).
  Gate& gate() { return gate_; }

  /// Runs `task` on the network thread and blocks until it finished. Must not be called
  /// from the network thread.
  template <typename T>
  T RunSync(Task<T> task) {
    STROM_CHECK(std::this_thread::get_id() != thread_.get_id(),
                "RunSync called on the client network thread");
    std::promise<T> promise;
    std::future<T> future = promise.get_future();
    asio::co_spawn(
        io_,
        [t = std::move(task), &promise]() mutable -> Task<void> {
          promise.set_value(co_await std::move(t));
        },
        [&promise](std::exception_ptr error) {
          if (error) promise.set_exception(error);
        });
    return future.get();
  }

  // ---- network thread only ----

  /// Asks the bootstrap servers for the cluster (empty MetadataRequest), trying each in
  /// turn; with a single bootstrap server up to 3 retries, 100 ms x 2^n apart (as Java).
  Task<Status> Bootstrap();

  /// Refreshes the server lists and the metadata of `tables` from a random tablet server
  /// (falling back to the bootstrap servers). kTableNotExist when a table is missing.
  Task<Status> UpdateMetadata(std::vector<TablePath> tables);

  /// Forgets the bucket leaders of `table` (after NOT_LEADER_OR_FOLLOWER and friends).
  void InvalidateLeaders(TableId table);

  /// The pooled connection to `node`.
  Task<Result<std::shared_ptr<rpc::Connection>>> Connect(const ServerNode& node);

  /// Sends `request` to `node`.
  template <proto::ApiKey kKey>
  Task<Result<typename rpc::ApiTraits<kKey>::Response>> CallNode(
      ServerNode node, typename rpc::ApiTraits<kKey>::Request request) {
    Result<std::shared_ptr<rpc::Connection>> conn = co_await Connect(node);
    if (!conn.ok()) co_return std::move(conn).status();
    co_return co_await (*conn)->template Call<kKey>(std::move(request), config_.request_timeout);
  }

  /// Sends `request` to the coordinator (DDL). When the coordinator cannot be reached the
  /// metadata is refreshed and the call tried once more.
  template <proto::ApiKey kKey>
  Task<Result<typename rpc::ApiTraits<kKey>::Response>> CallCoordinator(
      typename rpc::ApiTraits<kKey>::Request request) {
    Status last;
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::optional<ServerNode> coordinator = metadata_.Get()->coordinator();
      if (!coordinator || attempt > 0) {
        STROM_CO_RETURN_IF_ERROR(co_await UpdateMetadata(std::vector<TablePath>()));
        coordinator = metadata_.Get()->coordinator();
      }
      if (!coordinator) {
        co_return MakeError(ErrorCode::kNetwork, "the cluster did not name a coordinator");
      }
      Result<std::shared_ptr<rpc::Connection>> conn = co_await Connect(*coordinator);
      if (!conn.ok()) {
        last = std::move(conn).status();
        continue;  // not sent: safe to retry after a refresh
      }
      co_return co_await (*conn)->template Call<kKey>(request, config_.request_timeout);
    }
    co_return last;
  }

  /// Sends `request` to a random tablet server (reads about tables, InitWriter). Servers
  /// that cannot be reached are skipped, then the bootstrap servers are asked again.
  template <proto::ApiKey kKey>
  Task<Result<typename rpc::ApiTraits<kKey>::Response>> CallAnyTabletServer(
      typename rpc::ApiTraits<kKey>::Request request) {
    Status last = MakeError(ErrorCode::kNetwork, "no tablet server is known");
    for (int round = 0; round < 2; ++round) {
      if (round > 0 || metadata_.Get()->tablet_servers().empty()) {
        STROM_CO_RETURN_IF_ERROR(co_await Bootstrap());
      }
      for (const ServerNode& node : ShuffledTabletServers()) {
        Result<std::shared_ptr<rpc::Connection>> conn = co_await Connect(node);
        if (!conn.ok()) {
          last = std::move(conn).status();
          continue;
        }
        auto result = co_await (*conn)->template Call<kKey>(request, config_.request_timeout);
        if (!result.ok() && result.status().code() == ErrorCode::kNetwork) {
          last = result.status();
          continue;
        }
        co_return result;
      }
    }
    co_return last;
  }

  /// GetTableInfo from a random tablet server, as a TableInfo.
  Task<Result<TableInfo>> FetchTableInfo(TablePath path);

  /// Randomness for server choice and bucket assignment seeds.
  uint64_t NextRandom() { return rng_(); }

 private:
  explicit ClientContext(ClientConfig config);

  std::vector<ServerNode> ShuffledTabletServers();
  Task<Status> Shutdown();

  const ClientConfig config_;
  std::vector<std::pair<std::string, uint16_t>> bootstrap_;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::unique_ptr<rpc::ConnectionPool> pool_;
  MetadataCache metadata_;
  Gate gate_;
  std::mt19937_64 rng_;
};

/// A one-element table list. (Braced lists inside co_await expressions trip a GCC 12
/// coroutine bug, "array used as initializer", so coroutines build their lists here.)
inline std::vector<TablePath> OneTable(const TablePath& path) {
  std::vector<TablePath> tables;
  tables.push_back(path);
  return tables;
}

/// ListOffsets for `buckets` of `path` (every bucket when empty): fresh metadata for the
/// leaders, then one request per leader; leader moves are retried twice after a refresh.
Task<Result<std::map<BucketId, LogOffset>>> ListOffsetsTask(ClientContext* ctx, TablePath path,
                                                            std::vector<BucketId> buckets,
                                                            OffsetSpec spec);

/// Recovers the real error from an UNKNOWN_SERVER_ERROR whose message is a Java stack trace
/// ending in "Caused by: org.apache.fluss.exception.XxxException: message" (the Java server
/// answers a metadata request for a missing table that way). Other statuses pass unchanged.
Status UnwrapServerCause(const Status& status);

/// Builds a TableInfo from GetTableInfo's answer.
Result<TableInfo> TableInfoFromResponse(const TablePath& path,
                                        const proto::GetTableInfoResponse& response);

}  // namespace strom::client
