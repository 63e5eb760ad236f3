#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "record/arrow/arrow_reader.h"
#include "record/arrow/arrow_writer.h"
#include "record/data_type.h"
#include "record/datum.h"
#include "record/log_record_batch.h"

namespace strom::record::arrow {

/// The records section of an ARROW log batch (docs/formats/arrow-ipc.md, "Log batch body"):
///   * append-only batch: one Arrow IPC RecordBatch message;
///   * otherwise: RecordCount change-type bytes, then the message (no padding between);
///   * RecordCount 0: nothing at all (a header-only batch).
///
/// Change types are passed as a span that is empty for an append-only body (every row +A,
/// no vector written) and holds one entry per row otherwise.

/// Appends the body for the rows held by `writer` (which is then emptied) to `out`.
/// kCorruptRecord when `change_types` is neither empty nor one per row.
Status AppendArrowLogBody(ArrowBatchWriter* writer, std::span<const ChangeType> change_types,
                          ByteBuffer* out);

/// Encodes `rows` of `row_type` as a body with a one-shot writer.
Result<ByteBuffer> EncodeArrowLogBody(const DataType& row_type, std::span<const GenericRow> rows,
                                      std::span<const ChangeType> change_types,
                                      ArrowCompression compression);

/// A decoded ARROW body.
struct ArrowLogBody {
  /// One per record; all kAppendOnly for an append-only body.
  std::vector<ChangeType> change_types;
  /// The rows (no columns at all when the batch has no records).
  DecodedArrowBatch batch;
};

/// Decodes a body of `record_count` records. kCorruptRecord for a negative count, a body too
/// short for the change-type vector, a change-type byte outside 0..4, bytes in a body of 0
/// records, or a message whose row count differs from `record_count`; kCorruptMessage for a
/// bad IPC message. `reader` (optional) lets a caller reuse decompression contexts. The
/// returned batch may point into `body` (see DecodedArrowBatch).
Result<ArrowLogBody> DecodeArrowLogBody(ByteView body, int32_t record_count, bool append_only,
                                        const DataType& row_type,
                                        ArrowBatchReader* reader = nullptr);

/// Builds one complete ARROW log batch at the end of `out` (header from `params`, CRC
/// computed) from the rows held by `writer`, which is then emptied. With params.append_only
/// the change types must be empty; otherwise one per row. Returns a view of the batch,
/// valid until `out` is next modified.
Result<LogRecordBatch> BuildArrowLogBatch(ByteBuffer* out, const LogBatchParams& params,
                                          ArrowBatchWriter* writer,
                                          std::span<const ChangeType> change_types = {});

/// Same from rows, with a one-shot writer using `compression` (use the table's codec: server
/// projection rewrites the metadata with it).
Result<LogRecordBatch> BuildArrowLogBatch(ByteBuffer* out, const LogBatchParams& params,
                                          const DataType& row_type,
                                          std::span<const GenericRow> rows,
                                          std::span<const ChangeType> change_types,
                                          ArrowCompression compression);

/// Decodes the records of an ARROW log batch (its CRC is not checked here).
Result<ArrowLogBody> DecodeArrowLogBatch(const LogRecordBatch& batch, const DataType& row_type,
                                         ArrowBatchReader* reader = nullptr);

}  // namespace strom::record::arrow
