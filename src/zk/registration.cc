#include "zk/registration.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <charconv>
#include <map>

#include "common/logging.h"
#include "record/type_json.h"

namespace strom::zk {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kLog = "zk";

Result<Json> ParseObject(std::string_view json, std::string_view what) {
  Json node = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (node.is_discarded() || !node.is_object()) {
    return Corruption("{} node is not a JSON object", what);
  }
  return node;
}

Result<int64_t> ReadInt(const Json& node, std::string_view key, std::string_view what) {
  auto it = node.find(key);
  if (it == node.end() || !it->is_number_integer()) {
    return Corruption("{} node lacks the integer \"{}\"", what, key);
  }
  return it->get<int64_t>();
}

Result<std::string> ReadString(const Json& node, std::string_view key, std::string_view what) {
  auto it = node.find(key);
  if (it == node.end() || !it->is_string()) {
    return Corruption("{} node lacks the string \"{}\"", what, key);
  }
  return it->get<std::string>();
}

bool IsTransient(ZkCode code) {
  return IsConnectionError(code) || code == ZkCode::kSessionExpired ||
         code == ZkCode::kInvalidState;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// JSON documents

std::string TabletServerRegistrationToJson(const TabletServerRegistration& reg) {
  std::string out = "{\"version\":3,\"listeners\":";
  record::AppendJsonString(reg.listeners, &out);
  fmt::format_to(std::back_inserter(out), ",\"register_timestamp\":{}",
                 reg.register_timestamp.value());
  if (reg.rack) {
    out.append(",\"rack\":");
    record::AppendJsonString(*reg.rack, &out);
  }
  out.push_back('}');
  return out;
}

Result<TabletServerRegistration> TabletServerRegistrationFromJson(std::string_view json) {
  constexpr std::string_view kWhat = "tablet server";
  STROM_ASSIGN_OR_RETURN(Json node, ParseObject(json, kWhat));
  STROM_ASSIGN_OR_RETURN(int64_t version, ReadInt(node, "version", kWhat));
  TabletServerRegistration reg;
  if (version == 1) {
    STROM_ASSIGN_OR_RETURN(std::string host, ReadString(node, "host", kWhat));
    STROM_ASSIGN_OR_RETURN(int64_t port, ReadInt(node, "port", kWhat));
    reg.listeners = fmt::format("FLUSS://{}:{}", host, port);
  } else {
    STROM_ASSIGN_OR_RETURN(reg.listeners, ReadString(node, "listeners", kWhat));
    if (version >= 3 && node.contains("rack") && !node["rack"].is_null()) {
      STROM_ASSIGN_OR_RETURN(std::string rack, ReadString(node, "rack", kWhat));
      reg.rack = std::move(rack);
    }
  }
  STROM_ASSIGN_OR_RETURN(int64_t ts, ReadInt(node, "register_timestamp", kWhat));
  reg.register_timestamp = TimestampMs(ts);
  return reg;
}

std::string CoordinatorAddressToJson(const CoordinatorAddress& address) {
  std::string out = "{\"version\":2,\"id\":";
  record::AppendJsonString(address.id, &out);
  out.append(",\"listeners\":");
  record::AppendJsonString(address.listeners, &out);
  out.push_back('}');
  return out;
}

Result<CoordinatorAddress> CoordinatorAddressFromJson(std::string_view json) {
  constexpr std::string_view kWhat = "coordinator";
  STROM_ASSIGN_OR_RETURN(Json node, ParseObject(json, kWhat));
  STROM_ASSIGN_OR_RETURN(int64_t version, ReadInt(node, "version", kWhat));
  CoordinatorAddress address;
  STROM_ASSIGN_OR_RETURN(address.id, ReadString(node, "id", kWhat));
  if (version == 1) {
    STROM_ASSIGN_OR_RETURN(std::string host, ReadString(node, "host", kWhat));
    STROM_ASSIGN_OR_RETURN(int64_t port, ReadInt(node, "port", kWhat));
    address.listeners = fmt::format("CLIENT://{}:{}", host, port);
  } else {
    STROM_ASSIGN_OR_RETURN(address.listeners, ReadString(node, "listeners", kWhat));
  }
  return address;
}

// ---------------------------------------------------------------------------------------
// Ephemeral nodes

Task<ZkResult<bool>> CreateOwnEphemeral(ZkClient& client, std::string path, std::string data) {
  for (int attempt = 1;; ++attempt) {
    std::string copy = data;
    auto created = co_await client.Create(path, std::move(copy), CreateMode::kEphemeral);
    if (created.ok()) co_return ZkResult<bool>(ZkCode::kOk, true, "", "");
    if (created.code() == ZkCode::kNodeExists) {
      auto stat = co_await client.Exists(path);
      if (stat.ok() && stat->has_value() && (*stat)->ephemeral_owner == client.session_id() &&
          client.session_id() != 0) {
        co_return ZkResult<bool>(ZkCode::kOk, true, "", "");  // ours, from a cut attempt
      }
      co_return ZkResult<bool>(ZkCode::kNodeExists, false, "create", path);
    }
    // After a connection loss within the session the attempt is repeated; an expired
    // session is left to the owner, which re-creates the node on the next one.
    if (!IsConnectionError(created.code()) ||
        attempt >= client.options().max_retry_attempts) {
      co_return ZkResult<bool>(created.code(), false, "create", path);
    }
    co_await client.AwaitConnected(client.options().session_timeout);
  }
}

EphemeralNode::EphemeralNode(ZkClient& client, std::string path,
                             std::function<std::string()> data)
    : client_(client), path_(std::move(path)), data_(std::move(data)) {}

EphemeralNode::~EphemeralNode() {
  if (listener_id_ != 0) client_.RemoveSessionListener(listener_id_);
}

Task<Status> EphemeralNode::Register(SteadyClock::duration wait,
                                     SteadyClock::duration retry_interval) {
  wait_ = wait;
  retry_interval_ = retry_interval;
  active_ = true;
  if (listener_id_ == 0) {
    listener_id_ = client_.AddSessionListener([this](SessionEvent e) { OnSessionEvent(e); });
  }
  Status status = co_await CreateWaiting(wait, retry_interval);
  if (!status.ok()) {
    active_ = false;
    client_.RemoveSessionListener(listener_id_);
    listener_id_ = 0;
  }
  co_return status;
}

Task<Status> EphemeralNode::CreateWaiting(SteadyClock::duration wait,
                                          SteadyClock::duration retry_interval) {
  const auto deadline = SteadyClock::now() + wait;
  auto gone = std::make_shared<Notifier>(co_await asio::this_coro::executor);
  while (active_) {
    auto parents = co_await client_.CreateParents(path_);
    ZkCode code = parents.code();
    if (parents.ok()) {
      std::string data = data_();
      auto created = co_await CreateOwnEphemeral(client_, path_, std::move(data));
      if (created.ok()) {
        registered_ = true;
        ++registrations_;
        STROM_LOG_INFO(kLog, "registered {} (session 0x{:x})", path_, client_.session_id());
        co_return Status::OK();
      }
      code = created.code();
    }
    const auto now = SteadyClock::now();
    if (code == ZkCode::kNodeExists) {
      if (now >= deadline) {
        co_return MakeError(ErrorCode::kInvalidConfig,
                            "{} is held by another live ZooKeeper session (is another server "
                            "running with the same id?)",
                            path_);
      }
      // Held by an older session (ours before a restart) until the server expires it:
      // wait for its deletion, checking again every retry_interval.
      STROM_LOG_WARN(kLog, "{} exists, waiting for the previous owner's session to end", path_);
      // A named callback: GCC 12 destroys a temporary made inside a co_await expression
      // twice, which would release `gone` once too often.
      WatchCallback on_change = [gone](WatchEvent) { gone->Notify(); };
      auto exists = co_await client_.Exists(path_, std::move(on_change));
      if (exists.ok() && !exists->has_value()) continue;
      co_await WithTimeout(gone->Wait(), std::min(retry_interval, deadline - now));
      continue;
    }
    if (IsTransient(code) && now < deadline) {
      co_await client_.AwaitConnected(std::min(client_.options().session_timeout, deadline - now));
      continue;
    }
    co_return ZkStatus(code, "register", path_);
  }
  co_return MakeError(ErrorCode::kNetwork, "registration of {} stopped", path_);
}

void EphemeralNode::OnSessionEvent(SessionEvent event) {
  if (event == SessionEvent::kExpired) {
    registered_ = false;
  } else if (event == SessionEvent::kNewSession && active_) {
    auto task = [](EphemeralNode* self) -> Task<void> {
      Status status = co_await self->CreateWaiting(self->wait_, self->retry_interval_);
      if (!status.ok()) {
        STROM_LOG_ERROR(kLog, "could not register {} again on the new session: {}", self->path_,
                        status.ToString());
      }
    };
    SpawnBackground(client_.executor(), gate_, "zk-reregister", task(this));
  }
}

Task<void> EphemeralNode::Unregister() {
  active_ = false;
  if (listener_id_ != 0) {
    client_.RemoveSessionListener(listener_id_);
    listener_id_ = 0;
  }
  co_await gate_.Close();
  if (!registered_) co_return;
  registered_ = false;
  auto stat = co_await client_.Exists(path_);
  if (stat.ok() && stat->has_value() && (*stat)->ephemeral_owner == client_.session_id()) {
    auto deleted = co_await client_.Delete(path_, (*stat)->version);
    if (!deleted.ok() && deleted.code() != ZkCode::kNoNode) {
      STROM_LOG_WARN(kLog, "could not delete {}: {}", path_, deleted.status().ToString());
    }
  }
}

std::unique_ptr<EphemeralNode> MakeTabletServerRegistration(ZkClient& client,
                                                            const ZkPaths& paths, ServerId id,
                                                            std::string listeners,
                                                            std::optional<std::string> rack) {
  auto data = [listeners = std::move(listeners), rack = std::move(rack)]() {
    return TabletServerRegistrationToJson(
        TabletServerRegistration{listeners, TimestampMs(NowMs()), rack});
  };
  return std::make_unique<EphemeralNode>(client, paths.TabletServer(id), std::move(data));
}

Task<Result<std::map<ServerId, TabletServerRegistration>>> ReadTabletServers(
    ZkClient& client, const ZkPaths& paths) {
  std::map<ServerId, TabletServerRegistration> out;
  std::string ids_path = paths.TabletServerIds();
  auto children = co_await client.Children(ids_path);
  if (children.code() == ZkCode::kNoNode) co_return out;
  if (!children.ok()) co_return children.status();
  for (const std::string& name : *children) {
    int32_t id = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
    if (ec != std::errc() || end != name.data() + name.size()) continue;
    std::string path = paths.TabletServer(ServerId(id));
    auto node = co_await client.Get(path);
    if (node.code() == ZkCode::kNoNode) continue;
    if (!node.ok()) co_return node.status();
    auto reg = TabletServerRegistrationFromJson(node->data);
    if (!reg.ok()) co_return reg.status().WithContext(path);
    out.emplace(ServerId(id), std::move(reg).value());
  }
  co_return out;
}

Task<Result<std::optional<CoordinatorAddress>>> ReadActiveCoordinator(ZkClient& client,
                                                                      const ZkPaths& paths) {
  std::string path = paths.ActiveCoordinator();
  auto node = co_await client.Get(path);
  if (node.code() == ZkCode::kNoNode) co_return std::optional<CoordinatorAddress>();
  if (!node.ok()) co_return node.status();
  auto address = CoordinatorAddressFromJson(node->data);
  if (!address.ok()) co_return address.status().WithContext(path);
  co_return std::optional<CoordinatorAddress>(std::move(address).value());
}

// ---------------------------------------------------------------------------------------
// Coordinator election

CoordinatorElection::CoordinatorElection(ZkClient& client, ZkPaths paths,
                                         CoordinatorAddress self, Callbacks callbacks)
    : client_(client),
      paths_(std::move(paths)),
      self_(std::move(self)),
      callbacks_(std::move(callbacks)) {}

CoordinatorElection::~CoordinatorElection() {
  if (listener_id_ != 0) client_.RemoveSessionListener(listener_id_);
}

void CoordinatorElection::Start() {
  if (running_) return;
  running_ = true;
  wake_ = std::make_unique<Notifier>(client_.executor());
  listener_id_ = client_.AddSessionListener([this](SessionEvent e) { OnSessionEvent(e); });
  SpawnBackground(client_.executor(), gate_, "coordinator-election", Campaign());
}

void CoordinatorElection::OnSessionEvent(SessionEvent event) {
  if (event == SessionEvent::kExpired) LoseLeadership();
  if (wake_) wake_->Notify();
}

void CoordinatorElection::LoseLeadership() {
  if (!leader_) return;
  leader_ = false;
  epoch_.reset();
  STROM_LOG_WARN(kLog, "coordinator {} lost the leadership with its ZooKeeper session", self_.id);
  if (callbacks_.on_lost) callbacks_.on_lost();
}

Task<Result<CoordinatorEpoch>> CoordinatorElection::BumpEpoch() {
  const std::string path = paths_.CoordinatorEpoch();
  for (int round = 0; round < 100; ++round) {
    auto node = co_await client_.Get(path);
    if (node.code() == ZkCode::kNoNode) {
      auto parents = co_await client_.CreateParents(path);
      if (!parents.ok()) co_return parents.status();
      std::string initial = "-1";
      auto created = co_await client_.Create(path, std::move(initial), CreateMode::kPersistent);
      if (!created.ok() && created.code() != ZkCode::kNodeExists &&
          !IsTransient(created.code())) {
        co_return created.status();
      }
      continue;
    }
    if (!node.ok()) co_return node.status();
    int32_t current = 0;
    const std::string& text = node->data;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), current);
    if (ec != std::errc() || end != text.data() + text.size()) {
      co_return Corruption("{} holds \"{}\", not an epoch", path, text);
    }
    std::string next = std::to_string(current + 1);
    auto set = co_await client_.Set(path, std::move(next), node->stat.version);
    if (set.ok()) co_return CoordinatorEpoch(current + 1);
    if (set.code() == ZkCode::kBadVersion) {
      co_return MakeError(ErrorCode::kInvalidCoordinator,
                          "another coordinator changed the epoch: this one is fenced");
    }
    co_return set.status();
  }
  co_return MakeError(ErrorCode::kStorage, "could not create {}", path);
}

