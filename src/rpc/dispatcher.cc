#include "rpc/dispatcher.h"

#include "common/check.h"
#include "common/logging.h"

namespace strom::rpc {

namespace detail {
void LogUnencodableResponse(const RequestContext& context, const Status& status) {
  STROM_LOG_ERROR("rpc", "bug: {} response to request {} from {} cannot be sent: {}",
                  proto::ApiKeyName(context.api_key), context.request_id, context.peer_address,
                  status.ToString());
}
}  // namespace detail

void Dispatcher::Add(proto::ApiKey key, int16_t min_version, int16_t max_version, Entry entry) {
  int16_t id = static_cast<int16_t>(key);
  STROM_CHECK(min_version >= 0 && min_version <= max_version, "bad version range {}..{} for api {}",
              min_version, max_version, id);
  entry.min_version = min_version;
  entry.max_version = max_version;
  bool inserted = entries_.emplace(id, std::move(entry)).second;
  STROM_CHECK(inserted, "a handler for api {} ({}) is already registered", id,
              proto::ApiKeyName(key));
}

void Dispatcher::RegisterRaw(proto::ApiKey key, int16_t min_version, int16_t max_version,
                             RawHandler handler) {
  STROM_CHECK(handler != nullptr, "null handler for api {}", static_cast<int16_t>(key));
  Add(key, min_version, max_version,
      Entry{0, 0, std::make_shared<const RawHandler>(std::move(handler)), nullptr});
}

void Dispatcher::RegisterRaw(proto::ApiKey key, RawHandler handler) {
  const proto::ApiInfo& info = proto::GetApiInfo(key);
  RegisterRaw(key, info.min_version, info.max_version, std::move(handler));
}

void Dispatcher::RegisterBody(proto::ApiKey key, BodyHandler handler) {
  STROM_CHECK(handler != nullptr, "null handler for api {}", static_cast<int16_t>(key));
  const proto::ApiInfo& info = proto::GetApiInfo(key);
  Add(key, info.min_version, info.max_version,
      Entry{0, 0, nullptr, std::make_shared<const BodyHandler>(std::move(handler))});
}

bool Dispatcher::Contains(proto::ApiKey key) const {
  return entries_.count(static_cast<int16_t>(key)) > 0;
}

std::vector<ApiVersionRange> Dispatcher::SupportedApis() const {
  std::vector<ApiVersionRange> out;
  out.reserve(entries_.size());
  for (const auto& [id, entry] : entries_) {
    out.push_back({static_cast<proto::ApiKey>(id), entry.min_version, entry.max_version});
  }
  return out;
}

Task<Result<ResponseBody>> Dispatcher::Dispatch(RequestContext context,
                                                ByteBuffer payload) const {
  int16_t id = static_cast<int16_t>(context.api_key);
  auto it = entries_.find(id);
  if (it == entries_.end()) {
    const proto::ApiInfo* info = proto::FindApi(id);
    if (info == nullptr) {
      co_return MakeError(ErrorCode::kUnsupportedVersion, "unknown api key {}", id);
    }
    co_return MakeError(ErrorCode::kUnsupportedVersion, "api {} ({}) is not served here",
                        info->name, id);
  }
  const Entry& entry = it->second;
  if (context.api_version < entry.min_version || context.api_version > entry.max_version) {
    co_return MakeError(ErrorCode::kUnsupportedVersion,
                        "{} version {} is not supported (this server accepts {}..{})",
                        proto::ApiKeyName(context.api_key), context.api_version, entry.min_version,
                        entry.max_version);
  }
  // Keep the handler object alive for the whole call, whatever happens to the dispatcher.
  if (entry.body_handler != nullptr) {
    std::shared_ptr<const BodyHandler> handler = entry.body_handler;
    co_return co_await (*handler)(std::move(context), std::move(payload));
  }
  std::shared_ptr<const RawHandler> handler = entry.handler;
  Result<ByteBuffer> bytes = co_await (*handler)(std::move(context), std::move(payload));
  if (!bytes.ok()) co_return std::move(bytes).status();
  co_return ResponseBody(std::move(bytes).value());
}

}  // namespace strom::rpc
