#include "log/fs/posix_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace strom::log {
namespace {

Status IoError(std::string_view what, const std::string& path, int err) {
  return MakeError(ErrorCode::kStorage, "{} {}: {}", what, path, std::strerror(err));
}

class PosixFile final : public File {
 public:
  PosixFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), end_(size) {}
  ~PosixFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  const std::string& path() const override { return path_; }

  Result<size_t> ReadAt(uint64_t offset, size_t n, char* scratch) override {
    if (fd_ < 0) return Closed();
    while (true) {
      ssize_t r = ::pread(fd_, scratch, n, static_cast<off_t>(offset));
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return IoError("read", path_, errno);
    }
  }

  Status WriteAt(uint64_t offset, ByteView data) override {
    if (fd_ < 0) return Closed();
    size_t done = 0;
    while (done < data.size()) {
      ssize_t r =
          ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        if (offset + done > end_) end_ = offset + done;
        return IoError("write", path_, err);
      }
      done += static_cast<size_t>(r);
    }
    if (offset + done > end_) end_ = offset + done;
    return Status::OK();
  }

  Status Append(ByteView data) override { return WriteAt(end_, data); }

  Status Truncate(uint64_t size) override {
    if (fd_ < 0) return Closed();
    while (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      if (errno != EINTR) return IoError("truncate", path_, errno);
    }
    end_ = size;
    return Status::OK();
  }

  Status Sync() override {
    if (fd_ < 0) return Closed();
    while (::fdatasync(fd_) != 0) {
      if (errno != EINTR) return IoError("sync", path_, errno);
    }
    return Status::OK();
  }

  Result<uint64_t> Size() override {
    if (fd_ < 0) return Closed();
    struct stat st;
    if (::fstat(fd_, &st) != 0) return IoError("stat", path_, errno);
    end_ = static_cast<uint64_t>(st.st_size);
    return end_;
  }

  Result<std::shared_ptr<const SharedFileHandle>> ShareForSend() override {
    if (fd_ < 0) return Closed();
    int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return IoError("dup", path_, errno);
    return std::shared_ptr<const SharedFileHandle>(std::make_shared<SharedFileHandle>(fd));
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return IoError("close", path_, errno);
    return Status::OK();
  }

 private:
  Status Closed() const { return MakeError(ErrorCode::kStorage, "{}: file is closed", path_); }

  std::string path_;
  int fd_;
  // Where Append writes: the file length as this handle last set or observed it.
  uint64_t end_;
};

}  // namespace

SharedFileHandle::~SharedFileHandle() {
  if (fd_ >= 0) ::close(fd_);
}

Status SharedFileHandle::ReadFully(uint64_t offset, size_t n, char* out) const {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      return MakeError(ErrorCode::kStorage, "shared descriptor {}: read of {} bytes at {}: {}",
                       fd_, n, offset, std::strerror(errno));
    }
    if (r == 0) {
      return MakeError(ErrorCode::kStorage,
                       "shared descriptor {}: unexpected end of file reading {} bytes at {} "
                       "(got {})",
                       fd_, n, offset, done);
    }
    done += static_cast<size_t>(r);
  }
  return Status::OK();
}

PosixFileSystem* PosixFileSystem::Default() {
  static PosixFileSystem* fs = new PosixFileSystem();
  return fs;
}

Result<std::unique_ptr<File>> PosixFileSystem::Open(const std::string& path, OpenMode mode) {
  int flags = O_CLOEXEC;
  switch (mode) {
    case OpenMode::kRead:
      flags |= O_RDONLY;
      break;
    case OpenMode::kReadWrite:
      flags |= O_RDWR;
      break;
    case OpenMode::kCreate:
      flags |= O_RDWR | O_CREAT;
      break;
    case OpenMode::kCreateExclusive:
      flags |= O_RDWR | O_CREAT | O_EXCL;
      break;
  }
  int fd;
  do {
    fd = ::open(path.c_str(), flags, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return IoError("open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return IoError("stat", path, err);
  }
  return std::unique_ptr<File>(
      std::make_unique<PosixFile>(path, fd, static_cast<uint64_t>(st.st_size)));
}

Status PosixFileSystem::CreateDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return IoError("create directory", path, ec.value());
  return Status::OK();
}

Result<std::vector<std::string>> PosixFileSystem::List(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return IoError("list", dir, errno);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name(e->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return IoError("list", dir, err);
  return names;
}

Result<bool> PosixFileSystem::Exists(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return IoError("stat", path, errno);
}

Result<uint64_t> PosixFileSystem::FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return IoError("stat", path, errno);
  return static_cast<uint64_t>(st.st_size);
}

Status PosixFileSystem::Delete(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return IoError("delete", path, errno);
  return Status::OK();
}

Status PosixFileSystem::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return MakeError(ErrorCode::kStorage, "rename {} to {}: {}", from, to, std::strerror(errno));
  }
  return Status::OK();
}

Status PosixFileSystem::SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("open directory", dir, errno);
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("sync directory", dir, err);
  return Status::OK();
}

Status PosixFileSystem::DeleteRecursively(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return IoError("delete directory", path, ec.value());
  return Status::OK();
}

}  // namespace strom::log
