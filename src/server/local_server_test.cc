#include "server/local_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>

#include "proto/messages.h"
#include "record/arrow/arrow_projection.h"
#include "rpc/connection.h"
#include "server/server_test_util.h"
#include "testutil/run_task.h"

namespace strom::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using proto::ApiKey;
using testing::ArrowBatch;
using testing::DecodeIds;
using testing::IndexedBatch;
using testing::LogTableJson;
using testing::Path;
using testutil::RunTask;

constexpr auto kTimeout = 10s;

class LocalServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("strom-server-test-{}-{}", ::getpid(), n_++);
    fs::remove_all(dir_);
    StartServer();
  }
  void TearDown() override {
    StopServer();
    fs::remove_all(dir_);
  }

  void StartServer() {
    LocalServerOptions options;
    options.data_dir = dir_.string();
    options.port = 0;
    server_ = std::make_unique<LocalServer>(io_, std::move(options));
    Status s = RunTask(io_, server_->Start());
    ASSERT_TRUE(s.ok()) << s.ToString();
    auto conn = RunTask(io_, rpc::Connection::Connect(io_.get_executor(), "127.0.0.1",
                                                      server_->port(), rpc::ConnectionOptions()));
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = *conn;
  }

  void StopServer() {
    if (conn_) RunTask(io_, conn_->CloseAndWait());
    conn_.reset();
    if (server_) RunTask(io_, server_->Stop());
    server_.reset();
  }

  template <ApiKey kKey>
  Result<typename rpc::ApiTraits<kKey>::Response> Call(
      typename rpc::ApiTraits<kKey>::Request request) {
    return RunTask(io_, conn_->Call<kKey>(std::move(request), kTimeout));
  }

  Status CreateDatabase(const std::string& name, bool ignore = false) {
    proto::CreateDatabaseRequest req;
    req.set_database_name(name);
    req.set_ignore_if_exists(ignore);
    return Call<ApiKey::kCreateDatabase>(req).status();
  }

  Status CreateTable(const std::string& db, const std::string& table, const std::string& json,
                     bool ignore = false) {
    proto::CreateTableRequest req;
    *req.mutable_table_path() = Path(db, table);
    req.set_table_json(json);
    req.set_ignore_if_exists(ignore);
    return Call<ApiKey::kCreateTable>(req).status();
  }

  int64_t TableId(const std::string& db, const std::string& table) {
    proto::GetTableInfoRequest req;
    *req.mutable_table_path() = Path(db, table);
    auto resp = Call<ApiKey::kGetTableInfo>(req);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? resp->table_id() : -1;
  }

  Result<proto::ProduceLogResponse> Produce(int64_t table_id, int32_t bucket, ByteBuffer records,
                                            int32_t acks = -1) {
    proto::ProduceLogRequest req;
    req.set_acks(acks);
    req.set_table_id(table_id);
    req.set_timeout_ms(30000);
    auto* b = req.add_buckets_req();
    b->set_bucket_id(bucket);
    b->set_records(std::move(records));
    return Call<ApiKey::kProduceLog>(req);
  }

  proto::FetchLogRequest FetchRequest(int64_t table_id, int32_t bucket, int64_t offset) {
    proto::FetchLogRequest req;
    req.set_follower_server_id(-1);
    req.set_max_bytes(16 << 20);
    auto* t = req.add_tables_req();
    t->set_table_id(table_id);
    t->set_projection_pushdown_enabled(false);
    auto* b = t->add_buckets_req();
    b->set_bucket_id(bucket);
    b->set_fetch_offset(offset);
    b->set_max_fetch_bytes(1 << 20);
    return req;
  }

  Result<proto::ListOffsetsResponse> ListOffsets(int64_t table_id, int32_t type,
                                                 std::optional<int64_t> ts = std::nullopt) {
    proto::ListOffsetsRequest req;
    req.set_follower_server_id(-1);
    req.set_offset_type(type);
    req.set_table_id(table_id);
    req.add_bucket_id(0);
    if (ts) req.set_starttimestamp(*ts);
    return Call<ApiKey::kListOffsets>(req);
  }

  static inline int n_ = 0;
  fs::path dir_;
  asio::io_context io_;
  std::unique_ptr<LocalServer> server_;
  std::shared_ptr<rpc::Connection> conn_;
};

TEST_F(LocalServerTest, AdvertisesBothRolesWithoutServerType) {
  EXPECT_FALSE(conn_->server_type().has_value());
  for (ApiKey key : {ApiKey::kCreateTable, ApiKey::kGetMetadata, ApiKey::kProduceLog,
                     ApiKey::kFetchLog, ApiKey::kListOffsets, ApiKey::kInitWriter,
                     ApiKey::kGetFileSystemSecurityToken}) {
    EXPECT_TRUE(conn_->NegotiateVersion(key).ok()) << proto::ApiKeyName(key);
  }
}

