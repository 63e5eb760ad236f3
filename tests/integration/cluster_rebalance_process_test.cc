// Rebalancing a distributed cluster of processes (cluster_harness.h): three tablet servers
// holding log tables with replication factor 3 and 2 and a primary-key table, producers
// writing with acks=all the whole time; a fourth tablet server starts and `strom cluster
// rebalance --wait` moves replicas and leaderships onto it; then server 0 is tagged
// (`strom cluster tag add 0`) and a second rebalance drains it. Clients see no error, every
// acknowledged row is read back exactly once, the primary-key table's state is intact.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/cluster_harness.h"
#include "integration/cluster_test_base.h"
#include "strom/client.h"

namespace strom {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kKeys = 200;

/// Polls until `done` holds (bounded by a minute: moves wait for replicas to catch up).
bool Eventually(const std::function<bool()>& done, std::chrono::seconds bound = 60s) {
  return testing::Eventually(done, bound);
}

/// Appends rows with increasing ids to a log table, paced, until stopped; remembers every
/// row's WriteResult.
class Producer {
 public:
  Producer(Connection& conn, TablePath path) : conn_(conn), path_(std::move(path)) {}

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  /// Stops appending, flushes, waits for every row's outcome.
  void Stop() {
    stop_ = true;
    thread_.join();
  }

  Status setup;
  std::vector<int32_t> acked;
  std::vector<Status> errors;
  int64_t retries = 0;

 private:
  void Run() {
    auto table = conn_.GetTable(path_);
    if (!table.ok()) {
      setup = table.status();
      return;
    }
    auto writer = (*table)->NewAppend().CreateWriter();
    if (!writer.ok()) {
      setup = writer.status();
      return;
    }
    std::vector<std::pair<int32_t, WriteResult>> results;
    int32_t next = 0;
    while (!stop_) {
      for (int i = 0; i < 20; ++i, ++next) {
        GenericRow row;
        row.push_back(Datum(next));
        row.push_back(Datum("row-" + std::to_string(next)));
        WriteResult result;
        Status appended = (*writer)->Append(row, &result);
        if (!appended.ok()) {
          errors.push_back(appended);
          continue;
        }
        results.emplace_back(next, std::move(result));
      }
      std::this_thread::sleep_for(20ms);
    }
    Status flushed = (*writer)->Flush();
    if (!flushed.ok()) errors.push_back(flushed);
    for (auto& [id, result] : results) {
      Status s = result.Wait();
      if (s.ok()) {
        acked.push_back(id);
      } else {
        errors.push_back(s);
      }
    }
    retries = (*writer)->stats().retries;
    Status closed = (*writer)->Close();
    if (!closed.ok()) errors.push_back(closed);
  }

  Connection& conn_;
  TablePath path_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// Upserts every key of the primary-key table round after round (value = round) until
/// stopped; remembers the last round acknowledged for each key.
class Upserter {
 public:
  Upserter(Connection& conn, TablePath path) : conn_(conn), path_(std::move(path)) {}

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_ = true;
    thread_.join();
  }

  Status setup;
  std::map<int32_t, int64_t> last_acked;
  std::vector<Status> errors;
  int64_t rounds = 0;

 private:
  void Run() {
    auto table = conn_.GetTable(path_);
    if (!table.ok()) {
      setup = table.status();
      return;
    }
    auto writer = (*table)->NewUpsert().CreateWriter();
    if (!writer.ok()) {
      setup = writer.status();
      return;
    }
    while (!stop_) {
      std::vector<std::pair<int32_t, WriteResult>> results;
      for (int32_t key = 0; key < kKeys; ++key) {
        GenericRow row;
        row.push_back(Datum(key));
        row.push_back(Datum(rounds));
        WriteResult result;
        Status upserted = (*writer)->Upsert(row, &result);
        if (!upserted.ok()) {
          errors.push_back(upserted);
          continue;
        }
        results.emplace_back(key, std::move(result));
      }
      Status flushed = (*writer)->Flush();
      if (!flushed.ok()) errors.push_back(flushed);
      for (auto& [key, result] : results) {
        Status s = result.Wait();
        if (s.ok()) {
          last_acked[key] = rounds;
        } else {
          errors.push_back(s);
        }
      }
      ++rounds;
      std::this_thread::sleep_for(50ms);
    }
    Status closed = (*writer)->Close();
    if (!closed.ok()) errors.push_back(closed);
  }

