// Fault injection on the distributed cluster (cluster_harness.h): nothing acknowledged is ever
// lost. Tables with replication factor 3 and a minimum ISR of 2 are written with acks=all by
// idempotent writers while tablet servers are killed with SIGKILL and restarted at random (the
// seed is printed; replay with STROM_TEST_SEED) and the active coordinator is killed once (a
// standby takes over). Afterwards the cluster must bring every follower back into the ISR, and
// - log table: every acknowledged row is read back exactly once, in order per bucket, at gapless
//   offsets, and every replica's log directory (opened with the log module after a graceful
//   stop) holds byte-for-byte the same batches up to the high watermark; no row appears twice,
//   acknowledged or not;
// - primary-key table: every key holds its last acknowledged write (or a later unacknowledged
//   one), read by lookups and by a snapshot scan on each of the three replicas in turn as the
//   only leader (so each one's rebuilt KV state is checked), and the changelogs of the three
//   replicas are identical.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client/scan_decoder.h"
#include "integration/cluster_harness.h"
#include "log/log_tablet.h"
#include "record/log_record_batch.h"
#include "proto/FlussApi.pb.h"
#include "rpc/connection.h"
#include "strom/client.h"
#include "testutil/run_task.h"
#include "testutil/seed.h"

namespace strom {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kServers = 3;
constexpr int kBuckets = 3;
/// How long servers are killed and restarted while the writers run.
constexpr auto kFaultPhase = 30s;

/// One bucket as the active coordinator's Metadata answer shows it.
struct BucketState {
  int32_t leader = -1;
  int32_t leader_epoch = -1;
  std::set<int32_t> isr;
};

/// A log record as read back: where it is and which row it is.
struct ReadRow {
  int64_t offset = 0;
  int32_t producer = 0;
  int64_t seq = 0;
  friend bool operator==(const ReadRow&, const ReadRow&) = default;
};

/// One write of the primary-key test, in the order the writer issued them.
struct KvWrite {
  int32_t key = 0;
  bool is_delete = false;
  int64_t value = 0;  // the write's index; the row is (key, value, "v{value}")
  WriteResult result;
};

class ClusterFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = testutil::TestSeed();
    std::printf("[ fault    ] seed %llu (replay with STROM_TEST_SEED=%llu)\n",
                static_cast<unsigned long long>(seed_), static_cast<unsigned long long>(seed_));
    rng_.seed(seed_);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    testing::ClusterHarness::Options options;
    options.server_binary = STROM_SERVER_BIN;
    options.dir = fs::temp_directory_path() /
                  ("strom-fault-it-" + std::to_string(::getpid()) + "-" + info->name());
    options.extra_config = {{"log.replica.min-in-sync-replicas-number", "2"},
                            // Followers that stop fetching leave the ISR soon.
                            {"log.replica.max-lag-time", "6 s"}};
    options.restart_on_same_port = true;
    dir_ = options.dir;
    cluster_ = std::make_unique<testing::ClusterHarness>(options);
    std::string why;
    ASSERT_TRUE(cluster_->Start(&why)) << why;
    standby_ = cluster_->StartCoordinator();
    ASSERT_GE(standby_, 0) << "the standby coordinator did not start";
  }

  void TearDown() override {
    cluster_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  /// A fresh client connection bootstrapped from the running tablet servers.
  std::unique_ptr<Connection> Connect() {
    ClientConfig config;
    config.bootstrap_servers = cluster_->bootstrap();
    config.request_timeout = 10s;
    config.writer_batch_timeout = 20ms;
    // A batch that cannot be delivered for this long fails (unacknowledged) instead of
    // holding Flush() forever; kills last a few seconds, so this never fires in a sound run.
    config.writer_delivery_timeout = 60s;
    auto conn = Connection::Create(config);
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    return conn.ok() ? std::move(*conn) : nullptr;
  }

  /// Sends `req` to the server at `port`.
  template <proto::ApiKey kKey>
  Result<typename rpc::ApiTraits<kKey>::Response> Call(
      uint16_t port, typename rpc::ApiTraits<kKey>::Request req) {
    asio::io_context io;
    auto conn = testutil::RunTask(io, rpc::Connection::Connect(io.get_executor(), "127.0.0.1",
                                                               port, rpc::ConnectionOptions()));
    if (!conn.ok()) return conn.status();
    auto resp = testutil::RunTask(io, (*conn)->Call<kKey>(std::move(req), 5s));
    testutil::RunTask(io, (*conn)->CloseAndWait());
    return resp;
  }

  /// Every bucket of `path` as the active coordinator reports it (nullopt: no answer).
  std::optional<std::map<int32_t, BucketState>> Buckets(const TablePath& path) {
    proto::MetadataRequest req;
    auto* table = req.add_table_path();
    table->set_database_name(path.database);
    table->set_table_name(path.table);
    auto resp = Call<proto::ApiKey::kGetMetadata>(cluster_->coordinator(active_)->port(), req);
    if (!resp.ok() || resp->table_metadata_size() != 1) return std::nullopt;
    std::map<int32_t, BucketState> out;
    for (const auto& b : resp->table_metadata(0).bucket_metadata()) {
      BucketState& state = out[b.bucket_id()];
      if (b.has_leader_id()) state.leader = b.leader_id();
      if (b.has_leader_epoch()) state.leader_epoch = b.leader_epoch();
      state.isr.insert(b.isr().begin(), b.isr().end());
    }
    return out;
  }

  /// Waits until every bucket has a leader and all three replicas in its ISR (a follower
  /// that was down caught up and rejoined); the buckets then.
  std::map<int32_t, BucketState> AwaitFullIsr(const TablePath& path, std::chrono::seconds bound) {
    std::map<int32_t, BucketState> last;
    bool full = Eventually(
        [&] {
          auto buckets = Buckets(path);
          if (!buckets) return false;
          last = *buckets;
          if (static_cast<int>(last.size()) != kBuckets) return false;
          for (const auto& [bucket, state] : last) {
            if (state.leader < 0 || state.isr != std::set<int32_t>{0, 1, 2}) return false;
          }
          return true;
        },
        bound);
    EXPECT_TRUE(full) << "the ISR did not recover to all three replicas: " << Describe(last);
    return last;
  }

  /// The leader's ListOffsets LATEST for `bucket`: its high watermark, or (asked as a
  /// follower would) its log end.
  std::optional<int64_t> LeaderOffset(uint16_t leader_port, TableId table, int32_t bucket,
                                      bool log_end) {
    proto::ListOffsetsRequest req;
    req.set_follower_server_id(log_end ? 1000 : -1);
    req.set_offset_type(1);
    req.set_table_id(table.value());
    req.add_bucket_id(bucket);
    auto resp = Call<proto::ApiKey::kListOffsets>(leader_port, req);
    if (!resp.ok() || resp->buckets_resp_size() != 1 || resp->buckets_resp(0).has_error_code()) {
      return std::nullopt;
    }
    return resp->buckets_resp(0).offset();
  }

  /// Waits until every bucket's leader has its whole log below the high watermark (so every
  /// ISR member has it all); returns the high watermarks.
  std::map<int32_t, int64_t> AwaitQuiescent(const TablePath& path, TableId table) {
    std::map<int32_t, int64_t> hws;
    bool quiet = Eventually([&] {
      auto buckets = Buckets(path);
      if (!buckets) return false;
      for (const auto& [bucket, state] : *buckets) {
        if (state.leader < 0 || state.isr.size() != kServers) return false;
        testing::ChildServer* leader = cluster_->tablet(state.leader);
        if (leader == nullptr || !leader->running()) return false;
        auto hw = LeaderOffset(leader->port(), table, bucket, false);
        auto end = LeaderOffset(leader->port(), table, bucket, true);
        if (!hw || !end || *hw != *end) return false;
        hws[bucket] = *hw;
      }
      return static_cast<int>(hws.size()) == kBuckets;
    });
    EXPECT_TRUE(quiet) << "the leaders' high watermarks did not reach their log ends";
    return hws;
  }

  /// Kills a random tablet server and restarts it, every few seconds, for `phase`; kills the
  /// active coordinator once, in the second round (the standby takes over). Every server is
  /// running again when it returns.
  void InjectFaults(std::chrono::seconds phase) {
    auto end = std::chrono::steady_clock::now() + phase;
    int round = 0;
    while (std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(Uniform(1500, 3000)));
      if (round == 1) {
        std::printf("[ fault    ] kill -9 coordinator 0\n");
        cluster_->coordinator(0)->Kill();
        active_ = standby_;
        std::this_thread::sleep_for(std::chrono::milliseconds(Uniform(0, 1500)));
      }
      const int victim = static_cast<int>(Uniform(0, kServers - 1));
      std::printf("[ fault    ] round %d: kill -9 tablet server %d\n", round, victim);
      cluster_->tablet(victim)->Kill();
      ++kills_;
      std::this_thread::sleep_for(std::chrono::milliseconds(Uniform(500, 4000)));
      ASSERT_TRUE(cluster_->StartTablet(victim)) << "tablet server " << victim
                                                 << " did not restart";
      ++round;
    }
  }

  /// Stops every tablet server gracefully (SIGTERM: controlled shutdown, tablets closed).
  void StopTabletsGracefully() {
    for (int ts = 0; ts < kServers; ++ts) {
      EXPECT_EQ(cluster_->tablet(ts)->Terminate(), 0) << "tablet server " << ts;
    }
  }

  /// Every batch of one replica's log of `bucket`, as stored (read with the log module from
  /// tablet server `ts`'s data directory while it is stopped); sets `*end` to its log end.
  std::string ReplicaLogBytes(int ts, const TableInfo& info, int32_t bucket, int64_t* end) {
    fs::path table_dir = dir_ / ("ts-" + std::to_string(ts)) / info.path.database /
                         (info.path.table + "-" + std::to_string(info.table_id.value()));
    log::LogTabletOptions options;
    options.dir = (table_dir / ("log-" + std::to_string(bucket))).string();
    EXPECT_TRUE(fs::exists(options.dir)) << options.dir;
    auto tablet = log::LogTablet::Open(options);
    EXPECT_TRUE(tablet.ok()) << options.dir << ": " << tablet.status().ToString();
    if (!tablet.ok()) return {};
    EXPECT_EQ((*tablet)->log_start_offset().value(), 0) << options.dir;
    std::string bytes;
    LogOffset next = (*tablet)->log_start_offset();
    while (next < (*tablet)->log_end_offset()) {
      log::ReadParams params{next, 64 << 20, log::FetchIsolation::kLogEnd, true};
      auto read = (*tablet)->Read(params);
      EXPECT_TRUE(read.ok()) << options.dir << ": " << read.status().ToString();
      if (!read.ok() || read->records.empty()) break;
      // Whole batches only (a byte budget may cut the last one).
      record::LogRecordBatchIterator batches{ByteView(read->records)};
      LogOffset after = next;
      for (;;) {
        auto batch = batches.Next();
        EXPECT_TRUE(batch.ok()) << options.dir << ": " << batch.status().ToString();
        if (!batch.ok() || !*batch) break;
        after = (*batch)->next_offset();
      }
      EXPECT_GT(after.value(), next.value()) << options.dir;
      if (after <= next) break;
      bytes.append(read->records, 0, batches.position());
      next = after;
    }
    *end = (*tablet)->log_end_offset().value();
    EXPECT_TRUE((*tablet)->Close().ok());
    return bytes;
  }

  /// Decodes stored log batches of `bucket` with the client's decoder.
  static std::vector<ScanBatch> Decode(const TableInfo& info, int32_t bucket,
                                       const std::string& bytes) {
    auto decoder = client::ScanDecoder::Create(info, std::nullopt, /*check_crc=*/true);
    EXPECT_TRUE(decoder.ok()) << decoder.status().ToString();
    if (!decoder.ok()) return {};
    auto buffer = std::make_shared<const ByteBuffer>(bytes);
    std::deque<ScanBatch> batches;
    auto decoded = (*decoder)->Decode(
        BucketId(bucket), buffer, kEarliestOffsetValue,
        [&](SchemaId) -> Result<Schema> { return info.schema(); }, &batches);
    EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
    return {batches.begin(), batches.end()};
  }

  /// After a graceful stop: the three replicas of every bucket hold the same bytes, ending
  /// at the high watermark the leader reported; returns one replica's bytes per bucket.
  std::map<int32_t, std::string> CompareReplicas(const TableInfo& info,
                                                 const std::map<int32_t, int64_t>& hws) {
    std::map<int32_t, std::string> out;
    for (int32_t bucket = 0; bucket < kBuckets; ++bucket) {
      std::vector<std::string> copies;
      for (int ts = 0; ts < kServers; ++ts) {
        int64_t end = -1;
        copies.push_back(ReplicaLogBytes(ts, info, bucket, &end));
        EXPECT_EQ(end, hws.at(bucket)) << "log end of bucket " << bucket << " on server " << ts;
      }
      for (int ts = 1; ts < kServers; ++ts) {
        EXPECT_EQ(copies[ts].size(), copies[0].size())
            << "bucket " << bucket << ": server " << ts << " vs server 0";
        EXPECT_TRUE(copies[ts] == copies[0])
            << "bucket " << bucket << ": the log of server " << ts
            << " differs from server 0's";
      }
      out[bucket] = copies[0];
    }
    return out;
  }

  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }

  static std::string Describe(const std::map<int32_t, BucketState>& buckets) {
    std::string out;
    for (const auto& [bucket, state] : buckets) {
      out += "bucket " + std::to_string(bucket) + ": leader " + std::to_string(state.leader) +
             " epoch " + std::to_string(state.leader_epoch) + " isr [";
      for (int32_t id : state.isr) out += std::to_string(id) + " ";
      out += "]; ";
    }
    return out;
  }

  /// Polls until `done` holds (bounded); true when it did.
  static bool Eventually(const std::function<bool()>& done, std::chrono::seconds bound = 60s) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(250ms);
    }
    return done();
  }

  TablePath CreateTable(Connection& conn, const std::string& name, Schema schema,
                        std::vector<std::string> bucket_keys) {
    auto admin = conn.GetAdmin();
    Status db = admin->CreateDatabase("fault", DatabaseDescriptor(), true);
    EXPECT_TRUE(db.ok()) << db.ToString();
    TableDescriptor::Parts parts;
    parts.schema = std::move(schema);
    parts.distribution = TableDistribution{kBuckets, std::move(bucket_keys)};
    parts.properties = {{"table.replication.factor", "3"}};
    auto descriptor = TableDescriptor::Make(std::move(parts));
    EXPECT_TRUE(descriptor.ok()) << descriptor.status().ToString();
    TablePath path("fault", name);
    Status created = admin->CreateTable(path, *descriptor);
    EXPECT_TRUE(created.ok()) << created.ToString();
    return path;
  }

  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  fs::path dir_;
  std::unique_ptr<testing::ClusterHarness> cluster_;
  int standby_ = -1;
  int active_ = 0;
  int kills_ = 0;
};

