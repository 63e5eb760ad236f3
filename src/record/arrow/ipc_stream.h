#pragma once

#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "record/arrow/arrow_reader.h"
#include "record/data_type.h"

namespace strom::record::arrow {

/// Reads a whole Arrow IPC stream as pyarrow's `ipc.new_stream` writes it: one Schema
/// message, RecordBatch messages, then the end-of-stream marker (8-byte or legacy 4-byte
/// form; a stream that simply ends after a batch is accepted too). The schema must describe
/// `row_type` (see CheckSchemaMatches in ipc_internal.h: same names, the Arrow types Fluss
/// maps each type to); dictionary batches are not supported. Bytes after the marker are
/// ignored. Every batch is decoded as ArrowBatchReader::Read does, so the same lifetime
/// rules apply: `stream` and `row_type` must outlive the returned batches.
Result<std::vector<DecodedArrowBatch>> ReadIpcStream(ByteView stream, const DataType& row_type,
                                                     ArrowReadOptions options = {});

/// Writes an IPC stream: the Schema message of `row_type`, the given RecordBatch messages
/// (as ArrowBatchWriter produces them) and the end-of-stream marker.
Status WriteIpcStream(const DataType& row_type, std::span<const ByteBuffer> record_batches,
                      ByteBuffer* out);

}  // namespace strom::record::arrow
