// `strom-server local --tablet-servers 3`: a replicated cluster in one process (its own
// ZooKeeper, a coordinator, three tablet servers on their own ports), used through the C++
// client like any cluster.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "integration/server_process.h"
#include "strom/client.h"

namespace strom {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST(LocalClusterProcessTest, ThreeTabletServersReplicateInOneProcess) {
  const fs::path dir =
      fs::temp_directory_path() / ("strom-local-cluster-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto server = testing::ServerProcess::Start(STROM_SERVER_BIN, dir.string(), 90s,
                                              {"--tablet-servers", "3"});
  ASSERT_NE(server, nullptr) << "strom-server local --tablet-servers 3 did not start";
  // Its own ZooKeeper keeps its data beside the servers'.
  EXPECT_TRUE(fs::exists(dir / "zookeeper" / "zoo.cfg"));

  ClientConfig config;
  config.bootstrap_servers = server->address();
  auto conn = Connection::Create(config);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto admin = (*conn)->GetAdmin();

  // The ready line comes once the coordinator has seen every tablet server; the servers'
  // own metadata caches follow with the coordinator's next UpdateMetadata.
  int tablet_servers = 0;
  const auto nodes_deadline = std::chrono::steady_clock::now() + 10s;
  while (tablet_servers != 3 && std::chrono::steady_clock::now() < nodes_deadline) {
    auto nodes = admin->GetServerNodes();
    ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
    tablet_servers = 0;
    for (const ServerNode& node : *nodes) {
      if (node.role == ServerRole::kTabletServer) ++tablet_servers;
    }
    if (tablet_servers != 3) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(tablet_servers, 3);

  ASSERT_TRUE(admin->CreateDatabase("lc").ok());
  const TablePath path("lc", "events");
  TableDescriptor::Parts parts;
  parts.schema = *Schema::Builder()
                      .AddColumn("id", DataType::Int().NotNull())
                      .AddColumn("name", DataType::String())
                      .Build();
  parts.distribution = TableDistribution{3, {"id"}};
  auto descriptor = TableDescriptor::Make(std::move(parts));
  ASSERT_TRUE(descriptor.ok()) << descriptor.status().ToString();
  Status created = admin->CreateTable(path, *descriptor);
  ASSERT_TRUE(created.ok()) << created.ToString();

  // Replication factor 3 by default here; every replica joins the ISR.
  std::vector<BucketLocation> locations;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  bool all_in_sync = false;
  while (!all_in_sync && std::chrono::steady_clock::now() < deadline) {
    auto got = admin->GetBucketLocations(path);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    locations = *got;
    all_in_sync = locations.size() == 3;
    for (const BucketLocation& b : locations) {
      all_in_sync = all_in_sync && b.leader && b.replicas.size() == 3 && b.isr &&
                    b.isr->size() == 3;
    }
    if (!all_in_sync) std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(all_in_sync) << "buckets did not get 3 replicas in sync";

  auto table = (*conn)->GetTable(path);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  auto writer = (*table)->NewAppend().CreateWriter();
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  constexpr int kRows = 3000;
  for (int32_t i = 0; i < kRows; ++i) {
    GenericRow row;
    row.push_back(Datum(i));
    row.push_back(Datum("row " + std::to_string(i)));
    ASSERT_TRUE((*writer)->Append(row).ok());
  }
  ASSERT_TRUE((*writer)->Flush().ok());

  auto scanner = (*table)->NewScan().CreateLogScanner();
  ASSERT_TRUE(scanner.ok()) << scanner.status().ToString();
  ASSERT_TRUE((*scanner)->SubscribeAll(OffsetSpec::Earliest()).ok());
  std::vector<bool> seen(kRows, false);
  int read = 0;
  const auto scan_deadline = std::chrono::steady_clock::now() + 60s;
  while (read < kRows && std::chrono::steady_clock::now() < scan_deadline) {
    auto records = (*scanner)->Poll(500ms);
    ASSERT_TRUE(records.ok()) << records.status().ToString();
    for (const ScanRecord& record : *records) {
      int32_t id = record.row[0].as<int32_t>();
      ASSERT_GE(id, 0);
      ASSERT_LT(id, kRows);
      EXPECT_FALSE(seen[id]) << "row " << id << " read twice";
      seen[id] = true;
      ++read;
    }
  }
  EXPECT_EQ(read, kRows);

  scanner->reset();
  writer->reset();
  conn->reset();
  // A graceful stop ends every server and the ZooKeeper it started.
  EXPECT_EQ(server->Terminate(60s), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace strom
