#pragma once

#include <memory>
#include <string>

#include "metadata/metadata_store.h"
#include "zk/zk_client.h"
#include "zk/zk_paths.h"

namespace strom::zk {

/// The MetadataStore of a distributed cluster: the model kept in ZooKeeper in Fluss 0.9.1's
/// znode layout and JSON (fluss-formats §7.3, metadata/znode_json.h), below
/// `zookeeper.path.root`, so that Strom and Fluss servers read each other's metadata:
///
///   /metadata/databases/{db}                          DatabaseRegistration JSON
///   /metadata/databases/{db}/tables/{t}               TableRegistration JSON
///   /metadata/databases/{db}/tables/{t}/schemas/{id}  Schema JSON
///   /tabletservers/tables/{tableId}                   TableAssignment JSON
///   /metadata/{table_seqid,partition_seqid,writer_id} 8-byte big-endian counters
///
/// Like Fluss, a table node with empty data is a table whose creation has not finished (Fluss
/// writes the schema before the table) and reads as absent; an assignment node with empty
/// data likewise. Strom itself creates a table (node, schema, assignment) in one multi-op
/// transaction. Counters are compare-and-set increments of the stored value (Curator's
/// DistributedAtomicLong, which Fluss uses); the id handed out is the value before the
/// increment, so the first id is 0.
///
/// Durability is ZooKeeper's: a mutation that returns OK is committed by its quorum. A
/// mutation interrupted by a connection loss is repeated once the client has reconnected,
/// and its own earlier success is recognised (the node holds what we wrote), so callers see
/// OK rather than "already exists". Errors: the MetadataStore codes, kNetwork when
/// ZooKeeper cannot be reached (retriable), kCorruptMessage for a node that does not parse.
///
/// Thread: the reactor of the ZkClient. Ownership: borrows the client, which must outlive
/// the store. Lifecycle: Open() makes sure the root exists; no background work.
class ZkMetadataStore final : public metadata::MetadataStore {
 public:
  static Task<Result<std::unique_ptr<ZkMetadataStore>>> Open(ZkClient& client, std::string root);

  Task<Status> CreateDatabase(std::string name, metadata::DatabaseRegistration registration) override;
  Task<Result<std::optional<metadata::DatabaseRegistration>>> GetDatabase(std::string name) override;
  Task<Result<std::vector<std::string>>> ListDatabases() override;
  Task<Status> DeleteDatabase(std::string name) override;

  Task<Status> CreateTable(metadata::TablePath path, metadata::TableRegistration registration,
                           record::Schema first_schema,
                           std::optional<metadata::TableAssignment> assignment) override;
  Task<Result<std::optional<metadata::TableRegistration>>> GetTable(metadata::TablePath path) override;
  Task<Result<std::vector<std::string>>> ListTables(std::string database) override;
  Task<Status> DeleteTable(metadata::TablePath path) override;

  Task<Result<SchemaId>> RegisterSchema(metadata::TablePath path, record::Schema schema) override;
  Task<Result<std::optional<record::Schema>>> GetSchema(metadata::TablePath path, SchemaId id) override;
  Task<Result<std::vector<SchemaId>>> ListSchemaIds(metadata::TablePath path) override;

  Task<Result<std::optional<metadata::TableAssignment>>> GetTableAssignment(TableId table_id) override;
  Task<Result<std::map<TableId, metadata::TableAssignment>>> ListTableAssignments() override;
  Task<Status> DeleteTableAssignment(TableId table_id) override;

  Task<Result<TableId>> NextTableId() override;
  Task<Result<PartitionId>> NextPartitionId() override;
  Task<Result<WriterId>> NextWriterId() override;

  const ZkPaths& paths() const { return paths_; }

 private:
  ZkMetadataStore(ZkClient& client, std::string root);

  /// Compare-and-set increment of an 8-byte big-endian counter; returns the value before.
  Task<Result<int64_t>> GetAndIncrement(std::string path);
  /// Creates `path` holding `data`, treating an existing node that already holds exactly
  /// `data` as our own earlier success. Returns the ZooKeeper code (kNodeExists when the
  /// node holds something else).
  Task<ZkResult<bool>> CreateOwned(std::string path, std::string data);

  ZkClient& client_;
  ZkPaths paths_;
};

/// The 8-byte big-endian encoding of Fluss's id counters.
std::string EncodeCounter(int64_t value);
/// Decodes a counter node; empty data reads as 0 (Curator's convention).
Result<int64_t> DecodeCounter(std::string_view data);

}  // namespace strom::zk
