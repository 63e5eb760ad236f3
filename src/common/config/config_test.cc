#include "common/config/config.h"

#include <gtest/gtest.h>

#include <set>

#include "common/config/options.h"

namespace strom::config {
namespace {

TEST(ConfigParseTest, DurationsInFlussSyntax) {
  EXPECT_EQ(ParseDuration("7 d")->count(), 7 * 24 * 3600 * 1000LL);
  EXPECT_EQ(ParseDuration("30 s")->count(), 30000);
  EXPECT_EQ(ParseDuration("500ms")->count(), 500);
  EXPECT_EQ(ParseDuration("10 min")->count(), 600000);
  EXPECT_EQ(ParseDuration("2h")->count(), 7200000);
  EXPECT_EQ(ParseDuration("1500")->count(), 1500);  // bare number: milliseconds
  EXPECT_EQ(ParseDuration("2000000 ns")->count(), 2);
  EXPECT_EQ(ParseDuration("5 SECONDS")->count(), 5000);
  EXPECT_FALSE(ParseDuration("fast").ok());
  EXPECT_FALSE(ParseDuration("10 fortnights").ok());
  EXPECT_EQ(ParseDuration("10 fortnights").status().code(), ErrorCode::kInvalidConfig);
  EXPECT_FALSE(ParseDuration("99999999999999999999 d").ok());
}

TEST(ConfigParseTest, MemorySizesInFlussSyntax) {
  EXPECT_EQ(*ParseMemorySize("1024m"), 1024LL << 20);
  EXPECT_EQ(*ParseMemorySize("4 kb"), 4096);
  EXPECT_EQ(*ParseMemorySize("1b"), 1);
  EXPECT_EQ(*ParseMemorySize("100"), 100);
  EXPECT_EQ(*ParseMemorySize("2 GB"), 2LL << 30);
  EXPECT_FALSE(ParseMemorySize("-1mb").ok());
  EXPECT_FALSE(ParseMemorySize("10 parsecs").ok());
  EXPECT_FALSE(ParseMemorySize("9000000 tb").ok());  // overflows int64
}

TEST(ConfigurationTest, DefaultsAreFlussDefaults) {
  Configuration conf;
  EXPECT_EQ(conf.Get(kDataDir), "/tmp/fluss-data");
  EXPECT_EQ(conf.Get(kDefaultBucketNumber), 1);
  EXPECT_EQ(conf.Get(kLogSegmentFileSize), 1024LL << 20);
  EXPECT_EQ(conf.Get(kLogReplicaMaxLagTime).count(), 30000);
  EXPECT_EQ(conf.Get(kTableLogFormat), "ARROW");
  EXPECT_EQ(conf.Get(kTableLogArrowCompressionType), "ZSTD");
  EXPECT_EQ(conf.Get(kZookeeperPathRoot), "/fluss");
  EXPECT_EQ(conf.Get(kNettyServerMaxRequestSize), 100LL << 20);
  EXPECT_FALSE(conf.GetOptional(kTabletServerId).has_value());
  EXPECT_TRUE(conf.Get(kAllowCreateKvTables));
}

TEST(ConfigurationTest, LoadsServerYamlFlatAndNested) {
  auto conf = Configuration::FromYaml(R"(
# a Fluss server.yaml
bind.listeners: FLUSS://127.0.0.1:9123
zookeeper.address: 127.0.0.1:2181
data.dir: /var/lib/strom
default.bucket.number: 3
tablet-server:
  id: 7
  rack: rack-a
log:
  segment.file-size: 256mb
  replica.max-lag-time: 10 s
table.log.format: indexed
my.plugin.option: whatever
)");
  ASSERT_TRUE(conf.ok()) << conf.status().ToString();
  EXPECT_EQ(conf->Get(kBindListeners), "FLUSS://127.0.0.1:9123");
  EXPECT_EQ(conf->Get(kDataDir), "/var/lib/strom");
  EXPECT_EQ(conf->Get(kDefaultBucketNumber), 3);
  EXPECT_EQ(conf->GetOptional(kTabletServerId), 7);
  EXPECT_EQ(conf->Get(kTabletServerRack), "rack-a");
  EXPECT_EQ(conf->Get(kLogSegmentFileSize), 256LL << 20);
  EXPECT_EQ(conf->Get(kLogReplicaMaxLagTime).count(), 10000);
  EXPECT_EQ(conf->Get(kTableLogFormat), "indexed");  // enums match case-insensitively
  EXPECT_EQ(conf->UnknownKeys(), std::vector<std::string>{"my.plugin.option"});
}

TEST(ConfigurationTest, RejectsBadValuesWithTheKeyInTheMessage) {
  auto bad_int = Configuration::FromYaml("default.bucket.number: three\n");
  ASSERT_FALSE(bad_int.ok());
  EXPECT_EQ(bad_int.status().code(), ErrorCode::kInvalidConfig);
  EXPECT_NE(bad_int.status().message().find("default.bucket.number"), std::string::npos);

  EXPECT_FALSE(Configuration::FromYaml("table.log.format: PARQUET\n").ok());
  EXPECT_FALSE(Configuration::FromYaml("log.replica.max-lag-time: soon\n").ok());
  EXPECT_FALSE(Configuration::FromYaml("authorizer.enabled: maybe\n").ok());
  EXPECT_FALSE(Configuration::FromYaml("key: [unclosed\n").ok());
  EXPECT_FALSE(Configuration::FromYaml("- just\n- a list\n").ok());
  EXPECT_FALSE(Configuration::LoadFile("/nonexistent/server.yaml").ok());
}

TEST(ConfigurationTest, ReferenceTableListsEveryOptionOnce) {
  std::string table = ReferenceTable();
  std::set<std::string_view> keys;
  for (const OptionSpec* spec : AllOptions()) {
    EXPECT_TRUE(keys.insert(spec->key).second) << "duplicate option " << spec->key;
    EXPECT_NE(table.find(fmt::format("`{}`", spec->key)), std::string::npos) << spec->key;
    EXPECT_FALSE(spec->description.empty()) << spec->key;
    if (spec->has_default()) {
      EXPECT_TRUE(ValidateValue(*spec, spec->default_value).ok()) << spec->key;
    }
    EXPECT_EQ(FindOption(spec->key), spec);
  }
  EXPECT_EQ(FindOption("no.such.option"), nullptr);
}

}  // namespace
}  // namespace strom::config