TEST_F(LocalServerTest, DatabaseDdlRoundTrip) {
  proto::ListDatabasesRequest list;
  auto dbs = Call<ApiKey::kListDatabases>(list);
  ASSERT_TRUE(dbs.ok());
  ASSERT_EQ(dbs->database_name_size(), 1) << "an empty cluster gets the default database";
  EXPECT_EQ(dbs->database_name(0), "fluss");

  EXPECT_TRUE(CreateDatabase("db1").ok());
  EXPECT_EQ(CreateDatabase("db1").code(), ErrorCode::kDatabaseAlreadyExist);
  EXPECT_TRUE(CreateDatabase("db1", /*ignore=*/true).ok());
  EXPECT_EQ(CreateDatabase("bad.name").code(), ErrorCode::kInvalidDatabase);
  EXPECT_EQ(CreateDatabase("__internal").code(), ErrorCode::kInvalidDatabase);

  proto::CreateDatabaseRequest with_json;
  with_json.set_database_name("db2");
  with_json.set_ignore_if_exists(false);
  with_json.set_database_json(R"({"version":1,"comment":"hello","custom_properties":{"a":"b"}})");
  ASSERT_TRUE(Call<ApiKey::kCreateDatabase>(with_json).ok());
  proto::GetDatabaseInfoRequest info_req;
  info_req.set_database_name("db2");
  auto info = Call<ApiKey::kGetDatabaseInfo>(info_req);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->database_json(),
            R"({"version":1,"comment":"hello","custom_properties":{"a":"b"}})");
  EXPECT_GT(info->created_time(), 0);
  info_req.set_database_name("nope");
  EXPECT_EQ(Call<ApiKey::kGetDatabaseInfo>(info_req).status().code(),
            ErrorCode::kDatabaseNotExist);

  proto::DatabaseExistsRequest exists;
  exists.set_database_name("db2");
  EXPECT_TRUE(Call<ApiKey::kDatabaseExists>(exists)->exists());
  exists.set_database_name("nope");
  EXPECT_FALSE(Call<ApiKey::kDatabaseExists>(exists)->exists());

  list.set_include_summary(true);
  auto summaries = Call<ApiKey::kListDatabases>(list);
  ASSERT_TRUE(summaries.ok());
  EXPECT_EQ(summaries->database_summary_size(), 3);
  EXPECT_EQ(summaries->database_name_size(), 0);

  ASSERT_TRUE(CreateTable("db2", "t", LogTableJson(1)).ok());
  proto::DropDatabaseRequest drop;
  drop.set_database_name("db2");
  drop.set_ignore_if_not_exists(false);
  drop.set_cascade(false);
  EXPECT_EQ(Call<ApiKey::kDropDatabase>(drop).status().code(), ErrorCode::kDatabaseNotEmpty);
  drop.set_cascade(true);
  EXPECT_TRUE(Call<ApiKey::kDropDatabase>(drop).ok());
  EXPECT_EQ(Call<ApiKey::kDropDatabase>(drop).status().code(), ErrorCode::kDatabaseNotExist);
  drop.set_ignore_if_not_exists(true);
  EXPECT_TRUE(Call<ApiKey::kDropDatabase>(drop).ok());
  EXPECT_FALSE(fs::exists(dir_ / "db2")) << "cascade drop deletes the tablets";
}

TEST_F(LocalServerTest, TableDdlAppliesDefaultsAndFlussErrors) {
  ASSERT_TRUE(CreateDatabase("db").ok());
  std::string no_buckets = LogTableJson(1);
  no_buckets.replace(no_buckets.find(R"("bucket_key":[],"bucket_count":1,)"),
                     std::string(R"("bucket_key":[],"bucket_count":1,)").size(), "");
  ASSERT_TRUE(CreateTable("db", "t", no_buckets).ok());
  EXPECT_EQ(CreateTable("db", "t", LogTableJson(1)).code(), ErrorCode::kTableAlreadyExist);
  EXPECT_TRUE(CreateTable("db", "t", LogTableJson(1), /*ignore=*/true).ok());

  proto::GetTableInfoRequest info_req;
  *info_req.mutable_table_path() = Path("db", "t");
  auto info = Call<ApiKey::kGetTableInfo>(info_req);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->schema_id(), 1);
  EXPECT_NE(info->table_json().find(R"("bucket_count":1)"), std::string::npos) << info->table_json();
  EXPECT_NE(info->table_json().find(R"("table.replication.factor":"1")"), std::string::npos);
  EXPECT_NE(info->table_json().find(R"("partition_key":[])"), std::string::npos);
  EXPECT_NE(info->table_json().find(R"("custom_properties":{})"), std::string::npos);

  EXPECT_EQ(CreateTable("db", "bad name", LogTableJson(1)).code(), ErrorCode::kInvalidTable);
  EXPECT_EQ(CreateTable("bad db", "t", LogTableJson(1)).code(), ErrorCode::kInvalidDatabase);
  EXPECT_EQ(CreateTable("nope", "t", LogTableJson(1)).code(), ErrorCode::kDatabaseNotExist);
  EXPECT_EQ(CreateTable("db", "j", "{not json").code(), ErrorCode::kInvalidTable);
  EXPECT_EQ(CreateTable("db", "p", LogTableJson(1, R"("table.bogus":"1")")).code(),
            ErrorCode::kInvalidConfig);
  EXPECT_EQ(CreateTable("db", "p", LogTableJson(1, R"("other":"1")")).code(),
            ErrorCode::kInvalidConfig);
  EXPECT_EQ(CreateTable("db", "p", LogTableJson(1, R"("table.replication.factor":"0")")).code(),
            ErrorCode::kInvalidConfig);
  EXPECT_EQ(CreateTable("db", "p", LogTableJson(1, R"("table.replication.factor":"3")")).code(),
            ErrorCode::kInvalidReplicationFactor);
  EXPECT_EQ(CreateTable("db", "p", LogTableJson(1, R"("table.merge-engine":"first_row")")).code(),
            ErrorCode::kInvalidConfig);
  // A primary-key table with a versioned merge engine but no version column.
  std::string pk = LogTableJson(1, R"("table.merge-engine":"versioned")");
  pk.replace(pk.find(R"("highest_field_id")"), 0, R"("primary_key":["id"],)");
  Status pk_status = CreateTable("db", "pk", pk);
  EXPECT_EQ(pk_status.code(), ErrorCode::kInvalidConfig);

  proto::TableExistsRequest exists;
  *exists.mutable_table_path() = Path("db", "t");
  EXPECT_TRUE(Call<ApiKey::kTableExists>(exists)->exists());
  *exists.mutable_table_path() = Path("db", "p");
  EXPECT_FALSE(Call<ApiKey::kTableExists>(exists)->exists());

  proto::ListTablesRequest list;
  list.set_database_name("db");
  auto tables = Call<ApiKey::kListTables>(list);
  ASSERT_TRUE(tables.ok());
  ASSERT_EQ(tables->table_name_size(), 1);
  EXPECT_EQ(tables->table_name(0), "t");
  list.set_database_name("nope");
  EXPECT_EQ(Call<ApiKey::kListTables>(list).status().code(), ErrorCode::kDatabaseNotExist);

  proto::GetTableSchemaRequest schema_req;
  *schema_req.mutable_table_path() = Path("db", "t");
  auto schema = Call<ApiKey::kGetTableSchema>(schema_req);
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(schema->schema_id(), 1);
  EXPECT_NE(schema->schema_json().find(R"("name":"score")"), std::string::npos);
  schema_req.set_schema_id(1);
  EXPECT_TRUE(Call<ApiKey::kGetTableSchema>(schema_req).ok());
  schema_req.set_schema_id(2);
  EXPECT_EQ(Call<ApiKey::kGetTableSchema>(schema_req).status().code(),
            ErrorCode::kSchemaNotExist);

  proto::DropTableRequest drop;
  *drop.mutable_table_path() = Path("db", "t");
  drop.set_ignore_if_not_exists(false);
  EXPECT_TRUE(Call<ApiKey::kDropTable>(drop).ok());
  EXPECT_EQ(Call<ApiKey::kDropTable>(drop).status().code(), ErrorCode::kTableNotExist);
  drop.set_ignore_if_not_exists(true);
  EXPECT_TRUE(Call<ApiKey::kDropTable>(drop).ok());
  EXPECT_EQ(Call<ApiKey::kGetTableInfo>(info_req).status().code(), ErrorCode::kTableNotExist);
}

