#include "kv/kv_tablet.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "common/logging.h"
#include "log/fs/posix_file_system.h"
#include "record/arrow/arrow_log_batch.h"
#include "record/compacted_row.h"
#include "record/indexed_row.h"
#include "record/kv_record_batch.h"
#include "record/log_record_batch.h"
#include "record/value_record.h"

namespace strom::kv {

namespace {

using record::ChangeType;
using record::GenericRow;

// RocksDB writes of a recovery are cut into batches of about this size.
constexpr size_t kRecoveryWriteBatchBytes = 4 * 1024 * 1024;

TimestampMs NowMs() {
  return TimestampMs(std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
}

int64_t AutoIncValue(const record::Datum& d) {
  if (d.is<int32_t>()) return d.as<int32_t>();
  if (d.is<int64_t>()) return d.as<int64_t>();
  return -1;
}

}  // namespace

KvTablet::KvTablet(KvTabletOptions options, KvTableConfig config)
    : options_(std::move(options)),
      config_(std::move(config)),
      checkpoints_(log::JoinPath(options_.dir, "checkpoints"), options_.fs),
      changelog_(config_) {}

KvTablet::~KvTablet() {
  // A write under way on another thread uses the store: wait for it.
  if (flush_) SettleFlush().IgnoreError();
}

bool KvFlushJob::Claim() {
  int expected = kWaiting;
  return state_.compare_exchange_strong(expected, kWriting, std::memory_order_acq_rel);
}

void KvFlushJob::Write() {
  status_ = KvPreWriteBuffer::WriteFlush(&set_, store_, &batch_);
  state_.store(kDone, std::memory_order_release);
  state_.notify_all();
}

void KvFlushJob::Run() {
  if (Claim()) Write();
}

void KvFlushJob::Wait() const {
  int state = state_.load(std::memory_order_acquire);
  while (state != kDone) {
    state_.wait(state, std::memory_order_acquire);
    state = state_.load(std::memory_order_acquire);
  }
}

Result<std::unique_ptr<KvTablet>> KvTablet::Create(KvTabletOptions options) {
  if (options.log == nullptr) {
    return MakeError(ErrorCode::kUnknownServerError, "a KV tablet needs its changelog tablet");
  }
  if (options.schemas.empty()) {
    return MakeError(ErrorCode::kSchemaNotExist, "a KV tablet needs the table's schema");
  }
  if (options.fs == nullptr) options.fs = log::PosixFileSystem::Default();
  STROM_ASSIGN_OR_RETURN(KvTableConfig config,
                         KvTableConfig::Make(options.table.properties, options.schemas.latest(),
                                             options.table.is_default_bucket_key));
  std::unique_ptr<KvTablet> tablet(new KvTablet(std::move(options), std::move(config)));
  STROM_RETURN_IF_ERROR(tablet->Init());
  return tablet;
}

Result<std::unique_ptr<KvTablet>> KvTablet::Open(KvTabletOptions options) {
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<KvTablet> tablet, Create(std::move(options)));
  const log::LogTablet& changelog = *tablet->options_.log;
  STROM_RETURN_IF_ERROR(
      tablet->RestoreCheckpoint(changelog.log_start_offset(), changelog.log_end_offset()));
  STROM_RETURN_IF_ERROR(tablet->BecomeLeader());
  return tablet;
}

Result<std::unique_ptr<KvTablet>> KvTablet::OpenStorage(KvTabletOptions options,
                                                        LogOffset log_start, LogOffset log_end) {
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<KvTablet> tablet, Create(std::move(options)));
  STROM_RETURN_IF_ERROR(tablet->RestoreCheckpoint(log_start, log_end));
  return tablet;
}

Result<int32_t> KvTablet::DiscardCheckpointsAbove(const std::string& dir, log::FileSystem* fs,
                                                  LogOffset offset) {
  if (fs == nullptr) fs = log::PosixFileSystem::Default();
  const std::string checkpoints_dir = log::JoinPath(dir, "checkpoints");
  STROM_ASSIGN_OR_RETURN(bool exists, fs->Exists(checkpoints_dir));
  if (!exists) return 0;
  KvCheckpointStore checkpoints(checkpoints_dir, fs);
  return checkpoints.DiscardAbove(offset);
}

Result<std::vector<LogOffset>> KvTablet::CheckpointOffsets(const std::string& dir,
                                                           log::FileSystem* fs) {
  if (fs == nullptr) fs = log::PosixFileSystem::Default();
  const std::string checkpoints_dir = log::JoinPath(dir, "checkpoints");
  std::vector<LogOffset> out;
  STROM_ASSIGN_OR_RETURN(bool exists, fs->Exists(checkpoints_dir));
  if (!exists) return out;
  KvCheckpointStore checkpoints(checkpoints_dir, fs);
  STROM_ASSIGN_OR_RETURN(auto list, checkpoints.List());
  for (const KvCheckpointMetadata& checkpoint : list) out.push_back(checkpoint.log_offset);
  return out;
}

