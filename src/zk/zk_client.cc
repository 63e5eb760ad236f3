#include "zk/zk_client.h"

#include <zookeeper/zookeeper.h>

#include <asio/post.hpp>
#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "common/config/options.h"
#include "common/logging.h"

namespace strom::zk {
namespace {

constexpr std::string_view kLog = "zk";

ZkCode CodeOf(int rc) {
  switch (rc) {
    case ZOK: return ZkCode::kOk;
    case ZCONNECTIONLOSS: return ZkCode::kConnectionLoss;
    case ZMARSHALLINGERROR: return ZkCode::kMarshallingError;
    case ZOPERATIONTIMEOUT: return ZkCode::kOperationTimeout;
    case ZBADARGUMENTS: return ZkCode::kBadArguments;
    case ZINVALIDSTATE: return ZkCode::kInvalidState;
    case ZNONODE: return ZkCode::kNoNode;
    case ZNOAUTH: return ZkCode::kNoAuth;
    case ZBADVERSION: return ZkCode::kBadVersion;
    case ZNOCHILDRENFOREPHEMERALS: return ZkCode::kNoChildrenForEphemerals;
    case ZNODEEXISTS: return ZkCode::kNodeExists;
    case ZNOTEMPTY: return ZkCode::kNotEmpty;
    case ZSESSIONEXPIRED: return ZkCode::kSessionExpired;
    case ZAUTHFAILED: return ZkCode::kAuthFailed;
    case ZCLOSING: return ZkCode::kClosing;
    case ZSESSIONMOVED: return ZkCode::kSessionMoved;
    default: return ZkCode::kOther;
  }
}

ZkStat StatOf(const struct Stat* s) {
  ZkStat out;
  if (s == nullptr) return out;
  out.czxid = s->czxid;
  out.mzxid = s->mzxid;
  out.ctime = s->ctime;
  out.mtime = s->mtime;
  out.version = s->version;
  out.cversion = s->cversion;
  out.aversion = s->aversion;
  out.ephemeral_owner = s->ephemeralOwner;
  out.data_length = s->dataLength;
  out.num_children = s->numChildren;
  out.pzxid = s->pzxid;
  return out;
}

int ModeFlags(CreateMode mode) {
  switch (mode) {
    case CreateMode::kPersistent: return ZOO_PERSISTENT;
    case CreateMode::kEphemeral: return ZOO_EPHEMERAL;
    case CreateMode::kPersistentSequential: return ZOO_PERSISTENT_SEQUENTIAL;
    case CreateMode::kEphemeralSequential: return ZOO_EPHEMERAL_SEQUENTIAL;
  }
  return ZOO_PERSISTENT;
}

int TimeoutMs(SteadyClock::duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return static_cast<int>(std::clamp<int64_t>(ms, 1, std::numeric_limits<int32_t>::max()));
}

/// Everything a completion carries back to the reactor.
struct RawReply {
  int rc = ZOK;
  std::string data;
  std::string path;
  ZkStat stat;
  bool has_stat = false;
  std::vector<std::string> children;
  std::vector<ZkOpResult> multi;
};

/// ZooKeeper's path rules (absolute, no empty, "." or ".." segment, no trailing slash except
/// for a sequential create, no NUL). Checked before the C client sees a path: its multi-op
/// call leaks memory when it rejects one itself.
bool ValidPath(std::string_view path, bool sequential) {
  if (path.empty() || path.front() != '/') return false;
  if (path.size() == 1) return !sequential;
  if (path.find('\0') != std::string_view::npos) return false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    const bool last = end == path.size();
    if (segment.empty() && !(last && sequential)) return false;
    if (segment == "." || segment == "..") return false;
    start = end + 1;
  }
  return true;
}

bool IsSequential(CreateMode mode) {
  return mode == CreateMode::kPersistentSequential || mode == CreateMode::kEphemeralSequential;
}

void CLogCallback(const char* message) {
  // The C client logs connection attempts and failures from its own threads; spdlog is
  // thread-safe. They are routine while a server restarts, so they stay at debug level.
  STROM_LOG_DEBUG(kLog, "libzookeeper: {}", message);
}

}  // namespace

std::string_view ZkCodeName(ZkCode code) {
  switch (code) {
    case ZkCode::kOk: return "ZOK";
    case ZkCode::kConnectionLoss: return "ZCONNECTIONLOSS";
    case ZkCode::kMarshallingError: return "ZMARSHALLINGERROR";
    case ZkCode::kOperationTimeout: return "ZOPERATIONTIMEOUT";
    case ZkCode::kBadArguments: return "ZBADARGUMENTS";
    case ZkCode::kInvalidState: return "ZINVALIDSTATE";
    case ZkCode::kNoNode: return "ZNONODE";
    case ZkCode::kNoAuth: return "ZNOAUTH";
    case ZkCode::kBadVersion: return "ZBADVERSION";
    case ZkCode::kNoChildrenForEphemerals: return "ZNOCHILDRENFOREPHEMERALS";
    case ZkCode::kNodeExists: return "ZNODEEXISTS";
    case ZkCode::kNotEmpty: return "ZNOTEMPTY";
    case ZkCode::kSessionExpired: return "ZSESSIONEXPIRED";
    case ZkCode::kAuthFailed: return "ZAUTHFAILED";
    case ZkCode::kClosing: return "ZCLOSING";
    case ZkCode::kSessionMoved: return "ZSESSIONMOVED";
    case ZkCode::kOther: return "ZSYSTEMERROR";
  }
  return "ZUNKNOWN";
}

