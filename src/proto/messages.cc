#include "proto/messages.h"

#include <climits>

namespace strom::proto {

Status ParseMessage(ByteView payload, google::protobuf::MessageLite* message) {
  if (payload.size() > static_cast<size_t>(INT_MAX)) {
    return Corruption("{} payload of {} bytes exceeds the protobuf limit of 2 GiB",
                      message->GetTypeName(), payload.size());
  }
  // Parse first and check required fields separately, so the error can name them.
  if (!message->ParsePartialFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return Corruption("{} payload of {} bytes is not valid protobuf", message->GetTypeName(),
                      payload.size());
  }
  if (!message->IsInitialized()) {
    return Corruption("{} is missing required fields: {}", message->GetTypeName(),
                      message->InitializationErrorString());
  }
  return Status::OK();
}

Status AppendMessage(const google::protobuf::MessageLite& message, ByteBuffer* out) {
  if (!message.IsInitialized()) {
    return MakeError(ErrorCode::kUnknownServerError, "{} is missing required fields: {}",
                     message.GetTypeName(), message.InitializationErrorString());
  }
  size_t size = message.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX)) {
    return MakeError(ErrorCode::kRecordTooLarge, "{} of {} bytes exceeds 2 GiB",
                     message.GetTypeName(), size);
  }
  detail::AppendWithCachedSize(message, size, out);
  return Status::OK();
}

std::unique_ptr<google::protobuf::Message> NewRequestMessage(ApiKey key) {
  switch (key) {
#define STROM_X(name, id, wire, min, max, vis, role, stem) \
  case ApiKey::name:                                       \
    return std::make_unique<stem##Request>();
    STROM_API_KEYS(STROM_X)
#undef STROM_X
  }
  return nullptr;
}

std::unique_ptr<google::protobuf::Message> NewResponseMessage(ApiKey key) {
  switch (key) {
#define STROM_X(name, id, wire, min, max, vis, role, stem) \
  case ApiKey::name:                                       \
    return std::make_unique<stem##Response>();
    STROM_API_KEYS(STROM_X)
#undef STROM_X
  }
  return nullptr;
}

namespace detail {

void AppendWithCachedSize(const google::protobuf::MessageLite& message, size_t size,
                          ByteBuffer* out) {
  size_t start = out->size();
  out->resize(start + size);
  message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out->data() + start));
}

}  // namespace detail
}  // namespace strom::proto
