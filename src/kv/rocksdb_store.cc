#include "kv/rocksdb_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <set>
#include <cctype>
#include <string_view>

#include "common/config/options.h"

namespace strom::kv {

namespace {

rocksdb::Slice ToSlice(ByteView v) { return rocksdb::Slice(v.data(), v.size()); }
ByteView ToView(const rocksdb::Slice& s) { return ByteView(s.data(), s.size()); }

Status StorageError(std::string_view what, const rocksdb::Status& status) {
  return MakeError(ErrorCode::kKvStorage, "RocksDB {} failed: {}", what, status.ToString());
}

rocksdb::CompressionType ToRocksDb(KvCompression c) {
  switch (c) {
    case KvCompression::kNone:
      return rocksdb::kNoCompression;
    case KvCompression::kSnappy:
      return rocksdb::kSnappyCompression;
    case KvCompression::kLz4:
      return rocksdb::kLZ4Compression;
    case KvCompression::kZstd:
      return rocksdb::kZSTD;
  }
  return rocksdb::kNoCompression;
}

// The largest prefix-successor of `prefix`: the smallest key greater than every key that
// starts with it, or empty when there is none (all 0xff bytes).
std::string PrefixUpperBound(ByteView prefix) {
  std::string bound(prefix);
  while (!bound.empty()) {
    auto last = static_cast<unsigned char>(bound.back());
    if (last != 0xff) {
      bound.back() = static_cast<char>(last + 1);
      return bound;
    }
    bound.pop_back();
  }
  return bound;
}

}  // namespace

Result<KvCompression> ParseKvCompression(std::string_view name) {
  std::string upper;
  for (char c : name) {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
  }
  if (upper == "NO" || upper == "NONE") return KvCompression::kNone;
  if (upper == "SNAPPY") return KvCompression::kSnappy;
  if (upper == "LZ4") return KvCompression::kLz4;
  if (upper == "ZSTD") return KvCompression::kZstd;
  return MakeError(ErrorCode::kInvalidConfig, "unknown KV compression type '{}'", name);
}

Result<RocksDbOptions> RocksDbOptions::FromConfiguration(const config::Configuration& conf) {
  RocksDbOptions o;
  o.write_buffer_size = conf.Get(config::kKvRocksdbWriteBufferSize);
  o.write_buffer_count = conf.Get(config::kKvRocksdbWriteBufferCount);
  o.block_cache_size = conf.Get(config::kKvRocksdbBlockCacheSize);
  o.block_size = conf.Get(config::kKvRocksdbBlockBlocksize);
  o.use_bloom_filter = conf.Get(config::kKvRocksdbUseBloomFilter);
  o.bloom_bits_per_key = conf.Get(config::kKvRocksdbBloomFilterBitsPerKey);
  o.max_open_files = conf.Get(config::kKvRocksdbFilesOpen);
  o.background_threads = conf.Get(config::kKvRocksdbThreadNum);
  o.compression_per_level.clear();
  std::string list = conf.Get(config::kKvRocksdbCompressionPerLevel);
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string_view item(list.data() + start, comma - start);
    if (!item.empty()) {
      STROM_ASSIGN_OR_RETURN(KvCompression c, ParseKvCompression(item));
      o.compression_per_level.push_back(c);
    }
    start = comma + 1;
  }
  if (o.write_buffer_size <= 0 || o.block_cache_size < 0 || o.block_size <= 0 ||
      o.write_buffer_count < 1 || o.background_threads < 1 || o.bloom_bits_per_key <= 0) {
    return MakeError(ErrorCode::kInvalidConfig, "kv.rocksdb.* option out of range");
  }
  return o;
}

// ---- RocksDbWriteBatch ----

struct RocksDbWriteBatch::Impl {
  rocksdb::WriteBatch batch;
};

RocksDbWriteBatch::RocksDbWriteBatch() : impl_(std::make_unique<Impl>()) {}
RocksDbWriteBatch::~RocksDbWriteBatch() = default;

void RocksDbWriteBatch::Put(ByteView key, ByteView value) {
  // Only fails when the batch outgrows its max_bytes, which is unlimited here.
  impl_->batch.Put(ToSlice(key), ToSlice(value)).PermitUncheckedError();
}

void RocksDbWriteBatch::Delete(ByteView key) {
  impl_->batch.Delete(ToSlice(key)).PermitUncheckedError();
}

int32_t RocksDbWriteBatch::count() const { return static_cast<int32_t>(impl_->batch.Count()); }
size_t RocksDbWriteBatch::size_in_bytes() const { return impl_->batch.GetDataSize(); }
void RocksDbWriteBatch::Clear() { impl_->batch.Clear(); }

// ---- RocksDbStore ----

