#include "tablet/projected_slice.h"

#include <algorithm>
#include <utility>

#include "log/fs/file_system.h"
#include "record/log_record_batch.h"

namespace strom::tablet {

namespace {

// Reads the stored bytes of a slice through a window kept across batches, so that small
// batches that share one window cost one read.
class WindowReader {
 public:
  WindowReader(const log::FileSlice& slice, ByteBuffer* window)
      : slice_(slice), window_(window) {}

  // Makes [pos, pos + n) of the slice readable at the returned pointer; `pos + n` must be
  // within the slice. Reads at least kWindow bytes (or up to the slice end) when it reads.
  Result<const char*> Ensure(size_t pos, size_t n) {
    if (pos < start_ || pos + n > start_ + window_->size()) {
      const size_t want = std::min(slice_.size - pos, std::max(n, SliceProjector::kWindow));
      window_->resize(want);
      STROM_RETURN_IF_ERROR(slice_.file->ReadFully(slice_.position + pos, want, window_->data()));
      start_ = pos;
    }
    return window_->data() + (pos - start_);
  }

  // Bytes readable from `pos` without another read.
  size_t Available(size_t pos) const {
    return pos >= start_ && pos <= start_ + window_->size() ? start_ + window_->size() - pos : 0;
  }

 private:
  const log::FileSlice& slice_;
  ByteBuffer* window_;
  size_t start_ = 0;
};

}  // namespace

Result<SliceProjector::Outcome> SliceProjector::Project(const log::FileSlice& slice, size_t room,
                                                        rpc::ResponseBody* out) {
  Outcome outcome;
  window_.clear();
  pending_.clear();
  WindowReader reader(slice, &window_);
  auto flush = [&] {
    if (pending_.empty()) return;
    out->Append(std::move(pending_));
    pending_ = ByteBuffer();
  };
  size_t produced = 0;
  size_t pos = 0;
  while (true) {
    const size_t remaining = slice.size - pos;
    if (remaining < record::kLogOverhead) break;  // the end, or a cut batch
    STROM_ASSIGN_OR_RETURN(const char* head, reader.Ensure(pos, record::kLogOverhead));
    const int32_t length = LoadI32LE(head + record::kLogLengthOffset);
    if (length < 0 ||
        static_cast<size_t>(length) + record::kLogOverhead < record::kLogHeaderSizeV0) {
      return MakeError(ErrorCode::kCorruptRecord, "log batch at byte {} has invalid length {}",
                       pos, length);
    }
    const size_t size = static_cast<size_t>(length) + record::kLogOverhead;
    if (remaining < size) break;  // an incomplete trailing batch
    size_t have = std::min(size, std::max(reader.Available(pos), record::kLogOverhead));
    while (true) {
      STROM_ASSIGN_OR_RETURN(head, reader.Ensure(pos, have));
      STROM_ASSIGN_OR_RETURN(size_t needed,
                             projection_->PlanLogBatch(ByteView(head, have), size, &plan_));
      if (needed == 0) break;
      if (needed <= have || needed > size) {
        return MakeError(ErrorCode::kUnknownServerError,
                         "projection of the batch at byte {} asked for {} of its {} bytes with "
                         "{} read",
                         pos, needed, size, have);
      }
      have = needed;
    }
    if (produced + plan_.output_size > room) {
      outcome.full = true;
      break;
    }
    const size_t readable = reader.Available(pos);
    pending_.append(plan_.head);
    for (const auto& [offset, run] : plan_.body_ranges) {
      if (offset + run <= readable) {
        pending_.append(head + offset, run);
        continue;
      }
      flush();
      out->Append(rpc::FileRegion{slice.file, slice.file->fd(), slice.position + pos + offset, run});
    }
    produced += plan_.output_size;
    pos += size;
    outcome.consumed = pos;
    outcome.next_offset = plan_.next_offset;
  }
  flush();
  return outcome;
}

}  // namespace strom::tablet
