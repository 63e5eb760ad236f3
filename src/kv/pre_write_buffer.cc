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
  STROM_CHECK(!flush_out_ || lsn >= flush_up_to_,
              "truncating the pre-write buffer to {} under a flush up to {}", lsn.value(),
              flush_up_to_.value());
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
  FlushSet set = CollectFlush(up_to);
  if (set.entry_count == 0) {
    AbandonFlush();
    return int64_t{0};
  }
  RocksDbWriteBatch batch;
  Status written = WriteFlush(&set, store, &batch);
  if (!written.ok()) {
    AbandonFlush();
    return written;
  }
  ForgetFlushed(set);
  return set.row_count_diff;
}

KvPreWriteBuffer::FlushSet KvPreWriteBuffer::CollectFlush(LogOffset up_to) {
  STROM_CHECK(!flush_out_, "one pre-write buffer flush at a time");
  FlushSet set;
  set.up_to = up_to;
  size_t n = 0;
  while (n < entries_.size() && entries_[n].lsn < up_to) ++n;
  set.entry_count = n;
  // Only the newest flushed change of each key reaches RocksDB: the batch is atomic, so the
  // older ones would be overwritten within it anyway.
  for (size_t i = 0; i < n; ++i) {
    const Entry& entry = entries_[i];
    if (entry.next == nullptr || entry.next->lsn >= up_to) set.newest.push_back(&entry);
    if (entry.op == Op::kInsert) {
      ++set.row_count_diff;
    } else if (entry.op == Op::kDelete) {
      --set.row_count_diff;
    }
  }
  flush_out_ = true;
  flush_up_to_ = up_to;
  return set;
}

Status KvPreWriteBuffer::WriteFlush(FlushSet* set, RocksDbStore* store, RocksDbWriteBatch* batch) {
  // In key order: the memtable's skip list then finds each insert position next to the
  // previous one instead of searching from its top level. Random key order made this insert
  // most of a PutKv's cost.
  std::sort(set->newest.begin(), set->newest.end(),
            [](const Entry* a, const Entry* b) { return a->key < b->key; });
  batch->Clear();
  for (const Entry* entry : set->newest) {
    if (entry->value) {
      batch->Put(entry->key, *entry->value);
    } else {
      batch->Delete(entry->key);
    }
  }
  Status written = store->Write(batch);
  batch->Clear();
  return written;
}

void KvPreWriteBuffer::ForgetFlushed(const FlushSet& set) {
  STROM_CHECK(flush_out_, "ForgetFlushed without a flush set out");
  flush_out_ = false;
  const size_t n = set.entry_count;
  if (n == entries_.size()) {
    // Everything was flushed (the usual case: the high watermark caught up with the log end).
    latest_.clear();
    entries_.clear();
    bytes_ = 0;
    return;
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
}

void KvPreWriteBuffer::ForEachLatest(const std::function<void(const Entry&)>& visit) const {
  for (const auto& [key, entry] : latest_) visit(*entry);
}

}  // namespace strom::kv