Status KvTablet::BuildSchemaState() {
  STROM_ASSIGN_OR_RETURN(
      schema_cache_,
      SchemaCache::Make(options_.schemas, config_.merge_engine == MergeEngine::kAggregation));
  const record::Schema& latest = options_.schemas.latest();
  std::vector<std::string> key_names = options_.table.physical_primary_key;
  if (key_names.empty()) key_names = latest.primary_key();
  STROM_ASSIGN_OR_RETURN(
      key_encoder_, record::KeyEncoder::Create(config_.key_encoding, latest.RowType(), key_names));
  const auto& auto_columns = latest.auto_increment_columns();
  if (!auto_columns.empty()) {
    size_t index = *latest.ColumnIndex(auto_columns.front());
    const auto& column = latest.column(index);
    if (auto_increment_ && auto_increment_->column_id() != column.id) {
      return MakeError(ErrorCode::kInvalidConfig,
                       "Auto-increment column cannot be changed after table creation.");
    }
    auto_increment_index_ = index;
    if (!auto_increment_) {
      auto_increment_.emplace(column.id, column.name, column.type.root() == record::TypeRoot::kInt,
                              config_.auto_increment_cache_size, options_.auto_increment_counter);
    }
  } else if (auto_increment_) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "Cannot add or drop an auto-increment column after table creation.");
  }
  return Status::OK();
}

Status KvTablet::Init() {
  STROM_RETURN_IF_ERROR(options_.fs->CreateDirs(options_.dir));
  STROM_RETURN_IF_ERROR(BuildSchemaState());
  row_count_ = config_.changelog_image == ChangelogImage::kWal ? -1 : 0;
  return Status::OK();
}

// ---- recovery ----

Status KvTablet::RestoreCheckpoint(LogOffset log_start, LogOffset log_end) {
  STROM_RETURN_IF_ERROR(checkpoints_.Init());
  // A checkpoint beyond the log's end covers changelog the log no longer has: the log was cut
  // back (a follower's truncation) and a crash came before the checkpoint was discarded with
  // it. Its state may hold records the leader never committed.
  STROM_ASSIGN_OR_RETURN(int32_t discarded, checkpoints_.DiscardAbove(log_end));
  if (discarded > 0) {
    STROM_LOG_WARN("kv", "{}: discarded {} checkpoints beyond the changelog's end {}",
                   options_.dir, discarded, log_end.value());
  }
  STROM_ASSIGN_OR_RETURN(auto list, checkpoints_.List());
  const std::string db_dir = log::JoinPath(options_.dir, "db");
  LogOffset start = log_start;
  std::optional<AutoIncIdRange> range;
  if (!list.empty()) {
    const KvCheckpointMetadata& newest = list.back();
    if (newest.table_id != options_.table.table_id) {
      return MakeError(ErrorCode::kKvStorage, "checkpoint {} in {} belongs to table {}, not {}",
                       newest.checkpoint_id, checkpoints_.dir(), newest.table_id.value(),
                       options_.table.table_id.value());
    }
    STROM_RETURN_IF_ERROR(checkpoints_.RestoreInto(newest.checkpoint_id, db_dir));
    start = newest.log_offset;
    if (row_count_ >= 0) row_count_ = newest.row_count.value_or(0);
    range = newest.auto_inc_range;
    next_checkpoint_id_ = newest.checkpoint_id + 1;
    if (start < log_start) {
      return MakeError(ErrorCode::kKvStorage,
                       "the changelog starts at {} but checkpoint {} covers only up to {}",
                       log_start.value(), newest.checkpoint_id, start.value());
    }
  } else {
    std::error_code ec;
    std::filesystem::remove_all(db_dir, ec);
    if (ec) return MakeError(ErrorCode::kKvStorage, "removing {}: {}", db_dir, ec.message());
    if (start.value() > 0) {
      return MakeError(ErrorCode::kKvStorage,
                       "no KV checkpoint and the changelog starts at {}: the state cannot be "
                       "rebuilt",
                       start.value());
    }
  }
  STROM_ASSIGN_OR_RETURN(store_, RocksDbStore::Open(db_dir, options_.rocksdb));
  flushed_log_offset_ = start;
  replay_range_ = range;
  last_auto_inc_id_ = range ? range->start - 1 : -1;
  return Status::OK();
}

Status KvTablet::CheckChangelogCovers() const {
  const LogOffset log_end = options_.log->log_end_offset();
  if (log_end < flushed_log_offset_) {
    return MakeError(ErrorCode::kKvStorage,
                     "KV tablet {} holds the changelog up to {} but the log ends at {}: it was "
                     "truncated below the state",
                     options_.dir, flushed_log_offset_.value(), log_end.value());
  }
  if (options_.log->log_start_offset() > flushed_log_offset_) {
    return MakeError(ErrorCode::kKvStorage,
                     "KV tablet {} holds the changelog up to {} but the log starts at {}: the "
                     "changes between are gone",
                     options_.dir, flushed_log_offset_.value(),
                     options_.log->log_start_offset().value());
  }
  return Status::OK();
}

