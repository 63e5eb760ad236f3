#include "coordinator/cluster_controller.h"

#include <asio/connect.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <charconv>
#include <random>
#include <variant>

#include "common/logging.h"
#include "metadata/znode_json.h"
#include "rpc/connection_pool.h"
#include "zk/registration.h"

namespace strom::coordinator {
namespace {

constexpr std::string_view kLog = "coordinator";

using metadata::TableBucket;
using replica::LeaderAndIsr;

bool Contains(const std::vector<ServerId>& ids, ServerId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::string IdList(const std::vector<ServerId>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(ids[i].value());
  }
  return out + "]";
}

void FillBucket(const TableBucket& bucket, proto::PbTableBucket* pb) {
  pb->set_table_id(bucket.table_id.value());
  if (bucket.partition_id) pb->set_partition_id(bucket.partition_id->value());
  pb->set_bucket_id(bucket.bucket.value());
}

/// What one connect to a server's port says about its process.
enum class ConnectProbe {
  kRefused,   // nothing listens there: the process is gone
  kAccepted,  // something listens (a slow or busy process is alive)
  kUnknown,   // timed out or failed otherwise (a partition, a name that did not resolve)
};

Task<ConnectProbe> ProbeConnect(std::string host, uint16_t port, SteadyClock::duration timeout) {
  using namespace asio::experimental::awaitable_operators;  // NOLINT
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  auto [resolve_error, endpoints] =
      co_await resolver.async_resolve(host, std::to_string(port), kAwaitTuple);
  if (resolve_error) co_return ConnectProbe::kUnknown;
  asio::ip::tcp::socket socket(executor);
  asio::steady_timer timer(executor, timeout);
  auto winner = co_await (asio::async_connect(socket, endpoints, kAwaitTuple) ||
                          timer.async_wait(kAwaitTuple));
  if (winner.index() == 1) co_return ConnectProbe::kUnknown;
  asio::error_code ec = std::get<0>(std::get<0>(winner));
  if (!ec) co_return ConnectProbe::kAccepted;
  co_return ec == asio::error::connection_refused ? ConnectProbe::kRefused : ConnectProbe::kUnknown;
}

void FillNode(const metadata::ServerNode& node, proto::PbServerNode* pb) {
  pb->set_node_id(node.id.value());
  pb->set_host(node.host);
  pb->set_port(node.port);
  if (node.rack) pb->set_rack(*node.rack);
}

}  // namespace

Result<std::pair<std::string, uint16_t>> FirstListenerEndpoint(std::string_view listeners) {
  std::string_view first = listeners.substr(0, listeners.find(','));
  size_t scheme = first.find("://");
  std::string_view address = scheme == std::string_view::npos ? first : first.substr(scheme + 3);
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidConfig, "listener '{}' has no port", first);
  }
  std::string host(address.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string_view port_text = address.substr(colon + 1);
  uint32_t port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return MakeError(ErrorCode::kInvalidConfig, "listener '{}' has a bad port", first);
  }
  if (host == "localhost") host = "127.0.0.1";
  return std::make_pair(host, static_cast<uint16_t>(port));
}

// ---------------------------------------------------------------------------------------
// One event at a time.

/// A FIFO lock for coroutines on one executor: Lock() resolves once every earlier holder has
/// released it. The coordinator's events take it for their whole run.
class ClusterController::EventQueue {
 public:
  explicit EventQueue(Executor executor) : executor_(std::move(executor)) {}

  class Held {
   public:
    explicit Held(EventQueue* queue) : queue_(queue) {}
    Held(Held&& other) noexcept : queue_(std::exchange(other.queue_, nullptr)) {}
    Held& operator=(Held&&) = delete;
    ~Held() {
      if (queue_ != nullptr) queue_->Release();
    }

   private:
    EventQueue* queue_;
  };

  Task<Held> Lock() {
    if (!busy_) {
      busy_ = true;
      co_return Held(this);
    }
    auto waiter = std::make_shared<Waiter>(executor_);
    waiters_.push_back(waiter);
    while (!waiter->granted) co_await waiter->timer.async_wait(kAwaitTuple);
    co_return Held(this);
  }

 private:
  struct Waiter {
    explicit Waiter(Executor executor)
        : timer(std::move(executor), asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    bool granted = false;
  };

  void Release() {
    if (waiters_.empty()) {
      busy_ = false;
      return;
    }
    std::shared_ptr<Waiter> next = waiters_.front();
    waiters_.pop_front();
    next->granted = true;  // busy_ stays set: ownership passes on
    next->timer.cancel();
  }

  Executor executor_;
  bool busy_ = false;
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

// ---------------------------------------------------------------------------------------
// Channels to tablet servers.

/// The ordered request queue to one tablet server (Fluss `CoordinatorChannelManager`'s
/// per-server sender). Owned by the controller's map and by its loop.
class ClusterController::Channel {
 public:
  using Request = std::variant<proto::NotifyLeaderAndIsrRequest, proto::StopReplicaRequest,
                               proto::UpdateMetadataRequest>;
  Channel(Executor executor, uint64_t generation, ServerId id, TimestampMs register_timestamp,
          std::string host, uint16_t port)
      : generation(generation),
        id(id),
        register_timestamp(register_timestamp),
        host(std::move(host)),
        port(port),
        wake(std::move(executor)) {}

  void Enqueue(Request request) {
    queue.push_back(std::move(request));
    wake.Notify();
  }
  void Close() {
    closed = true;
    wake.Notify();
  }