// ---- log table ----

TEST_F(ClusterFaultTest, AcknowledgedAppendsSurviveKillsOnEveryReplica) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  Schema schema = *Schema::Builder()
                       .AddColumn("producer", DataType::Int().NotNull())
                       .AddColumn("seq", DataType::BigInt().NotNull())
                       .AddColumn("payload", DataType::String())
                       .Build();
  TablePath path = CreateTable(*conn, "appends", schema, {"seq"});
  ASSERT_FALSE(HasFailure());
  auto table = conn->GetTable(path);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  const TableInfo info = (*table)->info();
  AwaitFullIsr(path, 60s);
  ASSERT_FALSE(HasFailure());

  // Two idempotent acks=all writers, each with its own increasing sequence, ~500 rows/s each.
  constexpr int kProducers = 2;
  std::atomic<bool> stop{false};
  std::vector<std::vector<WriteResult>> results(kProducers);
  std::vector<Status> flushed(kProducers);
  std::vector<AppendWriterStats> stats(kProducers);
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      auto writer = (*table)->NewAppend().CreateWriter();
      if (!writer.ok()) {
        flushed[p] = writer.status();
        return;
      }
      for (int64_t seq = 0; !stop.load(); ++seq) {
        WriteResult result;
        Status appended = (*writer)->Append(
            {Datum(p), Datum(seq), Datum("p" + std::to_string(p) + "-" + std::to_string(seq))},
            &result);
        if (!appended.ok()) {
          flushed[p] = appended;
          break;
        }
        results[p].push_back(result);
        std::this_thread::sleep_for(2ms);
      }
      Status done = (*writer)->Flush();
      if (flushed[p].ok()) flushed[p] = done;
      stats[p] = (*writer)->stats();
      (void)(*writer)->Close();
    });
  }

  InjectFaults(kFaultPhase);
  stop = true;
  for (std::thread& t : producers) t.join();
  ASSERT_FALSE(HasFailure());

  // Which rows the cluster acknowledged.
  std::vector<std::set<int64_t>> acked(kProducers);
  for (int p = 0; p < kProducers; ++p) {
    for (size_t seq = 0; seq < results[p].size(); ++seq) {
      if (results[p][seq].Wait().ok()) acked[p].insert(static_cast<int64_t>(seq));
    }
    std::printf("[ fault    ] producer %d: %zu rows appended, %zu acknowledged, %lld failed, "
                "%lld retries (flush: %s)\n",
                p, results[p].size(), acked[p].size(),
                static_cast<long long>(stats[p].records_failed),
                static_cast<long long>(stats[p].retries), flushed[p].ToString().c_str());
    EXPECT_GT(acked[p].size(), 1000u) << "producer " << p << " barely wrote";
  }
  std::printf("[ fault    ] %d tablet server kills, 1 coordinator kill\n", kills_);

  // Every follower catches up and rejoins the ISR; then the leaders are quiescent.
  auto buckets = AwaitFullIsr(path, 90s);
  ASSERT_FALSE(HasFailure());
  std::map<int32_t, int64_t> hws = AwaitQuiescent(path, info.table_id);
  ASSERT_FALSE(HasFailure());

  // Read everything back through the leaders (a fresh client: the servers moved ports).
  std::map<int32_t, std::vector<ReadRow>> read;
  {
    auto reader = Connect();
    ASSERT_NE(reader, nullptr);
    auto t = reader->GetTable(path);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    auto scanner = (*t)->NewScan().CreateLogScanner();
    ASSERT_TRUE(scanner.ok()) << scanner.status().ToString();
    ASSERT_TRUE((*scanner)->SubscribeAll(OffsetSpec::Earliest()).ok());
    auto done = [&] {
      auto positions = (*scanner)->Positions();
      for (const auto& [bucket, hw] : hws) {
        if (positions[BucketId(bucket)].value() < hw) return false;
      }
      return true;
    };
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      auto records = (*scanner)->Poll(1s);
      ASSERT_TRUE(records.ok()) << records.status().ToString();
      for (const ScanRecord& r : *records) {
        read[r.bucket.value()].push_back(
            {r.offset.value(), r.row[0].as<int32_t>(), r.row[1].as<int64_t>()});
      }
    }
    ASSERT_TRUE(done()) << "could not read up to the high watermarks";
  }

  // Exactly once, in order, no gaps; every acknowledged row is there.
  std::vector<std::set<int64_t>> seen(kProducers);
  for (int32_t bucket = 0; bucket < kBuckets; ++bucket) {
    const std::vector<ReadRow>& rows = read[bucket];
    ASSERT_EQ(static_cast<int64_t>(rows.size()), hws[bucket]) << "bucket " << bucket;
    std::vector<int64_t> last(kProducers, -1);
    for (size_t i = 0; i < rows.size(); ++i) {
      const ReadRow& row = rows[i];
      ASSERT_EQ(row.offset, static_cast<int64_t>(i)) << "gap in bucket " << bucket;
      ASSERT_TRUE(row.producer >= 0 && row.producer < kProducers) << row.producer;
      EXPECT_LT(row.seq, static_cast<int64_t>(results[row.producer].size()))
          << "a row nobody wrote";
      EXPECT_TRUE(seen[row.producer].insert(row.seq).second)
          << "producer " << row.producer << " row " << row.seq << " stored twice (bucket "
          << bucket << " offset " << row.offset << ")";
      EXPECT_GT(row.seq, last[row.producer])
          << "producer " << row.producer << " out of order in bucket " << bucket << " at offset "
          << row.offset;
      last[row.producer] = row.seq;
    }
  }
  for (int p = 0; p < kProducers; ++p) {
    size_t lost = 0;
    for (int64_t seq : acked[p]) {
      if (seen[p].count(seq) == 0 && ++lost <= 10) {
        ADD_FAILURE() << "producer " << p << " row " << seq << " was acknowledged but is lost";
      }
    }
    EXPECT_EQ(lost, 0u) << "acknowledged rows of producer " << p << " lost";
  }

  // The same on every replica: stop the cluster and read each server's copy from disk.
  StopTabletsGracefully();
  std::map<int32_t, std::string> copies = CompareReplicas(info, hws);
  for (const auto& [bucket, bytes] : copies) {
    std::vector<ReadRow> stored;
    for (const ScanBatch& batch : Decode(info, bucket, bytes)) {
      for (size_t i = 0; i < batch.size(); ++i) {
        stored.push_back({batch.offset(i).value(), batch.GetInt(i, 0), batch.GetBigInt(i, 1)});
      }
    }
    EXPECT_TRUE(stored == read[bucket]) << "bucket " << bucket
                                        << ": the stored log is not what the leader served";
  }
}

