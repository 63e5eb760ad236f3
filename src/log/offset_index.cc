#include "log/offset_index.h"

namespace strom::log {

Result<std::unique_ptr<OffsetIndex>> OffsetIndex::Open(FileSystem* fs, std::string path,
                                                       LogOffset base_offset,
                                                       int64_t max_index_size) {
  std::unique_ptr<OffsetIndex> index(
      new OffsetIndex(fs, std::move(path), base_offset, max_index_size));
  STROM_RETURN_IF_ERROR(index->file_.Open());
  return index;
}

OffsetPosition OffsetIndex::Entry(size_t n) const {
  const char* p = file_.entry(n);
  return OffsetPosition{base_offset() + detail::LoadI32BE(p), detail::LoadI32BE(p + 4)};
}

OffsetPosition OffsetIndex::Lookup(LogOffset target) const {
  // Binary search for the last entry whose offset is <= target.
  size_t lo = 0;
  size_t hi = entries();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (Entry(mid).offset <= target) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return OffsetPosition{base_offset(), 0};
  return Entry(lo - 1);
}

LogOffset OffsetIndex::last_offset() const {
  return entries() == 0 ? base_offset() : Entry(entries() - 1).offset;
}

Status OffsetIndex::Append(LogOffset offset, int32_t position) {
  std::optional<int32_t> relative = file_.ToRelative(offset);
  if (!relative) {
    return MakeError(ErrorCode::kLogStorage, "offset {} does not fit index {} (base {})", offset,
                     path(), base_offset());
  }
  if (entries() > 0 && offset <= last_offset()) {
    return MakeError(ErrorCode::kLogStorage,
                     "offset {} appended to index {} is not larger than the last one {}", offset,
                     path(), last_offset());
  }
  char entry[kEntrySize];
  detail::StoreI32BE(entry, *relative);
  detail::StoreI32BE(entry + 4, position);
  return file_.AppendEntry(ByteView(entry, kEntrySize));
}

void OffsetIndex::TruncateTo(LogOffset offset) {
  // Keep the entries whose offset is < `offset`: the first entry >= offset and all after go.
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

Status OffsetIndex::SanityCheck(int64_t log_size) const {
  if (file_.length() % static_cast<int64_t>(kEntrySize) != 0) {
    return Corruption("offset index {} has length {}, not a multiple of {}", path(), file_.length(),
                      kEntrySize);
  }
  OffsetPosition previous{base_offset(), 0};
  for (size_t i = 0; i < entries(); ++i) {
    OffsetPosition e = Entry(i);
    bool increasing = i == 0 ? e.offset >= base_offset() : e.offset > previous.offset;
    if (!increasing || e.position < previous.position || e.position < 0 || e.position >= log_size) {
      return Corruption(
          "offset index {} entry {} ({} -> {}) is out of order or past the log end {}", path(), i,
          e.offset, e.position, log_size);
    }
    previous = e;
  }
  return Status::OK();
}

}  // namespace strom::log
