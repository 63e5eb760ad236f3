// Crash recovery of primary-key tables in the real `strom-server local` binary: a seeded random
// stream of upserts, deletes and partial updates runs against the server, which is killed
// with SIGKILL while writes are in flight, restarted, and compared (Lookup of every key and a
// full SCAN_KV of every bucket) with an in-memory model of every acknowledged write. A write
// that was in flight at the kill may or may not be there, but only as a whole. Periodic KV
// checkpoints run during the stream, so later rounds recover from a checkpoint plus a tail.
// Replay a failure with STROM_TEST_SEED=<seed> (printed with every failure).

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "integration/server_process.h"
#include "rpc/connection.h"
#include "server/server_kv_test_util.h"
#include "server/server_test_util.h"
#include "testutil/run_task.h"
#include "testutil/seed.h"

namespace strom {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using proto::ApiKey;
using record::GenericRow;
using server::testing::DecodeKvValue;
using server::testing::DecodeValueBatch;
using server::testing::EncodeKvKey;
using server::testing::KvBatch;
using server::testing::KvBucketOf;
using server::testing::KvOp;
using server::testing::KvRow;
using server::testing::Path;
using server::testing::PkTableJson;
using testutil::RunTask;

constexpr auto kCallTimeout = 10s;
constexpr int kBuckets = 2;
constexpr int kLanes = 4;  // two per bucket, on disjoint keys
constexpr int kKeys = 400;

/// One write request of a lane: whole-row upserts and deletes, or partial updates of `score`.
struct LaneWrite {
  std::vector<KvOp> ops;
  bool partial = false;
};

using Model = std::map<int32_t, GenericRow>;

void Apply(const LaneWrite& write, Model* model) {
  for (const KvOp& op : write.ops) {
    const int32_t id = op.row[0].as<int32_t>();
    if (op.is_delete) {
      model->erase(id);
    } else if (write.partial) {
      auto it = model->find(id);
      if (it == model->end()) {
        (*model)[id] = KvRow(id, std::nullopt, op.row[2].as<int64_t>());
      } else {
        it->second[2] = op.row[2];
      }
    } else {
      (*model)[id] = op.row;
    }
  }
}

class KvCrashProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("strom-kv-crash-{}", ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    config_ = (dir_ / "server.yaml").string();
    std::ofstream(config_) << "kv.snapshot.interval: 300 ms\n"
                              "kv.rocksdb.writebuffer.size: 1mb\n"
                              "kv.rocksdb.block.cache-size: 1mb\n";
    // Which lane owns each key: its bucket decides the first half of the lane number.
    for (int32_t id = 0; id < kKeys; ++id) {
      int32_t bucket = KvBucketOf(EncodeKvKey(KvRow(id, std::nullopt, std::nullopt)), kBuckets);
      ASSERT_GE(bucket, 0);
      bucket_of_[id] = bucket;
      lane_keys_[bucket * 2 + id % 2].push_back(id);
    }
  }
  void TearDown() override {
    if (conn_) RunTask(io_, conn_->CloseAndWait());
    conn_.reset();
    server_.reset();
    fs::remove_all(dir_);
  }

  void Launch() {
    if (conn_) {
      conn_->Close();
      conn_.reset();
    }
    server_ = testing::ServerProcess::Start(STROM_SERVER_BIN, (dir_ / "data").string(), 60s,
                                            {"--config", config_});
    ASSERT_NE(server_, nullptr) << "strom-server did not start";
    auto conn = RunTask(io_, rpc::Connection::Connect(io_.get_executor(), "127.0.0.1",
                                                      server_->port(), rpc::ConnectionOptions()));
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = *conn;
  }

  template <ApiKey kKey>
  Result<typename rpc::ApiTraits<kKey>::Response> Call(
      typename rpc::ApiTraits<kKey>::Request request) {
    return RunTask(io_, conn_->Call<kKey>(std::move(request), kCallTimeout));
  }

