#include "replica/high_watermark_checkpoint.h"

#include <fmt/format.h>

#include <charconv>
#include <string_view>
#include <vector>

#include "log/fs/posix_file_system.h"

namespace strom::replica {
namespace {

constexpr int64_t kVersion = 0;

bool ParseInt(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Splits on runs of spaces and tabs (Fluss splits on any whitespace).
std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const size_t begin = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > begin) out.push_back(line.substr(begin, i - begin));
  }
  return out;
}

}  // namespace

Result<HighWatermarks> ReadHighWatermarks(log::FileSystem* fs, const std::string& path) {
  if (fs == nullptr) fs = log::PosixFileSystem::Default();
  STROM_ASSIGN_OR_RETURN(bool exists, fs->Exists(path));
  if (!exists) return HighWatermarks();
  STROM_ASSIGN_OR_RETURN(ByteBuffer bytes, fs->ReadFile(path));
  std::string_view text(bytes.data(), bytes.size());
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  auto corrupt = [&](std::string_view why) {
    return MakeError(ErrorCode::kStorage, "high watermark checkpoint {} is malformed: {}", path,
                     why);
  };
  int64_t version = -1;
  int64_t count = -1;
  if (lines.size() < 2 || !ParseInt(lines[0], &version)) return corrupt("no version line");
  if (version != kVersion) return corrupt(fmt::format("unknown version {}", version));
  if (!ParseInt(lines[1], &count) || count < 0) return corrupt("no entry count");
  HighWatermarks out;
  size_t entries = 0;
  for (size_t i = 2; i < lines.size(); ++i) {
    std::vector<std::string_view> f = Fields(lines[i]);
    if (f.empty()) continue;
    int64_t table = 0, partition = 0, bucket = 0, offset = 0;
    metadata::TableBucket key;
    bool ok = false;
    if (f.size() == 3) {
      ok = ParseInt(f[0], &table) && ParseInt(f[1], &bucket) && ParseInt(f[2], &offset);
    } else if (f.size() == 4) {
      ok = ParseInt(f[0], &table) && ParseInt(f[1], &partition) && ParseInt(f[2], &bucket) &&
           ParseInt(f[3], &offset);
      key.partition_id = PartitionId(partition);
    }
    if (!ok || bucket < 0 || bucket > INT32_MAX || offset < 0) {
      return corrupt(fmt::format("line {}: '{}'", i + 1, lines[i]));
    }
    key.table_id = TableId(table);
    key.bucket = BucketId(static_cast<int32_t>(bucket));
    out[key] = LogOffset(offset);
    ++entries;
  }
  if (static_cast<int64_t>(entries) != count) {
    return corrupt(fmt::format("{} entries announced, {} found", count, entries));
  }
  return out;
}

Status WriteHighWatermarks(log::FileSystem* fs, const std::string& path,
                           const HighWatermarks& high_watermarks) {
  if (fs == nullptr) fs = log::PosixFileSystem::Default();
  std::string text = fmt::format("{}\n{}\n", kVersion, high_watermarks.size());
  for (const auto& [bucket, offset] : high_watermarks) {
    if (bucket.partition_id) {
      fmt::format_to(std::back_inserter(text), "{} {} {} {}\n", bucket.table_id,
                     *bucket.partition_id, bucket.bucket, offset);
    } else {
      fmt::format_to(std::back_inserter(text), "{} {} {}\n", bucket.table_id, bucket.bucket,
                     offset);
    }
  }
  return fs->WriteFileAtomically(path, ByteView(text.data(), text.size()));
}

}  // namespace strom::replica
