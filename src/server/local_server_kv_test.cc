// Primary-key tables served by an in-process LocalServer, driven over raw RPC with KV batches
// and keys built by the record component: PutKv, Lookup, PrefixLookup, LimitScan,
// GetTableStats, SCAN_KV, the changelog through FetchLog, restarts, and bad input.

#include <gtest/gtest.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include "rpc/connection.h"
#include "server/local_server.h"
#include "server/server_kv_test_util.h"
#include "server/server_test_util.h"
#include "testutil/run_task.h"

namespace strom::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using proto::ApiKey;
using record::GenericRow;
using testing::CompositePkTableJson;
using testing::DecodeChangelog;
using testing::DecodeKvValue;
using testing::DecodeValueBatch;
using testing::EncodeKvKey;
using testing::KvBatch;
using testing::KvBucketOf;
using testing::KvOp;
using testing::KvRow;
using testing::LogTableJson;
using testing::Path;
using testing::PkTableJson;
using testutil::RunTask;

constexpr auto kTimeout = 10s;

KvOp Upsert(int32_t id, std::optional<std::string> name, std::optional<int64_t> score) {
  return KvOp{KvRow(id, std::move(name), score), false};
}
KvOp Delete(int32_t id) { return KvOp{KvRow(id, std::nullopt, std::nullopt), true}; }

class LocalServerKvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("strom-server-kv-test-{}-{}", ::getpid(), n_++);
    fs::remove_all(dir_);
    StartServer();
    ASSERT_TRUE(CreateDatabase("db").ok());
  }
  void TearDown() override {
    StopServer();
    fs::remove_all(dir_);
  }

  void StartServer() {
    LocalServerOptions options;
    options.data_dir = dir_.string();
    options.port = 0;
    // Small RocksDB memory per tablet keeps the test light.
    EXPECT_TRUE(options.config.Set("kv.rocksdb.writebuffer.size", "1mb").ok());
    EXPECT_TRUE(options.config.Set("kv.rocksdb.block.cache-size", "1mb").ok());
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

  Status CreateDatabase(const std::string& name) {
    proto::CreateDatabaseRequest req;
    req.set_database_name(name);
    req.set_ignore_if_exists(true);
    return Call<ApiKey::kCreateDatabase>(req).status();
  }

  Status CreateTable(const std::string& table, const std::string& json) {
    proto::CreateTableRequest req;
    *req.mutable_table_path() = Path("db", table);
    req.set_table_json(json);
    req.set_ignore_if_exists(false);
    return Call<ApiKey::kCreateTable>(req).status();
  }

  int64_t TableId(const std::string& table) {
    proto::GetTableInfoRequest req;
    *req.mutable_table_path() = Path("db", table);
    auto resp = Call<ApiKey::kGetTableInfo>(req);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? resp->table_id() : -1;
  }

  Result<proto::PutKvResponse> PutKvRaw(int64_t table_id, int32_t bucket, ByteBuffer records,
                                        std::vector<int32_t> target_columns = {},
                                        int32_t acks = -1) {
    proto::PutKvRequest req;
    req.set_acks(acks);
    req.set_table_id(table_id);
    req.set_timeout_ms(30000);
    req.set_agg_mode(0);
    for (int32_t c : target_columns) req.add_target_columns(c);
    auto* b = req.add_buckets_req();
    b->set_bucket_id(bucket);
    b->set_records(std::move(records));
    return Call<ApiKey::kPutKv>(req);
  }

  /// PutKv of one bucket; the bucket's error (or OK) and its log_end_offset.
  Status PutKv(int64_t table_id, int32_t bucket, ByteBuffer records,
               std::vector<int32_t> target_columns = {}, int64_t* log_end = nullptr) {
    auto resp = PutKvRaw(table_id, bucket, std::move(records), std::move(target_columns));
    if (!resp.ok()) return resp.status();
    EXPECT_EQ(resp->buckets_resp_size(), 1);
    const auto& b = resp->buckets_resp(0);
    EXPECT_EQ(b.bucket_id(), bucket);
    if (b.has_error_code()) {
      return Status(static_cast<ErrorCode>(b.error_code()), b.error_message());
    }
    EXPECT_TRUE(b.has_log_end_offset());
    if (log_end != nullptr) *log_end = b.log_end_offset();
    return Status::OK();
  }

  /// Lookup of `ids` in one bucket: the decoded rows (nullopt = absent), or the bucket error.
  Result<std::vector<std::optional<GenericRow>>> Lookup(int64_t table_id, int32_t bucket,
                                                        const std::vector<int32_t>& ids) {
    proto::LookupRequest req;
    req.set_table_id(table_id);
    auto* b = req.add_buckets_req();
    b->set_bucket_id(bucket);
    for (int32_t id : ids) b->add_keys(EncodeKvKey(KvRow(id, std::nullopt, std::nullopt)));
    auto resp = Call<ApiKey::kLookup>(req);
    if (!resp.ok()) return resp.status();
    EXPECT_EQ(resp->buckets_resp_size(), 1);
    const auto& out = resp->buckets_resp(0);
    if (out.has_error_code()) {
      return Status(static_cast<ErrorCode>(out.error_code()), out.error_message());
    }
    EXPECT_EQ(out.values_size(), static_cast<int>(ids.size()));
    std::vector<std::optional<GenericRow>> rows;
    for (const auto& v : out.values()) {
      if (!v.has_values()) {
        rows.push_back(std::nullopt);
        continue;
      }
      auto row = DecodeKvValue(v.values());
      EXPECT_TRUE(row.has_value());
      rows.push_back(row);
    }
    return rows;
  }

  /// Lookup with insert_if_not_exists of `ids`, per bucket (ids grouped by `bucket_of`): the
  /// decoded rows in request order per bucket, or the first bucket error.
  Result<std::map<int32_t, std::vector<std::optional<GenericRow>>>> LookupInsert(
      int64_t table_id, const std::map<int32_t, std::vector<int32_t>>& ids_by_bucket) {
    proto::LookupRequest req;
    req.set_table_id(table_id);
    req.set_insert_if_not_exists(true);
    req.set_acks(-1);
    req.set_timeout_ms(30000);
    for (const auto& [bucket, ids] : ids_by_bucket) {
      auto* b = req.add_buckets_req();
      b->set_bucket_id(bucket);
      for (int32_t id : ids) b->add_keys(EncodeKvKey(KvRow(id, std::nullopt, std::nullopt)));
    }
    auto resp = Call<ApiKey::kLookup>(req);
    if (!resp.ok()) return resp.status();
    std::map<int32_t, std::vector<std::optional<GenericRow>>> out;
    EXPECT_EQ(resp->buckets_resp_size(), static_cast<int>(ids_by_bucket.size()));
    for (const auto& b : resp->buckets_resp()) {
      if (b.has_error_code()) {
        EXPECT_EQ(b.values_size(), 0);
        return Status(static_cast<ErrorCode>(b.error_code()), b.error_message());
      }
      EXPECT_EQ(b.values_size(), static_cast<int>(ids_by_bucket.at(b.bucket_id()).size()));
      auto& rows = out[b.bucket_id()];
      for (const auto& v : b.values()) {
        rows.push_back(v.has_values() ? DecodeKvValue(v.values()) : std::nullopt);
      }
    }
    return out;
  }

  std::optional<GenericRow> LookupOne(int64_t table_id, int32_t id, int32_t bucket = 0) {
    auto rows = Lookup(table_id, bucket, {id});
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    if (!rows.ok() || rows->size() != 1) return std::nullopt;
    return (*rows)[0];
  }

  Result<int64_t> RowCount(int64_t table_id, int32_t bucket = 0) {
    proto::GetTableStatsRequest req;
    req.set_table_id(table_id);
    req.add_buckets_req()->set_bucket_id(bucket);
    auto resp = Call<ApiKey::kGetTableStats>(req);
    if (!resp.ok()) return resp.status();
    const auto& b = resp->buckets_resp(0);
    if (b.has_error_code())
      return Status(static_cast<ErrorCode>(b.error_code()), b.error_message());
    return b.row_count();
  }

  /// The changelog of one bucket from `offset` up to the high watermark.
  std::vector<std::string> Changelog(int64_t table_id, int32_t bucket = 0, int64_t offset = 0,
                                     int64_t* high_watermark = nullptr) {
    proto::FetchLogRequest req;
    req.set_follower_server_id(-1);
    req.set_max_bytes(16 << 20);
    auto* t = req.add_tables_req();
    t->set_table_id(table_id);
    t->set_projection_pushdown_enabled(false);
    auto* b = t->add_buckets_req();
    b->set_bucket_id(bucket);
    b->set_fetch_offset(offset);
    b->set_max_fetch_bytes(8 << 20);
    auto resp = Call<ApiKey::kFetchLog>(req);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    if (!resp.ok()) return {"?"};
    const auto& out = resp->tables_resp(0).buckets_resp(0);
    EXPECT_FALSE(out.has_error_code()) << out.error_message();
    if (high_watermark != nullptr) *high_watermark = out.high_watermark();
    return DecodeChangelog(out.records(), LogOffset(offset));
  }

  proto::ScanKvRequest NewScan(int64_t table_id, int32_t bucket, int32_t batch_bytes,
                               std::optional<int64_t> limit = std::nullopt) {
    proto::ScanKvRequest req;
    auto* b = req.mutable_bucket_scan_req();
    b->set_table_id(table_id);
    b->set_bucket_id(bucket);
    if (limit) b->set_limit(*limit);
    req.set_call_seq_id(0);
    req.set_batch_size_bytes(batch_bytes);
    return req;
  }

  static proto::ScanKvRequest Continue(const std::string& scanner_id, int32_t seq,
                                       int32_t batch_bytes) {
    proto::ScanKvRequest req;
    req.set_scanner_id(scanner_id);
    req.set_call_seq_id(seq);
    req.set_batch_size_bytes(batch_bytes);
    return req;
  }

  /// A whole SCAN_KV of one bucket, page by page; the rows in key order.
  std::vector<GenericRow> ScanAll(int64_t table_id, int32_t bucket, int32_t batch_bytes,
                                  int* pages = nullptr, bool composite = false) {
    std::vector<GenericRow> rows;
    auto resp = Call<ApiKey::kScanKv>(NewScan(table_id, bucket, batch_bytes));
    int32_t seq = 0;
    int count = 0;
    while (true) {
      EXPECT_TRUE(resp.ok()) << resp.status().ToString();
      if (!resp.ok()) break;
      EXPECT_FALSE(resp->has_error_code()) << resp->error_message();
      if (resp->has_error_code()) break;
      ++count;
      auto page = DecodeValueBatch(resp->records(), composite);
      EXPECT_TRUE(page.has_value());
      if (page) rows.insert(rows.end(), page->begin(), page->end());
      if (!resp->has_more_results()) break;
      resp = Call<ApiKey::kScanKv>(Continue(resp->scanner_id(), ++seq, batch_bytes));
    }
    if (pages != nullptr) *pages = count;
    return rows;
  }

  static inline int n_ = 0;
  fs::path dir_;
  asio::io_context io_;
  std::unique_ptr<LocalServer> server_;
  std::shared_ptr<rpc::Connection> conn_;
};

