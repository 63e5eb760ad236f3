#include "log/fs/fault_injection_file_system.h"

#include <algorithm>

namespace strom::log {
namespace {

Status InjectedError(std::string_view what, const std::string& path) {
  return MakeError(ErrorCode::kStorage, "injected {} failure on {}", what, path);
}

}  // namespace

class FaultInjectionFileSystem::FaultyFile final : public File {
 public:
  FaultyFile(FaultInjectionFileSystem* fs, std::unique_ptr<File> base)
      : fs_(fs), base_(std::move(base)) {}

  const std::string& path() const override { return base_->path(); }

  Result<size_t> ReadAt(uint64_t offset, size_t n, char* scratch) override {
    if (fs_->short_reads_ && n > 1) n = n / 2;
    return base_->ReadAt(offset, n, scratch);
  }

  Status WriteAt(uint64_t offset, ByteView data) override {
    WriteFault fault;
    bool faulty = fs_->TakeWriteFault(path(), &fault);
    if (faulty && fault == WriteFault::kFail) return InjectedError("write", path());
    if (faulty) data = data.substr(0, data.size() / 2);
    STROM_RETURN_IF_ERROR(SaveUndo(offset, data.size()));
    STROM_RETURN_IF_ERROR(base_->WriteAt(offset, data));
    if (faulty) return InjectedError("short write", path());
    return Status::OK();
  }

  Status Append(ByteView data) override {
    STROM_ASSIGN_OR_RETURN(uint64_t end, base_->Size());
    return WriteAt(end, data);
  }

  Status Truncate(uint64_t size) override {
    STROM_RETURN_IF_ERROR(base_->Truncate(size));
    FileState& state = fs_->StateOf(path());
    // A shrink is treated as durable at once (see the class comment).
    state.synced_size = std::min(state.synced_size, size);
    return Status::OK();
  }

  Status Sync() override {
    if (fs_->fail_sync_) return InjectedError("sync", path());
    if (fs_->real_syncs_) STROM_RETURN_IF_ERROR(base_->Sync());
    STROM_ASSIGN_OR_RETURN(uint64_t size, base_->Size());
    FileState& state = fs_->StateOf(path());
    state.synced_size = size;
    state.undo.clear();
    return Status::OK();
  }

  Result<uint64_t> Size() override { return base_->Size(); }
  Status Close() override { return base_->Close(); }

 private:
  // Remembers the synced bytes an overwrite is about to replace.
  Status SaveUndo(uint64_t offset, size_t n) {
    FileState& state = fs_->StateOf(path());
    if (offset >= state.synced_size || n == 0) return Status::OK();
    size_t keep = static_cast<size_t>(std::min<uint64_t>(state.synced_size - offset, n));
    ByteBuffer old(keep, '\0');
    STROM_RETURN_IF_ERROR(base_->ReadFully(offset, keep, old.data()));
    state.undo.emplace_back(offset, std::move(old));
    return Status::OK();
  }

  FaultInjectionFileSystem* fs_;
  std::unique_ptr<File> base_;
};

FaultInjectionFileSystem::FaultInjectionFileSystem(FileSystem* base) : base_(base) {}
FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

void FaultInjectionFileSystem::InjectWriteFault(int64_t writes_from_now, WriteFault fault,
                                                std::string path_substring) {
  fault_at_ = writes_from_now;
  fault_kind_ = fault;
  fault_path_ = std::move(path_substring);
  fault_fired_ = false;
}

void FaultInjectionFileSystem::ClearFaults() {
  fault_at_ = -1;
  fail_sync_ = false;
  short_reads_ = false;
}

bool FaultInjectionFileSystem::TakeWriteFault(const std::string& path, WriteFault* fault) {
  ++write_count_;
  if (fault_at_ < 0) return false;
  if (!fault_path_.empty() && path.find(fault_path_) == std::string::npos) return false;
  if (fault_at_ > 0) {
    --fault_at_;
    return false;
  }
  fault_at_ = -1;
  fault_fired_ = true;
  *fault = fault_kind_;
  return true;
}

FaultInjectionFileSystem::FileState& FaultInjectionFileSystem::StateOf(const std::string& path) {
  return files_[path];
}

Result<std::unique_ptr<File>> FaultInjectionFileSystem::Open(const std::string& path,
                                                             OpenMode mode) {
  STROM_ASSIGN_OR_RETURN(bool existed, base_->Exists(path));
  STROM_ASSIGN_OR_RETURN(std::unique_ptr<File> file, base_->Open(path, mode));
  auto it = files_.find(path);
  if (it == files_.end()) {
    FileState state;
    if (existed) {
      // A file this wrapper has not seen is taken as fully durable.
      STROM_ASSIGN_OR_RETURN(state.synced_size, file->Size());
    } else {
      state.created_unsynced = true;
    }
    files_.emplace(path, std::move(state));
  }
  return std::unique_ptr<File>(std::make_unique<FaultyFile>(this, std::move(file)));
}

Status FaultInjectionFileSystem::Delete(const std::string& path) {
  STROM_RETURN_IF_ERROR(base_->Delete(path));
  files_.erase(path);
  return Status::OK();
}

Status FaultInjectionFileSystem::Rename(const std::string& from, const std::string& to) {
  STROM_RETURN_IF_ERROR(base_->Rename(from, to));
  auto it = files_.find(from);
  if (it == files_.end()) {
    files_.erase(to);
  } else {
    FileState state = std::move(it->second);
    files_.erase(it);
    files_[to] = std::move(state);
  }
  return Status::OK();
}

Status FaultInjectionFileSystem::SyncDir(const std::string& dir) {
  if (fail_sync_) return InjectedError("directory sync", dir);
  if (real_syncs_) STROM_RETURN_IF_ERROR(base_->SyncDir(dir));
  for (auto& [path, state] : files_) {
    if (ParentDir(path) == dir) state.created_unsynced = false;
  }
  return Status::OK();
}

Status FaultInjectionFileSystem::DeleteRecursively(const std::string& path) {
  STROM_RETURN_IF_ERROR(base_->DeleteRecursively(path));
  std::string prefix = path + "/";
  for (auto it = files_.begin(); it != files_.end();) {
    if (it->first == path || it->first.compare(0, prefix.size(), prefix) == 0) {
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
  return Status::OK();
}

Status FaultInjectionFileSystem::SimulateCrash() {
  for (auto& [path, state] : files_) {
    STROM_ASSIGN_OR_RETURN(bool exists, base_->Exists(path));
    if (!exists) continue;
    if (state.created_unsynced) {
      STROM_RETURN_IF_ERROR(base_->Delete(path));
      continue;
    }
    STROM_ASSIGN_OR_RETURN(std::unique_ptr<File> file, base_->Open(path, OpenMode::kReadWrite));
    for (auto it = state.undo.rbegin(); it != state.undo.rend(); ++it) {
      STROM_RETURN_IF_ERROR(file->WriteAt(it->first, it->second));
    }
    STROM_RETURN_IF_ERROR(file->Truncate(state.synced_size));
    STROM_RETURN_IF_ERROR(file->Sync());
    STROM_RETURN_IF_ERROR(file->Close());
  }
  files_.clear();
  return Status::OK();
}

}  // namespace strom::log
