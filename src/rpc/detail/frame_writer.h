#pragma once

#include <asio/ip/tcp.hpp>
#include <cstddef>
#include <deque>
#include <functional>
#include <vector>

#include <asio/buffer.hpp>

#include "common/async.h"
#include "common/bytes.h"
#include "common/status.h"
#include "rpc/response_body.h"

namespace strom::rpc::detail {

/// The sending half of a framed connection: a queue of outgoing frames and the loop that
/// writes them, in queue order, gathering whatever piled up during the previous write into
/// one write call.
///
/// Lifecycle: the owning connection awaits Run() once. Run() returns after Finish() once the
/// queue is drained, after Abort(), or when a write fails; from then on Enqueue() drops
/// frames and returns false.
/// Threads: the connection's executor only.
/// Ownership: owned by the connection, which also owns the socket; Run() must be awaited by
/// a coroutine that keeps both alive.
class FrameWriter {
 public:
  FrameWriter(Executor executor, asio::ip::tcp::socket* socket);

  /// Queues one frame sent as `head` followed by `body` (either may be empty, so a response
  /// header and a large payload go out without being concatenated). `counted` frames are
  /// reported to on_written; the server counts responses this way.
  /// The body may be several pieces (a plain ByteBuffer converts to one); file regions go
  /// out with sendfile.
  bool Enqueue(ByteBuffer head, ResponseBody body = {}, bool counted = true);

  /// Asks Run() to return once everything queued so far has been written.
  void Finish();
  /// Stops at once: queued frames are dropped, a write in progress is left to fail when the
  /// owner closes the socket.
  void Abort();

  /// The write loop; OK after Finish/Abort, NETWORK_EXCEPTION when a write failed.
  Task<Status> Run();

  bool stopped() const { return stopped_; }
  size_t queued() const { return queue_.size(); }

  /// Called after each successful write with the number of counted frames it carried and
  /// their bytes held in memory (head + body, file regions not included).
  std::function<void(size_t count, size_t bytes)> on_written;

 private:
  struct Frame {
    ByteBuffer head;
    ResponseBody body;
    bool counted;
  };

  // Writes `buffers` whole; then sends `region` (when set) with sendfile.
  Task<Status> WriteRun(const std::vector<asio::const_buffer>& buffers);
  Task<Status> SendFileRegion(const FileRegion& region);

  asio::ip::tcp::socket* socket_;
  std::deque<Frame> queue_;
  Notifier wake_;
  bool finishing_ = false;
  bool stopped_ = false;
};

}  // namespace strom::rpc::detail