  /// A random write for `lane`.
  LaneWrite RandomWrite(int lane, std::mt19937_64& rng) {
    const std::vector<int32_t>& keys = lane_keys_[lane];
    LaneWrite write;
    write.partial = rng() % 4 == 0;
    const int count = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < count; ++i) {
      int32_t id = keys[rng() % keys.size()];
      int64_t score = static_cast<int64_t>(rng() % 1000000);
      if (write.partial) {
        write.ops.push_back(KvOp{KvRow(id, std::nullopt, score), false});
      } else if (rng() % 5 == 0) {
        write.ops.push_back(KvOp{KvRow(id, std::nullopt, std::nullopt), true});
      } else {
        std::string name = "n" + std::to_string(rng() % 100000);
        write.ops.push_back(KvOp{KvRow(id, name, score), false});
      }
    }
    return write;
  }

  /// Runs the lanes until the server is killed after `kill_after` acknowledged writes.
  /// Acknowledged writes go into `model`; each lane's write in flight at the kill, if any,
  /// is returned.
  std::vector<std::optional<LaneWrite>> StreamAndKill(int64_t table_id, uint64_t seed,
                                                      int kill_after, Model* model) {
    std::vector<std::optional<LaneWrite>> in_flight(kLanes);
    int acked = 0;
    int running = kLanes;
    auto lane_task = [&](int lane) -> Task<void> {
      struct Done {
        int* running;
        ~Done() { --*running; }
      } done{&running};
      std::mt19937_64 rng(seed * 31 + static_cast<uint64_t>(lane));
      const int32_t bucket = lane / 2;
      for (int n = 0; n < 100000; ++n) {
        LaneWrite write = RandomWrite(lane, rng);
        in_flight[lane] = write;
        proto::PutKvRequest req;
        req.set_acks(-1);
        req.set_table_id(table_id);
        req.set_timeout_ms(30000);
        req.set_agg_mode(0);
        if (write.partial) {
          req.add_target_columns(0);
          req.add_target_columns(2);
        }
        auto* b = req.add_buckets_req();
        b->set_bucket_id(bucket);
        b->set_records(KvBatch(write.ops));
        auto resp = co_await conn_->Call<ApiKey::kPutKv>(std::move(req), kCallTimeout);
        if (!resp.ok()) co_return;  // the server is gone: the write stays "in flight"
        EXPECT_FALSE(resp->buckets_resp(0).has_error_code())
            << resp->buckets_resp(0).error_message();
        if (resp->buckets_resp(0).has_error_code()) co_return;
        Apply(write, model);
        in_flight[lane].reset();
        ++acked;
      }
    };
    auto killer = [&]() -> Task<void> {
      asio::steady_timer timer(co_await asio::this_coro::executor);
      // Stops early when every lane has given up (a failed write already failed the test).
      while (acked < kill_after && running > 0) {
        timer.expires_after(1ms);
        co_await timer.async_wait(kAwaitTuple);
      }
      // Then a random moment within the next few requests, so that the kill lands before,
      // during or after the server's handling of the writes in flight.
      timer.expires_after(std::chrono::microseconds(seed % 4000));
      co_await timer.async_wait(kAwaitTuple);
      server_->Kill();
    };
    auto run = [&]() -> Task<void> {
      using namespace asio::experimental::awaitable_operators;  // NOLINT
      co_await (lane_task(0) && lane_task(1) && lane_task(2) && lane_task(3) && killer());
    };
    RunTask(io_, run());
    EXPECT_GE(acked, kill_after);
    return in_flight;
  }

  /// The state after a restart: every key by Lookup, and every bucket by SCAN_KV.
  Model ReadState(int64_t table_id) {
    Model by_lookup;
    std::map<int32_t, std::vector<int32_t>> per_bucket;
    for (const auto& [id, bucket] : bucket_of_) per_bucket[bucket].push_back(id);
    for (const auto& [bucket, ids] : per_bucket) {
      proto::LookupRequest req;
      req.set_table_id(table_id);
      auto* b = req.add_buckets_req();
      b->set_bucket_id(bucket);
      for (int32_t id : ids) b->add_keys(EncodeKvKey(KvRow(id, std::nullopt, std::nullopt)));
      auto resp = Call<ApiKey::kLookup>(req);
      EXPECT_TRUE(resp.ok()) << resp.status().ToString();
      if (!resp.ok()) return {};
      const auto& out = resp->buckets_resp(0);
      EXPECT_FALSE(out.has_error_code()) << out.error_message();
      EXPECT_EQ(out.values_size(), static_cast<int>(ids.size()));
      for (int i = 0; i < out.values_size() && i < static_cast<int>(ids.size()); ++i) {
        if (!out.values(i).has_values()) continue;
        auto row = DecodeKvValue(out.values(i).values());
        EXPECT_TRUE(row.has_value());
        if (row) by_lookup[ids[i]] = *row;
      }
    }
    Model by_scan;
    for (int32_t bucket = 0; bucket < kBuckets; ++bucket) {
      proto::ScanKvRequest req;
      auto* b = req.mutable_bucket_scan_req();
      b->set_table_id(table_id);
      b->set_bucket_id(bucket);
      req.set_call_seq_id(0);
      req.set_batch_size_bytes(2048);
      for (int page = 0; page < 10000; ++page) {
        auto resp = Call<ApiKey::kScanKv>(req);
        EXPECT_TRUE(resp.ok()) << resp.status().ToString();
        if (!resp.ok()) break;
        EXPECT_FALSE(resp->has_error_code()) << resp->error_message();
        auto rows = DecodeValueBatch(resp->records());
        EXPECT_TRUE(rows.has_value());
        if (rows) {
          for (GenericRow& row : *rows) {
            const int32_t id = row[0].as<int32_t>();
            EXPECT_EQ(bucket_of_[id], bucket) << "key " << id << " in the wrong bucket";
            by_scan[id] = std::move(row);
          }
        }
        if (!resp->has_more_results()) break;
        proto::ScanKvRequest next;
        next.set_scanner_id(resp->scanner_id());
        next.set_call_seq_id(page + 1);
        next.set_batch_size_bytes(2048);
        req = std::move(next);
      }
    }
    EXPECT_EQ(by_lookup, by_scan) << "Lookup and SCAN_KV disagree";
    return by_lookup;
  }

  fs::path dir_;
  std::string config_;
  std::map<int32_t, int32_t> bucket_of_;
  std::map<int, std::vector<int32_t>> lane_keys_;
  asio::io_context io_;
  std::unique_ptr<testing::ServerProcess> server_;
  std::shared_ptr<rpc::Connection> conn_;
};

