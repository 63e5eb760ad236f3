#include "metadata/embedded_metadata_store.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <charconv>

#include "metadata/detail/durable_file.h"
#include "metadata/znode_json.h"
#include "record/type_json.h"

namespace strom::metadata {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kMagic = "STRMMETA";
constexpr uint32_t kFormatVersion = 1;

struct TableNode {
  TableRegistration registration;
  std::map<SchemaId, record::Schema> schemas;
};

struct DatabaseNode {
  DatabaseRegistration registration;
  std::map<std::string, TableNode> tables;
};

template <typename T>
Result<T> ParseId(const std::string& text, std::string_view what) {
  typename T::ValueType value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Corruption("metadata snapshot: bad {} \"{}\"", what, text);
  }
  return T(value);
}

Result<int64_t> ReadCounter(const Json& doc, std::string_view key) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_number_integer() || it->get<int64_t>() < 0) {
    return Corruption("metadata snapshot lacks the counter \"{}\"", key);
  }
  return it->get<int64_t>();
}

}  // namespace

struct EmbeddedMetadataStore::Model {
  std::map<std::string, DatabaseNode> databases;
  std::map<TableId, TableAssignment> assignments;
  int64_t next_table_id = 0;
  int64_t next_partition_id = 0;
  /// Next writer id to hand out, and the end of the reserved block in memory / on disk.
  int64_t next_writer_id = 0;
  int64_t writer_id_limit = 0;
  int64_t durable_writer_id_limit = 0;

  TableNode* FindTable(const TablePath& path) {
    auto db = databases.find(path.database);
    if (db == databases.end()) return nullptr;
    auto table = db->second.tables.find(path.table);
    return table == db->second.tables.end() ? nullptr : &table->second;
  }

  std::string Serialize() const {
    std::string out = fmt::format(
        "{{\"version\":1,\"table_seqid\":{},\"partition_seqid\":{},\"writer_id\":{},"
        "\"databases\":{{",
        next_table_id, next_partition_id, writer_id_limit);
    bool first_db = true;
    for (const auto& [name, db] : databases) {
      if (!first_db) out.push_back(',');
      first_db = false;
      record::AppendJsonString(name, &out);
      out.append(":{\"node\":");
      out.append(DatabaseRegistrationToJson(db.registration));
      out.append(",\"tables\":{");
      bool first_table = true;
      for (const auto& [table_name, table] : db.tables) {
        if (!first_table) out.push_back(',');
        first_table = false;
        record::AppendJsonString(table_name, &out);
        out.append(":{\"node\":");
        out.append(TableRegistrationToJson(table.registration));
        out.append(",\"schemas\":{");
        bool first_schema = true;
        for (const auto& [id, schema] : table.schemas) {
          if (!first_schema) out.push_back(',');
          first_schema = false;
          fmt::format_to(std::back_inserter(out), "\"{}\":", id);
          schema.AppendJson(&out);
        }
        out.append("}}");
      }
      out.append("}}");
    }
    out.append("},\"assignments\":{");
    bool first = true;
    for (const auto& [table_id, assignment] : assignments) {
      if (!first) out.push_back(',');
      first = false;
      fmt::format_to(std::back_inserter(out), "\"{}\":", table_id);
      out.append(TableAssignmentToJson(assignment));
    }
    out.append("}}");
    return out;
  }

  static Result<std::unique_ptr<Model>> Parse(ByteView payload) {
    Json doc = Json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
      return Corruption("metadata snapshot is not a JSON object");
    }
    auto model = std::make_unique<Model>();
    STROM_ASSIGN_OR_RETURN(model->next_table_id, ReadCounter(doc, "table_seqid"));
    STROM_ASSIGN_OR_RETURN(model->next_partition_id, ReadCounter(doc, "partition_seqid"));
    STROM_ASSIGN_OR_RETURN(model->writer_id_limit, ReadCounter(doc, "writer_id"));
    // Ids below the durable limit may have been handed out before the restart.
    model->next_writer_id = model->writer_id_limit;
    model->durable_writer_id_limit = model->writer_id_limit;

