#include "kv/pre_write_buffer.h"

#include <algorithm>

#include "common/check.h"

namespace strom::kv {

void KvPreWriteBuffer::Put(Op op, ByteView key, std::optional<ByteBuffer> value, LogOffset lsn) {
  STROM_CHECK(entries_.empty() || entries_.back().lsn < lsn,
              "pre-write buffer LSNs must increase: {} after {}", lsn.value(),
              entries_.back().lsn.value());
  bytes_ += key.size() + (value ? value->size() : 0);
  entries_.push_back(Entry{op, std::string(key), std::move(value), lsn});
  Entry* entry = &entries_.back();
  auto [it, inserted] = latest_.try_emplace(entry->key, entry);
  if (!inserted) {
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
  // Only the newest flushed change of each key reaches RocksDB (the batch is atomic, so the
  // older ones would be overwritten within it anyway), and in key order: the memtable's skip
  // list then finds each insert position next to the previous one instead of searching from
  // its top level. Random key order made this insert most of a PutKv's cost.
  flush_order_.clear();
  int64_t row_count_diff = 0;
  for (size_t i = 0; i < n; ++i) {
    const Entry& entry = entries_[i];
    if (entry.next == nullptr || entry.next->lsn >= up_to) flush_order_.push_back(&entry);
    if (entry.op == Op::kInsert) {
      ++row_count_diff;
    } else if (entry.op == Op::kDelete) {
      --row_count_diff;
    }
  }
  std::sort(flush_order_.begin(), flush_order_.end(),
            [](const Entry* a, const Entry* b) { return a->key < b->key; });
  flush_batch_.Clear();
  for (const Entry* entry : flush_order_) {
    if (entry->value) {
      flush_batch_.Put(entry->key, *entry->value);
    } else {
      flush_batch_.Delete(entry->key);
    }
  }
  Status written = store->Write(&flush_batch_);
  flush_batch_.Clear();
  STROM_RETURN_IF_ERROR(written);
  if (n == entries_.size()) {
    // Everything was flushed (the usual case: the high watermark caught up with the log end).
    latest_.clear();
    entries_.clear();
    bytes_ = 0;
    return row_count_diff;
  }
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
