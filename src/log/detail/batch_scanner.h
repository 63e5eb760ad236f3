#pragma once

#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "log/fs/file_system.h"
#include "record/log_record_batch.h"

namespace strom::log::detail {

/// The header fields of one batch stored in a file, read without loading its records.
///
/// Only the fields the log needs to find, index and replay batches are read, at the offsets
/// record::LogLayoutForMagic gives; validating a whole batch (structure, CRC) is left to
/// record::LogRecordBatch (see BatchScanner::LoadAndValidate).
struct BatchHeader {
  uint64_t position = 0;  ///< Byte position of the batch in the file.
  uint32_t size = 0;      ///< Whole batch, header included.
  int8_t magic = 0;
  LogOffset base_offset;
  int32_t last_offset_delta = 0;
  TimestampMs commit_timestamp;
  WriterId writer_id = kNoWriterId;
  BatchSequence batch_sequence = kNoBatchSequence;
  int32_t record_count = 0;

  LogOffset last_offset() const { return base_offset + last_offset_delta; }
  LogOffset next_offset() const { return last_offset() + 1; }
  bool has_writer_id() const { return writer_id != kNoWriterId; }
};

/// Reads byte ranges of one file through a read-ahead window, so walking many small batch
/// headers costs one pread per window rather than one per batch. The window starts small
/// (a lookup usually needs one header) and doubles with every refill up to a limit (a scan
/// reads on). Borrows the file.
class FileReader {
 public:
  static constexpr size_t kInitialWindow = 4 * 1024;
  static constexpr size_t kMaxWindow = 1024 * 1024;

  FileReader(File* file, uint64_t end) : file_(file), end_(end) {}

  /// The `n` bytes at `position` (which must lie within [0, end)); valid until the next call.
  Result<ByteView> Read(uint64_t position, size_t n);
  uint64_t end() const { return end_; }

 private:
  File* file_;
  uint64_t end_;
  size_t window_size_ = kInitialWindow;
  ByteBuffer window_;
  uint64_t window_start_ = 0;
};

/// Walks the batches stored in [start, end) of a segment file, header by header.
///
/// Next() returns each complete batch's header and stops (returns nullopt) at `end`, or when
/// the bytes left cannot hold the next batch (a torn tail: truncated() is then true). A
/// header that cannot be a batch (length too small, unknown magic, negative delta or count)
/// is kCorruptRecord. Not thread-safe; borrows the file.
class BatchScanner {
 public:
  BatchScanner(File* file, uint64_t start, uint64_t end) : reader_(file, end), position_(start) {}

  Result<std::optional<BatchHeader>> Next();

  /// Loads the batch last returned by Next() and validates it completely with
  /// record::LogRecordBatch (structure and CRC). The view is valid until the next call.
  Result<record::LogRecordBatch> LoadAndValidate();

  /// Where the next batch starts (after the end: `end`, or where a torn batch starts).
  uint64_t position() const { return position_; }
  bool truncated() const { return truncated_; }

 private:
  FileReader reader_;
  uint64_t position_;
  std::optional<BatchHeader> last_;
  bool truncated_ = false;
};

}  // namespace strom::log::detail
