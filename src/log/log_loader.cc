#include "log/log_loader.h"

#include <algorithm>
#include <set>

#include "common/logging.h"
#include "log/log_file_names.h"

namespace strom::log {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// True when both index files of a sealed segment exist and hold whole entries. Their
// contents are trusted after that, as Fluss trusts the indexes of flushed segments.
Result<bool> IndexFilesLookSound(FileSystem* fs, const LogSegment& segment) {
  for (auto [path, entry_size] : {std::pair{&segment.offset_index_path(), OffsetIndex::kEntrySize},
                                  std::pair{&segment.time_index_path(), TimeIndex::kEntrySize}}) {
    STROM_ASSIGN_OR_RETURN(bool exists, fs->Exists(*path));
    if (!exists) return false;
    STROM_ASSIGN_OR_RETURN(uint64_t size, fs->FileSize(*path));
    if (size % entry_size != 0) return false;
  }
  return true;
}

}  // namespace

Status RebuildWriterState(WriterStateManager& writers, LogSegments& segments, LogOffset log_start,
                          LogOffset last_offset, TimestampMs now) {
  std::set<LogOffset> offsets_to_snapshot{last_offset};
  if (LogSegment* last = segments.last()) {
    offsets_to_snapshot.insert(last->base_offset());
    if (LogSegment* lower = segments.LowerSegment(last->base_offset())) {
      offsets_to_snapshot.insert(lower->base_offset());
    }
  }
  STROM_RETURN_IF_ERROR(writers.TruncateAndReload(log_start, last_offset, now));
  if (last_offset > writers.map_end_offset()) {
    for (LogSegment* segment : segments.Values(writers.map_end_offset(), last_offset)) {
      LogOffset start = std::max({segment->base_offset(), writers.map_end_offset(), log_start});
      writers.UpdateMapEndOffset(start);
      if (offsets_to_snapshot.count(segment->base_offset()) > 0) {
        STROM_RETURN_IF_ERROR(writers.TakeSnapshot());
      }
      STROM_RETURN_IF_ERROR(
          segment->ScanBatches(start, last_offset, [&writers](const detail::BatchHeader& batch) {
            if (batch.has_writer_id()) {
              writers.ReplayBatch(batch.writer_id, batch.batch_sequence, batch.base_offset,
                                  batch.last_offset(), batch.commit_timestamp);
            }
            return Status::OK();
          }));
    }
  }
  writers.UpdateMapEndOffset(last_offset);
  return writers.TakeSnapshot();
}

