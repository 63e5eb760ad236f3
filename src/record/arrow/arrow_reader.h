#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "record/arrow/arrow_schema.h"
#include "record/arrow/compression.h"
#include "record/data_type.h"
#include "record/datum.h"

namespace strom::record::arrow {

/// Limits applied while decoding untrusted messages.
struct ArrowReadOptions {
  /// Upper bound on the bytes one batch may decompress to. Length prefixes are checked
  /// against it before anything is allocated.
  int64_t max_decompressed_bytes = int64_t{1} << 30;
};

/// Read-only view of one decoded Arrow array (a field node and its buffers), checked when the
/// batch was decoded: every buffer is large enough for the node's length, offsets are
/// non-decreasing and stay inside their data or child array. Accessors therefore do no bounds
/// checks of their own; the index must be below length().
///
/// Points into the DecodedArrowBatch that owns it (and, for uncompressed messages, into the
/// message bytes), and at that batch's copy of the DataType it was decoded for.
class ArrowColumnView {
 public:
  const DataType& type() const { return *type_; }
  ArrowLayout layout() const { return layout_; }
  int64_t length() const { return length_; }
  int64_t null_count() const { return null_count_; }

  bool IsNull(int64_t i) const {
    return validity_ != nullptr && ((validity_[i >> 3] >> (i & 7)) & 1) == 0;
  }

  /// BOOLEAN.
  bool GetBool(int64_t i) const {
    return (static_cast<uint8_t>(values_[i >> 3]) >> (i & 7)) & 1;
  }
  /// The stored value of a fixed-width column as T (int8_t .. int64_t, float, double; for
  /// TIME and TIMESTAMP the raw count in the column's unit).
  template <typename T>
  T GetFixed(int64_t i) const {
    T v;
    std::memcpy(&v, values_ + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
    return v;
  }
  /// TIME: milliseconds of the day (finer units truncated, as Fluss reads them).
  int32_t GetTimeMillis(int64_t i) const;
  /// TIMESTAMP / TIMESTAMP_LTZ: epoch milliseconds and nanoseconds of the millisecond
  /// (floor division, so instants before 1970 keep 0 <= nanos_of_milli < 10^6).
  TimestampValue GetTimestamp(int64_t i) const;
  /// DECIMAL: the unscaled value.
  DecimalValue GetDecimal(int64_t i) const {
    DecimalValue d;
    std::memcpy(&d.unscaled, values_ + i * 16, 16);
    return d;
  }
  /// CHAR, STRING, BYTES and BINARY(n) (n bytes).
  std::string_view GetBytes(int64_t i) const;

  /// ARRAY and MAP: slot i spans child slots [ListBegin(i), ListEnd(i)).
  int32_t ListBegin(int64_t i) const { return LoadOffset(i); }
  int32_t ListEnd(int64_t i) const { return LoadOffset(i + 1); }

  /// ARRAY: one child (elements). MAP: two children (keys, values; the entries struct is
  /// folded away). ROW: one child per field.
  size_t num_children() const { return children_.size(); }
  const ArrowColumnView& child(size_t i) const { return children_[i]; }

  /// Slot i as a Datum of the alternative datum.h assigns to the type (allocates for
  /// strings and nested values).
  Datum GetDatum(int64_t i) const;

 private:
  friend class ArrowBatchReader;

  int32_t LoadOffset(int64_t i) const {
    int32_t v;
    std::memcpy(&v, offsets_ + i * 4, 4);
    return v;
  }

  const DataType* type_ = nullptr;
  ArrowLayout layout_ = ArrowLayout::kFixedWidth;
  ArrowTimeUnit unit_ = ArrowTimeUnit::kMillisecond;
  int32_t width_ = 0;
  int64_t length_ = 0;
  int64_t null_count_ = 0;
  const uint8_t* validity_ = nullptr;  // null when the node has no nulls
  const char* offsets_ = nullptr;
  const char* values_ = nullptr;
  std::vector<ArrowColumnView> children_;
};

/// One decoded RecordBatch: a column view per top-level field.
///
/// Owns the decompressed buffers (one allocation) and a copy of the row type it was decoded
/// for. For an uncompressed message the views point into the message bytes instead, so those
/// bytes must outlive the batch. Movable; moving keeps every view valid.
class DecodedArrowBatch {
 public:
  int64_t num_rows() const { return num_rows_; }
  size_t num_columns() const { return columns_.size(); }
  const ArrowColumnView& column(size_t i) const { return columns_[i]; }
  /// The codec the message declared.
  CompressionCodec codec() const { return codec_; }
  /// Bytes of input the message occupied (prefix, metadata and body).
  size_t message_size() const { return message_size_; }

  /// Row i with one Datum per column.
  GenericRow GetRow(int64_t i) const;
  std::vector<GenericRow> ToRows() const;

 private:
  friend class ArrowBatchReader;
  std::unique_ptr<char[]> arena_;
  std::shared_ptr<const DataType> row_type_;
  std::vector<ArrowColumnView> columns_;
  int64_t num_rows_ = 0;
  CompressionCodec codec_ = CompressionCodec::kNone;
  size_t message_size_ = 0;
};

/// Decodes Arrow IPC RecordBatch messages written by any Arrow producer (Fluss Java, Strom,
/// pyarrow / Arrow C++, arrow-rs) for a known Fluss row type.
///
/// Every check happens before a value is exposed: the message prefix (8-byte or legacy
/// 4-byte form), the flatbuffers Verifier over the metadata, the node and buffer counts the
/// row type implies, every buffer range against the body, decompressed sizes against their
/// prefixes and ArrowReadOptions, and every node's buffers and offsets against its length.
/// Bad bytes return kCorruptMessage; nothing reads out of bounds.
///
/// Owns reusable decompression contexts and scratch. Not thread-safe; one per thread.
class ArrowBatchReader {
 public:
  explicit ArrowBatchReader(ArrowReadOptions options = {});

  /// Decodes the RecordBatch message at the start of `data` (bytes after it are ignored; see
  /// DecodedArrowBatch::message_size). `row_type` is a ROW the data was written for.
  Result<DecodedArrowBatch> Read(ByteView data, const DataType& row_type);

 private:
  struct NodeCursor;
  Result<ArrowColumnView> ReadColumn(const DataType& type, NodeCursor* cursor);

  ArrowReadOptions options_;
  BufferDecompressor decompressor_;
  std::vector<uint64_t> scratch_;
  std::vector<ByteView> buffers_;
  std::vector<int64_t> sizes_;
};

/// Decodes one message with a temporary reader.
Result<DecodedArrowBatch> DecodeArrowBatch(ByteView data, const DataType& row_type,
                                           ArrowReadOptions options = {});

}  // namespace strom::record::arrow
