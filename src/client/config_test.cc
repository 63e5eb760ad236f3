#include <gtest/gtest.h>

#include "strom/config.h"
#include "strom/types.h"

namespace strom {
namespace {

TEST(ClientConfigTest, DefaultsMatchTheJavaClient) {
  ClientConfig config;
  EXPECT_TRUE(config.Validate().ok());
  EXPECT_EQ(config.writer_acks, -1);
  EXPECT_EQ(config.writer_batch_size, 2 * 1024 * 1024);
  EXPECT_EQ(config.writer_batch_timeout, std::chrono::milliseconds(100));
  EXPECT_EQ(config.writer_max_inflight_requests_per_bucket, 5);
  EXPECT_TRUE(config.writer_enable_idempotence);
  EXPECT_EQ(config.scanner_fetch_max_bytes, 16 * 1024 * 1024);
  EXPECT_EQ(config.scanner_fetch_wait_max_time, std::chrono::milliseconds(500));
}

TEST(ClientConfigTest, FromFlussOptionKeys) {
  auto config = ClientConfig::FromProperties({
      {"bootstrap.servers", "a:1, b:2"},
      {"client.writer.batch-size", "4mb"},
      {"client.writer.batch-timeout", "5 ms"},
      {"client.writer.acks", "all"},
      {"client.writer.bucket.no-key-assigner", "round_robin"},
      {"client.scanner.log.fetch.wait-max-time", "1s"},
      {"client.scanner.log.check-crc", "false"},
      {"client.request-timeout", "10 s"},
      {"client.writer.delivery-timeout", "2 min"},
  });
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->writer_batch_size, 4 * 1024 * 1024);
  EXPECT_EQ(config->writer_batch_timeout, std::chrono::milliseconds(5));
  EXPECT_EQ(config->writer_no_key_assigner, NoKeyAssigner::kRoundRobin);
  EXPECT_EQ(config->scanner_fetch_wait_max_time, std::chrono::milliseconds(1000));
  EXPECT_FALSE(config->scanner_check_crc);
  EXPECT_EQ(config->request_timeout, std::chrono::milliseconds(10000));
  EXPECT_EQ(config->writer_delivery_timeout, std::chrono::milliseconds(120000));
  auto addresses = config->BootstrapAddresses();
  ASSERT_TRUE(addresses.ok());
  ASSERT_EQ(addresses->size(), 2u);
  EXPECT_EQ((*addresses)[1].first, "b");
  EXPECT_EQ((*addresses)[1].second, 2);
}

TEST(ClientConfigTest, RejectsBadValuesAndCombinations) {
  EXPECT_EQ(ClientConfig::FromProperties({{"client.nope", "1"}}).status().code(),
            ErrorCode::kInvalidConfig);
  EXPECT_FALSE(ClientConfig::FromProperties({{"client.writer.batch-size", "lots"}}).ok());
  EXPECT_FALSE(ClientConfig::FromProperties({{"client.writer.acks", "2"}}).ok());
  // Idempotence needs acks=all and at most 5 in-flight batches per bucket.
  EXPECT_FALSE(ClientConfig::FromProperties({{"client.writer.acks", "1"}}).ok());
  EXPECT_TRUE(ClientConfig::FromProperties({{"client.writer.acks", "1"},
                                            {"client.writer.enable-idempotence", "false"}})
                  .ok());
  EXPECT_FALSE(
      ClientConfig::FromProperties({{"client.writer.max-inflight-requests-per-bucket", "6"}}).ok());
  for (const char* bad : {"", "host", "host:", ":1", "host:0", "host:70000", "host:x"}) {
    ClientConfig config;
    config.bootstrap_servers = bad;
    EXPECT_FALSE(config.Validate().ok()) << bad;
  }
  ClientConfig v6;
  v6.bootstrap_servers = "[::1]:9123";
  ASSERT_TRUE(v6.BootstrapAddresses().ok());
  EXPECT_EQ(v6.BootstrapAddresses()->front().first, "::1");
}

TEST(TablePathTest, ParseAndFormat) {
  auto path = TablePath::Parse("db.events");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path->database, "db");
  EXPECT_EQ(path->table, "events");
  EXPECT_EQ(path->ToString(), "db.events");
  for (const char* bad : {"", "db", ".t", "db.", "a.b.c"}) {
    EXPECT_EQ(TablePath::Parse(bad).status().code(), ErrorCode::kInvalidTable) << bad;
  }
  EXPECT_EQ(ParseLogFormat("indexed").value(), LogFormat::kIndexed);
  EXPECT_FALSE(ParseLogFormat("parquet").ok());
}

}  // namespace
}  // namespace strom