Task<void> CoordinatorElection::Campaign() {
  const std::string active = paths_.ActiveCoordinator();
  const std::string json = CoordinatorAddressToJson(self_);
  asio::steady_timer pause(co_await asio::this_coro::executor);
  // Shared with watch callbacks, which may run after this election is gone.
  std::shared_ptr<Notifier> node_changed =
      std::make_shared<Notifier>(co_await asio::this_coro::executor);
  while (running_) {
    if (leader_) {
      co_await wake_->Wait();
      continue;
    }
    if (!client_.connected()) {
      co_await WithTimeout(wake_->Wait(), std::chrono::seconds(1));
      continue;
    }
    auto parents = co_await client_.CreateParents(active);
    ZkCode code = parents.code();
    if (parents.ok()) {
      auto created = co_await CreateOwnEphemeral(client_, active, json);
      code = created.code();
      if (created.ok()) {
        const int64_t session = client_.session_id();
        auto epoch = co_await BumpEpoch();
        if (epoch.ok() && running_ && client_.session_id() == session && client_.connected()) {
          leader_ = true;
          epoch_ = *epoch;
          STROM_LOG_INFO(kLog, "coordinator {} is the active coordinator, epoch {}", self_.id,
                         *epoch);
          if (callbacks_.on_elected) callbacks_.on_elected(*epoch);
          continue;
        }
        // Could not take the epoch (or lost the session meanwhile): give the node up so
        // that the election starts over cleanly.
        STROM_LOG_WARN(kLog, "coordinator {} gives up the election: {}", self_.id,
                       epoch.ok() ? std::string("session changed") : epoch.status().ToString());
        auto stat = co_await client_.Exists(active);
        if (stat.ok() && stat->has_value() && (*stat)->ephemeral_owner == session) {
          (void)co_await client_.Delete(active, (*stat)->version);
        }
        pause.expires_after(std::chrono::milliseconds(200));
        co_await pause.async_wait(kAwaitTuple);
        continue;
      }
    }
    if (code == ZkCode::kNodeExists) {
      // A standby: wait for the active node to go, then try again.
      WatchCallback on_change = [node_changed](WatchEvent) { node_changed->Notify(); };
      auto exists = co_await client_.Exists(active, std::move(on_change));
      if (exists.ok() && !exists->has_value()) continue;
      using namespace asio::experimental::awaitable_operators;  // NOLINT
      co_await (node_changed->Wait() || wake_->Wait());
      continue;
    }
    if (code != ZkCode::kOk && !IsTransient(code)) {
      STROM_LOG_WARN(kLog, "coordinator election: {}", ZkStatus(code, "create", active).ToString());
    }
    pause.expires_after(std::chrono::milliseconds(200));
    co_await pause.async_wait(kAwaitTuple);
  }
}

Task<void> CoordinatorElection::Stop() {
  running_ = false;
  if (listener_id_ != 0) {
    client_.RemoveSessionListener(listener_id_);
    listener_id_ = 0;
  }
  if (wake_) wake_->Notify();
  co_await gate_.Close();
  if (leader_) {
    leader_ = false;
    epoch_.reset();
    const std::string active = paths_.ActiveCoordinator();
    auto stat = co_await client_.Exists(active);
    if (stat.ok() && stat->has_value() && (*stat)->ephemeral_owner == client_.session_id()) {
      (void)co_await client_.Delete(active, (*stat)->version);
    }
  }
}

}  // namespace strom::zk
