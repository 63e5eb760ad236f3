#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "zk/zookeeper_process.h"

namespace strom::zk::testing {

/// The ZooKeeper server of integration tests: a ZooKeeperProcess on a free loopback port
/// with a temporary data directory (see zk/zookeeper_process.h).
using ZooKeeperServer = ZooKeeperProcess;

/// Ends the session `session_id` on the server at `address` from outside, the way a long
/// network partition does: a second handle attaches to the session with its password and
/// closes it. The original client sees kExpired when it next talks to the server.
Status ExpireSession(const std::string& address, int64_t session_id,
                     const std::string& password);

}  // namespace strom::zk::testing
