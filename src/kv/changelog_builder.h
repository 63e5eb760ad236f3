#pragma once

#include <memory>
#include <vector>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "kv/kv_table_config.h"
#include "kv/row_merger.h"
#include "record/arrow/arrow_writer.h"
#include "record/log_record_batch.h"

namespace strom::kv {

/// Builds the one changelog batch a PutKv produces (Fluss's WalBuilder: ArrowWalBuilder,
/// CompactedWalBuilder, IndexWalBuilder), in the table's log format, always in the latest
/// schema (older rows are padded with nulls), not append-only, carrying the KV batch's writer
/// id and batch sequence. A batch with no change is header-only (it still takes an offset).
///
/// Reused across PutKv calls of one tablet: Reset() starts a new batch. Owns its Arrow writer
/// and buffers. Not thread-safe.
class ChangelogBuilder {
 public:
  ChangelogBuilder(const KvTableConfig& config) : config_(config) {}

  /// Starts a batch for rows of `latest` (schema of the batch header).
  Status Reset(const SchemaInfo& latest);

  /// Appends one change. `value.encoded`, when set and of the latest schema, is reused for the
  /// row formats matching the KV format.
  Status Append(record::ChangeType type, const KvValue& value);

  int32_t record_count() const { return static_cast<int32_t>(change_types_.size()); }

  /// Writes the batch (base offset 0, commit timestamp 0: the log assigns them).
  Result<ByteBuffer> Build(WriterId writer_id, BatchSequence batch_sequence);

 private:
  const record::GenericRow& Padded(const record::GenericRow& row);

  const KvTableConfig& config_;
  const SchemaInfo* latest_ = nullptr;
  std::unique_ptr<record::arrow::ArrowBatchWriter> arrow_writer_;
  SchemaId arrow_schema_id_{-1};
  std::vector<record::ChangeType> change_types_;
  ByteBuffer rows_;               // INDEXED / COMPACTED: encoded rows back to back
  std::vector<size_t> row_ends_;  // end of each row in rows_
  record::GenericRow padded_;
};

}  // namespace strom::kv
