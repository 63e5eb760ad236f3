#pragma once

#include <asio/thread_pool.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/async.h"
#include "metadata/metadata_store.h"

namespace strom::metadata {

/// The MetadataStore of `strom-server local`: the whole model in memory, made durable as one
/// checksummed snapshot file in `<dir>/metadata` (format in src/metadata/README.md:
/// header + JSON whose nodes use the ZooKeeper node formats of znode_json.h).
///
/// Durability: each mutation changes the in-memory model, then waits until a snapshot that
/// contains it has been written (temp file, fsync, rename, fsync dir; see
/// detail/durable_file.h), so a crash at any moment leaves the old or the new state. Writes
/// run on `pool` one at a time; mutations that arrive while one is in flight share the next
/// write (group commit). A mutation is visible to readers as soon as it is applied, slightly
/// before it is durable; its caller hears OK only once it is durable. If a write fails, the
/// store turns read-only: later mutations fail with kStorage (the disk holds the last good
/// state, which a restart loads).
///
/// Writer ids are reserved in blocks of kWriterIdBlock per write, so InitWriter rarely
/// touches the disk; ids of a block unused at a crash are skipped, never reissued.
///
/// Lifecycle: Open() loads (synchronously, before serving); destroy after the last
/// coroutine using it has finished. Thread: the reactor that awaits its methods; `pool` only
/// runs the file writes, with owned bytes. Ownership: owns the model; borrows `pool`, which
/// must outlive it.
class EmbeddedMetadataStore final : public MetadataStore {
 public:
  static constexpr int64_t kWriterIdBlock = 1000;
  /// Name of the snapshot file inside the store directory.
  static constexpr std::string_view kFileName = "metadata";

  /// Loads the store kept in `dir` (an empty model when there is none yet). kCorruptMessage
  /// when the snapshot is damaged, kStorage when it cannot be read.
  static Result<std::unique_ptr<EmbeddedMetadataStore>> Open(std::string dir,
                                                              asio::thread_pool& pool);

  ~EmbeddedMetadataStore() override;

  Task<Status> CreateDatabase(std::string name, DatabaseRegistration registration) override;
  Task<Result<std::optional<DatabaseRegistration>>> GetDatabase(std::string name) override;
  Task<Result<std::vector<std::string>>> ListDatabases() override;
  Task<Status> DeleteDatabase(std::string name) override;

  Task<Status> CreateTable(TablePath path, TableRegistration registration,
                           record::Schema first_schema,
                           std::optional<TableAssignment> assignment) override;
  Task<Result<std::optional<TableRegistration>>> GetTable(TablePath path) override;
  Task<Result<std::vector<std::string>>> ListTables(std::string database) override;
  Task<Status> DeleteTable(TablePath path) override;

  Task<Result<SchemaId>> RegisterSchema(TablePath path, record::Schema schema) override;
  Task<Result<std::optional<record::Schema>>> GetSchema(TablePath path, SchemaId id) override;
  Task<Result<std::vector<SchemaId>>> ListSchemaIds(TablePath path) override;

  Task<Result<std::optional<TableAssignment>>> GetTableAssignment(TableId table_id) override;
  Task<Result<std::map<TableId, TableAssignment>>> ListTableAssignments() override;
  Task<Status> DeleteTableAssignment(TableId table_id) override;

  Task<Result<TableId>> NextTableId() override;
  Task<Result<PartitionId>> NextPartitionId() override;
  Task<Result<WriterId>> NextWriterId() override;

  const std::string& dir() const { return dir_; }

 private:
  struct Model;

  EmbeddedMetadataStore(std::string dir, asio::thread_pool& pool, std::unique_ptr<Model> model);

  /// Waits until the current model (with every mutation applied so far) is durable.
  Task<Status> Persist();
  Status CheckWritable() const;

  std::string dir_;
  asio::thread_pool& pool_;
  std::unique_ptr<Model> model_;
  /// Bumped by every mutation; durable_generation_ trails it until the write completes.
  uint64_t generation_ = 0;
  uint64_t durable_generation_ = 0;
  bool writing_ = false;
  std::unique_ptr<Notifier> write_done_;
  Status write_error_;
};

}  // namespace strom::metadata
