// Replication between three tablet servers in one process: three ReplicaManagers, each behind
// a real rpc::Server on loopback with the data-path TabletService, a coordinator played in
// memory (TestCoordinator: the leader and ISR of every bucket, AdjustIsr) and a directory of
// the servers that are up. Followers fetch from their leader over the wire.

#include <gtest/gtest.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/thread_pool.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "kv/kv_checkpoint.h"
#include "kv/kv_test_util.h"
#include "log/fs/posix_file_system.h"
#include "log/log_test_util.h"
#include "metadata/embedded_metadata_store.h"
#include "replica/high_watermark_checkpoint.h"
#include "replica/replica_manager.h"
#include "rpc/dispatcher.h"
#include "rpc/server.h"
#include "server/server_kv_test_util.h"
#include "server/server_test_util.h"
#include "tablet/tablet_service.h"
#include "testutil/run_task.h"

namespace strom::replica {
namespace {

namespace fs = std::filesystem;
using metadata::TableBucket;
using testutil::RunTask;

constexpr TableId kLogTable{7};
constexpr TableId kPkTable{8};

/// The servers that are up, as UpdateMetadata would tell a tablet server.
class TestDirectory : public ServerDirectory {
 public:
  std::optional<metadata::ServerNode> FindTabletServer(ServerId id) const override {
    auto it = nodes.find(id.value());
    if (it == nodes.end()) return std::nullopt;
    return it->second;
  }
  std::map<int32_t, metadata::ServerNode> nodes;
};

/// The coordinator's part: the leader and ISR of every bucket; AdjustIsr checks the leader,
/// its epoch and the bucket epoch like Fluss's coordinator, then bumps the bucket epoch.
class TestCoordinator : public IsrChannel {
 public:
  Task<Result<LeaderAndIsr>> AdjustIsr(TableBucket bucket, LeaderAndIsr proposed) override {
    ++adjust_calls;
    auto it = state.find(bucket);
    if (it == state.end()) co_return Status(ErrorCode::kUnknownTableOrBucket, "unknown");
    LeaderAndIsr& current = it->second;
    if (proposed.leader != current.leader || proposed.leader_epoch != current.leader_epoch) {
      co_return Status(ErrorCode::kFencedLeaderEpoch, "stale leader");
    }
    if (proposed.bucket_epoch != current.bucket_epoch) {
      co_return Status(ErrorCode::kInvalidUpdateVersion, "stale bucket epoch");
    }
    current.isr = proposed.isr;
    current.bucket_epoch = BucketEpoch(current.bucket_epoch.value() + 1);
    co_return current;
  }

  std::map<TableBucket, LeaderAndIsr> state;
  int adjust_calls = 0;
};

/// Runs one ProduceLog and stores its answer for the bucket (an acks=-1 write that waits).
Task<void> ProduceInto(tablet::TabletService* service, proto::ProduceLogRequest req,
                       std::optional<proto::PbProduceLogRespForBucket>* out) {
  auto resp = co_await service->ProduceLog(std::move(req));
  if (resp.ok() && resp->buckets_resp_size() == 1) *out = resp->buckets_resp(0);
}

Task<bool> PollUntil(std::function<bool()> condition, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!condition()) {
    if (SteadyClock::now() >= deadline) co_return false;
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(kAwaitTuple);
  }
  co_return true;
}

class ReplicationTest : public ::testing::Test {
 protected:
  struct Node {
    std::unique_ptr<ReplicaManager> manager;
    std::unique_ptr<tablet::TabletService> service;
    std::unique_ptr<rpc::Server> server;
  };

