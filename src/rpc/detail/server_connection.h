#pragma once

#include <asio/cancellation_signal.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/async.h"
#include "common/bytes.h"
#include "common/status.h"
#include "proto/frame.h"
#include "rpc/detail/frame_writer.h"
#include "rpc/detail/queue_budget.h"
#include "rpc/dispatcher.h"

namespace strom::rpc::detail {

/// The per-connection limits a ServerConnection enforces (from ServerOptions).
struct ConnectionLimits {
  std::string listener_name;
  size_t max_frame_size;
  size_t max_in_flight;
  std::chrono::milliseconds max_idle_time;
};

/// One accepted client connection of a Server.
///
/// Three cooperating loops run under Run(): the reader (decodes frames, starts one request
/// task per frame, pauses while `max_in_flight` requests are unanswered, and while the
/// server's QueueBudget is exhausted and this connection holds part of it), the writer
/// (FrameWriter) and an idle watchdog. A request task dispatches, then queues its response;
/// responses therefore leave in completion order.
///
/// Shutdown: the reader stops on end of stream, a read error, broken framing, idleness or
/// StopReading(); it then waits for every started request, queues a final SERVER_FAILURE
/// when the framing broke, and lets the writer drain before the socket closes. Abort()
/// closes the socket at once and cancels what running requests await.
///
/// Threads: the server's reactor only. Ownership: shared by Run() and the request tasks;
/// the Server keeps a reference to reach it for StopReading/Abort.
class ServerConnection : public std::enable_shared_from_this<ServerConnection> {
 public:
  ServerConnection(Executor executor, asio::ip::tcp::socket socket, uint64_t id,
                   std::string peer_address, std::shared_ptr<const Dispatcher> dispatcher,
                   ConnectionLimits limits, std::shared_ptr<QueueBudget> budget,
                   std::function<void(uint64_t)> on_closed);

  /// Serves the connection until it is closed; then calls on_closed(id).
  static Task<void> Run(std::shared_ptr<ServerConnection> self);

  /// Graceful: read no more requests, answer the ones received, then close.
  void StopReading();
  /// Forced: close the socket now and cancel running requests.
  void Abort();

  uint64_t id() const { return id_; }
  const std::string& peer_address() const { return peer_address_; }

 private:
  Task<void> ReadSide();
  Task<void> WriteSide();
  Task<void> IdleWatch();
  /// Reads more bytes into the decoder; false on end of stream, error or StopReading.
  Task<bool> ReadMore();
  /// Reads and drops input until the peer closes (used while lingering on close).
  Task<void> DiscardUntilEof();
  /// True when the decoder waits for the rest of a frame larger than a read chunk whose
  /// header has arrived.
  bool LargeFramePending() const;
  /// Reads the rest of that frame from the socket straight into the payload buffer of its
  /// request (no copy through the decoder, which keeps no multi-megabyte buffer either) and
  /// starts the request. False on end of stream, a read error or StopReading.
  Task<bool> ReadLargeFrame();
  /// Starts the request task for one whole frame. Fails only when the frame header cannot
  /// be decoded, which breaks the connection.
  Status StartRequest(ByteView frame);
  // `charged`: the payload's bytes are in the budget already (ReadLargeFrame charges them
  // before it reads the body).
  void StartRequest(const proto::RequestHeader& header, ByteBuffer payload, bool charged = false);
  static Task<void> HandleRequest(std::shared_ptr<ServerConnection> self, uint64_t seq,
                                  RequestContext context, ByteBuffer payload);
  /// True while the reader must not start another request: the in-flight bound is reached,
  /// or the budget is exhausted and this connection holds some of it.
  bool MustPause() const;
  /// Counts `bytes` against the server's budget (and this connection's share of it).
  void Charge(size_t bytes);
  /// Gives back part of this connection's share and lets the reader re-check.
  void Uncharge(size_t bytes);
  /// Answers the frame the decoder refused with `error`. A frame that is only too large,
  /// and whose header arrived, gets an ERROR_RESPONSE to its request id (queued at once);
  /// otherwise the result is a SERVER_FAILURE frame to send after every other response.
  Task<ByteBuffer> RefuseBadFrame(Status error);
  void OnResponsesWritten(size_t count, size_t bytes);
  void CloseSocket();

  Executor executor_;
  asio::ip::tcp::socket socket_;
  const uint64_t id_;
  const std::string peer_address_;
  std::shared_ptr<const Dispatcher> dispatcher_;
  const ConnectionLimits limits_;
  std::shared_ptr<QueueBudget> budget_;
  std::function<void(uint64_t)> on_closed_;

  proto::FrameDecoder decoder_;
  std::unique_ptr<char[]> read_buffer_;
  FrameWriter writer_;
  Notifier reader_wake_;  // a request slot freed, or StopReading
  asio::cancellation_signal read_cancel_;
  asio::steady_timer idle_timer_;
  SteadyClock::time_point last_activity_;

  Gate requests_;
  std::unordered_map<uint64_t, std::shared_ptr<asio::cancellation_signal>> request_cancels_;
  uint64_t next_request_seq_ = 0;
  size_t in_flight_ = 0;
  size_t held_bytes_ = 0;  // this connection's share of budget_

  bool read_pending_ = false;
  bool stop_reading_ = false;
  bool reader_done_ = false;
  bool aborted_ = false;
};

}  // namespace strom::rpc::detail
