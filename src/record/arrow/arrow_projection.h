#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "record/arrow/compression.h"
#include "record/data_type.h"

namespace flatbuffers {
class FlatBufferBuilder;
}

namespace strom::record::arrow {

/// A projected IPC message described without copying its body: a new prefix + metadata,
/// followed by ranges of the input message copied byte for byte.
struct ProjectedMessage {
  /// FF FF FF FF, the padded metadata length and the new metadata.
  ByteBuffer header;
  /// (offset, length) ranges of the input message, in output order.
  std::vector<std::pair<size_t, size_t>> body_ranges;
  /// Bytes the input message occupied.
  size_t input_size = 0;
  /// Bytes of the projected message: header.size() plus the range lengths.
  size_t output_size = 0;
};

/// A projected ARROW log batch described without its body (ArrowProjection::PlanLogBatch):
/// the new bytes that open it and where the kept body buffers are in the input batch.
struct ProjectedLogBatch {
  /// The input header with only Length changed, the change-type vector (when the batch has
  /// one) and the framed new metadata; the whole batch when it is empty (header only).
  ByteBuffer head;
  /// (offset, length) ranges of the input batch, in output order, adjacent ones merged.
  std::vector<std::pair<size_t, size_t>> body_ranges;
  /// Bytes the input batch occupies.
  size_t input_size = 0;
  /// Bytes of the projected batch: head.size() plus the range lengths.
  size_t output_size = 0;
  /// The offset after the batch.
  LogOffset next_offset{0};
};

/// Server-side column projection of ARROW log data (Fluss `FileLogProjection`): rewrites IPC
/// RecordBatch messages to a subset of top-level columns without decoding or decompressing
/// any value.
///
/// The new metadata keeps the field nodes and buffers of the selected columns (children
/// included) and recomputes buffer offsets from the original padded sizes (next buffer
/// offset minus this one, the last one up to bodyLength), so alignment is preserved; the
/// selected body ranges are copied as they are, still compressed. Following Fluss, the
/// BodyCompression of the output comes from the table's configured codec, not from the input
/// message, so writers must compress with the table's codec.
///
/// Created once per (row type, selection, codec); holds scratch reused across calls, so it
/// is not thread-safe. Inputs are untrusted: bad bytes give kCorruptMessage (Arrow) or
/// kCorruptRecord (log batch framing) and are never read out of bounds.
class ArrowProjection {
 public:
  /// `selected` must be strictly increasing column indexes of `row_type`; otherwise
  /// kInvalidColumnProjection (as Fluss's InvalidColumnProjectionException).
  static Result<ArrowProjection> Create(const DataType& row_type,
                                        std::span<const int32_t> selected,
                                        ArrowCompression table_compression);

  ArrowProjection(ArrowProjection&&) noexcept;
  ArrowProjection& operator=(ArrowProjection&&) noexcept;
  ~ArrowProjection();

  const std::vector<int32_t>& selected() const { return selected_; }
  /// The ROW type of the projected columns.
  const DataType& projected_row_type() const { return projected_row_type_; }

  /// Plans the projection of the message at the start of `message` (either prefix form;
  /// later bytes are ignored). The output always uses the 8-byte prefix form.
  Status Plan(ByteView message, ProjectedMessage* out);

  /// Appends the projected message to `out`.
  Status ProjectMessage(ByteView message, ByteBuffer* out);

  /// Projects one ARROW log batch (the whole batch at the start of `batch`): the header is
  /// copied with only Length changed (the CRC is left stale, as Fluss does, and clients skip
  /// the CRC check of projected fetches), the change-type vector is copied, then the
  /// projected message. A header-only (empty) batch is copied unchanged.
  Status ProjectLogBatch(ByteView batch, ByteBuffer* out);

  /// Plans the projection of the ARROW log batch that starts `head`, from its first bytes only:
  /// `available` bytes follow the batch start (the batch must fit in them, as for
  /// ProjectLogBatch), of which `head` holds the first ones. Returns 0 when `out` holds the
  /// plan, or, when `head` is too short for the header, change types and metadata, how many
  /// leading bytes it needs (more than head.size(), at most the batch size): call again with
  /// those. Writing `out->head` followed by the body ranges of the batch gives exactly the
  /// bytes ProjectLogBatch appends, so a sender can leave the kept buffers where they are
  /// stored. Errors as ProjectLogBatch.
  Result<size_t> PlanLogBatch(ByteView head, size_t available, ProjectedLogBatch* out);

  /// Projects every complete batch of a records blob (a segment slice) into `out`, stopping
  /// at an incomplete trailing batch, or before the first batch whose projected form would
  /// bring the output past `max_bytes` (so `out` may stay empty). Returns the input bytes
  /// consumed. On error `out` is left as it was.
  Result<size_t> ProjectLogRecords(ByteView records, size_t max_bytes, ByteBuffer* out);

 private:
  ArrowProjection() = default;
  // Plan() of a message of `size` bytes of which `head` holds at least the prefix and metadata.
  Status PlanHead(ByteView head, size_t size, ProjectedMessage* out);

  DataType projected_row_type_;
  std::vector<int32_t> selected_;
  CompressionCodec codec_ = CompressionCodec::kNone;
  // Per selected column: [first node, end node) and [first buffer, end buffer).
  std::vector<std::pair<int, int>> node_ranges_;
  std::vector<std::pair<int, int>> buffer_ranges_;
  int total_nodes_ = 0;
  int total_buffers_ = 0;

  std::vector<uint64_t> scratch_;
  ProjectedMessage plan_;
  ProjectedLogBatch batch_plan_;
  std::unique_ptr<flatbuffers::FlatBufferBuilder> fbb_;
};

}  // namespace strom::record::arrow
