#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "common/async.h"
#include "common/bytes.h"
#include "common/result.h"
#include "common/status.h"
#include "proto/api_keys.h"
#include "proto/messages.h"
#include "rpc/api_traits.h"
#include "rpc/request_context.h"
#include "rpc/response_body.h"

namespace strom::rpc {

/// A handler on raw payload bytes: the protobuf request in, the protobuf response out. A
/// failed Result becomes an ERROR_RESPONSE frame with its code and message.
using RawHandler = std::function<Task<Result<ByteBuffer>>(RequestContext, ByteBuffer)>;

/// A raw handler whose response is a ResponseBody: bytes and file regions sent without being
/// copied into one buffer (FetchLog's stored records).
using BodyHandler = std::function<Task<Result<ResponseBody>>(RequestContext, ByteBuffer)>;

/// A handler on parsed messages (see Dispatcher::Register).
template <typename Request, typename Response>
using TypedHandler = std::function<Task<Result<Response>>(RequestContext, Request)>;

/// One api a server answers, with the versions it accepts (one ApiVersions entry).
struct ApiVersionRange {
  proto::ApiKey key;
  int16_t min_version;
  int16_t max_version;
};

namespace detail {
/// Logs a response the server could not encode (a handler bug) once, where it is decided.
void LogUnencodableResponse(const RequestContext& context, const Status& status);

template <typename Request, typename Response>
Task<Result<ByteBuffer>> RunTypedHandler(
    std::shared_ptr<const TypedHandler<Request, Response>> handler, RequestContext context,
    ByteBuffer payload) {
  Request request;
  Status parsed = proto::ParseMessage(payload, &request);
  if (!parsed.ok()) co_return parsed;
  ByteBuffer().swap(payload);  // the request owns copies of its fields now
  Result<Response> response = co_await (*handler)(context, std::move(request));
  if (!response.ok()) co_return std::move(response).status();
  // A response with a missing required field would make the Java client drop the whole
  // connection; refuse to send it (AppendMessage checks IsInitialized) and answer
  // UNKNOWN_SERVER_ERROR for this request only.
  ByteBuffer out;
  Status encoded = proto::AppendMessage(*response, &out);
  if (!encoded.ok()) {
    LogUnencodableResponse(context, encoded);
    co_return Status(ErrorCode::kUnknownServerError,
                     "internal error: the server built an invalid response: " + encoded.message());
  }
  co_return out;
}
}  // namespace detail

/// Maps api keys to handlers and checks api versions.
///
/// Lifecycle: filled with Register* calls while the server is wired, then handed to the
/// Server, which adds its own ApiVersions and Authenticate handlers and never changes it
/// again. Threads: registration is single-threaded; a finished Dispatcher is immutable and
/// Dispatch may run on any thread. Ownership: owns the handlers; a handler object stays
/// alive while any call to it runs (handlers are shared with their running calls).
class Dispatcher {
 public:
  Dispatcher() = default;
  Dispatcher(Dispatcher&&) noexcept = default;
  Dispatcher& operator=(Dispatcher&&) noexcept = default;
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  /// Registers a raw handler for `key` accepting versions [min_version, max_version].
  /// Registering a key twice is a wiring bug and aborts.
  void RegisterRaw(proto::ApiKey key, int16_t min_version, int16_t max_version, RawHandler handler);
  /// Same, with the version range of the api table (proto/api_keys.h).
  void RegisterRaw(proto::ApiKey key, RawHandler handler);
  /// Registers a raw handler answering a ResponseBody, with the api table's version range.
  void RegisterBody(proto::ApiKey key, BodyHandler handler);

  /// Registers a handler on parsed messages. The request payload is parsed into `Request`
  /// (bad bytes or a missing required field -> CORRUPT_MESSAGE without calling the
  /// handler); the returned `Response` is checked for required fields (missing -> the bug
  /// is logged and UNKNOWN_SERVER_ERROR answered) and serialized.
  template <typename Request, typename Response>
  void Register(proto::ApiKey key, int16_t min_version, int16_t max_version,
                TypedHandler<Request, Response> handler) {
    auto shared = std::make_shared<const TypedHandler<Request, Response>>(std::move(handler));
    RegisterRaw(key, min_version, max_version,
                [shared](RequestContext context, ByteBuffer payload) {
                  return detail::RunTypedHandler<Request, Response>(shared, std::move(context),
                                                                    std::move(payload));
                });
  }
  template <typename Request, typename Response>
  void Register(proto::ApiKey key, TypedHandler<Request, Response> handler) {
    const proto::ApiInfo& info = proto::GetApiInfo(key);
    Register<Request, Response>(key, info.min_version, info.max_version, std::move(handler));
  }

  /// Typed registration with the message types of the api table:
  /// `Handle<ApiKey::kListDatabases>([](RequestContext, proto::ListDatabasesRequest) ...)`.
  template <proto::ApiKey kKey>
  void Handle(
      TypedHandler<typename ApiTraits<kKey>::Request, typename ApiTraits<kKey>::Response> handler) {
    Register<typename ApiTraits<kKey>::Request, typename ApiTraits<kKey>::Response>(
        kKey, std::move(handler));
  }

  bool Contains(proto::ApiKey key) const;

  /// Every registered api with its versions, ordered by key: what ApiVersions advertises.
  std::vector<ApiVersionRange> SupportedApis() const;

  /// Runs the handler of `context.api_key`. An api key without a handler, or a version
  /// outside the handler's range, fails with UNSUPPORTED_VERSION (answered, never dropped).
  /// Exceptions thrown by the handler propagate to the caller (the server turns them into
  /// UNKNOWN_SERVER_ERROR).
  Task<Result<ResponseBody>> Dispatch(RequestContext context, ByteBuffer payload) const;

 private:
  struct Entry {
    int16_t min_version;
    int16_t max_version;
    std::shared_ptr<const RawHandler> handler;  // one of the two is set
    std::shared_ptr<const BodyHandler> body_handler;
  };
  void Add(proto::ApiKey key, int16_t min_version, int16_t max_version, Entry entry);
  std::map<int16_t, Entry> entries_;
};

}  // namespace strom::rpc
