#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace strom::rpc {

/// Bytes of a file that go to the socket with sendfile, never through user memory.
struct FileRegion {
  /// Keeps `fd` open until the region has been sent (or dropped).
  std::shared_ptr<const void> owner;
  int fd = -1;
  uint64_t offset = 0;
  size_t size = 0;
};

/// A response payload as a sequence of pieces sent in order: bytes held in memory and file
/// regions. A handler whose answer embeds stored bytes (FetchLog records) encodes the
/// message around them and leaves them in their file; everything else is one byte piece.
///
/// If a file shrinks before its region is sent, the frame cannot be completed: the writer
/// then fails the connection (the client sees a dropped connection and retries), it never
/// pads or sends a short frame.
///
/// Thread: one owner at a time. Movable, not copyable.
class ResponseBody {
 public:
  struct Piece {
    ByteBuffer bytes;                // used when `file` is empty
    std::optional<FileRegion> file;  // otherwise
    size_t size() const { return file ? file->size : bytes.size(); }
  };

  ResponseBody() = default;
  /// One byte piece (the body of an ordinary protobuf response).
  ResponseBody(ByteBuffer bytes);  // NOLINT(google-explicit-constructor): a plain payload is a body
  ResponseBody(ResponseBody&&) noexcept = default;
  ResponseBody& operator=(ResponseBody&&) noexcept = default;
  ResponseBody(const ResponseBody&) = delete;
  ResponseBody& operator=(const ResponseBody&) = delete;

  /// Appends bytes (empty ones are skipped).
  void Append(ByteBuffer bytes);
  /// Appends a file region (empty ones are skipped).
  void Append(FileRegion region);
  /// Appends the pieces of `other`, in order.
  void Append(ResponseBody other);

  /// Total bytes on the wire.
  size_t size() const { return size_; }
  /// Bytes held in memory (what a server's memory budget counts); file regions hold none.
  size_t memory_bytes() const { return memory_bytes_; }
  bool has_file_regions() const { return size_ != memory_bytes_; }

  const std::vector<Piece>& pieces() const { return pieces_; }

  /// The whole payload in one buffer, file regions read with pread: for tests and for
  /// callers that need the bytes themselves. A failed or short read of a region is
  /// kUnknownServerError.
  Result<ByteBuffer> ToBytes() const;

 private:
  std::vector<Piece> pieces_;
  size_t size_ = 0;
  size_t memory_bytes_ = 0;
};

}  // namespace strom::rpc
