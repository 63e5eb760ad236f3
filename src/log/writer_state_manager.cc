#include "log/writer_state_manager.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "log/log_file_names.h"

namespace strom::log {
namespace {

// Field names of the snapshot JSON, as Fluss writes them.
constexpr const char* kVersionField = "version";
constexpr const char* kEntriesField = "writer_id_entries";
constexpr const char* kWriterIdField = "writer_id";
constexpr const char* kLastSequenceField = "last_batch_sequence";
// Despite its name Fluss stores the last offset of the last batch here, and reads it back
// as such; Strom does the same so the files stay interchangeable.
constexpr const char* kLastOffsetField = "last_batch_base_offset";
constexpr const char* kOffsetDeltaField = "offset_delta";
constexpr const char* kTimestampField = "last_batch_timestamp";
constexpr int kSnapshotVersion = 1;

}  // namespace

WriterStateManager::WriterStateManager(FileSystem* fs, std::string dir,
                                       std::chrono::milliseconds expiration)
    : fs_(fs), dir_(std::move(dir)), expiration_(expiration) {}

std::string WriterStateManager::SnapshotPath(LogOffset offset) const {
  return JoinPath(dir_, OffsetFileName(offset, kWriterSnapshotFileSuffix));
}

Status WriterStateManager::LoadSnapshotList() {
  snapshots_.clear();
  STROM_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->List(dir_));
  for (const std::string& name : names) {
    if (auto offset = ParseOffsetFileName(name, kWriterSnapshotFileSuffix)) {
      snapshots_[*offset] = JoinPath(dir_, name);
    }
  }
  return Status::OK();
}

const WriterStateEntry* WriterStateManager::LastEntry(WriterId writer_id) const {
  auto it = writers_.find(writer_id);
  return it == writers_.end() ? nullptr : &it->second;
}

void WriterStateManager::RemoveExpiredWriters(TimestampMs now) {
  for (auto it = writers_.begin(); it != writers_.end();) {
    if (now - it->second.last_batch_timestamp() > expiration_.count()) {
      it = writers_.erase(it);
    } else {
      ++it;
    }
  }
}

WriterAppendInfo WriterStateManager::PrepareUpdate(WriterId writer_id) const {
  return WriterAppendInfo(writer_id, LastEntry(writer_id));
}

void WriterStateManager::Update(const WriterAppendInfo& info) {
  STROM_CHECK(info.writer_id() != kNoWriterId, "writer state update without a writer id");
  auto it = writers_.find(info.writer_id());
  if (it == writers_.end()) {
    writers_.emplace(info.writer_id(), info.updated_entry());
  } else {
    it->second.Update(info.updated_entry());
  }
}

void WriterStateManager::ReplayBatch(WriterId writer_id, BatchSequence sequence,
                                     LogOffset first_offset, LogOffset last_offset,
                                     TimestampMs timestamp) {
  auto it = writers_.find(writer_id);
  if (it == writers_.end()) {
    it = writers_.emplace(writer_id, WriterStateEntry(writer_id)).first;
  } else if (!it->second.empty() &&
             !WriterAppendInfo::InSequence(it->second.last_batch_sequence(), sequence,
                                           /*expired_in_batch=*/false, /*as_leader=*/false)) {
    // The writer started over (after its state expired); what the log holds wins.
    it->second = WriterStateEntry(writer_id);
  }
  it->second.AddBatch(BatchMetadata{sequence, last_offset,
                                    static_cast<int32_t>(last_offset - first_offset), timestamp});
}

ByteBuffer WriterStateManager::EncodeSnapshot(
    const std::unordered_map<WriterId, WriterStateEntry>& writers) {
  std::vector<const WriterStateEntry*> sorted;
  sorted.reserve(writers.size());
  for (const auto& [id, entry] : writers) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->writer_id() < b->writer_id(); });
  nlohmann::ordered_json entries = nlohmann::ordered_json::array();
  for (const WriterStateEntry* entry : sorted) {
    nlohmann::ordered_json e;
    e[kWriterIdField] = entry->writer_id().value();
    e[kLastSequenceField] = entry->last_batch_sequence().value();
    e[kLastOffsetField] = entry->last_data_offset().value();
    e[kOffsetDeltaField] = entry->last_offset_delta();
    e[kTimestampField] = entry->last_batch_timestamp().value();
    entries.push_back(std::move(e));
  }
  nlohmann::ordered_json doc;
  doc[kVersionField] = kSnapshotVersion;
  doc[kEntriesField] = std::move(entries);
  return doc.dump();
}

Result<std::vector<WriterStateEntry>> WriterStateManager::DecodeSnapshot(ByteView json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Corruption("writer snapshot is not a JSON object");
  }
  auto entries = doc.find(kEntriesField);
  if (entries == doc.end() || !entries->is_array()) {
    return Corruption("writer snapshot has no '{}' array", kEntriesField);
  }
  auto version = doc.find(kVersionField);
  if (version != doc.end() && (!version->is_number_integer() || *version != kSnapshotVersion)) {
    return Corruption("writer snapshot has unsupported version {}", version->dump());
  }
  std::vector<WriterStateEntry> out;
  for (const nlohmann::json& e : *entries) {
    auto field = [&](const char* name, int64_t min, int64_t max) -> Result<int64_t> {
      auto it = e.is_object() ? e.find(name) : e.end();
      if (!e.is_object() || it == e.end() || !it->is_number_integer()) {
        return Corruption("writer snapshot entry lacks integer field '{}'", name);
      }
      int64_t v = it->get<int64_t>();
      if (v < min || v > max)
        return Corruption("writer snapshot field '{}' = {} out of range", name, v);
      return v;
    };
    constexpr int64_t kI32Min = std::numeric_limits<int32_t>::min();
    constexpr int64_t kI32Max = std::numeric_limits<int32_t>::max();
    constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
    constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
    STROM_ASSIGN_OR_RETURN(int64_t writer_id, field(kWriterIdField, kI64Min, kI64Max));
    STROM_ASSIGN_OR_RETURN(int64_t sequence, field(kLastSequenceField, kI32Min, kI32Max));
    STROM_ASSIGN_OR_RETURN(int64_t last_offset, field(kLastOffsetField, kI64Min, kI64Max));
    STROM_ASSIGN_OR_RETURN(int64_t delta, field(kOffsetDeltaField, kI32Min, kI32Max));
    STROM_ASSIGN_OR_RETURN(int64_t timestamp, field(kTimestampField, kI64Min, kI64Max));
    WriterStateEntry entry{WriterId(writer_id), TimestampMs(timestamp)};
    entry.AddBatch(BatchMetadata{BatchSequence(static_cast<int32_t>(sequence)),
                                 LogOffset(last_offset), static_cast<int32_t>(delta),
                                 TimestampMs(timestamp)});
    out.push_back(std::move(entry));
  }
  return out;
}