TEST_F(LocalServerTest, MetadataListsNodesAndBucketLeaders) {
  ASSERT_TRUE(CreateDatabase("db").ok());
  ASSERT_TRUE(CreateTable("db", "t", LogTableJson(3)).ok());
  proto::MetadataRequest empty;
  auto bootstrap = Call<ApiKey::kGetMetadata>(empty);
  ASSERT_TRUE(bootstrap.ok());
  ASSERT_TRUE(bootstrap->has_coordinator_server());
  EXPECT_EQ(bootstrap->coordinator_server().port(), server_->port());
  ASSERT_EQ(bootstrap->tablet_servers_size(), 1);
  EXPECT_EQ(bootstrap->tablet_servers(0).host(), "127.0.0.1");

  proto::MetadataRequest req;
  *req.add_table_path() = Path("db", "t");
  auto meta = Call<ApiKey::kGetMetadata>(req);
  ASSERT_TRUE(meta.ok());
  ASSERT_EQ(meta->table_metadata_size(), 1);
  const auto& t = meta->table_metadata(0);
  EXPECT_EQ(t.schema_id(), 1);
  EXPECT_NE(t.table_json().find(R"("bucket_count":3)"), std::string::npos);
  ASSERT_EQ(t.bucket_metadata_size(), 3);
  for (const auto& b : t.bucket_metadata()) {
    EXPECT_EQ(b.leader_id(), bootstrap->tablet_servers(0).node_id());
    ASSERT_EQ(b.replica_id_size(), 1);
  }
  *req.add_table_path() = Path("db", "missing");
  EXPECT_EQ(Call<ApiKey::kGetMetadata>(req).status().code(), ErrorCode::kTableNotExist);

  proto::GetLakeSnapshotRequest lake;
  *lake.mutable_table_path() = Path("db", "t");
  EXPECT_EQ(Call<ApiKey::kGetLakeSnapshot>(lake).status().code(),
            ErrorCode::kLakeSnapshotNotExist);
  proto::GetLatestKvSnapshotsRequest kv;
  *kv.mutable_table_path() = Path("db", "t");
  EXPECT_EQ(Call<ApiKey::kGetLatestKvSnapshots>(kv).status().code(),
            ErrorCode::kNonPrimaryKeyTable);
  *kv.mutable_table_path() = Path("db", "missing");
  EXPECT_EQ(Call<ApiKey::kGetLatestKvSnapshots>(kv).status().code(), ErrorCode::kTableNotExist);

  proto::GetFileSystemSecurityTokenRequest token_req;
  auto token = Call<ApiKey::kGetFileSystemSecurityToken>(token_req);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->schema(), "file");
  EXPECT_TRUE(token->token().empty());
  EXPECT_FALSE(token->has_expiration_time());
}

