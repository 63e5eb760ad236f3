#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/status.h"

/// The narrow file interface the log (and later the KV snapshot code) does all its I/O
/// through. Storage code never calls POSIX directly: production uses PosixFileSystem, tests
/// wrap it in FaultInjectionFileSystem to fail writes, shorten reads and writes, or drop
/// unsynced bytes at a simulated crash (STYLE.md §3.8, habit 1).
///
/// Every failure is a Status with ErrorCode::kStorage (STORAGE_EXCEPTION) and a message naming
/// the path and the OS error; the log layer turns it into LOG_STORAGE_EXCEPTION at its API.
/// Paths are plain strings joined with '/'.
namespace strom::log {

/// How FileSystem::Open treats a missing or existing file.
enum class OpenMode {
  kRead,            ///< Existing file, read-only.
  kReadWrite,       ///< Existing file, read and write.
  kCreate,          ///< Read and write; created empty when missing, kept when present.
  kCreateExclusive  ///< Read and write; fails when the file already exists.
};

/// A read-only reference to an open file that outlives the File it came from (it holds a
/// duplicate of the descriptor): what a zero-copy send of stored bytes (sendfile) keeps
/// until the bytes are on the socket, even when the segment is closed or deleted meanwhile.
/// The bytes themselves are not pinned: a truncation of the file shows through.
///
/// Lifecycle: made by File::ShareForSend, closed when the last reference goes. Thread: any
/// (immutable).
class SharedFileHandle {
 public:
  explicit SharedFileHandle(int fd) : fd_(fd) {}
  ~SharedFileHandle();
  SharedFileHandle(const SharedFileHandle&) = delete;
  SharedFileHandle& operator=(const SharedFileHandle&) = delete;

  /// The descriptor, for sendfile; never closed by the caller.
  int fd() const { return fd_; }

  /// Reads exactly `n` bytes at `offset` (pread, looping over short reads): what a sender
  /// that rewrites part of the bytes (projected fetches) reads, leaving the rest in the
  /// file. Reaching the end of the file first is kStorage.
  Status ReadFully(uint64_t offset, size_t n, char* out) const;

 private:
  int fd_;
};

/// An open file. Reads and writes are positional (pread / pwrite) except Append, which writes
/// at the file's current end as tracked by the handle.
///
/// Lifecycle: returned by FileSystem::Open, closed by Close() or the destructor (which drops
/// any close error; call Close() where it matters). Thread: not thread-safe; one owner.
/// Durability: nothing written is durable before Sync() returns OK.
class File {
 public:
  virtual ~File() = default;

  /// The path the file was opened with.
  virtual const std::string& path() const = 0;

  /// Reads up to `n` bytes at `offset` into `scratch`. May return fewer bytes than asked (at
  /// the end of the file, or a short read); 0 means end of file.
  virtual Result<size_t> ReadAt(uint64_t offset, size_t n, char* scratch) = 0;

  /// Writes all of `data` at `offset`, growing the file when it extends past the end.
  virtual Status WriteAt(uint64_t offset, ByteView data) = 0;

  /// Writes all of `data` at the end of the file. On failure part of `data` may have been
  /// written; Size() then reports what is really in the file.
  virtual Status Append(ByteView data) = 0;

  /// Sets the file length: shrinks it, or grows it with zero bytes (sparse where supported).
  virtual Status Truncate(uint64_t size) = 0;

  /// Makes the data written so far (and the file length) durable.
  virtual Status Sync() = 0;

  /// The current length of the file.
  virtual Result<uint64_t> Size() = 0;

  /// Releases the handle. Further calls fail.
  virtual Status Close() = 0;

  /// A handle for zero-copy sends of this file's bytes, or nullptr when the file has no
  /// descriptor that can be sent from (test doubles): the caller then reads with ReadAt.
  virtual Result<std::shared_ptr<const SharedFileHandle>> ShareForSend() {
    return std::shared_ptr<const SharedFileHandle>();
  }

  /// Reads exactly `n` bytes at `offset`, looping over short reads. Reaching the end of the
  /// file first is kStorage ("unexpected end of file").
  Status ReadFully(uint64_t offset, size_t n, char* scratch);
};

/// A file system: a factory of Files plus the directory operations the log needs.
///
/// Thread: implementations are safe to share between owners as long as two owners do not
/// work on the same path. Durability: creating, renaming and deleting entries is durable only
/// after SyncDir() on the parent directory.
class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) = 0;

  /// Creates the directory and any missing parents; OK when it exists.
  virtual Status CreateDirs(const std::string& path) = 0;
  /// Names (not paths) of the entries of a directory, in no particular order, without "."
  /// and "..".
  virtual Result<std::vector<std::string>> List(const std::string& dir) = 0;
  virtual Result<bool> Exists(const std::string& path) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  /// Deletes a file. Deleting a missing file is kStorage; use DeleteIfExists when that is
  /// fine.
  virtual Status Delete(const std::string& path) = 0;
  /// Atomically replaces `to` with `from`.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  /// Makes the directory's entries (creations, renames, deletions) durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  /// Deletes a directory and everything below it; OK when it does not exist.
  virtual Status DeleteRecursively(const std::string& path) = 0;

  /// Deletes `path` when it exists; returns whether it did.
  Result<bool> DeleteIfExists(const std::string& path);
  /// Writes `data` to `path` so that a crash leaves either the old file or the complete new
  /// one: write `path`.tmp, sync it, rename over `path`, sync the directory.
  Status WriteFileAtomically(const std::string& path, ByteView data);
  /// Reads a whole file.
  Result<ByteBuffer> ReadFile(const std::string& path);
};

/// `dir` + '/' + `name`.
std::string JoinPath(std::string_view dir, std::string_view name);
/// The directory part of a path ("." when there is none).
std::string ParentDir(std::string_view path);

}  // namespace strom::log
