#include "replica/auto_increment_counter.h"

#include <fmt/format.h>

#include <charconv>
#include <string_view>

#include "log/fs/posix_file_system.h"

namespace strom::replica {
namespace {

constexpr std::string_view kMagic = "strom-auto-increment 1 ";

}  // namespace

Result<std::unique_ptr<FileSequenceIdCounter>> FileSequenceIdCounter::Open(std::string path,
                                                                           log::FileSystem* fs) {
  if (fs == nullptr) fs = log::PosixFileSystem::Default();
  int64_t value = 0;
  STROM_ASSIGN_OR_RETURN(bool exists, fs->Exists(path));
  if (exists) {
    STROM_ASSIGN_OR_RETURN(ByteBuffer bytes, fs->ReadFile(path));
    std::string_view text(bytes.data(), bytes.size());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    bool parsed = false;
    if (text.substr(0, kMagic.size()) == kMagic) {
      std::string_view digits = text.substr(kMagic.size());
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      parsed = ec == std::errc() && end == digits.data() + digits.size() && value >= 0;
    }
    if (!parsed) {
      return MakeError(ErrorCode::kStorage, "auto-increment counter file {} is corrupt", path);
    }
  }
  return std::unique_ptr<FileSequenceIdCounter>(
      new FileSequenceIdCounter(std::move(path), fs, value));
}

Result<int64_t> FileSequenceIdCounter::GetAndAdd(int64_t delta) {
  std::lock_guard<std::mutex> lock(mu_);
  if (delta < 0 || value_ > INT64_MAX - delta) {
    return MakeError(ErrorCode::kUnknownServerError,
                     "auto-increment counter {} cannot grow by {} from {}", path_, delta, value_);
  }
  const int64_t next = value_ + delta;
  std::string text = fmt::format("{}{}\n", kMagic, next);
  STROM_RETURN_IF_ERROR(fs_->WriteFileAtomically(path_, ByteView(text.data(), text.size())));
  const int64_t previous = value_;
  value_ = next;
  return previous;
}

int64_t FileSequenceIdCounter::value() const {
  std::lock_guard<std::mutex> lock(mu_);
  return value_;
}

}  // namespace strom::replica