Result<bool> KvTablet::ApplyCommittedChangelog(LogOffset up_to, int64_t max_bytes) {
  STROM_RETURN_IF_ERROR(CheckUsable());
  if (leader_) {
    return MakeError(ErrorCode::kUnknownServerError,
                     "KV tablet {} leads its bucket: its changes reach RocksDB through FlushUpTo",
                     options_.dir);
  }
  STROM_RETURN_IF_ERROR(CheckChangelogCovers());
  const LogOffset to = std::min(up_to, options_.log->log_end_offset());
  if (to <= flushed_log_offset_) return true;
  // The counters move only once RocksDB has the whole step: after a failure the next call
  // replays the same records again, which writes the same values.
  int64_t row_count = row_count_;
  int64_t last_auto_inc_id = last_auto_inc_id_;
  const int64_t replayed_before = replayed_records_;
  LogOffset reached = flushed_log_offset_;
  Status replayed = ReplayChangelog(flushed_log_offset_, to, /*into_rocksdb=*/true, &row_count,
                                    &last_auto_inc_id, max_bytes, &reached);
  if (!replayed.ok()) return GoOffline(replayed);
  row_count_ = row_count;
  last_auto_inc_id_ = last_auto_inc_id;
  flushed_log_offset_ = reached;
  applied_records_ += replayed_records_ - replayed_before;
  return reached >= to;
}

Status KvTablet::BecomeLeader() {
  STROM_RETURN_IF_ERROR(CheckUsable());
  if (leader_) return Status::OK();
  STROM_RETURN_IF_ERROR(CheckChangelogCovers());
  const int64_t replayed_before = replayed_records_;
  const int64_t applied_before = applied_records_;
  // Committed changes go straight to RocksDB; the uncommitted tail into the buffer, to be
  // flushed when the high watermark passes it.
  const LogOffset log_end = options_.log->log_end_offset();
  const LogOffset committed =
      std::clamp(options_.log->high_watermark(), flushed_log_offset_, log_end);
  STROM_RETURN_IF_ERROR(ApplyCommittedChangelog(committed, /*max_bytes=*/0).status());
  applied_records_ = applied_before;
  int64_t last_auto_inc_id = last_auto_inc_id_;
  Status tail = ReplayChangelog(committed, log_end, /*into_rocksdb=*/false, nullptr,
                                &last_auto_inc_id, /*max_bytes=*/0, nullptr);
  if (!tail.ok()) {
    buffer_.TruncateTo(flushed_log_offset_);
    return tail;
  }
  last_auto_inc_id_ = last_auto_inc_id;
  if (replay_range_ && auto_increment_) {
    // Fluss's AutoIncIDRangeUpdater: ids are reserved in blocks of the cache size, so the
    // block holding the last id replayed ends at the range's end plus whole blocks.
    AutoIncIdRange updated = *replay_range_;
    updated.start = last_auto_inc_id_ + 1;
    while (updated.start > updated.end) updated.end += auto_increment_->cache_size();
    auto_increment_->UpdateRange(updated);
  }
  recovered_records_ = replayed_records_ - replayed_before;
  leader_ = true;
  return Status::OK();
}

void KvTablet::BecomeFollower() {
  if (!leader_) return;
  // A failed write takes the tablet offline; RocksDB then keeps what it had.
  SettleFlush().IgnoreError();
  // The buffer holds changes beyond the high watermark: uncommitted, and perhaps cut off the
  // log by the next leader. RocksDB holds committed changes only.
  buffer_.TruncateTo(flushed_log_offset_);
  replay_range_ = auto_increment_range();
  last_auto_inc_id_ = replay_range_ ? replay_range_->start - 1 : -1;
  leader_ = false;
}

Status KvTablet::ReplayChangelog(LogOffset from, LogOffset to, bool into_rocksdb,
                                 int64_t* row_count, int64_t* last_auto_inc_id, int64_t max_bytes,
                                 LogOffset* reached) {
  LogOffset offset = from;
  RocksDbWriteBatch write_batch;
  int64_t read_bytes = 0;
  while (offset < to && (max_bytes <= 0 || read_bytes < max_bytes)) {
    log::ReadParams params;
    params.fetch_offset = offset;
    params.max_bytes = options_.recover_read_bytes;
    if (max_bytes > 0) params.max_bytes = std::min(params.max_bytes, max_bytes - read_bytes);
    params.isolation = log::FetchIsolation::kLogEnd;
    params.min_one_batch = true;
    STROM_ASSIGN_OR_RETURN(log::FetchDataInfo data, options_.log->Read(params));
    read_bytes += static_cast<int64_t>(data.records.size());
    record::LogRecordBatchIterator it(data.records);
    LogOffset before = offset;
    while (offset < to) {
      STROM_ASSIGN_OR_RETURN(auto batch, it.Next());
      if (!batch) break;
      if (batch->next_offset() <= offset) continue;
      STROM_RETURN_IF_ERROR(ApplyChangelogBatch(*batch, offset, to, into_rocksdb, &write_batch,
                                                row_count, last_auto_inc_id, &offset));
      if (into_rocksdb && write_batch.size_in_bytes() >= kRecoveryWriteBatchBytes) {
        STROM_RETURN_IF_ERROR(store_->Write(&write_batch));
      }
    }
    if (offset == before) {
      return MakeError(ErrorCode::kKvStorage, "changelog read at offset {} made no progress",
                       offset.value());
    }
  }
  if (into_rocksdb) STROM_RETURN_IF_ERROR(store_->Write(&write_batch));
  if (reached != nullptr) *reached = offset;
  return Status::OK();
}