TEST_F(KvCrashProcessTest, KillDuringUpsertsKeepsEveryAcknowledgedWrite) {
  const uint64_t seed = testutil::TestSeed();
  std::mt19937_64 rng(seed);
  Launch();
  proto::CreateDatabaseRequest db;
  db.set_database_name("db");
  db.set_ignore_if_exists(true);
  ASSERT_TRUE(Call<ApiKey::kCreateDatabase>(db).ok());
  proto::CreateTableRequest create;
  *create.mutable_table_path() = Path("db", "kv");
  create.set_table_json(PkTableJson(kBuckets));
  create.set_ignore_if_exists(false);
  ASSERT_TRUE(Call<ApiKey::kCreateTable>(create).ok());
  proto::GetTableInfoRequest info;
  *info.mutable_table_path() = Path("db", "kv");
  auto table = Call<ApiKey::kGetTableInfo>(info);
  ASSERT_TRUE(table.ok());
  const int64_t table_id = table->table_id();

  Model model;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(fmt::format("round {}", round));
    const int kill_after = 40 + static_cast<int>(rng() % 120);
    auto in_flight =
        StreamAndKill(table_id, seed + static_cast<uint64_t>(round), kill_after, &model);
    int pending = 0;
    for (const auto& write : in_flight) pending += write.has_value() ? 1 : 0;
    Launch();
    Model state = ReadState(table_id);
    int applied = 0;
    // Per lane: the acknowledged state, plus its in-flight write wholly or not at all.
    for (int lane = 0; lane < kLanes; ++lane) {
      Model expected_without;
      Model got;
      for (int32_t id : lane_keys_[lane]) {
        if (auto it = model.find(id); it != model.end()) expected_without[id] = it->second;
        if (auto it = state.find(id); it != state.end()) got[id] = it->second;
      }
      if (got == expected_without) continue;
      ASSERT_TRUE(in_flight[lane].has_value())
          << "lane " << lane << " lost or changed acknowledged writes";
      Model expected_with = expected_without;
      Apply(*in_flight[lane], &expected_with);
      ASSERT_EQ(got, expected_with) << "lane " << lane << ": a torn or foreign write";
      Apply(*in_flight[lane], &model);  // it was applied: it is part of the history now
      ++applied;
    }
    ASSERT_EQ(state, model);
    std::printf(
        "round %d: killed after %d acknowledged writes, %d in flight (%d of them "
        "applied), %zu live keys\n",
        round, kill_after, pending, applied, model.size());
  }
  // The recovered server keeps taking writes.
  proto::PutKvRequest req;
  req.set_acks(-1);
  req.set_table_id(table_id);
  req.set_timeout_ms(30000);
  int32_t id = lane_keys_[0][0];
  auto* b = req.add_buckets_req();
  b->set_bucket_id(bucket_of_[id]);
  b->set_records(KvBatch({KvOp{KvRow(id, "final", 1), false}}));
  auto resp = Call<ApiKey::kPutKv>(req);
  ASSERT_TRUE(resp.ok());
  EXPECT_FALSE(resp->buckets_resp(0).has_error_code());
}

}  // namespace
}  // namespace strom