  Connection& conn_;
  TablePath path_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class ClusterRebalanceTest : public testing::ClusterTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartCluster("strom-rebalance-it", testing::ClusterHarness::Options()));
    ASSERT_TRUE(Eventually([&] { return LiveTabletServers() == 3; }))
        << "the cluster did not see its three tablet servers";
  }

  size_t LiveTabletServers() {
    auto nodes = Conn().GetAdmin()->GetServerNodes();
    if (!nodes.ok()) return 0;
    size_t n = 0;
    for (const ServerNode& node : *nodes) n += node.role == ServerRole::kTabletServer;
    return n;
  }

  TablePath CreateTable(const std::string& name, int buckets, int replication, bool primary_key) {
    auto admin = Conn().GetAdmin();
    EXPECT_TRUE(admin->CreateDatabase("rb", DatabaseDescriptor(), true).ok());
    TableDescriptor::Parts parts;
    if (primary_key) {
      parts.schema = *Schema::Builder()
                          .AddColumn("k", DataType::Int().NotNull())
                          .AddColumn("v", DataType::BigInt())
                          .PrimaryKey({"k"})
                          .Build();
      parts.distribution = TableDistribution{buckets, {"k"}};
    } else {
      parts.schema = *Schema::Builder()
                          .AddColumn("id", DataType::Int().NotNull())
                          .AddColumn("name", DataType::String())
                          .Build();
      parts.distribution = TableDistribution{buckets, {"id"}};
    }
    parts.properties = {{"table.replication.factor", std::to_string(replication)}};
    auto descriptor = TableDescriptor::Make(std::move(parts));
    EXPECT_TRUE(descriptor.ok()) << descriptor.status().ToString();
    TablePath path("rb", name);
    Status created = admin->CreateTable(path, *descriptor);
    EXPECT_TRUE(created.ok()) << created.ToString();
    return path;
  }

  /// Every bucket of `path` has a leader and an ISR that holds all its replicas.
  bool Settled(const TablePath& path, std::vector<BucketLocation>* out = nullptr) {
    auto buckets = Conn().GetAdmin()->GetBucketLocations(path);
    if (!buckets.ok()) return false;
    for (const BucketLocation& b : *buckets) {
      if (!b.leader || !b.isr) return false;
      std::set<ServerId> replicas(b.replicas.begin(), b.replicas.end());
      std::set<ServerId> isr(b.isr->begin(), b.isr->end());
      if (replicas != isr) return false;
    }
    if (out != nullptr) *out = *buckets;
    return true;
  }

  /// Reads the whole log table and answers how often each id was seen.
  std::map<int32_t, int> ReadIds(const TablePath& path) {
    std::map<int32_t, int> seen;
    auto latest = Conn().GetAdmin()->ListOffsets(path, {}, OffsetSpec::Latest());
    EXPECT_TRUE(latest.ok()) << latest.status().ToString();
    if (!latest.ok()) return seen;
    int64_t expected = 0;
    for (const auto& [bucket, offset] : *latest) expected += offset.value();
    auto table = Conn().GetTable(path);
    EXPECT_TRUE(table.ok());
    if (!table.ok()) return seen;
    auto scanner = (*table)->NewScan().CreateLogScanner();
    EXPECT_TRUE(scanner.ok());
    if (!scanner.ok()) return seen;
    EXPECT_TRUE((*scanner)->SubscribeAll(OffsetSpec::Earliest()).ok());
    int64_t read = 0;
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (read < expected && std::chrono::steady_clock::now() < deadline) {
      auto records = (*scanner)->Poll(1s);
      if (!records.ok()) {
        EXPECT_TRUE(records.status().IsRetriable()) << records.status().ToString();
        continue;
      }
      for (const ScanRecord& r : *records) {
        ++seen[r.row[0].as<int32_t>()];
        ++read;
      }
    }
    EXPECT_EQ(read, expected) << path.ToString() << ": records below the high watermark";
    return seen;
  }

  struct CliRun {
    int exit_code;
    std::string out;
    std::string err;
  };
  /// Runs the `strom` CLI against the cluster.
  CliRun Cli(std::vector<std::string> args) {
    std::string out_file = (dir_ / "cli.out").string();
    std::string err_file = (dir_ / "cli.err").string();
    std::vector<std::string> full = {STROM_CLI_BIN, "--bootstrap-server", cluster_->bootstrap()};
    full.insert(full.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : full) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
      int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(out, STDOUT_FILENO);
      ::dup2(err, STDERR_FILENO);
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
};

