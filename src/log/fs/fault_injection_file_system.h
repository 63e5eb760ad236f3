#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "log/fs/file_system.h"

namespace strom::log {

/// What an injected write fault does to the write it hits.
enum class WriteFault {
  kFail,        ///< Nothing is written; the call returns kStorage.
  kShortWrite,  ///< The first half of the bytes is written, then the call returns kStorage.
};

/// A FileSystem wrapper for tests that injects the failures real disks produce (after
/// LevelDB's fault_injection_test and RocksDB's FaultInjectionTestFS):
///
/// - the Nth data write (WriteAt / Append) from now, optionally only on paths containing a
///   substring, fails or is cut short (one-shot);
/// - Sync() can be made to fail;
/// - reads can be made short (each ReadAt returns at most half of what was asked, at least
///   one byte), which callers must tolerate;
/// - SimulateCrash() forgets what a power loss would: per file, bytes written since its last
///   Sync() (in-place overwrites are undone, the length goes back to the synced length) and
///   files created since the last SyncDir() of their directory.
///
/// Limits of the crash model: deletions and renames are treated as durable at once, and a
/// synced file keeps everything written before the sync (no torn sectors).
///
/// Lifecycle: wraps `base` (not owned), which must outlive it; Files it hands out must not be
/// used after SimulateCrash(). Thread: not thread-safe; tests drive it from one thread.
class FaultInjectionFileSystem final : public FileSystem {
 public:
  explicit FaultInjectionFileSystem(FileSystem* base);
  ~FaultInjectionFileSystem() override;

  /// Makes the write `writes_from_now` writes ahead (0 = the next one) on a path containing
  /// `path_substring` hit by `fault`. Replaces an earlier pending injection.
  void InjectWriteFault(int64_t writes_from_now, WriteFault fault, std::string path_substring = "");
  /// Fails every Sync() and SyncDir() while set.
  void SetFailSync(bool fail) { fail_sync_ = fail; }
  /// When false, Sync() and SyncDir() only update what SimulateCrash() keeps and skip the
  /// real fsync (tests that rely on the simulated crash alone run much faster).
  void SetRealSyncs(bool real) { real_syncs_ = real; }
  /// Makes every ReadAt short while set.
  void SetShortReads(bool short_reads) { short_reads_ = short_reads; }
  /// Clears every pending fault.
  void ClearFaults();
  /// Data writes seen so far (matching or not).
  int64_t write_count() const { return write_count_; }
  /// Whether the injected write fault has fired.
  bool write_fault_fired() const { return fault_fired_; }

  /// Rolls every file back to what a crash right now would leave on disk. All open Files
  /// must have been dropped (or must not be used again).
  Status SimulateCrash();

  Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override;
  Status CreateDirs(const std::string& path) override { return base_->CreateDirs(path); }
  Result<std::vector<std::string>> List(const std::string& dir) override {
    return base_->List(dir);
  }
  Result<bool> Exists(const std::string& path) override { return base_->Exists(path); }
  Result<uint64_t> FileSize(const std::string& path) override { return base_->FileSize(path); }
  Status Delete(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Status DeleteRecursively(const std::string& path) override;

 private:
  class FaultyFile;

  /// What a crash would leave of one file.
  struct FileState {
    uint64_t synced_size = 0;
    /// Old contents of synced bytes overwritten since the last sync, oldest first.
    std::vector<std::pair<uint64_t, ByteBuffer>> undo;
    /// Created since the last SyncDir of its directory.
    bool created_unsynced = false;
  };

  /// Decides whether the current write gets a fault; counts it.
  bool TakeWriteFault(const std::string& path, WriteFault* fault);
  FileState& StateOf(const std::string& path);

  FileSystem* base_;
  std::map<std::string, FileState> files_;
  int64_t write_count_ = 0;
  int64_t fault_at_ = -1;
  WriteFault fault_kind_ = WriteFault::kFail;
  std::string fault_path_;
  bool fault_fired_ = false;
  bool fail_sync_ = false;
  bool short_reads_ = false;
  bool real_syncs_ = true;
};

}  // namespace strom::log
