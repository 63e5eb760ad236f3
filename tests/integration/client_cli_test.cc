// Process-level tests of the C++ client and the `strom` CLI against a real server process:
// `strom-server local` on a free loopback port, or, when STROM_TEST_BOOTSTRAP is set, the
// cluster it names (this is how the same tests run against the released Fluss 0.9.1 server,
// see src/client/README.md).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/bucket_assigner.h"
#include "strom/client.h"
#include "integration/server_process.h"

namespace strom {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

/// The cluster of one test: a fresh `strom-server local`, or the external one.
class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    name_ = std::string(info->name());
    for (char& c : name_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    database_ = "it_" + std::to_string(::getpid()) + "_" + name_;
    dir_ = fs::temp_directory_path() / ("strom-client-it-" + std::to_string(::getpid()));
    if (const char* external = std::getenv("STROM_TEST_BOOTSTRAP")) {
      bootstrap_ = external;
    } else {
      fs::remove_all(dir_);
      server_ = testing::ServerProcess::Start(STROM_SERVER_BIN, (dir_ / "data").string());
      ASSERT_NE(server_, nullptr) << "strom-server local did not start";
      bootstrap_ = server_->address();
    }
    fs::create_directories(dir_);
  }

  void TearDown() override {
    if (connection_ != nullptr) {
      connection_->GetAdmin()->DropDatabase(database_, true, true).IgnoreError();
    }
    connection_.reset();
    server_.reset();
    fs::remove_all(dir_);
  }

  Connection& Conn() {
    if (connection_ == nullptr) {
      ClientConfig config;
      config.bootstrap_servers = bootstrap_;
      auto conn = Connection::Create(config);
      EXPECT_TRUE(conn.ok()) << conn.status().ToString();
      if (conn.ok()) connection_ = std::move(*conn);
    }
    return *connection_;
  }

  TablePath CreateTable(const std::string& table, Schema schema, std::optional<int32_t> buckets,
                        std::vector<std::string> bucket_keys = {}, Properties properties = {}) {
    auto admin = Conn().GetAdmin();
    EXPECT_TRUE(admin->CreateDatabase(database_, DatabaseDescriptor(), true).ok());
    TableDescriptor::Parts parts;
    parts.schema = std::move(schema);
    parts.distribution = TableDistribution{buckets, std::move(bucket_keys)};
    parts.properties = std::move(properties);
    auto descriptor = TableDescriptor::Make(std::move(parts));
    EXPECT_TRUE(descriptor.ok()) << descriptor.status().ToString();
    TablePath path(database_, table);
    Status created = admin->CreateTable(path, *descriptor);
    EXPECT_TRUE(created.ok()) << path.ToString() << ": " << created.ToString();
    return path;
  }

  /// Runs the `strom` binary; stdin from `input` (a file path) when given.
  struct CliRun {
    int exit_code;
    std::string out;
    std::string err;
  };
  CliRun Cli(std::vector<std::string> args, const std::string& input = "") {
    std::string out_file = (dir_ / "cli.out").string();
    std::string err_file = (dir_ / "cli.err").string();
    pid_t pid = ::fork();
    if (pid == 0) {
      int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int in = ::open(input.empty() ? "/dev/null" : input.c_str(), O_RDONLY);
      ::dup2(out, STDOUT_FILENO);
      ::dup2(err, STDERR_FILENO);
      ::dup2(in, STDIN_FILENO);
      std::vector<std::string> full = {STROM_CLI_BIN, "--bootstrap-server", bootstrap_};
      full.insert(full.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : full) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(STROM_CLI_BIN, argv.data());
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    auto slurp = [](const std::string& path) {
      std::ifstream in(path);
      std::stringstream s;
      s << in.rdbuf();
      return s.str();
    };
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out_file), slurp(err_file)};
  }

  std::string name_;
  std::string database_;
  std::string bootstrap_;
  fs::path dir_;
  std::unique_ptr<testing::ServerProcess> server_;
  std::unique_ptr<Connection> connection_;
};

Schema EventSchema() {
  return *Schema::Builder()
              .AddColumn("id", DataType::Int().NotNull())
              .AddColumn("name", DataType::String())
              .AddColumn("score", DataType::BigInt())
              .AddColumn("price", DataType::Decimal(10, 2))
              .AddColumn("ts", DataType::Timestamp(3))
              .Build();
}

GenericRow EventRow(int32_t id) {
  GenericRow row;
  row.push_back(Datum(id));
  row.push_back(id % 10 == 0 ? Datum() : Datum("name-" + std::to_string(id)));
  row.push_back(Datum(int64_t{id} * 1000));
  row.push_back(Datum(DecimalValue{id * 7}));
  row.push_back(Datum(TimestampValue{1714564800000 + id, 0}));
  return row;
}

/// Reads every record up to the current high watermarks of all buckets.
std::vector<ScanRecord> ReadAll(Connection& conn, const TablePath& path, LogScanner& scanner) {
  auto offsets = conn.GetAdmin()->ListOffsets(path, {}, OffsetSpec::Latest());
  EXPECT_TRUE(offsets.ok()) << offsets.status().ToString();
  int64_t expected = 0;
  for (const auto& [bucket, offset] : *offsets) expected += offset.value();
  std::vector<ScanRecord> out;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (static_cast<int64_t>(out.size()) < expected && std::chrono::steady_clock::now() < deadline) {
    auto records = scanner.Poll(1s);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    if (!records.ok()) break;
    for (const ScanRecord& r : *records) out.push_back(r);
  }
  EXPECT_EQ(static_cast<int64_t>(out.size()), expected);
  return out;
}

TEST_F(ClusterTest, DatabaseAndTableDdl) {
  auto admin = Conn().GetAdmin();
  ASSERT_TRUE(admin->CreateDatabase(database_, DatabaseDescriptor("for tests", {{"k", "v"}})).ok());
  EXPECT_EQ(admin->CreateDatabase(database_).code(), ErrorCode::kDatabaseAlreadyExist);
  EXPECT_TRUE(admin->CreateDatabase(database_, DatabaseDescriptor(), true).ok());
  EXPECT_TRUE(*admin->DatabaseExists(database_));
  EXPECT_FALSE(*admin->DatabaseExists(database_ + "_nope"));
  auto databases = admin->ListDatabases();
  ASSERT_TRUE(databases.ok());
  EXPECT_NE(std::find(databases->begin(), databases->end(), database_), databases->end());
  auto db_info = admin->GetDatabaseInfo(database_);
  ASSERT_TRUE(db_info.ok()) << db_info.status().ToString();
  EXPECT_EQ(db_info->descriptor.comment(), std::optional<std::string>("for tests"));
  EXPECT_EQ(admin->GetDatabaseInfo(database_ + "_nope").status().code(),
            ErrorCode::kDatabaseNotExist);

  TablePath path = CreateTable("events", EventSchema(), 3, {"id"},
                               {{"table.log.arrow.compression.type", "LZ4_FRAME"}});
  TableDescriptor::Parts again_parts;
  again_parts.schema = EventSchema();
  EXPECT_EQ(admin->CreateTable(path, *TableDescriptor::Make(again_parts)).code(),
            ErrorCode::kTableAlreadyExist);
  EXPECT_TRUE(*admin->TableExists(path));
  auto tables = admin->ListTables(database_);
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(*tables, std::vector<std::string>{"events"});
  auto info = admin->GetTableInfo(path);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->num_buckets(), 3);
  EXPECT_EQ(info->bucket_keys(), std::vector<std::string>{"id"});
  EXPECT_EQ(info->schema().ColumnNames(),
            (std::vector<std::string>{"id", "name", "score", "price", "ts"}));
  EXPECT_EQ(*info->descriptor.Property("table.log.arrow.compression.type"), "LZ4_FRAME");
  auto schema = admin->GetTableSchema(path);
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(schema->schema_id, info->schema_id);
  EXPECT_EQ(schema->schema.ColumnNames(), info->schema().ColumnNames());
  auto nodes = admin->GetServerNodes();
  ASSERT_TRUE(nodes.ok());
  ASSERT_GE(nodes->size(), 2u);
  EXPECT_EQ(nodes->front().role, ServerRole::kCoordinator);

  EXPECT_EQ(Conn().GetTable(TablePath(database_, "nope")).status().code(), ErrorCode::kTableNotExist);
  EXPECT_EQ(admin->DropDatabase(database_).code(), ErrorCode::kDatabaseNotEmpty);
  EXPECT_TRUE(admin->DropTable(path).ok());
  EXPECT_EQ(admin->DropTable(path).code(), ErrorCode::kTableNotExist);
  EXPECT_TRUE(admin->DropTable(path, true).ok());
  EXPECT_TRUE(admin->DropDatabase(database_).ok());
  EXPECT_FALSE(*admin->DatabaseExists(database_));
}