TEST_F(ClusterRebalanceTest, AddedServerTakesReplicasAndATaggedOneIsDrainedWhileClientsWrite) {
  const TablePath rf3 = CreateTable("rf3", 6, 3, false);
  const TablePath rf2 = CreateTable("rf2", 6, 2, false);
  const TablePath kv = CreateTable("kv", 4, 3, true);
  const std::vector<TablePath> tables = {rf3, rf2, kv};
  for (const TablePath& t : tables) {
    ASSERT_TRUE(Eventually([&] { return Settled(t); })) << t.ToString() << " did not settle";
  }
  // Nothing to cancel yet.
  {
    CliRun run = Cli({"cluster", "rebalance", "--cancel"});
    EXPECT_EQ(run.exit_code, 3) << run.out << run.err;
    EXPECT_NE(run.err.find("NO_REBALANCE_IN_PROGRESS_EXCEPTION"), std::string::npos) << run.err;
  }
  // Nothing to do yet: an even cluster gets an empty plan, COMPLETED at once.
  {
    CliRun run = Cli({"--format", "json", "cluster", "rebalance", "--wait"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    auto doc = nlohmann::json::parse(run.out);
    EXPECT_EQ(doc["status"], "COMPLETED") << run.out;
    EXPECT_EQ(doc["buckets_total"], 0) << run.out;
  }

  Producer p3(Conn(), rf3);
  Producer p2(Conn(), rf2);
  Upserter upserter(Conn(), kv);
  p3.Start();
  p2.Start();
  upserter.Start();
  std::this_thread::sleep_for(2s);

  ASSERT_TRUE(cluster_->StartTablet(3));
  ASSERT_TRUE(Eventually([&] { return LiveTabletServers() == 4; }));
  std::this_thread::sleep_for(1s);

  CliRun run = Cli({"--format", "json", "cluster", "rebalance", "--wait", "--timeout", "150"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  auto report = nlohmann::json::parse(run.out);
  EXPECT_EQ(report["status"], "COMPLETED") << run.out;
  EXPECT_GT(report["buckets_total"].get<int>(), 0) << run.out;
  EXPECT_EQ(report["buckets_done"], report["buckets_total"]) << run.out;
  for (const auto& b : report["buckets"]) EXPECT_EQ(b["status"], "COMPLETED") << b.dump();
  // The human status report names the same rebalance.
  CliRun status = Cli({"cluster", "rebalance", "--status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find(report["rebalance_id"].get<std::string>() + ": COMPLETED"),
            std::string::npos)
      << status.out;

  // Replicas and leaders are even, the new server has its share, every ISR is full.
  auto layout = [&](std::map<int32_t, int>* replicas, std::map<int32_t, int>* leaders) {
    for (const TablePath& t : tables) {
      std::vector<BucketLocation> buckets;
      ASSERT_TRUE(Eventually([&] { return Settled(t, &buckets); }))
          << t.ToString() << ": some ISR is not full";
      for (const BucketLocation& b : buckets) {
        for (ServerId r : b.replicas) ++(*replicas)[r.value()];
        ++(*leaders)[b.leader->value()];
      }
    }
  };
  auto spread = [](std::map<int32_t, int>& counts, std::vector<int> servers) {
    int lo = 1 << 30, hi = 0;
    for (int ts : servers) {
      lo = std::min(lo, counts[ts]);
      hi = std::max(hi, counts[ts]);
    }
    return hi - lo;
  };
  {
    std::map<int32_t, int> replicas, leaders;
    layout(&replicas, &leaders);
    EXPECT_LE(spread(replicas, {0, 1, 2, 3}), 1)
        << "replica counts " << replicas[0] << "," << replicas[1] << "," << replicas[2] << ","
        << replicas[3];
    EXPECT_GE(replicas[3], 10);  // 42 replicas over 4 servers
    EXPECT_GE(leaders[3], 3);    // 16 leaders over 4 servers
    for (int ts = 0; ts < 4; ++ts) EXPECT_LE(leaders[ts], 5) << "server " << ts;
  }

  // Decommissioning server 0 while the writers go on: tagged, then rebalanced away.
  CliRun tag = Cli({"cluster", "tag", "add", "0"});
  ASSERT_EQ(tag.exit_code, 0) << tag.out << tag.err;
  CliRun drain = Cli({"--format", "json", "cluster", "rebalance", "--wait", "--timeout", "150"});
  ASSERT_EQ(drain.exit_code, 0) << drain.out << drain.err;
  EXPECT_EQ(nlohmann::json::parse(drain.out)["status"], "COMPLETED") << drain.out;

  // Writers carry on a little after the moves.
  std::this_thread::sleep_for(2s);
  p3.Stop();
  p2.Stop();
  upserter.Stop();
  {
    std::map<int32_t, int> replicas, leaders;
    layout(&replicas, &leaders);
    EXPECT_EQ(replicas[0], 0);
    EXPECT_EQ(leaders[0], 0);
    EXPECT_LE(spread(replicas, {1, 2, 3}), 1);
  }

  // The writers saw no error at all (retriable ones are retried inside the client).
  ASSERT_TRUE(p3.setup.ok()) << p3.setup.ToString();
  ASSERT_TRUE(p2.setup.ok()) << p2.setup.ToString();
  ASSERT_TRUE(upserter.setup.ok()) << upserter.setup.ToString();
  for (const Status& s : p3.errors) ADD_FAILURE() << "rf3 writer: " << s.ToString();
  for (const Status& s : p2.errors) ADD_FAILURE() << "rf2 writer: " << s.ToString();
  for (const Status& s : upserter.errors) ADD_FAILURE() << "kv writer: " << s.ToString();
  EXPECT_GT(p3.acked.size(), 500u);
  EXPECT_GT(p2.acked.size(), 500u);
  EXPECT_GT(upserter.rounds, 5);

  // Every acknowledged row is there exactly once, and nothing else is.
  for (Producer* p : {&p3, &p2}) {
    const TablePath& path = p == &p3 ? rf3 : rf2;
    std::map<int32_t, int> seen = ReadIds(path);
    for (int32_t id : p->acked) EXPECT_EQ(seen[id], 1) << path.ToString() << " id " << id;
    EXPECT_EQ(seen.size(), p->acked.size()) << path.ToString();
  }

  // The primary-key table answers with the last acknowledged value of every key from its
  // (possibly new) leaders.
  auto table = Conn().GetTable(kv);
  ASSERT_TRUE(table.ok());
  auto lookuper = (*table)->NewLookup().CreateLookuper();
  ASSERT_TRUE(lookuper.ok()) << lookuper.status().ToString();
  for (int32_t key = 0; key < kKeys; ++key) {
    auto found = (*lookuper)->Lookup(GenericRow{Datum(key)});
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    ASSERT_TRUE(found->row().has_value()) << "key " << key;
    EXPECT_EQ((*found->row())[1].as<int64_t>(), upserter.last_acked.at(key)) << "key " << key;
  }
}

}  // namespace
}  // namespace strom