bool IsConnectionError(ZkCode code) {
  return code == ZkCode::kConnectionLoss || code == ZkCode::kOperationTimeout ||
         code == ZkCode::kSessionMoved;
}

Status ZkStatus(ZkCode code, std::string_view operation, std::string_view path) {
  ErrorCode ec = ErrorCode::kUnknownServerError;
  switch (code) {
    case ZkCode::kOk: return Status::OK();
    case ZkCode::kConnectionLoss:
    case ZkCode::kOperationTimeout:
    case ZkCode::kSessionMoved:
    case ZkCode::kSessionExpired:
    case ZkCode::kInvalidState:
    case ZkCode::kClosing:
      ec = ErrorCode::kNetwork;
      break;
    case ZkCode::kNoAuth:
    case ZkCode::kAuthFailed:
      ec = ErrorCode::kAuthorization;
      break;
    case ZkCode::kNoNode:
    case ZkCode::kNodeExists:
    case ZkCode::kBadVersion:
    case ZkCode::kNotEmpty:
    case ZkCode::kNoChildrenForEphemerals:
      ec = ErrorCode::kStorage;
      break;
    default:
      break;
  }
  return MakeError(ec, "ZooKeeper {} {} failed: {}", operation, path, ZkCodeName(code));
}

Result<ZkClientOptions> ZkClientOptions::FromConfig(const config::Configuration& config) {
  ZkClientOptions options;
  options.connect_string = config.Get(config::kZookeeperAddress);
  if (options.connect_string.empty()) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "zookeeper.address must be set for a distributed cluster");
  }
  options.session_timeout = config.Get(config::kZookeeperSessionTimeout);
  options.connection_timeout = config.Get(config::kZookeeperConnectionTimeout);
  options.retry_wait = config.Get(config::kZookeeperRetryWait);
  options.max_retry_attempts = std::max(1, config.Get(config::kZookeeperMaxRetryAttempts));
  options.max_inflight_requests = std::max(1, config.Get(config::kZookeeperMaxInflightRequests));
  return options;
}

std::string_view SessionEventName(SessionEvent event) {
  switch (event) {
    case SessionEvent::kDisconnected: return "disconnected";
    case SessionEvent::kReconnected: return "reconnected";
    case SessionEvent::kExpired: return "expired";
    case SessionEvent::kNewSession: return "new-session";
  }
  return "unknown";
}

std::string JoinPath(std::string_view parent, std::string_view child) {
  std::string out(parent);
  if (out.empty() || out.back() != '/') out.push_back('/');
  out.append(child);
  return out;
}