// ---- primary-key table ----

/// The states a key may be in at the end: after its last acknowledged write, or after any
/// later (unacknowledged) one; nullopt = absent. Without an acknowledged write, absent too.
std::vector<std::optional<int64_t>> AllowedValues(const std::vector<const KvWrite*>& writes,
                                                  const std::vector<bool>& acked) {
  size_t first = 0;
  bool any_acked = false;
  for (size_t i = 0; i < writes.size(); ++i) {
    if (acked[i]) {
      first = i;
      any_acked = true;
    }
  }
  std::vector<std::optional<int64_t>> out;
  if (!any_acked) out.push_back(std::nullopt);
  for (size_t i = first; i < writes.size(); ++i) {
    if (writes[i]->is_delete) {
      out.push_back(std::nullopt);
    } else {
      out.push_back(writes[i]->value);
    }
  }
  return out;
}

TEST_F(ClusterFaultTest, AcknowledgedUpsertsSurviveKillsOnEveryReplica) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  Schema schema = *Schema::Builder()
                       .AddColumn("k", DataType::Int().NotNull())
                       .AddColumn("v", DataType::BigInt().NotNull())
                       .AddColumn("note", DataType::String())
                       .PrimaryKey({"k"})
                       .Build();
  TablePath path = CreateTable(*conn, "state", schema, {"k"});
  ASSERT_FALSE(HasFailure());
  auto table = conn->GetTable(path);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  const TableInfo info = (*table)->info();
  AwaitFullIsr(path, 60s);
  ASSERT_FALSE(HasFailure());

  // One idempotent acks=all writer: upserts and deletes of 300 keys; write i stores value i.
  constexpr int32_t kKeys = 300;
  std::atomic<bool> stop{false};
  std::deque<KvWrite> writes;
  Status writer_status;
  UpsertWriterStats stats;
  std::mt19937_64 key_rng(seed_ + 1);
  std::thread producer([&] {
    auto writer = (*table)->NewUpsert().CreateWriter();
    if (!writer.ok()) {
      writer_status = writer.status();
      return;
    }
    for (int64_t i = 0; !stop.load(); ++i) {
      KvWrite w;
      w.key = static_cast<int32_t>(key_rng() % kKeys);
      w.is_delete = key_rng() % 8 == 0;
      w.value = i;
      GenericRow row{Datum(w.key), Datum(i), Datum("v" + std::to_string(i))};
      Status s =
          w.is_delete ? (*writer)->Delete(row, &w.result) : (*writer)->Upsert(row, &w.result);
      if (!s.ok()) {
        writer_status = s;
        break;
      }
      writes.push_back(std::move(w));
      std::this_thread::sleep_for(2ms);
    }
    Status done = (*writer)->Flush();
    if (writer_status.ok()) writer_status = done;
    stats = (*writer)->stats();
    (void)(*writer)->Close();
  });

  InjectFaults(kFaultPhase);
  stop = true;
  producer.join();
  ASSERT_FALSE(HasFailure());

  std::map<int32_t, std::vector<const KvWrite*>> by_key;
  std::map<int32_t, std::vector<bool>> acked_by_key;
  size_t acked = 0;
  for (const KvWrite& w : writes) {
    bool ok = w.result.Wait().ok();
    acked += ok ? 1 : 0;
    by_key[w.key].push_back(&w);
    acked_by_key[w.key].push_back(ok);
  }
  std::printf("[ fault    ] %zu writes, %zu acknowledged, %lld failed, %lld retries "
              "(flush: %s); %d tablet server kills, 1 coordinator kill\n",
              writes.size(), acked, static_cast<long long>(stats.records_failed),
              static_cast<long long>(stats.retries), writer_status.ToString().c_str(), kills_);
  EXPECT_GT(acked, 1000u) << "the writer barely wrote";

  // The state one replica, as the leader of every bucket, serves: lookups of every key and a
  // snapshot scan, both against the acknowledged history.
  auto check_state = [&](const std::string& where) {
    auto reader = Connect();
    ASSERT_NE(reader, nullptr);
    auto t = reader->GetTable(path);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    std::map<int32_t, int64_t> scanned;
    auto scanner = (*t)->NewScan().CreateSnapshotScanner();
    ASSERT_TRUE(scanner.ok()) << scanner.status().ToString();
    for (;;) {
      auto batch = (*scanner)->Next();
      ASSERT_TRUE(batch.ok()) << where << ": " << batch.status().ToString();
      if (!*batch) break;
      for (const GenericRow& row : (*batch)->rows) {
        const int64_t v = row[1].as<int64_t>();
        EXPECT_EQ(row[2].as<std::string>(), "v" + std::to_string(v)) << where;
        EXPECT_TRUE(scanned.emplace(row[0].as<int32_t>(), v).second)
            << where << ": key " << row[0].as<int32_t>() << " scanned twice";
      }
    }
    auto lookuper = (*t)->NewLookup().CreateLookuper();
    ASSERT_TRUE(lookuper.ok()) << lookuper.status().ToString();
    std::vector<LookupFuture> lookups;
    for (int32_t key = 0; key < kKeys; ++key) {
      lookups.push_back((*lookuper)->LookupAsync({Datum(key)}));
    }
    for (int32_t key = 0; key < kKeys; ++key) {
      auto found = lookups[key].Wait();
      ASSERT_TRUE(found.ok()) << where << ": " << found.status().ToString();
      std::optional<int64_t> looked_up;
      if (auto row = found->row()) looked_up = (*row)[1].as<int64_t>();
      std::optional<int64_t> in_scan;
      if (auto it = scanned.find(key); it != scanned.end()) in_scan = it->second;
      EXPECT_EQ(looked_up, in_scan) << where << ": key " << key << " lookup vs scan";
      std::vector<std::optional<int64_t>> allowed{std::nullopt};
      if (by_key.count(key) != 0) allowed = AllowedValues(by_key[key], acked_by_key[key]);
      bool fits = std::find(allowed.begin(), allowed.end(), looked_up) != allowed.end();
      EXPECT_TRUE(fits) << where << ": key " << key << " holds "
                        << (looked_up ? std::to_string(*looked_up) : "nothing")
                        << ", not its last acknowledged write or a later one";
    }
  };

  AwaitFullIsr(path, 90s);
  ASSERT_FALSE(HasFailure());
  check_state("after the faults");
  ASSERT_FALSE(HasFailure());

  // Each replica in turn as the only leader: the other two stop gracefully (their leaderships
  // move to it), its KV state is checked, they restart, catch up and rejoin the ISR.
  for (int leader = 0; leader < kServers; ++leader) {
    for (int ts = 0; ts < kServers; ++ts) {
      if (ts != leader) {
        EXPECT_EQ(cluster_->tablet(ts)->Terminate(), 0) << "tablet server " << ts;
      }
    }
    ASSERT_TRUE(Eventually([&] {
      auto buckets = Buckets(path);
      if (!buckets || static_cast<int>(buckets->size()) != kBuckets) return false;
      for (const auto& [bucket, state] : *buckets) {
        if (state.leader != leader) return false;
      }
      return true;
    })) << "tablet server " << leader << " did not take over every bucket";
    check_state("tablet server " + std::to_string(leader) + " leading");
    for (int ts = 0; ts < kServers; ++ts) {
      if (ts != leader) {
        ASSERT_TRUE(cluster_->StartTablet(ts)) << "tablet server " << ts;
      }
    }
    AwaitFullIsr(path, 60s);
    ASSERT_FALSE(HasFailure());
  }

  // The changelogs of the three replicas are the same.
  std::map<int32_t, int64_t> hws = AwaitQuiescent(path, info.table_id);
  ASSERT_FALSE(HasFailure());
  StopTabletsGracefully();
  CompareReplicas(info, hws);
}

}  // namespace
}  // namespace strom
