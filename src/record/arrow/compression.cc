#include "record/arrow/compression.h"

#include <lz4.h>
#include <lz4frame.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>

namespace strom::record::arrow {

namespace {

constexpr size_t kPrefixSize = 8;
constexpr size_t kLz4BlockSize = 64 * 1024;
constexpr uint32_t kLz4StoredBlockFlag = 0x80000000u;

void StoreU32LE(char* p, uint32_t v) { std::memcpy(p, &v, 4); }

}  // namespace

Result<CompressionCodec> ParseCompressionCodec(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "NONE") return CompressionCodec::kNone;
  if (upper == "LZ4_FRAME") return CompressionCodec::kLz4Frame;
  if (upper == "ZSTD") return CompressionCodec::kZstd;
  return MakeError(ErrorCode::kInvalidConfig, "unknown Arrow compression type '{}'", name);
}

std::string_view CompressionCodecName(CompressionCodec codec) {
  switch (codec) {
    case CompressionCodec::kNone:
      return "NONE";
    case CompressionCodec::kLz4Frame:
      return "LZ4_FRAME";
    case CompressionCodec::kZstd:
      return "ZSTD";
  }
  return "UNKNOWN";
}

void AppendLz4Frame(ByteView input, ByteBuffer* out) {
  out->append(reinterpret_cast<const char*>(kLz4FrameHeader), sizeof(kLz4FrameHeader));
  size_t pos = 0;
  while (pos < input.size()) {
    size_t block = std::min(kLz4BlockSize, input.size() - pos);
    size_t start = out->size();
    int bound = LZ4_compressBound(static_cast<int>(block));
    out->resize(start + 4 + static_cast<size_t>(bound));
    int written = LZ4_compress_default(input.data() + pos, out->data() + start + 4,
                                       static_cast<int>(block), bound);
    if (written <= 0 || static_cast<size_t>(written) >= block) {
      // Not smaller: store the block as is, flagged in bit 31 of its size.
      out->resize(start + 4 + block);
      StoreU32LE(out->data() + start, static_cast<uint32_t>(block) | kLz4StoredBlockFlag);
      std::memcpy(out->data() + start + 4, input.data() + pos, block);
    } else {
      out->resize(start + 4 + static_cast<size_t>(written));
      StoreU32LE(out->data() + start, static_cast<uint32_t>(written));
    }
    pos += block;
  }
  out->append(4, '\0');  // end mark
}

BufferCompressor::BufferCompressor(ArrowCompression compression) : compression_(compression) {
  if (compression_.codec == CompressionCodec::kZstd) zstd_ = ZSTD_createCCtx();
}

BufferCompressor::~BufferCompressor() { ZSTD_freeCCtx(zstd_); }

Status BufferCompressor::Compress(ByteView input, ByteBuffer* out) {
  size_t start = out->size();
  if (input.empty()) return Status::OK();  // a zero-length buffer, see the header
  size_t payload = 0;
  switch (compression_.codec) {
    case CompressionCodec::kLz4Frame:
      out->append(kPrefixSize, '\0');
      AppendLz4Frame(input, out);
      payload = out->size() - start - kPrefixSize;
      break;
    case CompressionCodec::kZstd: {
      size_t bound = ZSTD_compressBound(input.size());
      out->resize(start + kPrefixSize + bound);
      size_t written = ZSTD_compressCCtx(zstd_, out->data() + start + kPrefixSize, bound,
                                         input.data(), input.size(), compression_.zstd_level);
      if (ZSTD_isError(written)) {
        out->resize(start);
        return MakeError(ErrorCode::kUnknownServerError, "zstd compression failed: {}",
                         ZSTD_getErrorName(written));
      }
      out->resize(start + kPrefixSize + written);
      payload = written;
      break;
    }
    case CompressionCodec::kNone:
      return MakeError(ErrorCode::kUnknownServerError, "BufferCompressor used with codec NONE");
  }
  if (payload > input.size()) {
    // Incompressible: keep the raw bytes behind the -1 marker.
    out->resize(start);
    ByteWriter(out).I64LE(kUncompressedMarker);
    out->append(input.data(), input.size());
  } else {
    StoreI64LE(out->data() + start, static_cast<int64_t>(input.size()));
  }
  return Status::OK();
}

BufferDecompressor::BufferDecompressor() = default;

