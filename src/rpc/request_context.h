#pragma once

#include <cstdint>
#include <string>

#include "proto/api_keys.h"

namespace strom::rpc {

/// What a handler knows about the request it serves, besides the payload. A plain value,
/// copied into every handler call.
struct RequestContext {
  /// The api of the request. Always one of the keys registered in the Dispatcher when a
  /// handler sees it.
  proto::ApiKey api_key = proto::ApiKey::kApiVersions;
  /// The version the client used; within the handler's registered range.
  int16_t api_version = 0;
  /// The client's id for this request, echoed in the response frame.
  int32_t request_id = 0;
  /// The client's address as "ip:port" ("[v6]:port" for IPv6).
  std::string peer_address;
  /// The server listener the request arrived on (Fluss listener name, e.g. "FLUSS").
  std::string listener_name;
  /// Identifies the TCP connection within this server process (unique, never reused).
  uint64_t connection_id = 0;
};

}  // namespace strom::rpc