TEST_F(LocalServerKvTest, AdvertisesTheKvApis) {
  for (ApiKey key : {ApiKey::kPutKv, ApiKey::kLookup, ApiKey::kPrefixLookup, ApiKey::kLimitScan,
                     ApiKey::kGetTableStats, ApiKey::kScanKv}) {
    EXPECT_TRUE(conn_->NegotiateVersion(key).ok()) << proto::ApiKeyName(key);
  }
  EXPECT_EQ(*conn_->NegotiateVersion(ApiKey::kPutKv), 1);
  EXPECT_EQ(*conn_->NegotiateVersion(ApiKey::kLookup), 1);
  EXPECT_EQ(*conn_->NegotiateVersion(ApiKey::kPrefixLookup), 1);
}

TEST_F(LocalServerKvTest, CreateTableValidatesPrimaryKeyOptions) {
  EXPECT_TRUE(CreateTable("pk", PkTableJson(2)).ok());
  EXPECT_EQ(CreateTable("v", PkTableJson(1, R"("table.merge-engine":"versioned")")).code(),
            ErrorCode::kInvalidConfig);
  EXPECT_EQ(CreateTable("v2", PkTableJson(1, R"("table.merge-engine":"versioned",)"
                                             R"("table.merge-engine.versioned.ver-column":"name")"))
                .code(),
            ErrorCode::kInvalidConfig);
  EXPECT_EQ(CreateTable("agg", PkTableJson(1, R"("table.merge-engine":"aggregation",)"
                                              R"("table.changelog.image":"WAL")"))
                .code(),
            ErrorCode::kInvalidConfig);
  EXPECT_EQ(CreateTable("fr", PkTableJson(1, R"("table.merge-engine":"first_row",)"
                                             R"("table.delete.behavior":"ALLOW")"))
                .code(),
            ErrorCode::kInvalidConfig);
  EXPECT_EQ(CreateTable("idx", PkTableJson(1, R"("table.log.format":"INDEXED")")).code(),
            ErrorCode::kInvalidConfig);
  // Refused by the KV tablet's own checks before anything is registered: SUM over a STRING.
  std::string bad_agg = PkTableJson(1, R"("table.merge-engine":"aggregation")");
  const std::string name_column = R"("data_type":{"type":"STRING"},)";
  bad_agg.replace(bad_agg.find(name_column), name_column.size(),
                  name_column + R"("agg_function":{"type":"sum"},)");
  EXPECT_EQ(CreateTable("bad_agg", bad_agg).code(), ErrorCode::kInvalidConfig);
  proto::ListTablesRequest list;
  list.set_database_name("db");
  auto tables = Call<ApiKey::kListTables>(list);
  ASSERT_TRUE(tables.ok());
  ASSERT_EQ(tables->table_name_size(), 1);
  EXPECT_EQ(tables->table_name(0), "pk");
  EXPECT_TRUE(fs::is_directory(dir_ / "db" / fmt::format("pk-{}", TableId("pk")) / "kv-1"));
  EXPECT_TRUE(fs::is_directory(dir_ / "db" / fmt::format("pk-{}", TableId("pk")) / "log-1"));
}

