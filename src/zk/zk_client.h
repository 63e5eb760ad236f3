#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/async.h"
#include "common/config/config.h"
#include "common/status.h"

namespace strom::zk {

/// ZooKeeper's result codes (the values of the C client's ZOO_ERRORS), for the outcomes that
/// callers branch on. Anything else arrives as kOther with the C client's number kept in the
/// message.
enum class ZkCode : int32_t {
  kOk = 0,
  kConnectionLoss = -4,
  kMarshallingError = -5,
  kOperationTimeout = -7,
  kBadArguments = -8,
  kInvalidState = -9,
  kNoNode = -101,
  kNoAuth = -102,
  kBadVersion = -103,
  kNoChildrenForEphemerals = -108,
  kNodeExists = -110,
  kNotEmpty = -111,
  kSessionExpired = -112,
  kAuthFailed = -115,
  kClosing = -116,
  kSessionMoved = -118,
  kOther = -1,
};

/// "ZNONODE", "ZBADVERSION", ... (ZooKeeper's own names).
std::string_view ZkCodeName(ZkCode code);

/// True for the codes after which the same request may succeed once the client has
/// reconnected (the connection dropped or timed out; the session may still be alive).
bool IsConnectionError(ZkCode code);

/// The Fluss error a ZooKeeper failure becomes when it leaves the zk layer: connection loss,
/// timeouts and an expired or closing session -> kNetwork (retriable); a refused
/// authentication -> kAuthorization; a node state conflict (no node, node exists, bad
/// version, not empty) -> kStorage; anything else -> kUnknownServerError. The message names
/// the operation, the path and ZooKeeper's code.
Status ZkStatus(ZkCode code, std::string_view operation, std::string_view path);

/// The outcome of one ZooKeeper call: ZkCode::kOk with a value, or a ZooKeeper code.
/// A plain value; T must be default-constructible.
template <typename T>
class [[nodiscard]] ZkResult {
 public:
  ZkResult() = default;
  ZkResult(ZkCode code, T value, std::string operation, std::string path)
      : code_(code), value_(std::move(value)), op_(std::move(operation)), path_(std::move(path)) {}

  bool ok() const { return code_ == ZkCode::kOk; }
  ZkCode code() const { return code_; }
  const T& value() const& { return value_; }
  T& value() & { return value_; }
  T&& value() && { return std::move(value_); }
  const T& operator*() const& { return value_; }
  T& operator*() & { return value_; }
  const T* operator->() const { return &value_; }
  T* operator->() { return &value_; }
  /// OK, or the Fluss error of ZkStatus.
  Status status() const { return ok() ? Status::OK() : ZkStatus(code_, op_, path_); }

 private:
  ZkCode code_ = ZkCode::kOk;
  T value_{};
  std::string op_;
  std::string path_;
};

/// What a node looks like (ZooKeeper's Stat).
struct ZkStat {
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t ctime = 0;
  int64_t mtime = 0;
  int32_t version = 0;
  int32_t cversion = 0;
  int32_t aversion = 0;
  /// Session id of the owner of an ephemeral node; 0 for a persistent one.
  int64_t ephemeral_owner = 0;
  int32_t data_length = 0;
  int32_t num_children = 0;
  int64_t pzxid = 0;
};

/// A node's data with its Stat.
struct ZkNode {
  std::string data;
  ZkStat stat;
};

enum class CreateMode { kPersistent, kEphemeral, kPersistentSequential, kEphemeralSequential };

/// Any version (no compare-and-set).
inline constexpr int32_t kAnyVersion = -1;

/// One operation of a multi-op transaction (ZooKeeper `multi`).
struct ZkOp {
  enum class Type { kCreate, kDelete, kSetData, kCheck };
  Type type = Type::kCheck;
  std::string path;
  std::string data;
  CreateMode mode = CreateMode::kPersistent;
  int32_t version = kAnyVersion;

