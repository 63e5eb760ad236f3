#include "cli/commands.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <iostream>

#include "cli/output.h"
#include "cli/schema_parser.h"

namespace strom::cli {

using nlohmann::ordered_json;

CommandContext::CommandContext(GlobalOptions options, std::ostream* out, std::ostream* err,
                               const std::atomic<bool>* interrupted)
    : options_(std::move(options)), out_(out), err_(err), interrupted_(interrupted) {}

bool CommandContext::out_is_terminal() const {
  return out_ == &std::cout && isatty(STDOUT_FILENO) == 1;
}

Result<Connection*> CommandContext::connection() {
  if (connection_ != nullptr) return connection_.get();
  std::vector<std::pair<std::string, std::string>> properties;
  properties.emplace_back("bootstrap.servers", options_.bootstrap_servers);
  // An interactive tool should not retry forever when the cluster goes away: rows not
  // acknowledged within two minutes fail (override with -c client.writer.delivery-timeout=...).
  properties.emplace_back("client.writer.delivery-timeout", "120 s");
  // Likewise a lookup gives up after ~30 s of retriable errors (100 ms apart, plus the
  // requests themselves).
  properties.emplace_back("client.lookup.max-retries", "300");
  for (const std::string& option : options_.client_options) {
    size_t eq = option.find('=');
    if (eq == std::string::npos || eq == 0) {
      return MakeError(ErrorCode::kInvalidConfig, "--client-option '{}' is not KEY=VALUE", option);
    }
    properties.emplace_back(option.substr(0, eq), option.substr(eq + 1));
  }
  STROM_ASSIGN_OR_RETURN(ClientConfig config, ClientConfig::FromProperties(properties));
  STROM_ASSIGN_OR_RETURN(connection_, Connection::Create(config));
  return connection_.get();
}

namespace {

ordered_json PropertiesJson(const Properties& properties) {
  ordered_json object = ordered_json::object();
  for (const auto& [key, value] : properties) object[key] = value;
  return object;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i > 0 ? ", " : "") + names[i];
  return out;
}

}  // namespace

// ---- databases ----

Status DbCreate(CommandContext& ctx, const std::string& name,
                const std::optional<std::string>& comment, bool if_not_exists) {
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  STROM_RETURN_IF_ERROR(
      conn->GetAdmin()->CreateDatabase(name, DatabaseDescriptor(comment, {}), if_not_exists));
  if (ctx.json()) {
    ctx.out() << ordered_json{{"database", name}, {"created", true}}.dump() << '\n';
  } else {
    ctx.out() << "Created database " << name << '\n';
  }
  return Status::OK();
}

Status DbDrop(CommandContext& ctx, const std::string& name, bool if_exists, bool cascade) {
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  STROM_RETURN_IF_ERROR(conn->GetAdmin()->DropDatabase(name, if_exists, cascade));
  if (ctx.json()) {
    ctx.out() << ordered_json{{"database", name}, {"dropped", true}}.dump() << '\n';
  } else {
    ctx.out() << "Dropped database " << name << '\n';
  }
  return Status::OK();
}

Status DbList(CommandContext& ctx) {
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  STROM_ASSIGN_OR_RETURN(std::vector<std::string> names, conn->GetAdmin()->ListDatabases());
  std::sort(names.begin(), names.end());
  if (ctx.json()) {
    ctx.out() << ordered_json(names).dump() << '\n';
  } else {
    for (const auto& name : names) ctx.out() << name << '\n';
  }
  return Status::OK();
}

Status DbDescribe(CommandContext& ctx, const std::string& name) {
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  auto admin = conn->GetAdmin();
  STROM_ASSIGN_OR_RETURN(DatabaseInfo info, admin->GetDatabaseInfo(name));
  STROM_ASSIGN_OR_RETURN(std::vector<std::string> tables, admin->ListTables(name));
  std::sort(tables.begin(), tables.end());
  if (ctx.json()) {
    ordered_json doc{{"database", info.name},
                     {"comment", info.descriptor.comment() ? ordered_json(*info.descriptor.comment())
                                                           : ordered_json()},
                     {"custom_properties", PropertiesJson(info.descriptor.custom_properties())},
                     {"created_time", info.created_time_ms},
                     {"modified_time", info.modified_time_ms},
                     {"tables", tables}};
    ctx.out() << doc.dump() << '\n';
    return Status::OK();
  }
  ctx.out() << "Database: " << info.name << '\n';
  if (info.descriptor.comment()) ctx.out() << "Comment:  " << *info.descriptor.comment() << '\n';
  ctx.out() << "Created:  " << FormatEpochMillis(info.created_time_ms) << '\n';
  ctx.out() << "Modified: " << FormatEpochMillis(info.modified_time_ms) << '\n';
  for (const auto& [key, value] : info.descriptor.custom_properties()) {
    ctx.out() << "Property: " << key << " = " << value << '\n';
  }
  ctx.out() << "Tables:   " << (tables.empty() ? "(none)" : JoinNames(tables)) << '\n';
  return Status::OK();
}

