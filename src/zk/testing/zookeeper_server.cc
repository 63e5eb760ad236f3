#include "zk/testing/zookeeper_server.h"

#include <thread>

#include <zookeeper/zookeeper.h>

#include <atomic>
#include <cstring>

namespace strom::zk::testing {
namespace {
std::atomic<int> g_expire_state{0};
void ExpireWatcher(zhandle_t*, int type, int state, const char*, void*) {
  if (type == ZOO_SESSION_EVENT) g_expire_state.store(state);
}
void QuietLog(const char*) {}

bool WaitForState(int state, std::chrono::seconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (g_expire_state.load() != state && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return g_expire_state.load() == state;
}

}  // namespace

Status ExpireSession(const std::string& address, int64_t session_id,
                     const std::string& password) {
  // The close of an attached handle can lose a race with the owner reconnecting (the session
  // moves back to the owner and the close is refused). So the attached handle leaves an
  // ephemeral marker, and the session counts as ended only once a third, independent handle
  // sees the marker gone.
  for (int attempt = 0; attempt < 5; ++attempt) {
    clientid_t id{};
    id.client_id = session_id;
    std::memcpy(id.passwd, password.data(), std::min(password.size(), sizeof(id.passwd)));
    g_expire_state.store(0);
    zhandle_t* zh =
        zookeeper_init2(address.c_str(), &ExpireWatcher, 10000, &id, nullptr, 0, &QuietLog);
    if (zh == nullptr) return MakeError(ErrorCode::kNetwork, "zookeeper_init failed");
    if (!WaitForState(ZOO_CONNECTED_STATE, std::chrono::seconds(20))) {
      zookeeper_close(zh);
      continue;
    }
    const std::string marker =
        "/strom-expire-" + std::to_string(session_id) + "-" + std::to_string(attempt);
    int rc = zoo_create(zh, marker.c_str(), "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, nullptr,
                        0);
    zookeeper_close(zh);  // closing the shared session ends it for its owner too
    if (rc != ZOK) continue;

    g_expire_state.store(0);
    zhandle_t* observer =
        zookeeper_init2(address.c_str(), &ExpireWatcher, 10000, nullptr, nullptr, 0, &QuietLog);
    if (observer == nullptr) return MakeError(ErrorCode::kNetwork, "zookeeper_init failed");
    bool gone = false;
    if (WaitForState(ZOO_CONNECTED_STATE, std::chrono::seconds(20))) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!gone && std::chrono::steady_clock::now() < deadline) {
        struct Stat stat;
        gone = zoo_exists(observer, marker.c_str(), 0, &stat) == ZNONODE;
        if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    zookeeper_close(observer);
    if (gone) return Status::OK();
  }
  return MakeError(ErrorCode::kNetwork, "could not end session 0x{:x}", session_id);
}

}  // namespace strom::zk::testing
