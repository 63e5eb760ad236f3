#include "proto/api_keys.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace strom::proto {
namespace {

TEST(ApiKeysTest, TableCoversEveryIdFrom1000To1061) {
  auto apis = AllApis();
  ASSERT_EQ(apis.size(), 62u);
  std::set<std::string_view> names;
  for (int16_t id = 1000; id <= 1061; ++id) {
    const ApiInfo* info = FindApi(id);
    ASSERT_NE(info, nullptr) << id;
    EXPECT_EQ(info->id(), id);
    EXPECT_EQ(&apis[static_cast<size_t>(id - 1000)], info);
    EXPECT_EQ(info->min_version, 0) << info->name;
    EXPECT_TRUE(names.insert(info->name).second) << "duplicate name " << info->name;
    EXPECT_EQ(ApiKeyFromWire(id), info->key);
    EXPECT_EQ(ApiKeyName(info->key), info->name);
  }
}

TEST(ApiKeysTest, UnknownIdsAreNotFound) {
  for (int16_t id : {int16_t{-1}, int16_t{0}, int16_t{999}, int16_t{1062}, int16_t{1064},
                     int16_t{32767}}) {
    EXPECT_EQ(FindApi(id), nullptr) << id;
    EXPECT_EQ(ApiKeyFromWire(id), std::nullopt) << id;
  }
  EXPECT_EQ(ApiKeyName(static_cast<ApiKey>(2000)), "UNKNOWN");
}

TEST(ApiKeysTest, SpotChecksAgainstFluss091) {
  const ApiInfo& put_kv = GetApiInfo(ApiKey::kPutKv);
  EXPECT_EQ(put_kv.id(), 1016);
  EXPECT_EQ(put_kv.name, "PUT_KV");
  EXPECT_EQ(put_kv.max_version, 1);
  EXPECT_TRUE(put_kv.SupportsVersion(0));
  EXPECT_TRUE(put_kv.SupportsVersion(1));
  EXPECT_FALSE(put_kv.SupportsVersion(2));
  EXPECT_FALSE(put_kv.SupportsVersion(-1));
  EXPECT_EQ(put_kv.visibility, ApiVisibility::kPublic);
  EXPECT_EQ(put_kv.served_by, ServedBy::kTabletServer);
  EXPECT_EQ(put_kv.request_message, "PutKvRequest");
  EXPECT_EQ(put_kv.response_message, "PutKvResponse");

  EXPECT_EQ(GetApiInfo(ApiKey::kLookup).max_version, 1);
  EXPECT_EQ(GetApiInfo(ApiKey::kPrefixLookup).max_version, 1);
  EXPECT_EQ(GetApiInfo(ApiKey::kProduceLog).max_version, 0);

  const ApiInfo* stats = FindApi(1059);
  ASSERT_NE(stats, nullptr);
  EXPECT_EQ(stats->key, ApiKey::kGetTableStats);
  EXPECT_EQ(stats->name, "GET_TABLE_STATS");
  EXPECT_EQ(stats->served_by, ServedBy::kTabletServer);
  EXPECT_EQ(stats->visibility, ApiVisibility::kPublic);

  const ApiInfo& metadata = GetApiInfo(ApiKey::kGetMetadata);
  EXPECT_EQ(metadata.id(), 1012);
  EXPECT_EQ(metadata.request_message, "MetadataRequest");
  EXPECT_EQ(metadata.served_by, ServedBy::kBoth);

  EXPECT_EQ(GetApiInfo(ApiKey::kGetFileSystemSecurityToken).request_message,
            "GetFileSystemSecurityTokenRequest");
  EXPECT_EQ(GetApiInfo(ApiKey::kPrepareLakeTableSnapshot).id(), 1052);
  EXPECT_EQ(GetApiInfo(ApiKey::kAuthenticate).id(), 1038);
}

TEST(ApiKeysTest, PrivateApisAreTheServerToServerOnes) {
  std::set<int16_t> expected = {1013, 1018, 1019, 1020, 1022, 1027, 1028,
                                1029, 1030, 1031, 1042, 1043, 1052};
  std::set<int16_t> actual;
  for (const ApiInfo& info : AllApis()) {
    if (info.visibility == ApiVisibility::kPrivate) actual.insert(info.id());
  }
  EXPECT_EQ(actual, expected);
}

TEST(ApiKeysTest, ServedByRole) {
  const ApiInfo& create_table = GetApiInfo(ApiKey::kCreateTable);
  EXPECT_TRUE(create_table.IsServedBy(ServerType::kCoordinator));
  EXPECT_FALSE(create_table.IsServedBy(ServerType::kTabletServer));

  const ApiInfo& fetch = GetApiInfo(ApiKey::kFetchLog);
  EXPECT_FALSE(fetch.IsServedBy(ServerType::kCoordinator));
  EXPECT_TRUE(fetch.IsServedBy(ServerType::kTabletServer));

  const ApiInfo& versions = GetApiInfo(ApiKey::kApiVersions);
  EXPECT_TRUE(versions.IsServedBy(ServerType::kCoordinator));
  EXPECT_TRUE(versions.IsServedBy(ServerType::kTabletServer));

  // The minimum client sets of spec §7.1 are all served by the matching role.
  for (int16_t id : {1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1010, 1011, 1012, 1035,
                     1036, 1037, 1009, 1038}) {
    EXPECT_TRUE(FindApi(id)->IsServedBy(ServerType::kCoordinator)) << id;
  }
  for (int16_t id : {1003, 1004, 1007, 1008, 1009, 1010, 1011, 1012, 1014, 1015, 1016, 1017,
                     1021, 1025, 1026, 1033, 1034, 1035, 1038}) {
    EXPECT_TRUE(FindApi(id)->IsServedBy(ServerType::kTabletServer)) << id;
  }
}

}  // namespace
}  // namespace strom::proto