TEST_F(LocalServerKvTest, PutKvLookupStatsLimitScanAndChangelog) {
  ASSERT_TRUE(CreateTable("pk", PkTableJson(1)).ok());
  const int64_t id = TableId("pk");
  int64_t log_end = -1;
  ASSERT_TRUE(PutKv(id, 0, KvBatch({Upsert(1, "a", 10), Upsert(2, "b", 20), Upsert(3, "c", 30)}),
                    {}, &log_end)
                  .ok());
  EXPECT_EQ(log_end, 3);

  auto rows = Lookup(id, 0, {1, 2, 4, 3});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ((*rows)[0], KvRow(1, "a", 10));
  EXPECT_EQ((*rows)[1], KvRow(2, "b", 20));
  EXPECT_FALSE((*rows)[2].has_value());
  EXPECT_EQ((*rows)[3], KvRow(3, "c", 30));

  // An update, a delete and a delete of a missing key in one batch.
  ASSERT_TRUE(
      PutKv(id, 0, KvBatch({Upsert(2, "bb", 200), Delete(3), Delete(9)}), {}, &log_end).ok());
  EXPECT_EQ(log_end, 6);
  EXPECT_EQ(LookupOne(id, 2), KvRow(2, "bb", 200));
  EXPECT_FALSE(LookupOne(id, 3).has_value());
  EXPECT_EQ(*RowCount(id), 2);

  // Partial update of `score` (with the key column): `name` keeps its value.
  ASSERT_TRUE(PutKv(id, 0, KvBatch({Upsert(1, std::nullopt, 11)}), {0, 2}).ok());
  EXPECT_EQ(LookupOne(id, 1), KvRow(1, "a", 11));
  // A partial update of a new key leaves the other columns null.
  ASSERT_TRUE(PutKv(id, 0, KvBatch({Upsert(5, std::nullopt, 50)}), {0, 2}).ok());
  EXPECT_EQ(LookupOne(id, 5), KvRow(5, std::nullopt, 50));
  EXPECT_EQ(*RowCount(id), 3);

  int64_t hw = -1;
  EXPECT_EQ(Changelog(id, 0, 0, &hw),
            (std::vector<std::string>{"+I(1, a, 10)", "+I(2, b, 20)", "+I(3, c, 30)",
                                      "-U(2, b, 20)", "+U(2, bb, 200)", "-D(3, c, 30)",
                                      "-U(1, a, 10)", "+U(1, a, 11)", "+I(5, null, 50)"}));
  EXPECT_EQ(hw, 9);

  // The changelog with column projection (id, score), as a streaming reader of the table asks.
  {
    proto::FetchLogRequest req;
    req.set_follower_server_id(-1);
    req.set_max_bytes(16 << 20);
    auto* t = req.add_tables_req();
    t->set_table_id(id);
    t->set_projection_pushdown_enabled(true);
    t->add_projected_fields(0);
    t->add_projected_fields(2);
    auto* b = t->add_buckets_req();
    b->set_bucket_id(0);
    b->set_fetch_offset(0);
    b->set_max_fetch_bytes(8 << 20);
    auto resp = Call<ApiKey::kFetchLog>(req);
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    const auto& out = resp->tables_resp(0).buckets_resp(0);
    ASSERT_FALSE(out.has_error_code()) << out.error_message();
    const record::DataType projected = record::DataType::Row(
        {record::DataField{"id", record::DataType::Int().NotNull(), std::nullopt, 0},
         record::DataField{"score", record::DataType::BigInt(), std::nullopt, 2}});
    std::vector<std::string> changes;
    record::LogRecordBatchIterator it(out.records());
    while (true) {
      auto next = it.Next();
      ASSERT_TRUE(next.ok());
      if (!next->has_value()) break;
      if ((*next)->record_count() == 0) continue;
      auto body = record::arrow::DecodeArrowLogBatch(**next, projected);
      ASSERT_TRUE(body.ok()) << body.status().ToString();
      auto rows = body->batch.ToRows();
      for (size_t i = 0; i < rows.size(); ++i) {
        changes.push_back(std::string(record::ChangeTypeShortName(body->change_types[i])) +
                          testing::RenderKvRow(rows[i]));
      }
    }
    EXPECT_EQ(changes, (std::vector<std::string>{"+I(1, 10)", "+I(2, 20)", "+I(3, 30)", "-U(2, 20)",
                                                 "+U(2, 200)", "-D(3, 30)", "-U(1, 10)",
                                                 "+U(1, 11)", "+I(5, 50)"}));
  }

  proto::LimitScanRequest limit;
  limit.set_table_id(id);
  limit.set_bucket_id(0);
  limit.set_limit(10);
  auto scanned = Call<ApiKey::kLimitScan>(limit);
  ASSERT_TRUE(scanned.ok());
  EXPECT_FALSE(scanned->has_error_code()) << scanned->error_message();
  EXPECT_FALSE(scanned->is_log_table());
  auto limited = DecodeValueBatch(scanned->records());
  ASSERT_TRUE(limited.has_value());
  EXPECT_EQ(*limited, (std::vector<GenericRow>{KvRow(1, "a", 11), KvRow(2, "bb", 200),
                                               KvRow(5, std::nullopt, 50)}));
  limit.set_limit(1);
  scanned = Call<ApiKey::kLimitScan>(limit);
  ASSERT_TRUE(scanned.ok());
  EXPECT_EQ(DecodeValueBatch(scanned->records())->size(), 1u);
}

