#pragma once

#include <memory>

#include "strom/admin.h"
#include "strom/config.h"
#include "strom/status.h"
#include "strom/table.h"
#include "strom/types.h"

namespace strom {

namespace client {
class ClientContext;
}

/// A session with one Fluss (or Strom) cluster: the entry point of the client API.
///
/// Create() contacts the bootstrap servers, learns the coordinator and the tablet servers
/// (GET_METADATA) and keeps that view in a metadata cache. The cache is refreshed on demand:
/// when a table's bucket leaders are needed for the first time, and whenever a server answers
/// with an error that means the client's view is stale (NOT_LEADER_OR_FOLLOWER,
/// UNKNOWN_TABLE_OR_BUCKET, LEADER_NOT_AVAILABLE, a dropped connection).
///
/// Threads: the Connection owns one private network thread (an event loop) on which every
/// request of this Connection and of the Admin, Table, AppendWriter and LogScanner objects
/// made from it runs, as the Java client owns its network thread. The public methods block
/// the calling thread until their request completes; they may be called from any number of
/// user threads at once (never from inside the network thread).
///
/// Ownership: objects created from a Connection share its internals, so they stay usable
/// even if the Connection object is destroyed first; the network thread stops once the last
/// of them is gone. Destroying an AppendWriter without Flush()/Close() still sends what it
/// buffered (its destructor closes it).
class Connection {
 public:
  /// Connects to the cluster named by `config.bootstrap_servers`. Fails with
  /// kInvalidConfig for a bad configuration, kNetwork when no bootstrap server answers.
  static Result<std::unique_ptr<Connection>> Create(const ClientConfig& config);

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// DDL and cluster inspection.
  std::unique_ptr<Admin> GetAdmin();

  /// Looks a table up (metadata + table info) and returns a handle to write and scan it.
  /// kTableNotExist when there is no such table.
  Result<std::unique_ptr<Table>> GetTable(const TablePath& path);

  const ClientConfig& config() const;

  /// The servers the client currently knows (the coordinator first).
  std::vector<ServerNode> KnownServers() const;

 private:
  explicit Connection(std::shared_ptr<client::ClientContext> context);

  std::shared_ptr<client::ClientContext> context_;
};

}  // namespace strom
