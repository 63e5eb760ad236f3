#pragma once

#include "log/fs/file_system.h"

namespace strom::log {

/// FileSystem on POSIX calls (open, pread, pwrite, ftruncate, fdatasync, rename, ...).
///
/// Stateless apart from the handles it returns; one instance can serve every tablet.
/// Interrupted calls (EINTR) are retried and partial writes are continued, so a failure
/// reported here is a real one. Sync() uses fdatasync, SyncDir() fsyncs the directory.
class PosixFileSystem final : public FileSystem {
 public:
  /// A process-wide instance.
  static PosixFileSystem* Default();

  Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override;
  Status CreateDirs(const std::string& path) override;
  Result<std::vector<std::string>> List(const std::string& dir) override;
  Result<bool> Exists(const std::string& path) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Status Delete(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Status DeleteRecursively(const std::string& path) override;
};

}  // namespace strom::log
