#include "rpc/detail/frame_writer.h"

#include <asio/buffer.hpp>
#include <asio/write.hpp>
#include <utility>
#include <vector>

namespace strom::rpc::detail {

namespace {
// Bounds of one gathered write: enough to amortize the system call, small enough that one
// huge backlog does not build an unbounded iovec (IOV_MAX is 1024 on Linux).
constexpr size_t kMaxFramesPerWrite = 256;
constexpr size_t kMaxBytesPerWrite = 4 * 1024 * 1024;
}  // namespace

FrameWriter::FrameWriter(Executor executor, asio::ip::tcp::socket* socket)
    : socket_(socket), wake_(std::move(executor)) {}

bool FrameWriter::Enqueue(ByteBuffer head, ByteBuffer body, bool counted) {
  if (stopped_ || finishing_) return false;
  queue_.push_back(Frame{std::move(head), std::move(body), counted});
  wake_.Notify();
  return true;
}

void FrameWriter::Finish() {
  finishing_ = true;
  wake_.Notify();
}

void FrameWriter::Abort() {
  stopped_ = true;
  queue_.clear();
  wake_.Notify();
}

Task<Status> FrameWriter::Run() {
  std::vector<Frame> batch;
  std::vector<asio::const_buffer> buffers;
  while (!stopped_) {
    if (queue_.empty()) {
      if (finishing_) break;
      co_await wake_.Wait();
      continue;
    }
    batch.clear();
    size_t bytes = 0;
    while (!queue_.empty() && batch.size() < kMaxFramesPerWrite && bytes < kMaxBytesPerWrite) {
      bytes += queue_.front().head.size() + queue_.front().body.size();
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    // Built after the batch is complete: the vector no longer moves its frames.
    buffers.clear();
    size_t counted = 0;
    size_t counted_bytes = 0;
    for (const Frame& frame : batch) {
      if (!frame.head.empty()) buffers.push_back(asio::buffer(frame.head));
      if (!frame.body.empty()) buffers.push_back(asio::buffer(frame.body));
      if (frame.counted) {
        ++counted;
        counted_bytes += frame.head.size() + frame.body.size();
      }
    }
    auto [ec, written] = co_await asio::async_write(*socket_, buffers, kAwaitTuple);
    if (ec) {
      stopped_ = true;
      queue_.clear();
      co_return MakeError(ErrorCode::kNetwork, "write failed: {}", ec.message());
    }
    if (on_written) on_written(counted, counted_bytes);
  }
  stopped_ = true;
  queue_.clear();
  co_return Status::OK();
}

}  // namespace strom::rpc::detail
