#pragma once

#include <google/protobuf/message.h>

#include <memory>

#include "common/bytes.h"
#include "common/status.h"
#include "proto/FlussApi.pb.h"
#include "proto/api_keys.h"

namespace strom::proto {

/// Parses `payload` into `message` (cleared first). Fails with kCorruptMessage when the
/// bytes are not valid protobuf or a required field is missing (the error names the
/// fields). Unknown fields are skipped over (kept in the message's unknown-field set, as
/// proto2 does), so newer peers that add optional fields stay readable.
Status ParseMessage(ByteView payload, google::protobuf::MessageLite* message);

/// Appends the encoding of `message` to `out`, serializing in place. Fails without
/// touching `out` when a required field is missing (kUnknownServerError: a bug in the
/// code that built the message) or the encoding would exceed 2 GiB.
Status AppendMessage(const google::protobuf::MessageLite& message, ByteBuffer* out);

/// A new empty `<stem>Request` message of `key`.
std::unique_ptr<google::protobuf::Message> NewRequestMessage(ApiKey key);

/// A new empty `<stem>Response` message of `key`.
std::unique_ptr<google::protobuf::Message> NewResponseMessage(ApiKey key);

namespace detail {
/// Appends `message`, whose ByteSizeLong() was just computed as `size` (so the cached sizes
/// are fresh), to `out` without an intermediate buffer.
void AppendWithCachedSize(const google::protobuf::MessageLite& message, size_t size,
                          ByteBuffer* out);
}  // namespace detail

}  // namespace strom::proto