Status WriterStateManager::TakeSnapshot() {
  if (map_end_offset_ <= last_snapshot_offset_) return Status::OK();
  std::string path = SnapshotPath(map_end_offset_);
  STROM_RETURN_IF_ERROR(fs_->WriteFileAtomically(path, EncodeSnapshot(writers_)));
  snapshots_[map_end_offset_] = path;
  last_snapshot_offset_ = map_end_offset_;
  return Status::OK();
}

Status WriterStateManager::RemoveAndDeleteSnapshot(LogOffset offset) {
  auto it = snapshots_.find(offset);
  if (it == snapshots_.end()) return Status::OK();
  std::string path = it->second;
  snapshots_.erase(it);
  return fs_->DeleteIfExists(path).status();
}

Status WriterStateManager::LoadFromSnapshot(LogOffset log_start, TimestampMs now) {
  while (!snapshots_.empty()) {
    auto latest = std::prev(snapshots_.end());
    LogOffset offset = latest->first;
    Result<ByteBuffer> bytes = fs_->ReadFile(latest->second);
    Result<std::vector<WriterStateEntry>> entries =
        bytes.ok() ? DecodeSnapshot(*bytes) : Result<std::vector<WriterStateEntry>>(bytes.status());
    if (!entries.ok()) {
      STROM_LOG_WARN("log", "dropping unreadable writer snapshot {}: {}", latest->second,
                     entries.status().ToString());
      STROM_RETURN_IF_ERROR(RemoveAndDeleteSnapshot(offset));
      continue;
    }
    for (WriterStateEntry& entry : *entries) {
      if (now - entry.last_batch_timestamp() > expiration_.count()) continue;
      WriterId id = entry.writer_id();
      writers_.insert_or_assign(id, std::move(entry));
    }
    last_snapshot_offset_ = offset;
    map_end_offset_ = offset;
    return Status::OK();
  }
  last_snapshot_offset_ = log_start;
  map_end_offset_ = log_start;
  return Status::OK();
}

Status WriterStateManager::TruncateAndReload(LogOffset log_start, LogOffset log_end,
                                             TimestampMs now) {
  std::vector<LogOffset> out_of_range;
  for (const auto& [offset, path] : snapshots_) {
    if (offset > log_end || offset <= log_start) out_of_range.push_back(offset);
  }
  for (LogOffset offset : out_of_range) STROM_RETURN_IF_ERROR(RemoveAndDeleteSnapshot(offset));
  if (log_end != map_end_offset_) {
    writers_.clear();
    return LoadFromSnapshot(log_start, now);
  }
  if (map_end_offset_ < log_start) map_end_offset_ = log_start;
  last_snapshot_offset_ = latest_snapshot_offset().value_or(log_start);
  return Status::OK();
}

Status WriterStateManager::TruncateFullyAndStartAt(LogOffset offset) {
  writers_.clear();
  std::vector<LogOffset> all = snapshot_offsets();
  for (LogOffset o : all) STROM_RETURN_IF_ERROR(RemoveAndDeleteSnapshot(o));
  last_snapshot_offset_ = LogOffset(0);
  map_end_offset_ = offset;
  return Status::OK();
}

Status WriterStateManager::RemoveStraySnapshots(
    const std::vector<LogOffset>& segment_base_offsets) {
  STROM_RETURN_IF_ERROR(LoadSnapshotList());
  std::optional<LogOffset> max_base;
  for (LogOffset o : segment_base_offsets) {
    if (!max_base || o > *max_base) max_base = o;
  }
  auto is_base = [&](LogOffset o) {
    return std::find(segment_base_offsets.begin(), segment_base_offsets.end(), o) !=
           segment_base_offsets.end();
  };
  std::optional<LogOffset> latest_stray;
  std::vector<LogOffset> offsets = snapshot_offsets();
  for (LogOffset o : offsets) {
    if (is_base(o)) continue;
    if (latest_stray) STROM_RETURN_IF_ERROR(RemoveAndDeleteSnapshot(*latest_stray));
    latest_stray = o;
  }
  if (latest_stray && max_base && *latest_stray < *max_base) {
    STROM_RETURN_IF_ERROR(RemoveAndDeleteSnapshot(*latest_stray));
  }
  return Status::OK();
}

std::optional<LogOffset> WriterStateManager::latest_snapshot_offset() const {
  if (snapshots_.empty()) return std::nullopt;
  return snapshots_.rbegin()->first;
}

std::vector<LogOffset> WriterStateManager::snapshot_offsets() const {
  std::vector<LogOffset> out;
  for (const auto& [offset, path] : snapshots_) out.push_back(offset);
  return out;
}

}  // namespace strom::log
