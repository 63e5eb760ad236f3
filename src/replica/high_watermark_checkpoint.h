#pragma once

#include <map>
#include <string>

#include "common/ids.h"
#include "common/result.h"
#include "log/fs/file_system.h"
#include "metadata/table_bucket.h"

// The high watermark of every bucket a tablet server hosts, saved in one file of its data
// directory (Fluss's `high-watermark-checkpoint`, an OffsetCheckpointFile). A replica that
// opens after a restart starts from the saved value instead of treating its whole log as
// committed; a bucket missing from the file starts at 0. The value may be behind the true
// high watermark (it is written every `log.replica.high-watermark.checkpoint-interval`), never
// ahead of it: a leader raises it again from its followers' progress, a follower from its
// leader's FetchLog answers.
//
// Format, as Fluss writes it (text, one item per line): the version (0), the number of
// entries, then per entry "tableId bucket offset", or "tableId partitionId bucket offset" for
// a bucket of a partition.

namespace strom::replica {

using HighWatermarks = std::map<metadata::TableBucket, LogOffset>;

/// The file's name inside `data.dir`.
inline constexpr char kHighWatermarkCheckpointFile[] = "high-watermark-checkpoint";

/// Reads the file at `path`: empty when it does not exist; kStorage when it cannot be read
/// or is malformed (unknown version, wrong count, a line that does not parse).
Result<HighWatermarks> ReadHighWatermarks(log::FileSystem* fs, const std::string& path);

/// Replaces the file atomically (temporary file, fsync, rename).
Status WriteHighWatermarks(log::FileSystem* fs, const std::string& path,
                           const HighWatermarks& high_watermarks);

}  // namespace strom::replica