  static ZkOp Create(std::string path, std::string data,
                     CreateMode mode = CreateMode::kPersistent) {
    return ZkOp{Type::kCreate, std::move(path), std::move(data), mode, kAnyVersion};
  }
  static ZkOp Delete(std::string path, int32_t version = kAnyVersion) {
    return ZkOp{Type::kDelete, std::move(path), {}, CreateMode::kPersistent, version};
  }
  static ZkOp SetData(std::string path, std::string data, int32_t version = kAnyVersion) {
    return ZkOp{Type::kSetData, std::move(path), std::move(data), CreateMode::kPersistent,
                version};
  }
  static ZkOp Check(std::string path, int32_t version) {
    return ZkOp{Type::kCheck, std::move(path), {}, CreateMode::kPersistent, version};
  }
};

/// The result of one operation of a transaction: its own code, the created path (create),
/// the new Stat (set).
struct ZkOpResult {
  ZkCode code = ZkCode::kOk;
  std::string path;
  ZkStat stat;
};

/// A watch notification. A watch fires at most once: for a change of its node, or with
/// kSessionExpired when the session that set it has ended (the watch is then gone and must
/// be set again on the new session).
struct WatchEvent {
  enum class Type { kCreated, kDeleted, kDataChanged, kChildrenChanged, kSessionExpired };
  Type type = Type::kSessionExpired;
  std::string path;
};
/// Called once on the client's executor.
using WatchCallback = std::function<void(WatchEvent)>;

/// Changes of the client's session, in order, on the client's executor.
enum class SessionEvent {
  /// The connection dropped; the client reconnects within the session. Ephemeral nodes and
  /// watches stay as long as it does so within the session timeout.
  kDisconnected,
  /// Reconnected within the same session.
  kReconnected,
  /// The server ended the session, or the client was cut off from every server for longer
  /// than the session timeout (after which the server has ended it, as Curator assumes):
  /// its ephemeral nodes are gone and its watches have fired with kSessionExpired. Calls
  /// fail with kSessionExpired / kInvalidState until a new session exists.
  kExpired,
  /// A new session replaced the expired one (automatically, or by RecreateSession()):
  /// owners re-create their ephemeral nodes and set their watches again.
  kNewSession,
};
std::string_view SessionEventName(SessionEvent event);
using SessionListener = std::function<void(SessionEvent)>;

struct ZkClientOptions {
  /// host:port[,host:port...] (the `zookeeper.address` option).
  std::string connect_string;
  /// Session timeout asked from the server (`zookeeper.client.session-timeout`); the server
  /// clamps it into [2, 20] ticks.
  SteadyClock::duration session_timeout = std::chrono::seconds(60);
  /// Bound on establishing a session (`zookeeper.client.connection-timeout`).
  SteadyClock::duration connection_timeout = std::chrono::seconds(15);
  /// Pause between attempts to create a new session after expiry
  /// (`zookeeper.client.retry-wait`).
  SteadyClock::duration retry_wait = std::chrono::seconds(5);
  /// Attempts of a read (and of the writes that are safe to repeat) that hit a connection
  /// error or an expired session (`zookeeper.client.max-retry-attempts`).
  int max_retry_attempts = 3;
  /// Bound on calls in flight at once (`zookeeper.client.max-inflight-requests`); further
  /// calls wait for a free slot.
  int max_inflight_requests = 100;
  /// Whether an expired session is replaced by a new one without being asked.
  bool recreate_expired_session = true;

  /// The options of a server's configuration (`zookeeper.*`, Fluss's keys and defaults).
  /// kInvalidConfig when `zookeeper.address` is not set.
  static Result<ZkClientOptions> FromConfig(const config::Configuration& config);
};

/// An awaitable ZooKeeper client over the multi-threaded C client (`libzookeeper-mt`).
///
/// Threads: every method is called from, and every result, watch and session event is
/// delivered on, the executor given to Connect() (the reactor). The C client's own I/O and
/// completion threads only copy results and post them to that executor; none of our logic
/// runs on them and the reactor never blocks (closing a session, which the C client does
/// synchronously, runs on a private helper thread).
///
/// Retries: a call that fails with a connection error (connection loss, operation timeout)
/// or an expired session waits until the client is connected again (bounded by the session
/// timeout) and repeats, up to max_retry_attempts, when repeating it is safe: reads, sets
/// and deletes (a versioned set or a delete that got through before the connection dropped
/// answers kBadVersion / kNoNode when repeated, which the compare-and-set caller resolves).
/// Create and Multi are not repeated: after a connection error their outcome is unknown
/// (ZooKeeper semantics) and the caller, who knows what the node should hold, repeats them
/// and recognises its own earlier success (see ZkMetadataStore). EnsurePath repeats itself.
///
/// Sessions: see SessionEvent. After expiry the client creates a new session on its own
/// (unless disabled), retrying every retry_wait, and announces it with kNewSession.
///
/// Lifecycle: Connect() returns a connected client. Await Close() before destroying the
/// executor's io_context; destroying an unclosed client closes its session synchronously.
/// Ownership: owns its session handle and the watch callbacks until they fire.
class ZkClient {
 public:
  /// Connects and waits for the session (bounded by options.connection_timeout): kNetwork
  /// when no server answered in time.
  static Task<Result<std::unique_ptr<ZkClient>>> Connect(Executor executor,
                                                         ZkClientOptions options);