TEST_F(LocalServerKvTest, BadInputGetsFlussErrorsAndWritesNothing) {
  ASSERT_TRUE(CreateTable("pk", PkTableJson(1)).ok());
  ASSERT_TRUE(CreateTable("log", LogTableJson(1)).ok());
  ASSERT_TRUE(CreateTable("nodelete", PkTableJson(1, R"("table.delete.behavior":"DISABLE")")).ok());
  ASSERT_TRUE(CreateTable("first", PkTableJson(1, R"("table.merge-engine":"first_row")")).ok());
  const int64_t pk = TableId("pk");
  const int64_t log = TableId("log");
  const int64_t nodelete = TableId("nodelete");
  const int64_t first = TableId("first");
  ASSERT_TRUE(PutKv(pk, 0, KvBatch({Upsert(1, "a", 10), Upsert(2, "b", 20)})).ok());
  ASSERT_TRUE(PutKv(nodelete, 0, KvBatch({Upsert(1, "a", 10)})).ok());
  ASSERT_TRUE(PutKv(first, 0, KvBatch({Upsert(1, "a", 10)})).ok());
  const std::vector<std::string> before = Changelog(pk);

  // Unknown schema id.
  EXPECT_EQ(PutKv(pk, 0, KvBatch({Upsert(3, "c", 30)}, SchemaId(7))).code(),
            ErrorCode::kSchemaNotExist);
  // Partial update without the key column.
  EXPECT_EQ(PutKv(pk, 0, KvBatch({Upsert(1, "x", 99)}), {1, 2}).code(),
            ErrorCode::kInvalidTargetColumn);
  // A target column that does not exist.
  EXPECT_EQ(PutKv(pk, 0, KvBatch({Upsert(1, "x", 99)}), {0, 7}).code(),
            ErrorCode::kInvalidTargetColumn);
  // Bytes that are no KV batch.
  EXPECT_EQ(PutKv(pk, 0, ByteBuffer("definitely not a kv batch")).code(),
            ErrorCode::kCorruptRecord);
  // A key of the wrong type: BIGINT key bytes for the INT key column.
  {
    ByteBuffer out;
    record::KvRecordBatchBuilder builder(&out, record::KvBatchParams{SchemaId(1)});
    record::CompactedRowCodec big_key({record::DataType::BigInt().NotNull()});
    ByteBuffer key = *big_key.Encode({record::Datum(int64_t{1} << 40)});
    ByteBuffer value =
        *record::CompactedRowCodec(testing::KvFieldTypes()).Encode(KvRow(1, "x", 99));
    ASSERT_TRUE(builder.AppendUpsert(key, value).ok());
    builder.Finish();
    EXPECT_EQ(PutKv(pk, 0, std::move(out)).code(), ErrorCode::kCorruptRecord);
  }
  // A value whose row does not decode with the schema (truncated row bytes), after a good
  // record in the same batch: the whole batch is refused.
  {
    ByteBuffer out;
    record::KvRecordBatchBuilder builder(&out, record::KvBatchParams{SchemaId(1)});
    record::CompactedRowCodec codec(testing::KvFieldTypes());
    ASSERT_TRUE(
        builder.AppendUpsert(EncodeKvKey(KvRow(4, "d", 40)), *codec.Encode(KvRow(4, "d", 40)))
            .ok());
    ByteBuffer value = *codec.Encode(KvRow(5, "a long enough name", 50));
    value.resize(value.size() - 5);
    ASSERT_TRUE(
        builder.AppendUpsert(EncodeKvKey(KvRow(5, std::nullopt, std::nullopt)), value).ok());
    builder.Finish();
    EXPECT_EQ(PutKv(pk, 0, std::move(out)).code(), ErrorCode::kCorruptRecord);
  }
  // A null key column in the value.
  {
    ByteBuffer out;
    record::KvRecordBatchBuilder builder(&out, record::KvBatchParams{SchemaId(1)});
    std::vector<record::DataType> nullable_types = {
        record::DataType::Int(), record::DataType::String(), record::DataType::BigInt()};
    record::GenericRow row = {record::Datum::Null(), record::Datum("n"), record::Datum(int64_t{1})};
    ByteBuffer value = *record::CompactedRowCodec(nullable_types).Encode(row);
    ASSERT_TRUE(
        builder.AppendUpsert(EncodeKvKey(KvRow(6, std::nullopt, std::nullopt)), value).ok());
    builder.Finish();
    EXPECT_EQ(PutKv(pk, 0, std::move(out)).code(), ErrorCode::kCorruptRecord);
  }
  // Unknown bucket, unknown table.
  EXPECT_EQ(PutKv(pk, 5, KvBatch({Upsert(3, "c", 30)})).code(), ErrorCode::kUnknownTableOrBucket);
  EXPECT_EQ(PutKv(pk + 1000, 0, KvBatch({Upsert(3, "c", 30)})).code(),
            ErrorCode::kUnknownTableOrBucket);
  // Bad acks and merge mode fail the whole request.
  EXPECT_EQ(PutKvRaw(pk, 0, KvBatch({Upsert(3, "c", 30)}), {}, 7).status().code(),
            ErrorCode::kInvalidRequiredAcks);
  {
    proto::PutKvRequest req;
    req.set_acks(-1);
    req.set_table_id(pk);
    req.set_timeout_ms(1000);
    req.set_agg_mode(9);
    auto* b = req.add_buckets_req();
    b->set_bucket_id(0);
    b->set_records(KvBatch({Upsert(3, "c", 30)}));
    EXPECT_EQ(Call<ApiKey::kPutKv>(req).status().code(), ErrorCode::kUnknownServerError);
  }
  // Deletes where the table forbids them; partial updates first_row cannot merge.
  EXPECT_EQ(PutKv(nodelete, 0, KvBatch({Upsert(2, "b", 20), Delete(1)})).code(),
            ErrorCode::kDeletionDisabled);
  EXPECT_EQ(PutKv(first, 0, KvBatch({Upsert(1, std::nullopt, 5)}), {0, 2}).code(),
            ErrorCode::kUnknownServerError);

  // Key-value requests on a log table, and ProduceLog into a changelog.
  EXPECT_EQ(PutKv(log, 0, KvBatch({Upsert(1, "a", 10)})).code(), ErrorCode::kNonPrimaryKeyTable);
  EXPECT_EQ(Lookup(log, 0, {1}).status().code(), ErrorCode::kNonPrimaryKeyTable);
  {
    proto::PrefixLookupRequest req;
    req.set_table_id(log);
    auto* b = req.add_buckets_req();
    b->set_bucket_id(0);
    b->add_keys("x");
    auto resp = Call<ApiKey::kPrefixLookup>(req);
    ASSERT_TRUE(resp.ok());
    EXPECT_EQ(resp->buckets_resp(0).error_code(),
              static_cast<int32_t>(ErrorCode::kNonPrimaryKeyTable));
    auto scan = Call<ApiKey::kScanKv>(NewScan(log, 0, 1024));
    ASSERT_TRUE(scan.ok());
    EXPECT_EQ(scan->error_code(), static_cast<int32_t>(ErrorCode::kNonPrimaryKeyTable));
  }
  {
    proto::ProduceLogRequest req;
    req.set_acks(-1);
    req.set_table_id(pk);
    req.set_timeout_ms(1000);
    auto* b = req.add_buckets_req();
    b->set_bucket_id(0);
    b->set_records(testing::ArrowBatch(0, 2));
    auto resp = Call<ApiKey::kProduceLog>(req);
    ASSERT_TRUE(resp.ok());
    EXPECT_EQ(resp->buckets_resp(0).error_code(), static_cast<int32_t>(ErrorCode::kInvalidTable));
  }
  // Lookup or insert without acks and timeout fails the whole request (Fluss's checkArgument).
  {
    proto::LookupRequest req;
    req.set_table_id(pk);
    req.set_insert_if_not_exists(true);
    auto* b = req.add_buckets_req();
    b->set_bucket_id(0);
    b->add_keys(EncodeKvKey(KvRow(4, std::nullopt, std::nullopt)));
    EXPECT_EQ(Call<ApiKey::kLookup>(req).status().code(), ErrorCode::kUnknownServerError);
  }

  // Nothing was written and the server still serves.
  EXPECT_EQ(Changelog(pk), before);
  EXPECT_EQ(LookupOne(pk, 1), KvRow(1, "a", 10));
  EXPECT_EQ(LookupOne(pk, 2), KvRow(2, "b", 20));
  for (int32_t missing : {3, 4, 5, 6}) EXPECT_FALSE(LookupOne(pk, missing).has_value());
  EXPECT_EQ(*RowCount(pk), 2);
  EXPECT_EQ(LookupOne(nodelete, 1), KvRow(1, "a", 10));
  EXPECT_FALSE(LookupOne(nodelete, 2).has_value());
  EXPECT_EQ(LookupOne(first, 1), KvRow(1, "a", 10));
  ASSERT_TRUE(PutKv(pk, 0, KvBatch({Upsert(3, "c", 30)})).ok());
  EXPECT_EQ(*RowCount(pk), 3);
}

