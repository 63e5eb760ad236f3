#include "zk/leader_and_isr_store.h"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>

namespace strom::zk {
namespace {

using Json = nlohmann::json;
using replica::LeaderAndIsr;

constexpr std::string_view kWhat = "leader_isr";

Result<int32_t> ReadInt32(const Json& node, const char* key) {
  auto it = node.find(key);
  if (it == node.end() || !it->is_number_integer()) {
    return Corruption("{} node lacks the integer \"{}\"", kWhat, key);
  }
  int64_t v = it->get<int64_t>();
  if (v < INT32_MIN || v > INT32_MAX) return Corruption("{} \"{}\" out of range", kWhat, key);
  return static_cast<int32_t>(v);
}

}  // namespace

std::string LeaderAndIsrToJson(const LeaderAndIsr& value) {
  std::string out = fmt::format("{{\"version\":1,\"leader\":{},\"leader_epoch\":{},\"isr\":[",
                                value.leader.value(), value.leader_epoch.value());
  for (size_t i = 0; i < value.isr.size(); ++i) {
    if (i > 0) out.push_back(',');
    fmt::format_to(std::back_inserter(out), "{}", value.isr[i].value());
  }
  fmt::format_to(std::back_inserter(out), "],\"coordinator_epoch\":{},\"bucket_epoch\":{}}}",
                 value.coordinator_epoch.value(), value.bucket_epoch.value());
  return out;
}

Result<LeaderAndIsr> LeaderAndIsrFromJson(std::string_view json) {
  Json node = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (node.is_discarded() || !node.is_object()) {
    return Corruption("{} node is not a JSON object", kWhat);
  }
  STROM_ASSIGN_OR_RETURN(int32_t version, ReadInt32(node, "version"));
  if (version != 1) return Corruption("{} node has unknown version {}", kWhat, version);
  LeaderAndIsr out;
  STROM_ASSIGN_OR_RETURN(int32_t leader, ReadInt32(node, "leader"));
  STROM_ASSIGN_OR_RETURN(int32_t leader_epoch, ReadInt32(node, "leader_epoch"));
  STROM_ASSIGN_OR_RETURN(int32_t coordinator_epoch, ReadInt32(node, "coordinator_epoch"));
  STROM_ASSIGN_OR_RETURN(int32_t bucket_epoch, ReadInt32(node, "bucket_epoch"));
  auto isr = node.find("isr");
  if (isr == node.end() || !isr->is_array()) {
    return Corruption("{} node lacks the array \"isr\"", kWhat);
  }
  for (const Json& id : *isr) {
    if (!id.is_number_integer()) return Corruption("{} \"isr\" holds a non-integer", kWhat);
    out.isr.push_back(ServerId(id.get<int32_t>()));
  }
  out.leader = ServerId(leader);
  out.leader_epoch = LeaderEpoch(leader_epoch);
  out.coordinator_epoch = CoordinatorEpoch(coordinator_epoch);
  out.bucket_epoch = BucketEpoch(bucket_epoch);
  return out;
}

Task<Status> LeaderAndIsrStore::Create(metadata::TableBucket bucket, LeaderAndIsr value) {
  std::string path = paths_.BucketLeaderAndIsr(bucket.table_id, bucket.bucket);
  std::string data = LeaderAndIsrToJson(value);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto parents = co_await client_.CreateParents(path);
    if (!parents.ok()) co_return parents.status();
    auto created = co_await client_.Create(path, data, CreateMode::kPersistent);
    if (created.ok()) co_return Status::OK();
    if (created.code() == ZkCode::kNodeExists) {
      // A create cut by a connection loss may have got through: ours if it holds our bytes.
      auto existing = co_await client_.Get(path);
      if (existing.ok() && existing->data == data) co_return Status::OK();
      co_return created.status();
    }
    if (!IsConnectionError(created.code()) && created.code() != ZkCode::kNoNode) {
      co_return created.status();
    }
  }
  co_return MakeError(ErrorCode::kNetwork, "could not create {}", path);
}

Task<Result<int32_t>> LeaderAndIsrStore::Update(metadata::TableBucket bucket, LeaderAndIsr value,
                                                int32_t expected_version) {
  std::string path = paths_.BucketLeaderAndIsr(bucket.table_id, bucket.bucket);
  auto set = co_await client_.Set(path, LeaderAndIsrToJson(value), expected_version);
  if (!set.ok()) co_return set.status();
  co_return set->version;
}

Task<Result<std::optional<VersionedLeaderAndIsr>>> LeaderAndIsrStore::Get(
    metadata::TableBucket bucket) {
  std::string path = paths_.BucketLeaderAndIsr(bucket.table_id, bucket.bucket);
  auto node = co_await client_.Get(path);
  if (node.code() == ZkCode::kNoNode) co_return std::optional<VersionedLeaderAndIsr>();
  if (!node.ok()) co_return node.status();
  STROM_CO_ASSIGN_OR_RETURN(LeaderAndIsr value, LeaderAndIsrFromJson(node->data));
  co_return std::optional<VersionedLeaderAndIsr>(
      VersionedLeaderAndIsr{std::move(value), node->stat.version});
}

Task<Result<std::map<BucketId, VersionedLeaderAndIsr>>> LeaderAndIsrStore::GetTable(
    TableId table_id) {
  std::map<BucketId, VersionedLeaderAndIsr> out;
  std::string buckets_path = paths_.TableAssignment(table_id) + "/buckets";
  auto children = co_await client_.Children(buckets_path);
  if (children.code() == ZkCode::kNoNode) co_return out;
  if (!children.ok()) co_return children.status();
  for (const std::string& name : *children) {
    int32_t id = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
    if (ec != std::errc() || end != name.data() + name.size()) continue;
    metadata::TableBucket bucket{table_id, std::nullopt, BucketId(id)};
    STROM_CO_ASSIGN_OR_RETURN(auto node, co_await Get(bucket));
    if (node) out.emplace(BucketId(id), std::move(*node));
  }
  co_return out;
}

}  // namespace strom::zk
