#include "log/detail/index_file.h"

#include <algorithm>
#include <limits>

namespace strom::log::detail {

IndexFile::IndexFile(FileSystem* fs, std::string path, LogOffset base_offset,
                     int64_t max_index_size, size_t entry_size)
    : fs_(fs),
      path_(std::move(path)),
      base_offset_(base_offset),
      max_index_size_(max_index_size),
      entry_size_(entry_size) {}

Status IndexFile::Open() {
  STROM_ASSIGN_OR_RETURN(bool existed, fs_->Exists(path_));
  STROM_ASSIGN_OR_RETURN(file_, fs_->Open(path_, OpenMode::kCreate));
  if (!existed) {
    data_.clear();
    length_ = 0;
    return Resize(max_index_size_);
  }
  STROM_ASSIGN_OR_RETURN(uint64_t size, file_->Size());
  length_ = static_cast<int64_t>(size);
  size_t used = static_cast<size_t>(size) / entry_size_ * entry_size_;
  data_.assign(used, '\0');
  return file_->ReadFully(0, used, data_.data());
}

Status IndexFile::AppendEntry(ByteView bytes) {
  STROM_DCHECK(bytes.size() == entry_size_, "index entry of {} bytes", bytes.size());
  if (entries() >= max_entries()) {
    return MakeError(ErrorCode::kLogStorage, "index {} is full ({} entries)", path_, entries());
  }
  STROM_RETURN_IF_ERROR(file_->WriteAt(data_.size(), bytes));
  data_.append(bytes.data(), bytes.size());
  return Status::OK();
}

Status IndexFile::Resize(int64_t new_size) {
  int64_t rounded =
      new_size / static_cast<int64_t>(entry_size_) * static_cast<int64_t>(entry_size_);
  rounded = std::max<int64_t>(rounded, static_cast<int64_t>(data_.size()));
  if (rounded == length_) return Status::OK();
  STROM_RETURN_IF_ERROR(file_->Truncate(static_cast<uint64_t>(rounded)));
  length_ = rounded;
  return Status::OK();
}

Status IndexFile::Reset() {
  data_.clear();
  return Resize(max_index_size_);
}

Status IndexFile::Flush() { return file_->Sync(); }

Status IndexFile::Close() {
  if (file_ == nullptr) return Status::OK();
  STROM_RETURN_IF_ERROR(TrimToValidSize());
  Status st = file_->Close();
  file_.reset();
  return st;
}

Status IndexFile::DeleteIfExists() {
  if (file_ != nullptr) {
    file_->Close().IgnoreError();
    file_.reset();
  }
  Result<bool> deleted = fs_->DeleteIfExists(path_);
  return deleted.ok() ? Status::OK() : deleted.status();
}

std::optional<int32_t> IndexFile::ToRelative(LogOffset offset) const {
  int64_t relative = offset - base_offset_;
  if (relative < 0 || relative > std::numeric_limits<int32_t>::max()) return std::nullopt;
  return static_cast<int32_t>(relative);
}

}  // namespace strom::log::detail