Status KvTablet::ApplyChangelogBatch(const record::LogRecordBatch& batch, LogOffset from,
                                     LogOffset to, bool into_rocksdb,
                                     RocksDbWriteBatch* write_batch, int64_t* row_count,
                                     int64_t* last_auto_inc_id, LogOffset* next) {
  const SchemaInfo* info = schema_cache_->Find(batch.schema_id());
  if (info == nullptr) {
    return MakeError(ErrorCode::kSchemaNotExist, "changelog batch at {} has unknown schema id {}",
                     batch.base_offset().value(), batch.schema_id().value());
  }
  // Decode every record of the batch into (change type, row).
  std::vector<ChangeType> types;
  std::vector<GenericRow> rows;
  if (config_.log_format == LogFormat::kArrow) {
    STROM_ASSIGN_OR_RETURN(auto body, record::arrow::DecodeArrowLogBatch(batch, info->row_type));
    types = std::move(body.change_types);
    rows = body.batch.ToRows();
  } else {
    record::RowRecordIterator records(batch);
    while (true) {
      STROM_ASSIGN_OR_RETURN(auto record, records.Next());
      if (!record) break;
      GenericRow row;
      if (config_.log_format == LogFormat::kCompacted) {
        STROM_RETURN_IF_ERROR(record::DecodeCompactedRow(info->types, record->row, &row));
      } else {
        STROM_RETURN_IF_ERROR(record::DecodeIndexedRow(info->types, record->row, &row));
      }
      types.push_back(record->change_type);
      rows.push_back(std::move(row));
    }
  }
  ByteBuffer key;
  ByteBuffer value;
  for (size_t i = 0; i < types.size(); ++i) {
    LogOffset offset = batch.base_offset() + static_cast<int64_t>(i);
    if (offset < from || offset >= to) continue;
    ChangeType type = types[i];
    ++replayed_records_;
    if (row_count != nullptr && *row_count >= 0) {
      if (type == ChangeType::kInsert || type == ChangeType::kUpdateAfter) ++*row_count;
      if (type == ChangeType::kDelete || type == ChangeType::kUpdateBefore) --*row_count;
    }
    if (type == ChangeType::kUpdateBefore) continue;
    key.clear();
    STROM_RETURN_IF_ERROR(key_encoder_->Encode(rows[i], &key));
    if (type == ChangeType::kDelete) {
      if (into_rocksdb) {
        write_batch->Delete(key);
      } else {
        buffer_.Delete(key, offset);
      }
      continue;
    }
    value.clear();
    record::AppendEncodedValue(info->id, ByteView(), &value);
    STROM_RETURN_IF_ERROR(EncodeKvRow(config_.kv_format, info->types, rows[i], &value));
    if (type == ChangeType::kInsert && auto_increment_index_ &&
        *auto_increment_index_ < rows[i].size()) {
      int64_t id = AutoIncValue(rows[i][*auto_increment_index_]);
      if (id >= 0) *last_auto_inc_id = id;
    }
    if (into_rocksdb) {
      write_batch->Put(key, value);
    } else if (type == ChangeType::kInsert) {
      buffer_.Insert(key, value, offset);
    } else {
      buffer_.Update(key, value, offset);
    }
  }
  // An empty batch still moves the position past its offset.
  *next = std::min(batch.next_offset(), to);
  return Status::OK();
}

// ---- write path ----

Status KvTablet::CheckUsable() const {
  if (!failure_.ok()) return failure_;
  if (closed_) return MakeError(ErrorCode::kKvStorage, "KV tablet {} is closed", options_.dir);
  return Status::OK();
}

Status KvTablet::GoOffline(Status status) {
  failure_ = Status(ErrorCode::kKvStorage,
                    fmt::format("KV tablet {} is offline: {}", options_.dir, status.ToString()));
  return failure_;
}

