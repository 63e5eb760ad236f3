#include "rpc/connection.h"

#include <fmt/format.h>

#include <algorithm>
#include <asio/buffer.hpp>
#include <asio/connect.hpp>
#include <asio/read.hpp>
#include <climits>
#include <cstring>

#include "common/logging.h"
#include "proto/FlussApi.pb.h"

namespace strom::rpc {

namespace {

constexpr size_t kReadChunk = 64 * 1024;

Task<Result<asio::ip::tcp::socket>> OpenSocket(Executor executor, std::string host, uint16_t port) {
  asio::ip::tcp::resolver resolver(executor);
  auto [resolve_error, endpoints] =
      co_await resolver.async_resolve(host, std::to_string(port), kAwaitTuple);
  if (resolve_error) {
    co_return MakeError(ErrorCode::kNetwork, "cannot resolve '{}': {}", host,
                        resolve_error.message());
  }
  asio::ip::tcp::socket socket(executor);
  auto [connect_error, endpoint] = co_await asio::async_connect(socket, endpoints, kAwaitTuple);
  if (connect_error) {
    co_return MakeError(ErrorCode::kNetwork, "cannot connect to {}:{}: {}", host, port,
                        connect_error.message());
  }
  asio::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  co_return std::move(socket);
}

SteadyClock::time_point DeadlineAfter(SteadyClock::duration timeout) {
  SteadyClock::time_point now = SteadyClock::now();
  if (timeout >= SteadyClock::time_point::max() - now) return SteadyClock::time_point::max();
  return now + timeout;
}

}  // namespace

Task<Result<std::shared_ptr<Connection>>> Connection::Connect(Executor executor, std::string host,
                                                              uint16_t port,
                                                              ConnectionOptions options) {
  std::string remote = fmt::format("{}:{}", host, port);
  Result<asio::ip::tcp::socket> socket =
      co_await WithTimeout(OpenSocket(executor, host, port), options.connect_timeout);
  if (!socket.ok()) {
    if (socket.status().code() == ErrorCode::kRequestTimeOut) {
      co_return MakeError(ErrorCode::kNetwork, "cannot connect to {}: {}", remote,
                          socket.status().message());
    }
    co_return std::move(socket).status();
  }
  auto connection = std::make_shared<Connection>(Private{}, executor, std::move(*socket), remote,
                                                 std::move(options));
  connection->Start();
  Status handshake = co_await connection->ExchangeApiVersions();
  if (!handshake.ok()) {
    connection->Close();
    co_return handshake.WithContext(fmt::format("ApiVersions with {}", remote));
  }
  co_return connection;
}

Connection::Connection(Private, Executor executor, asio::ip::tcp::socket socket, std::string remote,
                       ConnectionOptions options)
    : executor_(executor),
      socket_(std::move(socket)),
      remote_(std::move(remote)),
      options_(std::move(options)),
      writer_(executor, &socket_) {}

void Connection::Start() {
  SpawnBackground(executor_, loops_, "rpc client reader", ReadLoop(shared_from_this()));
  SpawnBackground(executor_, loops_, "rpc client writer", WriteLoop(shared_from_this()));
}

Task<Status> Connection::ExchangeApiVersions() {
  proto::ApiVersionsRequest request;
  request.set_client_software_name(options_.client_software_name);
  request.set_client_software_version(options_.client_software_version);
  ByteBuffer payload;
  STROM_CO_RETURN_IF_ERROR(proto::AppendMessage(request, &payload));
  Result<ByteBuffer> raw = co_await Call(static_cast<int16_t>(proto::ApiKey::kApiVersions), 0,
                                         std::move(payload), options_.connect_timeout);
  if (!raw.ok()) co_return std::move(raw).status();
  proto::ApiVersionsResponse response;
  STROM_CO_RETURN_IF_ERROR(proto::ParseMessage(*raw, &response));
  for (const proto::PbApiVersion& entry : response.api_versions()) {
    if (entry.api_key() < INT16_MIN || entry.api_key() > INT16_MAX) continue;
    server_versions_[static_cast<int16_t>(entry.api_key())] = ServerApiVersion{
        static_cast<int16_t>(std::clamp<int32_t>(entry.min_version(), INT16_MIN, INT16_MAX)),
        static_cast<int16_t>(std::clamp<int32_t>(entry.max_version(), INT16_MIN, INT16_MAX))};
  }
  if (response.has_server_type()) {
    server_type_ = static_cast<proto::ServerType>(response.server_type());
  }
  co_return Status::OK();
}

Result<int16_t> Connection::NegotiateVersion(proto::ApiKey key) const {
  const proto::ApiInfo& ours = proto::GetApiInfo(key);
  auto it = server_versions_.find(ours.id());
  if (it == server_versions_.end()) {
    return MakeError(ErrorCode::kUnsupportedVersion, "{} does not offer api {}", remote_,
                     ours.name);
  }
  int16_t version = std::min(ours.max_version, it->second.max_version);
  if (version < std::max(ours.min_version, it->second.min_version)) {
    return MakeError(ErrorCode::kUnsupportedVersion,
                     "{} offers {} versions {}..{}, this client speaks {}..{}", remote_, ours.name,
                     it->second.min_version, it->second.max_version, ours.min_version,
                     ours.max_version);
  }
  return version;
}

int32_t Connection::NextRequestId() {
  // Non-negative and increasing like the Fluss clients; on wrap-around, skip ids that a
  // very slow call still holds.
  for (;;) {
    int32_t id = next_request_id_;
    next_request_id_ = next_request_id_ == INT32_MAX ? 0 : next_request_id_ + 1;
    if (pending_.count(id) == 0) return id;
  }
}

Task<Result<ByteBuffer>> Connection::Call(int16_t api_key, int16_t api_version, ByteBuffer payload,
                                          SteadyClock::duration timeout) {
  std::shared_ptr<Connection> self = shared_from_this();  // alive until the call ends
  if (!open_) {
    co_return MakeError(ErrorCode::kNetwork, "connection to {} is closed", remote_);
  }
  int32_t request_id = NextRequestId();
  ByteBuffer head;
  STROM_CO_RETURN_IF_ERROR(
      proto::AppendRequestHeader({api_key, api_version, request_id}, payload.size(), &head));
  auto call = std::make_shared<PendingCall>(executor_);
  call->timer.expires_at(DeadlineAfter(timeout));
  if (!writer_.Enqueue(std::move(head), std::move(payload))) {
    co_return MakeError(ErrorCode::kNetwork, "connection to {} is closing", remote_);
  }
  pending_.emplace(request_id, call);
  co_await call->timer.async_wait(kAwaitTuple);
  if (call->result) co_return std::move(*call->result);
  // Deadline passed, or the awaiting coroutine was cancelled: forget the call so a late
  // answer is dropped.
  pending_.erase(request_id);
  co_return MakeError(
      ErrorCode::kRequestTimeOut, "api {} request {} to {} got no answer within {} ms", api_key,
      request_id, remote_, std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
}

Task<void> Connection::ReadLoop(std::shared_ptr<Connection> self) {
  proto::FrameDecoder decoder(proto::FrameKind::kResponse, self->options_.max_frame_size);
  std::unique_ptr<char[]> buffer(new char[kReadChunk]);
  while (self->open_) {
    auto [ec, n] =
        co_await self->socket_.async_read_some(asio::buffer(buffer.get(), kReadChunk), kAwaitTuple);
    if (ec) {
      self->Fail(MakeError(ErrorCode::kNetwork, "connection to {} lost: {}", self->remote_,
                           ec == asio::error::eof ? "closed by the server" : ec.message()));
      break;
    }
    decoder.Append(ByteView(buffer.get(), n));
    for (;;) {
      Result<ByteView> frame = decoder.Next();
      if (!frame.ok()) {
        self->Fail(MakeError(ErrorCode::kNetwork, "bad frame from {}: {}", self->remote_,
                             frame.status().ToString()));
        break;
      }
      if (frame->empty()) {
        // A large response (a FetchLog) is read straight into its payload buffer.
        std::optional<bool> large = co_await self->ReadLargeFrame(&decoder);
        if (large && *large) continue;  // the decoder may hold nothing; read on
        break;
      }
      Status handled = self->OnFrame(*frame);
      if (!handled.ok()) {
        self->Fail(std::move(handled));
        break;
      }
    }
  }
}

Task<std::optional<bool>> Connection::ReadLargeFrame(proto::FrameDecoder* decoder) {
  constexpr size_t kHeaderEnd = proto::kFrameLengthSize + proto::kResponseHeaderSize;
  const size_t frame_size = decoder->bytes_wanted();
  ByteView have = decoder->pending();
  if (!open_ || frame_size <= kReadChunk || have.size() < kHeaderEnd || have.size() >= frame_size) {
    co_return std::nullopt;
  }
  ByteReader reader(have);
  reader.Skip(proto::kFrameLengthSize);
  const auto type = static_cast<proto::ResponseType>(reader.I8());
  const int32_t request_id = reader.I32BE();
  if (type != proto::ResponseType::kSuccess && type != proto::ResponseType::kError) {
    co_return std::nullopt;  // SERVER_FAILURE (short, the connection ends) or corrupt
  }
  // Sized once; only the bytes already received are copied.
  ByteBuffer payload(frame_size - kHeaderEnd, '\0');
  have.remove_prefix(kHeaderEnd);
  std::memcpy(payload.data(), have.data(), have.size());
  const size_t filled = have.size();
  // The decoder's bytes all belong to this frame; the frames after it start afresh.
  *decoder = proto::FrameDecoder(proto::FrameKind::kResponse, options_.max_frame_size);
  auto [ec, n] = co_await asio::async_read(
      socket_, asio::buffer(payload.data() + filled, payload.size() - filled), kAwaitTuple);
  if (ec) {
    Fail(MakeError(ErrorCode::kNetwork, "connection to {} lost: {}", remote_,
                   ec == asio::error::eof ? "closed by the server" : ec.message()));
    co_return false;
  }
  ByteView view(payload);
  OnResponse(type, request_id, view, &payload);
  co_return true;
}

Task<void> Connection::WriteLoop(std::shared_ptr<Connection> self) {
  Status written = co_await self->writer_.Run();
  if (!written.ok()) {
    self->Fail(
        MakeError(ErrorCode::kNetwork, "connection to {}: {}", self->remote_, written.message()));
  }
}

Status Connection::OnFrame(ByteView frame) {
  Result<proto::ResponseFrame> decoded = proto::DecodeResponseFrame(frame);
  if (!decoded.ok()) {
    return MakeError(ErrorCode::kNetwork, "bad response frame from {}: {}", remote_,
                     decoded.status().ToString());
  }
  if (decoded->type == proto::ResponseType::kServerFailure) {
    // A connection-level failure: the server closes next; fail everything with its code.
    Status carried;
    Status parsed = proto::DecodeErrorResponseBody(decoded->payload, &carried);
    if (!parsed.ok()) return parsed;
    if (carried.ok()) carried = Status(ErrorCode::kUnknownServerError, "");
    return carried.WithContext(fmt::format("server failure reported by {}", remote_));
  }
  OnResponse(decoded->type, decoded->request_id, decoded->payload, nullptr);
  return Status::OK();
}

void Connection::OnResponse(proto::ResponseType type, int32_t request_id, ByteView payload,
                            ByteBuffer* owned) {
  auto it = pending_.find(request_id);
  if (it == pending_.end()) {
    // Its call timed out (or was cancelled) already.
    STROM_LOG_DEBUG("rpc", "dropping the answer to request {} from {}: no call waits for it",
                    request_id, remote_);
    return;
  }
  std::shared_ptr<PendingCall> call = std::move(it->second);
  pending_.erase(it);
  if (type == proto::ResponseType::kSuccess) {
    call->result.emplace(owned != nullptr ? std::move(*owned) : ByteBuffer(payload));
  } else {
    Status carried;
    Status parsed = proto::DecodeErrorResponseBody(payload, &carried);
    if (!parsed.ok()) {
      call->result.emplace(std::move(parsed));
    } else if (carried.ok()) {
      // Code 0 in an error frame: a broken server; never report it as success.
      call->result.emplace(
          Status(ErrorCode::kUnknownServerError, "error response without an error code"));
    } else {
      call->result.emplace(std::move(carried));
    }
  }
  call->timer.cancel();
}

void Connection::Fail(Status reason) {
  if (!open_) return;
  open_ = false;
  STROM_LOG_DEBUG("rpc", "connection to {} ends: {}", remote_, reason.ToString());
  writer_.Abort();
  asio::error_code ignored;
  socket_.close(ignored);
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, call] : pending) {
    call->result.emplace(reason);
    call->timer.cancel();
  }
}

void Connection::Close() {
  Fail(MakeError(ErrorCode::kNetwork, "connection to {} closed by the client", remote_));
}

Task<void> Connection::CloseAndWait() {
  Close();
  co_await loops_.Close();
}

Task<void> Connection::Ended() {
  // The loops are started before anyone else holds the connection, so closing the gate to
  // new entries changes nothing; it completes when both loops have left it.
  std::shared_ptr<Connection> self = shared_from_this();
  co_await loops_.Close();
}

}  // namespace strom::rpc
