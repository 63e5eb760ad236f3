#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "record/arrow/arrow_reader.h"
#include "strom/log_scanner.h"
#include "strom/types.h"

namespace strom::client {

/// One FetchLog answer for one bucket, waiting to be decoded.
struct CompletedFetch {
  BucketId bucket{0};
  int64_t epoch = 0;
  /// The offset the fetch asked for (kEarliestOffsetValue for the log start): records
  /// before it are skipped.
  int64_t fetch_offset = 0;
  /// The fetched batches, a view into `owner` (the FetchLog response payload), which is
  /// shared with the ScanBatches decoded from it: uncompressed Arrow columns are read in place.
  std::shared_ptr<const void> owner;
  ByteView records;
  int64_t high_watermark = 0;
};

/// What a ScanBatch reads: one decoded log batch and the fetched bytes it may point into.
struct DecodedLogBatch {
  /// Keeps the fetched bytes alive.
  std::shared_ptr<const void> records;
  /// ARROW: the decoded message (its views point into `records` when uncompressed).
  record::arrow::DecodedArrowBatch arrow;
  /// INDEXED / COMPACTED: every record of the batch, already in the scanner's column order.
  std::vector<GenericRow> rows;
  /// Change-type bytes of the rows (checked), when the batch is not append-only.
  std::vector<uint8_t> change_types;
};

/// The offset after the last complete batch of a records blob (`fallback` when it holds no
/// complete batch). kCorruptRecord for a malformed header.
Result<int64_t> NextFetchOffset(ByteView records, int64_t fallback);

/// Turns fetched log batches into ScanBatches (Fluss `CompletedFetch` / `LogRecordReadContext`).
///
/// An ARROW batch is decoded once into column vectors (decompressed when LZ4/ZSTD; read in
/// place in the fetched bytes otherwise) and its ScanBatch reads values from them on demand;
/// INDEXED / COMPACTED batches are decoded to rows here.
///
/// Handles the three log formats (ARROW, INDEXED, COMPACTED), the change-type vector of
/// non-append-only Arrow batches, CRC checks (skipped for server-projected reads, whose CRC
/// the server leaves stale), and projection: for ARROW tables the server sends only the
/// projected columns (ascending), which are reordered here; other formats are decoded in
/// full and projected. A batch written with another schema id than the table's is decoded
/// with that schema (fetched through the SchemaFetcher once and cached) and its columns
/// are matched to the scanned columns by name (missing ones read as null).
///
/// Not thread-safe (owns a reusable Arrow reader); one per scanner, used on the thread
/// that polls.
class ScanDecoder {
 public:
  using SchemaFetcher = std::function<Result<Schema>(SchemaId)>;

  /// `projection`: output column indexes in output order; nullopt reads every column.
  /// kInvalidColumnProjection for an empty projection, an index out of range or a repeat.
  static Result<std::unique_ptr<ScanDecoder>> Create(const TableInfo& info,
                                                     std::optional<std::vector<size_t>> projection,
                                                     bool check_crc);

  /// True when FetchLog should carry `projected_fields()` (ARROW table with a projection).
  bool server_side_projection() const { return server_side_projection_; }
  /// Projected column indexes, ascending (what FetchLog sends).
  const std::vector<int32_t>& projected_fields() const { return projected_fields_; }

  const std::vector<std::string>& column_names() const { return names_; }
  const std::vector<DataType>& column_types() const { return types_; }

  /// Appends one ScanBatch per log batch of `records` holding its records whose offset is
  /// >= `start_offset` (any, for kEarliestOffsetValue) to `out`, in offset order, tagged
  /// with `bucket`. Returns the offset after the last complete batch (`start_offset` when
  /// there is none). Nothing is appended when an error is returned.
  /// `owner` keeps `records` alive (the batches may point into them).
  Result<int64_t> Decode(BucketId bucket, std::shared_ptr<const void> owner, ByteView records,
                         int64_t start_offset, const SchemaFetcher& fetch_schema,
                         std::deque<ScanBatch>* out);
  Result<int64_t> Decode(BucketId bucket, std::shared_ptr<const ByteBuffer> records,
                         int64_t start_offset, const SchemaFetcher& fetch_schema,
                         std::deque<ScanBatch>* out) {
    const ByteView view(*records);
    return Decode(bucket, std::move(records), view, start_offset, fetch_schema, out);
  }

 private:
  // How batches of one schema id are decoded: the row type the bytes hold and, for each
  // output column, its index in that row (-1: not present, read as null).
  struct Plan {
    DataType decode_type;
    std::vector<DataType> field_types;
    std::vector<int32_t> output_map;
  };

  ScanDecoder() = default;
  Result<const Plan*> PlanFor(SchemaId schema_id, const SchemaFetcher& fetch_schema);

  Schema schema_;
  SchemaId schema_id_{0};
  std::string table_name_;
  LogFormat format_ = LogFormat::kArrow;
  bool check_crc_ = true;
  bool server_side_projection_ = false;
  std::vector<size_t> projection_;
  std::vector<int32_t> projected_fields_;
  std::vector<std::string> names_;
  std::vector<DataType> types_;
  std::map<int16_t, Plan> plans_;
  record::arrow::ArrowBatchReader arrow_reader_;
  GenericRow scratch_;
};

}  // namespace strom::client