TEST_F(LocalServerTest, ProduceAndFetchArrowAndIndexed) {
  ASSERT_TRUE(CreateDatabase("db").ok());
  ASSERT_TRUE(CreateTable("db", "arrow", LogTableJson(2)).ok());
  ASSERT_TRUE(CreateTable("db", "indexed", LogTableJson(1, R"("table.log.format":"INDEXED")")).ok());
  int64_t arrow_id = TableId("db", "arrow");
  int64_t indexed_id = TableId("db", "indexed");

  auto p1 = Produce(arrow_id, 1, ArrowBatch(0, 5));
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  ASSERT_EQ(p1->buckets_resp_size(), 1);
  EXPECT_FALSE(p1->buckets_resp(0).has_error_code()) << "error_code absent on success";
  EXPECT_EQ(p1->buckets_resp(0).bucket_id(), 1);
  EXPECT_EQ(p1->buckets_resp(0).base_offset(), 0);
  auto p2 = Produce(arrow_id, 1, ArrowBatch(5, 3));
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->buckets_resp(0).base_offset(), 5);
  ASSERT_TRUE(Produce(indexed_id, 0, IndexedBatch(100, 4)).ok());

  auto f = Call<ApiKey::kFetchLog>(FetchRequest(arrow_id, 1, -2));
  ASSERT_TRUE(f.ok());
  const auto& b = f->tables_resp(0).buckets_resp(0);
  EXPECT_FALSE(b.has_error_code());
  EXPECT_EQ(b.high_watermark(), 8);
  EXPECT_EQ(DecodeIds(b.records(), true), (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  // Mid-batch fetch: whole batches come back, the client skips below its offset.
  f = Call<ApiKey::kFetchLog>(FetchRequest(arrow_id, 1, 6));
  EXPECT_EQ(DecodeIds(f->tables_resp(0).buckets_resp(0).records(), true, LogOffset(6)),
            (std::vector<int32_t>{6, 7}));
  // At the end: empty records, high watermark present.
  f = Call<ApiKey::kFetchLog>(FetchRequest(arrow_id, 1, 8));
  ASSERT_TRUE(f->tables_resp(0).buckets_resp(0).has_records());
  EXPECT_TRUE(f->tables_resp(0).buckets_resp(0).records().empty());
  EXPECT_EQ(f->tables_resp(0).buckets_resp(0).high_watermark(), 8);
  // Beyond the end.
  f = Call<ApiKey::kFetchLog>(FetchRequest(arrow_id, 1, 9));
  EXPECT_EQ(f->tables_resp(0).buckets_resp(0).error_code(),
            static_cast<int32_t>(ErrorCode::kLogOffsetOutOfRange));

  f = Call<ApiKey::kFetchLog>(FetchRequest(indexed_id, 0, -2));
  EXPECT_EQ(DecodeIds(f->tables_resp(0).buckets_resp(0).records(), false),
            (std::vector<int32_t>{100, 101, 102, 103}));
}

// FetchLog's records leave the segment files by sendfile with the protobuf envelope encoded
// around them by hand: the bytes on the wire must be exactly what protobuf would serialize
// for the same answer, for several tables and buckets, errors and empty reads among them,
// and large enough to need several socket reads on the client.
TEST_F(LocalServerTest, FetchLogOnTheWireIsTheCanonicalProtobufEncoding) {
  ASSERT_TRUE(CreateDatabase("db").ok());
  ASSERT_TRUE(CreateTable("db", "a", LogTableJson(3)).ok());
  ASSERT_TRUE(CreateTable("db", "b", LogTableJson(1, R"("table.log.format":"INDEXED")")).ok());
  const int64_t a = TableId("db", "a");
  const int64_t b = TableId("db", "b");
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(Produce(a, 0, ArrowBatch(i * 500, 500)).ok());
  ASSERT_TRUE(Produce(a, 2, ArrowBatch(0, 3)).ok());
  ASSERT_TRUE(Produce(b, 0, IndexedBatch(100, 4)).ok());

  proto::FetchLogRequest req = FetchRequest(a, 0, -2);
  req.mutable_tables_req(0)->mutable_buckets_req(0)->set_max_fetch_bytes(8 << 20);
  auto* a1 = req.mutable_tables_req(0)->add_buckets_req();  // empty bucket
  a1->set_bucket_id(1);
  a1->set_fetch_offset(0);
  a1->set_max_fetch_bytes(1 << 20);
  auto* a2 = req.mutable_tables_req(0)->add_buckets_req();
  a2->set_bucket_id(2);
  a2->set_fetch_offset(1);  // inside the batch: the whole batch comes back
  a2->set_max_fetch_bytes(1 << 20);
  auto* a9 = req.mutable_tables_req(0)->add_buckets_req();  // no such bucket
  a9->set_bucket_id(9);
  a9->set_fetch_offset(0);
  a9->set_max_fetch_bytes(1 << 20);
  auto* tb = req.add_tables_req();
  tb->set_table_id(b);
  tb->set_projection_pushdown_enabled(false);
  auto* b0 = tb->add_buckets_req();
  b0->set_bucket_id(0);
  b0->set_fetch_offset(-2);
  b0->set_max_fetch_bytes(1 << 20);

  ByteBuffer payload;
  ASSERT_TRUE(proto::AppendMessage(req, &payload).ok());
  Result<ByteBuffer> raw = RunTask(
      io_, conn_->Call(static_cast<int16_t>(ApiKey::kFetchLog), 0, std::move(payload), kTimeout));
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  proto::FetchLogResponse resp;
  ASSERT_TRUE(proto::ParseMessage(*raw, &resp).ok());
  EXPECT_TRUE(resp.SerializeAsString() == *raw) << "not the canonical encoding";
  ASSERT_EQ(resp.tables_resp_size(), 2);
  const auto& ta = resp.tables_resp(0);
  ASSERT_EQ(ta.buckets_resp_size(), 4);
  EXPECT_GT(ta.buckets_resp(0).records().size(), 64u * 1024);  // several client reads
  std::vector<int32_t> ids = DecodeIds(ta.buckets_resp(0).records(), true);
  ASSERT_EQ(ids.size(), 20000u);
  for (int32_t i = 0; i < 20000; ++i) ASSERT_EQ(ids[static_cast<size_t>(i)], i);
  EXPECT_TRUE(ta.buckets_resp(1).has_records());
  EXPECT_TRUE(ta.buckets_resp(1).records().empty());
  EXPECT_EQ(DecodeIds(ta.buckets_resp(2).records(), true), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(ta.buckets_resp(3).error_code(),
            static_cast<int32_t>(ErrorCode::kUnknownTableOrBucket));
  EXPECT_EQ(DecodeIds(resp.tables_resp(1).buckets_resp(0).records(), false),
            (std::vector<int32_t>{100, 101, 102, 103}));
}

TEST_F(LocalServerTest, ProjectionReturnsOnlyTheSelectedColumns) {
  ASSERT_TRUE(CreateDatabase("db").ok());
  ASSERT_TRUE(CreateTable("db", "t", LogTableJson(1)).ok());
  ASSERT_TRUE(CreateTable("db", "i", LogTableJson(1, R"("table.log.format":"INDEXED")")).ok());
  int64_t id = TableId("db", "t");
  ASSERT_TRUE(Produce(id, 0, ArrowBatch(0, 4)).ok());
  auto req = FetchRequest(id, 0, 0);
  req.mutable_tables_req(0)->set_projection_pushdown_enabled(true);
  req.mutable_tables_req(0)->add_projected_fields(0);
  req.mutable_tables_req(0)->add_projected_fields(2);
  auto f = Call<ApiKey::kFetchLog>(req);
  ASSERT_TRUE(f.ok());
  const auto& b = f->tables_resp(0).buckets_resp(0);
  ASSERT_FALSE(b.has_error_code()) << b.error_message();
  record::LogRecordBatchIterator it(b.records());
  auto batch = it.Next();
  ASSERT_TRUE(batch.ok() && batch->has_value());
  record::DataType projected = record::DataType::Row(
      {record::DataField{"id", record::DataType::Int(), std::nullopt, 0},
       record::DataField{"score", record::DataType::BigInt(), std::nullopt, 2}});
  auto body = record::arrow::DecodeArrowLogBatch(**batch, projected);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  auto rows = body->batch.ToRows();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[3][0].as<int32_t>(), 3);
  EXPECT_EQ(rows[3][1].as<int64_t>(), 30);

  req.mutable_tables_req(0)->clear_projected_fields();
  req.mutable_tables_req(0)->add_projected_fields(2);
  req.mutable_tables_req(0)->add_projected_fields(0);
  f = Call<ApiKey::kFetchLog>(req);
  EXPECT_EQ(f->tables_resp(0).buckets_resp(0).error_code(),
            static_cast<int32_t>(ErrorCode::kInvalidColumnProjection));
  auto indexed = FetchRequest(TableId("db", "i"), 0, 0);
  indexed.mutable_tables_req(0)->set_projection_pushdown_enabled(true);
  indexed.mutable_tables_req(0)->add_projected_fields(0);
  f = Call<ApiKey::kFetchLog>(indexed);
  EXPECT_EQ(f->tables_resp(0).buckets_resp(0).error_code(),
            static_cast<int32_t>(ErrorCode::kInvalidColumnProjection));
}

TEST_F(LocalServerTest, ProjectedFetchFillsTheBucketBudgetWithProjectedBytes) {
  ASSERT_TRUE(CreateDatabase("db").ok());
  ASSERT_TRUE(CreateTable("db", "t", LogTableJson(1)).ok());
  int64_t id = TableId("db", "t");
  constexpr int kBatches = 40, kRows = 50;
  for (int i = 0; i < kBatches; ++i) ASSERT_TRUE(Produce(id, 0, ArrowBatch(i * kRows, kRows)).ok());
  const int32_t budget = static_cast<int32_t>(ArrowBatch(0, kRows).size() * 5);

  auto rows_in = [](const std::string& records, const record::DataType& type) {
    std::vector<int32_t> ids;
    record::LogRecordBatchIterator it(records);
    while (true) {
      auto batch = it.Next();
      EXPECT_TRUE(batch.ok());
      if (!batch.ok() || !batch->has_value()) break;
      auto body = record::arrow::DecodeArrowLogBatch(**batch, type);
      EXPECT_TRUE(body.ok()) << body.status().ToString();
      if (!body.ok()) break;
      for (const auto& row : body->batch.ToRows()) ids.push_back(row[0].as<int32_t>());
    }
    return ids;
  };

  auto plain = FetchRequest(id, 0, 0);
  plain.mutable_tables_req(0)->mutable_buckets_req(0)->set_max_fetch_bytes(budget);
  auto full = Call<ApiKey::kFetchLog>(plain);
  ASSERT_TRUE(full.ok());
  const size_t stored_rows = DecodeIds(full->tables_resp(0).buckets_resp(0).records(), true).size();
  EXPECT_LE(stored_rows, static_cast<size_t>(5 * kRows));

  auto req = plain;
  req.mutable_tables_req(0)->set_projection_pushdown_enabled(true);
  req.mutable_tables_req(0)->add_projected_fields(0);
  auto f = Call<ApiKey::kFetchLog>(req);
  ASSERT_TRUE(f.ok());
  const auto& b = f->tables_resp(0).buckets_resp(0);
  ASSERT_FALSE(b.has_error_code()) << b.error_message();
  EXPECT_LE(b.records().size(), static_cast<size_t>(budget));
  record::DataType only_id = record::DataType::Row(
      {record::DataField{"id", record::DataType::Int(), std::nullopt, 0}});
  std::vector<int32_t> ids = rows_in(b.records(), only_id);
  // One column of three is much smaller than the stored rows: the projected fetch carries
  // more rows than the stored budget holds, in order from the fetch offset.
  EXPECT_GT(ids.size(), stored_rows);
  for (size_t i = 0; i < ids.size(); ++i) ASSERT_EQ(ids[i], static_cast<int32_t>(i));

  // With room for everything, one projected fetch returns the whole log.
  req.mutable_tables_req(0)->mutable_buckets_req(0)->set_max_fetch_bytes(8 << 20);
  f = Call<ApiKey::kFetchLog>(req);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(rows_in(f->tables_resp(0).buckets_resp(0).records(), only_id).size(),
            static_cast<size_t>(kBatches * kRows));
}

// Projected records leave the segment file as file regions (the kept column buffers) between
// rewritten batch heads; on the wire they are the bytes the in-memory projection makes of the
// stored batches, in the canonical protobuf encoding, for every codec and with nulls.
TEST_F(LocalServerTest, ProjectedFetchSendsTheInMemoryProjectionBytes) {
  ASSERT_TRUE(CreateDatabase("db").ok());
  const record::arrow::ArrowCompression codecs[] = {record::arrow::ArrowCompression::None(),
                                                    record::arrow::ArrowCompression::Lz4Frame(),
                                                    record::arrow::ArrowCompression::Zstd(3)};
  for (const auto& codec : codecs) {
    const std::string name(record::arrow::CompressionCodecName(codec.codec));
    SCOPED_TRACE(name);
    ASSERT_TRUE(CreateTable("db", name,
                            LogTableJson(2, R"("table.log.arrow.compression.type":")" + name +
                                                R"(")"))
                    .ok());
    const int64_t id = TableId("db", name);
    int first = 0;
    for (int i = 0; i < 30; ++i) {
      const int count = i % 7 == 0 ? 3000 : 1 + i * 13;
      std::vector<record::GenericRow> rows = testing::Rows(first, count);
      for (size_t r = 0; r < rows.size(); r += 3) rows[r][1] = record::Datum();  // nulls
      ByteBuffer batch;
      record::LogBatchParams params;
      params.schema_id = SchemaId(1);
      ASSERT_TRUE(record::arrow::BuildArrowLogBatch(&batch, params, testing::RowType(), rows, {},
                                                    codec)
                      .ok());
      ASSERT_TRUE(Produce(id, i % 2, std::move(batch)).ok());
      first += count;
    }
    for (const std::vector<int32_t>& fields :
         {std::vector<int32_t>{0}, std::vector<int32_t>{1}, std::vector<int32_t>{0, 2}}) {
      auto plain = FetchRequest(id, 0, 0);
      plain.mutable_tables_req(0)->mutable_buckets_req(0)->set_max_fetch_bytes(16 << 20);
      auto* b1 = plain.mutable_tables_req(0)->add_buckets_req();
      b1->set_bucket_id(1);
      b1->set_fetch_offset(0);
      b1->set_max_fetch_bytes(16 << 20);
      plain.set_max_bytes(64 << 20);
      auto stored = Call<ApiKey::kFetchLog>(plain);
      ASSERT_TRUE(stored.ok());

      auto req = plain;
      req.mutable_tables_req(0)->set_projection_pushdown_enabled(true);
      for (int32_t f : fields) req.mutable_tables_req(0)->add_projected_fields(f);
      ByteBuffer payload;
      ASSERT_TRUE(proto::AppendMessage(req, &payload).ok());
      Result<ByteBuffer> raw = RunTask(io_, conn_->Call(static_cast<int16_t>(ApiKey::kFetchLog),
                                                        0, std::move(payload), kTimeout));
      ASSERT_TRUE(raw.ok()) << raw.status().ToString();
      proto::FetchLogResponse resp;
      ASSERT_TRUE(proto::ParseMessage(*raw, &resp).ok());
      EXPECT_TRUE(resp.SerializeAsString() == *raw) << "not the canonical encoding";

      auto projection =
          record::arrow::ArrowProjection::Create(testing::RowType(), fields, codec);
      ASSERT_TRUE(projection.ok());
      for (int bucket = 0; bucket < 2; ++bucket) {
        const auto& got = resp.tables_resp(0).buckets_resp(bucket);
        ASSERT_FALSE(got.has_error_code()) << got.error_message();
        const std::string& records = stored->tables_resp(0).buckets_resp(bucket).records();
        ByteBuffer expected;
        auto consumed = projection->ProjectLogRecords(records, SIZE_MAX, &expected);
        ASSERT_TRUE(consumed.ok());
        EXPECT_EQ(*consumed, records.size());
        EXPECT_GT(expected.size(), 0u);
        EXPECT_TRUE(got.records() == expected)
            << "bucket " << bucket << ": " << got.records().size() << " vs " << expected.size();
      }
    }
  }
}

TEST_F(LocalServerTest, LongPollWakesOnAppendAndTimesOutOtherwise) {
  ASSERT_TRUE(CreateDatabase("db").ok());
  ASSERT_TRUE(CreateTable("db", "t", LogTableJson(1)).ok());
  int64_t id = TableId("db", "t");

  auto req = FetchRequest(id, 0, 0);
  req.set_min_bytes(1);
  req.set_max_wait_ms(300);
  auto start = std::chrono::steady_clock::now();
  auto empty = Call<ApiKey::kFetchLog>(req);
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->tables_resp(0).buckets_resp(0).records().empty());
  EXPECT_GE(waited, 290ms);
  EXPECT_LT(waited, 5s);

  req.set_max_wait_ms(8000);
  auto scenario = [](rpc::Connection* conn, proto::FetchLogRequest fetch,
                     int64_t table) -> Task<std::pair<Result<proto::FetchLogResponse>,
                                                      std::chrono::steady_clock::duration>> {
    auto begin = std::chrono::steady_clock::now();
    auto pending = conn->Call<ApiKey::kFetchLog>(std::move(fetch), kTimeout);
    asio::steady_timer timer(co_await asio::this_coro::executor, 200ms);
    using namespace asio::experimental::awaitable_operators;  // NOLINT
    auto produce_later = [](rpc::Connection* c, asio::steady_timer* t,
                            int64_t tid) -> Task<Status> {
      co_await t->async_wait(kAwaitTuple);
      proto::ProduceLogRequest p;
      p.set_acks(-1);
      p.set_table_id(tid);
      p.set_timeout_ms(1000);
      auto* b = p.add_buckets_req();
      b->set_bucket_id(0);
      b->set_records(ArrowBatch(0, 2));
      auto r = co_await c->Call<ApiKey::kProduceLog>(std::move(p), kTimeout);
      co_return r.status();
    };
    auto produce = produce_later(conn, &timer, table);
    auto [fetched, produced] = co_await (std::move(pending) && std::move(produce));
    EXPECT_TRUE(produced.ok());
    co_return std::make_pair(std::move(fetched), std::chrono::steady_clock::now() - begin);
  };
  auto [woken, elapsed] = RunTask(io_, scenario(conn_.get(), req, id));
  ASSERT_TRUE(woken.ok());
  EXPECT_EQ(DecodeIds(woken->tables_resp(0).buckets_resp(0).records(), true),
            (std::vector<int32_t>{0, 1}));
  EXPECT_LT(elapsed, 4s) << "woken by the append, not by the 8 s deadline";
}