  void SetUp() override {
    auto store = metadata::EmbeddedMetadataStore::Open(dir_.Sub("meta"), pool_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    ASSERT_TRUE(RunTask(io_, store_->CreateDatabase("db", {record::DatabaseDescriptor(),
                                                           TimestampMs(1), TimestampMs(1)}))
                    .ok());
    CreateTable("logs", kLogTable, server::testing::LogTableJson(1));
    CreateTable("pk", kPkTable, server::testing::PkTableJson(1));
  }

  void TearDown() override {
    for (int id = 1; id <= 3; ++id) StopNode(id);
    pool_.join();
  }

  void CreateTable(const std::string& name, TableId id, const std::string& json) {
    auto descriptor = record::TableDescriptor::FromJson(json);
    ASSERT_TRUE(descriptor.ok()) << descriptor.status().ToString();
    metadata::TableAssignment assignment;
    assignment.buckets[BucketId(0)] = {ServerId(1), ServerId(2), ServerId(3)};
    auto reg = metadata::TableRegistration::ForNewTable(id, *descriptor, TimestampMs(1));
    Status created = RunTask(io_, store_->CreateTable(metadata::TablePath{"db", name}, reg,
                                                      descriptor->schema(), assignment));
    ASSERT_TRUE(created.ok()) << created.ToString();
  }

  void StartNode(int id) {
    Node& node = nodes_[id];
    ReplicaManagerOptions options;
    options.data_dir = dir_.Sub("node" + std::to_string(id));
    options.server_id = ServerId(id);
    options.local_leadership = false;
    options.replica_max_lag_time = max_lag_;
    options.min_in_sync_replicas = min_isr_;
    options.fetcher.backoff = std::chrono::milliseconds(50);
    options.fetcher.max_wait = std::chrono::milliseconds(100);
    // Small fetches, so catching up takes many rounds.
    options.fetcher.max_bytes_per_bucket = 4096;
    options.rocksdb.write_buffer_size = 1 << 20;
    options.rocksdb.block_cache_size = 1 << 20;
    node.manager = std::make_unique<ReplicaManager>(io_.get_executor(), options, *store_);
    node.manager->SetIsrChannel(&coordinator_);
    node.manager->SetServerDirectory(&directory_);
    ASSERT_TRUE(RunTask(io_, node.manager->Start()).ok());
    node.service = std::make_unique<tablet::TabletService>(*node.manager, *store_);
    rpc::Dispatcher dispatcher;
    node.service->Register(dispatcher);
    rpc::ServerOptions server_options;
    server_options.host = "127.0.0.1";
    server_options.port = 0;
    node.server =
        std::make_unique<rpc::Server>(io_.get_executor(), server_options, std::move(dispatcher));
    ASSERT_TRUE(node.server->Start().ok());
    directory_.nodes[id] = metadata::ServerNode{ServerId(id), "127.0.0.1", node.server->port(),
                                                metadata::ServerRole::kTabletServer, std::nullopt};
  }

  void StopNode(int id) {
    auto it = nodes_.find(id);
    if (it == nodes_.end()) return;
    directory_.nodes.erase(id);
    RunTask(io_, it->second.server->Stop(std::chrono::milliseconds(200)));
    RunTask(io_, it->second.manager->Stop());
    nodes_.erase(it);
  }

  static TableBucket Bucket(TableId table) { return TableBucket{table, std::nullopt, BucketId(0)}; }

  /// A client's FetchLog of the log table's bucket 0 from offset 0 (1 MiB).
  static proto::FetchLogRequest ClientFetchFromStart() {
    proto::FetchLogRequest fetch;
    fetch.set_follower_server_id(-1);
    fetch.set_max_bytes(1 << 20);
    auto* t = fetch.add_tables_req();
    t->set_table_id(kLogTable.value());
    t->set_projection_pushdown_enabled(false);
    auto* b = t->add_buckets_req();
    b->set_bucket_id(0);
    b->set_fetch_offset(0);
    b->set_max_fetch_bytes(1 << 20);
    return fetch;
  }

  /// The coordinator elects `leader` with `isr` (next leader epoch) and tells every running
  /// server; every answer must be OK.
  void Elect(TableId table, int leader, std::vector<int> isr) {
    TableBucket bucket = Bucket(table);
    LeaderAndIsr& lai = coordinator_.state[bucket];
    const bool first = lai.leader.value() < 0;
    lai.leader = ServerId(leader);
    lai.leader_epoch = first ? LeaderEpoch(0) : LeaderEpoch(lai.leader_epoch.value() + 1);
    lai.isr.clear();
    for (int id : isr) lai.isr.push_back(ServerId(id));
    lai.coordinator_epoch = CoordinatorEpoch(1);
    lai.bucket_epoch = BucketEpoch(lai.bucket_epoch.value() + 1);
    NotifyLeaderAndIsrItem item;
    item.table_path = metadata::TablePath{"db", table == kLogTable ? "logs" : "pk"};
    item.bucket = bucket;
    item.replicas = {ServerId(1), ServerId(2), ServerId(3)};
    item.leader_and_isr = lai;
    for (auto& [id, node] : nodes_) {
      auto results =
          RunTask(io_, node.manager->BecomeLeaderOrFollower(CoordinatorEpoch(1), {item}));
      ASSERT_EQ(results.size(), 1u);
      ASSERT_TRUE(results[0].status.ok())
          << "server " << id << ": " << results[0].status.ToString();
    }
  }

  proto::PbProduceLogRespForBucket Produce(int node, int first, int count, int acks,
                                           int timeout_ms = 5000) {
    proto::ProduceLogRequest req;
    req.set_acks(acks);
    req.set_table_id(kLogTable.value());
    req.set_timeout_ms(timeout_ms);
    auto* b = req.add_buckets_req();
    b->set_bucket_id(0);
    b->set_records(server::testing::ArrowBatch(first, count));
    auto resp = RunTask(io_, nodes_.at(node).service->ProduceLog(std::move(req)));
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    if (!resp.ok() || resp->buckets_resp_size() != 1) return {};
    return resp->buckets_resp(0);
  }

  /// PutKv of `ops` to bucket 0 of the primary-key table through `node`'s tablet service.
  proto::PbPutKvRespForBucket PutKv(int node, const std::vector<server::testing::KvOp>& ops,
                                    int acks) {
    proto::PutKvRequest req;
    req.set_acks(acks);
    req.set_table_id(kPkTable.value());
    req.set_timeout_ms(5000);
    auto* b = req.add_buckets_req();
    b->set_bucket_id(0);
    b->set_records(server::testing::KvBatch(ops));
    auto resp = RunTask(io_, nodes_.at(node).service->PutKv(std::move(req)));
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    if (!resp.ok() || resp->buckets_resp_size() != 1) return {};
    return resp->buckets_resp(0);
  }

  /// The committed KV state of bucket 0 of the primary-key table on `node`.
  std::map<ByteBuffer, ByteBuffer> KvState(int node) {
    return kv::testing::StoredState(*At(node, kPkTable)->kv);
  }

  Replica* At(int node, TableId table = kLogTable) {
    return nodes_.at(node).manager->Find(Bucket(table));
  }
  LogOffset Leo(int node, TableId table = kLogTable) {
    return At(node, table)->log->log_end_offset();
  }
  LogOffset Hw(int node, TableId table = kLogTable) {
    return At(node, table)->log->high_watermark();
  }

  /// Every id stored in a replica's log, in offset order.
  std::vector<int32_t> StoredIds(int node) {
    log::ReadParams params;
    params.fetch_offset = At(node)->log->log_start_offset();
    params.max_bytes = 64 << 20;
    params.isolation = log::FetchIsolation::kLogEnd;
    std::vector<int32_t> ids;
    while (params.fetch_offset < Leo(node)) {
      auto read = At(node)->log->Read(params);
      if (!read.ok() || read->records.empty()) break;
      auto more = server::testing::DecodeIds(read->records, /*arrow=*/true, params.fetch_offset);
      ids.insert(ids.end(), more.begin(), more.end());
      params.fetch_offset =
          LogOffset(params.fetch_offset.value() + static_cast<int64_t>(more.size()));
    }
    return ids;
  }

  /// The ISR the coordinator holds, sorted (expansions may land in any order).
  std::vector<ServerId> Isr(TableId table = kLogTable) {
    std::vector<ServerId> isr = coordinator_.state[Bucket(table)].isr;
    std::sort(isr.begin(), isr.end());
    return isr;
  }
  static std::vector<ServerId> Ids(std::vector<int> ids) {
    std::vector<ServerId> out;
    for (int id : ids) out.push_back(ServerId(id));
    return out;
  }

  bool WaitUntil(std::function<bool()> condition,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return RunTask(io_, PollUntil(std::move(condition), timeout));
  }

  static std::vector<int32_t> Range(int first, int count) {
    std::vector<int32_t> out;
    for (int i = first; i < first + count; ++i) out.push_back(i);
    return out;
  }

  log::testing::TempDir dir_;
  asio::io_context io_;
  asio::thread_pool pool_{1};
  std::unique_ptr<metadata::EmbeddedMetadataStore> store_;
  TestDirectory directory_;
  TestCoordinator coordinator_;
  std::map<int, Node> nodes_;
  int32_t min_isr_ = 2;
  std::chrono::milliseconds max_lag_{400};
};

TEST_F(ReplicationTest, FollowersCopyTheLogAndTheHighWatermarkFollowsTheIsr) {
  for (int id = 1; id <= 3; ++id) StartNode(id);
  Elect(kLogTable, 1, {1, 2, 3});
  auto first = Produce(1, 0, 5, /*acks=*/1);
  ASSERT_FALSE(first.has_error_code()) << first.error_message();
  EXPECT_EQ(first.base_offset(), 0);
  auto second = Produce(1, 5, 3, /*acks=*/1);
  EXPECT_EQ(second.base_offset(), 5);
  ASSERT_TRUE(WaitUntil([&] { return Leo(2) == LogOffset(8) && Leo(3) == LogOffset(8); }));
  // The leader's high watermark moves once every ISR member reported having the records.
  ASSERT_TRUE(WaitUntil([&] { return Hw(1) == LogOffset(8); }));
  EXPECT_EQ(StoredIds(2), Range(0, 8));
  EXPECT_EQ(StoredIds(3), Range(0, 8));
  // Batches are kept as the leader wrote them: same bytes, offsets and timestamps.
  log::ReadParams all;
  all.fetch_offset = LogOffset(0);
  all.isolation = log::FetchIsolation::kLogEnd;
  EXPECT_EQ(At(1)->log->Read(all)->records, At(2)->log->Read(all)->records);

  // Clients may only produce to and fetch from the leader.
  EXPECT_EQ(Produce(2, 100, 1, 1).error_code(),
            static_cast<int32_t>(ErrorCode::kNotLeaderOrFollower));
  const proto::FetchLogRequest fetch = ClientFetchFromStart();
  auto from_follower = RunTask(io_, nodes_.at(2).service->FetchLog(fetch));
  ASSERT_TRUE(from_follower.ok());
  EXPECT_EQ(from_follower->tables_resp(0).buckets_resp(0).error_code(),
            static_cast<int32_t>(ErrorCode::kNotLeaderOrFollower));
  auto from_leader = RunTask(io_, nodes_.at(1).service->FetchLog(fetch));
  ASSERT_TRUE(from_leader.ok());
  const auto& got = from_leader->tables_resp(0).buckets_resp(0);
  EXPECT_FALSE(got.has_error_code());
  EXPECT_EQ(got.high_watermark(), 8);
  EXPECT_EQ(server::testing::DecodeIds(got.records(), true), Range(0, 8));
}

TEST_F(ReplicationTest, AcksAllWaitsForTheIsrWhichShrinksAndExpands) {
  for (int id = 1; id <= 3; ++id) StartNode(id);
  Elect(kLogTable, 1, {1, 2, 3});
  auto acked = Produce(1, 0, 5, /*acks=*/-1);
  ASSERT_FALSE(acked.has_error_code()) << acked.error_message();
  // Acknowledged with acks=all means every ISR member has it.
  EXPECT_GE(Leo(2), LogOffset(5));
  EXPECT_GE(Leo(3), LogOffset(5));
  EXPECT_GE(Hw(1), LogOffset(5));

  // A stopped follower holds acks=all writes until the request timeout...
  StopNode(3);
  auto timed_out = Produce(1, 5, 1, /*acks=*/-1, /*timeout_ms=*/150);
  EXPECT_EQ(timed_out.error_code(), static_cast<int32_t>(ErrorCode::kRequestTimeOut));
  EXPECT_EQ(Leo(1), LogOffset(6));  // appended all the same, as in Fluss
  // ...until it has lagged for log.replica.max-lag-time: then the ISR drops it.
  ASSERT_TRUE(WaitUntil([&] { return Isr() == Ids({1, 2}); })) << coordinator_.adjust_calls;
  ASSERT_TRUE(WaitUntil([&] { return Hw(1) == LogOffset(6); }));
  auto after_shrink = Produce(1, 6, 1, /*acks=*/-1);
  EXPECT_FALSE(after_shrink.has_error_code()) << after_shrink.error_message();

  // Below log.replica.min-in-sync-replicas-number (2) acks=all is refused before appending,
  // and the high watermark no longer moves.
  // A stopped follower that has the leader's whole log stays in sync (as in Fluss): the
  // leader must move on for it to lag.
  StopNode(2);
  auto acks_one = Produce(1, 7, 1, /*acks=*/1);
  EXPECT_FALSE(acks_one.has_error_code());
  ASSERT_TRUE(WaitUntil([&] { return Isr() == Ids({1}); }));
  const LogOffset before = Leo(1);
  auto refused = Produce(1, 8, 1, /*acks=*/-1);
  EXPECT_EQ(refused.error_code(), static_cast<int32_t>(ErrorCode::kNotEnoughReplicas));
  EXPECT_EQ(Leo(1), before);
  ASSERT_FALSE(Produce(1, 8, 1, /*acks=*/1).has_error_code());
  const LogOffset hw_under_min_isr = Hw(1);
  EXPECT_LT(hw_under_min_isr, Leo(1));

  // While both are away the leader takes many more batches; the returning followers catch
  // up from far behind (4 KiB per fetch) and rejoin the ISR; the high watermark then reaches
  // the log end.
  for (int i = 0; i < 200; ++i) Produce(1, 1000 + i * 10, 10, /*acks=*/1);
  const LogOffset end = Leo(1);
  StartNode(2);
  StartNode(3);
  {
    // A restarted server learns its role again from the coordinator.
    NotifyLeaderAndIsrItem item;
    item.table_path = metadata::TablePath{"db", "logs"};
    item.bucket = Bucket(kLogTable);
    item.replicas = Ids({1, 2, 3});
    item.leader_and_isr = coordinator_.state[Bucket(kLogTable)];
    for (int id : {2, 3}) {
      auto r =
          RunTask(io_, nodes_.at(id).manager->BecomeLeaderOrFollower(CoordinatorEpoch(1), {item}));
      ASSERT_TRUE(r[0].status.ok()) << r[0].status.ToString();
    }
  }
  ASSERT_TRUE(WaitUntil([&] { return Leo(2) == end && Leo(3) == end; }));
  ASSERT_TRUE(WaitUntil([&] { return Isr() == Ids({1, 2, 3}); }));
  ASSERT_TRUE(WaitUntil([&] { return Hw(1) == end; }));
  EXPECT_EQ(StoredIds(3), StoredIds(1));
  auto all_back = Produce(1, 5000, 2, /*acks=*/-1);
  EXPECT_FALSE(all_back.has_error_code()) << all_back.error_message();
}

TEST_F(ReplicationTest, LeaderChangeDropsTheUnacknowledgedTail) {
  // Long enough that the ISR keeps the stopped server while the tail is written.
  max_lag_ = std::chrono::seconds(30);
  for (int id = 1; id <= 3; ++id) StartNode(id);
  Elect(kLogTable, 1, {1, 2, 3});
  ASSERT_FALSE(Produce(1, 0, 5, /*acks=*/-1).has_error_code());
  // Server 2 goes away; server 3 keeps copying the leader's acks=1 tail (offsets 5..7),
  // which is never committed because server 2 is still in the ISR.
  StopNode(2);
  ASSERT_FALSE(Produce(1, 5, 3, /*acks=*/1).has_error_code());
  ASSERT_TRUE(WaitUntil([&] { return Leo(3) == LogOffset(8); }));
  EXPECT_EQ(Hw(1), LogOffset(5));

  // The coordinator elects server 2 (in the ISR, with the committed 5 records). The old leader
  // and server 3 drop what is beyond the new leader's log at its election, then copy the new
  // leader's records instead of keeping a diverging tail.
  StartNode(2);
  Elect(kLogTable, 2, {2, 3});
  auto new_write = Produce(2, 100, 2, /*acks=*/-1);
  ASSERT_FALSE(new_write.has_error_code()) << new_write.error_message();
  EXPECT_EQ(new_write.base_offset(), 5);
  std::vector<int32_t> expected = Range(0, 5);
  expected.push_back(100);
  expected.push_back(101);
  ASSERT_TRUE(WaitUntil([&] { return Leo(1) == LogOffset(7) && Leo(3) == LogOffset(7); }));
  EXPECT_EQ(StoredIds(2), expected);
  EXPECT_EQ(StoredIds(3), expected);
  EXPECT_EQ(StoredIds(1), expected);
  // The old leader is a follower now, and rejoins the ISR.
  EXPECT_EQ(Produce(1, 200, 1, 1).error_code(),
            static_cast<int32_t>(ErrorCode::kNotLeaderOrFollower));
  ASSERT_TRUE(WaitUntil([&] { return Isr() == Ids({1, 2, 3}); }));
}

TEST_F(ReplicationTest, EpochsAreFencedAndStopReplicaDeletes) {
  for (int id = 1; id <= 2; ++id) StartNode(id);
  Elect(kLogTable, 1, {1, 2});
  NotifyLeaderAndIsrItem stale;
  stale.table_path = metadata::TablePath{"db", "logs"};
  stale.bucket = Bucket(kLogTable);
  stale.replicas = Ids({1, 2});
  stale.leader_and_isr = coordinator_.state[Bucket(kLogTable)];
  // An older coordinator epoch is refused for every bucket.
  auto old_coordinator =
      RunTask(io_, nodes_.at(1).manager->BecomeLeaderOrFollower(CoordinatorEpoch(0), {stale}));
  EXPECT_EQ(old_coordinator[0].status.code(), ErrorCode::kInvalidCoordinator);
  Elect(kLogTable, 2, {1, 2});
  // The previous leader epoch is fenced.
  auto fenced =
      RunTask(io_, nodes_.at(1).manager->BecomeLeaderOrFollower(CoordinatorEpoch(1), {stale}));
  EXPECT_EQ(fenced[0].status.code(), ErrorCode::kInvalidUpdateVersion);
  stale.leader_and_isr.bucket_epoch = coordinator_.state[Bucket(kLogTable)].bucket_epoch;
  fenced = RunTask(io_, nodes_.at(1).manager->BecomeLeaderOrFollower(CoordinatorEpoch(1), {stale}));
  EXPECT_EQ(fenced[0].status.code(), ErrorCode::kFencedLeaderEpoch);

  const std::string dir = At(1)->log->dir();
  ASSERT_TRUE(fs::exists(dir));
  StopReplicaItem stop;
  stop.bucket = Bucket(kLogTable);
  stop.leader_epoch = LeaderEpoch(0);
  stop.delete_data = true;
  auto too_old = RunTask(io_, nodes_.at(1).manager->StopReplicas(CoordinatorEpoch(1), {stop}));
  EXPECT_EQ(too_old[0].status.code(), ErrorCode::kFencedLeaderEpoch);
  stop.leader_epoch = coordinator_.state[Bucket(kLogTable)].leader_epoch;
  auto stopped = RunTask(io_, nodes_.at(1).manager->StopReplicas(CoordinatorEpoch(1), {stop}));
  EXPECT_TRUE(stopped[0].status.ok()) << stopped[0].status.ToString();
  EXPECT_EQ(At(1), nullptr);
  EXPECT_FALSE(fs::exists(dir));
}

TEST_F(ReplicationTest, PrimaryKeyStateMovesWithTheLeader) {
  using server::testing::KvOp;
  using server::testing::KvRow;
  for (int id = 1; id <= 3; ++id) StartNode(id);
  Elect(kPkTable, 1, {1, 2, 3});
  // Every replica opens a KV tablet (on the KV worker): the leader's serves, the followers'
  // are hot standbys.
  ASSERT_TRUE(WaitUntil([&] { return At(1, kPkTable)->kv_ready; }));
  ASSERT_TRUE(WaitUntil([&] { return At(2, kPkTable)->kv && At(3, kPkTable)->kv; }));
  EXPECT_FALSE(At(2, kPkTable)->kv_ready);
  EXPECT_FALSE(At(2, kPkTable)->kv->is_leader());

  auto put = [&](int node, std::vector<KvOp> ops) { return PutKv(node, ops, /*acks=*/-1); };
  auto first = put(1, {KvOp{KvRow(1, "a", 10), false}, KvOp{KvRow(2, "b", 20), false}});
  ASSERT_FALSE(first.has_error_code()) << first.error_message();
  auto second =
      put(1, {KvOp{KvRow(1, "a2", 11), false}, KvOp{KvRow(2, std::nullopt, std::nullopt), true}});
  ASSERT_FALSE(second.has_error_code()) << second.error_message();
  // acks=all: the followers have the changelog.
  EXPECT_EQ(Leo(2, kPkTable), Leo(1, kPkTable));
  // A follower refuses writes.
  EXPECT_EQ(put(2, {KvOp{KvRow(3, "c", 30), false}}).error_code(),
            static_cast<int32_t>(ErrorCode::kNotLeaderOrFollower));

  // The followers' RocksDB reaches the leader's committed state (no further).
  for (int follower : {2, 3}) {
    ASSERT_TRUE(WaitUntil([&] {
      return At(follower, kPkTable)->kv->flushed_log_offset() == Hw(1, kPkTable);
    }));
    EXPECT_LE(At(follower, kPkTable)->kv->flushed_log_offset(), Hw(follower, kPkTable));
    EXPECT_EQ(KvState(follower), KvState(1));
    EXPECT_EQ(At(follower, kPkTable)->kv->pre_write_buffer().entry_count(), 0u);
  }

  // Server 2 takes over with the tablet it kept: no reopen and no replay beyond the
  // uncommitted tail (its high watermark may lag the old leader's by a fetch). Lookups read
  // committed state only, and a new leader commits what it inherited once its followers have
  // fetched it.
  const kv::KvTablet* standby = At(2, kPkTable)->kv.get();
  const kv::KvTablet* old_leader = At(1, kPkTable)->kv.get();
  Elect(kPkTable, 2, {1, 2, 3});
  ASSERT_TRUE(At(2, kPkTable)->kv_ready);
  EXPECT_EQ(At(2, kPkTable)->kv.get(), standby);
  EXPECT_LE(At(2, kPkTable)->kv->recovered_record_count(), 3);
  // The old leader keeps its tablet as standby, without its buffer.
  EXPECT_EQ(At(1, kPkTable)->kv.get(), old_leader);
  EXPECT_FALSE(At(1, kPkTable)->kv_ready);
  EXPECT_FALSE(At(1, kPkTable)->kv->is_leader());
  ASSERT_TRUE(WaitUntil([&] { return Hw(2, kPkTable) == Leo(2, kPkTable); }));
  auto lookup = [&](int node, int id) -> std::optional<record::GenericRow> {
    ByteBuffer key = server::testing::EncodeKvKey(KvRow(id, std::nullopt, std::nullopt));
    std::vector<ByteView> keys = {key};
    auto values = At(node, kPkTable)->kv->Lookup(keys);
    if (!values.ok() || !(*values)[0]) return std::nullopt;
    return server::testing::DecodeKvValue(*(*values)[0]);
  };
  auto one = lookup(2, 1);
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ((*one)[1].as<std::string>(), "a2");
  EXPECT_EQ((*one)[2].as<int64_t>(), 11);
  EXPECT_FALSE(lookup(2, 2).has_value());
  auto third = put(2, {KvOp{KvRow(3, "c", 30), false}});
  ASSERT_FALSE(third.has_error_code()) << third.error_message();
  ASSERT_TRUE(WaitUntil([&] { return Leo(1, kPkTable) == Leo(2, kPkTable); }));

  // And back to server 1, whose standby applied what it copied as a follower.
  ASSERT_TRUE(WaitUntil(
      [&] { return At(1, kPkTable)->kv->flushed_log_offset() == Hw(2, kPkTable); }));
  Elect(kPkTable, 1, {1, 2, 3});
  ASSERT_TRUE(At(1, kPkTable)->kv_ready);
  EXPECT_EQ(At(1, kPkTable)->kv.get(), old_leader);
  EXPECT_LE(At(1, kPkTable)->kv->recovered_record_count(), 1);
  ASSERT_TRUE(WaitUntil([&] { return Hw(1, kPkTable) == Leo(1, kPkTable); }));
  auto three = lookup(1, 3);
  ASSERT_TRUE(three.has_value());
  EXPECT_EQ((*three)[2].as<int64_t>(), 30);
  EXPECT_EQ((*lookup(1, 1))[1].as<std::string>(), "a2");
}

// A follower's log cut below what its standby KV tablet already holds (a follower applies
// committed changes only, so this takes a cut the replication protocol does not make; the
// tablet must still not keep state its log no longer has): the tablet is dropped, the
// checkpoint beyond the cut discarded, and the state rebuilt from the older checkpoint plus
// the changelog fetched again.
TEST_F(ReplicationTest, AFollowerCutBelowItsKvStateRebuildsItFromAnOlderCheckpoint) {
  using server::testing::KvOp;
  using server::testing::KvRow;
  for (int id = 1; id <= 2; ++id) StartNode(id);
  Elect(kPkTable, 1, {1, 2});
  ASSERT_TRUE(WaitUntil([&] { return At(1, kPkTable)->kv_ready && At(2, kPkTable)->kv; }));
  auto put = [&](std::vector<KvOp> ops) {
    auto resp = PutKv(1, ops, /*acks=*/-1);
    ASSERT_FALSE(resp.has_error_code()) << resp.error_message();
  };
  auto applied_everything = [&] {
    return At(2, kPkTable)->kv && Leo(2, kPkTable) == Leo(1, kPkTable) &&
           At(2, kPkTable)->kv->flushed_log_offset() == Hw(1, kPkTable);
  };
  ReplicaManager& follower = *nodes_.at(2).manager;
  put({KvOp{KvRow(1, "a", 10), false}, KvOp{KvRow(2, "b", 20), false}});  // offsets 0, 1
  ASSERT_TRUE(WaitUntil(applied_everything));
  EXPECT_EQ(follower.CheckpointKvTablets(), 1u);  // at 2
  // A new leader epoch starting at 2: the fetcher, finding its log cut behind its back
  // below, cuts back to there (the leader's election-time end) and fetches again.
  Elect(kPkTable, 1, {1, 2});
  ASSERT_TRUE(WaitUntil([&] { return At(1, kPkTable)->kv_ready; }));
  put({KvOp{KvRow(1, "a2", 11), false}, KvOp{KvRow(2, std::nullopt, std::nullopt), true}});
  put({KvOp{KvRow(3, "c", 30), false}, KvOp{KvRow(4, "d", 40), false}});  // up to 7
  ASSERT_TRUE(WaitUntil(applied_everything));
  EXPECT_EQ(follower.CheckpointKvTablets(), 1u);  // at 7
  const std::string checkpoints =
      follower.KvTabletDir(*At(2, kPkTable)->table, BucketId(0)) + "/checkpoints";
  auto offsets = [&] {
    std::vector<int64_t> out;
    kv::KvCheckpointStore store(checkpoints, log::PosixFileSystem::Default());
    auto list = store.List();
    EXPECT_TRUE(list.ok());
    if (list.ok()) {
      for (const auto& c : *list) out.push_back(c.log_offset.value());
    }
    return out;
  };
  EXPECT_EQ(offsets(), (std::vector<int64_t>{2, 7}));
  const kv::KvTablet* before = At(2, kPkTable)->kv.get();

  // Cut inside the batch [2, 5): the log ends at 2 afterwards.
  Status cut = follower.TruncateFollower(Bucket(kPkTable), LogOffset(4));
  ASSERT_TRUE(cut.ok()) << cut.ToString();
  EXPECT_EQ(Leo(2, kPkTable), LogOffset(2));
  EXPECT_EQ(At(2, kPkTable)->kv, nullptr);
  EXPECT_EQ(offsets(), (std::vector<int64_t>{2}));
  // The fetcher copies the cut records again; the tablet reopens from the checkpoint at 2.
  ASSERT_TRUE(WaitUntil(applied_everything));
  EXPECT_NE(At(2, kPkTable)->kv.get(), before);
  EXPECT_EQ(KvState(2), KvState(1));
  EXPECT_EQ(At(2, kPkTable)->kv->applied_record_count(), Hw(1, kPkTable).value() - 2);
}

// A primary-key follower told to restart its log at the leader's log start (the changelog it
// lacks is gone on the leader) does so only when its KV state sits exactly there; otherwise it
// refuses and keeps its log, so it stays out of the ISR instead of becoming a replica that
// could never lead.
TEST_F(ReplicationTest, APrimaryKeyFollowerRestartsItsLogOnlyWhereItsKvStateIs) {
  using server::testing::KvOp;
  using server::testing::KvRow;
  for (int id = 1; id <= 2; ++id) StartNode(id);
  Elect(kPkTable, 1, {1, 2});
  ASSERT_TRUE(WaitUntil([&] { return At(1, kPkTable)->kv_ready && At(2, kPkTable)->kv; }));
  auto resp = PutKv(1, {KvOp{KvRow(1, "a", 10), false}, KvOp{KvRow(2, "b", 20), false}}, -1);
  ASSERT_FALSE(resp.has_error_code()) << resp.error_message();
  ASSERT_TRUE(WaitUntil([&] {
    return At(2, kPkTable)->kv && At(2, kPkTable)->kv->flushed_log_offset() == LogOffset(2);
  }));
  ReplicaManager& follower = *nodes_.at(2).manager;

  Status refused = follower.TruncateFollowerFullyAndStartAt(Bucket(kPkTable), LogOffset(5));
  EXPECT_EQ(refused.code(), ErrorCode::kKvStorage) << refused.ToString();
  EXPECT_EQ(Leo(2, kPkTable), LogOffset(2));
  EXPECT_EQ(At(2, kPkTable)->log->log_start_offset(), LogOffset(0));
  ASSERT_NE(At(2, kPkTable)->kv, nullptr);

  // At the offset its tablet holds, the restart goes ahead and the tablet stays.
  const kv::KvTablet* tablet = At(2, kPkTable)->kv.get();
  Status restarted = follower.TruncateFollowerFullyAndStartAt(Bucket(kPkTable), LogOffset(2));
  ASSERT_TRUE(restarted.ok()) << restarted.ToString();
  EXPECT_EQ(At(2, kPkTable)->log->log_start_offset(), LogOffset(2));
  EXPECT_EQ(At(2, kPkTable)->kv.get(), tablet);
}

// While a leader's KV tablet is not open (here: every open fails until an obstacle goes),
// PutKv and lookups get the retriable LEADER_NOT_AVAILABLE; the open is retried and the bucket
// serves once it succeeds.
TEST_F(ReplicationTest, ALeaderServesKvOnlyOnceItsTabletIsOpen) {
  using server::testing::KvOp;
  using server::testing::KvRow;
  min_isr_ = 1;
  StartNode(1);
  // A file where the tablet's directory goes.
  const std::string table_dir = dir_.Sub("node1") + "/db/pk-8";
  fs::create_directories(table_dir);
  { std::ofstream(table_dir + "/kv-0") << "not a directory"; }
  Elect(kPkTable, 1, {1});
  ASSERT_TRUE(WaitUntil([&] { return At(1, kPkTable) && !At(1, kPkTable)->kv_opening; }));
  EXPECT_EQ(At(1, kPkTable)->kv, nullptr);
  auto put = [&] { return PutKv(1, {KvOp{KvRow(1, "a", 10), false}}, /*acks=*/1); };
  EXPECT_EQ(put().error_code(), static_cast<int32_t>(ErrorCode::kLeaderNotAvailable));
  EXPECT_TRUE(IsRetriable(ErrorCode::kLeaderNotAvailable));
  EXPECT_EQ(nodes_.at(1).manager->FindKv(Bucket(kPkTable)).status().code(),
            ErrorCode::kLeaderNotAvailable);

  fs::remove(table_dir + "/kv-0");
  ASSERT_TRUE(WaitUntil([&] { return At(1, kPkTable)->kv_ready; }));
  auto ok = put();
  EXPECT_FALSE(ok.has_error_code()) << ok.error_message();
}

TEST_F(ReplicationTest, LostSessionFencesEveryLeadershipUntilANewerEpoch) {
  using server::testing::KvOp;
  using server::testing::KvRow;
  // Long enough that the ISR keeps a stopped follower: acks=-1 writes wait. A minimum ISR
  // of one lets the new leader below start alone and take the old one back into its ISR.
  max_lag_ = std::chrono::seconds(30);
  min_isr_ = 1;
  for (int id = 1; id <= 3; ++id) StartNode(id);
  Elect(kLogTable, 1, {1, 2, 3});
  Elect(kPkTable, 1, {1, 2, 3});
  ASSERT_FALSE(Produce(1, 0, 5, /*acks=*/-1).has_error_code());
  ASSERT_TRUE(WaitUntil([&] { return At(1, kPkTable)->kv_ready; }));

  // An acks=-1 write waits for server 3, which is gone.
  StopNode(3);
  proto::ProduceLogRequest req;
  req.set_acks(-1);
  req.set_table_id(kLogTable.value());
  req.set_timeout_ms(20000);
  auto* b = req.add_buckets_req();
  b->set_bucket_id(0);
  b->set_records(server::testing::ArrowBatch(5, 1));
  std::optional<proto::PbProduceLogRespForBucket> waiting;
  asio::co_spawn(io_, ProduceInto(nodes_.at(1).service.get(), std::move(req), &waiting),
                 asio::detached);
  ASSERT_TRUE(WaitUntil([&] { return Leo(1) == LogOffset(6); }));
  EXPECT_FALSE(waiting.has_value());

  // The ZooKeeper session is lost: the waiting write is answered with the retriable
  // NOT_LEADER_OR_FOLLOWER, never acknowledged.
  ReplicaManager& fenced = *nodes_.at(1).manager;
  EXPECT_EQ(fenced.FenceLeadership(), 2u);
  EXPECT_TRUE(fenced.leadership_fenced());
  ASSERT_TRUE(WaitUntil([&] { return waiting.has_value(); }));
  EXPECT_EQ(waiting->error_code(), static_cast<int32_t>(ErrorCode::kNotLeaderOrFollower))
      << waiting->error_message();
  EXPECT_FALSE(waiting->has_base_offset());
  EXPECT_TRUE(IsRetriable(ErrorCode::kNotLeaderOrFollower));

  // Nothing is taken afterwards, with any acks; the primary-key bucket's KV tablet no longer
  // leads (it stays open as a standby, without its uncommitted buffer).
  const LogOffset end = Leo(1);
  const LogOffset hw = Hw(1);
  for (int acks : {1, 0, -1}) {
    EXPECT_EQ(Produce(1, 100, 1, acks).error_code(),
              static_cast<int32_t>(ErrorCode::kNotLeaderOrFollower))
        << "acks " << acks;
  }
  EXPECT_EQ(Leo(1), end);
  EXPECT_EQ(Hw(1), hw);
  EXPECT_FALSE(At(1, kPkTable)->kv_ready);
  ASSERT_NE(At(1, kPkTable)->kv, nullptr);
  EXPECT_FALSE(At(1, kPkTable)->kv->is_leader());
  EXPECT_EQ(At(1, kPkTable)->kv->pre_write_buffer().entry_count(), 0u);
  EXPECT_EQ(PutKv(1, {KvOp{KvRow(1, "a", 10), false}}, /*acks=*/1).error_code(),
            static_cast<int32_t>(ErrorCode::kNotLeaderOrFollower));
  // Followers no longer read from it.
  EXPECT_EQ(fenced.Read(Bucket(kLogTable), LogOffset(0), 1 << 20, true, ServerId(2))
                .status()
                .code(),
            ErrorCode::kNotLeaderOrFollower);

  // A leadership sent before the session was lost is refused while it has no new session...
  NotifyLeaderAndIsrItem same;
  same.table_path = metadata::TablePath{"db", "logs"};
  same.bucket = Bucket(kLogTable);
  same.replicas = Ids({1, 2, 3});
  same.leader_and_isr = coordinator_.state[Bucket(kLogTable)];
  auto refused = RunTask(io_, fenced.BecomeLeaderOrFollower(CoordinatorEpoch(1), {same}));
  EXPECT_EQ(refused[0].status.code(), ErrorCode::kNotLeaderOrFollower);
  // ...and, once registered again, takes a newer leader epoch only.
  fenced.AllowLeadership();
  refused = RunTask(io_, fenced.BecomeLeaderOrFollower(CoordinatorEpoch(1), {same}));
  EXPECT_EQ(refused[0].status.code(), ErrorCode::kFencedLeaderEpoch);
  EXPECT_FALSE(At(1)->is_leader());

  // The coordinator moved leadership to server 2 meanwhile; server 1 follows it (its
  // unacknowledged tail is cut to what server 2 has) and rejoins the ISR.
  Elect(kLogTable, 2, {2});
  auto moved_on = Produce(2, 200, 2, /*acks=*/-1);
  ASSERT_FALSE(moved_on.has_error_code()) << moved_on.error_message();
  ASSERT_TRUE(WaitUntil([&] { return Isr() == Ids({1, 2}); }));
  ASSERT_TRUE(WaitUntil([&] { return Leo(1) == Leo(2); }));
  EXPECT_EQ(StoredIds(1), StoredIds(2));
  std::vector<int32_t> ids = StoredIds(1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 100), 0);
  EXPECT_LE(std::count(ids.begin(), ids.end(), 5), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 200), 1);