struct RocksDbStore::Impl {
  std::string dir;
  std::unique_ptr<rocksdb::DB> db;
  std::shared_ptr<rocksdb::Cache> cache;
  rocksdb::WriteOptions write_options;
  rocksdb::ReadOptions read_options;
  // Snapshot cursors still attached; Close() detaches them before the DB goes away.
  std::set<RocksDbSnapshotCursor::Impl*> cursors;
};

struct RocksDbSnapshotCursor::Impl {
  RocksDbStore::Impl* store = nullptr;
  const rocksdb::Snapshot* snapshot = nullptr;
  std::unique_ptr<rocksdb::Iterator> iterator;
  Status detached;

  // Gives the iterator and the snapshot back to the store and forgets it.
  void Detach(Status why) {
    if (store == nullptr) return;
    iterator.reset();
    if (snapshot != nullptr) store->db->ReleaseSnapshot(snapshot);
    snapshot = nullptr;
    store->cursors.erase(this);
    store = nullptr;
    detached = std::move(why);
  }
};

RocksDbSnapshotCursor::RocksDbSnapshotCursor(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

RocksDbSnapshotCursor::~RocksDbSnapshotCursor() { impl_->Detach(Status::OK()); }

bool RocksDbSnapshotCursor::Valid() const {
  return impl_->iterator != nullptr && impl_->iterator->Valid();
}

ByteView RocksDbSnapshotCursor::key() const { return ToView(impl_->iterator->key()); }

ByteView RocksDbSnapshotCursor::value() const { return ToView(impl_->iterator->value()); }

void RocksDbSnapshotCursor::Next() {
  if (Valid()) impl_->iterator->Next();
}

Status RocksDbSnapshotCursor::status() const {
  if (!impl_->detached.ok()) return impl_->detached;
  if (impl_->iterator == nullptr) {
    return Status(ErrorCode::kKvStorage, "the snapshot cursor is no longer attached");
  }
  if (!impl_->iterator->status().ok()) return StorageError("scan", impl_->iterator->status());
  return Status::OK();
}

RocksDbStore::RocksDbStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RocksDbStore::~RocksDbStore() { Close().IgnoreError(); }

Result<std::unique_ptr<RocksDbStore>> RocksDbStore::Open(const std::string& dir,
                                                         const RocksDbOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;

  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.write_buffer_size = static_cast<size_t>(options.write_buffer_size);
  db_options.max_write_buffer_number = options.write_buffer_count;
  db_options.max_open_files = options.max_open_files;
  db_options.max_background_jobs = options.background_threads;
  db_options.IncreaseParallelism(options.background_threads);
  // Keep RocksDB's info log small: one file, rolled at 4 MiB.
  db_options.max_log_file_size = 4 * 1024 * 1024;
  db_options.keep_log_file_num = 1;
  for (KvCompression c : options.compression_per_level) {
    db_options.compression_per_level.push_back(ToRocksDb(c));
  }
  if (!options.compression_per_level.empty()) {
    db_options.compression = ToRocksDb(options.compression_per_level.front());
  }

  rocksdb::BlockBasedTableOptions table_options;
  impl->cache = rocksdb::NewLRUCache(static_cast<size_t>(options.block_cache_size));
  table_options.block_cache = impl->cache;
  table_options.block_size = static_cast<size_t>(options.block_size);
  if (options.use_bloom_filter) {
    table_options.filter_policy.reset(
        rocksdb::NewBloomFilterPolicy(options.bloom_bits_per_key,
                                      /*use_block_based_builder=*/false));
    // Every upsert first reads its key's current value, and most keys of a fresh write are
    // new: a whole-key bloom filter on the memtable answers those misses without walking
    // the skip list.
    db_options.memtable_whole_key_filtering = true;
    db_options.memtable_prefix_bloom_size_ratio = 0.05;
  }
  db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));
  // A PutKv's changes reach the memtable as one write batch in key order (KvPreWriteBuffer::
  // FlushUpTo). With an insert hint (one for all keys: the empty prefix) the skip list starts
  // each insert from where the previous one went in and climbs only as far as the gap between
  // them needs; without it, any key past the previous insert's neighbour is searched from the
  // top. One writer thread per instance, so concurrent memtable writes (which ignore hints)
  // are off.
  db_options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(0));
  db_options.allow_concurrent_memtable_write = false;

  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, &db);
  if (!s.ok()) return StorageError("open of " + dir, s);
  impl->db.reset(db);
  // The changelog is the write-ahead log (Fluss's RocksDBWriteBatchWrapper does the same).
  impl->write_options.disableWAL = true;
  impl->write_options.sync = false;
  return std::unique_ptr<RocksDbStore>(new RocksDbStore(std::move(impl)));
}

const std::string& RocksDbStore::dir() const { return impl_->dir; }