    auto dbs = doc.find("databases");
    auto assignments = doc.find("assignments");
    if (dbs == doc.end() || !dbs->is_object() || assignments == doc.end() ||
        !assignments->is_object()) {
      return Corruption("metadata snapshot lacks databases or assignments");
    }
    for (auto db_it = dbs->begin(); db_it != dbs->end(); ++db_it) {
      const Json& db_json = db_it.value();
      if (!db_json.is_object() || !db_json.contains("node") || !db_json.contains("tables") ||
          !db_json["tables"].is_object()) {
        return Corruption("metadata snapshot: database {} is malformed", db_it.key());
      }
      DatabaseNode db;
      STROM_ASSIGN_OR_RETURN(db.registration,
                             DatabaseRegistrationFromJson(db_json["node"].dump()));
      for (auto t_it = db_json["tables"].begin(); t_it != db_json["tables"].end(); ++t_it) {
        const Json& t_json = t_it.value();
        if (!t_json.is_object() || !t_json.contains("node") || !t_json.contains("schemas") ||
            !t_json["schemas"].is_object() || t_json["schemas"].empty()) {
          return Corruption("metadata snapshot: table {}.{} is malformed", db_it.key(),
                            t_it.key());
        }
        TableNode table;
        STROM_ASSIGN_OR_RETURN(table.registration,
                               TableRegistrationFromJson(t_json["node"].dump()));
        for (auto s_it = t_json["schemas"].begin(); s_it != t_json["schemas"].end(); ++s_it) {
          STROM_ASSIGN_OR_RETURN(SchemaId id, ParseId<SchemaId>(s_it.key(), "schema id"));
          auto schema = record::Schema::FromJsonNode(s_it.value());
          if (!schema.ok()) return Corruption("metadata snapshot: {}", schema.status().ToString());
          table.schemas.emplace(id, std::move(schema).value());
        }
        db.tables.emplace(t_it.key(), std::move(table));
      }
      model->databases.emplace(db_it.key(), std::move(db));
    }
    for (auto a_it = assignments->begin(); a_it != assignments->end(); ++a_it) {
      STROM_ASSIGN_OR_RETURN(TableId id, ParseId<TableId>(a_it.key(), "table id"));
      STROM_ASSIGN_OR_RETURN(TableAssignment assignment,
                             TableAssignmentFromJson(a_it.value().dump()));
      model->assignments.emplace(id, std::move(assignment));
    }
    return model;
  }
};

Result<std::unique_ptr<EmbeddedMetadataStore>> EmbeddedMetadataStore::Open(
    std::string dir, asio::thread_pool& pool) {
  std::string path = dir + "/" + std::string(kFileName);
  STROM_ASSIGN_OR_RETURN(std::optional<ByteBuffer> payload,
                         detail::ReadDurableFile(path, kMagic, kFormatVersion));
  std::unique_ptr<Model> model;
  if (payload) {
    auto parsed = Model::Parse(*payload);
    if (!parsed.ok()) return parsed.status().WithContext(path);
    model = std::move(parsed).value();
  } else {
    model = std::make_unique<Model>();
  }
  return std::unique_ptr<EmbeddedMetadataStore>(
      new EmbeddedMetadataStore(std::move(dir), pool, std::move(model)));
}

EmbeddedMetadataStore::EmbeddedMetadataStore(std::string dir, asio::thread_pool& pool,
                                             std::unique_ptr<Model> model)
    : dir_(std::move(dir)), pool_(pool), model_(std::move(model)) {}

EmbeddedMetadataStore::~EmbeddedMetadataStore() = default;

Status EmbeddedMetadataStore::CheckWritable() const {
  if (write_error_.ok()) return Status::OK();
  return MakeError(ErrorCode::kStorage, "metadata store is read-only after a failed write: {}",
                   write_error_.message());
}

