#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/result.h"
#include "kv/auto_increment.h"
#include "log/fs/file_system.h"

namespace strom::replica {

/// The auto-increment id counter of one primary-key table, kept in a file of the table
/// directory (`{table dir}/auto-increment`), where Fluss keeps it in ZooKeeper. Buckets reserve
/// ranges of `table.auto-increment.cache-size` ids from it, so it is written once per range,
/// not per row.
///
/// Durability: GetAndAdd returns only after the new value is on disk (written beside, synced,
/// renamed over the old file, directory synced), so a range once handed out is never handed
/// out again, whatever crash follows. File format: one line, `strom-auto-increment 1 <value>`.
///
/// Thread: any (a mutex guards the value). Ownership: owns the value; borrows the file system.
class FileSequenceIdCounter final : public kv::SequenceIdCounter {
 public:
  /// Reads the counter of `path` (0 when the file does not exist yet); kStorage when the file
  /// cannot be read or does not parse.
  static Result<std::unique_ptr<FileSequenceIdCounter>> Open(std::string path,
                                                             log::FileSystem* fs = nullptr);

  Result<int64_t> GetAndAdd(int64_t delta) override;

  int64_t value() const;
  const std::string& path() const { return path_; }

 private:
  FileSequenceIdCounter(std::string path, log::FileSystem* fs, int64_t value)
      : path_(std::move(path)), fs_(fs), value_(value) {}

  std::string path_;
  log::FileSystem* fs_;
  mutable std::mutex mu_;
  int64_t value_;
};

}  // namespace strom::replica