// 100k rows through the writer (hash-bucketed on id over 4 buckets) and back through the
// scanner: every row exactly once, in offset order per bucket, in the bucket Fluss's hash
// picks, with offsets matching ListOffsets.
TEST_F(ClusterTest, Append100kRowsAndScanBack) {
  TablePath path = CreateTable("events", EventSchema(), 4, {"id"});
  auto table = Conn().GetTable(path);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  auto writer = (*table)->NewAppend().CreateWriter();
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  constexpr int32_t kRows = 100000;
  WriteResult last;
  for (int32_t id = 0; id < kRows; ++id) {
    ASSERT_TRUE((*writer)->Append(EventRow(id), id == kRows - 1 ? &last : nullptr).ok());
  }
  ASSERT_TRUE((*writer)->Flush().ok());
  EXPECT_TRUE(last.IsReady());
  EXPECT_TRUE(last.Wait().ok());
  AppendWriterStats stats = (*writer)->stats();
  EXPECT_EQ(stats.records_appended, kRows);
  EXPECT_EQ(stats.records_acked, kRows);
  EXPECT_EQ(stats.records_failed, 0);
  EXPECT_GE(stats.batches_sent, 4);
  ASSERT_TRUE((*writer)->Close().ok());

  auto earliest = Conn().GetAdmin()->ListOffsets(path, {}, OffsetSpec::Earliest());
  ASSERT_TRUE(earliest.ok());
  for (const auto& [bucket, offset] : *earliest) EXPECT_EQ(offset.value(), 0);

  auto scanner = (*table)->NewScan().CreateLogScanner();
  ASSERT_TRUE(scanner.ok());
  ASSERT_TRUE((*scanner)->SubscribeAll(OffsetSpec::Earliest()).ok());
  std::vector<ScanRecord> records = ReadAll(Conn(), path, **scanner);
  ASSERT_EQ(records.size(), static_cast<size_t>(kRows));

  auto hash = client::HashBucketAssigner::Create(EventSchema().RowType(), {"id"},
                                                 record::DataLakeFormat::kNone, 4);
  ASSERT_TRUE(hash.ok());
  std::vector<bool> seen(kRows, false);
  std::map<BucketId, int64_t> next_offset;
  for (const ScanRecord& record : records) {
    int32_t id = record.row[0].as<int32_t>();
    ASSERT_GE(id, 0);
    ASSERT_LT(id, kRows);
    EXPECT_FALSE(seen[static_cast<size_t>(id)]) << "row " << id << " read twice";
    seen[static_cast<size_t>(id)] = true;
    EXPECT_EQ(record.row, EventRow(id));
    EXPECT_EQ(record.change_type, ChangeType::kAppendOnly);
    EXPECT_GT(record.timestamp.value(), 0);
    EXPECT_EQ(record.offset.value(), next_offset[record.bucket]++);  // dense, in order
    EXPECT_EQ((*hash)->Assign(record.row, {})->value(), record.bucket.value());
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), kRows);
  auto positions = (*scanner)->Positions();
  for (const auto& [bucket, next] : next_offset) EXPECT_EQ(positions[bucket].value(), next);
}