// ---- tables ----

Result<TableDescriptor> BuildTableDescriptor(const TableCreateOptions& options) {
  STROM_ASSIGN_OR_RETURN(std::vector<ColumnSpec> columns, ParseColumns(options.schema));
  Schema::Builder builder;
  for (ColumnSpec& column : columns) {
    builder.AddColumn(std::move(column.name), std::move(column.type));
    if (column.comment) builder.WithComment(std::move(*column.comment));
  }
  if (!options.primary_key.empty()) {
    STROM_ASSIGN_OR_RETURN(std::vector<std::string> key, ParseNameList(options.primary_key));
    builder.PrimaryKey(std::move(key));
  }
  STROM_ASSIGN_OR_RETURN(Schema schema, builder.Build());
  TableDescriptor::Parts parts;
  parts.schema = std::move(schema);
  parts.comment = options.comment;
  std::vector<std::string> bucket_keys;
  if (!options.bucket_key.empty()) {
    STROM_ASSIGN_OR_RETURN(bucket_keys, ParseNameList(options.bucket_key));
  }
  if (options.buckets && *options.buckets <= 0) {
    return MakeError(ErrorCode::kInvalidTable, "--buckets must be positive, not {}",
                     *options.buckets);
  }
  if (options.buckets || !bucket_keys.empty()) {
    parts.distribution = TableDistribution{options.buckets, std::move(bucket_keys)};
  }
  for (const std::string& property : options.properties) {
    size_t eq = property.find('=');
    if (eq == std::string::npos || eq == 0) {
      return MakeError(ErrorCode::kInvalidConfig, "--property '{}' is not KEY=VALUE", property);
    }
    std::string key = property.substr(0, eq);
    auto existing = std::find_if(parts.properties.begin(), parts.properties.end(),
                                 [&](const auto& entry) { return entry.first == key; });
    if (existing != parts.properties.end()) {
      existing->second = property.substr(eq + 1);
    } else {
      parts.properties.emplace_back(std::move(key), property.substr(eq + 1));
    }
  }
  return TableDescriptor::Make(std::move(parts));
}

Status TableCreate(CommandContext& ctx, const TableCreateOptions& options) {
  STROM_ASSIGN_OR_RETURN(TablePath path, TablePath::Parse(options.table));
  STROM_ASSIGN_OR_RETURN(TableDescriptor descriptor, BuildTableDescriptor(options));
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  STROM_RETURN_IF_ERROR(conn->GetAdmin()->CreateTable(path, descriptor, options.if_not_exists));
  if (ctx.json()) {
    ctx.out() << ordered_json{{"table", path.ToString()}, {"created", true}}.dump() << '\n';
  } else {
    ctx.out() << "Created table " << path.ToString() << '\n';
  }
  return Status::OK();
}

Status TableDrop(CommandContext& ctx, const std::string& table, bool if_exists) {
  STROM_ASSIGN_OR_RETURN(TablePath path, TablePath::Parse(table));
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  STROM_RETURN_IF_ERROR(conn->GetAdmin()->DropTable(path, if_exists));
  if (ctx.json()) {
    ctx.out() << ordered_json{{"table", path.ToString()}, {"dropped", true}}.dump() << '\n';
  } else {
    ctx.out() << "Dropped table " << path.ToString() << '\n';
  }
  return Status::OK();
}

Status TableList(CommandContext& ctx, const std::string& database) {
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  STROM_ASSIGN_OR_RETURN(std::vector<std::string> names, conn->GetAdmin()->ListTables(database));
  std::sort(names.begin(), names.end());
  if (ctx.json()) {
    ctx.out() << ordered_json(names).dump() << '\n';
  } else {
    for (const auto& name : names) ctx.out() << name << '\n';
  }
  return Status::OK();
}