Result<KvPutResult> KvTablet::PutAsLeader(ByteView kv_batch, const PutKvParams& params) {
  STROM_RETURN_IF_ERROR(CheckUsable());
  if (!leader_) {
    return MakeError(ErrorCode::kNotLeaderOrFollower, "KV tablet {} follows its bucket's leader",
                     options_.dir);
  }
  STROM_ASSIGN_OR_RETURN(record::KvRecordBatch batch, record::KvRecordBatch::Parse(kv_batch));
  const SchemaId latest_id = schema_cache_->latest_id();
  if (batch.schema_id().value() < 0 || batch.schema_id() > latest_id ||
      schema_cache_->Find(batch.schema_id()) == nullptr) {
    return MakeError(ErrorCode::kSchemaNotExist, "Invalid schema id: {}, latest schema id: {}",
                     batch.schema_id().value(), latest_id.value());
  }
  const SchemaInfo& latest = schema_cache_->latest();
  if (auto_increment_index_) {
    const std::string& name = latest.schema->column(*auto_increment_index_).name;
    if (!params.target_columns) {
      return MakeError(ErrorCode::kInvalidTargetColumn,
                       "The table contains an auto-increment column [{}], but update target "
                       "columns are not explicitly specified. Please specify the update target "
                       "columns and exclude the auto-increment column from them.",
                       name);
    }
    for (int32_t index : *params.target_columns) {
      if (index >= 0 && static_cast<size_t>(index) == *auto_increment_index_) {
        return MakeError(ErrorCode::kInvalidTargetColumn,
                         "Auto-increment column [{}] at index {} must not be included in target "
                         "columns.",
                         name, index);
      }
    }
  }
  STROM_ASSIGN_OR_RETURN(auto merger, CreateRowMerger(config_, params.merge_mode, *schema_cache_,
                                                      params.target_columns));
  STROM_RETURN_IF_ERROR(changelog_.Reset(latest));

  const LogOffset start = options_.log->log_end_offset();
  Status processed = ProcessBatch(batch, params, merger.get(), start);
  if (!processed.ok()) {
    buffer_.TruncateTo(start);
    return processed;
  }
  auto changelog = changelog_.Build(batch.writer_id(), batch.batch_sequence());
  if (!changelog.ok()) {
    buffer_.TruncateTo(start);
    return std::move(changelog).status();
  }
  KvPutResult result;
  result.change_count = changelog_.record_count();
  auto append = options_.log->AppendAsLeader(std::span<char>(changelog->data(), changelog->size()));
  if (!append.ok()) {
    buffer_.TruncateTo(start);
    return std::move(append).status();
  }
  result.append = *append;
  if (append->duplicate) {
    // An idempotent writer's retry: the original batch is in the log already, so drop what
    // this pass buffered and report the original offsets.
    buffer_.TruncateTo(start);
    result.duplicate = true;
    result.change_count = 0;
  } else if (append->first_offset != start) {
    buffer_.TruncateTo(start);
    return MakeError(ErrorCode::kUnknownServerError, "changelog landed at offset {} instead of {}",
                     append->first_offset.value(), start.value());
  }
  return result;
}

Status KvTablet::ProcessBatch(const record::KvRecordBatch& batch, const PutKvParams& params,
                              RowMerger* merger, LogOffset start_offset) {
  const SchemaInfo* batch_schema = schema_cache_->Find(batch.schema_id());
  // First the records' framing, up to the first malformed one (its error is returned after
  // the records before it, so errors come in record order as when reading one by one).
  batch_records_.clear();
  Status framing;
  record::KvRecordIterator it(batch);
  while (true) {
    auto record = it.Next();
    if (!record.ok()) {
      framing = std::move(record).status();
      break;
    }
    if (!*record) break;
    if ((*record)->key.empty()) {
      framing = MakeError(ErrorCode::kCorruptRecord, "record {} has an empty key",
                          batch_records_.size());
      break;
    }
    batch_records_.push_back(**record);
  }
  // The stored values of every key the batch reads, in one RocksDB MultiGet: it checks the
  // memtable bloom filter and the files for the whole batch at once instead of paying a full
  // Get per record. The pre-write buffer still comes first, so this reads what a Get per
  // record would: RocksDB changes meanwhile only by a flush off this thread (BeginFlush), and
  // only for keys whose changes stay in the buffer until it settles on this thread.
  const bool upserts_read = !(config_.changelog_image == ChangelogImage::kWal &&
                              !auto_increment_ && merger->is_default_full_row());
  const bool deletes_read = config_.delete_behavior == DeleteBehavior::kAllow;
  prefetch_keys_.clear();
  prefetch_slots_.assign(batch_records_.size(), -1);
  for (size_t i = 0; i < batch_records_.size(); ++i) {
    const record::KvRecord& record = batch_records_[i];
    if (record.is_delete() ? deletes_read : upserts_read) {
      prefetch_slots_[i] = static_cast<int32_t>(prefetch_keys_.size());
      prefetch_keys_.push_back(record.key);
    }
  }
  prefetched_.clear();
  if (!prefetch_keys_.empty()) {
    STROM_ASSIGN_OR_RETURN(prefetched_, store_->MultiGet(prefetch_keys_));
  }
  auto prefetched = [&](size_t i) -> std::optional<ByteBuffer>* {
    return prefetch_slots_[i] < 0 ? nullptr : &prefetched_[static_cast<size_t>(prefetch_slots_[i])];
  };

  LogOffset lsn = start_offset;
  for (size_t i = 0; i < batch_records_.size(); ++i) {
    const record::KvRecord& record = batch_records_[i];
    if (record.is_delete()) {
      STROM_RETURN_IF_ERROR(ProcessDelete(record.key, merger, prefetched(i), &lsn));
      continue;
    }
    KvValue input;
    input.schema_id = batch.schema_id();
    Status decoded =
        DecodeKvRow(config_.kv_format, batch_schema->types, *record.value, &input.row);
    if (!decoded.ok()) {
      return MakeError(ErrorCode::kCorruptRecord,
                       "record {}: the value is not a {} row of schema "
                       "{}: {}",
                       i, KvFormatName(config_.kv_format), batch.schema_id().value(),
                       decoded.message());
    }
    input.encoded = *record.value;
    STROM_RETURN_IF_ERROR(CheckKey(record.key, &input.row));
    STROM_RETURN_IF_ERROR(
        ProcessUpsert(record.key, std::move(input), merger, prefetched(i), &lsn));
  }
  return framing;
}