TEST_F(LocalServerTest, ListOffsetsEarliestLatestAndTimestamp) {
  ASSERT_TRUE(CreateDatabase("db").ok());
  ASSERT_TRUE(CreateTable("db", "t", LogTableJson(1)).ok());
  int64_t id = TableId("db", "t");
  auto latest = ListOffsets(id, 1);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->buckets_resp(0).offset(), 0);
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  ASSERT_TRUE(Produce(id, 0, ArrowBatch(0, 3)).ok());
  ASSERT_TRUE(Produce(id, 0, ArrowBatch(3, 3)).ok());
  EXPECT_EQ(ListOffsets(id, 0)->buckets_resp(0).offset(), 0);
  EXPECT_EQ(ListOffsets(id, 1)->buckets_resp(0).offset(), 6);
  auto by_time = ListOffsets(id, 2, now_ms - 1000);
  ASSERT_TRUE(by_time.ok());
  EXPECT_FALSE(by_time->buckets_resp(0).has_error_code());
  EXPECT_EQ(by_time->buckets_resp(0).offset(), 0);
  auto future = ListOffsets(id, 2, now_ms + 3600 * 1000);
  EXPECT_EQ(future->buckets_resp(0).error_code(),
            static_cast<int32_t>(ErrorCode::kInvalidTimestamp));
  EXPECT_FALSE(future->buckets_resp(0).has_offset());
  auto unknown = ListOffsets(id + 100, 1);
  EXPECT_EQ(unknown->buckets_resp(0).error_code(),
            static_cast<int32_t>(ErrorCode::kUnknownTableOrBucket));
}