namespace {

std::string JoinIds(const std::vector<ServerId>& ids) {
  std::string out;
  for (ServerId id : ids) {
    if (!out.empty()) out += ',';
    out += std::to_string(id.value());
  }
  return out;
}

ordered_json IdsJson(const std::vector<ServerId>& ids) {
  ordered_json out = ordered_json::array();
  for (ServerId id : ids) out.push_back(id.value());
  return out;
}

ordered_json BucketLocationsJson(const std::vector<BucketLocation>& locations) {
  ordered_json out = ordered_json::array();
  for (const BucketLocation& b : locations) {
    out.push_back({{"bucket", b.bucket.value()},
                   {"leader", b.leader ? ordered_json(b.leader->value()) : ordered_json()},
                   {"leader_epoch", b.leader_epoch ? ordered_json(*b.leader_epoch) : ordered_json()},
                   {"replicas", IdsJson(b.replicas)},
                   {"isr", b.isr ? IdsJson(*b.isr) : ordered_json()}});
  }
  return out;
}

}  // namespace

Status TableDescribe(CommandContext& ctx, const std::string& table) {
  STROM_ASSIGN_OR_RETURN(TablePath path, TablePath::Parse(table));
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  STROM_ASSIGN_OR_RETURN(TableInfo info, conn->GetAdmin()->GetTableInfo(path));
  const Schema& schema = info.schema();
  if (ctx.json()) {
    ordered_json columns = ordered_json::array();
    for (const auto& column : schema.columns()) {
      columns.push_back({{"name", column.name},
                         {"type", column.type.ToString()},
                         {"comment", column.comment ? ordered_json(*column.comment) : ordered_json()}});
    }
    ordered_json doc{{"table", path.ToString()},
                     {"table_id", info.table_id.value()},
                     {"schema_id", info.schema_id.value()},
                     {"columns", columns},
                     {"primary_key", schema.primary_key()},
                     {"bucket_key", info.bucket_keys()},
                     {"buckets", info.num_buckets()},
                     {"partition_key", info.descriptor.partition_keys()},
                     {"comment", info.descriptor.comment() ? ordered_json(*info.descriptor.comment())
                                                           : ordered_json()},
                     {"properties", PropertiesJson(info.descriptor.properties())},
                     {"custom_properties", PropertiesJson(info.descriptor.custom_properties())},
                     {"created_time", info.created_time_ms},
                     {"modified_time", info.modified_time_ms}};
    if (!info.IsPartitioned()) {
      STROM_ASSIGN_OR_RETURN(std::vector<BucketLocation> locations,
                             conn->GetAdmin()->GetBucketLocations(path));
      doc["bucket_locations"] = BucketLocationsJson(locations);
    }
    ctx.out() << doc.dump() << '\n';
    return Status::OK();
  }
  ctx.out() << "Table:       " << path.ToString() << " (id " << info.table_id << ", schema "
            << info.schema_id << ")\n";
  if (info.descriptor.comment()) ctx.out() << "Comment:     " << *info.descriptor.comment() << '\n';
  ctx.out() << "Type:        " << (info.HasPrimaryKey() ? "primary-key table" : "log table") << '\n';
  if (info.HasPrimaryKey()) ctx.out() << "Primary key: " << JoinNames(schema.primary_key()) << '\n';
  ctx.out() << "Buckets:     " << info.num_buckets();
  if (!info.bucket_keys().empty()) ctx.out() << " by " << JoinNames(info.bucket_keys());
  ctx.out() << '\n';
  if (info.IsPartitioned()) {
    ctx.out() << "Partitioned: " << JoinNames(info.descriptor.partition_keys()) << '\n';
  }
  ctx.out() << "Created:     " << FormatEpochMillis(info.created_time_ms) << '\n';
  for (const auto& [key, value] : info.descriptor.properties()) {
    ctx.out() << "Property:    " << key << " = " << value << '\n';
  }
  for (const auto& [key, value] : info.descriptor.custom_properties()) {
    ctx.out() << "Custom:      " << key << " = " << value << '\n';
  }
  ctx.out() << '\n';
  TablePrinter printer({"column", "type", "comment"});
  for (const auto& column : schema.columns()) {
    printer.AddRow({column.name, column.type.ToString(), column.comment.value_or("")});
  }
  printer.Print(ctx.out());
  if (!info.IsPartitioned()) {
    STROM_ASSIGN_OR_RETURN(std::vector<BucketLocation> locations,
                           conn->GetAdmin()->GetBucketLocations(path));
    ctx.out() << '\n';
    TablePrinter buckets({"bucket", "leader", "epoch", "replicas", "isr"});
    for (const BucketLocation& b : locations) {
      buckets.AddRow({std::to_string(b.bucket.value()),
                      b.leader ? std::to_string(b.leader->value()) : "none",
                      b.leader_epoch ? std::to_string(*b.leader_epoch) : "",
                      JoinIds(b.replicas), b.isr ? JoinIds(*b.isr) : "unknown"});
    }
    buckets.Print(ctx.out());
  }
  return Status::OK();
}