Status KvTablet::CheckKey(ByteView key, const GenericRow* row) {
  if (row != nullptr) {
    for (size_t i = 0; i < key_encoder_->key_indexes().size(); ++i) {
      size_t index = key_encoder_->key_indexes()[i];
      if (index >= row->size() || (*row)[index].is_null()) {
        return MakeError(ErrorCode::kCorruptRecord, "primary key column '{}' is null",
                         schema_cache_->latest().schema->column(index).name);
      }
    }
    scratch_key_.clear();
    Status encoded = key_encoder_->Encode(*row, &scratch_key_);
    if (!encoded.ok() || scratch_key_ != key) {
      return MakeError(ErrorCode::kCorruptRecord,
                       "the record key is not the encoded primary key of its row");
    }
    return Status::OK();
  }
  if (key_encoder_->encoding() != record::KeyEncoding::kCompacted) return Status::OK();
  // A compacted key is the key columns as CompactedRow fields without a null bitset: decode
  // it by putting an all-zero bitset in front, then check it re-encodes to the same bytes.
  const auto& types = key_encoder_->key_types();
  ByteBuffer framed((types.size() + 7) / 8, '\0');
  framed.append(key.data(), key.size());
  GenericRow values;
  Status decoded = record::DecodeCompactedRow(types, framed, &values);
  bool ok = decoded.ok();
  if (ok) {
    scratch_key_.clear();
    for (size_t i = 0; i < types.size() && ok; ++i) {
      ok = record::AppendCompactedValue(types[i], values[i], &scratch_key_).ok();
    }
    ok = ok && scratch_key_ == key;
  }
  if (!ok) {
    return MakeError(ErrorCode::kCorruptRecord,
                     "the delete key does not decode as the table's primary key");
  }
  return Status::OK();
}

Result<KvValue> KvTablet::DecodeStored(ByteView stored) {
  STROM_ASSIGN_OR_RETURN(record::ValueView view, record::DecodeValue(stored));
  const SchemaInfo* info = schema_cache_->Find(view.schema_id);
  if (info == nullptr) {
    return MakeError(ErrorCode::kKvStorage, "stored value has unknown schema id {}",
                     view.schema_id.value());
  }
  KvValue value;
  value.schema_id = view.schema_id;
  Status st = DecodeKvRow(config_.kv_format, info->types, view.row, &value.row);
  if (!st.ok()) return MakeError(ErrorCode::kKvStorage, "stored value: {}", st.message());
  value.encoded = view.row;
  return value;
}

Status KvTablet::EncodeStored(const KvValue& value, ByteBuffer* out) {
  out->clear();
  record::AppendEncodedValue(value.schema_id, ByteView(), out);
  if (value.encoded) {
    out->append(value.encoded->data(), value.encoded->size());
    return Status::OK();
  }
  const SchemaInfo* info = schema_cache_->Find(value.schema_id);
  return EncodeKvRow(config_.kv_format, info->types, value.row, out);
}

Result<bool> KvTablet::ReadCurrent(ByteView key, std::optional<ByteBuffer>* prefetched,
                                   KvValue* value, ByteBuffer* storage) {
  if (const KvPreWriteBuffer::Entry* entry = buffer_.Get(key)) {
    if (!entry->value) return false;
    STROM_ASSIGN_OR_RETURN(*value, DecodeStored(*entry->value));
    return true;
  }
  std::optional<ByteBuffer> stored;
  if (prefetched != nullptr) {
    stored = std::move(*prefetched);
  } else {
    STROM_ASSIGN_OR_RETURN(stored, store_->Get(key));
  }
  if (!stored) return false;
  *storage = std::move(*stored);
  STROM_ASSIGN_OR_RETURN(*value, DecodeStored(*storage));
  return true;
}

Status KvTablet::ProcessUpsert(ByteView key, KvValue input, RowMerger* merger,
                               std::optional<ByteBuffer>* prefetched, LogOffset* lsn) {
  // WAL image with whole-row last-write-wins: the result is the new row whatever was stored,
  // so the old value is not read and every write logs +U (Fluss's optimisation).
  if (config_.changelog_image == ChangelogImage::kWal && !auto_increment_ &&
      merger->is_default_full_row()) {
    return ApplyUpdate(key, nullptr, std::move(input), lsn);
  }
  KvValue old;
  ByteBuffer storage;
  STROM_ASSIGN_OR_RETURN(bool exists, ReadCurrent(key, prefetched, &old, &storage));
  STROM_ASSIGN_OR_RETURN(MergeResult merged, merger->Merge(exists ? &old : nullptr, input));
  if (merged.kind == MergeResult::Kind::kUnchanged) return Status::OK();
  KvValue value =
      merged.kind == MergeResult::Kind::kInput ? std::move(input) : std::move(merged.merged);
  if (!exists) return ApplyInsert(key, std::move(value), lsn);
  return ApplyUpdate(key, &old, std::move(value), lsn);
}