// Fluss's lookup-or-insert: absent keys get a row of their key columns (the auto-increment
// column numbered, the rest null) through an ordinary PutKv (changelog +I, acknowledged), and
// the lookup answers the resulting values; present keys are answered unchanged.
TEST_F(LocalServerKvTest, LookupWithInsertIfNotExistsInsertsAbsentKeys) {
  // (id INT PRIMARY KEY, name STRING, score BIGINT AUTO_INCREMENT), 3 buckets.
  std::string json = PkTableJson(3);
  json.replace(json.find(R"("highest_field_id")"), 0, R"("auto_increment_column":["score"],)");
  ASSERT_TRUE(CreateTable("auto", json).ok()) << json;
  const int64_t id = TableId("auto");
  auto bucket_of = [](int32_t key) {
    return KvBucketOf(EncodeKvKey(KvRow(key, std::nullopt, std::nullopt)), 3);
  };
  // Key 1 exists (written as a partial update of id and name: score numbered by the server).
  ASSERT_TRUE(PutKv(id, bucket_of(1), KvBatch({Upsert(1, "one", std::nullopt)}), {0, 1}).ok());
  auto one = LookupOne(id, 1, bucket_of(1));
  ASSERT_TRUE(one.has_value());
  const int64_t one_score = (*one)[2].as<int64_t>();

  std::map<int32_t, std::vector<int32_t>> ids;
  for (int32_t key = 1; key <= 12; ++key) ids[bucket_of(key)].push_back(key);
  ASSERT_GE(ids.size(), 2u);
  std::map<int32_t, std::vector<std::string>> before;
  for (const auto& [bucket, keys] : ids) before[bucket] = Changelog(id, bucket);

  auto first = LookupInsert(id, ids);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::set<int64_t> scores = {one_score};
  std::map<int32_t, GenericRow> rows;
  for (const auto& [bucket, keys] : ids) {
    for (size_t i = 0; i < keys.size(); ++i) {
      const auto& row = first->at(bucket)[i];
      ASSERT_TRUE(row.has_value()) << keys[i];
      rows[keys[i]] = *row;
      if (keys[i] == 1) {
        EXPECT_EQ(*row, *one);
        continue;
      }
      EXPECT_EQ((*row)[0], record::Datum(keys[i]));
      EXPECT_TRUE((*row)[1].is_null());
      ASSERT_FALSE((*row)[2].is_null());
      EXPECT_TRUE(scores.insert((*row)[2].as<int64_t>()).second) << "score repeats";
    }
    // The changelog gained one +I per inserted key of the bucket, nothing else.
    std::vector<std::string> log = Changelog(id, bucket);
    const size_t inserted = keys.size() - (bucket == bucket_of(1) ? 1 : 0);
    ASSERT_EQ(log.size(), before[bucket].size() + inserted);
    for (size_t i = before[bucket].size(); i < log.size(); ++i) {
      EXPECT_EQ(log[i].substr(0, 2), "+I") << log[i];
    }
  }
  EXPECT_EQ(scores.size(), 12u);

  // Again: the same rows, nothing written; a plain lookup sees them too.
  std::map<int32_t, std::vector<std::string>> after;
  for (const auto& [bucket, keys] : ids) after[bucket] = Changelog(id, bucket);
  auto second = LookupInsert(id, ids);
  ASSERT_TRUE(second.ok());
  for (const auto& [bucket, keys] : ids) {
    for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(second->at(bucket)[i], rows[keys[i]]);
    EXPECT_EQ(Changelog(id, bucket), after[bucket]);
  }
  EXPECT_EQ(LookupOne(id, 7, bucket_of(7)), rows[7]);
  int64_t total = 0;
  for (int32_t b = 0; b < 3; ++b) total += *RowCount(id, b);
  EXPECT_EQ(total, 12);
  // Ids keep counting from where the lookups left them.
  ASSERT_TRUE(PutKv(id, bucket_of(40), KvBatch({Upsert(40, "x", std::nullopt)}), {0, 1}).ok());
  EXPECT_FALSE(scores.count((*LookupOne(id, 40, bucket_of(40)))[2].as<int64_t>()));

  // The same absent key twice in one request (concurrent lookups a client batched together):
  // one +I, the second record only touches the key and changes nothing (Fluss's
  // PartialUpdater returns the old value), both answers are the inserted row.
  {
    const int32_t b50 = bucket_of(50);
    const size_t log_before = Changelog(id, b50).size();
    auto twice = LookupInsert(id, {{b50, {50, 50}}});
    ASSERT_TRUE(twice.ok());
    ASSERT_TRUE(twice->at(b50)[0].has_value());
    EXPECT_EQ(twice->at(b50)[0], twice->at(b50)[1]);
    EXPECT_EQ(Changelog(id, b50).size(), log_before + 1);
  }

  // A table without an auto-increment column: absent keys get (key, null, null).
  ASSERT_TRUE(CreateTable("plain", PkTableJson(1)).ok());
  const int64_t plain = TableId("plain");
  auto inserted = LookupInsert(plain, {{0, {5, 6}}});
  ASSERT_TRUE(inserted.ok());
  EXPECT_EQ(inserted->at(0)[0], KvRow(5, std::nullopt, std::nullopt));
  EXPECT_EQ(LookupOne(plain, 6), KvRow(6, std::nullopt, std::nullopt));
}