  ~ZkClient();
  ZkClient(const ZkClient&) = delete;
  ZkClient& operator=(const ZkClient&) = delete;

  /// Ends the session (its ephemeral nodes go at once) and waits until the C client has
  /// stopped. Calls made afterwards fail with kClosing.
  Task<void> Close();

  /// Creates a node; returns its path (with the sequence suffix for sequential modes).
  /// kNodeExists, kNoNode (parent missing), kNoChildrenForEphemerals.
  Task<ZkResult<std::string>> Create(std::string path, std::string data, CreateMode mode);
  /// Creates every missing ancestor of `path` (not `path` itself) as a persistent node with
  /// empty data, like Curator's creatingParentsIfNeeded.
  Task<ZkResult<bool>> CreateParents(std::string path);
  /// Creates `path` and its missing ancestors as persistent nodes with empty data; OK when
  /// they exist already.
  Task<ZkResult<bool>> EnsurePath(std::string path);
  /// The node's data and Stat; kNoNode. With `watch`, a watch is set when the node exists.
  Task<ZkResult<ZkNode>> Get(std::string path, WatchCallback watch = {});
  /// Replaces the data if the node's version equals `version` (kAnyVersion: always);
  /// returns the new Stat. kNoNode, kBadVersion.
  Task<ZkResult<ZkStat>> Set(std::string path, std::string data, int32_t version = kAnyVersion);
  /// Deletes the node if its version equals `version`. kNoNode, kBadVersion, kNotEmpty.
  Task<ZkResult<bool>> Delete(std::string path, int32_t version = kAnyVersion);
  /// Deletes the node and everything below it (children first); OK when it is already gone.
  Task<ZkResult<bool>> DeleteRecursive(std::string path);
  /// The node's Stat, or nullopt when it does not exist. With `watch`, a watch is set either
  /// way (it fires on creation of a missing node).
  Task<ZkResult<std::optional<ZkStat>>> Exists(std::string path, WatchCallback watch = {});
  /// Child names (unsorted, as the server lists them); kNoNode. With `watch`, fires when
  /// the set of children changes or the node is deleted.
  Task<ZkResult<std::vector<std::string>>> Children(std::string path, WatchCallback watch = {});
  /// Runs all operations atomically. On failure the result code is the first failing
  /// operation's, and the per-operation results say which one it was.
  Task<ZkResult<std::vector<ZkOpResult>>> Multi(std::vector<ZkOp> ops);

  /// Registers a listener of session events; called on the executor until the client is
  /// closed. Returns an id for RemoveSessionListener.
  int AddSessionListener(SessionListener listener);
  void RemoveSessionListener(int id);

  /// Closes the current session (whatever its state) and creates a new one. A live session
  /// ended this way is announced as kExpired (its watches fire with kSessionExpired), the
  /// new one as kNewSession; kNetwork when no new session could be established in time.
  Task<Status> RecreateSession();

  /// Waits until the client is connected (or `timeout` passes); true when connected.
  Task<bool> AwaitConnected(SteadyClock::duration timeout);

  bool connected() const;
  /// The current session's id (0 before the first session).
  int64_t session_id() const;
  /// The current session's password, for tests that expire it from a second handle.
  std::string session_password() const;
  /// The session timeout the server granted.
  SteadyClock::duration negotiated_session_timeout() const;
  const ZkClientOptions& options() const;
  /// The executor every result and event is delivered on.
  Executor executor() const;

  struct Impl;

 private:
  explicit ZkClient(std::shared_ptr<Impl> impl);
  template <typename T, typename Attempt>
  Task<ZkResult<T>> Retrying(Attempt attempt, bool retry);

  std::shared_ptr<Impl> impl_;
};

/// Joins a parent path and a child name ("/a" + "b" = "/a/b", "/" + "b" = "/b").
std::string JoinPath(std::string_view parent, std::string_view child);
/// The parent of an absolute path ("/a/b" -> "/a", "/a" -> "/").
std::string ParentPath(std::string_view path);

}  // namespace strom::zk