Task<Status> EmbeddedMetadataStore::Persist() {
  const uint64_t my_generation = ++generation_;
  if (!write_done_) write_done_ = std::make_unique<Notifier>(co_await asio::this_coro::executor);
  while (true) {
    if (!write_error_.ok()) co_return CheckWritable();
    if (durable_generation_ >= my_generation) co_return Status::OK();
    if (!writing_) break;
    co_await write_done_->Wait();
  }
  writing_ = true;
  const uint64_t generation = generation_;
  const int64_t writer_id_limit = model_->writer_id_limit;
  std::string path = dir_ + "/" + std::string(kFileName);
  std::string payload = model_->Serialize();
  // The closure is a named local: GCC 12 destroys captures of a lambda temporary inside a
  // co_await expression twice.
  auto write = [path = std::move(path), payload = std::move(payload)]() {
    return detail::WriteDurableFile(path, kMagic, kFormatVersion, payload);
  };
  Status status = co_await RunBlocking(pool_, std::move(write));
  writing_ = false;
  if (status.ok()) {
    durable_generation_ = generation;
    model_->durable_writer_id_limit = writer_id_limit;
  } else {
    write_error_ = status;
  }
  write_done_->Notify();
  co_return status;
}

Task<Status> EmbeddedMetadataStore::CreateDatabase(std::string name,
                                                   DatabaseRegistration registration) {
  STROM_CO_RETURN_IF_ERROR(CheckWritable());
  if (model_->databases.count(name) > 0) {
    co_return MakeError(ErrorCode::kDatabaseAlreadyExist, "Database {} already exists.", name);
  }
  model_->databases.emplace(name, DatabaseNode{std::move(registration), {}});
  co_return co_await Persist();
}

Task<Result<std::optional<DatabaseRegistration>>> EmbeddedMetadataStore::GetDatabase(
    std::string name) {
  auto it = model_->databases.find(name);
  if (it == model_->databases.end()) co_return std::optional<DatabaseRegistration>();
  co_return std::optional<DatabaseRegistration>(it->second.registration);
}

Task<Result<std::vector<std::string>>> EmbeddedMetadataStore::ListDatabases() {
  std::vector<std::string> names;
  for (const auto& [name, db] : model_->databases) names.push_back(name);
  co_return names;
}

Task<Status> EmbeddedMetadataStore::DeleteDatabase(std::string name) {
  STROM_CO_RETURN_IF_ERROR(CheckWritable());
  if (model_->databases.erase(name) == 0) {
    co_return MakeError(ErrorCode::kDatabaseNotExist, "Database {} does not exist.", name);
  }
  co_return co_await Persist();
}

Task<Status> EmbeddedMetadataStore::CreateTable(TablePath path, TableRegistration registration,
                                                record::Schema first_schema,
                                                std::optional<TableAssignment> assignment) {
  STROM_CO_RETURN_IF_ERROR(CheckWritable());
  auto db = model_->databases.find(path.database);
  if (db == model_->databases.end()) {
    co_return MakeError(ErrorCode::kDatabaseNotExist, "Database {} does not exist.",
                        path.database);
  }
  if (db->second.tables.count(path.table) > 0) {
    co_return MakeError(ErrorCode::kTableAlreadyExist, "Table {} already exists.", path);
  }
  const TableId table_id = registration.table_id;
  TableNode node{std::move(registration), {}};
  node.schemas.emplace(SchemaId(1), std::move(first_schema));
  db->second.tables.emplace(path.table, std::move(node));
  if (assignment) model_->assignments[table_id] = std::move(*assignment);
  co_return co_await Persist();
}

Task<Result<std::optional<TableRegistration>>> EmbeddedMetadataStore::GetTable(TablePath path) {
  const TableNode* table = model_->FindTable(path);
  if (table == nullptr) co_return std::optional<TableRegistration>();
  co_return std::optional<TableRegistration>(table->registration);
}

Task<Result<std::vector<std::string>>> EmbeddedMetadataStore::ListTables(std::string database) {
  auto db = model_->databases.find(database);
  if (db == model_->databases.end()) {
    co_return MakeError(ErrorCode::kDatabaseNotExist, "Database {} does not exist.", database);
  }
  std::vector<std::string> names;
  for (const auto& [name, table] : db->second.tables) names.push_back(name);
  co_return names;
}

