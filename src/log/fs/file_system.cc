#include "log/fs/file_system.h"

#include <fmt/format.h>

namespace strom::log {

Status File::ReadFully(uint64_t offset, size_t n, char* scratch) {
  size_t done = 0;
  while (done < n) {
    STROM_ASSIGN_OR_RETURN(size_t got, ReadAt(offset + done, n - done, scratch + done));
    if (got == 0) {
      return MakeError(ErrorCode::kStorage,
                       "{}: unexpected end of file reading {} bytes at {} (got {})", path(), n,
                       offset, done);
    }
    done += got;
  }
  return Status::OK();
}

Result<bool> FileSystem::DeleteIfExists(const std::string& path) {
  STROM_ASSIGN_OR_RETURN(bool exists, Exists(path));
  if (!exists) return false;
  STROM_RETURN_IF_ERROR(Delete(path));
  return true;
}

Status FileSystem::WriteFileAtomically(const std::string& path, ByteView data) {
  std::string tmp = path + ".tmp";
  {
    STROM_ASSIGN_OR_RETURN(std::unique_ptr<File> file, Open(tmp, OpenMode::kCreate));
    STROM_RETURN_IF_ERROR(file->Truncate(0));
    STROM_RETURN_IF_ERROR(file->Append(data));
    STROM_RETURN_IF_ERROR(file->Sync());
    STROM_RETURN_IF_ERROR(file->Close());
  }
  STROM_RETURN_IF_ERROR(Rename(tmp, path));
  return SyncDir(ParentDir(path));
}

Result<ByteBuffer> FileSystem::ReadFile(const std::string& path) {
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<File> file, Open(path, OpenMode::kRead));
  STROM_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  ByteBuffer out(size, '\0');
  STROM_RETURN_IF_ERROR(file->ReadFully(0, size, out.data()));
  STROM_RETURN_IF_ERROR(file->Close());
  return out;
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (dir.back() == '/') return fmt::format("{}{}", dir, name);
  return fmt::format("{}/{}", dir, name);
}

std::string ParentDir(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace strom::log
