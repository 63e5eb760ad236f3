#include "log/time_index.h"

namespace strom::log {

Result<std::unique_ptr<TimeIndex>> TimeIndex::Open(FileSystem* fs, std::string path,
                                                   LogOffset base_offset, int64_t max_index_size) {
  std::unique_ptr<TimeIndex> index(new TimeIndex(fs, std::move(path), base_offset, max_index_size));
  STROM_RETURN_IF_ERROR(index->file_.Open());
  return index;
}

TimestampOffset TimeIndex::Entry(size_t n) const {
  const char* p = file_.entry(n);
  return TimestampOffset{TimestampMs(detail::LoadI64BE(p)),
                         base_offset() + detail::LoadI32BE(p + 8)};
}

TimestampOffset TimeIndex::last_entry() const {
  if (entries() == 0) return TimestampOffset{TimestampMs(-1), base_offset()};
  return Entry(entries() - 1);
}

TimestampOffset TimeIndex::Lookup(TimestampMs target) const {
  size_t lo = 0;
  size_t hi = entries();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (Entry(mid).timestamp <= target) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return TimestampOffset{TimestampMs(-1), base_offset()};
  return Entry(lo - 1);
}

Status TimeIndex::MaybeAppend(TimestampMs timestamp, LogOffset offset, bool skip_full_check) {
  if (!skip_full_check && IsFull()) {
    return MakeError(ErrorCode::kLogStorage, "time index {} is full ({} entries)", path(),
                     entries());
  }
  TimestampOffset last = last_entry();
  if (entries() > 0 && offset < last.offset) {
    return MakeError(ErrorCode::kLogStorage,
                     "offset {} appended to time index {} is smaller than the last one {}", offset,
                     path(), last.offset);
  }
  if (entries() > 0 && timestamp < last.timestamp) {
    return MakeError(ErrorCode::kLogStorage,
                     "timestamp {} appended to time index {} is smaller than the last one {}",
                     timestamp, path(), last.timestamp);
  }
  if (timestamp <= last.timestamp) return Status::OK();
  std::optional<int32_t> relative = file_.ToRelative(offset);
  if (!relative) {
    return MakeError(ErrorCode::kLogStorage, "offset {} does not fit time index {} (base {})",
                     offset, path(), base_offset());
  }
  char entry[kEntrySize];
  detail::StoreI64BE(entry, timestamp.value());
  detail::StoreI32BE(entry + 8, *relative);
  return file_.AppendEntry(ByteView(entry, kEntrySize));
}

void TimeIndex::TruncateTo(LogOffset offset) {
  size_t lo = 0;
  size_t hi = entries();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (Entry(mid).offset < offset) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  file_.TruncateToEntries(lo);
}

Status TimeIndex::SanityCheck() const {
  if (file_.length() % static_cast<int64_t>(kEntrySize) != 0) {
    return Corruption("time index {} has length {}, not a multiple of {}", path(), file_.length(),
                      kEntrySize);
  }
  for (size_t i = 0; i < entries(); ++i) {
    TimestampOffset e = Entry(i);
    bool ok = e.offset >= base_offset();
    if (i > 0) {
      TimestampOffset prev = Entry(i - 1);
      ok = ok && e.timestamp > prev.timestamp && e.offset >= prev.offset;
    }
    if (!ok) {
      return Corruption("time index {} entry {} ({} -> {}) is out of order", path(), i, e.timestamp,
                        e.offset);
    }
  }
  return Status::OK();
}

}  // namespace strom::log