Status KvTablet::ProcessDelete(ByteView key, RowMerger* merger,
                               std::optional<ByteBuffer>* prefetched, LogOffset* lsn) {
  if (config_.delete_behavior == DeleteBehavior::kIgnore) return Status::OK();
  if (config_.delete_behavior == DeleteBehavior::kDisable) {
    return MakeError(ErrorCode::kDeletionDisabled,
                     "Delete operations are disabled for this table. The table.delete.behavior "
                     "is set to 'disable'.");
  }
  STROM_RETURN_IF_ERROR(CheckKey(key, nullptr));
  KvValue old;
  ByteBuffer storage;
  STROM_ASSIGN_OR_RETURN(bool exists, ReadCurrent(key, prefetched, &old, &storage));
  if (!exists) return Status::OK();
  STROM_ASSIGN_OR_RETURN(std::optional<KvValue> remaining, merger->Delete(old));
  if (!remaining) return ApplyDelete(key, old, lsn);
  return ApplyUpdate(key, &old, std::move(*remaining), lsn);
}

Status KvTablet::ApplyInsert(ByteView key, KvValue value, LogOffset* lsn) {
  if (auto_increment_) {
    const SchemaInfo& latest = schema_cache_->latest();
    STROM_ASSIGN_OR_RETURN(int64_t id, auto_increment_->NextValue());
    value.row.resize(latest.types.size());
    if (latest.types[*auto_increment_index_].root() == record::TypeRoot::kInt) {
      value.row[*auto_increment_index_] = static_cast<int32_t>(id);
    } else {
      value.row[*auto_increment_index_] = id;
    }
    value.schema_id = latest.id;
    value.encoded.reset();
  }
  ByteBuffer stored;
  STROM_RETURN_IF_ERROR(EncodeStored(value, &stored));
  STROM_RETURN_IF_ERROR(changelog_.Append(ChangeType::kInsert, value));
  buffer_.Insert(key, std::move(stored), *lsn);
  *lsn += 1;
  return Status::OK();
}

Status KvTablet::ApplyUpdate(ByteView key, const KvValue* old, KvValue value, LogOffset* lsn) {
  ByteBuffer stored;
  STROM_RETURN_IF_ERROR(EncodeStored(value, &stored));
  if (config_.changelog_image == ChangelogImage::kWal) {
    STROM_RETURN_IF_ERROR(changelog_.Append(ChangeType::kUpdateAfter, value));
    buffer_.Update(key, std::move(stored), *lsn);
    *lsn += 1;
    return Status::OK();
  }
  STROM_RETURN_IF_ERROR(changelog_.Append(ChangeType::kUpdateBefore, *old));
  STROM_RETURN_IF_ERROR(changelog_.Append(ChangeType::kUpdateAfter, value));
  buffer_.Update(key, std::move(stored), *lsn + 1);
  *lsn += 2;
  return Status::OK();
}

Status KvTablet::ApplyDelete(ByteView key, const KvValue& old, LogOffset* lsn) {
  STROM_RETURN_IF_ERROR(changelog_.Append(ChangeType::kDelete, old));
  buffer_.Delete(key, *lsn);
  *lsn += 1;
  return Status::OK();
}

Status KvTablet::FlushUpTo(LogOffset committed_offset) {
  STROM_RETURN_IF_ERROR(CheckUsable());
  if (!leader_) {
    return MakeError(ErrorCode::kUnknownServerError,
                     "KV tablet {} follows its bucket's leader: ApplyCommittedChangelog, not "
                     "FlushUpTo, moves its state",
                     options_.dir);
  }
  STROM_RETURN_IF_ERROR(SettleFlush());
  // BeginFlush's flush, written here by SettleFlush since no other thread runs it.
  STROM_RETURN_IF_ERROR(BeginFlush(committed_offset).status());
  return SettleFlush();
}

Result<std::shared_ptr<KvFlushJob>> KvTablet::BeginFlush(LogOffset committed_offset) {
  STROM_RETURN_IF_ERROR(CheckUsable());
  if (!leader_) {
    return MakeError(ErrorCode::kUnknownServerError,
                     "KV tablet {} follows its bucket's leader: it has nothing to flush",
                     options_.dir);
  }
  if (flush_) {
    return MakeError(ErrorCode::kUnknownServerError,
                     "KV tablet {} is flushing up to {} already", options_.dir,
                     flush_->set_.up_to.value());
  }
  if (committed_offset <= flushed_log_offset_) return std::shared_ptr<KvFlushJob>();
  auto job = std::make_shared<KvFlushJob>();
  job->set_ = buffer_.CollectFlush(committed_offset);
  if (job->set_.entry_count == 0) {
    // Nothing buffered below the offset (e.g. only duplicates came in): no write needed.
    buffer_.AbandonFlush();
    flushed_log_offset_ = committed_offset;
    return std::shared_ptr<KvFlushJob>();
  }
  job->store_ = store_.get();
  flush_ = job;
  return job;
}

Status KvTablet::SettleFlush(bool wait) {
  if (!flush_) return Status::OK();
  if (!wait && !flush_->done()) return Status::OK();
  std::shared_ptr<KvFlushJob> job = std::move(flush_);
  if (job->Claim()) {
    job->Write();
  } else {
    job->Wait();
  }
  if (!job->status_.ok()) {
    buffer_.AbandonFlush();
    return GoOffline(job->status_);
  }
  buffer_.ForgetFlushed(job->set_);
  flushed_log_offset_ = job->set_.up_to;
  if (row_count_ >= 0) row_count_ += job->set_.row_count_diff;
  return Status::OK();
}

// ---- reads ----

Result<std::vector<std::optional<ByteBuffer>>> KvTablet::Lookup(std::span<const ByteView> keys) {
  STROM_RETURN_IF_ERROR(CheckUsable());
  return store_->MultiGet(keys);
}

