#include "kv/kv_checkpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

namespace strom::kv {

namespace {

constexpr std::string_view kPrefix = "chk-";
constexpr std::string_view kTmpSuffix = ".tmp";
constexpr std::string_view kMetadataName = "_METADATA";

Status FsError(std::string_view what, const std::error_code& ec) {
  return MakeError(ErrorCode::kKvStorage, "{}: {}", what, ec.message());
}

// The id of a directory name "chk-{20 digits}", or nullopt.
std::optional<int64_t> ParseName(std::string_view name) {
  if (name.size() != kPrefix.size() + 20 || name.substr(0, kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  int64_t id = 0;
  for (char c : name.substr(kPrefix.size())) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + (c - '0');
  }
  return id;
}

}  // namespace

std::string KvCheckpointMetadata::ToJson() const {
  nlohmann::ordered_json j;
  j["version"] = kVersion;
  j["checkpoint_id"] = checkpoint_id;
  j["table_id"] = table_id.value();
  j["log_offset"] = log_offset.value();
  if (row_count) j["row_count"] = *row_count;
  if (auto_inc_range) {
    j["auto_inc_id_range"] =
        nlohmann::ordered_json::array({{{"column_id", auto_inc_range->column_id},
                                        {"start", auto_inc_range->start},
                                        {"end", auto_inc_range->end}}});
  }
  j["created_at"] = created_at.value();
  return j.dump();
}

Result<KvCheckpointMetadata> KvCheckpointMetadata::FromJson(ByteView json) {
  try {
    auto j = nlohmann::json::parse(json);
    if (j.at("version").get<int32_t>() != kVersion) {
      return Corruption("KV checkpoint metadata version {} is not supported",
                        j.at("version").get<int32_t>());
    }
    KvCheckpointMetadata m;
    m.checkpoint_id = j.at("checkpoint_id").get<int64_t>();
    m.table_id = TableId(j.at("table_id").get<int64_t>());
    m.log_offset = LogOffset(j.at("log_offset").get<int64_t>());
    if (j.contains("row_count")) m.row_count = j.at("row_count").get<int64_t>();
    if (j.contains("auto_inc_id_range")) {
      const auto& r = j.at("auto_inc_id_range").at(0);
      m.auto_inc_range = AutoIncIdRange{r.at("column_id").get<int32_t>(),
                                        r.at("start").get<int64_t>(), r.at("end").get<int64_t>()};
    }
    m.created_at = TimestampMs(j.value("created_at", int64_t{0}));
    if (m.log_offset.value() < 0 || m.checkpoint_id < 0) {
      return Corruption("KV checkpoint metadata has a negative offset or id");
    }
    return m;
  } catch (const std::exception& e) {
    return Corruption("KV checkpoint metadata is not valid: {}", e.what());
  }
}

std::string KvCheckpointStore::Name(int64_t id) const {
  return fmt::format("{}{:020d}", kPrefix, id);
}

std::string KvCheckpointStore::PendingDbDir(int64_t id) const {
  return log::JoinPath(log::JoinPath(dir_, Name(id) + std::string(kTmpSuffix)), "db");
}

std::string KvCheckpointStore::DbDir(int64_t id) const {
  return log::JoinPath(log::JoinPath(dir_, Name(id)), "db");
}

Status KvCheckpointStore::Init() {
  STROM_RETURN_IF_ERROR(fs_->CreateDirs(dir_));
  STROM_ASSIGN_OR_RETURN(auto names, fs_->List(dir_));
  for (const std::string& name : names) {
    std::string path = log::JoinPath(dir_, name);
    if (name.size() > kTmpSuffix.size() &&
        name.substr(name.size() - kTmpSuffix.size()) == kTmpSuffix) {
      STROM_RETURN_IF_ERROR(fs_->DeleteRecursively(path));
      continue;
    }
    if (!ParseName(name)) continue;
    auto bytes = fs_->ReadFile(log::JoinPath(path, std::string(kMetadataName)));
    bool valid = bytes.ok() && KvCheckpointMetadata::FromJson(*bytes).ok();
    if (!valid) STROM_RETURN_IF_ERROR(fs_->DeleteRecursively(path));
  }
  return fs_->SyncDir(dir_);
}

Result<std::vector<KvCheckpointMetadata>> KvCheckpointStore::List() {
  STROM_ASSIGN_OR_RETURN(auto names, fs_->List(dir_));
  std::vector<KvCheckpointMetadata> out;
  for (const std::string& name : names) {
    auto id = ParseName(name);
    if (!id) continue;
    auto bytes =
        fs_->ReadFile(log::JoinPath(log::JoinPath(dir_, name), std::string(kMetadataName)));
    if (!bytes.ok()) continue;
    auto metadata = KvCheckpointMetadata::FromJson(*bytes);
    if (!metadata.ok() || metadata->checkpoint_id != *id) continue;
    out.push_back(std::move(*metadata));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.checkpoint_id < b.checkpoint_id; });
  return out;
}

Status KvCheckpointStore::PreparePending(int64_t id) {
  std::string pending = log::JoinPath(dir_, Name(id) + std::string(kTmpSuffix));
  STROM_RETURN_IF_ERROR(fs_->DeleteRecursively(pending));
  return fs_->CreateDirs(pending);
}

Status KvCheckpointStore::Commit(const KvCheckpointMetadata& metadata) {
  std::string pending = log::JoinPath(dir_, Name(metadata.checkpoint_id) + std::string(kTmpSuffix));
  std::string final_dir = log::JoinPath(dir_, Name(metadata.checkpoint_id));
  // RocksDB syncs the files it copies but hard links need their directory synced.
  STROM_RETURN_IF_ERROR(fs_->SyncDir(log::JoinPath(pending, "db")));
  STROM_RETURN_IF_ERROR(fs_->WriteFileAtomically(log::JoinPath(pending, std::string(kMetadataName)),
                                                 metadata.ToJson()));
  STROM_RETURN_IF_ERROR(fs_->DeleteRecursively(final_dir));
  STROM_RETURN_IF_ERROR(fs_->Rename(pending, final_dir));
  return fs_->SyncDir(dir_);
}

Status KvCheckpointStore::Prune(int32_t num_retained) {
  STROM_ASSIGN_OR_RETURN(auto checkpoints, List());
  if (num_retained < 1) num_retained = 1;
  size_t keep = static_cast<size_t>(num_retained);
  if (checkpoints.size() <= keep) return Status::OK();
  for (size_t i = 0; i + keep < checkpoints.size(); ++i) {
    STROM_RETURN_IF_ERROR(
        fs_->DeleteRecursively(log::JoinPath(dir_, Name(checkpoints[i].checkpoint_id))));
  }
  return fs_->SyncDir(dir_);
}

Result<int32_t> KvCheckpointStore::DiscardAbove(LogOffset offset) {
  STROM_ASSIGN_OR_RETURN(auto checkpoints, List());
  int32_t discarded = 0;
  for (const KvCheckpointMetadata& checkpoint : checkpoints) {
    if (checkpoint.log_offset <= offset) continue;
    STROM_RETURN_IF_ERROR(
        fs_->DeleteRecursively(log::JoinPath(dir_, Name(checkpoint.checkpoint_id))));
    ++discarded;
  }
  if (discarded > 0) STROM_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  return discarded;
}

Status KvCheckpointStore::RestoreInto(int64_t id, const std::string& target_dir) {
  namespace sfs = std::filesystem;
  std::error_code ec;
  sfs::remove_all(target_dir, ec);
  if (ec) return FsError("removing " + target_dir, ec);
  sfs::create_directories(target_dir, ec);
  if (ec) return FsError("creating " + target_dir, ec);
  std::string source = DbDir(id);
  for (const auto& entry : sfs::directory_iterator(source, ec)) {
    if (!entry.is_regular_file()) continue;
    sfs::path to = sfs::path(target_dir) / entry.path().filename();
    if (entry.path().extension() == ".sst") {
      sfs::create_hard_link(entry.path(), to, ec);
      if (!ec) continue;
      ec.clear();  // another file system: fall back to a copy
    }
    sfs::copy_file(entry.path(), to, ec);
    if (ec) return FsError("copying " + entry.path().string(), ec);
  }
  if (ec) return FsError("listing " + source, ec);
  return Status::OK();
}

}  // namespace strom::kv