// ---- offsets and cluster ----

Status Offsets(CommandContext& ctx, const std::string& table) {
  STROM_ASSIGN_OR_RETURN(TablePath path, TablePath::Parse(table));
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  auto admin = conn->GetAdmin();
  STROM_ASSIGN_OR_RETURN(auto earliest, admin->ListOffsets(path, {}, OffsetSpec::Earliest()));
  STROM_ASSIGN_OR_RETURN(auto latest, admin->ListOffsets(path, {}, OffsetSpec::Latest()));
  int64_t total = 0;
  if (ctx.json()) {
    ordered_json buckets = ordered_json::array();
    for (const auto& [bucket, offset] : latest) {
      int64_t start = earliest.count(bucket) ? earliest.at(bucket).value() : 0;
      buckets.push_back({{"bucket", bucket.value()},
                         {"earliest", start},
                         {"latest", offset.value()},
                         {"records", offset.value() - start}});
    }
    ctx.out() << ordered_json{{"table", path.ToString()}, {"buckets", buckets}}.dump() << '\n';
    return Status::OK();
  }
  TablePrinter printer({"bucket", "earliest", "latest", "records"});
  for (const auto& [bucket, offset] : latest) {
    int64_t start = earliest.count(bucket) ? earliest.at(bucket).value() : 0;
    total += offset.value() - start;
    printer.AddRow({std::to_string(bucket.value()), std::to_string(start),
                    std::to_string(offset.value()), std::to_string(offset.value() - start)});
  }
  printer.Print(ctx.out());
  ctx.out() << "Total: " << FormatCount(total) << " records in " << latest.size() << " bucket"
            << (latest.size() == 1 ? "" : "s") << '\n';
  return Status::OK();
}

Status ClusterInfo(CommandContext& ctx) {
  STROM_ASSIGN_OR_RETURN(Connection * conn, ctx.connection());
  STROM_ASSIGN_OR_RETURN(std::vector<ServerNode> nodes, conn->GetAdmin()->GetServerNodes());
  // The metadata lists the servers registered with the cluster; each is also asked directly,
  // so a registered server that does not answer shows up as such.
  std::vector<Result<std::chrono::microseconds>> pings;
  pings.reserve(nodes.size());
  for (const auto& node : nodes) pings.push_back(conn->GetAdmin()->Ping(node));
  if (ctx.json()) {
    ordered_json servers = ordered_json::array();
    for (size_t i = 0; i < nodes.size(); ++i) {
      const ServerNode& node = nodes[i];
      servers.push_back(
          {{"role", node.role == ServerRole::kCoordinator ? "coordinator" : "tablet-server"},
           {"id", node.id.value()},
           {"host", node.host},
           {"port", node.port},
           {"rack", node.rack ? ordered_json(*node.rack) : ordered_json()},
           {"alive", pings[i].ok()},
           {"rtt_us", pings[i].ok() ? ordered_json(pings[i]->count()) : ordered_json()},
           {"error", pings[i].ok() ? ordered_json() : ordered_json(pings[i].status().ToString())}});
    }
    ctx.out() << ordered_json{{"bootstrap", ctx.options().bootstrap_servers},
                              {"servers", servers}}
                     .dump()
              << '\n';
    return Status::OK();
  }
  TablePrinter printer({"role", "id", "address", "rack", "status"});
  for (size_t i = 0; i < nodes.size(); ++i) {
    const ServerNode& node = nodes[i];
    std::string status = pings[i].ok()
                             ? fmt::format("up ({:.1f} ms)", pings[i]->count() / 1000.0)
                             : "not answering: " + pings[i].status().message();
    printer.AddRow({node.role == ServerRole::kCoordinator ? "coordinator" : "tablet-server",
                    std::to_string(node.id.value()), node.Address(), node.rack.value_or(""),
                    status});
  }
  printer.Print(ctx.out());
  return Status::OK();
}

}  // namespace strom::cli
