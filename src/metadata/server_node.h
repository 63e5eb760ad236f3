#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/ids.h"

namespace strom::metadata {

/// What a server role is in the cluster.
enum class ServerRole { kCoordinator, kTabletServer };

/// An endpoint clients connect to: the `PbServerNode` of a MetadataResponse. The
/// coordinator and a tablet server may share id, host and port (one process, one port).
struct ServerNode {
  ServerId id;
  std::string host;
  int32_t port = 0;
  ServerRole role = ServerRole::kTabletServer;
  std::optional<std::string> rack;

  friend bool operator==(const ServerNode&, const ServerNode&) = default;
};

}  // namespace strom::metadata
