#include "client/cluster.h"

namespace strom::client {

namespace {

ServerNode NodeFromProto(const proto::PbServerNode& node, ServerRole role) {
  ServerNode out;
  out.id = ServerId(node.node_id());
  out.host = node.host();
  out.port = node.port();
  out.role = role;
  if (node.has_rack()) out.rack = node.rack();
  return out;
}

}  // namespace

Result<std::shared_ptr<const Cluster>> Cluster::Merge(const Cluster& base,
                                                      const proto::MetadataResponse& response) {
  if (response.tablet_servers_size() == 0) {
    return MakeError(ErrorCode::kCorruptMessage,
                     "metadata response lists no tablet server (stale metadata)");
  }
  auto cluster = std::make_shared<Cluster>(base);
  cluster->coordinator_.reset();
  if (response.has_coordinator_server()) {
    cluster->coordinator_ = NodeFromProto(response.coordinator_server(), ServerRole::kCoordinator);
  }
  cluster->tablet_servers_.clear();
  for (const auto& node : response.tablet_servers()) {
    ServerNode server = NodeFromProto(node, ServerRole::kTabletServer);
    cluster->tablet_servers_[server.id] = std::move(server);
  }
  for (const auto& table : response.table_metadata()) {
    TableMeta meta;
    meta.path = TablePath(table.table_path().database_name(), table.table_path().table_name());
    meta.table_id = TableId(table.table_id());
    meta.schema_id = SchemaId(static_cast<int16_t>(table.schema_id()));
    for (const auto& bucket : table.bucket_metadata()) {
      if (bucket.bucket_id() < 0 || bucket.bucket_id() > 1 << 20) {
        return MakeError(ErrorCode::kCorruptMessage, "metadata names bucket {} of table {}",
                         bucket.bucket_id(), meta.path.ToString());
      }
      size_t index = static_cast<size_t>(bucket.bucket_id());
      if (meta.leaders.size() <= index) meta.leaders.resize(index + 1);
      if (bucket.has_leader_id() &&
          cluster->tablet_servers_.count(ServerId(bucket.leader_id())) > 0) {
        meta.leaders[index] = ServerId(bucket.leader_id());
      }
    }
    // A table id may have moved to another path (dropped and re-created): forget stale
    // entries under either key.
    for (auto it = cluster->tables_.begin(); it != cluster->tables_.end();) {
      if (it->second.path == meta.path && it->first != meta.table_id) {
        it = cluster->tables_.erase(it);
      } else {
        ++it;
      }
    }
    cluster->tables_[meta.table_id] = std::move(meta);
  }
  return std::shared_ptr<const Cluster>(std::move(cluster));
}

std::shared_ptr<const Cluster> Cluster::WithoutLeaders(TableId table) const {
  auto copy = std::make_shared<Cluster>(*this);
  auto it = copy->tables_.find(table);
  if (it != copy->tables_.end()) {
    for (auto& leader : it->second.leaders) leader.reset();
  }
  return copy;
}

const Cluster::TableMeta* Cluster::FindTable(TableId id) const {
  auto it = tables_.find(id);
  return it == tables_.end() ? nullptr : &it->second;
}

const Cluster::TableMeta* Cluster::FindTable(const TablePath& path) const {
  for (const auto& [id, meta] : tables_) {
    if (meta.path == path) return &meta;
  }
  return nullptr;
}

std::optional<ServerNode> Cluster::Leader(const TableBucket& bucket) const {
  const TableMeta* meta = FindTable(bucket.table_id);
  if (meta == nullptr || bucket.bucket.value() < 0) return std::nullopt;
  size_t index = static_cast<size_t>(bucket.bucket.value());
  if (index >= meta->leaders.size() || !meta->leaders[index]) return std::nullopt;
  auto it = tablet_servers_.find(*meta->leaders[index]);
  if (it == tablet_servers_.end()) return std::nullopt;
  return it->second;
}

std::vector<BucketId> Cluster::AvailableBuckets(TableId table) const {
  std::vector<BucketId> out;
  const TableMeta* meta = FindTable(table);
  if (meta == nullptr) return out;
  for (size_t i = 0; i < meta->leaders.size(); ++i) {
    if (meta->leaders[i]) out.emplace_back(static_cast<int32_t>(i));
  }
  return out;
}

bool Cluster::AllLeadersKnown(TableId table) const {
  const TableMeta* meta = FindTable(table);
  if (meta == nullptr || meta->leaders.empty()) return false;
  for (const auto& leader : meta->leaders) {
    if (!leader) return false;
  }
  return true;
}

std::vector<ServerNode> Cluster::AllServers() const {
  std::vector<ServerNode> out;
  if (coordinator_) out.push_back(*coordinator_);
  for (const auto& [id, node] : tablet_servers_) out.push_back(node);
  return out;
}

}  // namespace strom::client
