#include "rpc/detail/server_connection.h"

#include <fmt/format.h>

#include <algorithm>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/buffer.hpp>
#include <cstring>
#include <exception>
#include <utility>
#include <vector>

#include "common/logging.h"
#include "proto/api_keys.h"
#include "rpc/errors.h"

namespace strom::rpc::detail {

namespace {
// Bytes asked from the socket per read. Large frames arrive in several reads; the decoder
// only ever holds what was actually received, never the size a length prefix claims.
constexpr size_t kReadChunk = 64 * 1024;
// Length prefix + request header: where a request frame's payload starts.
constexpr size_t kFrameHeaderEnd = proto::kFrameLengthSize + proto::kRequestHeaderSize;
// Longest a closing connection waits for the peer to close its side after ours is shut
// down, so unread input does not make the kernel reset the connection (and drop our last
// responses) before the peer has read them.
constexpr auto kLingerTime = std::chrono::seconds(1);
}  // namespace

ServerConnection::ServerConnection(Executor executor, asio::ip::tcp::socket socket, uint64_t id,
                                   std::string peer_address,
                                   std::shared_ptr<const Dispatcher> dispatcher,
                                   ConnectionLimits limits, std::shared_ptr<QueueBudget> budget,
                                   std::function<void(uint64_t)> on_closed)
    : executor_(executor),
      socket_(std::move(socket)),
      id_(id),
      peer_address_(std::move(peer_address)),
      dispatcher_(std::move(dispatcher)),
      limits_(std::move(limits)),
      budget_(std::move(budget)),
      on_closed_(std::move(on_closed)),
      decoder_(proto::FrameKind::kRequest, limits_.max_frame_size),
      read_buffer_(new char[kReadChunk]),
      writer_(executor, &socket_),
      reader_wake_(executor),
      idle_timer_(executor),
      last_activity_(SteadyClock::now()) {
  writer_.on_written = [this](size_t count, size_t bytes) { OnResponsesWritten(count, bytes); };
}

Task<void> ServerConnection::Run(std::shared_ptr<ServerConnection> self) {
  using namespace asio::experimental::awaitable_operators;  // NOLINT
  STROM_LOG_DEBUG("rpc", "connection {} from {} opened", self->id_, self->peer_address_);
  try {
    co_await (self->ReadSide() && self->WriteSide() && self->IdleWatch());
  } catch (const std::exception& e) {
    // The loops report routine failures as values; an exception here is a bug.
    STROM_LOG_ERROR("rpc", "connection {} from {} failed: {}", self->id_, self->peer_address_,
                    e.what());
    self->Abort();
  }
  // No request task may outlive its connection's task (the server's Stop relies on it).
  co_await self->requests_.Close();
  if (!self->aborted_ && self->socket_.is_open()) {
    asio::error_code ec;
    self->socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    co_await WithTimeout(self->DiscardUntilEof(), kLingerTime);
  }
  self->CloseSocket();
  // Responses dropped unwritten (abort, failed write) give their share back here.
  self->budget_->Unpark(self->id_);
  self->Uncharge(self->held_bytes_);
  STROM_LOG_DEBUG("rpc", "connection {} from {} closed", self->id_, self->peer_address_);
  if (self->on_closed_) self->on_closed_(self->id_);
}

void ServerConnection::StopReading() {
  if (stop_reading_) return;
  stop_reading_ = true;
  if (read_pending_) read_cancel_.emit(asio::cancellation_type::terminal);
  reader_wake_.Notify();
}

void ServerConnection::Abort() {
  if (aborted_) return;
  aborted_ = true;
  StopReading();
  writer_.Abort();
  CloseSocket();
  std::vector<std::shared_ptr<asio::cancellation_signal>> running;
  running.reserve(request_cancels_.size());
  for (auto& [seq, signal] : request_cancels_) running.push_back(signal);
  for (auto& signal : running) signal->emit(asio::cancellation_type::terminal);
}

void ServerConnection::CloseSocket() {
  asio::error_code ec;
  socket_.close(ec);
}

Task<bool> ServerConnection::ReadMore() {
  read_pending_ = true;
  auto [ec, n] = co_await socket_.async_read_some(
      asio::buffer(read_buffer_.get(), kReadChunk),
      asio::bind_cancellation_slot(read_cancel_.slot(), kAwaitTuple));
  read_pending_ = false;
  if (ec) {
    if (ec != asio::error::eof && ec != asio::error::operation_aborted) {
      STROM_LOG_DEBUG("rpc", "connection {} from {}: read failed: {}", id_, peer_address_,
                      ec.message());
    }
    co_return false;
  }
  last_activity_ = SteadyClock::now();
  decoder_.Append(ByteView(read_buffer_.get(), n));
  co_return true;
}

Task<void> ServerConnection::DiscardUntilEof() {
  for (;;) {
    auto [ec, n] =
        co_await socket_.async_read_some(asio::buffer(read_buffer_.get(), kReadChunk), kAwaitTuple);
    if (ec) co_return;
  }
}

Task<void> ServerConnection::ReadSide() {
  Status broken;  // why the framing can no longer be trusted
  while (!stop_reading_) {
    // Start every whole frame already received, within the in-flight bound.
    bool need_bytes = false;
    while (!stop_reading_ && !need_bytes && broken.ok()) {
      if (MustPause()) {
        // Backpressure: the socket is not read until a response has been written (or, for
        // the memory budget, until the server's total is under its limit again).
        if (budget_->exhausted()) budget_->Park(id_, &reader_wake_);
        co_await reader_wake_.Wait();
        continue;
      }
      Result<ByteView> next = decoder_.Next();
      if (!next.ok()) {
        broken = std::move(next).status();
      } else if (next->empty()) {
        need_bytes = true;
      } else {
        broken = StartRequest(*next);
      }
    }
    if (!broken.ok() || stop_reading_) break;
    if (LargeFramePending()) {
      // The rest of a large frame goes from the socket straight into its request's payload.
      if (!co_await ReadLargeFrame()) break;
      continue;
    }
    if (!co_await ReadMore()) {
      if (decoder_.buffered() > 0 && !stop_reading_) {
        STROM_LOG_DEBUG("rpc", "connection {} from {} ended inside a frame ({} bytes unread)", id_,
                        peer_address_, decoder_.buffered());
      }
      break;
    }
  }
  ByteBuffer last_frame;  // a SERVER_FAILURE, sent after every other response
  if (!broken.ok()) last_frame = co_await RefuseBadFrame(std::move(broken));
  stop_reading_ = true;
  co_await requests_.Close();  // every request received has queued its response
  if (!last_frame.empty()) writer_.Enqueue(std::move(last_frame), {}, /*counted=*/false);
  reader_done_ = true;
  writer_.Finish();
  idle_timer_.cancel();
}

Task<ByteBuffer> ServerConnection::RefuseBadFrame(Status error) {
  STROM_LOG_WARN("rpc", "closing connection {} from {}: {}", id_, peer_address_, error.ToString());
  ByteBuffer last_frame;
  if (error.code() == ErrorCode::kRecordTooLarge) {
    // The length prefix was sound but over the limit. The request header follows it, so
    // the refusal can go to the request itself, which both Fluss clients understand. Wait
    // for those few bytes only; the body is never read.
    constexpr size_t kHeaderEnd = proto::kFrameLengthSize + proto::kRequestHeaderSize;
    while (decoder_.pending().size() < kHeaderEnd && !stop_reading_) {
      if (!co_await ReadMore()) break;
    }
    if (decoder_.pending().size() >= kHeaderEnd) {
      ByteReader reader(decoder_.pending());
      reader.Skip(proto::kFrameLengthSize);
      int16_t api_key = reader.I16BE();
      reader.I16BE();  // api version
      int32_t request_id = reader.I32BE();
      ByteBuffer frame;
      proto::AppendErrorResponseFrame(
          request_id,
          error.WithContext(fmt::format(
              "{} request {}", proto::ApiKeyName(static_cast<proto::ApiKey>(api_key)), request_id)),
          &frame);
      writer_.Enqueue(std::move(frame), {}, /*counted=*/false);
      co_return last_frame;
    }
  }
  // Impossible length (negative, shorter than a header): the byte stream has lost its
  // framing. Tell the client why, as the Java server does, right before closing.
  proto::AppendServerFailureFrame(ToWireStatus(error), &last_frame);
  co_return last_frame;
}

bool ServerConnection::LargeFramePending() const {
  // Worth it once the frame is bigger than a read chunk; the header must be in, so the
  // request can be started from it.
  return decoder_.bytes_wanted() > kReadChunk &&
         decoder_.pending().size() >= kFrameHeaderEnd &&
         decoder_.pending().size() < decoder_.bytes_wanted();
}

Task<bool> ServerConnection::ReadLargeFrame() {
  const size_t frame_size = decoder_.bytes_wanted();
  ByteView have = decoder_.pending();
  ByteReader reader(have);
  reader.Skip(proto::kFrameLengthSize);
  proto::RequestHeader header;
  header.api_key = reader.I16BE();
  header.api_version = reader.I16BE();
  header.request_id = reader.I32BE();
  // Charged from here, not only once whole: the budget bounds the bytes of frames being
  // received too, so a connection holding a request does not read the next large frame
  // while the server is at its limit (ReadSide checks before this frame was begun).
  const size_t payload_size = frame_size - kFrameHeaderEnd;
  Charge(payload_size);
  // Sized once; the bytes already received are the only ones copied.
  ByteBuffer payload(payload_size, '\0');
  have.remove_prefix(kFrameHeaderEnd);
  std::memcpy(payload.data(), have.data(), have.size());
  size_t filled = have.size();
  // The decoder's buffered bytes all belong to this frame; start it afresh (which also
  // gives back its buffer) for the frames after it.
  decoder_ = proto::FrameDecoder(proto::FrameKind::kRequest, limits_.max_frame_size);
  while (filled < payload.size()) {
    if (stop_reading_) {
      Uncharge(payload_size);
      co_return false;
    }
    read_pending_ = true;
    auto [ec, n] = co_await socket_.async_read_some(
        asio::buffer(payload.data() + filled, payload.size() - filled),
        asio::bind_cancellation_slot(read_cancel_.slot(), kAwaitTuple));
    read_pending_ = false;
    if (ec) {
      if (ec != asio::error::eof && ec != asio::error::operation_aborted) {
        STROM_LOG_DEBUG("rpc", "connection {} from {}: read failed: {}", id_, peer_address_,
                        ec.message());
      }
      if (!stop_reading_) {
        STROM_LOG_DEBUG("rpc", "connection {} from {} ended inside a frame ({} bytes unread)",
                        id_, peer_address_, payload.size() - filled);
      }
      Uncharge(payload_size);
      co_return false;
    }
    filled += n;
    last_activity_ = SteadyClock::now();
  }
  StartRequest(header, std::move(payload), /*charged=*/true);
  co_return true;
}

Status ServerConnection::StartRequest(ByteView frame) {
  Result<proto::RequestFrame> decoded = proto::DecodeRequestFrame(frame);
  if (!decoded.ok()) return std::move(decoded).status();
  StartRequest(decoded->header, ByteBuffer(decoded->payload));
  return Status::OK();
}

void ServerConnection::StartRequest(const proto::RequestHeader& header, ByteBuffer payload,
                                    bool charged) {
  RequestContext context;
  context.api_key = static_cast<proto::ApiKey>(header.api_key);
  context.api_version = header.api_version;
  context.request_id = header.request_id;
  context.peer_address = peer_address_;
  context.listener_name = limits_.listener_name;
  context.connection_id = id_;
  const size_t payload_bytes = payload.size();
  if (!charged) Charge(payload_bytes);

  uint64_t seq = next_request_seq_++;
  auto cancel = std::make_shared<asio::cancellation_signal>();
  request_cancels_.emplace(seq, cancel);
  ++in_flight_;
  if (!SpawnBackground(
          executor_, requests_, "rpc request",
          HandleRequest(shared_from_this(), seq, std::move(context), std::move(payload)), cancel)) {
    request_cancels_.erase(seq);
    --in_flight_;
    Uncharge(payload_bytes);
  }
}

Task<void> ServerConnection::HandleRequest(std::shared_ptr<ServerConnection> self, uint64_t seq,
                                           RequestContext context, ByteBuffer payload) {
  const int32_t request_id = context.request_id;
  const proto::ApiKey api_key = context.api_key;
  const size_t request_bytes = payload.size();
  Result<ResponseBody> result = Status(ErrorCode::kUnknownServerError, "request not dispatched");
  try {
    result = co_await self->dispatcher_->Dispatch(std::move(context), std::move(payload));
  } catch (...) {
    // A handler that throws fails its own request only; the connection stays up.
    Status error = StatusFromException(std::current_exception(),
                                       fmt::format("the {} handler", proto::ApiKeyName(api_key)));
    if (self->aborted_) {
      // Cancelled by a forced close: expected, and nobody will read the answer.
      STROM_LOG_DEBUG("rpc", "request {} on connection {} from {}: {}", request_id, self->id_,
                      self->peer_address_, error.message());
    } else {
      STROM_LOG_ERROR("rpc", "request {} on connection {} from {}: {}", request_id, self->id_,
                      self->peer_address_, error.message());
    }
    result = std::move(error);
  }
  self->request_cancels_.erase(seq);
  self->Uncharge(request_bytes);  // the handler is done with the request

  ByteBuffer head;
  ResponseBody body;
  if (result.ok()) {
    Status header = proto::AppendResponseHeader(proto::ResponseType::kSuccess, request_id,
                                                result->size(), &head);
    if (header.ok()) {
      body = std::move(*result);
    } else {
      head.clear();
      result = std::move(header);
    }
  }
  if (!result.ok()) {
    STROM_LOG_DEBUG("rpc", "{} request {} from {} failed: {}", proto::ApiKeyName(api_key),
                    request_id, self->peer_address_, result.status().ToString());
    proto::AppendErrorResponseFrame(request_id, ToWireStatus(result.status()), &head);
  }
  // File regions (FetchLog records sent by sendfile) hold no memory and are not charged.
  const size_t response_bytes = head.size() + body.memory_bytes();
  if (self->writer_.Enqueue(std::move(head), std::move(body))) {
    self->Charge(response_bytes);  // until written
  } else {
    // The connection is going away; nobody will read this answer.
    self->OnResponsesWritten(1, 0);
  }
}

bool ServerConnection::MustPause() const {
  return in_flight_ >= limits_.max_in_flight || (budget_->exhausted() && held_bytes_ > 0);
}

void ServerConnection::Charge(size_t bytes) {
  held_bytes_ += bytes;
  budget_->Charge(bytes);
}

void ServerConnection::Uncharge(size_t bytes) {
  bytes = std::min(bytes, held_bytes_);
  held_bytes_ -= bytes;
  budget_->Release(bytes);
  if (held_bytes_ == 0) reader_wake_.Notify();
}

void ServerConnection::OnResponsesWritten(size_t count, size_t bytes) {
  Uncharge(bytes);
  in_flight_ = count > in_flight_ ? 0 : in_flight_ - count;
  last_activity_ = SteadyClock::now();
  reader_wake_.Notify();
}

Task<void> ServerConnection::WriteSide() {
  Status written = co_await writer_.Run();
  if (!written.ok()) {
    STROM_LOG_DEBUG("rpc", "connection {} from {}: {}", id_, peer_address_, written.ToString());
    // The peer is unreachable: nothing more can be answered, so stop reading as well.
    StopReading();
  }
}

Task<void> ServerConnection::IdleWatch() {
  if (limits_.max_idle_time.count() <= 0) co_return;
  while (!reader_done_ && !stop_reading_) {
    idle_timer_.expires_at(last_activity_ + limits_.max_idle_time);
    co_await idle_timer_.async_wait(kAwaitTuple);
    if (reader_done_ || stop_reading_) break;
    if (in_flight_ > 0) {
      // A long-running request is activity too.
      last_activity_ = SteadyClock::now();
      continue;
    }
    if (SteadyClock::now() >= last_activity_ + limits_.max_idle_time) {
      STROM_LOG_INFO("rpc", "closing connection {} from {}: idle for {} ms", id_, peer_address_,
                     limits_.max_idle_time.count());
      StopReading();
      break;
    }
  }
}

}  // namespace strom::rpc::detail
