#include "metadata/detail/durable_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "common/crc32c.h"

namespace strom::metadata::detail {
namespace {

Status OsError(std::string_view what, const std::string& path) {
  return MakeError(ErrorCode::kStorage, "{} {}: {}", what, path, std::strerror(errno));
}

std::string ParentOf(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return OsError("cannot open directory", dir);
  int rc = ::fsync(fd);
  Status status = rc == 0 ? Status::OK() : OsError("cannot fsync directory", dir);
  ::close(fd);
  return status;
}

Status WriteAll(int fd, ByteView data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return OsError("cannot write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status EnsureDir(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return Status::OK();
  std::filesystem::create_directories(dir, ec);
  if (ec) return MakeError(ErrorCode::kStorage, "cannot create directory {}: {}", dir, ec.message());
  return SyncDir(ParentOf(dir));
}

}  // namespace

Status WriteDurableFile(const std::string& path, std::string_view magic, uint32_t version,
                        ByteView payload) {
  STROM_CHECK(magic.size() == 8, "durable file magic must be 8 bytes");
  const std::string dir = ParentOf(path);
  STROM_RETURN_IF_ERROR(EnsureDir(dir));

  ByteBuffer header(kDurableFileHeaderSize, '\0');
  std::memcpy(header.data(), magic.data(), 8);
  StoreI32LE(header.data() + 8, static_cast<int32_t>(version));
  StoreI32LE(header.data() + 12, static_cast<int32_t>(crc32c::Value(payload)));
  StoreI64LE(header.data() + 16, static_cast<int64_t>(payload.size()));

  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return OsError("cannot create", tmp);
  Status status = WriteAll(fd, header, tmp);
  if (status.ok()) status = WriteAll(fd, payload, tmp);
  if (status.ok() && ::fsync(fd) != 0) status = OsError("cannot fsync", tmp);
  if (::close(fd) != 0 && status.ok()) status = OsError("cannot close", tmp);
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status err = OsError("cannot rename over", path);
    ::unlink(tmp.c_str());
    return err;
  }
  return SyncDir(dir);
}

Result<std::optional<ByteBuffer>> ReadDurableFile(const std::string& path,
                                                  std::string_view magic, uint32_t version) {
  // A left-over temp file is a write that never committed.
  const std::string tmp = path + ".tmp";
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) return OsError("cannot remove", tmp);

  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<ByteBuffer>();
    return OsError("cannot open", path);
  }
  ByteBuffer data;
  char buf[64 * 1024];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      Status err = OsError("cannot read", path);
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);

  if (data.size() < kDurableFileHeaderSize || ByteView(data).substr(0, 8) != magic) {
    return Corruption("{} is not a Strom state file (bad header)", path);
  }
  uint32_t file_version = static_cast<uint32_t>(LoadI32LE(data.data() + 8));
  if (file_version != version) {
    return Corruption("{} has format version {}, this build reads {}", path, file_version,
                      version);
  }
  uint32_t crc = static_cast<uint32_t>(LoadI32LE(data.data() + 12));
  uint64_t size = static_cast<uint64_t>(LoadI64LE(data.data() + 16));
  if (size != data.size() - kDurableFileHeaderSize) {
    return Corruption("{} is {} bytes, its header promises {}", path, data.size(),
                      size + kDurableFileHeaderSize);
  }
  ByteBuffer payload = data.substr(kDurableFileHeaderSize);
  if (crc32c::Value(payload) != crc) return Corruption("{} fails its checksum", path);
  return std::optional<ByteBuffer>(std::move(payload));
}

}  // namespace strom::metadata::detail