  // And it leads again when the coordinator says so with a newer epoch.
  Elect(kPkTable, 1, {1, 2});
  ASSERT_TRUE(WaitUntil([&] { return At(1, kPkTable)->kv_ready; }));
  Elect(kLogTable, 1, {1, 2});
  auto again = Produce(1, 300, 1, /*acks=*/-1);
  EXPECT_FALSE(again.has_error_code()) << again.error_message();
}

// A follower killed with kill -9: the coordinator shrinks the ISR without it (same leader
// epoch), but until UpdateMetadata drops it from the directory the leader still counts it as
// a caught-up replica (it was in sync a moment ago). Nothing else recomputes the high
// watermark when the client only retries its waiting write (a duplicate appends nothing), so
// the directory change must: otherwise acks=all writes time out for good.
TEST_F(ReplicationTest, AFollowerThatLeftNoLongerHoldsBackTheHighWatermark) {
  max_lag_ = std::chrono::seconds(30);  // Fluss's default: the lag window does not end here
  for (int id = 1; id <= 3; ++id) StartNode(id);
  Elect(kLogTable, 1, {1, 2, 3});
  auto first = Produce(1, 0, 5, /*acks=*/-1);
  ASSERT_FALSE(first.has_error_code()) << first.error_message();

  // Server 3 dies; the directory does not know yet.
  const metadata::ServerNode dead = directory_.nodes.at(3);
  StopNode(3);
  directory_.nodes[3] = dead;
  auto unreplicated = Produce(1, 5, 5, /*acks=*/1);
  ASSERT_FALSE(unreplicated.has_error_code()) << unreplicated.error_message();
  // Server 2 has everything, and the leader knows (from its next fetch).
  ASSERT_TRUE(WaitUntil([&] { return At(1)->repl.followers.at(2).log_end_offset == Leo(1); }));

  // The coordinator removes it from the ISR (same leader epoch, next bucket epoch).
  LeaderAndIsr& lai = coordinator_.state[Bucket(kLogTable)];
  lai.isr = Ids({1, 2});
  lai.bucket_epoch = BucketEpoch(lai.bucket_epoch.value() + 1);
  NotifyLeaderAndIsrItem item;
  item.table_path = metadata::TablePath{"db", "logs"};
  item.bucket = Bucket(kLogTable);
  item.replicas = Ids({1, 2, 3});
  item.leader_and_isr = lai;
  for (int id : {1, 2}) {
    auto results = RunTask(io_, nodes_.at(id).manager->BecomeLeaderOrFollower(CoordinatorEpoch(1),
                                                                              {item}));
    ASSERT_TRUE(results.at(0).status.ok()) << results[0].status.ToString();
  }
  // Still alive as far as the leader knows, and caught up 30 s ago at most: it counts.
  EXPECT_LT(Hw(1), Leo(1));

  // UpdateMetadata without server 3.
  directory_.nodes.erase(3);
  nodes_.at(1).manager->RecomputeHighWatermarks();
  EXPECT_EQ(Hw(1), Leo(1));
  auto after = Produce(1, 10, 5, /*acks=*/-1);
  EXPECT_FALSE(after.has_error_code()) << after.error_message();
  EXPECT_EQ(Hw(1), Leo(1));
}

