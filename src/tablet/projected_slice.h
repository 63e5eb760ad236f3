#pragma once

#include <cstddef>
#include <optional>

#include "common/bytes.h"
#include "common/ids.h"
#include "common/result.h"
#include "log/log_types.h"
#include "record/arrow/arrow_projection.h"
#include "rpc/response_body.h"

namespace strom::tablet {

/// Column projection of ARROW batches that stay in their segment file: the projected FetchLog
/// path of a zero-copy send.
///
/// For each batch of a `log::FileSlice` it reads only the batch header, the change-type
/// vector and the Arrow metadata (pread into a reused window, usually one read per batch),
/// plans the projection (`ArrowProjection::PlanLogBatch`) and appends the projected batch to
/// a response body as pieces: the new head (header with the new Length, change types, new
/// metadata) as bytes, and each kept run of column buffers as a file region of the segment,
/// which the rpc writer sends with sendfile. Buffers that lie inside the window already read
/// are copied from it instead (small batches, short columns), so a batch costs at most one
/// file region per kept run. The bytes sent are exactly those `ProjectLogRecords` writes for
/// the same stored bytes.
///
/// Lifecycle: one per projected bucket read (cheap), used by the reactor only. Borrows the
/// projection, which must outlive it. Not thread-safe.
class SliceProjector {
 public:
  explicit SliceProjector(record::arrow::ArrowProjection* projection) : projection_(projection) {}

  /// What one Project() call walked.
  struct Outcome {
    /// Stored bytes of the batches projected (from the slice start).
    size_t consumed = 0;
    /// The offset after the last batch projected; nullopt when none was.
    std::optional<LogOffset> next_offset;
    /// True when it stopped before a complete batch whose projection did not fit `room`
    /// (rather than at the end of the slice or at an incomplete trailing batch).
    bool full = false;
  };

  /// Appends the projections of the complete batches of `slice`, in order, to `out`, while
  /// the bytes appended by this call stay within `room`. kCorruptRecord / kCorruptMessage for
  /// a malformed batch, kStorage when the file cannot be read; `out` may then hold part of
  /// the answer and must be dropped.
  Result<Outcome> Project(const log::FileSlice& slice, size_t room, rpc::ResponseBody* out);

  /// Bytes read per batch before the plan asks for more: a 20-column header, change types of
  /// append-only batches (none) and metadata fit easily.
  static constexpr size_t kWindow = 8 * 1024;

 private:
  record::arrow::ArrowProjection* projection_;
  ByteBuffer window_;
  ByteBuffer pending_;  // bytes not yet appended to the body (heads, copied buffers)
  record::arrow::ProjectedLogBatch plan_;
};

}  // namespace strom::tablet