TEST_F(LocalServerTest, ProduceErrorsPerBucketAndPerRequest) {
  ASSERT_TRUE(CreateDatabase("db").ok());
  ASSERT_TRUE(CreateTable("db", "t", LogTableJson(1)).ok());
  int64_t id = TableId("db", "t");

  EXPECT_EQ(Produce(id, 0, ArrowBatch(0, 1), /*acks=*/2).status().code(),
            ErrorCode::kInvalidRequiredAcks);
  auto unknown_table = Produce(id + 7, 0, ArrowBatch(0, 1));
  ASSERT_TRUE(unknown_table.ok());
  EXPECT_EQ(unknown_table->buckets_resp(0).error_code(),
            static_cast<int32_t>(ErrorCode::kUnknownTableOrBucket));
  EXPECT_EQ(Produce(id, 5, ArrowBatch(0, 1))->buckets_resp(0).error_code(),
            static_cast<int32_t>(ErrorCode::kUnknownTableOrBucket));

  ByteBuffer bad_crc = ArrowBatch(0, 2);
  bad_crc[bad_crc.size() - 1] ^= 0x5a;
  EXPECT_EQ(Produce(id, 0, bad_crc)->buckets_resp(0).error_code(),
            static_cast<int32_t>(ErrorCode::kCorruptRecord));
  EXPECT_EQ(Produce(id, 0, ArrowBatch(0, 2, kNoWriterId, kNoBatchSequence, SchemaId(2)))
                ->buckets_resp(0)
                .error_code(),
            static_cast<int32_t>(ErrorCode::kSchemaNotExist));
  ByteBuffer torn = ArrowBatch(0, 2);
  torn.resize(torn.size() - 3);
  EXPECT_TRUE(Produce(id, 0, torn)->buckets_resp(0).has_error_code());
  EXPECT_EQ(ListOffsets(id, 1)->buckets_resp(0).offset(), 0) << "nothing was appended";

  // Unknown api keys are answered, never dropped.
  auto raw = RunTask(io_, conn_->Call(1999, 0, ByteBuffer(), kTimeout));
  EXPECT_EQ(raw.status().code(), ErrorCode::kUnsupportedVersion);
  // A malformed request payload is an error for that request only.
  auto garbage = RunTask(io_, conn_->Call(static_cast<int16_t>(ApiKey::kProduceLog), 0,
                                          ByteBuffer("\xff\xff\xff", 3), kTimeout));
  EXPECT_EQ(garbage.status().code(), ErrorCode::kCorruptMessage);
  EXPECT_TRUE(conn_->is_open());
}

