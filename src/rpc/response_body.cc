#include "rpc/response_body.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace strom::rpc {

ResponseBody::ResponseBody(ByteBuffer bytes) { Append(std::move(bytes)); }

void ResponseBody::Append(ByteBuffer bytes) {
  if (bytes.empty()) return;
  size_ += bytes.size();
  memory_bytes_ += bytes.size();
  pieces_.push_back(Piece{std::move(bytes), std::nullopt});
}

void ResponseBody::Append(FileRegion region) {
  if (region.size == 0) return;
  size_ += region.size;
  pieces_.push_back(Piece{ByteBuffer(), std::move(region)});
}

void ResponseBody::Append(ResponseBody other) {
  size_ += other.size_;
  memory_bytes_ += other.memory_bytes_;
  if (pieces_.empty()) {
    pieces_ = std::move(other.pieces_);
    return;
  }
  pieces_.reserve(pieces_.size() + other.pieces_.size());
  for (Piece& piece : other.pieces_) pieces_.push_back(std::move(piece));
}

Result<ByteBuffer> ResponseBody::ToBytes() const {
  ByteBuffer out;
  out.reserve(size_);
  for (const Piece& piece : pieces_) {
    if (!piece.file) {
      out.append(piece.bytes);
      continue;
    }
    const FileRegion& region = *piece.file;
    const size_t start = out.size();
    out.resize(start + region.size);
    size_t done = 0;
    while (done < region.size) {
      ssize_t n = ::pread(region.fd, out.data() + start + done, region.size - done,
                          static_cast<off_t>(region.offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return MakeError(ErrorCode::kUnknownServerError,
                         "reading {} bytes at {} of descriptor {}: {}", region.size - done,
                         region.offset + done, region.fd,
                         n == 0 ? "end of file" : std::strerror(errno));
      }
      done += static_cast<size_t>(n);
    }
  }
  return out;
}

}  // namespace strom::rpc