  uint64_t generation;
  ServerId id;
  /// The registration this channel was opened for (a restart gets a new channel).
  TimestampMs register_timestamp;
  std::string host;
  uint16_t port;
  Notifier wake;
  std::deque<Request> queue;
  bool closed = false;
};

// ---------------------------------------------------------------------------------------

ClusterController::ClusterController(Executor executor, zk::ZkClient& zk, zk::ZkPaths paths,
                                     metadata::MetadataStore& store, metadata::ServerNode self,
                                     ClusterControllerOptions options)
    : executor_(executor),
      zk_(zk),
      paths_(paths),
      lai_store_(zk, paths),
      store_(store),
      self_(std::move(self)),
      options_(std::move(options)),
      pool_(std::make_unique<rpc::ConnectionPool>(executor, options_.connection)),
      events_(std::make_unique<EventQueue>(executor)) {}

ClusterController::~ClusterController() = default;

void ClusterController::Register(rpc::Dispatcher& d) {
  using proto::ApiKey;
  d.Handle<ApiKey::kAdjustIsr>(
      [this](rpc::RequestContext, proto::AdjustIsrRequest r) { return AdjustIsr(std::move(r)); });
  d.Handle<ApiKey::kControlledShutdown>(
      [this](rpc::RequestContext, proto::ControlledShutdownRequest r) {
        return ControlledShutdown(std::move(r));
      });
  d.Handle<ApiKey::kRebalance>(
      [this](rpc::RequestContext, proto::RebalanceRequest r) { return Rebalance(std::move(r)); });
  d.Handle<ApiKey::kListRebalanceProgress>(
      [this](rpc::RequestContext, proto::ListRebalanceProgressRequest r) {
        return ListRebalanceProgress(std::move(r));
      });
  d.Handle<ApiKey::kCancelRebalance>([this](rpc::RequestContext, proto::CancelRebalanceRequest r) {
    return CancelRebalance(std::move(r));
  });
  d.Handle<ApiKey::kAddServerTag>([this](rpc::RequestContext, proto::AddServerTagRequest r) {
    return AddServerTag(std::move(r));
  });
  d.Handle<ApiKey::kRemoveServerTag>([this](rpc::RequestContext, proto::RemoveServerTagRequest r) {
    return RemoveServerTag(std::move(r));
  });
}

void ClusterController::OnElected(CoordinatorEpoch epoch) {
  if (stopped_) return;
  uint64_t generation = ++generation_;
  STROM_LOG_INFO(kLog, "elected active coordinator with epoch {}", epoch);
  SpawnBackground(executor_, gate_, "coordinator-activate", Activate(epoch, generation));
}

void ClusterController::OnLost() {
  ++generation_;
  if (active_) STROM_LOG_WARN(kLog, "lost coordinator leadership (epoch {})", epoch_);
  active_ = false;
  live_.clear();
  declared_dead_.clear();
  shutting_down_.clear();
  tables_.clear();
  // The loop of this term ends at its next pass (the generation moved on); rebalance_ stays
  // until the next activation reloads it, since a pass may be suspended inside it.
  rebalance_loop_running_ = false;
  CloseAllChannels();
}

Task<void> ClusterController::Stop() {
  stopped_ = true;
  OnLost();
  co_await pool_->Close();
  co_await gate_.Close();
}

// ---------------------------------------------------------------------------------------
// Activation: read the cluster back from ZooKeeper.

Task<void> ClusterController::Activate(CoordinatorEpoch epoch, uint64_t generation) {
  auto held = co_await events_->Lock();
  while (generation == generation_ && !stopped_) {
    epoch_ = epoch;
    live_.clear();
    declared_dead_.clear();
    tables_.clear();
    shutting_down_.clear();
    rebalance_.reset();
    server_tags_.clear();
    CloseAllChannels();
    auto servers = co_await ReadServersAndWatch(generation);
    Status loaded = servers.ok() ? co_await LoadState() : servers.status();
    if (loaded.ok() && generation == generation_) loaded = co_await LoadRebalance();
    if (loaded.ok() && generation == generation_) loaded = co_await LoadServerTags();
    if (generation != generation_) co_return;
    if (!loaded.ok()) {
      STROM_LOG_WARN(kLog, "cannot load the cluster state, retrying: {}", loaded.ToString());
      asio::steady_timer timer(executor_, std::chrono::seconds(1));
      co_await timer.async_wait(kAwaitTuple);
      continue;
    }
    live_ = std::move(servers).value();
    for (const auto& [id, server] : live_) OpenChannel(server);

    // Buckets without a leader_isr node get their first one; buckets whose leader is gone
    // get a new one from their ISR.
    RequestBatch batch;
    std::vector<std::pair<TableBucket, LeaderAndIsr>> updates;
    for (auto& [table_id, table] : tables_) {
      for (const auto& [bucket, replicas] : table.assignment.buckets) {
        TableBucket tb{table_id, std::nullopt, bucket};
        auto it = table.buckets.find(bucket);
        if (it == table.buckets.end()) {
          std::vector<ServerId> isr;
          for (ServerId r : replicas) {
            if (Eligible(r)) isr.push_back(r);
          }
          LeaderAndIsr lai{isr.empty() ? ServerId(-1) : isr.front(), LeaderEpoch(0), isr, epoch_,
                           BucketEpoch(0)};
          if (isr.empty()) lai.isr = replicas;
          Status created = co_await lai_store_.Create(tb, lai);
          if (created.ok()) table.buckets[bucket] = BucketState{lai, 0};
          continue;
        }
        const LeaderAndIsr& cur = it->second.lai;
        if (cur.leader.value() >= 0 && Eligible(cur.leader)) continue;
        std::vector<ServerId> isr = cur.isr;
        if (cur.leader.value() >= 0 && isr.size() > 1) {
          std::erase(isr, cur.leader);
        }
        std::optional<ServerId> leader = ElectLeader(replicas, isr);
        if (!leader && cur.leader.value() < 0) continue;  // stays offline
        LeaderAndIsr next{leader.value_or(ServerId(-1)), LeaderEpoch(cur.leader_epoch.value() + 1),
                          isr, epoch_, BucketEpoch(cur.bucket_epoch.value() + 1)};
        updates.emplace_back(tb, next);
      }
    }
    co_await CommitUpdates(std::move(updates), batch);
    // Every live server learns the new coordinator epoch and every bucket's state.
    for (const auto& [table_id, table] : tables_) {
      for (const auto& [bucket, state] : table.buckets) {
        AddNotifyAllReplicas(batch, TableBucket{table_id, std::nullopt, bucket});
      }
    }
    batch.update_metadata = true;
    active_ = true;
    Send(std::move(batch));
    STROM_LOG_INFO(kLog, "active with epoch {}: {} tablet servers, {} tables", epoch_,
                   live_.size(), tables_.size());
    if (rebalance_ && !IsFinal(rebalance_->status)) {
      STROM_LOG_INFO(kLog, "resuming rebalance {}", rebalance_->id);
      StartRebalanceLoop();
    }
    co_return;
  }
}

Task<Status> ClusterController::LoadState() {
  STROM_CO_ASSIGN_OR_RETURN(std::vector<std::string> databases, co_await store_.ListDatabases());
  for (const std::string& db : databases) {
    STROM_CO_ASSIGN_OR_RETURN(std::vector<std::string> names, co_await store_.ListTables(db));
    for (const std::string& name : names) {
      metadata::TablePath path{db, name};
      STROM_CO_ASSIGN_OR_RETURN(auto info, co_await metadata::LoadTableInfo(store_, path));
      if (!info) continue;
      STROM_CO_ASSIGN_OR_RETURN(auto assignment,
                                co_await store_.GetTableAssignment(info->table_id));
      if (!assignment) continue;
      TableState table;
      table.assignment = std::move(*assignment);
      STROM_CO_ASSIGN_OR_RETURN(auto nodes, co_await lai_store_.GetTable(info->table_id));
      for (auto& [bucket, node] : nodes) {
        table.buckets[bucket] = BucketState{std::move(node.value), node.version};
      }
      TableId id = info->table_id;
      table.info = std::make_shared<const metadata::TableInfo>(std::move(*info));
      tables_[id] = std::move(table);
    }
  }
  co_return Status::OK();
}

// ---------------------------------------------------------------------------------------
// Tablet servers joining and leaving.

Task<Result<std::map<ServerId, LiveTabletServer>>> ClusterController::ReadServersAndWatch(
    uint64_t generation) {
  std::string ids_path = paths_.TabletServerIds();
  auto ensured = co_await zk_.EnsurePath(ids_path);
  if (!ensured.ok()) co_return ensured.status();
  auto children = co_await zk_.Children(ids_path, [this, generation](zk::WatchEvent event) {
    if (event.type == zk::WatchEvent::Type::kSessionExpired) return;
    if (generation != generation_ || stopped_) return;
    SpawnBackground(executor_, gate_, "coordinator-servers", ServersChanged(generation));
  });
  if (!children.ok()) co_return children.status();
  STROM_CO_ASSIGN_OR_RETURN(auto registrations, co_await zk::ReadTabletServers(zk_, paths_));
  std::map<ServerId, LiveTabletServer> out;
  for (auto& [id, reg] : registrations) {
    auto endpoint = FirstListenerEndpoint(reg.listeners);
    if (!endpoint.ok()) {
      STROM_LOG_WARN(kLog, "tablet server {} registered unusable listeners '{}'", id,
                     reg.listeners);
      continue;
    }
    LiveTabletServer server;
    server.node = metadata::ServerNode{id, endpoint->first, endpoint->second,
                                       metadata::ServerRole::kTabletServer, reg.rack};
    server.listeners = reg.listeners;
    server.register_timestamp = reg.register_timestamp;
    out.emplace(id, std::move(server));
  }
  // A registration left behind by a server declared dead is not a live server (its session
  // outlives the process until it expires); once it is gone or replaced, forget it.
  for (auto it = declared_dead_.begin(); it != declared_dead_.end();) {
    auto found = out.find(it->first);
    if (found != out.end() &&
        found->second.register_timestamp == it->second.register_timestamp &&
        found->second.listeners == it->second.listeners) {
      out.erase(found);
      ++it;
    } else {
      it = declared_dead_.erase(it);
    }
  }
  co_return out;
}

Task<void> ClusterController::ServersChanged(uint64_t generation) {
  auto held = co_await events_->Lock();
  if (generation != generation_ || !active_) co_return;
  auto now = co_await ReadServersAndWatch(generation);
  if (generation != generation_) co_return;
  if (!now.ok()) {
    STROM_LOG_WARN(kLog, "cannot read the tablet servers: {}", now.status().ToString());
    // Try again shortly: the watch may not be set.
    asio::steady_timer timer(executor_, std::chrono::seconds(1));
    co_await timer.async_wait(kAwaitTuple);
    if (generation == generation_) {
      SpawnBackground(executor_, gate_, "coordinator-servers", ServersChanged(generation));
    }
    co_return;
  }
  RequestBatch batch;
  std::vector<std::pair<TableBucket, LeaderAndIsr>> updates;
  ApplyServerChanges(std::move(now).value(), batch, updates);
  co_await CommitUpdates(std::move(updates), batch);
  Send(std::move(batch));
}

Task<void> ClusterController::ServerRefusesConnections(uint64_t generation, ServerId id,
                                                       TimestampMs register_timestamp) {
  auto held = co_await events_->Lock();
  if (generation != generation_ || !active_) co_return;
  auto it = live_.find(id);
  // Gone meanwhile, or restarted (a new registration has a channel of its own).
  if (it == live_.end() || it->second.register_timestamp != register_timestamp) co_return;
  const LiveTabletServer dead = it->second;
  STROM_LOG_WARN(kLog,
                 "tablet server {} refuses connections on {}:{}: its process is gone, handled "
                 "as dead without waiting for its ZooKeeper session",
                 id, dead.node.host, dead.node.port);
  declared_dead_[id] = dead;
  std::map<ServerId, LiveTabletServer> now = live_;
  now.erase(id);
  RequestBatch batch;
  std::vector<std::pair<TableBucket, LeaderAndIsr>> updates;
  ApplyServerChanges(std::move(now), batch, updates);
  co_await CommitUpdates(std::move(updates), batch);
  if (generation != generation_) co_return;
  Send(std::move(batch));
  co_await DeleteDeadRegistration(generation, id, dead);
}

Task<void> ClusterController::DeleteDeadRegistration(uint64_t generation, ServerId id,
                                                     LiveTabletServer server) {
  // The registration's session lives on until it expires (the process is gone). Deleting
  // the node lets the server register again when it restarts meanwhile (it waits for the
  // node to go) and shows successor coordinators and tools the truth. Only the very node the
  // dead process wrote is deleted, with its version: a newer registration of that id is a
  // restarted process and stays.
  const std::string path = paths_.TabletServer(id);
  auto node = co_await zk_.Get(path);
  if (generation != generation_ || !node.ok()) co_return;
  auto reg = zk::TabletServerRegistrationFromJson(node->data);
  if (!reg.ok() || reg->register_timestamp != server.register_timestamp ||
      reg->listeners != server.listeners) {
    co_return;
  }
  auto deleted = co_await zk_.Delete(path, node->stat.version);
  if (deleted.ok()) {
    STROM_LOG_INFO(kLog, "deleted the registration {} of dead tablet server {}", path, id);
  } else if (deleted.code() != zk::ZkCode::kNoNode && deleted.code() != zk::ZkCode::kBadVersion) {
    // Left to its session's expiry; it is ignored until then.
    STROM_LOG_WARN(kLog, "cannot delete the registration {} of dead tablet server {}: {}", path,
                   id, deleted.status().ToString());
  }
}

void ClusterController::ApplyServerChanges(
    std::map<ServerId, LiveTabletServer> now, RequestBatch& batch,
    std::vector<std::pair<TableBucket, LeaderAndIsr>>& updates) {
  std::vector<ServerId> gone;
  std::vector<ServerId> joined;
  for (const auto& [id, server] : live_) {
    auto it = now.find(id);
    // A registration with a new timestamp is a restarted process: it left and came back.
    if (it == now.end() || it->second.register_timestamp != server.register_timestamp ||
        it->second.listeners != server.listeners) {
      gone.push_back(id);
    }
  }
  for (const auto& [id, server] : now) {
    auto it = live_.find(id);
    if (it == live_.end() || Contains(gone, id)) joined.push_back(id);
  }
  if (gone.empty() && joined.empty()) return;
  STROM_LOG_INFO(kLog, "tablet servers left {} joined {}", IdList(gone), IdList(joined));

  // Departed servers: out of the live set first so that no election picks them.
  for (ServerId id : gone) {
    live_.erase(id);
    shutting_down_.erase(id);
    CloseChannel(id);
  }
  if (!gone.empty()) {
    for (auto& [table_id, table] : tables_) {
      for (auto& [bucket, state] : table.buckets) {
        const LeaderAndIsr& cur = state.lai;
        const std::vector<ServerId>& replicas = table.assignment.buckets[bucket];
        std::vector<ServerId> isr = cur.isr;
        bool leader_gone = cur.leader.value() >= 0 && Contains(gone, cur.leader);
        bool changed = false;
        for (ServerId id : gone) {
          // The last ISR member stays: it is the only one that may lead again.
          if (Contains(isr, id) && isr.size() > 1) {
            std::erase(isr, id);
            changed = true;
          }
        }
        TableBucket tb{table_id, std::nullopt, bucket};
        if (leader_gone) {
          std::optional<ServerId> leader = ElectLeader(replicas, isr);
          updates.emplace_back(tb, LeaderAndIsr{leader.value_or(ServerId(-1)),
                                                LeaderEpoch(cur.leader_epoch.value() + 1), isr,
                                                epoch_, BucketEpoch(cur.bucket_epoch.value() + 1)});
        } else if (changed) {
          updates.emplace_back(tb, LeaderAndIsr{cur.leader, cur.leader_epoch, isr, epoch_,
                                                BucketEpoch(cur.bucket_epoch.value() + 1)});
        }
      }
    }
  }

  // Joined servers: a channel, their replicas' state, leadership of offline buckets.
  for (ServerId id : joined) {
    live_[id] = now[id];
    OpenChannel(live_[id]);
  }
  // A server that left and came back in this one pass (a restart) may be the last ISR member
  // of buckets its departure left without a leader: it leads them again, as any offline
  // bucket whose ISR holds a joining server (below), with the leader epoch already raised.
  for (auto& [tb, next] : updates) {
    if (next.leader.value() >= 0) continue;
    std::optional<ServerId> leader =
        ElectLeader(tables_[tb.table_id].assignment.buckets[tb.bucket], next.isr);
    if (leader) next.leader = *leader;
  }
  for (auto& [table_id, table] : tables_) {
    for (auto& [bucket, state] : table.buckets) {
      const std::vector<ServerId>& replicas = table.assignment.buckets[bucket];
      TableBucket tb{table_id, std::nullopt, bucket};
      bool updated = std::any_of(updates.begin(), updates.end(),
                                 [&](const auto& u) { return u.first == tb; });
      for (ServerId id : joined) {
        if (Contains(replicas, id) && !updated) AddNotify(batch, id, table, bucket);
      }
      if (updated || state.lai.leader.value() >= 0) continue;
      std::optional<ServerId> leader = ElectLeader(replicas, state.lai.isr);
      if (!leader) continue;
      const LeaderAndIsr& cur = state.lai;
      updates.emplace_back(tb, LeaderAndIsr{*leader, LeaderEpoch(cur.leader_epoch.value() + 1),
                                            cur.isr, epoch_,
                                            BucketEpoch(cur.bucket_epoch.value() + 1)});
    }
  }
  batch.update_metadata = true;
}

// ---------------------------------------------------------------------------------------
// Elections and znode updates.

bool ClusterController::Eligible(ServerId id) const {
  return live_.contains(id) && !shutting_down_.contains(id);
}

std::optional<ServerId> ClusterController::ElectLeader(const std::vector<ServerId>& replicas,
                                                       const std::vector<ServerId>& isr) const {
  for (ServerId r : replicas) {
    if (Contains(isr, r) && Eligible(r)) return r;
  }
  return std::nullopt;
}

Task<void> ClusterController::CommitUpdates(
    std::vector<std::pair<TableBucket, LeaderAndIsr>> updates, RequestBatch& batch) {
  for (auto& [bucket, lai] : updates) {
    auto table = tables_.find(bucket.table_id);
    if (table == tables_.end()) continue;
    auto state = table->second.buckets.find(bucket.bucket);
    if (state == table->second.buckets.end()) continue;
    auto version = co_await lai_store_.Update(bucket, lai, state->second.zk_version);
    if (!version.ok()) {
      STROM_LOG_WARN(kLog, "cannot write the leader and ISR of {}: {}", bucket.ToString(),
                     version.status().ToString());
      continue;
    }
    // Other events wait for this one, but losing leadership or Stop() clears the state while
    // the write is under way: look the bucket up again.
    table = tables_.find(bucket.table_id);
    if (table == tables_.end()) continue;
    state = table->second.buckets.find(bucket.bucket);
    if (state == table->second.buckets.end()) continue;
    if (lai.leader != state->second.lai.leader) {
      STROM_LOG_INFO(kLog, "{}: leader {} -> {} (leader epoch {}), ISR {}", bucket.ToString(),
                     state->second.lai.leader, lai.leader, lai.leader_epoch, IdList(lai.isr));
    }
    state->second = BucketState{lai, *version};
    AddNotifyAllReplicas(batch, bucket);
    batch.update_metadata = true;
  }
}

void ClusterController::AddNotify(RequestBatch& batch, ServerId to, const TableState& table,
                                  BucketId bucket) {
  if (!live_.contains(to)) return;
  auto state = table.buckets.find(bucket);
  if (state == table.buckets.end()) return;
  proto::NotifyLeaderAndIsrRequest& req = batch.notify[to];
  req.set_coordinator_epoch(epoch_.value());
  for (const auto& existing : req.notify_buckets_leader_req()) {
    if (existing.table_bucket().table_id() == table.info->table_id.value() &&
        existing.table_bucket().bucket_id() == bucket.value()) {
      return;  // already in this batch (the state is read when the batch is sent)
    }
  }
  auto* item = req.add_notify_buckets_leader_req();
  item->mutable_physical_table_path()->set_database_name(table.info->path.database);
  item->mutable_physical_table_path()->set_table_name(table.info->path.table);
  FillBucket(TableBucket{table.info->table_id, std::nullopt, bucket}, item->mutable_table_bucket());
  const LeaderAndIsr& lai = state->second.lai;
  item->set_leader(lai.leader.value());
  item->set_leader_epoch(lai.leader_epoch.value());
  auto replicas = table.assignment.buckets.find(bucket);
  if (replicas != table.assignment.buckets.end()) {
    for (ServerId r : replicas->second) item->add_replicas(r.value());
  }
  for (ServerId r : lai.isr) item->add_isr(r.value());
  item->set_bucket_epoch(lai.bucket_epoch.value());
}

void ClusterController::AddNotifyAllReplicas(RequestBatch& batch, const TableBucket& bucket) {
  auto table = tables_.find(bucket.table_id);
  if (table == tables_.end()) return;
  auto replicas = table->second.assignment.buckets.find(bucket.bucket);
  if (replicas == table->second.assignment.buckets.end()) return;
  for (ServerId r : replicas->second) AddNotify(batch, r, table->second, bucket.bucket);
}

proto::UpdateMetadataRequest ClusterController::BuildUpdateMetadata() const {
  proto::UpdateMetadataRequest req;
  FillNode(self_, req.mutable_coordinator_server());
  for (const auto& [id, server] : live_) {
    proto::PbServerNode* node = req.add_tablet_servers();
    FillNode(server.node, node);
    node->set_listeners(server.listeners);
  }
  for (const auto& [table_id, table] : tables_) {
    proto::PbTableMetadata* tm = req.add_table_metadata();
    tm->mutable_table_path()->set_database_name(table.info->path.database);
    tm->mutable_table_path()->set_table_name(table.info->path.table);
    tm->set_table_id(table_id.value());
    tm->set_schema_id(table.info->schema_id.value());
    tm->set_table_json(table.info->ToTableJson());
    tm->set_created_time(table.info->created_time.value());
    tm->set_modified_time(table.info->modified_time.value());
    for (const auto& [bucket, replicas] : table.assignment.buckets) {
      proto::PbBucketMetadata* bm = tm->add_bucket_metadata();
      bm->set_bucket_id(bucket.value());
      auto state = table.buckets.find(bucket);
      if (state != table.buckets.end()) {
        if (state->second.lai.leader.value() >= 0) {
          bm->set_leader_id(state->second.lai.leader.value());
        }
        bm->set_leader_epoch(state->second.lai.leader_epoch.value());
        for (ServerId r : state->second.lai.isr) bm->add_isr(r.value());
      }
      for (ServerId r : replicas) bm->add_replica_id(r.value());
    }
  }
  req.set_coordinator_epoch(epoch_.value());
  return req;
}

void ClusterController::Send(RequestBatch batch) {
  for (auto& [id, req] : batch.notify) {
    auto it = channels_.find(id);
    if (it != channels_.end()) it->second->Enqueue(std::move(req));
  }
  for (auto& [id, req] : batch.stop) {
    auto it = channels_.find(id);
    if (it != channels_.end()) it->second->Enqueue(std::move(req));
  }
  if (batch.update_metadata) {
    proto::UpdateMetadataRequest update = BuildUpdateMetadata();
    for (auto& [id, channel] : channels_) channel->Enqueue(update);
  }
}

// ---------------------------------------------------------------------------------------
// Channels.

void ClusterController::OpenChannel(const LiveTabletServer& server) {
  CloseChannel(server.node.id);
  auto channel = std::make_shared<Channel>(executor_, generation_, server.node.id,
                                           server.register_timestamp, server.node.host,
                                           static_cast<uint16_t>(server.node.port));
  channels_[server.node.id] = channel;
  SpawnBackground(executor_, gate_, "coordinator-channel", ChannelLoop(channel));
}

void ClusterController::CloseChannel(ServerId id) {
  auto it = channels_.find(id);
  if (it == channels_.end()) return;
  it->second->Close();
  channels_.erase(it);
}

void ClusterController::CloseAllChannels() {
  for (auto& [id, channel] : channels_) channel->Close();
  channels_.clear();
}

Task<void> ClusterController::ChannelLoop(std::shared_ptr<Channel> channel) {
  using namespace asio::experimental::awaitable_operators;  // NOLINT
  const bool probing = options_.probe_attempts > 0;
  int attempts = 0;
  // While idle, the loop holds a connection and waits for it to end as well as for requests:
  // a process killed with SIGKILL has its connections closed by the kernel at once, and a
  // probe of its port tells a dead process (refused) from a server that closed an idle
  // connection or restarted its listener (accepted).
  std::shared_ptr<rpc::Connection> watched;
  while (!channel->closed) {
    if (channel->queue.empty()) {
      if (!probing) {
        co_await channel->wake.Wait();
        continue;
      }
      if (!watched || !watched->is_open()) {
        watched.reset();
        auto conn = co_await pool_->Get(channel->host, channel->port);
        if (channel->closed) break;
        if (conn.ok()) {
          watched = *conn;
          continue;
        }
        if (conn.status().code() == ErrorCode::kNetwork && co_await RefusesConnections(*channel)) {
          ReportRefused(*channel);
          break;
        }
        // Not dead as far as a connect can tell: try again later, or when a request comes.
        asio::steady_timer pause(executor_, std::chrono::seconds(1));
        co_await (channel->wake.Wait() || pause.async_wait(kAwaitTuple));
        continue;
      }
      auto woke = co_await (channel->wake.Wait() || watched->Ended());
      if (woke.index() == 1 && !channel->closed) {
        watched.reset();
        if (co_await RefusesConnections(*channel)) {
          ReportRefused(*channel);
          break;
        }
      }
      continue;
    }
    Status sent = Status::OK();
    auto conn = co_await pool_->Get(channel->host, channel->port);
    if (!conn.ok()) {
      sent = conn.status();
    } else if (channel->closed) {
      break;
    } else {
      // Copy: the queue may be cleared while the call is in flight.
      Channel::Request request = channel->queue.front();
      if (auto* notify = std::get_if<proto::NotifyLeaderAndIsrRequest>(&request)) {
        auto resp = co_await (*conn)->Call<proto::ApiKey::kNotifyLeaderAndIsr>(
            std::move(*notify), options_.request_timeout);
        if (resp.ok()) {
          for (const auto& b : resp->notify_buckets_leader_resp()) {
            if (b.has_error_code()) {
              STROM_LOG_WARN(kLog, "tablet server {}: NotifyLeaderAndIsr of bucket {}/{}: {} {}",
                             channel->id, b.table_bucket().table_id(),
                             b.table_bucket().bucket_id(), b.error_code(), b.error_message());
            }
          }
        }
        sent = resp.status();
      } else if (auto* stop = std::get_if<proto::StopReplicaRequest>(&request)) {
        auto resp = co_await (*conn)->Call<proto::ApiKey::kStopReplica>(std::move(*stop),
                                                                       options_.request_timeout);
        sent = resp.status();
      } else {
        auto resp = co_await (*conn)->Call<proto::ApiKey::kUpdateMetadata>(
            std::get<proto::UpdateMetadataRequest>(std::move(request)), options_.request_timeout);
        sent = resp.status();
      }
    }
    if (channel->closed) break;
    // The connection broke or could not be opened: a process that is gone is dead now, and
    // its requests are moot (the server's state is sent again when it joins).
    if (probing && sent.code() == ErrorCode::kNetwork && co_await RefusesConnections(*channel)) {
      ReportRefused(*channel);
      break;
    }
    if (channel->closed) break;
    bool transport = sent.code() == ErrorCode::kNetwork || sent.code() == ErrorCode::kRequestTimeOut;
    if (!sent.ok() && transport && ++attempts < options_.max_send_attempts) {
      asio::steady_timer timer(executor_, options_.send_retry_wait);
      co_await timer.async_wait(kAwaitTuple);
      continue;
    }
    if (!sent.ok()) {
      STROM_LOG_WARN(kLog, "request to tablet server {} failed: {}", channel->id,
                     sent.ToString());
    }
    attempts = 0;
    if (!channel->queue.empty()) channel->queue.pop_front();
  }
}

Task<bool> ClusterController::RefusesConnections(const Channel& channel) {
  for (int attempt = 0; attempt < options_.probe_attempts; ++attempt) {
    if (attempt > 0) {
      asio::steady_timer pause(executor_, options_.probe_interval);
      co_await pause.async_wait(kAwaitTuple);
    }
    if (channel.closed) co_return false;
    ConnectProbe probe = co_await ProbeConnect(channel.host, channel.port, options_.probe_interval);
    if (probe != ConnectProbe::kRefused) {
      STROM_LOG_DEBUG(kLog, "tablet server {} at {}:{} {} a probe connect", channel.id,
                      channel.host, channel.port,
                      probe == ConnectProbe::kAccepted ? "accepted" : "did not answer");
      co_return false;
    }
  }
  co_return !channel.closed;
}

void ClusterController::ReportRefused(const Channel& channel) {
  SpawnBackground(executor_, gate_, "coordinator-server-refused",
                  ServerRefusesConnections(channel.generation, channel.id,
                                           channel.register_timestamp));
}

// ---------------------------------------------------------------------------------------
// Tables.

Status ClusterController::CheckTable(const record::TableDescriptor& table) {
  return options_.check_table ? options_.check_table(table) : Status::OK();
}

Task<Status> ClusterController::CreateTableBuckets(metadata::TableInfo table,
                                                   metadata::TableAssignment assignment) {
  auto held = co_await events_->Lock();
  STROM_CO_RETURN_IF_ERROR(CheckActive());
  TableId id = table.table_id;
  TableState state;
  state.info = std::make_shared<const metadata::TableInfo>(std::move(table));
  state.assignment = std::move(assignment);
  for (const auto& [bucket, replicas] : state.assignment.buckets) {
    std::vector<ServerId> isr;
    for (ServerId r : replicas) {
      if (Eligible(r)) isr.push_back(r);
    }
    LeaderAndIsr lai{isr.empty() ? ServerId(-1) : isr.front(), LeaderEpoch(0),
                     isr.empty() ? replicas : isr, epoch_, BucketEpoch(0)};
    TableBucket tb{id, std::nullopt, bucket};
    Status created = co_await lai_store_.Create(tb, lai);
    if (!created.ok()) {
      STROM_LOG_ERROR(kLog, "cannot create the leader and ISR of {}: {}", tb.ToString(),
                      created.ToString());
      co_return created;
    }
    state.buckets[bucket] = BucketState{lai, 0};
  }
  tables_[id] = std::move(state);
  RequestBatch batch;
  for (const auto& [bucket, s] : tables_[id].buckets) {
    AddNotifyAllReplicas(batch, TableBucket{id, std::nullopt, bucket});
  }
  batch.update_metadata = true;
  Send(std::move(batch));
  co_return Status::OK();
}

Task<Status> ClusterController::DropTableBuckets(TableId table_id) {
  auto held = co_await events_->Lock();
  STROM_CO_RETURN_IF_ERROR(CheckActive());
  auto table = tables_.find(table_id);
  if (table == tables_.end()) co_return Status::OK();
  RequestBatch batch;
  for (const auto& [bucket, replicas] : table->second.assignment.buckets) {
    LeaderEpoch epoch{0};
    auto state = table->second.buckets.find(bucket);
    if (state != table->second.buckets.end()) epoch = state->second.lai.leader_epoch;
    for (ServerId r : replicas) {
      if (!live_.contains(r)) continue;  // it deletes the files itself when it starts again
      proto::StopReplicaRequest& req = batch.stop[r];
      req.set_coordinator_epoch(epoch_.value());
      auto* item = req.add_stop_replicas_req();
      FillBucket(TableBucket{table_id, std::nullopt, bucket}, item->mutable_table_bucket());
      item->set_leader_epoch(epoch.value());
      item->set_delete_(true);
    }
  }
  tables_.erase(table);
  batch.update_metadata = true;
  Send(std::move(batch));
  co_return Status::OK();
}

// ---------------------------------------------------------------------------------------
// AdjustIsr and ControlledShutdown.

Task<Result<proto::AdjustIsrResponse>> ClusterController::AdjustIsr(proto::AdjustIsrRequest req) {
  auto held = co_await events_->Lock();
  STROM_CO_RETURN_IF_ERROR(CheckActive());
  proto::AdjustIsrResponse resp;
  bool isr_changed = false;
  for (const proto::PbAdjustIsrReqForTable& table_req : req.tables_req()) {
    proto::PbAdjustIsrRespForTable* table_resp = resp.add_tables_resp();
    table_resp->set_table_id(table_req.table_id());
    for (const proto::PbAdjustIsrReqForBucket& b : table_req.buckets_req()) {
      proto::PbAdjustIsrRespForBucket* out = table_resp->add_buckets_resp();
      if (b.has_partition_id()) out->set_partition_id(b.partition_id());
      out->set_bucket_id(b.bucket_id());
      auto fail = [&](ErrorCode code, std::string message) {
        out->set_error_code(static_cast<int32_t>(code));
        out->set_error_message(std::move(message));
      };
      TableBucket tb{TableId(table_req.table_id()), std::nullopt, BucketId(b.bucket_id())};
      auto table = tables_.find(tb.table_id);
      if (table == tables_.end() || b.has_partition_id()) {
        fail(ErrorCode::kUnknownTableOrBucket, fmt::format("Unknown table id {}", tb.table_id));
        continue;
      }
      auto state = table->second.buckets.find(tb.bucket);
      if (state == table->second.buckets.end()) {
        fail(ErrorCode::kUnknownTableOrBucket,
             fmt::format("Unknown table or bucket {}", tb.ToString()));
        continue;
      }
      const LeaderAndIsr cur = state->second.lai;
      std::vector<ServerId> new_isr;
      for (int32_t id : b.new_isr()) new_isr.push_back(ServerId(id));
      if (b.leader_epoch() > cur.leader_epoch.value() ||
          b.bucket_epoch() > cur.bucket_epoch.value() || b.coordinator_epoch() > epoch_.value()) {
        fail(ErrorCode::kInvalidCoordinator, "The coordinator is no longer the active coordinator.");
        continue;
      }
      if (b.leader_epoch() < cur.leader_epoch.value()) {
        fail(ErrorCode::kFencedLeaderEpoch,
             "The request leader epoch in adjust isr request is lower than current leader "
             "epoch in coordinator.");
        continue;
      }
      if (b.bucket_epoch() < cur.bucket_epoch.value()) {
        fail(ErrorCode::kInvalidUpdateVersion,
             "The request bucket epoch in adjust isr request is lower than current bucket "
             "epoch in coordinator.");
        continue;
      }
      if (req.serverid() != cur.leader.value()) {
        fail(ErrorCode::kNotLeaderOrFollower,
             fmt::format("Server {} is not the leader of {} (leader {}).", req.serverid(),
                         tb.ToString(), cur.leader));
        continue;
      }
      std::vector<ServerId> ineligible;
      for (ServerId id : new_isr) {
        if (!Eligible(id)) ineligible.push_back(id);
      }
      if (!ineligible.empty()) {
        fail(ErrorCode::kIneligibleReplica,
             fmt::format("Rejecting adjustIsr request for table bucket {} because it specified "
                         "ineligible replicas {} in the new ISR {}",
                         tb.ToString(), IdList(ineligible), IdList(new_isr)));
        continue;
      }
      const std::vector<ServerId>& assigned = table->second.assignment.buckets[tb.bucket];
      bool all_assigned = !new_isr.empty() && std::all_of(new_isr.begin(), new_isr.end(),
                                                          [&](ServerId id) {
                                                            return Contains(assigned, id);
                                                          });
      if (!all_assigned) {
        fail(ErrorCode::kFencedLeaderEpoch,
             "The request isr in adjust isr request is not in assignment.");
        continue;
      }
      LeaderAndIsr next{cur.leader, cur.leader_epoch, new_isr, epoch_,
                        BucketEpoch(cur.bucket_epoch.value() + 1)};
      auto version = co_await lai_store_.Update(tb, next, state->second.zk_version);
      if (!version.ok()) {
        fail(version.status().code(), version.status().message());
        continue;
      }
      // Looked up again: nothing else ran (events are serialised), but stay safe.
      tables_[tb.table_id].buckets[tb.bucket] = BucketState{next, *version};
      STROM_LOG_INFO(kLog, "{}: ISR {} -> {} (bucket epoch {})", tb.ToString(), IdList(cur.isr),
                     IdList(next.isr), next.bucket_epoch);
      out->set_leader_id(next.leader.value());
      out->set_leader_epoch(next.leader_epoch.value());
      for (ServerId id : next.isr) out->add_isr(id.value());
      out->set_bucket_epoch(next.bucket_epoch.value());
      out->set_coordinator_epoch(next.coordinator_epoch.value());
      isr_changed = true;
    }
  }
  // Tablet servers answer Metadata from their cache: tell them the new ISRs.
  if (isr_changed) {
    RequestBatch batch;
    batch.update_metadata = true;
    Send(std::move(batch));
  }
  co_return resp;
}

Task<Result<proto::ControlledShutdownResponse>> ClusterController::ControlledShutdown(
    proto::ControlledShutdownRequest req) {
  auto held = co_await events_->Lock();
  STROM_CO_RETURN_IF_ERROR(CheckActive());
  ServerId id(req.tablet_server_id());
  if (!live_.contains(id)) {
    co_return MakeError(ErrorCode::kServerNotExist, "Tablet server {} is not alive.", id);
  }
  shutting_down_.insert(id);
  STROM_LOG_INFO(kLog, "tablet server {} shuts down: moving its leaders away", id);
  std::vector<std::pair<TableBucket, LeaderAndIsr>> updates;
  for (auto& [table_id, table] : tables_) {
    for (auto& [bucket, state] : table.buckets) {
      const LeaderAndIsr& cur = state.lai;
      const std::vector<ServerId>& replicas = table.assignment.buckets[bucket];
      if (!Contains(replicas, id)) continue;
      std::vector<ServerId> isr = cur.isr;
      if (Contains(isr, id) && isr.size() > 1) std::erase(isr, id);
      TableBucket tb{table_id, std::nullopt, bucket};
      if (cur.leader == id) {
        std::optional<ServerId> leader = ElectLeader(replicas, isr);
        if (!leader) continue;  // stays with it: reported as remaining
        updates.emplace_back(tb, LeaderAndIsr{*leader, LeaderEpoch(cur.leader_epoch.value() + 1),
                                              isr, epoch_,
                                              BucketEpoch(cur.bucket_epoch.value() + 1)});
      } else if (isr != cur.isr) {
        updates.emplace_back(tb, LeaderAndIsr{cur.leader, cur.leader_epoch, isr, epoch_,
                                              BucketEpoch(cur.bucket_epoch.value() + 1)});
      }
    }
  }
  RequestBatch batch;
  co_await CommitUpdates(std::move(updates), batch);
  Send(std::move(batch));
  proto::ControlledShutdownResponse resp;
  for (const auto& [table_id, table] : tables_) {
    for (const auto& [bucket, state] : table.buckets) {
      if (state.lai.leader == id) {
        FillBucket(TableBucket{table_id, std::nullopt, bucket}, resp.add_remaining_leader_buckets());
      }
    }
  }
  co_return resp;
}

// ---------------------------------------------------------------------------------------
// Rebalance.

namespace {

/// A random (version 4) UUID, as Fluss names its rebalance tasks.
std::string NewRebalanceId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = (rng() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  uint64_t lo = (rng() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff,
                     hi & 0xffff, lo >> 48, lo & 0xffffffffffffULL);
}

/// The ids of `a` that are not in `b`, in `a`'s order.
std::vector<ServerId> Minus(const std::vector<ServerId>& a, const std::vector<ServerId>& b) {
  std::vector<ServerId> out;
  for (ServerId id : a) {
    if (!Contains(b, id)) out.push_back(id);
  }
  return out;
}

/// Whether a bucket with these replicas and this leader is where the plan takes it.
bool Reached(const BucketMovePlan& plan, const std::vector<ServerId>& assigned, ServerId leader) {
  return leader == plan.new_leader && Minus(assigned, plan.new_replicas).empty() &&
         Minus(plan.new_replicas, assigned).empty();
}

}  // namespace

Task<Status> ClusterController::LoadRebalance() {
  auto node = co_await zk_.Get(paths_.Rebalance());
  if (node.code() == zk::ZkCode::kNoNode) co_return Status::OK();
  if (!node.ok()) co_return node.status();
  auto record = RebalanceTaskFromJson(node->data);
  if (!record.ok()) {
    // As Fluss: an unreadable task is treated as none.
    STROM_LOG_WARN(kLog, "ignoring the rebalance task in ZooKeeper: {}",
                   record.status().ToString());
    co_return Status::OK();
  }
  RebalanceTask task;
  task.id = record->rebalance_id;
  task.status = record->status;
  for (BucketMovePlan& plan : record->plan) {
    RebalanceBucket rb;
    bool reached = false;
    bool started = false;
    auto table = tables_.find(plan.bucket.table_id);
    if (table != tables_.end() && !plan.bucket.partition_id) {
      auto assigned = table->second.assignment.buckets.find(plan.bucket.bucket);
      auto state = table->second.buckets.find(plan.bucket.bucket);
      if (assigned != table->second.assignment.buckets.end() &&
          state != table->second.buckets.end()) {
        reached = Reached(plan, assigned->second, state->second.lai.leader);
        started = !Minus(assigned->second, plan.original_replicas).empty();
      }
    }
    // The znode keeps the task's status only: each bucket's comes from the cluster's state.
    if (IsFinal(record->status)) {
      rb.status = reached ? RebalanceStatus::kCompleted : record->status;
    } else {
      rb.status = reached   ? RebalanceStatus::kCompleted
                  : started ? RebalanceStatus::kRebalancing
                            : RebalanceStatus::kNotStarted;
    }
    TableBucket key = plan.bucket;
    rb.plan = std::move(plan);
    task.buckets.emplace(key, std::move(rb));
  }
  if (!IsFinal(task.status)) task.status = RebalanceStatus::kRebalancing;
  rebalance_ = std::move(task);
  co_return Status::OK();
}

void ClusterController::StartRebalanceLoop() {
  if (rebalance_loop_running_ || stopped_) return;
  rebalance_loop_running_ =
      SpawnBackground(executor_, gate_, "coordinator-rebalance", RebalanceLoop(generation_));
}

Task<void> ClusterController::RebalanceLoop(uint64_t generation) {
  while (true) {
    {
      auto held = co_await events_->Lock();
      if (generation != generation_ || stopped_ || !active_ || !rebalance_ ||
          IsFinal(rebalance_->status)) {
        break;
      }
      co_await AdvanceRebalance(generation);
      if (generation != generation_ || !rebalance_ || IsFinal(rebalance_->status)) break;
    }
    asio::steady_timer timer(executor_, options_.rebalance_tick);
    co_await timer.async_wait(kAwaitTuple);
  }
  if (generation == generation_) rebalance_loop_running_ = false;
}

Task<void> ClusterController::AdvanceRebalance(uint64_t generation) {
  RequestBatch batch;
  int inflight = 0;
  std::vector<TableBucket> order;
  for (const auto& [bucket, rb] : rebalance_->buckets) {
    if (rb.status == RebalanceStatus::kRebalancing) ++inflight;
    order.push_back(bucket);
  }
  // rebalance_ changes only under the event lock (held here), so `rb` stays valid across
  // the awaits; the tables may not (OnLost clears them), which StepBucket looks after.
  for (const TableBucket& bucket : order) {
    if (generation != generation_) co_return;
    RebalanceBucket& rb = rebalance_->buckets.at(bucket);
    if (IsFinal(rb.status)) continue;
    if (rb.status == RebalanceStatus::kNotStarted) {
      if (inflight >= options_.rebalance_max_inflight_buckets) continue;
      ++inflight;
    }
    co_await StepBucket(generation, rb, batch);
  }
  if (generation != generation_) co_return;
  Send(std::move(batch));
  bool failed = false;
  for (const auto& [bucket, rb] : rebalance_->buckets) {
    if (!IsFinal(rb.status)) co_return;
    failed = failed || rb.status == RebalanceStatus::kFailed;
  }
  rebalance_->status = failed ? RebalanceStatus::kFailed : RebalanceStatus::kCompleted;
  Status written = co_await WriteRebalanceTask();
  if (!written.ok()) {
    STROM_LOG_WARN(kLog, "cannot record the end of rebalance {}: {}", rebalance_->id,
                   written.ToString());
  }
  STROM_LOG_INFO(kLog, "rebalance {} {} ({} buckets)", rebalance_->id,
                 RebalanceStatusName(rebalance_->status), rebalance_->buckets.size());
}

Task<void> ClusterController::StepBucket(uint64_t generation, RebalanceBucket& rb,
                                         RequestBatch& batch) {
  const BucketMovePlan& plan = rb.plan;
  const TableBucket tb = plan.bucket;
  auto fail = [&](std::string_view why) {
    STROM_LOG_WARN(kLog, "rebalance of {} failed: {}", tb.ToString(), why);
    rb.status = RebalanceStatus::kFailed;
  };
  auto table = tables_.find(tb.table_id);
  if (table == tables_.end() || tb.partition_id) {
    fail("its table no longer exists");
    co_return;
  }
  auto state = table->second.buckets.find(tb.bucket);
  auto assigned_it = table->second.assignment.buckets.find(tb.bucket);
  if (state == table->second.buckets.end() ||
      assigned_it == table->second.assignment.buckets.end()) {
    fail("the bucket no longer exists");
    co_return;
  }
  const std::vector<ServerId> assigned = assigned_it->second;
  const LeaderAndIsr cur = state->second.lai;
  const std::vector<ServerId>& target = plan.new_replicas;

  if (rb.assignment_pending) {
    Status written = co_await WriteAssignment(tb.table_id);
    if (generation != generation_) co_return;
    if (written.ok()) {
      rb.assignment_pending = false;
      rb.status = RebalanceStatus::kCompleted;
    }
    co_return;
  }
  // An offline bucket, or one whose leader is shutting down: failover goes first.
  if (cur.leader.value() < 0 || !Eligible(cur.leader)) co_return;

  // Step 1: the new replicas join as followers (assignment = original + added).
  std::vector<ServerId> adding = Minus(target, assigned);
  if (!adding.empty()) {
    for (ServerId id : adding) {
      if (!Eligible(id)) {
        fail(fmt::format("tablet server {} is not available", id));
        co_return;
      }
    }
    std::vector<ServerId> widened = assigned;
    widened.insert(widened.end(), adding.begin(), adding.end());
    table->second.assignment.buckets[tb.bucket] = widened;
    Status written = co_await WriteAssignment(tb.table_id);
    if (generation != generation_) co_return;
    table = tables_.find(tb.table_id);
    if (table == tables_.end()) co_return;
    if (!written.ok()) {
      STROM_LOG_WARN(kLog, "rebalance of {}: cannot write the assignment, retrying: {}",
                     tb.ToString(), written.ToString());
      table->second.assignment.buckets[tb.bucket] = assigned;
      co_return;
    }
    rb.status = RebalanceStatus::kRebalancing;
    STROM_LOG_INFO(kLog, "rebalance {}: {} replicas {} -> {}, adding {}", rebalance_->id,
                   tb.ToString(), IdList(assigned), IdList(widened), IdList(adding));
    // A new bucket epoch tells the replicas about the wider assignment; they are told even
    // if the write fails (same bucket epoch then, which they accept as well).
    LeaderAndIsr next{cur.leader, cur.leader_epoch, cur.isr, epoch_,
                      BucketEpoch(cur.bucket_epoch.value() + 1)};
    co_await WriteLeaderAndIsr(generation, tb, next);
    if (generation != generation_) co_return;
    AddNotifyAllReplicas(batch, tb);
    batch.update_metadata = true;
    co_return;
  }
  rb.status = RebalanceStatus::kRebalancing;
  std::vector<ServerId> removing = Minus(assigned, target);

  // Step 2: wait until every target replica is in sync (a move of leadership only needs the
  // new leader in sync).
  if (!removing.empty()) {
    for (ServerId id : target) {
      if (Contains(cur.isr, id)) continue;
      if (!live_.contains(id)) {
        STROM_LOG_WARN(kLog, "rebalance of {}: tablet server {} left before catching up",
                       tb.ToString(), id);
        Status reverted = co_await RevertBucket(generation, rb, batch);
        if (generation != generation_) co_return;
        if (reverted.ok()) fail(fmt::format("tablet server {} left before catching up", id));
      }
      co_return;
    }
  }

  // Step 3: the leader.
  ServerId leader = cur.leader;
  if (leader != plan.new_leader) {
    if (Contains(cur.isr, plan.new_leader) && Eligible(plan.new_leader) &&
        Contains(target, plan.new_leader)) {
      leader = plan.new_leader;
    } else if (!Contains(target, leader)) {
      std::optional<ServerId> elected = ElectLeader(target, cur.isr);
      if (!elected) co_return;
      leader = *elected;
    } else if (removing.empty()) {
      // Leadership alone moves, to a replica not in sync (yet).
      if (!live_.contains(plan.new_leader)) {
        fail(fmt::format("tablet server {} is not available", plan.new_leader));
      }
      co_return;
    }
  }
  std::vector<ServerId> final_replicas = target;
  auto pos = std::find(final_replicas.begin(), final_replicas.end(), leader);
  if (pos != final_replicas.end()) std::iter_swap(final_replicas.begin(), pos);
  if (leader == cur.leader && removing.empty()) {
    if (assigned != final_replicas) {
      table->second.assignment.buckets[tb.bucket] = final_replicas;
      rb.assignment_pending = true;
      co_return;  // the next pass writes it
    }
    rb.status = RebalanceStatus::kCompleted;
    co_return;
  }

  // Step 4: new leader (leader epoch + 1) and ISR without the removed replicas, written
  // first; then the removed replicas are stopped and deleted and the assignment shrinks.
  std::vector<ServerId> isr;
  for (ServerId id : cur.isr) {
    if (Contains(target, id)) isr.push_back(id);
  }
  LeaderAndIsr next{leader, LeaderEpoch(cur.leader_epoch.value() + (leader != cur.leader ? 1 : 0)),
                    isr, epoch_, BucketEpoch(cur.bucket_epoch.value() + 1)};
  if (!co_await WriteLeaderAndIsr(generation, tb, next)) co_return;
  table = tables_.find(tb.table_id);
  if (table == tables_.end()) co_return;
  table->second.assignment.buckets[tb.bucket] = final_replicas;
  AddNotifyAllReplicas(batch, tb);
  for (ServerId id : removing) {
    if (live_.contains(id)) AddStopReplica(batch, id, tb, next.leader_epoch);
  }
  batch.update_metadata = true;
  STROM_LOG_INFO(kLog, "rebalance {}: {} replicas {} -> {}, leader {} -> {}", rebalance_->id,
                 tb.ToString(), IdList(assigned), IdList(final_replicas), cur.leader, leader);
  Status written = co_await WriteAssignment(tb.table_id);
  if (generation != generation_) co_return;
  if (!written.ok()) {
    STROM_LOG_WARN(kLog, "rebalance of {}: cannot write the assignment, retrying: {}",
                   tb.ToString(), written.ToString());
    rb.assignment_pending = true;
    co_return;
  }
  rb.status = RebalanceStatus::kCompleted;
}

Task<Status> ClusterController::RevertBucket(uint64_t generation, RebalanceBucket& rb,
                                             RequestBatch& batch) {
  const TableBucket tb = rb.plan.bucket;
  auto table = tables_.find(tb.table_id);
  if (table == tables_.end()) co_return Status::OK();
  auto state = table->second.buckets.find(tb.bucket);
  auto assigned_it = table->second.assignment.buckets.find(tb.bucket);
  if (state == table->second.buckets.end() ||
      assigned_it == table->second.assignment.buckets.end()) {
    co_return Status::OK();
  }
  const std::vector<ServerId> assigned = assigned_it->second;
  const LeaderAndIsr cur = state->second.lai;
  std::vector<ServerId> drop;
  for (ServerId id : Minus(rb.plan.new_replicas, rb.plan.original_replicas)) {
    if (Contains(assigned, id) && id != cur.leader) drop.push_back(id);
  }
  if (drop.empty()) co_return Status::OK();
  std::vector<ServerId> kept = Minus(assigned, drop);
  std::vector<ServerId> isr = Minus(cur.isr, drop);
  if (isr.empty()) isr = cur.isr;
  LeaderAndIsr next{cur.leader, cur.leader_epoch, isr, epoch_,
                    BucketEpoch(cur.bucket_epoch.value() + 1)};
  if (!co_await WriteLeaderAndIsr(generation, tb, next)) {
    co_return Status(ErrorCode::kRebalanceFailure,
                     fmt::format("cannot write the leader and ISR of {}", tb.ToString()));
  }
  table = tables_.find(tb.table_id);
  if (table == tables_.end()) co_return Status::OK();
  table->second.assignment.buckets[tb.bucket] = kept;
  AddNotifyAllReplicas(batch, tb);
  for (ServerId id : drop) {
    if (live_.contains(id)) AddStopReplica(batch, id, tb, next.leader_epoch);
  }
  batch.update_metadata = true;
  STROM_LOG_INFO(kLog, "rebalance of {} undone: replicas {} -> {}", tb.ToString(), IdList(assigned),
                 IdList(kept));
  co_return co_await WriteAssignment(tb.table_id);
}

Task<bool> ClusterController::WriteLeaderAndIsr(uint64_t generation, const TableBucket& bucket,
                                                const LeaderAndIsr& next) {
  auto table = tables_.find(bucket.table_id);
  if (table == tables_.end()) co_return false;
  auto state = table->second.buckets.find(bucket.bucket);
  if (state == table->second.buckets.end()) co_return false;
  LeaderAndIsr value = next;
  auto version = co_await lai_store_.Update(bucket, value, state->second.zk_version);
  if (generation != generation_) co_return false;
  if (!version.ok()) {
    STROM_LOG_WARN(kLog, "cannot write the leader and ISR of {}: {}", bucket.ToString(),
                   version.status().ToString());
    co_return false;
  }
  table = tables_.find(bucket.table_id);
  if (table == tables_.end()) co_return false;
  state = table->second.buckets.find(bucket.bucket);
  if (state == table->second.buckets.end()) co_return false;
  if (value.leader != state->second.lai.leader) {
    STROM_LOG_INFO(kLog, "{}: leader {} -> {} (leader epoch {}), ISR {}", bucket.ToString(),
                   state->second.lai.leader, value.leader, value.leader_epoch, IdList(value.isr));
  }
  state->second = BucketState{value, *version};
  co_return true;
}

Task<Status> ClusterController::WriteAssignment(TableId table_id) {
  auto table = tables_.find(table_id);
  if (table == tables_.end()) co_return Status::OK();
  std::string json = metadata::TableAssignmentToJson(table->second.assignment);
  auto set = co_await zk_.Set(paths_.TableAssignment(table_id), std::move(json));
  co_return set.status();
}

Task<Status> ClusterController::WriteRebalanceTask() {
  if (!rebalance_) co_return Status::OK();
  RebalanceTaskRecord record;
  record.rebalance_id = rebalance_->id;
  record.status = rebalance_->status;
  for (const auto& [bucket, rb] : rebalance_->buckets) record.plan.push_back(rb.plan);
  co_return co_await PutPersistent(paths_.Rebalance(), RebalanceTaskToJson(record));
}

Task<Status> ClusterController::PutPersistent(std::string path, std::string data) {
  auto set = co_await zk_.Set(path, data);
  if (set.ok()) co_return Status::OK();
  if (set.code() != zk::ZkCode::kNoNode) co_return set.status();
  auto parents = co_await zk_.CreateParents(path);
  if (!parents.ok()) co_return parents.status();
  auto created = co_await zk_.Create(path, data, zk::CreateMode::kPersistent);
  if (created.ok()) co_return Status::OK();
  if (created.code() != zk::ZkCode::kNodeExists) co_return created.status();
  co_return (co_await zk_.Set(path, data)).status();
}

void ClusterController::AddStopReplica(RequestBatch& batch, ServerId to, const TableBucket& bucket,
                                       LeaderEpoch leader_epoch) {
  proto::StopReplicaRequest& req = batch.stop[to];
  req.set_coordinator_epoch(epoch_.value());
  auto* item = req.add_stop_replicas_req();
  FillBucket(bucket, item->mutable_table_bucket());
  item->set_leader_epoch(leader_epoch.value());
  item->set_delete_(true);
}

Task<Result<proto::RebalanceResponse>> ClusterController::Rebalance(proto::RebalanceRequest req) {
  auto held = co_await events_->Lock();
  STROM_CO_RETURN_IF_ERROR(CheckActive());
  if (rebalance_ && !IsFinal(rebalance_->status)) {
    co_return MakeError(ErrorCode::kRebalanceFailure,
                        "Rebalance task already exists, current rebalance id is '{}'. Please "
                        "wait for it to finish or cancel it first.",
                        rebalance_->id);
  }
  STROM_CO_ASSIGN_OR_RETURN(RebalanceGoals goals, RebalanceGoals::FromWire(std::vector<int32_t>(
                                                      req.goals().begin(), req.goals().end())));
  std::vector<PlannerServer> servers;
  for (const auto& [id, server] : live_) {
    if (shutting_down_.contains(id)) continue;
    servers.push_back(PlannerServer{id, server.node.rack, server_tags_.contains(id)});
  }
  std::vector<PlannerBucket> buckets;
  for (const auto& [table_id, table] : tables_) {
    for (const auto& [bucket, replicas] : table.assignment.buckets) {
      PlannerBucket pb;
      pb.bucket = TableBucket{table_id, std::nullopt, bucket};
      pb.replicas = replicas;
      auto state = table.buckets.find(bucket);
      if (state != table.buckets.end()) pb.leader = state->second.lai.leader;
      buckets.push_back(std::move(pb));
    }
  }
  auto plan = PlanRebalance(servers, buckets, goals);
  if (!plan.ok()) {
    co_return MakeError(ErrorCode::kRebalanceFailure,
                        "Failed to generate plan and execute rebalance. The root cause: {}",
                        plan.status().message());
  }
  RebalanceTask task;
  task.id = NewRebalanceId();
  task.status = plan->empty() ? RebalanceStatus::kCompleted : RebalanceStatus::kRebalancing;
  for (BucketMovePlan& p : *plan) {
    TableBucket key = p.bucket;
    task.buckets.emplace(key, RebalanceBucket{std::move(p), RebalanceStatus::kNotStarted, false});
  }
  std::optional<RebalanceTask> previous = std::move(rebalance_);
  rebalance_ = std::move(task);
  Status written = co_await WriteRebalanceTask();
  if (!written.ok()) {
    rebalance_ = std::move(previous);
    co_return MakeError(ErrorCode::kRebalanceFailure,
                        "Failed to generate plan and execute rebalance. The root cause: {}",
                        written.message());
  }
  STROM_LOG_INFO(kLog, "rebalance {} started: {} bucket moves over {} tablet servers",
                 rebalance_->id, rebalance_->buckets.size(), servers.size());
  if (!IsFinal(rebalance_->status)) StartRebalanceLoop();
  proto::RebalanceResponse resp;
  resp.set_rebalance_id(rebalance_->id);
  co_return resp;
}

Task<Result<proto::ListRebalanceProgressResponse>> ClusterController::ListRebalanceProgress(
    proto::ListRebalanceProgressRequest req) {
  // Reads only: answered between events, without waiting for the event queue.
  STROM_CO_RETURN_IF_ERROR(CheckActive());
  proto::ListRebalanceProgressResponse resp;
  if (!rebalance_) co_return resp;
  if (req.has_rebalance_id() && req.rebalance_id() != rebalance_->id) {
    co_return MakeError(ErrorCode::kNoRebalanceInProgress,
                        "Rebalance task id {} to list is not the current rebalance task id {}.",
                        req.rebalance_id(), rebalance_->id);
  }
  resp.set_rebalance_id(rebalance_->id);
  resp.set_rebalance_status(static_cast<int32_t>(rebalance_->status));
  std::map<TableId, proto::PbRebalanceProgressForTable*> tables;
  for (const auto& [bucket, rb] : rebalance_->buckets) {
    auto& table = tables[bucket.table_id];
    if (table == nullptr) {
      table = resp.add_table_progress();
      table->set_table_id(bucket.table_id.value());
    }
    proto::PbRebalanceProgressForBucket* out = table->add_buckets_progress();
    proto::PbRebalancePlanForBucket* plan = out->mutable_rebalance_plan();
    if (bucket.partition_id) plan->set_partition_id(bucket.partition_id->value());
    plan->set_bucket_id(bucket.bucket.value());
    plan->set_original_leader(rb.plan.original_leader.value());
    plan->set_new_leader(rb.plan.new_leader.value());
    for (ServerId id : rb.plan.original_replicas) plan->add_original_replicas(id.value());
    for (ServerId id : rb.plan.new_replicas) plan->add_new_replicas(id.value());
    out->set_rebalance_status(static_cast<int32_t>(rb.status));
  }
  co_return resp;
}

Task<Result<proto::CancelRebalanceResponse>> ClusterController::CancelRebalance(
    proto::CancelRebalanceRequest req) {
  auto held = co_await events_->Lock();
  STROM_CO_RETURN_IF_ERROR(CheckActive());
  if (!rebalance_) {
    co_return MakeError(ErrorCode::kNoRebalanceInProgress, "There is no rebalance task to cancel.");
  }
  if (req.has_rebalance_id() && req.rebalance_id() != rebalance_->id) {
    co_return MakeError(ErrorCode::kNoRebalanceInProgress,
                        "Rebalance task id {} to cancel is not the current rebalance task id {}.",
                        req.rebalance_id(), rebalance_->id);
  }
  proto::CancelRebalanceResponse resp;
  if (IsFinal(rebalance_->status)) co_return resp;
  const uint64_t generation = generation_;
  RequestBatch batch;
  for (auto& [bucket, rb] : rebalance_->buckets) {
    if (IsFinal(rb.status)) continue;
    if (rb.assignment_pending) {
      // Moved already; only the assignment znode was behind.
      Status written = co_await WriteAssignment(bucket.table_id);
      if (generation != generation_) co_return resp;
      rb.assignment_pending = !written.ok();
      rb.status = RebalanceStatus::kCompleted;
      continue;
    }
    if (rb.status == RebalanceStatus::kRebalancing) {
      Status reverted = co_await RevertBucket(generation, rb, batch);
      if (generation != generation_) co_return resp;
      if (!reverted.ok()) {
        STROM_LOG_WARN(kLog, "cancelling the move of {}: {}", bucket.ToString(),
                       reverted.ToString());
      }
    }
    rb.status = RebalanceStatus::kCanceled;
  }
  rebalance_->status = RebalanceStatus::kCanceled;
  Send(std::move(batch));
  Status written = co_await WriteRebalanceTask();
  if (!written.ok()) {
    STROM_LOG_WARN(kLog, "cannot record the cancellation of rebalance {}: {}", rebalance_->id,
                   written.ToString());
  }
  STROM_LOG_INFO(kLog, "rebalance {} canceled", rebalance_->id);
  co_return resp;
}

Task<Status> ClusterController::LoadServerTags() {
  auto node = co_await zk_.Get(paths_.ServerTags());
  if (node.code() == zk::ZkCode::kNoNode) co_return Status::OK();
  if (!node.ok()) co_return node.status();
  auto tags = ServerTagsFromJson(node->data);
  if (!tags.ok()) {
    STROM_LOG_WARN(kLog, "ignoring the server tags in ZooKeeper: {}", tags.status().ToString());
    co_return Status::OK();
  }
  server_tags_ = std::move(tags).value();
  co_return Status::OK();
}

Task<Status> ClusterController::WriteServerTags(const std::map<ServerId, ServerTag>& tags) {
  std::string path = paths_.ServerTags();
  if (tags.empty()) {
    auto deleted = co_await zk_.Delete(path);
    if (deleted.ok() || deleted.code() == zk::ZkCode::kNoNode) co_return Status::OK();
    co_return deleted.status();
  }
  co_return co_await PutPersistent(std::move(path), ServerTagsToJson(tags));
}

Task<Result<proto::AddServerTagResponse>> ClusterController::AddServerTag(
    proto::AddServerTagRequest req) {
  auto held = co_await events_->Lock();
  STROM_CO_RETURN_IF_ERROR(CheckActive());
  if (!IsServerTag(req.server_tag())) {
    co_return MakeError(ErrorCode::kUnknownServerError,
                        "Value {} must be one of [PERMANENT_OFFLINE, TEMPORARY_OFFLINE]",
                        req.server_tag());
  }
  const auto tag = static_cast<ServerTag>(req.server_tag());
  std::map<ServerId, ServerTag> tags = server_tags_;
  for (int32_t raw : req.server_ids()) {
    ServerId id(raw);
    if (!live_.contains(id)) {
      co_return MakeError(ErrorCode::kServerNotExist,
                          "Server {} not exists when trying to add server tag.", id);
    }
    auto existing = server_tags_.find(id);
    if (existing != server_tags_.end() && existing->second != tag) {
      co_return MakeError(ErrorCode::kSeverTagAlreadyExist,
                          "Server tag {} already exists for server {}. However you want to set it "
                          "to {}, please remove the server tag first.",
                          static_cast<int32_t>(existing->second), id, req.server_tag());
    }
    tags[id] = tag;
  }
  Status written = co_await WriteServerTags(tags);
  if (!written.ok()) {
    co_return MakeError(ErrorCode::kUnknownServerError,
                        "Error when add server tags to zookeeper: {}", written.message());
  }
  server_tags_ = std::move(tags);
  STROM_LOG_INFO(kLog, "server tag {} added for servers {}", req.server_tag(),
                 IdList(std::vector<ServerId>(req.server_ids().begin(), req.server_ids().end())));
  co_return proto::AddServerTagResponse();
}

Task<Result<proto::RemoveServerTagResponse>> ClusterController::RemoveServerTag(
    proto::RemoveServerTagRequest req) {
  auto held = co_await events_->Lock();
  STROM_CO_RETURN_IF_ERROR(CheckActive());
  std::map<ServerId, ServerTag> tags = server_tags_;
  for (int32_t raw : req.server_ids()) {
    ServerId id(raw);
    auto existing = server_tags_.find(id);
    if (existing != server_tags_.end() &&
        static_cast<int32_t>(existing->second) != req.server_tag()) {
      co_return MakeError(ErrorCode::kSeverTagNotExist,
                          "Server tag {} not exists for server {}, the current server tag of this "
                          "server is {}.",
                          req.server_tag(), id, static_cast<int32_t>(existing->second));
    }
    tags.erase(id);
  }
  Status written = co_await WriteServerTags(tags);
  if (!written.ok()) {
    co_return MakeError(ErrorCode::kUnknownServerError,
                        "Error when remove server tags from zookeeper: {}", written.message());
  }
  server_tags_ = std::move(tags);
  co_return proto::RemoveServerTagResponse();
}

// ---------------------------------------------------------------------------------------
// ClusterView.

std::optional<metadata::ServerNode> ClusterController::CoordinatorNode() const {
  if (!active_) return std::nullopt;
  metadata::ServerNode node = self_;
  node.role = metadata::ServerRole::kCoordinator;
  node.rack.reset();
  return node;
}

std::vector<metadata::ServerNode> ClusterController::TabletServers() const {
  std::vector<metadata::ServerNode> out;
  if (!active_) return out;
  for (const auto& [id, server] : live_) {
    if (!shutting_down_.contains(id)) out.push_back(server.node);
  }
  return out;
}

std::optional<BucketLeader> ClusterController::Leader(const TableBucket& bucket) const {
  auto lai = BucketLeaderAndIsr(bucket);
  if (!lai) return std::nullopt;
  BucketLeader out;
  if (lai->leader.value() >= 0) out.leader = lai->leader;
  out.leader_epoch = lai->leader_epoch;
  out.isr = lai->isr;
  return out;
}

Status ClusterController::CheckActive() const {
  if (active_) return Status::OK();
  return Status(ErrorCode::kNotCoordinatorLeader,
                "This coordinator is not the active coordinator (a standby, or not yet elected).");
}

std::optional<LeaderAndIsr> ClusterController::BucketLeaderAndIsr(const TableBucket& b) const {
  auto table = tables_.find(b.table_id);
  if (table == tables_.end()) return std::nullopt;
  auto state = table->second.buckets.find(b.bucket);
  if (state == table->second.buckets.end()) return std::nullopt;
  return state->second.lai;
}

}  // namespace strom::coordinator