TEST_F(ReplicationTest, AFollowersHighWatermarkIsTheLeadersCappedByItsLogEnd) {
  max_lag_ = std::chrono::seconds(30);  // server 3 stays in the ISR while it is down
  for (int id = 1; id <= 3; ++id) StartNode(id);
  Elect(kLogTable, 1, {1, 2, 3});
  ASSERT_FALSE(Produce(1, 0, 8, /*acks=*/-1).has_error_code());
  // The followers learn the leader's high watermark from their next fetch.
  ASSERT_TRUE(WaitUntil([&] { return Hw(2) == LogOffset(8) && Hw(3) == LogOffset(8); }));

  // Server 3 goes down while still in the ISR (and in the metadata: its death is not known
  // yet): the leader's high watermark stays at 8 however far server 2 copies, and so does
  // server 2's, below its own log end.
  const metadata::ServerNode dead = directory_.nodes.at(3);
  StopNode(3);
  directory_.nodes[3] = dead;
  ASSERT_FALSE(Produce(1, 8, 4, /*acks=*/1).has_error_code());
  ASSERT_TRUE(WaitUntil([&] { return Leo(2) == LogOffset(12); }));
  // A few more fetch rounds, in which a wrong high watermark would show.
  WaitUntil([] { return false; }, std::chrono::milliseconds(300));
  EXPECT_EQ(Hw(1), LogOffset(8));
  EXPECT_EQ(Hw(2), LogOffset(8));

  // Server 2 becomes leader with server 3 (down) in its ISR: it must not count offsets 8..11,
  // which server 3 lacks, as committed, so readers do not see them yet.
  StopNode(1);
  Elect(kLogTable, 2, {2, 3});
  EXPECT_EQ(Leo(2), LogOffset(12));
  EXPECT_EQ(Hw(2), LogOffset(8));
  const proto::FetchLogRequest fetch = ClientFetchFromStart();
  auto read = RunTask(io_, nodes_.at(2).service->FetchLog(fetch));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->tables_resp(0).buckets_resp(0).high_watermark(), 8);
  EXPECT_EQ(server::testing::DecodeIds(read->tables_resp(0).buckets_resp(0).records(), true),
            Range(0, 8));

  // Server 3 comes back and copies the rest: then the high watermark moves.
  StartNode(3);
  Elect(kLogTable, 2, {2, 3});
  ASSERT_TRUE(WaitUntil([&] { return Hw(2) == LogOffset(12); }));
  EXPECT_EQ(StoredIds(3), Range(0, 12));
}

