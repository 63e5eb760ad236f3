#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/config/config.h"
#include "common/result.h"

namespace strom::server {

/// A host and port a server binds or publishes.
struct Endpoint {
  std::string host;
  uint16_t port = 0;
};

/// The role whose fallback options (`coordinator.host/port`, `tablet-server.host/port`)
/// apply when `bind.listeners` is not set.
enum class ListenerRole { kCoordinator, kTabletServer };

/// Where a distributed-cluster server binds: the first entry of `bind.listeners`
/// (`NAME://host:port`), else the role's host and port options (default 127.0.0.1 and, for a
/// coordinator, 9123; a tablet server's default port 0 picks a free one); `host` / `port`
/// override both. "localhost" becomes 127.0.0.1. kInvalidConfig for a malformed listener.
Result<Endpoint> BindEndpoint(const config::Configuration& config, ListenerRole role,
                              const std::optional<std::string>& host,
                              const std::optional<uint16_t>& port);

/// What clients and other servers are told to use: the first entry of `advertised.listeners`
/// when set, else the bound endpoint (a wildcard bind publishes 127.0.0.1).
Result<Endpoint> AdvertisedEndpoint(const config::Configuration& config, const Endpoint& bound);

}  // namespace strom::server