// Projection (server-side for ARROW, client-side for the row formats) and all three log
// formats.
TEST_F(ClusterTest, ProjectionAndLogFormats) {
  for (const char* format : {"ARROW", "INDEXED", "COMPACTED"}) {
    SCOPED_TRACE(format);
    std::string table_name = std::string("t_") + format;
    for (char& c : table_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    TablePath path =
        CreateTable(table_name, EventSchema(), 2, {}, {{"table.log.format", format}});
    auto table = Conn().GetTable(path);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    auto writer = (*table)->NewAppend().CreateWriter();
    ASSERT_TRUE(writer.ok());
    for (int32_t id = 0; id < 5000; ++id) ASSERT_TRUE((*writer)->Append(EventRow(id)).ok());
    ASSERT_TRUE((*writer)->Flush().ok());

    auto scanner = (*table)->NewScan().ProjectByName({"ts", "id", "price"}).CreateLogScanner();
    ASSERT_TRUE(scanner.ok()) << scanner.status().ToString();
    EXPECT_EQ((*scanner)->column_names(), (std::vector<std::string>{"ts", "id", "price"}));
    ASSERT_TRUE((*scanner)->SubscribeAll(OffsetSpec::Earliest()).ok());
    std::vector<ScanRecord> records = ReadAll(Conn(), path, **scanner);
    ASSERT_EQ(records.size(), 5000u);
    std::set<int32_t> ids;
    for (const ScanRecord& record : records) {
      ASSERT_EQ(record.row.size(), 3u);
      int32_t id = record.row[1].as<int32_t>();
      ids.insert(id);
      GenericRow full = EventRow(id);
      EXPECT_EQ(record.row[0], full[4]);
      EXPECT_EQ(record.row[2], full[3]);
    }
    EXPECT_EQ(ids.size(), 5000u);
    EXPECT_EQ((*table)->NewScan().ProjectByName({"nope"}).CreateLogScanner().status().code(),
              ErrorCode::kInvalidColumnProjection);
  }
}

// PollBatches hands out the rows Poll would, as views read through the typed getters, at most
// scanner_max_poll_records per call, in offset order per bucket; the two may be mixed.
TEST_F(ClusterTest, PollBatchesReadsWhatPollReads) {
  for (const char* format : {"ARROW", "INDEXED"}) {
    SCOPED_TRACE(format);
    std::string table_name = std::string("batches_") + format;
    for (char& c : table_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    Properties properties = {{"table.log.format", format}};
    if (std::string(format) == "ARROW") {
      properties.emplace_back("table.log.arrow.compression.type", "ZSTD");
    }
    TablePath path = CreateTable(table_name, EventSchema(), 3, {}, properties);
    auto table = Conn().GetTable(path);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    auto writer = (*table)->NewAppend().CreateWriter();
    ASSERT_TRUE(writer.ok());
    constexpr int32_t kRows = 3000;
    for (int32_t id = 0; id < kRows; ++id) ASSERT_TRUE((*writer)->Append(EventRow(id)).ok());
    ASSERT_TRUE((*writer)->Flush().ok());

    auto scanner = (*table)->NewScan().CreateLogScanner();
    ASSERT_TRUE(scanner.ok()) << scanner.status().ToString();
    ASSERT_TRUE((*scanner)->SubscribeAll(OffsetSpec::Earliest()).ok());
    // One Poll first: the rest comes through PollBatches from where it stopped.
    std::set<int32_t> ids;
    std::map<BucketId, int64_t> next_offset;
    auto first = (*scanner)->Poll(5s);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    for (const ScanRecord& r : *first) {
      EXPECT_EQ(r.offset.value(), next_offset[r.bucket]++);
      EXPECT_EQ(r.row, EventRow(r.row[0].as<int32_t>()));
      ids.insert(r.row[0].as<int32_t>());
    }
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (ids.size() < static_cast<size_t>(kRows) && std::chrono::steady_clock::now() < deadline) {
      auto batches = (*scanner)->PollBatches(1s);
      ASSERT_TRUE(batches.ok()) << batches.status().ToString();
      EXPECT_LE(batches->record_count, 500u);
      size_t counted = 0;
      for (const ScanBatch& batch : *batches) {
        ASSERT_EQ(batch.num_columns(), 5u);
        counted += batch.size();
        for (size_t i = 0; i < batch.size(); ++i) {
          EXPECT_EQ(batch.offset(i).value(), next_offset[batch.bucket()]++);
          const int32_t id = batch.GetInt(i, 0);
          const GenericRow expected = EventRow(id);
          EXPECT_EQ(batch.IsNull(i, 1), id % 10 == 0);
          if (id % 10 != 0) {
            EXPECT_EQ(batch.GetBytes(i, 1), expected[1].as<std::string>());
          }
          EXPECT_EQ(batch.GetBigInt(i, 2), int64_t{id} * 1000);
          EXPECT_EQ(batch.GetDecimal(i, 3), expected[3].as<DecimalValue>());
          EXPECT_EQ(batch.GetTimestamp(i, 4), expected[4].as<TimestampValue>());
          EXPECT_EQ(batch.GetRow(i), expected);
          EXPECT_EQ(batch.change_type(i), ChangeType::kAppendOnly);
          EXPECT_TRUE(ids.insert(id).second) << "row " << id << " read twice";
        }
      }
      EXPECT_EQ(counted, batches->record_count);
    }
    EXPECT_EQ(ids.size(), static_cast<size_t>(kRows));
    std::map<BucketId, LogOffset> positions = (*scanner)->Positions();
    for (const auto& [bucket, end] : next_offset) EXPECT_EQ(positions[bucket].value(), end);
  }
}

// A keyless table with small batches: the sticky assigner moves between buckets as batches
// fill, and every row still arrives once.
TEST_F(ClusterTest, KeylessTableSpreadsBatchesOverBuckets) {
  TablePath path = CreateTable("keyless", EventSchema(), 3);
  ClientConfig config;
  config.bootstrap_servers = bootstrap_;
  config.writer_batch_size = 16 * 1024;
  auto conn = Connection::Create(config);
  ASSERT_TRUE(conn.ok());
  auto table = (*conn)->GetTable(path);
  ASSERT_TRUE(table.ok());
  auto writer = (*table)->NewAppend().CreateWriter();
  ASSERT_TRUE(writer.ok());
  for (int32_t id = 0; id < 20000; ++id) ASSERT_TRUE((*writer)->Append(EventRow(id)).ok());
  ASSERT_TRUE((*writer)->Close().ok());
  auto offsets = (*conn)->GetAdmin()->ListOffsets(path, {}, OffsetSpec::Latest());
  ASSERT_TRUE(offsets.ok());
  int used = 0;
  int64_t total = 0;
  for (const auto& [bucket, offset] : *offsets) {
    used += offset.value() > 0;
    total += offset.value();
  }
  EXPECT_EQ(total, 20000);
  EXPECT_GE(used, 2);
}

// Batches larger than the per-bucket fetch budget (1 MiB): servers promise one whole batch
// only to the first bucket of a request, so the scanner must cope with cut batches for the
// others.
TEST_F(ClusterTest, ScanReadsBatchesLargerThanTheBucketBudget) {
  Schema schema = *Schema::Builder()
                       .AddColumn("id", DataType::Int().NotNull())
                       .AddColumn("payload", DataType::String())
                       .Build();
  TablePath path = CreateTable("big_batches", schema, 2, {"id"},
                               {{"table.log.arrow.compression.type", "NONE"}});
  ClientConfig config;
  config.bootstrap_servers = bootstrap_;
  config.writer_batch_size = 4 * 1024 * 1024;
  config.writer_batch_timeout = 60s;  // one batch per bucket, closed by Flush
  auto conn = Connection::Create(config);
  ASSERT_TRUE(conn.ok());
  auto table = (*conn)->GetTable(path);
  ASSERT_TRUE(table.ok());
  auto writer = (*table)->NewAppend().CreateWriter();
  ASSERT_TRUE(writer.ok());
  constexpr int32_t kRows = 30000;
  const std::string payload(100, 'p');
  for (int32_t id = 0; id < kRows; ++id) {
    ASSERT_TRUE((*writer)->Append({Datum(id), Datum(payload)}).ok());
  }
  ASSERT_TRUE((*writer)->Flush().ok());
  EXPECT_EQ((*writer)->stats().batches_sent, 2);  // about 1.6 MB each

  auto scanner = (*table)->NewScan().CreateLogScanner();
  ASSERT_TRUE(scanner.ok());
  ASSERT_TRUE((*scanner)->SubscribeAll(OffsetSpec::Earliest()).ok());
  std::vector<ScanRecord> records = ReadAll(**conn, path, **scanner);
  EXPECT_EQ(records.size(), static_cast<size_t>(kRows));
}

// Subscribing at LATEST and at a timestamp reads only what was written after.
TEST_F(ClusterTest, SubscribeAtLatestAndTimestamp) {
  TablePath path = CreateTable("tail", EventSchema(), 1);
  auto table = Conn().GetTable(path);
  ASSERT_TRUE(table.ok());
  auto writer = (*table)->NewAppend().CreateWriter();
  ASSERT_TRUE(writer.ok());
  for (int32_t id = 0; id < 100; ++id) ASSERT_TRUE((*writer)->Append(EventRow(id)).ok());
  ASSERT_TRUE((*writer)->Flush().ok());

  auto scanner = (*table)->NewScan().ProjectByIndex({0}).CreateLogScanner();
  ASSERT_TRUE(scanner.ok());
  ASSERT_TRUE((*scanner)->Subscribe(BucketId(0), OffsetSpec::Latest()).ok());
  EXPECT_EQ((*scanner)->Positions()[BucketId(0)].value(), 100);
  auto nothing = (*scanner)->Poll(300ms);
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->empty());

  std::this_thread::sleep_for(20ms);
  int64_t before_second_write =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::this_thread::sleep_for(20ms);
  for (int32_t id = 100; id < 150; ++id) ASSERT_TRUE((*writer)->Append(EventRow(id)).ok());
  ASSERT_TRUE((*writer)->Flush().ok());

  std::vector<int32_t> ids;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (ids.size() < 50 && std::chrono::steady_clock::now() < deadline) {
    auto records = (*scanner)->Poll(1s);
    ASSERT_TRUE(records.ok()) << records.status().ToString();
    for (const auto& r : *records) ids.push_back(r.row[0].as<int32_t>());
  }
  ASSERT_EQ(ids.size(), 50u);
  EXPECT_EQ(ids.front(), 100);
  EXPECT_EQ(ids.back(), 149);

  auto by_time = (*table)->NewScan().ProjectByIndex({0}).CreateLogScanner();
  ASSERT_TRUE(by_time.ok());
  ASSERT_TRUE((*by_time)->Subscribe(BucketId(0), OffsetSpec::Timestamp(before_second_write)).ok());
  EXPECT_EQ((*by_time)->Positions()[BucketId(0)].value(), 100);
  EXPECT_EQ((*by_time)->Subscribe(BucketId(7), 0).code(), ErrorCode::kUnknownTableOrBucket);
}

// When the cluster disappears, unacknowledged rows fail after the delivery timeout instead of
// being retried forever, and a scan reports the lost cluster.
TEST_F(ClusterTest, WriterGivesUpAfterDeliveryTimeoutWhenTheServerIsGone) {
  if (server_ == nullptr) GTEST_SKIP() << "needs a server this test can stop";
  TablePath path = CreateTable("gone", EventSchema(), 2);
  ClientConfig config;
  config.bootstrap_servers = bootstrap_;
  config.writer_delivery_timeout = 2s;
  config.request_timeout = 1s;
  auto conn = Connection::Create(config);
  ASSERT_TRUE(conn.ok());
  auto table = (*conn)->GetTable(path);
  ASSERT_TRUE(table.ok());
  auto writer = (*table)->NewAppend().CreateWriter();
  ASSERT_TRUE(writer.ok());
  for (int32_t id = 0; id < 100; ++id) ASSERT_TRUE((*writer)->Append(EventRow(id)).ok());
  ASSERT_TRUE((*writer)->Flush().ok());

  server_.reset();  // SIGKILL
  auto start = std::chrono::steady_clock::now();
  WriteResult result;
  for (int32_t id = 100; id < 200; ++id) {
    ASSERT_TRUE((*writer)->Append(EventRow(id), &result).ok());
  }
  Status flushed = (*writer)->Flush();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(flushed.ok());
  EXPECT_TRUE(flushed.code() == ErrorCode::kRequestTimeOut || flushed.code() == ErrorCode::kNetwork)
      << flushed.ToString();
  EXPECT_FALSE(result.Wait().ok());
  EXPECT_LT(took, 20s);
  AppendWriterStats stats = (*writer)->stats();
  EXPECT_EQ(stats.records_acked, 100);
  EXPECT_EQ(stats.records_failed, 100);
  connection_.reset();  // its cluster is gone too
}

// The CLI end to end: DDL, produce (JSON lines and CSV), scan (JSON lines, projection, limit),
// offsets, describe.
TEST_F(ClusterTest, CliEndToEnd) {
  const std::string table = database_ + ".events";
  EXPECT_EQ(Cli({"db", "create", database_}).exit_code, 0);
  auto created = Cli({"table", "create", table, "--schema",
                      "id INT NOT NULL, name STRING, price DECIMAL(10, 2), ts TIMESTAMP(3), "
                      "tags ARRAY<STRING>",
                      "--bucket-key", "id", "--buckets", "3"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(created.out, "Created table " + table + "\n");

  constexpr int kRows = 100000;
  std::string input = (dir_ / "rows.jsonl").string();
  {
    std::ofstream out(input);
    for (int i = 0; i < kRows; ++i) {
      out << json{{"id", i}, {"name", "n" + std::to_string(i)}, {"price", std::to_string(i) + ".25"},
                  {"ts", 1714564800000 + i}, {"tags", {"t" + std::to_string(i % 3)}}}
                 .dump()
          << '\n';
    }
  }
  auto produced = Cli({"--format", "json", "produce", table, "--input", input});
  ASSERT_EQ(produced.exit_code, 0) << produced.err;
  json summary = json::parse(produced.out);
  EXPECT_EQ(summary["rows"], kRows);
  EXPECT_EQ(summary["complete"], true);

  auto offsets = Cli({"--format", "json", "offsets", table});
  ASSERT_EQ(offsets.exit_code, 0) << offsets.err;
  int64_t total = 0;
  json offsets_doc = json::parse(offsets.out);
  for (const auto& b : offsets_doc["buckets"]) total += b["records"].get<int64_t>();
  EXPECT_EQ(total, kRows) << offsets.out;

  auto scanned = Cli({"--format", "json", "scan", table});
  ASSERT_EQ(scanned.exit_code, 0) << scanned.err;
  std::istringstream lines(scanned.out);
  std::string line;
  std::vector<bool> seen(kRows, false);
  int count = 0;
  while (std::getline(lines, line)) {
    json record = json::parse(line);
    int id = record["row"]["id"];
    ASSERT_FALSE(seen[static_cast<size_t>(id)]);
    seen[static_cast<size_t>(id)] = true;
    EXPECT_EQ(record["change_type"], "+A");
    EXPECT_EQ(record["row"]["name"], "n" + std::to_string(id));
    EXPECT_EQ(record["row"]["price"], std::to_string(id) + ".25");
    EXPECT_EQ(record["row"]["tags"], json::array({"t" + std::to_string(id % 3)}));
    ++count;
  }
  EXPECT_EQ(count, kRows);

  auto projected = Cli({"--format", "json", "scan", table, "--columns", "price,id", "--limit", "5"});
  ASSERT_EQ(projected.exit_code, 0) << projected.err;
  std::istringstream plines(projected.out);
  int pcount = 0;
  while (std::getline(plines, line)) {
    nlohmann::ordered_json row = nlohmann::ordered_json::parse(line)["row"];
    EXPECT_EQ(row.size(), 2u);
    EXPECT_EQ(row.begin().key(), "price");
    ++pcount;
  }
  EXPECT_EQ(pcount, 5);

  std::string csv = (dir_ / "rows.csv").string();
  {
    std::ofstream out(csv);
    out << "id,name,price\n" << kRows << ",\"with, comma\",1.5\n" << kRows + 1 << ",,2\n";
  }
  auto csv_produced = Cli({"produce", table, "--input", csv, "--input-format", "csv"});
  ASSERT_EQ(csv_produced.exit_code, 0) << csv_produced.err;
  EXPECT_NE(csv_produced.out.find("Produced 2 rows"), std::string::npos) << csv_produced.out;

  auto human = Cli({"scan", table, "--columns", "id,name", "--from", "earliest", "--limit", "3"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_EQ(human.out.rfind("bucket | offset | op | id", 0), 0u) << human.out;
  EXPECT_NE(human.out.find("(3 rows)"), std::string::npos);

  auto described = Cli({"--format", "json", "table", "describe", table});
  ASSERT_EQ(described.exit_code, 0) << described.err;
  json doc = json::parse(described.out);
  EXPECT_EQ(doc["buckets"], 3);
  EXPECT_EQ(doc["columns"][2]["type"], "DECIMAL(10, 2)");
  ASSERT_EQ(doc["bucket_locations"].size(), 3u) << described.out;
  for (size_t i = 0; i < 3; ++i) {
    const json& location = doc["bucket_locations"][i];
    EXPECT_EQ(location["bucket"], static_cast<int>(i));
    ASSERT_FALSE(location["leader"].is_null()) << described.out;
    ASSERT_EQ(location["replicas"].size(), 1u) << described.out;
    EXPECT_EQ(location["replicas"][0], location["leader"]);
    // A Strom server reports the ISR (here: the one replica); Fluss 0.9 has none to report.
    if (server_ != nullptr) {
      EXPECT_EQ(location["isr"], location["replicas"]) << described.out;
    }
  }
  auto described_human = Cli({"table", "describe", table});
  ASSERT_EQ(described_human.exit_code, 0) << described_human.err;
  EXPECT_NE(described_human.out.find("bucket | leader | epoch | replicas | isr"), std::string::npos)
      << described_human.out;

  auto perf = Cli({"--format", "json", "perf", "append", "--rows", "20000", "--payload", "100",
                   "--buckets", "2", "--threads", "2", "--scan"});
  ASSERT_EQ(perf.exit_code, 0) << perf.err;
  json perf_doc = json::parse(perf.out);
  EXPECT_EQ(perf_doc["rows"], 20000);
  EXPECT_EQ(perf_doc["scan_rows"], 20000);
  EXPECT_GT(perf_doc["mb_per_s"].get<double>(), 0);

  auto listed = Cli({"--format", "json", "table", "list", database_});
  EXPECT_EQ(json::parse(listed.out), json::array({"events"}));
  auto cluster = Cli({"--format", "json", "cluster"});
  ASSERT_EQ(cluster.exit_code, 0) << cluster.err;
  json servers = json::parse(cluster.out)["servers"];
  EXPECT_EQ(servers[0]["role"], "coordinator");
  for (const json& server : servers) {
    EXPECT_TRUE(server["alive"].get<bool>()) << cluster.out;
    EXPECT_GE(server["rtt_us"].get<int64_t>(), 0) << cluster.out;
  }
  auto cluster_human = Cli({"cluster"});
  ASSERT_EQ(cluster_human.exit_code, 0) << cluster_human.err;
  EXPECT_NE(cluster_human.out.find("up ("), std::string::npos) << cluster_human.out;
}

// Failures map to the documented exit codes with the Fluss error name on stderr.
TEST_F(ClusterTest, CliErrorExitCodes) {
  const std::string table = database_ + ".t";
  ASSERT_EQ(Cli({"db", "create", database_}).exit_code, 0);
  auto exists = Cli({"db", "create", database_});
  EXPECT_EQ(exists.exit_code, 4);
  EXPECT_NE(exists.err.find("DATABASE_ALREADY_EXIST (6)"), std::string::npos) << exists.err;

  auto missing = Cli({"scan", database_ + ".nope"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("TABLE_NOT_EXIST (7)"), std::string::npos) << missing.err;

  auto bad_schema = Cli({"table", "create", table, "--schema", "id VARCHAR(3)"});
  EXPECT_EQ(bad_schema.exit_code, 2);
  EXPECT_NE(bad_schema.err.find("use STRING"), std::string::npos) << bad_schema.err;

  ASSERT_EQ(Cli({"table", "create", table, "--schema", "id INT NOT NULL, v DOUBLE"}).exit_code, 0);
  std::string input = (dir_ / "bad.jsonl").string();
  {
    std::ofstream out(input);
    out << R"({"id": 1, "v": 0.5})" << "\n" << R"({"id": 2, "v": "high"})" << "\n";
  }
  auto bad_row = Cli({"produce", table, "--input", input});
  EXPECT_EQ(bad_row.exit_code, 5);
  EXPECT_NE(bad_row.err.find("line 2: column 'v' (DOUBLE)"), std::string::npos) << bad_row.err;
  EXPECT_NE(bad_row.out.find("Produced 1 rows"), std::string::npos) << bad_row.out;

  auto not_empty = Cli({"db", "drop", database_});
  EXPECT_EQ(not_empty.exit_code, 1);
  EXPECT_NE(not_empty.err.find("DATABASE_NOT_EMPTY"), std::string::npos);

  auto usage = Cli({"scan"});
  EXPECT_EQ(usage.exit_code, 2);

  // A port nothing listens on: bind one, note it, close it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  std::string saved = bootstrap_;
  bootstrap_ = "127.0.0.1:" + std::to_string(port);
  auto unreachable = Cli({"db", "list"});
  bootstrap_ = saved;
  EXPECT_EQ(unreachable.exit_code, 6);
  EXPECT_NE(unreachable.err.find("NETWORK_EXCEPTION (1)"), std::string::npos) << unreachable.err;

  EXPECT_EQ(Cli({"db", "drop", database_, "--cascade"}).exit_code, 0);
}

// ---- primary-key tables ----

// orders (shop INT, id BIGINT, item STRING, qty INT), primary key (shop, id), bucketed by
// shop: point lookups by (shop, id), prefix lookups by shop.
Schema OrderSchema() {
  return *Schema::Builder()
              .AddColumn("shop", DataType::Int().NotNull())
              .AddColumn("id", DataType::BigInt().NotNull())
              .AddColumn("item", DataType::String())
              .AddColumn("qty", DataType::Int())
              .PrimaryKey({"shop", "id"})
              .Build();
}

GenericRow OrderRow(int32_t shop, int64_t id, const std::string& item, std::optional<int32_t> qty) {
  return {Datum(shop), Datum(id), Datum(item), qty ? Datum(*qty) : Datum()};
}

/// Every change of the table's changelog, read up to the high watermarks as of the call.
std::vector<ScanRecord> ReadChangelog(Connection& conn, Table& table) {
  auto latest = conn.GetAdmin()->ListOffsets(table.path(), {}, OffsetSpec::Latest());
  EXPECT_TRUE(latest.ok()) << latest.status().ToString();
  auto scanner = table.NewScan().CreateLogScanner();
  EXPECT_TRUE(scanner.ok());
  EXPECT_TRUE((*scanner)->SubscribeAll(OffsetSpec::Earliest()).ok());
  std::vector<ScanRecord> out;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  auto done = [&] {
    auto positions = (*scanner)->Positions();
    for (const auto& [bucket, offset] : *latest) {
      if (positions[bucket] < offset) return false;
    }
    return true;
  };
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    auto records = (*scanner)->Poll(1s);
    EXPECT_TRUE(records.ok()) << records.status().ToString();
    if (!records.ok()) break;
    for (const ScanRecord& r : *records) out.push_back(r);
  }
  EXPECT_TRUE(done());
  return out;
}

/// The whole current state through the snapshot scanner, keyed by (shop, id).
std::map<std::pair<int32_t, int64_t>, GenericRow> SnapshotState(Table& table) {
  std::map<std::pair<int32_t, int64_t>, GenericRow> state;
  auto scanner = table.NewScan().CreateSnapshotScanner();
  EXPECT_TRUE(scanner.ok()) << scanner.status().ToString();
  if (!scanner.ok()) return state;
  for (;;) {
    auto batch = (*scanner)->Next();
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    if (!batch.ok() || !*batch) break;
    for (GenericRow& row : (*batch)->rows) {
      auto key = std::make_pair(row[0].as<int32_t>(), row[1].as<int64_t>());
      EXPECT_TRUE(state.emplace(key, std::move(row)).second) << "key read twice";
    }
  }
  return state;
}

// Upserts, a partial update, deletes, point and prefix lookups, the changelog and the
// snapshot scan, all checked against an in-memory model.
TEST_F(ClusterTest, PrimaryKeyTableThroughTheClient) {
  TablePath path = CreateTable("orders", OrderSchema(), 3, {"shop"});
  auto table = Conn().GetTable(path);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ASSERT_TRUE((*table)->HasPrimaryKey());

  std::map<std::pair<int32_t, int64_t>, GenericRow> model;
  constexpr int32_t kShops = 10;
  constexpr int64_t kPerShop = 200;
  {
    auto writer = (*table)->NewUpsert().CreateWriter();
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    for (int32_t shop = 0; shop < kShops; ++shop) {
      for (int64_t id = 0; id < kPerShop; ++id) {
        GenericRow row = OrderRow(shop, id, "item-" + std::to_string(id), static_cast<int32_t>(id % 7));
        ASSERT_TRUE((*writer)->Upsert(row).ok());
        model[{shop, id}] = row;
      }
    }
    // Upserting a key again replaces its row.
    GenericRow again = OrderRow(0, 0, "replaced", 99);
    WriteResult result;
    ASSERT_TRUE((*writer)->Upsert(again, &result).ok());
    model[{0, 0}] = again;
    ASSERT_TRUE((*writer)->Flush().ok());
    EXPECT_TRUE(result.Wait().ok());
    UpsertWriterStats stats = (*writer)->stats();
    EXPECT_EQ(stats.records_acked, kShops * kPerShop + 1);
    EXPECT_EQ(stats.records_failed, 0);
    ASSERT_TRUE((*writer)->Close().ok());
  }
  {
    // Partial update of qty: item stays as it was.
    auto writer = (*table)->NewUpsert().PartialUpdate(std::vector<std::string>{"shop", "id", "qty"})
                      .CreateWriter();
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    for (int64_t id = 0; id < kPerShop; id += 10) {
      GenericRow row = OrderRow(1, id, "ignored", 1000);
      row[2] = Datum();  // not a target column
      ASSERT_TRUE((*writer)->Upsert(row).ok());
      model[{1, id}][3] = Datum(int32_t{1000});
    }
    ASSERT_TRUE((*writer)->Close().ok());
  }
  {
    // Deletes need only the key.
    auto writer = (*table)->NewUpsert().CreateWriter();
    ASSERT_TRUE(writer.ok());
    for (int64_t id = 0; id < kPerShop; id += 3) {
      GenericRow key = (*table)->NewRow();
      key[0] = Datum(int32_t{2});
      key[1] = Datum(id);
      ASSERT_TRUE((*writer)->Delete(key).ok());
      model.erase({2, id});
    }
    ASSERT_TRUE((*writer)->Close().ok());
  }

  auto lookuper = (*table)->NewLookup().CreateLookuper();
  ASSERT_TRUE(lookuper.ok()) << lookuper.status().ToString();
  EXPECT_EQ((*lookuper)->key_columns(), (std::vector<std::string>{"shop", "id"}));
  // Every key, many at once (batched), plus absent keys.
  std::vector<std::pair<std::pair<int32_t, int64_t>, LookupFuture>> futures;
  for (int32_t shop = 0; shop < kShops + 1; ++shop) {
    for (int64_t id = 0; id < kPerShop; ++id) {
      futures.emplace_back(std::make_pair(shop, id),
                           (*lookuper)->LookupAsync(GenericRow{Datum(shop), Datum(id)}));
    }
  }
  for (auto& [key, future] : futures) {
    auto result = future.Wait();
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    auto expected = model.find(key);
    if (expected == model.end()) {
      EXPECT_FALSE(result->row().has_value()) << key.first << "/" << key.second;
    } else {
      ASSERT_TRUE(result->row().has_value()) << key.first << "/" << key.second;
      EXPECT_EQ(*result->row(), expected->second);
    }
  }
  auto one = (*lookuper)->Lookup(GenericRow{Datum(int32_t{0}), Datum(int64_t{0})});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one->row(), OrderRow(0, 0, "replaced", 99));

  // Prefix lookup by the bucket key.
  auto prefix = (*table)->NewLookup().LookupBy({"shop"}).CreateLookuper();
  ASSERT_TRUE(prefix.ok()) << prefix.status().ToString();
  EXPECT_TRUE((*prefix)->is_prefix_lookup());
  for (int32_t shop : {1, 2, 5, 42}) {
    auto rows = (*prefix)->Lookup(GenericRow{Datum(shop)});
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    std::vector<GenericRow> expected;
    for (const auto& [key, row] : model) {
      if (key.first == shop) expected.push_back(row);
    }
    std::vector<GenericRow> got = rows->rows();
    auto by_id = [](const GenericRow& a, const GenericRow& b) {
      return a[1].as<int64_t>() < b[1].as<int64_t>();
    };
    std::sort(got.begin(), got.end(), by_id);
    EXPECT_EQ(got, expected) << "shop " << shop;
  }

  // The changelog: +I for every first write, -U/+U for replacements, -D for deletes.
  std::map<ChangeType, int64_t> changes;
  for (const ScanRecord& record : ReadChangelog(Conn(), **table)) ++changes[record.change_type];
  const int64_t partial = kPerShop / 10;
  const int64_t deleted = (kPerShop + 2) / 3;
  EXPECT_EQ(changes[ChangeType::kInsert], kShops * kPerShop);
  EXPECT_EQ(changes[ChangeType::kUpdateBefore], 1 + partial);
  EXPECT_EQ(changes[ChangeType::kUpdateAfter], 1 + partial);
  EXPECT_EQ(changes[ChangeType::kDelete], deleted);

  // The snapshot scan sees exactly the model.
  EXPECT_EQ(SnapshotState(**table), model);
  auto projected = (*table)->NewScan().ProjectByName({"qty", "shop"}).CreateSnapshotScanner({BucketId(0)});
  ASSERT_TRUE(projected.ok()) << projected.status().ToString();
  EXPECT_EQ((*projected)->column_names(), (std::vector<std::string>{"qty", "shop"}));
  int64_t bucket0_rows = 0;
  for (;;) {
    auto batch = (*projected)->Next();
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    if (!*batch) break;
    EXPECT_EQ((*batch)->bucket, BucketId(0));
    for (const GenericRow& row : (*batch)->rows) {
      ASSERT_EQ(row.size(), 2u);
      ++bucket0_rows;
    }
  }
  EXPECT_GT(bucket0_rows, 0);
  EXPECT_EQ((*projected)->log_offsets().count(BucketId(0)), 1u);
}

// What the client refuses before anything is sent, and what it reports afterwards.
TEST_F(ClusterTest, PrimaryKeyTableBadInput) {
  TablePath path = CreateTable("orders", OrderSchema(), 2, {"shop"});
  TablePath log_path = CreateTable("events", EventSchema(), 1, {"id"});
  auto table = Conn().GetTable(path);
  auto log_table = Conn().GetTable(log_path);
  ASSERT_TRUE(table.ok() && log_table.ok());

  EXPECT_EQ((*table)->NewAppend().CreateWriter().status().code(), ErrorCode::kInvalidTable);
  EXPECT_EQ((*log_table)->NewUpsert().CreateWriter().status().code(),
            ErrorCode::kNonPrimaryKeyTable);
  EXPECT_EQ((*log_table)->NewLookup().CreateLookuper().status().code(),
            ErrorCode::kNonPrimaryKeyTable);
  EXPECT_EQ((*log_table)->NewScan().CreateSnapshotScanner().status().code(),
            ErrorCode::kNonPrimaryKeyTable);
  EXPECT_EQ((*table)->NewUpsert().PartialUpdate(std::vector<std::string>{"shop", "nope"})
                .CreateWriter().status().code(),
            ErrorCode::kInvalidTargetColumn);
  EXPECT_EQ((*table)->NewUpsert().PartialUpdate(std::vector<std::string>{"shop", "qty"})
                .CreateWriter().status().code(),
            ErrorCode::kInvalidTargetColumn);
  EXPECT_EQ((*table)->NewLookup().LookupBy({"id"}).CreateLookuper().status().code(),
            ErrorCode::kInvalidTable);

  auto writer = (*table)->NewUpsert().CreateWriter();
  ASSERT_TRUE(writer.ok());
  GenericRow null_key = OrderRow(1, 1, "a", 1);
  null_key[1] = Datum();
  EXPECT_EQ((*writer)->Upsert(null_key).code(), ErrorCode::kCorruptRecord);
  GenericRow wrong_type = OrderRow(1, 1, "a", 1);
  wrong_type[3] = Datum("three");
  EXPECT_EQ((*writer)->Upsert(wrong_type).code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ((*writer)->Upsert(GenericRow{Datum(int32_t{1})}).code(), ErrorCode::kCorruptRecord);
  ASSERT_TRUE((*writer)->Upsert(OrderRow(1, 1, "kept", 1)).ok());
  ASSERT_TRUE((*writer)->Close().ok());

  auto lookuper = (*table)->NewLookup().CreateLookuper();
  ASSERT_TRUE(lookuper.ok());
  EXPECT_EQ((*lookuper)->Lookup(GenericRow{Datum(int32_t{1})}).status().code(),
            ErrorCode::kCorruptRecord);
  EXPECT_EQ((*lookuper)->Lookup(GenericRow{Datum("1"), Datum(int64_t{1})}).status().code(),
            ErrorCode::kCorruptRecord);
  EXPECT_EQ((*lookuper)->Lookup(GenericRow{Datum(int32_t{1}), Datum()}).status().code(),
            ErrorCode::kCorruptRecord);
  // The refused rows were never written; the good one was.
  auto kept = (*lookuper)->Lookup(GenericRow{Datum(int32_t{1}), Datum(int64_t{1})});
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(*kept->row(), OrderRow(1, 1, "kept", 1));
  EXPECT_EQ(SnapshotState(**table).size(), 1u);
}

// The CLI on a primary-key table: create, upsert (JSON and CSV), partial update, lookup,
// prefix lookup, delete, the changelog scan and the snapshot scan, and bad input.
TEST_F(ClusterTest, CliPrimaryKeyTable) {
  const std::string table = database_ + ".orders";
  ASSERT_EQ(Cli({"db", "create", database_}).exit_code, 0);
  auto created = Cli({"table", "create", table, "--schema",
                      "shop INT NOT NULL, id BIGINT NOT NULL, item STRING, qty INT",
                      "--primary-key", "shop,id", "--bucket-key", "shop", "--buckets", "2"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto described = Cli({"--format", "json", "table", "describe", table});
  ASSERT_EQ(described.exit_code, 0) << described.err;
  json description = json::parse(described.out);
  EXPECT_EQ(description["primary_key"], json::array({"shop", "id"})) << described.out;

  std::string rows_file = (dir_ / "orders.jsonl").string();
  {
    std::ofstream out(rows_file);
    for (int id = 1; id <= 5; ++id) {
      out << json{{"shop", id % 2}, {"id", id}, {"item", "item-" + std::to_string(id)}, {"qty", id}}
                 .dump()
          << "\n";
    }
  }
  auto upserted = Cli({"--format", "json", "upsert", table, "--input", rows_file});
  ASSERT_EQ(upserted.exit_code, 0) << upserted.err;
  EXPECT_EQ(json::parse(upserted.out)["rows"], 5);

  auto found = Cli({"--format", "json", "lookup", table, "--key", R"({"shop": 1, "id": 3})"});
  ASSERT_EQ(found.exit_code, 0) << found.err;
  EXPECT_EQ(json::parse(found.out),
            (json{{"shop", 1}, {"id", 3}, {"item", "item-3"}, {"qty", 3}}));
  auto human = Cli({"lookup", table, "--key", R"({"shop": 1, "id": 3})"});
  ASSERT_EQ(human.exit_code, 0);
  EXPECT_NE(human.out.find("item-3"), std::string::npos) << human.out;
  auto absent = Cli({"lookup", table, "--key", R"({"shop": 1, "id": 4})"});
  EXPECT_EQ(absent.exit_code, 0) << absent.err;
  EXPECT_EQ(absent.out, "");

  // Partial update of qty from CSV; item is kept.
  std::string csv_file = (dir_ / "qty.csv").string();
  {
    std::ofstream out(csv_file);
    out << "shop,id,qty\n1,3,300\n0,2,200\n";
  }
  auto partial = Cli({"upsert", table, "--input", csv_file, "--input-format", "csv",
                      "--columns", "shop,id,qty"});
  ASSERT_EQ(partial.exit_code, 0) << partial.err;
  EXPECT_NE(partial.out.find("Upserted 2 rows"), std::string::npos) << partial.out;
  found = Cli({"--format", "json", "lookup", table, "--key", R"({"shop": 1, "id": 3})"});
  EXPECT_EQ(json::parse(found.out),
            (json{{"shop", 1}, {"id", 3}, {"item", "item-3"}, {"qty", 300}}));

  auto prefix = Cli({"--format", "json", "lookup", table, "--prefix", R"({"shop": 1})"});
  ASSERT_EQ(prefix.exit_code, 0) << prefix.err;
  std::set<int64_t> ids;
  std::istringstream prefix_lines(prefix.out);
  for (std::string line; std::getline(prefix_lines, line);) {
    ids.insert(json::parse(line)["id"].get<int64_t>());
  }
  EXPECT_EQ(ids, (std::set<int64_t>{1, 3, 5}));

  auto deleted = Cli({"delete", table, "--key", R"({"shop": 0, "id": 4})"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  absent = Cli({"lookup", table, "--key", R"({"shop": 0, "id": 4})"});
  EXPECT_EQ(absent.exit_code, 0);
  EXPECT_EQ(absent.out, "");

  // The changelog with change types and offsets.
  auto changelog = Cli({"--format", "json", "scan", table});
  ASSERT_EQ(changelog.exit_code, 0) << changelog.err;
  std::map<std::string, int> types;
  std::istringstream changelog_lines(changelog.out);
  for (std::string line; std::getline(changelog_lines, line);) {
    json record = json::parse(line);
    EXPECT_TRUE(record.contains("offset"));
    ++types[record["change_type"].get<std::string>()];
  }
  EXPECT_EQ(types, (std::map<std::string, int>{{"+I", 5}, {"-U", 2}, {"+U", 2}, {"-D", 1}}));
  auto changelog_human = Cli({"scan", table});
  ASSERT_EQ(changelog_human.exit_code, 0);
  EXPECT_NE(changelog_human.out.find("-U"), std::string::npos) << changelog_human.out;

  // The current state.
  auto snapshot = Cli({"--format", "json", "scan", table, "--snapshot"});
  ASSERT_EQ(snapshot.exit_code, 0) << snapshot.err;
  std::map<int64_t, json> state;
  std::istringstream snapshot_lines(snapshot.out);
  for (std::string line; std::getline(snapshot_lines, line);) {
    json record = json::parse(line);
    state[record["row"]["id"].get<int64_t>()] = record["row"];
  }
  ASSERT_EQ(state.size(), 4u) << snapshot.out;
  EXPECT_EQ(state[2]["qty"], 200);
  EXPECT_EQ(state[3]["item"], "item-3");
  auto snapshot_human = Cli({"scan", table, "--snapshot", "--columns", "id,qty"});
  ASSERT_EQ(snapshot_human.exit_code, 0) << snapshot_human.err;
  EXPECT_NE(snapshot_human.out.find("(4 rows)"), std::string::npos) << snapshot_human.out;

  // Bad input: clear errors and non-zero exit codes.
  auto wrong_type = Cli({"lookup", table, "--key", R"({"shop": "one", "id": 3})"});
  EXPECT_EQ(wrong_type.exit_code, 5);
  EXPECT_NE(wrong_type.err.find("shop"), std::string::npos) << wrong_type.err;
  auto missing = Cli({"lookup", table, "--key", R"({"shop": 1})"});
  EXPECT_EQ(missing.exit_code, 5);
  EXPECT_NE(missing.err.find("lacks column 'id'"), std::string::npos) << missing.err;
  auto unknown = Cli({"delete", table, "--key", R"({"shop": 1, "id": 3, "nope": 1})"});
  EXPECT_EQ(unknown.exit_code, 5);
  EXPECT_NE(unknown.err.find("'nope'"), std::string::npos) << unknown.err;
  auto not_json = Cli({"lookup", table, "--key", "shop=1"});
  EXPECT_EQ(not_json.exit_code, 5);
  auto both = Cli({"lookup", table, "--key", R"({"shop": 1, "id": 3})", "--prefix", R"({"shop": 1})"});
  EXPECT_EQ(both.exit_code, 2);
  auto bad_columns = Cli({"upsert", table, "--input", csv_file, "--input-format", "csv",
                          "--columns", "shop,nope"});
  EXPECT_EQ(bad_columns.exit_code, 2);
  EXPECT_NE(bad_columns.err.find("INVALID_TARGET_COLUMN"), std::string::npos) << bad_columns.err;
  std::string bad_rows = (dir_ / "bad.jsonl").string();
  {
    std::ofstream out(bad_rows);
    out << R"({"shop": 1, "id": 9, "qty": 1})" << "\n" << R"({"shop": 1, "qty": 2})" << "\n";
  }
  auto bad_upsert = Cli({"upsert", table, "--input", bad_rows});
  EXPECT_EQ(bad_upsert.exit_code, 5);
  EXPECT_NE(bad_upsert.err.find("line 2"), std::string::npos) << bad_upsert.err;
  std::string outside = (dir_ / "outside.jsonl").string();
  {
    std::ofstream out(outside);
    out << R"({"shop": 1, "id": 3, "item": "x", "qty": 1})" << "\n";
  }
  auto outside_columns = Cli({"upsert", table, "--input", outside, "--columns", "shop,id,qty"});
  EXPECT_EQ(outside_columns.exit_code, 2);
  EXPECT_NE(outside_columns.err.find("not among --columns"), std::string::npos)
      << outside_columns.err;

  // Commands of primary-key tables refuse log tables, and the other way round.
  const std::string log_table = database_ + ".events";
  ASSERT_EQ(Cli({"table", "create", log_table, "--schema", "id INT"}).exit_code, 0);
  auto log_lookup = Cli({"lookup", log_table, "--key", R"({"id": 1})"});
  EXPECT_EQ(log_lookup.exit_code, 2);
  EXPECT_NE(log_lookup.err.find("NON_PRIMARY_KEY_TABLE"), std::string::npos) << log_lookup.err;
  auto produce_pk = Cli({"produce", table, "--input", rows_file});
  EXPECT_EQ(produce_pk.exit_code, 2);

  // An upsert stopped by a bad line wrote the lines before it, and nothing else.
  found = Cli({"--format", "json", "lookup", table, "--key", R"({"shop": 1, "id": 9})"});
  EXPECT_EQ(found.exit_code, 0) << found.err;
  EXPECT_EQ(json::parse(found.out), (json{{"shop", 1}, {"id", 9}, {"item", nullptr}, {"qty", 1}}));
  snapshot = Cli({"--format", "json", "scan", table, "--snapshot"});
  EXPECT_EQ(std::count(snapshot.out.begin(), snapshot.out.end(), '\n'), 5) << snapshot.out;
}

// `strom perf` with several writers or threads, each group on a Connection of its own: the
// counts add up exactly over the writers, and the lookup run checks every row it reads.
TEST_F(ClusterTest, CliPerfParallel) {
  auto append = Cli({"--format", "json", "perf", "append", "--rows", "30000", "--payload", "50",
                     "--buckets", "3", "--writers", "3", "--connections", "2", "--scan"});
  ASSERT_EQ(append.exit_code, 0) << append.err;
  json a = json::parse(append.out);
  EXPECT_EQ(a["rows"], 30000);
  EXPECT_EQ(a["scan_rows"], 30000);
  EXPECT_EQ(a["writers"], 3);
  EXPECT_EQ(a["connections"], 2);
  ASSERT_EQ(a["writer_rows"].size(), 3u) << append.out;
  int64_t written = 0;
  for (const json& n : a["writer_rows"]) written += n.get<int64_t>();
  EXPECT_EQ(written, 30000);
  EXPECT_GT(a["mb_per_s"].get<double>(), 0);

  // One connection per writer by default; a human summary names both counts.
  auto human = Cli({"perf", "append", "--rows", "5000", "--writers", "2"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("2 writer(s) on 2 connection(s)"), std::string::npos) << human.out;

  // Paced appends keep one writer; nonsense counts are usage errors.
  EXPECT_EQ(Cli({"perf", "append", "--rate", "100", "--duration", "1", "--writers", "2"})
                .exit_code, 2);
  EXPECT_EQ(Cli({"perf", "append", "--rows", "10", "--writers", "0"}).exit_code, 2);
  EXPECT_EQ(Cli({"perf", "upsert", "--keys", "10", "--connections", "0"}).exit_code, 2);

  auto upsert = Cli({"--format", "json", "perf", "upsert", "--keys", "3000", "--buckets", "2",
                     "--threads", "3", "--connections", "3"});
  ASSERT_EQ(upsert.exit_code, 0) << upsert.err;
  json u = json::parse(upsert.out);
  EXPECT_EQ(u["rows"], 3000);
  EXPECT_EQ(u["threads"], 3);
  EXPECT_EQ(u["connections"], 3);

  auto lookup = Cli({"--format", "json", "perf", "lookup", "--keys", "2000", "--lookups", "3000",
                     "--buckets", "2", "--threads", "4", "--connections", "2"});
  ASSERT_EQ(lookup.exit_code, 0) << lookup.err;
  json l = json::parse(lookup.out);
  EXPECT_EQ(l["lookups"], 3000);
  EXPECT_EQ(l["found"], 3000);
  EXPECT_EQ(l["mismatched"], 0);
  EXPECT_EQ(l["connections"], 2);

  // No more connections than threads.
  auto clamped = Cli({"--format", "json", "perf", "upsert", "--keys", "100", "--threads", "1",
                      "--connections", "4"});
  ASSERT_EQ(clamped.exit_code, 0) << clamped.err;
  EXPECT_EQ(json::parse(clamped.out)["connections"], 1);
}

}  // namespace
}  // namespace strom
