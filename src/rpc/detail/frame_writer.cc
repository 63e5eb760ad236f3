#include "rpc/detail/frame_writer.h"

#include <sys/sendfile.h>

#include <algorithm>
#include <asio/buffer.hpp>
#include <asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace strom::rpc::detail {

namespace {
// Bounds of one gathered write: enough to amortize the system call, small enough that one
// huge backlog does not build an unbounded iovec (IOV_MAX is 1024 on Linux).
constexpr size_t kMaxFramesPerWrite = 256;
constexpr size_t kMaxBytesPerWrite = 4 * 1024 * 1024;
// Largest sendfile call: a bounded slice, so one huge region does not monopolize a call.
constexpr size_t kMaxSendfileChunk = 8 * 1024 * 1024;
}  // namespace

FrameWriter::FrameWriter(Executor executor, asio::ip::tcp::socket* socket)
    : socket_(socket), wake_(std::move(executor)) {}

bool FrameWriter::Enqueue(ByteBuffer head, ResponseBody body, bool counted) {
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

Task<Status> FrameWriter::WriteRun(const std::vector<asio::const_buffer>& buffers) {
  if (buffers.empty()) co_return Status::OK();
  auto [ec, written] = co_await asio::async_write(*socket_, buffers, kAwaitTuple);
  if (ec) co_return MakeError(ErrorCode::kNetwork, "write failed: {}", ec.message());
  co_return Status::OK();
}

Task<Status> FrameWriter::SendFileRegion(const FileRegion& region) {
  asio::error_code ec;
  if (!socket_->native_non_blocking()) socket_->native_non_blocking(true, ec);
  if (ec) co_return MakeError(ErrorCode::kNetwork, "write failed: {}", ec.message());
  off_t offset = static_cast<off_t>(region.offset);
  size_t left = region.size;
  while (left > 0) {
    ssize_t n = ::sendfile(socket_->native_handle(), region.fd, &offset,
                           std::min(left, kMaxSendfileChunk));
    if (n > 0) {
      left -= static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {
      // The file was cut below the region after it was read (a log truncation): the frame
      // can no longer be completed, so the connection has to go.
      co_return MakeError(ErrorCode::kNetwork,
                          "write failed: the file ended {} bytes before the end of a region of "
                          "{} bytes (truncated after the read)",
                          left, region.size);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      auto [wait_error] =
          co_await socket_->async_wait(asio::ip::tcp::socket::wait_write, kAwaitTuple);
      if (wait_error) {
        co_return MakeError(ErrorCode::kNetwork, "write failed: {}", wait_error.message());
      }
      continue;
    }
    co_return MakeError(ErrorCode::kNetwork, "write failed: sendfile: {}", std::strerror(errno));
  }
  co_return Status::OK();
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
    // Built after the batch is complete: the vector no longer moves its frames. Byte pieces
    // are gathered into one write up to the next file region, which goes out by sendfile.
    buffers.clear();
    size_t counted = 0;
    size_t counted_bytes = 0;
    Status status;
    for (const Frame& frame : batch) {
      if (!frame.head.empty()) buffers.push_back(asio::buffer(frame.head));
      for (const ResponseBody::Piece& piece : frame.body.pieces()) {
        if (!piece.file) {
          buffers.push_back(asio::buffer(piece.bytes));
          continue;
        }
        status = co_await WriteRun(buffers);
        buffers.clear();
        if (status.ok()) status = co_await SendFileRegion(*piece.file);
        if (!status.ok()) break;
      }
      if (!status.ok()) break;
      if (frame.counted) {
        ++counted;
        counted_bytes += frame.head.size() + frame.body.memory_bytes();
      }
    }
    if (status.ok()) status = co_await WriteRun(buffers);
    if (!status.ok()) {
      stopped_ = true;
      queue_.clear();
      co_return status;
    }
    if (on_written) on_written(counted, counted_bytes);
  }
  stopped_ = true;
  queue_.clear();
  co_return Status::OK();
}

}  // namespace strom::rpc::detail