TEST_F(LocalServerKvTest, LookupWithInsertIfNotExistsFailsAsAPartialUpdateWould) {
  // A NOT NULL non-key column cannot be left null: INVALID_TARGET_COLUMN, nothing written.
  std::string json = PkTableJson(1);
  json.replace(json.find(R"({"type":"STRING"})"), 17, R"({"type":"STRING","nullable":false})");
  ASSERT_TRUE(CreateTable("notnull", json).ok()) << json;
  const int64_t notnull = TableId("notnull");
  EXPECT_EQ(LookupInsert(notnull, {{0, {1}}}).status().code(), ErrorCode::kInvalidTargetColumn);
  EXPECT_TRUE(Changelog(notnull).empty());
  // first_row refuses partial updates (Fluss: UnsupportedOperationException).
  ASSERT_TRUE(CreateTable("first", PkTableJson(1, R"("table.merge-engine":"first_row")")).ok());
  const int64_t first = TableId("first");
  EXPECT_EQ(LookupInsert(first, {{0, {1}}}).status().code(), ErrorCode::kUnknownServerError);
  EXPECT_FALSE(LookupOne(first, 1).has_value());
  // Key bytes that are no key of the table: the bucket fails, nothing is written.
  {
    proto::LookupRequest req;
    req.set_table_id(notnull);
    req.set_insert_if_not_exists(true);
    req.set_acks(-1);
    req.set_timeout_ms(30000);
    auto* b = req.add_buckets_req();
    b->set_bucket_id(0);
    b->add_keys("\xff\xff");
    auto resp = Call<ApiKey::kLookup>(req);
    ASSERT_TRUE(resp.ok());
    EXPECT_EQ(resp->buckets_resp(0).error_code(),
              static_cast<int32_t>(ErrorCode::kCorruptRecord));
  }
  // A log table and an unknown bucket answer as plain lookups do.
  ASSERT_TRUE(CreateTable("log", LogTableJson(1)).ok());
  EXPECT_EQ(LookupInsert(TableId("log"), {{0, {1}}}).status().code(),
            ErrorCode::kNonPrimaryKeyTable);
  EXPECT_EQ(LookupInsert(notnull, {{4, {1}}}).status().code(), ErrorCode::kUnknownTableOrBucket);
  EXPECT_TRUE(Changelog(notnull).empty());
}

TEST_F(LocalServerKvTest, IdempotentWriterRetriesApplyOnce) {
  ASSERT_TRUE(CreateTable("pk", PkTableJson(1)).ok());
  const int64_t id = TableId("pk");
  auto writer = Call<ApiKey::kInitWriter>(proto::InitWriterRequest());
  ASSERT_TRUE(writer.ok());
  const WriterId w(writer->writer_id());
  int64_t end1 = -1;
  int64_t end2 = -1;
  ByteBuffer batch =
      KvBatch({Upsert(1, "a", 10), Upsert(2, "b", 20)}, SchemaId(1), w, BatchSequence(0));
  ASSERT_TRUE(PutKv(id, 0, batch, {}, &end1).ok());
  // The retry of an acknowledged batch succeeds with the original offsets and applies nothing.
  ASSERT_TRUE(PutKv(id, 0, batch, {}, &end2).ok());
  EXPECT_EQ(end1, end2);
  ASSERT_TRUE(PutKv(id, 0, KvBatch({Upsert(1, "a2", 11)}, SchemaId(1), w, BatchSequence(1))).ok());
  // A gap in the sequence is refused.
  EXPECT_EQ(PutKv(id, 0, KvBatch({Upsert(9, "z", 90)}, SchemaId(1), w, BatchSequence(5))).code(),
            ErrorCode::kOutOfOrderSequence);
  EXPECT_EQ(Changelog(id), (std::vector<std::string>{"+I(1, a, 10)", "+I(2, b, 20)", "-U(1, a, 10)",
                                                     "+U(1, a2, 11)"}));
  EXPECT_FALSE(LookupOne(id, 9).has_value());
  EXPECT_EQ(*RowCount(id), 2);
}

