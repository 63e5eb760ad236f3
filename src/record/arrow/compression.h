#pragma once

#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "common/result.h"
#include "common/status.h"

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;
struct LZ4F_dctx_s;

namespace strom::record::arrow {

/// Arrow body compression codecs Fluss supports (`table.log.arrow.compression.type`).
enum class CompressionCodec : uint8_t {
  kNone,
  kLz4Frame,
  kZstd,
};

/// Codec and level of a table (`table.log.arrow.compression.zstd.level`, 1-22, default 3).
struct ArrowCompression {
  CompressionCodec codec = CompressionCodec::kNone;
  int zstd_level = 3;

  static ArrowCompression None() { return {}; }
  static ArrowCompression Lz4Frame() { return {CompressionCodec::kLz4Frame, 3}; }
  static ArrowCompression Zstd(int level = 3) { return {CompressionCodec::kZstd, level}; }

  friend bool operator==(const ArrowCompression&, const ArrowCompression&) = default;
};

/// Parses a `table.log.arrow.compression.type` value ("NONE", "LZ4_FRAME", "ZSTD"; any
/// letter case). kInvalidConfig for anything else.
Result<CompressionCodec> ParseCompressionCodec(std::string_view name);

/// The Fluss spelling of a codec ("NONE", "LZ4_FRAME", "ZSTD").
std::string_view CompressionCodecName(CompressionCodec codec);

/// Length prefix of a compressed buffer that marks the payload as stored uncompressed.
inline constexpr int64_t kUncompressedMarker = -1;

/// The LZ4 frame header the Fluss Java writer emits and Strom writes: magic, FLG 0x60
/// (version 1, independent blocks, no checksums, no content size), BD 0x40 (64 KiB blocks)
/// and the header checksum byte.
inline constexpr uint8_t kLz4FrameHeader[7] = {0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82};

/// Appends `input` as one LZ4 frame shaped like Fluss's Java writer: kLz4FrameHeader, 64 KiB
/// independent blocks (each stored raw, with bit 31 of its size set, when LZ4 does not make
/// it smaller), the 4-byte zero end mark, no content checksum.
void AppendLz4Frame(ByteView input, ByteBuffer* out);

/// Compresses Arrow body buffers one at a time in the Arrow BUFFER method.
///
/// Each call appends: an int64 LE uncompressed length followed by the codec output; when the
/// codec output would be larger than the input, the prefix -1 followed by the raw input
/// (Arrow Java's rule, which Fluss uses). An empty input appends nothing: the buffer stays
/// zero-length, as Arrow C++ and arrow-rs write it. (Fluss's Java writer emits an 8-byte zero
/// prefix instead, which Arrow C++ cannot read for LZ4_FRAME; every Fluss reader skips
/// zero-length buffers without decompressing them, see docs/formats/arrow-ipc.md.)
/// Owns a zstd compression context reused across calls. Not thread-safe; one per writer.
class BufferCompressor {
 public:
  explicit BufferCompressor(ArrowCompression compression);
  ~BufferCompressor();
  BufferCompressor(const BufferCompressor&) = delete;
  BufferCompressor& operator=(const BufferCompressor&) = delete;

  const ArrowCompression& compression() const { return compression_; }

  /// Appends the compressed form of `input` to `out`. Fails (kUnknownServerError) only if
  /// the zstd library reports an error. Must not be called with CompressionCodec::kNone.
  Status Compress(ByteView input, ByteBuffer* out);

 private:
  ArrowCompression compression_;
  ZSTD_CCtx_s* zstd_ = nullptr;
  ByteBuffer scratch_;
};

/// Decompresses Arrow body buffers written in the BUFFER method by any producer (Fluss Java,
/// Strom, Arrow C++ / pyarrow, arrow-rs). Accepts every valid LZ4 frame (linked or independent
/// blocks, checksums, content size, several frames back to back) and zstd frames.
///
/// Owns reusable zstd and LZ4F decompression contexts. Not thread-safe; one per reader.
class BufferDecompressor {
 public:
  BufferDecompressor();
  ~BufferDecompressor();
  BufferDecompressor(const BufferDecompressor&) = delete;
  BufferDecompressor& operator=(const BufferDecompressor&) = delete;

  /// Length the buffer decompresses to, from its 8-byte prefix: 0 for an empty body buffer
  /// (a zero-length buffer, or a zero prefix whatever follows it), size - 8 for a raw (-1)
  /// buffer. kCorruptMessage for a buffer shorter than the prefix or a negative length other
  /// than -1.
  static Result<int64_t> DecompressedLength(ByteView buffer);

  /// Decompresses `buffer` into `dst`, which has room for exactly DecompressedLength(buffer)
  /// bytes. kCorruptMessage when the codec fails or yields a different number of bytes.
  Status Decompress(CompressionCodec codec, ByteView buffer, char* dst, int64_t dst_size);

 private:
  Status DecompressLz4(ByteView input, char* dst, int64_t dst_size);
  Status DecompressZstd(ByteView input, char* dst, int64_t dst_size);

  ZSTD_DCtx_s* zstd_ = nullptr;
  LZ4F_dctx_s* lz4_ = nullptr;
};

}  // namespace strom::record::arrow