Result<std::vector<ByteBuffer>> KvTablet::PrefixLookup(ByteView prefix) {
  STROM_RETURN_IF_ERROR(CheckUsable());
  std::vector<ByteBuffer> out;
  STROM_RETURN_IF_ERROR(store_->ScanPrefix(prefix, [&](ByteView, ByteView value) {
    out.emplace_back(value);
    return true;
  }));
  return out;
}

Result<ByteBuffer> KvTablet::LimitScan(int32_t limit) {
  STROM_RETURN_IF_ERROR(CheckUsable());
  ByteBuffer out;
  record::ValueRecordBatchBuilder builder(&out);
  Status appended;
  if (limit > 0) {
    STROM_RETURN_IF_ERROR(store_->ScanAll([&](ByteView, ByteView value) {
      appended = builder.AppendEncoded(value);
      return appended.ok() && builder.record_count() < limit;
    }));
  }
  STROM_RETURN_IF_ERROR(appended);
  builder.Finish();
  return out;
}

Status KvTablet::ScanAll(const RocksDbStore::Visitor& visit) {
  STROM_RETURN_IF_ERROR(CheckUsable());
  return store_->ScanAll(visit);
}

Result<KvSnapshotScan> KvTablet::OpenSnapshotScan() {
  STROM_RETURN_IF_ERROR(CheckUsable());
  STROM_RETURN_IF_ERROR(SettleFlush());
  KvSnapshotScan scan;
  // RocksDB holds exactly the changes below the flushed offset: FlushUpTo writes them
  // synchronously on this thread, and a flush off it has just settled.
  scan.log_offset = flushed_log_offset_;
  STROM_ASSIGN_OR_RETURN(scan.cursor, store_->NewSnapshotCursor());
  return scan;
}

Result<int64_t> KvTablet::RowCount() const {
  STROM_RETURN_IF_ERROR(CheckUsable());
  if (row_count_ < 0) {
    return MakeError(ErrorCode::kInvalidTable,
                     "Row count is disabled for this table. This happens when the changelog "
                     "image is set to WAL; set it to FULL to keep a row count.");
  }
  return row_count_;
}

std::optional<AutoIncIdRange> KvTablet::auto_increment_range() const {
  if (!auto_increment_) return std::nullopt;
  return auto_increment_->current_range();
}

// ---- checkpoints, schemas, lifecycle ----

Result<KvCheckpointInfo> KvTablet::TakeCheckpoint() {
  STROM_RETURN_IF_ERROR(CheckUsable());
  // The checkpoint records the flushed offset: RocksDB must hold exactly what is below it.
  STROM_RETURN_IF_ERROR(SettleFlush());
  const int64_t id = next_checkpoint_id_++;
  // The checkpoint must never cover more of the changelog than is durable.
  STROM_RETURN_IF_ERROR(options_.log->Flush());
  STROM_RETURN_IF_ERROR(checkpoints_.PreparePending(id));
  STROM_RETURN_IF_ERROR(store_->CreateCheckpoint(checkpoints_.PendingDbDir(id)));
  KvCheckpointInfo info;
  info.metadata.checkpoint_id = id;
  info.metadata.log_offset = flushed_log_offset_;
  if (row_count_ >= 0) info.metadata.row_count = row_count_;
  info.metadata.auto_inc_range = auto_increment_range();
  info.metadata.table_id = options_.table.table_id;
  info.metadata.created_at = NowMs();
  STROM_RETURN_IF_ERROR(checkpoints_.Commit(info.metadata));
  STROM_RETURN_IF_ERROR(checkpoints_.Prune(options_.num_retained_checkpoints));
  STROM_ASSIGN_OR_RETURN(auto kept, checkpoints_.List());
  if (!kept.empty()) options_.log->SetMinRetainOffset(kept.front().log_offset);
  info.dir = checkpoints_.DbDir(id);
  return info;
}

Status KvTablet::UpdateSchemas(SchemaSet schemas) {
  STROM_RETURN_IF_ERROR(CheckUsable());
  if (schemas.empty() || schemas.latest_id() < options_.schemas.latest_id()) {
    return MakeError(ErrorCode::kSchemaNotExist, "the new schema set is older than the current");
  }
  STROM_ASSIGN_OR_RETURN(KvTableConfig config,
                         KvTableConfig::Make(options_.table.properties, schemas.latest(),
                                             options_.table.is_default_bucket_key));
  SchemaSet previous = std::move(options_.schemas);
  options_.schemas = std::move(schemas);
  Status st = BuildSchemaState();
  if (!st.ok()) {
    options_.schemas = std::move(previous);
    BuildSchemaState().IgnoreError();
    return st;
  }
  config_ = std::move(config);
  return Status::OK();
}

Status KvTablet::Close() {
  if (closed_) return Status::OK();
  Status st = SettleFlush();
  if (failure_.ok()) {
    auto checkpoint = TakeCheckpoint();
    if (!checkpoint.ok()) st = checkpoint.status();
  }
  Status closed = store_ ? store_->Close() : Status::OK();
  closed_ = true;
  return st.ok() ? closed : st;
}

}  // namespace strom::kv