TEST_F(LocalServerKvTest, BucketsRouteByKeyAndPrefixLookupUsesTheBucketKey) {
  constexpr int kBuckets = 3;
  ASSERT_TRUE(CreateTable("c", CompositePkTableJson(kBuckets)).ok());
  const int64_t id = TableId("c");
  // (a, b) for a in 1..6, b in {x, y, z}; routed by the bucket key a.
  std::map<int32_t, std::vector<KvOp>> per_bucket;
  std::map<int32_t, int32_t> bucket_of_a;
  for (int32_t a = 1; a <= 6; ++a) {
    GenericRow key_row = {record::Datum(a), record::Datum("x"), record::Datum::Null()};
    int32_t bucket = KvBucketOf(EncodeKvKey(key_row, {"a"}, true), kBuckets);
    ASSERT_GE(bucket, 0);
    bucket_of_a[a] = bucket;
    for (const char* b : {"x", "y", "z"}) {
      per_bucket[bucket].push_back(
          KvOp{{record::Datum(a), record::Datum(std::string(b)), record::Datum(int64_t{a} * 100)},
               false});
    }
  }
  int64_t total = 0;
  for (auto& [bucket, ops] : per_bucket) {
    ASSERT_TRUE(
        PutKv(id, bucket, KvBatch(ops, SchemaId(1), kNoWriterId, kNoBatchSequence, true)).ok());
  }
  for (int32_t b = 0; b < kBuckets; ++b) total += *RowCount(id, b);
  EXPECT_EQ(total, 18);

  // Prefix lookups: every a of its bucket, plus an a that is nowhere.
  for (auto& [bucket, ops] : per_bucket) {
    proto::PrefixLookupRequest req;
    req.set_table_id(id);
    auto* b = req.add_buckets_req();
    b->set_bucket_id(bucket);
    std::vector<int32_t> as;
    for (const auto& [a, bk] : bucket_of_a) {
      if (bk != bucket) continue;
      as.push_back(a);
      b->add_keys(
          EncodeKvKey({record::Datum(a), record::Datum("x"), record::Datum::Null()}, {"a"}, true));
    }
    b->add_keys(EncodeKvKey({record::Datum(int32_t{77}), record::Datum("x"), record::Datum::Null()},
                            {"a"}, true));
    auto resp = Call<ApiKey::kPrefixLookup>(req);
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    const auto& out = resp->buckets_resp(0);
    ASSERT_FALSE(out.has_error_code()) << out.error_message();
    ASSERT_EQ(out.value_lists_size(), static_cast<int>(as.size()) + 1);
    for (size_t i = 0; i < as.size(); ++i) {
      std::vector<std::string> got;
      for (const auto& v : out.value_lists(static_cast<int>(i)).values()) {
        auto row = DecodeKvValue(v, true);
        ASSERT_TRUE(row.has_value());
        EXPECT_EQ((*row)[0].as<int32_t>(), as[i]);
        EXPECT_EQ((*row)[2].as<int64_t>(), int64_t{as[i]} * 100);
        got.push_back((*row)[1].as<std::string>());
      }
      EXPECT_EQ(got, (std::vector<std::string>{"x", "y", "z"}));
    }
    EXPECT_EQ(out.value_lists(static_cast<int>(as.size())).values_size(), 0);
  }
}

TEST_F(LocalServerKvTest, ScanKvPagesThroughASnapshot) {
  ASSERT_TRUE(CreateTable("pk", PkTableJson(1)).ok());
  const int64_t id = TableId("pk");

  // An empty bucket: no session, only the offset.
  auto empty = Call<ApiKey::kScanKv>(NewScan(id, 0, 1024));
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_error_code());
  EXPECT_FALSE(empty->has_more_results());
  EXPECT_FALSE(empty->has_scanner_id());
  EXPECT_EQ(empty->log_offset(), 0);

  std::vector<KvOp> ops;
  std::vector<GenericRow> expected;
  for (int32_t i = 0; i < 100; ++i) {
    ops.push_back(Upsert(i, "row-" + std::to_string(i), i));
    expected.push_back(KvRow(i, "row-" + std::to_string(i), i));
  }
  ASSERT_TRUE(PutKv(id, 0, KvBatch(ops)).ok());

  // Open a scan, then change the table: the scan keeps seeing the state it started from.
  auto first = Call<ApiKey::kScanKv>(NewScan(id, 0, 200));
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->has_error_code()) << first->error_message();
  ASSERT_TRUE(first->has_more_results());
  EXPECT_EQ(first->log_offset(), 100);
  EXPECT_EQ(first->scanner_id().size(), 32u);
  ASSERT_TRUE(PutKv(id, 0, KvBatch({Delete(0), Delete(50), Upsert(500, "new", 1)})).ok());
  std::vector<GenericRow> rows = *DecodeValueBatch(first->records());
  EXPECT_GE(rows.size(), 1u);
  EXPECT_LT(rows.size(), 100u);
  std::string scanner = first->scanner_id();
  int32_t seq = 0;
  bool more = true;
  while (more) {
    auto page = Call<ApiKey::kScanKv>(Continue(scanner, ++seq, 200));
    ASSERT_TRUE(page.ok());
    ASSERT_FALSE(page->has_error_code()) << page->error_message();
    EXPECT_EQ(page->scanner_id(), scanner);
    EXPECT_FALSE(page->has_log_offset());
    auto decoded = DecodeValueBatch(page->records());
    ASSERT_TRUE(decoded.has_value());
    rows.insert(rows.end(), decoded->begin(), decoded->end());
    more = page->has_more_results();
    ASSERT_LT(seq, 200);
  }
  EXPECT_EQ(rows, expected);
  // The finished session is gone.
  auto after = Call<ApiKey::kScanKv>(Continue(scanner, ++seq, 200));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->error_code(), static_cast<int32_t>(ErrorCode::kUnknownScannerId));

  // A new scan sees the new state; one big page holds it all.
  int pages = 0;
  auto now = ScanAll(id, 0, 1 << 20, &pages);
  EXPECT_EQ(pages, 1);
  ASSERT_EQ(now.size(), 99u);
  EXPECT_EQ(now.back(), KvRow(500, "new", 1));

  // A row limit.
  auto limited = Call<ApiKey::kScanKv>(NewScan(id, 0, 1 << 20, 5));
  ASSERT_TRUE(limited.ok());
  EXPECT_FALSE(limited->has_more_results());
  EXPECT_EQ(DecodeValueBatch(limited->records())->size(), 5u);
}

