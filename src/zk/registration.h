#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/async.h"
#include "common/ids.h"
#include "common/result.h"
#include "zk/zk_client.h"
#include "zk/zk_paths.h"

namespace strom::zk {

/// The data of `/tabletservers/ids/{id}` (Fluss `TabletServerRegistration`, JSON version 3):
/// `{"version":3,"listeners":"CLIENT://host:port,FLUSS://host:port","register_timestamp":N
/// [,"rack":"r"]}`. Versions 1 (`host`, `port`: listener FLUSS) and 2 (no rack) are read too.
struct TabletServerRegistration {
  /// Fluss's listeners string: NAME://host:port joined by commas.
  std::string listeners;
  TimestampMs register_timestamp{0};
  std::optional<std::string> rack;

  friend bool operator==(const TabletServerRegistration&,
                         const TabletServerRegistration&) = default;
};
std::string TabletServerRegistrationToJson(const TabletServerRegistration& reg);
Result<TabletServerRegistration> TabletServerRegistrationFromJson(std::string_view json);

/// The data of `/coordinators/active` (Fluss `CoordinatorAddress`, JSON version 2):
/// `{"version":2,"id":"…","listeners":"…"}`. Version 1 (`host`, `port`: listener CLIENT) is
/// read too. Fluss 0.9.1 coordinators use a random UUID as id.
struct CoordinatorAddress {
  std::string id;
  std::string listeners;

  friend bool operator==(const CoordinatorAddress&, const CoordinatorAddress&) = default;
};
std::string CoordinatorAddressToJson(const CoordinatorAddress& address);
Result<CoordinatorAddress> CoordinatorAddressFromJson(std::string_view json);

/// Creates an ephemeral node for the client's current session. A node already there that
/// belongs to this session (a create cut by a connection loss got through) counts as
/// created. kNodeExists when another session holds it.
Task<ZkResult<bool>> CreateOwnEphemeral(ZkClient& client, std::string path, std::string data);

/// An ephemeral node that stands for this process as long as it lives, like a tablet
/// server's `/tabletservers/ids/{id}`: created by Register(), created again on every new
/// session after an expiry (the old one took it away), deleted by Unregister().
///
/// Register() waits, up to `wait`, for a node left by an earlier session of the same
/// server (a restart faster than the session timeout; ZOOKEEPER-2985), checking every
/// `retry_interval` and on deletion; Fluss waits 60 s checking every 3 s.
///
/// Thread: the client's executor. Ownership: borrows the client (which must outlive it);
/// `data` is called for the content of each (re-)creation. Lifecycle: Register(), then
/// Unregister() before destruction (which waits for a re-registration in flight).
class EphemeralNode {
 public:
  EphemeralNode(ZkClient& client, std::string path, std::function<std::string()> data);
  ~EphemeralNode();
  EphemeralNode(const EphemeralNode&) = delete;
  EphemeralNode& operator=(const EphemeralNode&) = delete;

  /// kNodeExists-derived kInvalidConfig when another live session keeps the node beyond
  /// `wait` (two servers configured with the same id); kNetwork without ZooKeeper.
  Task<Status> Register(SteadyClock::duration wait = std::chrono::seconds(60),
                        SteadyClock::duration retry_interval = std::chrono::seconds(3));
  /// Stops re-registering and deletes the node if this session holds it.
  Task<void> Unregister();

  /// Whether the node exists for the current session as far as this object knows.
  bool registered() const { return registered_; }
  /// How many times the node was created (1 after Register, +1 per new session).
  int registrations() const { return registrations_; }
  const std::string& path() const { return path_; }

 private:
  Task<Status> CreateWaiting(SteadyClock::duration wait, SteadyClock::duration retry_interval);
  void OnSessionEvent(SessionEvent event);

  ZkClient& client_;
  std::string path_;
  std::function<std::string()> data_;
  SteadyClock::duration wait_ = std::chrono::seconds(60);
  SteadyClock::duration retry_interval_ = std::chrono::seconds(3);
  int listener_id_ = 0;
  bool active_ = false;
  bool registered_ = false;
  int registrations_ = 0;
  Gate gate_;
};

/// Registers a tablet server at `/tabletservers/ids/{id}` (EphemeralNode with Fluss's JSON;
/// the registration timestamp is taken at each creation).
std::unique_ptr<EphemeralNode> MakeTabletServerRegistration(ZkClient& client,
                                                            const ZkPaths& paths, ServerId id,
                                                            std::string listeners,
                                                            std::optional<std::string> rack);

/// The tablet servers registered now (ids from `/tabletservers/ids`, ascending) with their
/// registrations; a server that vanishes while being read is left out.
Task<Result<std::map<ServerId, TabletServerRegistration>>> ReadTabletServers(
    ZkClient& client, const ZkPaths& paths);

/// The active coordinator, or nullopt when none is registered.
Task<Result<std::optional<CoordinatorAddress>>> ReadActiveCoordinator(ZkClient& client,
                                                                      const ZkPaths& paths);

/// Coordinator leader election as Fluss 0.9.1 does it: the active coordinator is whoever
/// holds the ephemeral node `/coordinators/active` (with its CoordinatorAddress JSON); a
/// standby waits on a watch for the node to go and then tries to create it. Each newly
/// elected coordinator increments the epoch in `/coordinators/epoch` by compare-and-set
/// (decimal text, starting at -1 so that the first epoch is 0, as the Fluss releases after
/// 0.9.1 keep it) and is told its epoch, with which it fences requests of older ones.
///
/// Leadership ends when the session expires (or the client is cut off for longer than the
/// session timeout): `on_lost` runs first, then the election campaigns again on the next
/// session. Stop() resigns (deletes the node if held) so a standby takes over at once.
///
/// Thread: the client's executor; callbacks run there. Ownership: borrows the client.
/// Lifecycle: Start(), then Stop() before destruction.
class CoordinatorElection {
 public:
  struct Callbacks {
    std::function<void(CoordinatorEpoch)> on_elected;
    std::function<void()> on_lost;
  };

  CoordinatorElection(ZkClient& client, ZkPaths paths, CoordinatorAddress self,
                      Callbacks callbacks);
  ~CoordinatorElection();
  CoordinatorElection(const CoordinatorElection&) = delete;
  CoordinatorElection& operator=(const CoordinatorElection&) = delete;

  /// Starts campaigning in the background.
  void Start();
  /// Stops campaigning; resigns if active. Waits for the background work to end.
  Task<void> Stop();

  bool is_leader() const { return leader_; }
  /// The epoch of the current leadership (when leader).
  std::optional<CoordinatorEpoch> epoch() const { return epoch_; }

 private:
  Task<void> Campaign();
  Task<Result<CoordinatorEpoch>> BumpEpoch();
  void OnSessionEvent(SessionEvent event);
  void LoseLeadership();

  ZkClient& client_;
  ZkPaths paths_;
  CoordinatorAddress self_;
  Callbacks callbacks_;
  std::unique_ptr<Notifier> wake_;
  int listener_id_ = 0;
  bool running_ = false;
  bool leader_ = false;
  std::optional<CoordinatorEpoch> epoch_;
  Gate gate_;
};

}  // namespace strom::zk
