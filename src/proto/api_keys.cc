#include "proto/api_keys.h"

#include <array>

#include "common/check.h"

namespace strom::proto {
namespace {

constexpr std::array<ApiInfo, kMaxApiId - kMinApiId + 1> kApis = {{
#define STROM_X(name, id, wire, min, max, vis, role, stem)                                  \
  ApiInfo{ApiKey::name, wire, min, max, ApiVisibility::vis, ServedBy::role, #stem "Request", \
          #stem "Response"},
    STROM_API_KEYS(STROM_X)
#undef STROM_X
}};

// The table is indexed by id - kMinApiId, so it must be dense and sorted.
constexpr bool TableIsDense() {
  for (size_t i = 0; i < kApis.size(); ++i) {
    if (kApis[i].id() != static_cast<int16_t>(kMinApiId + i)) return false;
  }
  return true;
}
static_assert(TableIsDense(), "STROM_API_KEYS must list every id from 1000 to 1061 in order");

}  // namespace

std::span<const ApiInfo> AllApis() { return kApis; }

const ApiInfo* FindApi(int16_t id) {
  if (id < kMinApiId || id > kMaxApiId) return nullptr;
  return &kApis[static_cast<size_t>(id - kMinApiId)];
}

const ApiInfo& GetApiInfo(ApiKey key) {
  const ApiInfo* info = FindApi(static_cast<int16_t>(key));
  STROM_CHECK(info != nullptr, "ApiKey {} is not an enumerator", static_cast<int>(key));
  return *info;
}

std::optional<ApiKey> ApiKeyFromWire(int16_t id) {
  const ApiInfo* info = FindApi(id);
  if (info == nullptr) return std::nullopt;
  return info->key;
}

std::string_view ApiKeyName(ApiKey key) {
  const ApiInfo* info = FindApi(static_cast<int16_t>(key));
  return info == nullptr ? std::string_view("UNKNOWN") : info->name;
}

}  // namespace strom::proto