Task<Status> EmbeddedMetadataStore::DeleteTable(TablePath path) {
  STROM_CO_RETURN_IF_ERROR(CheckWritable());
  auto db = model_->databases.find(path.database);
  if (db == model_->databases.end() || db->second.tables.erase(path.table) == 0) {
    co_return MakeError(ErrorCode::kTableNotExist, "Table {} does not exist.", path);
  }
  co_return co_await Persist();
}

Task<Result<SchemaId>> EmbeddedMetadataStore::RegisterSchema(TablePath path,
                                                             record::Schema schema) {
  STROM_CO_RETURN_IF_ERROR(CheckWritable());
  TableNode* table = model_->FindTable(path);
  if (table == nullptr) {
    co_return MakeError(ErrorCode::kTableNotExist, "Table {} does not exist.", path);
  }
  SchemaId id = table->schemas.empty() ? SchemaId(1) : table->schemas.rbegin()->first + 1;
  if (id.value() <= 0) co_return MakeError(ErrorCode::kInvalidTable, "too many schemas");
  table->schemas.emplace(id, std::move(schema));
  STROM_CO_RETURN_IF_ERROR(co_await Persist());
  co_return id;
}

Task<Result<std::optional<record::Schema>>> EmbeddedMetadataStore::GetSchema(TablePath path,
                                                                             SchemaId id) {
  const TableNode* table = model_->FindTable(path);
  if (table == nullptr) co_return std::optional<record::Schema>();
  auto it = table->schemas.find(id);
  if (it == table->schemas.end()) co_return std::optional<record::Schema>();
  co_return std::optional<record::Schema>(it->second);
}

Task<Result<std::vector<SchemaId>>> EmbeddedMetadataStore::ListSchemaIds(TablePath path) {
  std::vector<SchemaId> ids;
  if (const TableNode* table = model_->FindTable(path)) {
    for (const auto& [id, schema] : table->schemas) ids.push_back(id);
  }
  co_return ids;
}

Task<Result<std::optional<TableAssignment>>> EmbeddedMetadataStore::GetTableAssignment(
    TableId table_id) {
  auto it = model_->assignments.find(table_id);
  if (it == model_->assignments.end()) co_return std::optional<TableAssignment>();
  co_return std::optional<TableAssignment>(it->second);
}

Task<Result<std::map<TableId, TableAssignment>>>
EmbeddedMetadataStore::ListTableAssignments() {
  co_return model_->assignments;
}

Task<Status> EmbeddedMetadataStore::DeleteTableAssignment(TableId table_id) {
  STROM_CO_RETURN_IF_ERROR(CheckWritable());
  if (model_->assignments.erase(table_id) == 0) co_return Status::OK();
  co_return co_await Persist();
}

Task<Result<TableId>> EmbeddedMetadataStore::NextTableId() {
  STROM_CO_RETURN_IF_ERROR(CheckWritable());
  TableId id(model_->next_table_id++);
  STROM_CO_RETURN_IF_ERROR(co_await Persist());
  co_return id;
}

Task<Result<PartitionId>> EmbeddedMetadataStore::NextPartitionId() {
  STROM_CO_RETURN_IF_ERROR(CheckWritable());
  PartitionId id(model_->next_partition_id++);
  STROM_CO_RETURN_IF_ERROR(co_await Persist());
  co_return id;
}

Task<Result<WriterId>> EmbeddedMetadataStore::NextWriterId() {
  // Hand out only ids below the durable limit, so a restart (which resumes at that limit)
  // never repeats one.
  while (model_->next_writer_id >= model_->durable_writer_id_limit) {
    STROM_CO_RETURN_IF_ERROR(CheckWritable());
    if (model_->writer_id_limit <= model_->next_writer_id) {
      model_->writer_id_limit = model_->next_writer_id + kWriterIdBlock;
    }
    STROM_CO_RETURN_IF_ERROR(co_await Persist());
  }
  co_return WriterId(model_->next_writer_id++);
}

}  // namespace strom::metadata