BufferDecompressor::~BufferDecompressor() {
  ZSTD_freeDCtx(zstd_);
  if (lz4_ != nullptr) LZ4F_freeDecompressionContext(lz4_);
}

Result<int64_t> BufferDecompressor::DecompressedLength(ByteView buffer) {
  if (buffer.empty()) return int64_t{0};
  if (buffer.size() < kPrefixSize) {
    return Corruption("compressed Arrow buffer of {} bytes is shorter than its length prefix",
                      buffer.size());
  }
  int64_t length = LoadI64LE(buffer.data());
  if (length == kUncompressedMarker) return static_cast<int64_t>(buffer.size() - kPrefixSize);
  if (length < 0) return Corruption("compressed Arrow buffer declares length {}", length);
  return length;
}

Status BufferDecompressor::Decompress(CompressionCodec codec, ByteView buffer, char* dst,
                                      int64_t dst_size) {
  if (buffer.empty()) return Status::OK();
  int64_t length = LoadI64LE(buffer.data());
  ByteView payload = buffer.substr(kPrefixSize);
  if (length == 0) return Status::OK();
  if (length == kUncompressedMarker) {
    if (static_cast<int64_t>(payload.size()) != dst_size) {
      return Corruption("raw Arrow buffer size mismatch");
    }
    std::memcpy(dst, payload.data(), payload.size());
    return Status::OK();
  }
  if (length != dst_size) return Corruption("Arrow buffer length prefix mismatch");
  switch (codec) {
    case CompressionCodec::kLz4Frame:
      return DecompressLz4(payload, dst, dst_size);
    case CompressionCodec::kZstd:
      return DecompressZstd(payload, dst, dst_size);
    case CompressionCodec::kNone:
      break;
  }
  return Corruption("Arrow buffer carries a length prefix but the batch is not compressed");
}

Status BufferDecompressor::DecompressLz4(ByteView input, char* dst, int64_t dst_size) {
  if (lz4_ == nullptr) {
    if (LZ4F_isError(LZ4F_createDecompressionContext(&lz4_, LZ4F_VERSION))) {
      lz4_ = nullptr;
      return MakeError(ErrorCode::kUnknownServerError, "cannot create an LZ4F context");
    }
  }
  size_t in_pos = 0;
  size_t out_pos = 0;
  size_t hint = 0;
  const size_t out_size = static_cast<size_t>(dst_size);
  while (in_pos < input.size()) {
    size_t src_len = input.size() - in_pos;
    size_t dst_len = out_size - out_pos;
    hint = LZ4F_decompress(lz4_, dst + out_pos, &dst_len, input.data() + in_pos, &src_len,
                           nullptr);
    if (LZ4F_isError(hint)) {
      LZ4F_resetDecompressionContext(lz4_);
      return Corruption("LZ4 frame is corrupt: {}", LZ4F_getErrorName(hint));
    }
    in_pos += src_len;
    out_pos += dst_len;
    // A completed frame (hint 0) may be followed by another one; otherwise the call must have
    // made progress, or the output is full while the frame still has data.
    if (hint != 0 && src_len == 0 && dst_len == 0) {
      LZ4F_resetDecompressionContext(lz4_);
      return Corruption("LZ4 frame decompresses to more than the declared {} bytes", dst_size);
    }
  }
  if (hint != 0) {
    LZ4F_resetDecompressionContext(lz4_);
    return Corruption("LZ4 frame is truncated");
  }
  if (out_pos != out_size) {
    return Corruption("LZ4 frame decompressed to {} bytes, the prefix declares {}", out_pos,
                      dst_size);
  }
  return Status::OK();
}

Status BufferDecompressor::DecompressZstd(ByteView input, char* dst, int64_t dst_size) {
  if (zstd_ == nullptr) {
    zstd_ = ZSTD_createDCtx();
    if (zstd_ == nullptr) {
      return MakeError(ErrorCode::kUnknownServerError, "cannot create a zstd context");
    }
  }
  size_t n = ZSTD_decompressDCtx(zstd_, dst, static_cast<size_t>(dst_size), input.data(),
                                 input.size());
  if (ZSTD_isError(n)) return Corruption("zstd frame is corrupt: {}", ZSTD_getErrorName(n));
  if (n != static_cast<size_t>(dst_size)) {
    return Corruption("zstd frame decompressed to {} bytes, the prefix declares {}", n, dst_size);
  }
  return Status::OK();
}

}  // namespace strom::record::arrow
