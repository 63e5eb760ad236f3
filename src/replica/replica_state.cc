#include "replica/replica_state.h"

#include <fmt/format.h>

#include <charconv>
#include <string_view>

#include "log/fs/posix_file_system.h"

namespace strom::replica {
namespace {

constexpr std::string_view kMagic = "strom-leader-epoch 1 ";
constexpr std::string_view kFileName = "leader-epoch-checkpoint";

bool ParseInt(std::string_view text, int64_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Result<std::optional<EpochStart>> ReadEpochStart(log::FileSystem* fs, const std::string& dir) {
  if (fs == nullptr) fs = log::PosixFileSystem::Default();
  const std::string path = fmt::format("{}/{}", dir, kFileName);
  STROM_ASSIGN_OR_RETURN(bool exists, fs->Exists(path));
  if (!exists) return std::optional<EpochStart>();
  STROM_ASSIGN_OR_RETURN(ByteBuffer bytes, fs->ReadFile(path));
  std::string_view text(bytes.data(), bytes.size());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  int64_t epoch = 0;
  int64_t offset = 0;
  bool parsed = false;
  if (text.substr(0, kMagic.size()) == kMagic) {
    std::string_view rest = text.substr(kMagic.size());
    const size_t space = rest.find(' ');
    parsed = space != std::string_view::npos && ParseInt(rest.substr(0, space), &epoch) &&
             ParseInt(rest.substr(space + 1), &offset) && epoch >= 0 && epoch <= INT32_MAX &&
             offset >= 0;
  }
  if (!parsed) return MakeError(ErrorCode::kStorage, "leader epoch file {} is corrupt", path);
  return std::optional<EpochStart>(
      EpochStart{LeaderEpoch(static_cast<int32_t>(epoch)), LogOffset(offset)});
}

Status WriteEpochStart(log::FileSystem* fs, const std::string& dir, EpochStart start) {
  if (fs == nullptr) fs = log::PosixFileSystem::Default();
  const std::string text = fmt::format("{}{} {}\n", kMagic, start.epoch, start.start_offset);
  return fs->WriteFileAtomically(fmt::format("{}/{}", dir, kFileName),
                                 ByteView(text.data(), text.size()));
}

}  // namespace strom::replica
