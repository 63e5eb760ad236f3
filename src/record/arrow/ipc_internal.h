#pragma once

// Helpers shared by the Arrow IPC writer, reader, stream code and projection. Not part of the
// public API of strom::record::arrow: it exposes the flatc-generated metadata types.

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "record/arrow/arrow_ipc_generated.h"
#include "record/arrow/compression.h"
#include "record/data_type.h"

namespace strom::record::arrow::internal {

/// The IPC continuation marker that opens every message of the current (8-byte prefix) form.
inline constexpr uint32_t kContinuation = 0xFFFFFFFFu;

/// Rounds up to the next multiple of 8.
inline constexpr int64_t PadTo8(int64_t n) { return (n + 7) & ~int64_t{7}; }

/// Where one encapsulated message sits in a byte range, after its prefix has been read.
struct MessagePrefix {
  bool end_of_stream = false;  // a zero metadata length (the EOS marker, either form)
  size_t prefix_size = 0;      // 8 (FF FF FF FF + length) or 4 (legacy: length only)
  ByteView metadata;           // the declared metadata bytes, padding included
};

/// Reads the prefix of the message at the start of `data` (both forms) and borrows its
/// metadata. kCorruptMessage when the prefix or the metadata is truncated or negative.
Result<MessagePrefix> ReadMessagePrefix(ByteView data);

/// Verifies a Message flatbuffer and returns its root. When `metadata` is not 8-byte aligned
/// in memory it is first copied into `scratch` (the returned pointer then points into it), so
/// that no accessor performs a misaligned load. kCorruptMessage when verification fails.
Result<const fb::Message*> VerifyMessage(ByteView metadata, std::vector<uint64_t>* scratch);

/// A message whose prefix and metadata have been checked, with its body bounds-checked.
struct ParsedMessage {
  const fb::Message* message = nullptr;
  ByteView body;          // exactly bodyLength bytes (empty from ParseMessageHead)
  size_t body_offset = 0;  // prefix + metadata: where the body starts
  size_t body_length = 0;  // bodyLength
  size_t total_size = 0;  // prefix + metadata + body
};

/// ReadMessagePrefix + VerifyMessage + body bounds check (bodyLength >= 0 and within `data`).
/// The EOS marker is reported as kCorruptMessage here; stream readers check for it first.
Result<ParsedMessage> ParseMessage(ByteView data, std::vector<uint64_t>* scratch);

/// ParseMessage for a reader that holds only the first bytes of the message: `head` starts
/// the `size`-byte range the message sits in and holds at least its prefix and metadata
/// (MessageHeadSize); the body is checked against `size` but not read, so `body` is left
/// empty. Same errors as ParseMessage on the whole range.
Result<ParsedMessage> ParseMessageHead(ByteView head, size_t size, std::vector<uint64_t>* scratch);

/// How many leading bytes of a `size`-byte range ParseMessageHead needs: the prefix plus the
/// metadata it declares, read from the first bytes in `head` (8 when `head` holds fewer, so
/// the caller reads those first). Never more than `size`: a prefix whose metadata would not
/// fit is left for ParseMessageHead to report.
size_t MessageHeadSize(ByteView head, size_t size);

/// Appends FF FF FF FF, the metadata length padded so that 8 + length is a multiple of 8,
/// the flatbuffer bytes and the zero padding.
void AppendFramedMetadata(const uint8_t* flatbuffer, size_t size, ByteBuffer* out);

/// Size AppendFramedMetadata writes for a flatbuffer of `size` bytes.
inline size_t FramedMetadataSize(size_t size) { return 8 + static_cast<size_t>(PadTo8(size)); }

/// Clears `fbb` and builds a finished Message {V5, RecordBatch {length, nodes, buffers,
/// compression (absent for kNone)}, bodyLength}.
void BuildRecordBatchMessage(flatbuffers::FlatBufferBuilder* fbb, int64_t num_rows,
                             const std::vector<fb::FieldNode>& nodes,
                             const std::vector<fb::Buffer>& buffers, CompressionCodec codec,
                             int64_t body_length);

/// Adds the Arrow Field (with children) of a Fluss column to `fbb`.
flatbuffers::Offset<fb::Field> BuildField(flatbuffers::FlatBufferBuilder* fbb,
                                          std::string_view name, const DataType& type);

/// Checks that the fields of an Arrow Schema message describe the columns of `row_type`:
/// same column count and names, the exact Arrow type Fluss maps each type to (bit widths,
/// units, precision/scale, byte width), and for nested types the same structure. Child names
/// of lists and maps are not compared (producers differ: `element`, `item`). A TIMESTAMP_LTZ
/// column accepts any timezone; a TIMESTAMP column requires none. kCorruptMessage otherwise.
Status CheckSchemaMatches(const fb::Schema& schema, const DataType& row_type);

}  // namespace strom::record::arrow::internal