TEST_F(ReplicationTest, ARestartedReplicaStartsFromItsSavedHighWatermark) {
  max_lag_ = std::chrono::seconds(30);
  min_isr_ = 1;  // so that a leader alone in its ISR commits
  for (int id = 1; id <= 3; ++id) StartNode(id);
  Elect(kLogTable, 1, {1, 2, 3});
  ASSERT_FALSE(Produce(1, 0, 6, /*acks=*/-1).has_error_code());
  ASSERT_TRUE(WaitUntil([&] { return Hw(2) == LogOffset(6); }));
  const metadata::ServerNode dead = directory_.nodes.at(3);
  StopNode(3);
  directory_.nodes[3] = dead;
  ASSERT_FALSE(Produce(1, 6, 3, /*acks=*/1).has_error_code());
  ASSERT_TRUE(WaitUntil([&] { return Leo(2) == LogOffset(9); }));

  // Stop() writes the checkpoint: server 2 had copied 9 records of which 6 are committed.
  StopNode(2);
  auto saved = ReadHighWatermarks(
      nullptr, (fs::path(dir_.Sub("node2")) / kHighWatermarkCheckpointFile).string());
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  ASSERT_EQ(saved->count(Bucket(kLogTable)), 1u);
  EXPECT_EQ(saved->at(Bucket(kLogTable)), LogOffset(6));

  // Restarted and elected (the others are down), it starts from 6, not from its log end.
  StopNode(1);
  StartNode(2);
  Elect(kLogTable, 2, {2, 3});
  EXPECT_EQ(Leo(2), LogOffset(9));
  EXPECT_EQ(Hw(2), LogOffset(6));
  // Alone in the ISR, everything it has is committed.
  Elect(kLogTable, 2, {2});
  EXPECT_EQ(Hw(2), LogOffset(9));
}

