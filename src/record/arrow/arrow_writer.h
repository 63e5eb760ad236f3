#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/status.h"
#include "record/arrow/column_builder.h"
#include "record/arrow/compression.h"
#include "record/data_type.h"
#include "record/datum.h"

namespace flatbuffers {
class FlatBufferBuilder;
}

namespace strom::record::arrow {

/// Builds Arrow IPC RecordBatch messages for one Fluss row type, shaped as Fluss's Java
/// client writes the body of an ARROW log batch (docs/formats/arrow-ipc.md):
/// continuation marker, metadata padded to 8 bytes, then the body with one validity buffer per
/// field node (always present), every buffer at an 8-byte aligned offset in field pre-order,
/// and each buffer compressed on its own when the codec is LZ4_FRAME or ZSTD.
///
/// Rows go in through AppendRow(), or column by column through the typed builders returned by
/// column() (the fast path: no Datum, no variant dispatch). Finish() writes the message and
/// empties the writer for the next batch, keeping every buffer's capacity, so a long-lived
/// writer stops allocating after its first batches.
///
/// Owns its builders, compressor and scratch buffers. Not thread-safe: one writer per thread.
class ArrowBatchWriter {
 public:
  /// kInvalidTable when `row_type` is not a ROW that Fluss can store as Arrow.
  static Result<std::unique_ptr<ArrowBatchWriter>> Create(
      const DataType& row_type, ArrowCompression compression = ArrowCompression::None());

  ~ArrowBatchWriter();
  ArrowBatchWriter(const ArrowBatchWriter&) = delete;
  ArrowBatchWriter& operator=(const ArrowBatchWriter&) = delete;

  const DataType& row_type() const { return row_type_; }
  const ArrowCompression& compression() const { return compressor_.compression(); }
  size_t num_columns() const { return columns_.size(); }
  /// Rows appended since the last Finish() (the length of the first column).
  int64_t num_rows() const;

  /// The builder of column `i`; for typed appends cast it with column_as<Int32Builder>(i)
  /// and friends (null when the column has another type).
  ColumnBuilder* column(size_t i) { return columns_[i].get(); }
  template <typename Builder>
  Builder* column_as(size_t i) {
    return dynamic_cast<Builder*>(columns_[i].get());
  }

  /// Appends one row (one Datum per column, see datum.h). On failure (kCorruptRecord: wrong
  /// column count, a value that does not fit its column) the row is dropped entirely and the
  /// writer holds exactly the rows it held before.
  Status AppendRow(const GenericRow& row);
  Status AppendRows(std::span<const GenericRow> rows);

  /// Bytes the message would take without compression for the rows so far.
  int64_t EstimatedUncompressedSize() const;

  /// Appends one IPC RecordBatch message holding every row appended so far to `out` and
  /// empties the writer. kCorruptRecord when typed appends left columns of different lengths
  /// (the writer is then left unchanged); kUnknownServerError if the codec fails.
  Status Finish(ByteBuffer* out);

  /// Drops every appended row.
  void Clear();

 private:
  ArrowBatchWriter(DataType row_type, ArrowCompression compression);

  DataType row_type_;
  std::vector<std::unique_ptr<ColumnBuilder>> columns_;
  int64_t rows_without_columns_ = 0;  // row count for a ROW type with no fields
  BufferCompressor compressor_;

  // Scratch reused by every Finish().
  std::vector<ArrowNodeInfo> nodes_;
  std::vector<ByteView> buffers_;
  ByteBuffer compressed_body_;
  std::unique_ptr<flatbuffers::FlatBufferBuilder> fbb_;
};

/// Encodes `rows` of `row_type` as one IPC RecordBatch message (a one-shot ArrowBatchWriter).
Result<ByteBuffer> EncodeArrowBatch(const DataType& row_type, std::span<const GenericRow> rows,
                                    ArrowCompression compression = ArrowCompression::None());

}  // namespace strom::record::arrow