Result<LoadedLog> LoadLog(const LogLoadParams& params) {
  FileSystem* fs = params.fs;
  const std::string& dir = params.dir;
  STROM_RETURN_IF_ERROR(fs->CreateDirs(dir));
  STROM_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->List(dir));
  std::sort(names.begin(), names.end());

  LoadedLog loaded;
  std::set<LogOffset> log_bases;
  for (const std::string& name : names) {
    if (EndsWith(name, kTempFileSuffix) || EndsWith(name, kDeletedFileSuffix)) {
      STROM_LOG_INFO("log", "deleting left-over file {}/{}", dir, name);
      STROM_RETURN_IF_ERROR(fs->Delete(JoinPath(dir, name)));
    } else if (name == kCleanShutdownFileName) {
      loaded.clean_shutdown = true;
    } else if (auto base = ParseOffsetFileName(name, kLogFileSuffix)) {
      log_bases.insert(*base);
    }
  }
  for (const std::string& name : names) {
    std::optional<LogOffset> base = ParseOffsetFileName(name, kIndexFileSuffix);
    if (!base) base = ParseOffsetFileName(name, kTimeIndexFileSuffix);
    if (base && log_bases.count(*base) == 0) {
      STROM_LOG_WARN("log", "deleting index file {}/{} that has no log file", dir, name);
      STROM_RETURN_IF_ERROR(fs->Delete(JoinPath(dir, name)));
    }
  }

  LogSegments segments;
  for (LogOffset base : log_bases) {
    STROM_ASSIGN_OR_RETURN(std::unique_ptr<LogSegment> segment,
                           LogSegment::Open(fs, dir, base, params.config));
    segments.Add(std::move(segment));
  }

  if (segments.empty()) {
    STROM_ASSIGN_OR_RETURN(std::unique_ptr<LogSegment> segment,
                           LogSegment::Create(fs, dir, LogOffset(0), params.config));
    segments.Add(std::move(segment));
    STROM_RETURN_IF_ERROR(fs->SyncDir(dir));
  } else {
    LogOffset recover_from = segments.last()->base_offset();
    if (params.recovery_point && *params.recovery_point < recover_from) {
      recover_from = *params.recovery_point;
    }
    LogSegment* first_to_recover = segments.FloorSegment(recover_from);
    if (first_to_recover == nullptr) first_to_recover = segments.first();
    std::vector<LogSegment*> all = segments.Values();
    std::vector<LogSegment*> recovered;
    for (size_t i = 0; i < all.size(); ++i) {
      LogSegment* segment = all[i];
      const bool is_last = i + 1 == all.size();
      bool full_recovery =
          !loaded.clean_shutdown && segment->base_offset() >= first_to_recover->base_offset();
      int64_t truncated = 0;
      if (!full_recovery) {
        STROM_ASSIGN_OR_RETURN(bool sound, IndexFilesLookSound(fs, *segment));
        if (sound && is_last) {
          Status sane = segment->SanityCheck();
          if (sane.ok()) {
            STROM_ASSIGN_OR_RETURN(truncated, segment->RecoverTail());
          } else {
            STROM_LOG_WARN("log", "rebuilding the indexes of {}: {}", segment->log_path(),
                           sane.ToString());
            sound = false;
          }
        }
        if (!sound) full_recovery = true;
      }
      if (full_recovery) {
        STROM_ASSIGN_OR_RETURN(truncated, segment->Recover());
        recovered.push_back(segment);
      }
      loaded.truncated_bytes += truncated;
      if (truncated > 0 && !is_last) {
        // Everything after a cut in the middle of the log is unreachable: drop it.
        for (size_t j = i + 1; j < all.size(); ++j) {
          STROM_LOG_WARN("log", "deleting segment {} after corruption in {}", all[j]->log_path(),
                         segment->log_path());
          std::unique_ptr<LogSegment> dropped = segments.Remove(all[j]->base_offset());
          STROM_RETURN_IF_ERROR(dropped->DeleteFiles());
          ++loaded.segments_dropped;
        }
        break;
      }
    }
    for (LogSegment* segment : recovered) {
      if (segments.Contains(segment->base_offset())) STROM_RETURN_IF_ERROR(segment->Flush());
    }
    if (!recovered.empty() || loaded.segments_dropped > 0) {
      STROM_RETURN_IF_ERROR(fs->SyncDir(dir));
    }
  }

  LogSegment* active = segments.last();
  STROM_RETURN_IF_ERROR(active->ResizeIndexesToMax());
  STROM_ASSIGN_OR_RETURN(LogOffset next_offset, active->ReadNextOffset());
  STROM_ASSIGN_OR_RETURN(TimestampMs max_timestamp, LocalLog::ComputeMaxTimestamp(segments));

  WriterStateManager& writers = *params.writers;
  STROM_RETURN_IF_ERROR(writers.RemoveStraySnapshots(segments.BaseOffsets()));
  // Fluss passes 0 as the log start here too: snapshots below the real log start stay
  // usable, which keeps more idempotence state after retention deleted segments.
  STROM_RETURN_IF_ERROR(
      RebuildWriterState(writers, segments, LogOffset(0), next_offset, params.now));

  if (loaded.clean_shutdown) {
    STROM_RETURN_IF_ERROR(fs->Delete(JoinPath(dir, kCleanShutdownFileName)));
    STROM_RETURN_IF_ERROR(fs->SyncDir(dir));
  }
  // Everything below the log end is on disk now: it was fsynced before the clean shutdown,
  // or recovery fsynced what it kept.
  loaded.local_log = std::make_unique<LocalLog>(fs, dir, params.config, std::move(segments),
                                                next_offset, next_offset, max_timestamp);
  return loaded;
}

}  // namespace strom::log
