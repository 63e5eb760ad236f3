#include "zk/zk_metadata_store.h"

#include <algorithm>
#include <charconv>

#include "common/logging.h"
#include "metadata/znode_json.h"

namespace strom::zk {
namespace {

using metadata::DatabaseRegistration;
using metadata::TableAssignment;
using metadata::TablePath;
using metadata::TableRegistration;

/// Bound on compare-and-set rounds lost to concurrent writers before giving up.
constexpr int kMaxCasRounds = 100;

/// Failures after which the same request may succeed on a (new) connection.
bool IsTransient(ZkCode code) {
  return IsConnectionError(code) || code == ZkCode::kSessionExpired ||
         code == ZkCode::kInvalidState;
}

template <typename T>
std::optional<T> ParseDecimal(std::string_view text) {
  typename T::ValueType value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return T(value);
}

}  // namespace

std::string EncodeCounter(int64_t value) {
  std::string out(8, '\0');
  auto v = static_cast<uint64_t>(value);
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

Result<int64_t> DecodeCounter(std::string_view data) {
  if (data.empty()) return int64_t{0};
  if (data.size() != 8) return Corruption("id counter node holds {} bytes, not 8", data.size());
  uint64_t v = 0;
  for (char c : data) v = (v << 8) | static_cast<uint8_t>(c);
  return static_cast<int64_t>(v);
}

ZkMetadataStore::ZkMetadataStore(ZkClient& client, std::string root)
    : client_(client), paths_(root) {}

Task<Result<std::unique_ptr<ZkMetadataStore>>> ZkMetadataStore::Open(ZkClient& client,
                                                                     std::string root) {
  std::unique_ptr<ZkMetadataStore> store(new ZkMetadataStore(client, std::move(root)));
  std::string root_path = store->paths_.Root();
  // Like Curator's namespace: the root and its ancestors exist with empty data.
  auto ensured = co_await client.EnsurePath(std::move(root_path));
  if (!ensured.ok()) co_return ensured.status();
  co_return std::move(store);
}

Task<ZkResult<bool>> ZkMetadataStore::CreateOwned(std::string path, std::string data) {
  for (int attempt = 1;; ++attempt) {
    std::string copy = data;
    auto created = co_await client_.Create(path, std::move(copy), CreateMode::kPersistent);
    if (created.ok()) co_return ZkResult<bool>(ZkCode::kOk, true, "", "");
    if (created.code() == ZkCode::kNodeExists && attempt > 1) {
      // The earlier attempt was cut by a connection loss and may have got through: the
      // node holding exactly our bytes is our own.
      auto existing = co_await client_.Get(path);
      if (existing.ok() && existing->data == data) {
        co_return ZkResult<bool>(ZkCode::kOk, true, "", "");
      }
    }
    if (!IsTransient(created.code()) || attempt >= client_.options().max_retry_attempts) {
      co_return ZkResult<bool>(created.code(), false, "create", path);
    }
    co_await client_.AwaitConnected(client_.options().session_timeout);
  }
}

// ---------------------------------------------------------------------------------------
// Databases

Task<Status> ZkMetadataStore::CreateDatabase(std::string name, DatabaseRegistration registration) {
  std::string path = paths_.Database(name);
  auto parents = co_await client_.CreateParents(path);
  if (!parents.ok()) co_return parents.status();
  std::string json = metadata::DatabaseRegistrationToJson(registration);
  auto created = co_await CreateOwned(path, std::move(json));
  if (created.code() == ZkCode::kNodeExists) {
    co_return MakeError(ErrorCode::kDatabaseAlreadyExist, "Database {} already exists.", name);
  }
  co_return created.status();
}

Task<Result<std::optional<DatabaseRegistration>>> ZkMetadataStore::GetDatabase(std::string name) {
  std::string path = paths_.Database(name);
  auto node = co_await client_.Get(path);
  if (node.code() == ZkCode::kNoNode) co_return std::optional<DatabaseRegistration>();
  if (!node.ok()) co_return node.status();
  auto reg = metadata::DatabaseRegistrationFromJson(node->data);
  if (!reg.ok()) co_return reg.status().WithContext(path);
  co_return std::optional<DatabaseRegistration>(std::move(reg).value());
}

Task<Result<std::vector<std::string>>> ZkMetadataStore::ListDatabases() {
  std::string databases = paths_.Databases();
  auto children = co_await client_.Children(std::move(databases));
  if (children.code() == ZkCode::kNoNode) co_return std::vector<std::string>();
  if (!children.ok()) co_return children.status();
  std::vector<std::string> names = std::move(children).value();
  std::sort(names.begin(), names.end());
  co_return names;
}

Task<Status> ZkMetadataStore::DeleteDatabase(std::string name) {
  std::string path = paths_.Database(name);
  auto exists = co_await client_.Exists(path);
  if (!exists.ok()) co_return exists.status();
  if (!exists->has_value()) {
    co_return MakeError(ErrorCode::kDatabaseNotExist, "Database {} does not exist.", name);
  }
  auto deleted = co_await client_.DeleteRecursive(path);
  co_return deleted.status();
}

// ---------------------------------------------------------------------------------------
// Tables

Task<Status> ZkMetadataStore::CreateTable(TablePath path, TableRegistration registration,
                                          record::Schema first_schema,
                                          std::optional<TableAssignment> assignment) {
  const std::string db_path = paths_.Database(path.database);
  const std::string tables_path = paths_.Tables(path.database);
  const std::string table_path = paths_.Table(path);
  // The tables folder is created on demand, but never the database: a create that finds no
  // database (it was dropped meanwhile) must fail, not resurrect it with empty data.
  {
    auto db = co_await client_.Exists(db_path);
    if (!db.ok()) co_return db.status();
    if (!db->has_value()) {
      co_return MakeError(ErrorCode::kDatabaseNotExist, "Database {} does not exist.",
                          path.database);
    }
    for (int attempt = 1;; ++attempt) {
      std::string empty;
      auto tables =
          co_await client_.Create(tables_path, std::move(empty), CreateMode::kPersistent);
      if (tables.ok() || tables.code() == ZkCode::kNodeExists) break;
      if (tables.code() == ZkCode::kNoNode) {
        co_return MakeError(ErrorCode::kDatabaseNotExist, "Database {} does not exist.",
                            path.database);
      }
      if (!IsTransient(tables.code()) || attempt >= client_.options().max_retry_attempts) {
        co_return tables.status();
      }
      co_await client_.AwaitConnected(client_.options().session_timeout);
    }
  }
  // A table node without data is a creation that never finished (a Fluss coordinator
  // writes the schema first): it is not a table, clear it away.
  {
    auto existing = co_await client_.Get(table_path);
    if (existing.ok() && !existing->data.empty()) {
      co_return MakeError(ErrorCode::kTableAlreadyExist, "Table {} already exists.", path);
    }
    if (existing.ok()) {
      auto cleared = co_await client_.DeleteRecursive(table_path);
      if (!cleared.ok()) co_return cleared.status();
    } else if (existing.code() != ZkCode::kNoNode) {
      co_return existing.status();
    }
  }
  if (assignment) {
    std::string assignment_path = paths_.TableAssignment(registration.table_id);
    auto parents = co_await client_.CreateParents(assignment_path);
    if (!parents.ok()) co_return parents.status();
  }

  const std::string table_json = metadata::TableRegistrationToJson(registration);
  std::vector<ZkOp> ops;
  ops.push_back(ZkOp::Create(table_path, table_json));
  ops.push_back(ZkOp::Create(paths_.Schemas(path), ""));
  ops.push_back(ZkOp::Create(paths_.Schema(path, SchemaId(1)), first_schema.ToJson()));
  if (assignment) {
    ops.push_back(ZkOp::Create(paths_.TableAssignment(registration.table_id),
                               metadata::TableAssignmentToJson(*assignment)));
  }
  for (int attempt = 1;; ++attempt) {
    std::vector<ZkOp> copy = ops;
    auto result = co_await client_.Multi(std::move(copy));
    if (result.ok()) co_return Status::OK();
    if (IsTransient(result.code()) && attempt < client_.options().max_retry_attempts) {
      co_await client_.AwaitConnected(client_.options().session_timeout);
      continue;
    }
    if (result.code() == ZkCode::kNodeExists && !result->empty() &&
        (*result)[0].code == ZkCode::kNodeExists) {
      // Our own transaction, committed before a connection loss hid its answer?
      auto existing = co_await client_.Get(table_path);
      if (attempt > 1 && existing.ok() && existing->data == table_json) co_return Status::OK();
      co_return MakeError(ErrorCode::kTableAlreadyExist, "Table {} already exists.", path);
    }
    if (result.code() == ZkCode::kNoNode) {
      co_return MakeError(ErrorCode::kDatabaseNotExist, "Database {} does not exist.",
                          path.database);
    }
    co_return result.status().WithContext(fmt::format("create table {}", path));
  }
}

Task<Result<std::optional<TableRegistration>>> ZkMetadataStore::GetTable(TablePath path) {
  std::string table_path = paths_.Table(path);
  auto node = co_await client_.Get(table_path);
  if (node.code() == ZkCode::kNoNode || (node.ok() && node->data.empty())) {
    co_return std::optional<TableRegistration>();
  }
  if (!node.ok()) co_return node.status();
  auto reg = metadata::TableRegistrationFromJson(node->data);
  if (!reg.ok()) co_return reg.status().WithContext(table_path);
  co_return std::optional<TableRegistration>(std::move(reg).value());
}

Task<Result<std::vector<std::string>>> ZkMetadataStore::ListTables(std::string database) {
  std::string db_path = paths_.Database(database);
  auto db = co_await client_.Exists(std::move(db_path));
  if (!db.ok()) co_return db.status();
  if (!db->has_value()) {
    co_return MakeError(ErrorCode::kDatabaseNotExist, "Database {} does not exist.", database);
  }
  std::string tables_path = paths_.Tables(database);
  auto children = co_await client_.Children(std::move(tables_path));
  if (children.code() == ZkCode::kNoNode) co_return std::vector<std::string>();
  if (!children.ok()) co_return children.status();
  std::vector<std::string> names;
  for (std::string& name : *children) {
    // Leave out creations that have not finished (no table data yet).
    TablePath table{database, name};
    std::string table_path = paths_.Table(table);
    auto stat = co_await client_.Exists(table_path);
    if (!stat.ok()) co_return stat.status();
    if (stat->has_value() && (*stat)->data_length > 0) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  co_return names;
}

Task<Status> ZkMetadataStore::DeleteTable(TablePath path) {
  STROM_CO_ASSIGN_OR_RETURN(std::optional<TableRegistration> table, co_await GetTable(path));
  if (!table) co_return MakeError(ErrorCode::kTableNotExist, "Table {} does not exist.", path);
  std::string table_path = paths_.Table(path);
  auto deleted = co_await client_.DeleteRecursive(std::move(table_path));
  co_return deleted.status();
}

// ---------------------------------------------------------------------------------------
// Schemas

Task<Result<SchemaId>> ZkMetadataStore::RegisterSchema(TablePath path, record::Schema schema) {
  const std::string json = schema.ToJson();
  for (int round = 0; round < kMaxCasRounds; ++round) {
    STROM_CO_ASSIGN_OR_RETURN(std::optional<TableRegistration> table, co_await GetTable(path));
    if (!table) co_return MakeError(ErrorCode::kTableNotExist, "Table {} does not exist.", path);
    STROM_CO_ASSIGN_OR_RETURN(std::vector<SchemaId> ids, co_await ListSchemaIds(path));
    SchemaId next = ids.empty() ? SchemaId(1) : ids.back() + 1;
    if (next.value() <= 0) co_return MakeError(ErrorCode::kInvalidTable, "too many schemas");
    std::string schema_path = paths_.Schema(path, next);
    auto created = co_await CreateOwned(schema_path, json);
    if (created.ok()) co_return next;
    // Another registration took this id: try the next one.
    if (created.code() == ZkCode::kNodeExists) continue;
    if (created.code() == ZkCode::kNoNode) {
      co_return MakeError(ErrorCode::kTableNotExist, "Table {} does not exist.", path);
    }
    co_return created.status();
  }
  co_return MakeError(ErrorCode::kStorage, "could not register a schema for {}: too much contention",
                      path);
}

Task<Result<std::optional<record::Schema>>> ZkMetadataStore::GetSchema(TablePath path,
                                                                       SchemaId id) {
  std::string schema_path = paths_.Schema(path, id);
  auto node = co_await client_.Get(schema_path);
  if (node.code() == ZkCode::kNoNode) co_return std::optional<record::Schema>();
  if (!node.ok()) co_return node.status();
  auto schema = record::Schema::FromJson(node->data);
  if (!schema.ok()) {
    co_return Corruption("{}: {}", schema_path, schema.status().ToString());
  }
  co_return std::optional<record::Schema>(std::move(schema).value());
}

Task<Result<std::vector<SchemaId>>> ZkMetadataStore::ListSchemaIds(TablePath path) {
  std::vector<SchemaId> ids;
  std::string schemas_path = paths_.Schemas(path);
  auto children = co_await client_.Children(schemas_path);
  if (children.code() == ZkCode::kNoNode) co_return ids;
  if (!children.ok()) co_return children.status();
  for (const std::string& name : *children) {
    auto id = ParseDecimal<SchemaId>(name);
    if (!id || id->value() <= 0) {
      co_return Corruption("{}: \"{}\" is not a schema id", schemas_path, name);
    }
    ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  co_return ids;
}

// ---------------------------------------------------------------------------------------
// Bucket assignments

Task<Result<std::optional<TableAssignment>>> ZkMetadataStore::GetTableAssignment(
    TableId table_id) {
  std::string path = paths_.TableAssignment(table_id);
  auto node = co_await client_.Get(path);
  // Fluss may keep other nodes (lake tables) below an assignment node without data.
  if (node.code() == ZkCode::kNoNode || (node.ok() && node->data.empty())) {
    co_return std::optional<TableAssignment>();
  }
  if (!node.ok()) co_return node.status();
  auto assignment = metadata::TableAssignmentFromJson(node->data);
  if (!assignment.ok()) co_return assignment.status().WithContext(path);
  co_return std::optional<TableAssignment>(std::move(assignment).value());
}

Task<Result<std::map<TableId, TableAssignment>>> ZkMetadataStore::ListTableAssignments() {
  std::map<TableId, TableAssignment> out;
  std::string assignments_path = paths_.TableAssignments();
  auto children = co_await client_.Children(std::move(assignments_path));
  if (children.code() == ZkCode::kNoNode) co_return out;
  if (!children.ok()) co_return children.status();
  for (const std::string& name : *children) {
    auto id = ParseDecimal<TableId>(name);
    if (!id) continue;  // not a table id node
    STROM_CO_ASSIGN_OR_RETURN(std::optional<TableAssignment> assignment,
                              co_await GetTableAssignment(*id));
    if (assignment) out.emplace(*id, std::move(*assignment));
  }
  co_return out;
}

Task<Status> ZkMetadataStore::DeleteTableAssignment(TableId table_id) {
  // With its children (the buckets' leader_isr nodes), as Fluss deletes it.
  std::string path = paths_.TableAssignment(table_id);
  auto deleted = co_await client_.DeleteRecursive(std::move(path));
  co_return deleted.status();
}

// ---------------------------------------------------------------------------------------
// Id counters

Task<Result<int64_t>> ZkMetadataStore::GetAndIncrement(std::string path) {
  for (int round = 0; round < kMaxCasRounds; ++round) {
    auto node = co_await client_.Get(path);
    if (node.code() == ZkCode::kNoNode) {
      auto parents = co_await client_.CreateParents(path);
      if (!parents.ok()) co_return parents.status();
      std::string one = EncodeCounter(1);
      auto created = co_await client_.Create(path, std::move(one), CreateMode::kPersistent);
      if (created.ok()) co_return int64_t{0};
      // A concurrent first increment, or ours cut by a connection loss: read again.
      if (created.code() == ZkCode::kNodeExists || IsTransient(created.code())) continue;
      co_return created.status();
    }
    if (!node.ok()) co_return node.status();
    auto value = DecodeCounter(node->data);
    if (!value.ok()) co_return value.status().WithContext(path);
    std::string next = EncodeCounter(*value + 1);
    auto set = co_await client_.Set(path, std::move(next), node->stat.version);
    if (set.ok()) co_return *value;
    // Lost the race (or our own set got through before a connection loss: the id is then
    // skipped, never handed out twice).
    if (set.code() == ZkCode::kBadVersion) continue;
    co_return set.status();
  }
  co_return MakeError(ErrorCode::kStorage, "could not increment {}: too much contention", path);
}

Task<Result<TableId>> ZkMetadataStore::NextTableId() {
  std::string path = paths_.TableSeqId();
  STROM_CO_ASSIGN_OR_RETURN(int64_t id, co_await GetAndIncrement(std::move(path)));
  co_return TableId(id);
}

Task<Result<PartitionId>> ZkMetadataStore::NextPartitionId() {
  std::string path = paths_.PartitionSeqId();
  STROM_CO_ASSIGN_OR_RETURN(int64_t id, co_await GetAndIncrement(std::move(path)));
  co_return PartitionId(id);
}

Task<Result<WriterId>> ZkMetadataStore::NextWriterId() {
  std::string path = paths_.WriterId();
  STROM_CO_ASSIGN_OR_RETURN(int64_t id, co_await GetAndIncrement(std::move(path)));
  co_return WriterId(id);
}

}  // namespace strom::zk