TEST_F(LocalServerKvTest, ScanKvRequestErrors) {
  ASSERT_TRUE(CreateTable("pk", PkTableJson(1)).ok());
  const int64_t id = TableId("pk");
  std::vector<KvOp> ops;
  for (int32_t i = 0; i < 20; ++i) ops.push_back(Upsert(i, "r", i));
  ASSERT_TRUE(PutKv(id, 0, KvBatch(ops)).ok());
  auto code = [](const Result<proto::ScanKvResponse>& r) {
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->error_code() : -100;
  };
  const int32_t invalid = static_cast<int32_t>(ErrorCode::kInvalidScanRequest);

  proto::ScanKvRequest both = NewScan(id, 0, 100);
  both.set_scanner_id("abc");
  EXPECT_EQ(code(Call<ApiKey::kScanKv>(both)), invalid);
  EXPECT_EQ(code(Call<ApiKey::kScanKv>(proto::ScanKvRequest())), invalid);
  proto::ScanKvRequest no_size = NewScan(id, 0, 100);
  no_size.clear_batch_size_bytes();
  EXPECT_EQ(code(Call<ApiKey::kScanKv>(no_size)), invalid);
  EXPECT_EQ(code(Call<ApiKey::kScanKv>(NewScan(id, 0, 0))), invalid);
  proto::ScanKvRequest open_and_close = NewScan(id, 0, 100);
  open_and_close.set_close_scanner(true);
  EXPECT_EQ(code(Call<ApiKey::kScanKv>(open_and_close)), invalid);
  EXPECT_EQ(code(Call<ApiKey::kScanKv>(NewScan(id, 3, 100))),
            static_cast<int32_t>(ErrorCode::kUnknownTableOrBucket));
  EXPECT_EQ(code(Call<ApiKey::kScanKv>(Continue("no-such-scanner", 1, 100))),
            static_cast<int32_t>(ErrorCode::kUnknownScannerId));

  // An out-of-order call_seq_id ends the session.
  auto open = Call<ApiKey::kScanKv>(NewScan(id, 0, 10));
  ASSERT_TRUE(open.ok());
  ASSERT_TRUE(open->has_more_results());
  EXPECT_EQ(code(Call<ApiKey::kScanKv>(Continue(open->scanner_id(), 5, 10))), invalid);
  EXPECT_EQ(code(Call<ApiKey::kScanKv>(Continue(open->scanner_id(), 1, 10))),
            static_cast<int32_t>(ErrorCode::kUnknownScannerId));

  // An explicit close, and a close of an unknown id (answered, not an error).
  open = Call<ApiKey::kScanKv>(NewScan(id, 0, 10));
  ASSERT_TRUE(open.ok());
  proto::ScanKvRequest close;
  close.set_scanner_id(open->scanner_id());
  close.set_close_scanner(true);
  auto closed = Call<ApiKey::kScanKv>(close);
  ASSERT_TRUE(closed.ok());
  EXPECT_FALSE(closed->has_error_code());
  EXPECT_FALSE(closed->has_more_results());
  EXPECT_EQ(closed->scanner_id(), open->scanner_id());
  closed = Call<ApiKey::kScanKv>(close);
  ASSERT_TRUE(closed.ok());
  EXPECT_FALSE(closed->has_error_code());

  // Per-bucket session limit (kv.scanner.max-per-bucket = 8).
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) {
    auto s = Call<ApiKey::kScanKv>(NewScan(id, 0, 10));
    ASSERT_TRUE(s.ok());
    ASSERT_FALSE(s->has_error_code()) << s->error_message();
    ids.push_back(s->scanner_id());
  }
  EXPECT_EQ(code(Call<ApiKey::kScanKv>(NewScan(id, 0, 10))),
            static_cast<int32_t>(ErrorCode::kTooManyScanners));
  close.set_scanner_id(ids[0]);
  ASSERT_TRUE(Call<ApiKey::kScanKv>(close).ok());
  EXPECT_EQ(code(Call<ApiKey::kScanKv>(NewScan(id, 0, 10))), 0);

  // Dropping the table ends its sessions; their ids then report expiry.
  proto::DropTableRequest drop;
  *drop.mutable_table_path() = Path("db", "pk");
  drop.set_ignore_if_not_exists(false);
  ASSERT_TRUE(Call<ApiKey::kDropTable>(drop).ok());
  EXPECT_EQ(code(Call<ApiKey::kScanKv>(Continue(ids[1], 1, 10))),
            static_cast<int32_t>(ErrorCode::kScannerExpired));
}

TEST_F(LocalServerKvTest, StateSurvivesRestartsAndDropDeletesIt) {
  ASSERT_TRUE(CreateTable("pk", PkTableJson(2)).ok());
  const int64_t id = TableId("pk");
  std::map<int32_t, GenericRow> model;
  auto put = [&](int32_t first, int32_t count, const std::string& tag) {
    std::map<int32_t, std::vector<KvOp>> per_bucket;
    for (int32_t i = first; i < first + count; ++i) {
      GenericRow row = KvRow(i, tag + std::to_string(i), i);
      per_bucket[KvBucketOf(EncodeKvKey(row), 2)].push_back(KvOp{row, false});
      model[i] = row;
    }
    for (auto& [bucket, ops] : per_bucket) ASSERT_TRUE(PutKv(id, bucket, KvBatch(ops)).ok());
  };
  put(0, 300, "a");
  StopServer();  // clean: checkpoints every KV tablet
  StartServer();
  put(200, 200, "b");
  for (int round = 0; round < 2; ++round) {
    std::map<int32_t, GenericRow> seen;
    int64_t rows = 0;
    for (int32_t bucket = 0; bucket < 2; ++bucket) {
      for (GenericRow& row : ScanAll(id, bucket, 4096)) seen[row[0].as<int32_t>()] = row;
      rows += *RowCount(id, bucket);
    }
    EXPECT_EQ(seen, model);
    EXPECT_EQ(rows, 400);
    for (int32_t probe : {0, 199, 200, 399}) {
      GenericRow key = KvRow(probe, std::nullopt, std::nullopt);
      EXPECT_EQ(LookupOne(id, probe, KvBucketOf(EncodeKvKey(key), 2)), model[probe]);
    }
    StopServer();
    StartServer();
  }
  const fs::path table_dir = dir_ / "db" / fmt::format("pk-{}", id);
  EXPECT_TRUE(fs::exists(table_dir / "kv-0" / "checkpoints"));
  proto::DropTableRequest drop;
  *drop.mutable_table_path() = Path("db", "pk");
  drop.set_ignore_if_not_exists(false);
  ASSERT_TRUE(Call<ApiKey::kDropTable>(drop).ok());
  EXPECT_FALSE(fs::exists(table_dir));
  // A new table of the same name starts empty.
  ASSERT_TRUE(CreateTable("pk", PkTableJson(2)).ok());
  const int64_t id2 = TableId("pk");
  EXPECT_EQ(*RowCount(id2, 0) + *RowCount(id2, 1), 0);
}

}  // namespace
}  // namespace strom::server