TEST_F(LocalServerTest, IdempotentWritesAndWriterIds) {
  ASSERT_TRUE(CreateDatabase("db").ok());
  ASSERT_TRUE(CreateTable("db", "t", LogTableJson(1)).ok());
  int64_t id = TableId("db", "t");
  proto::InitWriterRequest init;
  auto w1 = Call<ApiKey::kInitWriter>(init);
  *init.add_table_path() = Path("db", "t");
  auto w2 = Call<ApiKey::kInitWriter>(init);
  ASSERT_TRUE(w1.ok() && w2.ok());
  EXPECT_GE(w1->writer_id(), 0);
  EXPECT_NE(w1->writer_id(), w2->writer_id());

  WriterId writer(w1->writer_id());
  auto a = Produce(id, 0, ArrowBatch(0, 2, writer, BatchSequence(0)));
  auto b = Produce(id, 0, ArrowBatch(2, 2, writer, BatchSequence(1)));
  auto dup = Produce(id, 0, ArrowBatch(2, 2, writer, BatchSequence(1)));
  ASSERT_TRUE(a.ok() && b.ok() && dup.ok());
  EXPECT_EQ(b->buckets_resp(0).base_offset(), 2);
  EXPECT_FALSE(dup->buckets_resp(0).has_error_code());
  EXPECT_EQ(dup->buckets_resp(0).base_offset(), 2) << "a duplicate gets its original offset";
  auto gap = Produce(id, 0, ArrowBatch(4, 1, writer, BatchSequence(5)));
  EXPECT_EQ(gap->buckets_resp(0).error_code(),
            static_cast<int32_t>(ErrorCode::kOutOfOrderSequence));
  auto f = Call<ApiKey::kFetchLog>(FetchRequest(id, 0, 0));
  EXPECT_EQ(DecodeIds(f->tables_resp(0).buckets_resp(0).records(), true),
            (std::vector<int32_t>{0, 1, 2, 3}));
}