TEST_F(ReplicationTest, AReplicaThatMissedWholeEpochsDropsItsOverwrittenTail) {
  max_lag_ = std::chrono::seconds(30);
  for (int id = 1; id <= 3; ++id) StartNode(id);
  // Epoch 0: server 3 leads; everyone has records 0..4.
  Elect(kLogTable, 3, {1, 2, 3});
  ASSERT_FALSE(Produce(3, 0, 5, /*acks=*/-1).has_error_code());
  // Its followers go away and it writes a tail of its own, 5..7, that nobody copies.
  StopNode(1);
  StopNode(2);
  ASSERT_FALSE(Produce(3, 50, 3, /*acks=*/1).has_error_code());
  ASSERT_EQ(Leo(3), LogOffset(8));
  StopNode(3);

  // Epochs 1 and 2 happen without server 3: servers 1 and 2 each lead once and write over the
  // same offsets 5.. with other records.
  StartNode(1);
  StartNode(2);
  Elect(kLogTable, 1, {1, 2});
  ASSERT_FALSE(Produce(1, 100, 2, /*acks=*/-1).has_error_code());
  Elect(kLogTable, 2, {1, 2});
  ASSERT_FALSE(Produce(2, 200, 4, /*acks=*/-1).has_error_code());
  std::vector<int32_t> expected = Range(0, 5);
  for (int id : {100, 101, 200, 201, 202, 203}) expected.push_back(id);
  ASSERT_EQ(StoredIds(2), expected);

  // Server 3 returns as a follower of epoch 3. The new leader's log end at its election (11)
  // is beyond server 3's log end (8), yet 5..7 differ: it must cut back to where its own
  // epoch began and copy everything after that again.
  StartNode(3);
  Elect(kLogTable, 2, {1, 2, 3});
  ASSERT_TRUE(WaitUntil([&] { return Leo(3) == LogOffset(11); }));
  EXPECT_EQ(StoredIds(3), expected);
}

}  // namespace
}  // namespace strom::replica