std::string ParentPath(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

// ---------------------------------------------------------------------------------------
// Session: one zhandle and the watch contexts the C client may still call.

namespace {

struct Session;

/// The context of one watch, owned by the Session while the C client may call it.
struct WatchContext {
  Session* session = nullptr;
  WatchCallback callback;
  bool fired = false;
};

}  // namespace

namespace {
struct Session {
  zhandle_t* zh = nullptr;
  uint64_t generation = 0;
  Executor executor;
  std::weak_ptr<ZkClient::Impl> impl;
  /// Whether reaching CONNECTED announces kNewSession (a replacement session).
  bool announce_new = false;
  /// Touched on the reactor only.
  bool ever_connected = false;

  std::mutex mu;
  std::set<WatchContext*> watches;

  ~Session() {
    // Only destroyed once zookeeper_close has returned: nobody can call these any more.
    for (WatchContext* w : watches) delete w;
  }

  WatchContext* NewWatch(WatchCallback cb) {
    auto* w = new WatchContext{this, std::move(cb), false};
    std::lock_guard<std::mutex> lock(mu);
    watches.insert(w);
    return w;
  }
  void DropWatch(WatchContext* w) {
    {
      std::lock_guard<std::mutex> lock(mu);
      watches.erase(w);
    }
    delete w;
  }
};
}  // namespace

struct ZkClient::Impl : std::enable_shared_from_this<ZkClient::Impl> {
  Impl(Executor ex, ZkClientOptions opts)
      : executor(ex),
        options(std::move(opts)),
        state_changed(ex),
        retry_timer(ex),
        disconnect_timer(ex) {}

  Executor executor;
  ZkClientOptions options;
  /// Runs the C client's blocking calls (zookeeper_init resolves names, zookeeper_close
  /// waits for its threads), off the reactor.
  asio::thread_pool helper{1};
  std::shared_ptr<Session> session;
  uint64_t generation = 0;
  bool connected = false;
  bool expired = false;
  bool closed = false;
  bool recreating = false;
  int64_t session_id = 0;
  std::string password;
  int negotiated_timeout_ms = 0;
  Notifier state_changed;
  asio::steady_timer retry_timer;
  /// Runs while disconnected: once a session timeout has passed without a reconnection,
  /// the server has expired the session, whether or not we have heard so.
  asio::steady_timer disconnect_timer;
  std::map<int, SessionListener> listeners;
  int next_listener_id = 1;
  /// Calls in flight, bounded by options.max_inflight_requests.
  int inflight = 0;
  std::unique_ptr<Notifier> slot_freed;
  Gate gate;

  void Emit(SessionEvent event) {
    STROM_LOG_INFO(kLog, "ZooKeeper session 0x{:x} {}", session_id, SessionEventName(event));
    auto copy = listeners;
    for (auto& [id, listener] : copy) {
      if (listeners.count(id) > 0) listener(event);
    }
  }

  void OnSessionState(uint64_t gen, int state) {
    if (closed || session == nullptr || gen != session->generation) return;
    if (state == ZOO_CONNECTED_STATE) {
      connected = true;
      expired = false;
      disconnect_timer.cancel();
      if (session->zh != nullptr) {
        const clientid_t* id = zoo_client_id(session->zh);
        session_id = id->client_id;
        password.assign(id->passwd, sizeof(id->passwd));
        negotiated_timeout_ms = zoo_recv_timeout(session->zh);
      }
      bool first = !session->ever_connected;
      session->ever_connected = true;
      state_changed.Notify();
      if (!first) {
        Emit(SessionEvent::kReconnected);
      } else if (session->announce_new) {
        Emit(SessionEvent::kNewSession);
      }
    } else if (state == ZOO_CONNECTING_STATE || state == ZOO_ASSOCIATING_STATE ||
               state == ZOO_NOTCONNECTED_STATE) {
      if (connected) {
        connected = false;
        state_changed.Notify();
        ArmDisconnectTimer(gen);
        Emit(SessionEvent::kDisconnected);
      }
    } else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
      if (state == ZOO_AUTH_FAILED_STATE) {
        STROM_LOG_ERROR(kLog, "ZooKeeper refused the authentication of session 0x{:x}",
                        session_id);
      }
      OnExpired();
    }
  }

  void OnExpired() {
    if (expired || closed) return;
    connected = false;
    expired = true;
    disconnect_timer.cancel();
    state_changed.Notify();
    Emit(SessionEvent::kExpired);
    if (options.recreate_expired_session && !recreating) {
      auto self = shared_from_this();
      SpawnBackground(executor, gate, "zk-recreate-session", RecreateLoop(self));
    }
  }

  /// A client cut off from every server learns of its session's expiry only when it gets
  /// through again. Like Curator, treat a disconnection longer than the negotiated session
  /// timeout as expiry: the server has ended the session by then, so ephemeral nodes and
  /// the leadership they stand for are gone, and holders must stop acting on them.
  void ArmDisconnectTimer(uint64_t gen) {
    int timeout_ms = negotiated_timeout_ms > 0 ? negotiated_timeout_ms
                                               : TimeoutMs(options.session_timeout);
    disconnect_timer.expires_after(std::chrono::milliseconds(timeout_ms));
    std::weak_ptr<Impl> weak = weak_from_this();
    disconnect_timer.async_wait([weak, gen](std::error_code ec) {
      if (ec) return;
      auto self = weak.lock();
      if (!self || self->closed || self->connected || self->session == nullptr ||
          self->session->generation != gen) {
        return;
      }
      STROM_LOG_WARN(kLog, "ZooKeeper session 0x{:x}: disconnected for longer than its timeout",
                     self->session_id);
      self->OnExpired();
    });
  }

  static void GlobalWatcher(zhandle_t*, int type, int state, const char*, void* ctx) {
    if (type != ZOO_SESSION_EVENT) return;
    auto* s = static_cast<Session*>(ctx);
    std::weak_ptr<Impl> weak = s->impl;
    uint64_t gen = s->generation;
    asio::post(s->executor, [weak, gen, state] {
      if (auto impl = weak.lock()) impl->OnSessionState(gen, state);
    });
  }

  static void WatchFn(zhandle_t*, int type, int state, const char* path, void* ctx) {
    auto* w = static_cast<WatchContext*>(ctx);
    Session* s = w->session;
    WatchEvent event;
    event.path = path != nullptr ? path : "";
    bool node_event = true;
    if (type == ZOO_SESSION_EVENT) {
      // Connection state changes reach every watch; only the end of the session ends it.
      if (state != ZOO_EXPIRED_SESSION_STATE && state != ZOO_AUTH_FAILED_STATE) return;
      event.type = WatchEvent::Type::kSessionExpired;
      node_event = false;
    } else if (type == ZOO_CREATED_EVENT) {
      event.type = WatchEvent::Type::kCreated;
    } else if (type == ZOO_DELETED_EVENT) {
      event.type = WatchEvent::Type::kDeleted;
    } else if (type == ZOO_CHANGED_EVENT) {
      event.type = WatchEvent::Type::kDataChanged;
    } else if (type == ZOO_CHILD_EVENT) {
      event.type = WatchEvent::Type::kChildrenChanged;
    } else {
      return;  // ZOO_NOTWATCHING_EVENT: we never remove watches.
    }
    if (w->fired) return;
    w->fired = true;
    WatchCallback cb = std::move(w->callback);
    std::weak_ptr<Impl> weak = s->impl;
    asio::post(s->executor, [weak, cb = std::move(cb), event = std::move(event)]() mutable {
      auto impl = weak.lock();
      if (impl && !impl->closed && cb) cb(std::move(event));
    });
    // A node event removed the watch from the C client's tables: nobody calls it again.
    // After a session event it stays there until the handle is closed.
    if (node_event) s->DropWatch(w);
  }

  Task<bool> AwaitConnected(SteadyClock::duration timeout) {
    auto deadline = SteadyClock::now() + timeout;
    while (true) {
      if (connected) co_return true;
      if (closed) co_return false;
      // An expired session that nobody replaces never connects again.
      if (expired && !recreating && !options.recreate_expired_session) co_return false;
      auto now = SteadyClock::now();
      if (now >= deadline) co_return false;
      co_await WithTimeout(state_changed.Wait(), deadline - now);
    }
  }

  /// Starts a new session (closing none) and waits until it is connected.
  Task<Status> OpenSession(bool announce_new) {
    auto s = std::make_shared<Session>();
    s->generation = ++generation;
    s->executor = executor;
    s->impl = weak_from_this();
    s->announce_new = announce_new;
    session = s;
    connected = false;
    expired = false;
    std::string connect = options.connect_string;
    int timeout_ms = TimeoutMs(options.session_timeout);
    Session* raw = s.get();
    auto init = [connect, timeout_ms, raw]() {
      return zookeeper_init2(connect.c_str(), &Impl::GlobalWatcher, timeout_ms, nullptr, raw, 0,
                             &CLogCallback);
    };
    zhandle_t* zh = co_await RunBlocking(helper, std::move(init));
    if (zh == nullptr) {
      co_return MakeError(ErrorCode::kInvalidConfig,
                          "cannot create a ZooKeeper client for \"{}\" (errno {})", connect,
                          errno);
    }
    s->zh = zh;
    if (closed) {
      // Close() ran while the handle was being made: it could not close this one.
      co_await CloseSession(s);
      co_return MakeError(ErrorCode::kNetwork, "ZooKeeper client closed");
    }
    if (co_await AwaitConnected(options.connection_timeout)) co_return Status::OK();
    if (closed) co_return MakeError(ErrorCode::kNetwork, "ZooKeeper client closed");
    co_return MakeError(ErrorCode::kNetwork, "no ZooKeeper session with {} within {} ms",
                        connect,
                        std::chrono::duration_cast<std::chrono::milliseconds>(
                            options.connection_timeout)
                            .count());
  }

  /// Closes `s` on the helper thread; its pending calls complete with kClosing. With
  /// `expire_watches`, the watches of `s` that have not fired get kSessionExpired (the C
  /// client drops them silently on close).
  Task<void> CloseSession(std::shared_ptr<Session> s, bool expire_watches = false) {
    if (s == nullptr || s->zh == nullptr) co_return;
    zhandle_t* zh = s->zh;
    s->zh = nullptr;
    auto close = [zh, s]() { zookeeper_close(zh); };
    co_await RunBlocking(helper, std::move(close));
    if (!expire_watches) co_return;
    // The C client's threads are gone: nobody else touches the watch contexts now.
    std::vector<WatchCallback> pending;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      for (WatchContext* w : s->watches) {
        if (!w->fired && w->callback) {
          w->fired = true;
          pending.push_back(std::move(w->callback));
        }
      }
    }
    for (auto& cb : pending) {
      WatchEvent event;
      event.type = WatchEvent::Type::kSessionExpired;
      cb(std::move(event));
    }
  }

  Task<Status> Recreate() {
    while (recreating && !closed) co_await state_changed.Wait();
    if (closed) co_return MakeError(ErrorCode::kNetwork, "ZooKeeper client closed");
    recreating = true;
    auto old = session;
    connected = false;
    if (!expired) {
      // Ending a live session on purpose: its holders lose their ephemeral nodes exactly as
      // on expiry, so they hear the same event.
      expired = true;
      disconnect_timer.cancel();
      state_changed.Notify();
      Emit(SessionEvent::kExpired);
    }
    co_await CloseSession(old, /*expire_watches=*/true);
    Status status = co_await OpenSession(/*announce_new=*/true);
    if (!status.ok()) co_await CloseSession(session);
    recreating = false;
    state_changed.Notify();
    co_return status;
  }

  static Task<void> RecreateLoop(std::shared_ptr<Impl> self) {
    while (!self->closed && self->expired) {
      Status status = co_await self->Recreate();
      if (status.ok() || self->closed) break;
      STROM_LOG_WARN(kLog, "could not replace the expired ZooKeeper session: {}",
                     status.ToString());
      self->expired = true;
      self->retry_timer.expires_after(self->options.retry_wait);
      co_await self->retry_timer.async_wait(kAwaitTuple);
    }
  }
};

