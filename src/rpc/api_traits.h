#pragma once

#include "proto/FlussApi.pb.h"
#include "proto/api_keys.h"

namespace strom::rpc {

/// The request and response message types of an api, from the api table
/// (`ApiTraits<ApiKey::kListDatabases>::Request` is proto::ListDatabasesRequest). Lets typed
/// handlers and calls name only the api key, so a key cannot be paired with the wrong
/// message.
template <proto::ApiKey kKey>
struct ApiTraits;

#define STROM_RPC_API_TRAITS(name, id, wire, min, max, vis, role, stem) \
  template <>                                                           \
  struct ApiTraits<proto::ApiKey::name> {                               \
    using Request = proto::stem##Request;                               \
    using Response = proto::stem##Response;                             \
  };
STROM_API_KEYS(STROM_RPC_API_TRAITS)
#undef STROM_RPC_API_TRAITS

}  // namespace strom::rpc