TEST_F(LocalServerTest, TablesAndDataSurviveRestart) {
  ASSERT_TRUE(CreateDatabase("db").ok());
  ASSERT_TRUE(CreateTable("db", "t", LogTableJson(2)).ok());
  ASSERT_TRUE(CreateTable("db", "gone", LogTableJson(1)).ok());
  int64_t id = TableId("db", "t");
  ASSERT_TRUE(Produce(id, 0, ArrowBatch(0, 3)).ok());
  proto::DropTableRequest drop;
  *drop.mutable_table_path() = Path("db", "gone");
  drop.set_ignore_if_not_exists(false);
  ASSERT_TRUE(Call<ApiKey::kDropTable>(drop).ok());
  proto::InitWriterRequest init;
  int64_t writer_before = Call<ApiKey::kInitWriter>(init)->writer_id();

  StopServer();
  StartServer();
  EXPECT_EQ(TableId("db", "t"), id);
  auto f = Call<ApiKey::kFetchLog>(FetchRequest(id, 0, -2));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->tables_resp(0).buckets_resp(0).high_watermark(), 3);
  EXPECT_EQ(DecodeIds(f->tables_resp(0).buckets_resp(0).records(), true),
            (std::vector<int32_t>{0, 1, 2}));
  auto p = Produce(id, 0, ArrowBatch(3, 1));
  EXPECT_EQ(p->buckets_resp(0).base_offset(), 3);
  EXPECT_NE(Call<ApiKey::kInitWriter>(init)->writer_id(), writer_before);
  proto::TableExistsRequest exists;
  *exists.mutable_table_path() = Path("db", "gone");
  EXPECT_FALSE(Call<ApiKey::kTableExists>(exists)->exists());
}

TEST_F(LocalServerTest, LimitScanAndTableStatsOfALogTable) {
  ASSERT_TRUE(CreateDatabase("db").ok());
  ASSERT_TRUE(CreateTable("db", "t", LogTableJson(1)).ok());
  int64_t id = TableId("db", "t");
  ASSERT_TRUE(Produce(id, 0, ArrowBatch(0, 4)).ok());
  ASSERT_TRUE(Produce(id, 0, ArrowBatch(4, 4)).ok());
  proto::LimitScanRequest scan;
  scan.set_table_id(id);
  scan.set_bucket_id(0);
  scan.set_limit(3);
  auto resp = Call<ApiKey::kLimitScan>(scan);
  ASSERT_TRUE(resp.ok());
  EXPECT_FALSE(resp->has_error_code());
  EXPECT_TRUE(resp->is_log_table());
  // Whole batches from offset 8 - 3 = 5: the second batch.
  EXPECT_EQ(DecodeIds(resp->records(), true), (std::vector<int32_t>{4, 5, 6, 7}));
  scan.set_bucket_id(9);
  EXPECT_EQ(Call<ApiKey::kLimitScan>(scan)->error_code(),
            static_cast<int32_t>(ErrorCode::kUnknownTableOrBucket));

  proto::GetTableStatsRequest stats;
  stats.set_table_id(id);
  stats.add_buckets_req()->set_bucket_id(0);
  auto got = Call<ApiKey::kGetTableStats>(stats);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->buckets_resp_size(), 1);
  EXPECT_EQ(got->buckets_resp(0).row_count(), 8);
  EXPECT_FALSE(got->buckets_resp(0).has_error_code());
}

TEST(LocalServerOptionsTest, ListenersFromFlussOptions) {
  LocalServerOptions options;
  auto def = options.Listener();
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(*def, std::make_pair(std::string("127.0.0.1"), uint16_t{9123}));
  ASSERT_TRUE(options.config.Set("bind.listeners", "FLUSS://localhost:9124").ok());
  EXPECT_EQ(*options.Listener(), std::make_pair(std::string("127.0.0.1"), uint16_t{9124}));
  ASSERT_TRUE(options.config.Set("bind.listeners", "FLUSS://[::1]:9125,INTERNAL://h:1").ok());
  EXPECT_EQ(*options.Listener(), std::make_pair(std::string("::1"), uint16_t{9125}));
  options.port = 0;
  EXPECT_EQ(options.Listener()->second, 0);
  ASSERT_TRUE(options.config.Set("bind.listeners", "FLUSS://nohost").ok());
  EXPECT_EQ(options.Listener().status().code(), ErrorCode::kInvalidConfig);
  EXPECT_FALSE(options.Advertised()->has_value());
  ASSERT_TRUE(options.config.Set("advertised.listeners", "FLUSS://public.example:19123").ok());
  EXPECT_EQ(**options.Advertised(),
            std::make_pair(std::string("public.example"), uint16_t{19123}));
}

TEST_F(LocalServerTest, AdvertisedListenersAreWhatMetadataLists) {
  StopServer();
  LocalServerOptions options;
  options.data_dir = dir_.string();
  options.port = 0;
  ASSERT_TRUE(options.config.Set("advertised.listeners", "FLUSS://db.example:7000").ok());
  server_ = std::make_unique<LocalServer>(io_, std::move(options));
  ASSERT_TRUE(RunTask(io_, server_->Start()).ok());
  auto conn = RunTask(io_, rpc::Connection::Connect(io_.get_executor(), "127.0.0.1",
                                                    server_->port(), rpc::ConnectionOptions()));
  ASSERT_TRUE(conn.ok());
  conn_ = *conn;
  proto::MetadataRequest req;
  auto meta = Call<ApiKey::kGetMetadata>(req);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->coordinator_server().host(), "db.example");
  EXPECT_EQ(meta->coordinator_server().port(), 7000);
  EXPECT_EQ(meta->tablet_servers(0).host(), "db.example");
}

}  // namespace
}  // namespace strom::server