namespace {

/// A call in flight: the completion the C client invokes, plus what must outlive it.
struct Call {
  enum class Kind { kString, kStat, kData, kVoid, kChildren, kExists, kMulti };
  Kind kind = Kind::kVoid;
  Executor executor;
  std::function<void(RawReply)> resume;
  WatchContext* watch = nullptr;
  // Multi storage, written by the C client at completion time.
  std::vector<zoo_op_result_t> results;
  std::vector<std::vector<char>> path_buffers;
  std::vector<struct Stat> stats;
  std::vector<ZkOp::Type> op_types;

  /// Completes the awaiting coroutine on its executor and frees this call.
  static void Finish(Call* call, RawReply reply) {
    if (call->watch != nullptr) {
      // The C client keeps a watch only when the call succeeded (exists: also on ZNONODE).
      bool armed = reply.rc == ZOK || (call->kind == Kind::kExists && reply.rc == ZNONODE);
      if (!armed) call->watch->session->DropWatch(call->watch);
    }
    asio::post(call->executor,
               [resume = std::move(call->resume), reply = std::move(reply)]() mutable {
                 resume(std::move(reply));
               });
    delete call;
  }

  static void OnString(int rc, const char* value, const void* data) {
    RawReply r;
    r.rc = rc;
    if (rc == ZOK && value != nullptr) r.path = value;
    Finish(static_cast<Call*>(const_cast<void*>(data)), std::move(r));
  }
  static void OnStat(int rc, const struct Stat* stat, const void* data) {
    RawReply r;
    r.rc = rc;
    if (rc == ZOK && stat != nullptr) {
      r.stat = StatOf(stat);
      r.has_stat = true;
    }
    Finish(static_cast<Call*>(const_cast<void*>(data)), std::move(r));
  }
  static void OnData(int rc, const char* value, int len, const struct Stat* stat,
                     const void* data) {
    RawReply r;
    r.rc = rc;
    if (rc == ZOK) {
      if (value != nullptr && len > 0) r.data.assign(value, static_cast<size_t>(len));
      r.stat = StatOf(stat);
      r.has_stat = true;
    }
    Finish(static_cast<Call*>(const_cast<void*>(data)), std::move(r));
  }
  static void OnVoid(int rc, const void* data) {
    auto* call = static_cast<Call*>(const_cast<void*>(data));
    RawReply r;
    r.rc = rc;
    if (call->kind == Kind::kMulti) {
      for (size_t i = 0; i < call->results.size(); ++i) {
        ZkOpResult op;
        op.code = CodeOf(call->results[i].err);
        if (call->op_types[i] == ZkOp::Type::kCreate && op.code == ZkCode::kOk) {
          op.path = call->path_buffers[i].data();
        } else if (call->op_types[i] == ZkOp::Type::kSetData && op.code == ZkCode::kOk) {
          op.stat = StatOf(&call->stats[i]);
        }
        r.multi.push_back(std::move(op));
      }
    }
    Finish(call, std::move(r));
  }
  static void OnChildren(int rc, const struct String_vector* strings, const struct Stat* stat,
                         const void* data) {
    RawReply r;
    r.rc = rc;
    if (rc == ZOK && strings != nullptr) {
      for (int32_t i = 0; i < strings->count; ++i) r.children.emplace_back(strings->data[i]);
      r.stat = StatOf(stat);
      r.has_stat = true;
    }
    Finish(static_cast<Call*>(const_cast<void*>(data)), std::move(r));
  }
};

/// Submits a call with `submit(zh, call)` on the current session and waits for its
/// completion on the reactor. A call the C client refuses outright (no handle, expired
/// handle, bad arguments) completes at once with that code.
template <typename SubmitFn>
Task<RawReply> SubmitNow(ZkClient::Impl& impl, std::unique_ptr<Call> call, SubmitFn submit) {
  auto init = [&](auto handler) {
    // The handler is an awaitable handler (move-only); std::function needs a copyable
    // target, so it travels in a shared_ptr.
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    call->executor = impl.executor;
    call->resume = [shared](RawReply reply) { std::move (*shared)(std::move(reply)); };
    Call* raw = call.release();
    int rc = ZINVALIDSTATE;
    if (impl.closed) {
      rc = ZCLOSING;
    } else if (impl.session != nullptr && impl.session->zh != nullptr) {
      if (raw->watch != nullptr) raw->watch->session = impl.session.get();
      rc = submit(impl.session->zh, raw);
    }
    if (rc != ZOK) {
      RawReply reply;
      reply.rc = rc;
      Call::Finish(raw, std::move(reply));
    }
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(RawReply)>(
      init, asio::use_awaitable);
}

/// SubmitNow within the bound on calls in flight.
template <typename SubmitFn>
Task<RawReply> Submit(ZkClient::Impl& impl, std::unique_ptr<Call> call, SubmitFn submit) {
  if (!impl.slot_freed) impl.slot_freed = std::make_unique<Notifier>(impl.executor);
  while (impl.inflight >= impl.options.max_inflight_requests && !impl.closed) {
    co_await impl.slot_freed->Wait();
  }
  ++impl.inflight;
  RawReply reply = co_await SubmitNow(impl, std::move(call), submit);
  --impl.inflight;
  impl.slot_freed->Notify();
  co_return reply;
}

std::unique_ptr<Call> MakeCall(Call::Kind kind) {
  auto call = std::make_unique<Call>();
  call->kind = kind;
  return call;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// ZkClient

ZkClient::ZkClient(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ZkClient::~ZkClient() {
  if (impl_ == nullptr) return;
  impl_->closed = true;
  impl_->listeners.clear();
  if (impl_->session != nullptr && impl_->session->zh != nullptr) {
    zookeeper_close(impl_->session->zh);
    impl_->session->zh = nullptr;
  }
  impl_->retry_timer.cancel();
  impl_->disconnect_timer.cancel();
}

Task<Result<std::unique_ptr<ZkClient>>> ZkClient::Connect(Executor executor,
                                                          ZkClientOptions options) {
  static std::once_flag log_level_once;
  std::call_once(log_level_once, [] { zoo_set_debug_level(ZOO_LOG_LEVEL_WARN); });
  auto impl = std::make_shared<Impl>(executor, std::move(options));
  Status status = co_await impl->OpenSession(/*announce_new=*/false);
  if (!status.ok()) {
    co_await impl->CloseSession(impl->session);
    co_return status;
  }
  co_return std::unique_ptr<ZkClient>(new ZkClient(std::move(impl)));
}

Task<void> ZkClient::Close() {
  if (impl_->closed && (impl_->session == nullptr || impl_->session->zh == nullptr)) co_return;
  impl_->closed = true;
  impl_->connected = false;
  impl_->retry_timer.cancel();
  impl_->disconnect_timer.cancel();
  impl_->state_changed.Notify();
  if (impl_->slot_freed) impl_->slot_freed->Notify();
  co_await impl_->CloseSession(impl_->session);
  co_await impl_->gate.Close();
  impl_->listeners.clear();
}

template <typename T, typename Attempt>
Task<ZkResult<T>> ZkClient::Retrying(Attempt attempt, bool retry) {
  for (int i = 1;; ++i) {
    ZkResult<T> result = co_await attempt();
    const ZkCode code = result.code();
    const bool transient = IsConnectionError(code) || code == ZkCode::kSessionExpired ||
                           code == ZkCode::kInvalidState;
    const bool hopeless = impl_->expired && !impl_->recreating &&
                          !impl_->options.recreate_expired_session;
    if (!retry || !transient || impl_->closed || hopeless ||
        i >= impl_->options.max_retry_attempts) {
      co_return result;
    }
    STROM_LOG_DEBUG(kLog, "retrying after {}: {}", ZkCodeName(code), result.status().ToString());
    // An expired session is replaced in the background; wait until some session is up.
    co_await impl_->AwaitConnected(impl_->options.session_timeout);
  }
}

Task<ZkResult<std::string>> ZkClient::Create(std::string path, std::string data,
                                             CreateMode mode) {
  auto impl = impl_;
  auto attempt = [impl, path, data, mode]() -> Task<ZkResult<std::string>> {
    auto submit = [&](zhandle_t* zh, Call* call) {
      return zoo_acreate(zh, path.c_str(), data.data(), static_cast<int>(data.size()),
                         &ZOO_OPEN_ACL_UNSAFE, ModeFlags(mode), &Call::OnString, call);
    };
    auto call = MakeCall(Call::Kind::kString);
    RawReply r = co_await Submit(*impl, std::move(call), submit);
    co_return ZkResult<std::string>(CodeOf(r.rc), std::move(r.path), "create", path);
  };
  // Not repeated: a create cut by a connection loss may or may not have happened, and only
  // the caller knows how to tell (see the class comment).
  co_return co_await Retrying<std::string>(attempt, false);
}

Task<ZkResult<bool>> ZkClient::CreateParents(std::string path) {
  std::string parent = ParentPath(path);
  if (parent == "/") co_return ZkResult<bool>(ZkCode::kOk, true, "", "");
  co_return co_await EnsurePath(std::move(parent));
}

Task<ZkResult<bool>> ZkClient::EnsurePath(std::string path) {
  std::vector<std::string> chain;
  for (std::string p = path; p != "/"; p = ParentPath(p)) chain.push_back(p);
  // Top-down; a node that exists already is fine (another creator may race us). A create
  // cut by a connection loss is simply tried again: ZNODEEXISTS then means it got through.
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    for (int attempt = 1;; ++attempt) {
      auto exists = co_await Exists(*it);
      if (!exists.ok()) co_return ZkResult<bool>(exists.code(), false, "ensure", *it);
      if (exists->has_value()) break;
      std::string empty;
      auto created = co_await Create(*it, std::move(empty), CreateMode::kPersistent);
      if (created.ok() || created.code() == ZkCode::kNodeExists) break;
      const bool transient = IsConnectionError(created.code()) ||
                             created.code() == ZkCode::kSessionExpired ||
                             created.code() == ZkCode::kInvalidState;
      if (!transient || impl_->closed || attempt >= impl_->options.max_retry_attempts) {
        co_return ZkResult<bool>(created.code(), false, "create", *it);
      }
      co_await impl_->AwaitConnected(impl_->options.session_timeout);
    }
  }
  co_return ZkResult<bool>(ZkCode::kOk, true, "", "");
}

Task<ZkResult<ZkNode>> ZkClient::Get(std::string path, WatchCallback watch) {
  auto impl = impl_;
  auto attempt = [impl, path, watch]() -> Task<ZkResult<ZkNode>> {
    auto call = MakeCall(Call::Kind::kData);
    if (watch) call->watch = impl->session ? impl->session->NewWatch(watch) : nullptr;
    auto submit = [&](zhandle_t* zh, Call* c) {
      if (c->watch != nullptr) {
        return zoo_awget(zh, path.c_str(), &Impl::WatchFn, c->watch, &Call::OnData, c);
      }
      return zoo_aget(zh, path.c_str(), 0, &Call::OnData, c);
    };
    RawReply r = co_await Submit(*impl, std::move(call), submit);
    co_return ZkResult<ZkNode>(CodeOf(r.rc), ZkNode{std::move(r.data), r.stat}, "get", path);
  };
  co_return co_await Retrying<ZkNode>(attempt, true);
}

Task<ZkResult<ZkStat>> ZkClient::Set(std::string path, std::string data, int32_t version) {
  auto impl = impl_;
  auto attempt = [impl, path, data, version]() -> Task<ZkResult<ZkStat>> {
    auto submit = [&](zhandle_t* zh, Call* c) {
      return zoo_aset(zh, path.c_str(), data.data(), static_cast<int>(data.size()), version,
                      &Call::OnStat, c);
    };
    auto call = MakeCall(Call::Kind::kStat);
    RawReply r = co_await Submit(*impl, std::move(call), submit);
    co_return ZkResult<ZkStat>(CodeOf(r.rc), r.stat, "set", path);
  };
  // Unversioned sets are idempotent; a versioned set repeated after it got through answers
  // ZBADVERSION, which the compare-and-set caller resolves by reading again.
  co_return co_await Retrying<ZkStat>(attempt, true);
}

Task<ZkResult<bool>> ZkClient::Delete(std::string path, int32_t version) {
  auto impl = impl_;
  auto attempt = [impl, path, version]() -> Task<ZkResult<bool>> {
    auto submit = [&](zhandle_t* zh, Call* c) {
      return zoo_adelete(zh, path.c_str(), version, &Call::OnVoid, c);
    };
    auto call = MakeCall(Call::Kind::kVoid);
    RawReply r = co_await Submit(*impl, std::move(call), submit);
    co_return ZkResult<bool>(CodeOf(r.rc), r.rc == ZOK, "delete", path);
  };
  co_return co_await Retrying<bool>(attempt, true);
}

Task<ZkResult<bool>> ZkClient::DeleteRecursive(std::string path) {
  auto children = co_await Children(path);
  if (children.code() == ZkCode::kNoNode) co_return ZkResult<bool>(ZkCode::kOk, false, "", "");
  if (!children.ok()) co_return ZkResult<bool>(children.code(), false, "delete", path);
  for (const std::string& child : *children) {
    std::string child_path = JoinPath(path, child);
    auto r = co_await DeleteRecursive(std::move(child_path));
    if (!r.ok()) co_return r;
  }
  auto deleted = co_await Delete(path);
  // Someone else may have removed it meanwhile, or added a child: try once more then.
  if (deleted.code() == ZkCode::kNoNode) co_return ZkResult<bool>(ZkCode::kOk, true, "", "");
  if (deleted.code() == ZkCode::kNotEmpty) co_return co_await DeleteRecursive(path);
  co_return deleted;
}

Task<ZkResult<std::optional<ZkStat>>> ZkClient::Exists(std::string path, WatchCallback watch) {
  auto impl = impl_;
  auto attempt = [impl, path, watch]() -> Task<ZkResult<std::optional<ZkStat>>> {
    auto call = MakeCall(Call::Kind::kExists);
    if (watch) call->watch = impl->session ? impl->session->NewWatch(watch) : nullptr;
    auto submit = [&](zhandle_t* zh, Call* c) {
      if (c->watch != nullptr) {
        return zoo_awexists(zh, path.c_str(), &Impl::WatchFn, c->watch, &Call::OnStat, c);
      }
      return zoo_aexists(zh, path.c_str(), 0, &Call::OnStat, c);
    };
    RawReply r = co_await Submit(*impl, std::move(call), submit);
    if (r.rc == ZNONODE) {
      co_return ZkResult<std::optional<ZkStat>>(ZkCode::kOk, std::nullopt, "exists", path);
    }
    std::optional<ZkStat> stat;
    if (r.rc == ZOK) stat = r.stat;
    co_return ZkResult<std::optional<ZkStat>>(CodeOf(r.rc), stat, "exists", path);
  };
  co_return co_await Retrying<std::optional<ZkStat>>(attempt, true);
}

Task<ZkResult<std::vector<std::string>>> ZkClient::Children(std::string path,
                                                            WatchCallback watch) {
  auto impl = impl_;
  auto attempt = [impl, path, watch]() -> Task<ZkResult<std::vector<std::string>>> {
    auto call = MakeCall(Call::Kind::kChildren);
    if (watch) call->watch = impl->session ? impl->session->NewWatch(watch) : nullptr;
    auto submit = [&](zhandle_t* zh, Call* c) {
      if (c->watch != nullptr) {
        return zoo_awget_children2(zh, path.c_str(), &Impl::WatchFn, c->watch,
                                   &Call::OnChildren, c);
      }
      return zoo_aget_children2(zh, path.c_str(), 0, &Call::OnChildren, c);
    };
    RawReply r = co_await Submit(*impl, std::move(call), submit);
    co_return ZkResult<std::vector<std::string>>(CodeOf(r.rc), std::move(r.children),
                                                 "get children of", path);
  };
  co_return co_await Retrying<std::vector<std::string>>(attempt, true);
}

Task<ZkResult<std::vector<ZkOpResult>>> ZkClient::Multi(std::vector<ZkOp> ops) {
  if (ops.empty()) co_return ZkResult<std::vector<ZkOpResult>>(ZkCode::kOk, {}, "multi", "");
  for (const ZkOp& op : ops) {
    bool sequential = op.type == ZkOp::Type::kCreate && IsSequential(op.mode);
    if (!ValidPath(op.path, sequential)) {
      co_return ZkResult<std::vector<ZkOpResult>>(ZkCode::kBadArguments, {}, "multi", op.path);
    }
  }
  auto call = MakeCall(Call::Kind::kMulti);
  const size_t n = ops.size();
  call->results.resize(n);
  call->path_buffers.resize(n);
  call->stats.resize(n);
  for (const ZkOp& op : ops) call->op_types.push_back(op.type);
  std::vector<zoo_op_t> c_ops(n);
  for (size_t i = 0; i < n; ++i) {
    const ZkOp& op = ops[i];
    switch (op.type) {
      case ZkOp::Type::kCreate:
        call->path_buffers[i].assign(op.path.size() + 32, '\0');
        zoo_create_op_init(&c_ops[i], op.path.c_str(), op.data.data(),
                           static_cast<int>(op.data.size()), &ZOO_OPEN_ACL_UNSAFE,
                           ModeFlags(op.mode), call->path_buffers[i].data(),
                           static_cast<int>(call->path_buffers[i].size()));
        break;
      case ZkOp::Type::kDelete:
        zoo_delete_op_init(&c_ops[i], op.path.c_str(), op.version);
        break;
      case ZkOp::Type::kSetData:
        zoo_set_op_init(&c_ops[i], op.path.c_str(), op.data.data(),
                        static_cast<int>(op.data.size()), op.version, &call->stats[i]);
        break;
      case ZkOp::Type::kCheck:
        zoo_check_op_init(&c_ops[i], op.path.c_str(), op.version);
        break;
    }
  }
  // The request is serialised inside zoo_amulti, so `ops` and `c_ops` only have to live
  // through the call; results, path buffers and stats live in the Call.
  auto submit = [&](zhandle_t* zh, Call* c) {
    return zoo_amulti(zh, static_cast<int>(n), c_ops.data(), c->results.data(), &Call::OnVoid,
                      c);
  };
  RawReply r = co_await Submit(*impl_, std::move(call), submit);
  std::string first_path = ops.front().path;
  for (size_t i = 0; i < r.multi.size(); ++i) {
    if (r.multi[i].code != ZkCode::kOk) {
      first_path = ops[i].path;
      break;
    }
  }
  co_return ZkResult<std::vector<ZkOpResult>>(CodeOf(r.rc), std::move(r.multi), "multi",
                                              first_path);
}

int ZkClient::AddSessionListener(SessionListener listener) {
  int id = impl_->next_listener_id++;
  impl_->listeners.emplace(id, std::move(listener));
  return id;
}

void ZkClient::RemoveSessionListener(int id) { impl_->listeners.erase(id); }

Task<Status> ZkClient::RecreateSession() { co_return co_await impl_->Recreate(); }

Task<bool> ZkClient::AwaitConnected(SteadyClock::duration timeout) {
  co_return co_await impl_->AwaitConnected(timeout);
}

bool ZkClient::connected() const { return impl_->connected; }
int64_t ZkClient::session_id() const { return impl_->session_id; }
std::string ZkClient::session_password() const { return impl_->password; }
SteadyClock::duration ZkClient::negotiated_session_timeout() const {
  return std::chrono::milliseconds(impl_->negotiated_timeout_ms);
}
const ZkClientOptions& ZkClient::options() const { return impl_->options; }
Executor ZkClient::executor() const { return impl_->executor; }

}  // namespace strom::zk
