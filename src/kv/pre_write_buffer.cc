#include "kv/pre_write_buffer.h"

#include "common/check.h"

namespace strom::kv {

void KvPreWriteBuffer::Put(Op op, ByteView key, std::optional<ByteBuffer> value, LogOffset lsn) {
  STROM_CHECK(entries_.empty() || entries_.back().lsn < lsn,
              "pre-write buffer LSNs must increase: {} after {}", lsn.value(),
              entries_.back().lsn.value());
  bytes_ += key.size() + (value ? value->size() : 0);
  entries_.push_back(Entry{op, std::string(key), std::move(value), lsn});
  Entry* entry = &entries_.back();
  auto it = latest_.find(key);
  if (it == latest_.end()) {
    latest_.emplace(entry->key, entry);
  } else {
    entry->previous = it->second;
    it->second->next = entry;
    it->second = entry;
  }
}

const KvPreWriteBuffer::Entry* KvPreWriteBuffer::Get(ByteView key) const {
  auto it = latest_.find(key);
  return it == latest_.end() ? nullptr : it->second;
}

void KvPreWriteBuffer::TruncateTo(LogOffset lsn) {
  while (!entries_.empty() && entries_.back().lsn >= lsn) {
    Entry& entry = entries_.back();
    auto it = latest_.find(entry.key);
    STROM_CHECK(it != latest_.end() && it->second == &entry,
                "the newest change of a key must be the last one buffered for it");
    if (entry.previous != nullptr) {
      entry.previous->next = nullptr;
      it->second = entry.previous;
    } else {
      latest_.erase(it);
    }
    bytes_ -= entry.key.size() + (entry.value ? entry.value->size() : 0);
    entries_.pop_back();
  }
}

Result<int64_t> KvPreWriteBuffer::FlushUpTo(LogOffset up_to, RocksDbStore* store) {
  size_t n = 0;
  while (n < entries_.size() && entries_[n].lsn < up_to) ++n;
  if (n == 0) return int64_t{0};
  RocksDbWriteBatch batch;
  int64_t row_count_diff = 0;
  for (size_t i = 0; i < n; ++i) {
    const Entry& entry = entries_[i];
    if (entry.value) {
      batch.Put(entry.key, *entry.value);
    } else {
      batch.Delete(entry.key);
    }
    if (entry.op == Op::kInsert) {
      ++row_count_diff;
    } else if (entry.op == Op::kDelete) {
      --row_count_diff;
    }
  }
  STROM_RETURN_IF_ERROR(store->Write(&batch));
  for (size_t i = 0; i < n; ++i) {
    Entry& entry = entries_.front();
    if (entry.next != nullptr) {
      // The later change stays; truncating it must now fall back to RocksDB, which holds
      // this one.
      entry.next->previous = nullptr;
    } else {
      auto it = latest_.find(entry.key);
      if (it != latest_.end() && it->second == &entry) latest_.erase(it);
    }
    bytes_ -= entry.key.size() + (entry.value ? entry.value->size() : 0);
    entries_.pop_front();
  }
  return row_count_diff;
}

void KvPreWriteBuffer::ForEachLatest(const std::function<void(const Entry&)>& visit) const {
  for (const auto& [key, entry] : latest_) visit(*entry);
}

}  // namespace strom::kv
