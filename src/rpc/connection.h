#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/async.h"
#include "common/bytes.h"
#include "common/result.h"
#include "common/status.h"
#include "proto/api_keys.h"
#include "proto/frame.h"
#include "proto/messages.h"
#include "rpc/api_traits.h"
#include "rpc/detail/frame_writer.h"

namespace strom::rpc {

/// How a client Connection connects and what it accepts.
struct ConnectionOptions {
  /// Longest wait for the TCP connection plus the ApiVersions exchange
  /// (`client.connect-timeout` of the Java client is 120 s).
  SteadyClock::duration connect_timeout = std::chrono::seconds(120);
  /// Largest response frame accepted, prefix included. The Java client accepts any size
  /// a frame can describe.
  size_t max_frame_size = proto::kLargestEncodableFrame;
  /// ApiVersionsRequest.client_software_name / client_software_version.
  std::string client_software_name = "strom";
  std::string client_software_version = "0.1.0";
};

/// The version range the server advertised for one api.
struct ServerApiVersion {
  int16_t min_version;
  int16_t max_version;
};

/// A client connection to one Fluss (or Strom) server.
///
/// Connect() opens the TCP connection and, like the Java client, sends ApiVersions first
/// and remembers the answer; typed calls then use the highest version both sides support.
/// Any number of calls may be in flight at once (pipelining): each frame carries a request
/// id and responses are matched by it, in whatever order they arrive. ERROR_RESPONSE
/// frames become a failed Status with the wire code. When the connection fails (network
/// error, end of stream, undecodable frame) every pending call fails with
/// NETWORK_EXCEPTION; a SERVER_FAILURE frame fails them with the code it carries.
///
/// Lifecycle: Connect() -> calls -> Close(). The read and write loops keep the object
/// alive until it is closed, by Close() or by a failure; dropping the last shared_ptr does
/// not close it.
/// Threads: every method, and the loops, run on the executor given to Connect(), which
/// must be single-threaded (an io_context run by one thread, or a strand).
/// Ownership: owns the socket and the pending calls; callers hold it by shared_ptr.
class Connection : public std::enable_shared_from_this<Connection> {
  struct Private {};

 public:
  /// Connects to host:port and exchanges ApiVersions. Fails with NETWORK_EXCEPTION when
  /// the server cannot be reached, REQUEST_TIME_OUT after options.connect_timeout, or the
  /// error the server gave to ApiVersions.
  static Task<Result<std::shared_ptr<Connection>>> Connect(Executor executor, std::string host,
                                                           uint16_t port,
                                                           ConnectionOptions options);

  Connection(Private, Executor executor, asio::ip::tcp::socket socket, std::string remote,
             ConnectionOptions options);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Sends one request with a raw payload and returns the raw response payload. Fails with
  /// the code of an ERROR_RESPONSE, NETWORK_EXCEPTION when the connection is or becomes
  /// unusable, or REQUEST_TIME_OUT when no answer came within `timeout` (a late answer is
  /// then dropped). Cancelling the awaiting coroutine also ends the call (REQUEST_TIME_OUT).
  Task<Result<ByteBuffer>> Call(int16_t api_key, int16_t api_version, ByteBuffer payload,
                                SteadyClock::duration timeout);

  /// Sends a typed request at the negotiated version and parses the response. Fails with
  /// UNSUPPORTED_VERSION, without sending, when the server does not offer a version this
  /// build speaks (as the Java client does).
  template <typename Request, typename Response>
  Task<Result<Response>> Call(proto::ApiKey key, Request request, SteadyClock::duration timeout) {
    Result<int16_t> version = NegotiateVersion(key);
    if (!version.ok()) co_return std::move(version).status();
    ByteBuffer payload;
    STROM_CO_RETURN_IF_ERROR(proto::AppendMessage(request, &payload));
    Result<ByteBuffer> raw =
        co_await Call(static_cast<int16_t>(key), *version, std::move(payload), timeout);
    if (!raw.ok()) co_return std::move(raw).status();
    Response response;
    STROM_CO_RETURN_IF_ERROR(proto::ParseMessage(*raw, &response));
    co_return response;
  }

  /// Call with the message types of the api table: `Call<ApiKey::kListDatabases>(req, t)`.
  template <proto::ApiKey kKey>
  Task<Result<typename ApiTraits<kKey>::Response>> Call(typename ApiTraits<kKey>::Request request,
                                                        SteadyClock::duration timeout) {
    return Call<typename ApiTraits<kKey>::Request, typename ApiTraits<kKey>::Response>(
        kKey, std::move(request), timeout);
  }

  /// The version typed calls use for `key`: min(our max, server max), provided the ranges
  /// overlap; UNSUPPORTED_VERSION when they do not or the server did not list the api.
  Result<int16_t> NegotiateVersion(proto::ApiKey key) const;

  /// Closes the socket and fails pending calls with NETWORK_EXCEPTION. Idempotent.
  void Close();
  /// Closes, then waits until the read and write loops have ended.
  Task<void> CloseAndWait();
  /// Completes once the connection has ended, closed here or by the server or failed (its
  /// loops have ended); at once when it already has. Does not close it. Cancelling the
  /// awaiting coroutine only stops the wait. Lets an owner notice that an idle connection
  /// went away (the coordinator's fast failure detection).
  Task<void> Ended();

  bool is_open() const { return open_; }
  /// "host:port" as given to Connect.
  const std::string& remote() const { return remote_; }
  /// Calls sent and not yet answered.
  size_t pending_calls() const { return pending_.size(); }
  /// What the server advertised in ApiVersions.
  const std::map<int16_t, ServerApiVersion>& server_api_versions() const {
    return server_versions_;
  }
  /// ApiVersionsResponse.server_type, when the server sent one.
  std::optional<proto::ServerType> server_type() const { return server_type_; }

 private:
  struct PendingCall {
    explicit PendingCall(Executor executor)
        : timer(std::move(executor), asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;  // expires at the call's deadline; cancelled on an answer
    std::optional<Result<ByteBuffer>> result;
  };

  void Start();
  Task<Status> ExchangeApiVersions();
  static Task<void> ReadLoop(std::shared_ptr<Connection> self);
  static Task<void> WriteLoop(std::shared_ptr<Connection> self);
  /// Handles one whole response frame; a non-OK status ends the connection.
  Status OnFrame(ByteView frame);
  /// Handles a SUCCESS or ERROR response; `owned` (when set) holds exactly `payload` and is
  /// handed to the call without a copy.
  void OnResponse(proto::ResponseType type, int32_t request_id, ByteView payload,
                  ByteBuffer* owned);
  /// When the decoder waits for the rest of a SUCCESS or ERROR frame larger than a read
  /// chunk whose header has arrived: reads the rest from the socket straight into the
  /// payload buffer the call receives (no copy through the decoder) and completes the call.
  /// nullopt when no such frame is pending; false when the connection failed.
  Task<std::optional<bool>> ReadLargeFrame(proto::FrameDecoder* decoder);
  /// Ends the connection: every pending call fails with `reason`.
  void Fail(Status reason);
  int32_t NextRequestId();

  Executor executor_;
  asio::ip::tcp::socket socket_;
  const std::string remote_;
  const ConnectionOptions options_;
  detail::FrameWriter writer_;
  Gate loops_;
  bool open_ = true;
  int32_t next_request_id_ = 0;
  std::unordered_map<int32_t, std::shared_ptr<PendingCall>> pending_;
  std::map<int16_t, ServerApiVersion> server_versions_;
  std::optional<proto::ServerType> server_type_;
};

}  // namespace strom::rpc