Status RocksDbStore::CheckOpen() const {
  if (impl_->db == nullptr) {
    return MakeError(ErrorCode::kKvStorage, "RocksDB instance at {} is closed", impl_->dir);
  }
  return Status::OK();
}

Result<std::optional<ByteBuffer>> RocksDbStore::Get(ByteView key) {
  STROM_RETURN_IF_ERROR(CheckOpen());
  std::string value;
  rocksdb::Status s = impl_->db->Get(impl_->read_options, ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<ByteBuffer>();
  if (!s.ok()) return StorageError("get", s);
  return std::optional<ByteBuffer>(std::move(value));
}

Result<std::vector<std::optional<ByteBuffer>>> RocksDbStore::MultiGet(
    std::span<const ByteView> keys) {
  STROM_RETURN_IF_ERROR(CheckOpen());
  std::vector<std::optional<ByteBuffer>> out(keys.size());
  if (keys.empty()) return out;
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (ByteView k : keys) slices.push_back(ToSlice(k));
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  impl_->db->MultiGet(impl_->read_options, impl_->db->DefaultColumnFamily(), keys.size(),
                      slices.data(), values.data(), statuses.data());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return StorageError("multi-get", statuses[i]);
    out[i].emplace(values[i].data(), values[i].size());
  }
  return out;
}

Status RocksDbStore::ScanPrefix(ByteView prefix, const Visitor& visit) {
  STROM_RETURN_IF_ERROR(CheckOpen());
  rocksdb::ReadOptions options = impl_->read_options;
  std::string upper = PrefixUpperBound(prefix);
  rocksdb::Slice upper_slice(upper);
  if (!upper.empty()) options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(options));
  for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
    ByteView key = ToView(it->key());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!visit(key, ToView(it->value()))) break;
  }
  if (!it->status().ok()) return StorageError("iteration", it->status());
  return Status::OK();
}

Status RocksDbStore::Write(RocksDbWriteBatch* batch) {
  STROM_RETURN_IF_ERROR(CheckOpen());
  if (batch->empty()) return Status::OK();
  rocksdb::Status s = impl_->db->Write(impl_->write_options, &batch->impl_->batch);
  batch->Clear();
  if (!s.ok()) return StorageError("write", s);
  return Status::OK();
}

Status RocksDbStore::Flush() {
  STROM_RETURN_IF_ERROR(CheckOpen());
  rocksdb::FlushOptions options;
  options.wait = true;
  rocksdb::Status s = impl_->db->Flush(options);
  if (!s.ok()) return StorageError("flush", s);
  return Status::OK();
}

Status RocksDbStore::CreateCheckpoint(const std::string& checkpoint_dir) {
  STROM_RETURN_IF_ERROR(CheckOpen());
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(impl_->db.get(), &raw);
  if (!s.ok()) return StorageError("checkpoint setup", s);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush = 0: always flush the memtables first, so the copy holds every write
  // made so far (there is no WAL to copy instead).
  s = checkpoint->CreateCheckpoint(checkpoint_dir, /*log_size_for_flush=*/0);
  if (!s.ok()) return StorageError("checkpoint into " + checkpoint_dir, s);
  return Status::OK();
}

Result<std::unique_ptr<RocksDbSnapshotCursor>> RocksDbStore::NewSnapshotCursor() {
  STROM_RETURN_IF_ERROR(CheckOpen());
  auto cursor = std::make_unique<RocksDbSnapshotCursor::Impl>();
  cursor->store = impl_.get();
  cursor->snapshot = impl_->db->GetSnapshot();
  rocksdb::ReadOptions options = impl_->read_options;
  options.snapshot = cursor->snapshot;
  cursor->iterator.reset(impl_->db->NewIterator(options));
  cursor->iterator->SeekToFirst();
  impl_->cursors.insert(cursor.get());
  return std::unique_ptr<RocksDbSnapshotCursor>(new RocksDbSnapshotCursor(std::move(cursor)));
}

int64_t RocksDbStore::EstimateNumKeys() {
  if (impl_->db == nullptr) return 0;
  uint64_t n = 0;
  impl_->db->GetIntProperty(rocksdb::DB::Properties::kEstimateNumKeys, &n);
  return static_cast<int64_t>(n);
}

Status RocksDbStore::Close() {
  if (impl_ == nullptr || impl_->db == nullptr) return Status::OK();
  while (!impl_->cursors.empty()) {
    (*impl_->cursors.begin())
        ->Detach(Status(ErrorCode::kKvStorage, "the KV store was closed during the scan"));
  }
  rocksdb::Status s = impl_->db->Close();
  impl_->db.reset();
  if (!s.ok()) return StorageError("close", s);
  return Status::OK();
}

}  // namespace strom::kv
