#include "client/bucket_assigner.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "testutil/golden.h"

namespace strom::client {
namespace {

using record::DataType;
using record::Datum;
using record::GenericRow;

record::DataField Field(std::string name, DataType type) {
  record::DataField field;
  field.name = std::move(name);
  field.type = std::move(type);
  return field;
}

DataType TypeFromGolden(const std::string& name) {
  if (name == "INT") return DataType::Int();
  if (name == "BIGINT") return DataType::BigInt();
  if (name == "STRING") return DataType::String();
  if (name == "DOUBLE") return DataType::Double();
  return DataType::Boolean();
}

Datum ValueFromGolden(const std::string& type, const nlohmann::json& value) {
  if (type == "INT") return Datum(static_cast<int32_t>(testutil::JsonInt64(value)));
  if (type == "BIGINT") return Datum(testutil::JsonInt64(value));
  if (type == "STRING") return Datum(value["value"].get<std::string>());
  if (type == "DOUBLE") return Datum(value["value"].get<double>());
  return Datum();
}

// Fluss 0.9.1's own bucket numbers for rows of simple column types (keys_and_buckets.json):
// the hash assigner must put every row where the Java client puts it.
TEST(HashBucketAssignerTest, MatchesFlussBucketsForGoldenRows) {
  nlohmann::json golden = testutil::LoadGolden("keys_and_buckets.json");
  int checked = 0;
  for (const auto& entry : golden["entries"]) {
    bool simple = true;
    for (const auto& column : entry["row_schema"]) {
      std::string type = column["type"];
      if (type != "INT" && type != "BIGINT" && type != "STRING" && type != "DOUBLE") simple = false;
    }
    if (!simple) continue;
    std::vector<record::DataField> fields;
    GenericRow row;
    for (size_t i = 0; i < entry["row_schema"].size(); ++i) {
      std::string type = entry["row_schema"][i]["type"];
      fields.push_back(Field(entry["row_schema"][i]["name"], TypeFromGolden(type)));
      row.push_back(ValueFromGolden(type, entry["row_values"][i]["value"]));
    }
    std::vector<std::string> keys = entry["key_fields"];
    for (const auto& [count, bucket] : entry["buckets"].items()) {
      auto assigner = HashBucketAssigner::Create(DataType::Row(fields), keys,
                                                 record::DataLakeFormat::kNone, std::stoi(count));
      ASSERT_TRUE(assigner.ok()) << assigner.status().ToString();
      Result<BucketId> assigned = (*assigner)->Assign(row, {});
      ASSERT_TRUE(assigned.ok()) << assigned.status().ToString();
      EXPECT_EQ(assigned->value(), bucket.get<int>())
          << entry["id"] << " with " << count << " buckets";
      ++checked;
    }
  }
  EXPECT_GT(checked, 50);
}

TEST(HashBucketAssignerTest, NullKeyIsRefused) {
  auto assigner = HashBucketAssigner::Create(DataType::Row({Field("k", DataType::Int())}), {"k"},
                                             record::DataLakeFormat::kNone, 4);
  ASSERT_TRUE(assigner.ok());
  Result<BucketId> bucket = (*assigner)->Assign(GenericRow{Datum()}, {});
  EXPECT_FALSE(bucket.ok());
}

TEST(HashBucketAssignerTest, UnknownKeyColumnIsRefused) {
  auto assigner = HashBucketAssigner::Create(DataType::Row({Field("k", DataType::Int())}), {"nope"},
                                             record::DataLakeFormat::kNone, 4);
  EXPECT_FALSE(assigner.ok());
}

TEST(StickyBucketAssignerTest, KeepsBucketUntilBatchFills) {
  StickyBucketAssigner assigner(8, 42);
  std::vector<BucketId> available;
  for (int i = 0; i < 8; ++i) available.emplace_back(i);
  BucketId first = *assigner.Assign({}, available);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(*assigner.Assign({}, available), first);
  // A full batch in another bucket does not move the sticky bucket.
  BucketId other((first.value() + 1) % 8);
  assigner.OnNewBatch(other, available);
  EXPECT_EQ(*assigner.Assign({}, available), first);
  // Its own batch filling up moves it to a different available bucket.
  assigner.OnNewBatch(first, available);
  BucketId second = *assigner.Assign({}, available);
  EXPECT_NE(second, first);
  EXPECT_GE(second.value(), 0);
  EXPECT_LT(second.value(), 8);
}

TEST(StickyBucketAssignerTest, PrefersAvailableBuckets) {
  StickyBucketAssigner assigner(16, 7);
  std::vector<BucketId> available = {BucketId(3), BucketId(9)};
  std::set<int32_t> seen;
  BucketId current = *assigner.Assign({}, available);
  for (int i = 0; i < 50; ++i) {
    seen.insert(current.value());
    assigner.OnNewBatch(current, available);
    BucketId next = *assigner.Assign({}, available);
    EXPECT_NE(next, current);  // two available buckets: it alternates
    current = next;
  }
  EXPECT_EQ(seen, (std::set<int32_t>{3, 9}));
}

TEST(StickyBucketAssignerTest, SingleAvailableBucketStays) {
  StickyBucketAssigner assigner(4, 1);
  std::vector<BucketId> available = {BucketId(2)};
  EXPECT_EQ(assigner.Assign({}, available)->value(), 2);
  assigner.OnNewBatch(BucketId(2), available);
  EXPECT_EQ(assigner.Assign({}, available)->value(), 2);
}

TEST(StickyBucketAssignerTest, WithoutMetadataUsesAllBuckets) {
  std::set<int32_t> seen;
  StickyBucketAssigner assigner(5, 3);
  for (int i = 0; i < 200; ++i) {
    BucketId b = *assigner.Assign({}, {});
    ASSERT_GE(b.value(), 0);
    ASSERT_LT(b.value(), 5);
    seen.insert(b.value());
    assigner.OnNewBatch(b, {});
  }
  EXPECT_EQ(seen.size(), 5u);
}

TEST(RoundRobinBucketAssignerTest, CyclesOverAvailableBuckets) {
  RoundRobinBucketAssigner assigner(6, 11);
  std::vector<BucketId> available = {BucketId(1), BucketId(4), BucketId(5)};
  std::map<int32_t, int> counts;
  BucketId previous = *assigner.Assign({}, available);
  for (int i = 0; i < 300; ++i) {
    BucketId b = *assigner.Assign({}, available);
    EXPECT_NE(b, previous);
    previous = b;
    ++counts[b.value()];
  }
  EXPECT_EQ(counts.size(), 3u);
  for (const auto& [bucket, n] : counts) EXPECT_EQ(n, 100) << bucket;
}

TEST(MakeBucketAssignerTest, ChoosesByBucketKeys) {
  auto schema = record::Schema::Builder()
                    .AddColumn("id", DataType::Int())
                    .AddColumn("v", DataType::String())
                    .Build();
  ASSERT_TRUE(schema.ok());
  record::TableDescriptor::Parts parts;
  parts.schema = *schema;
  parts.distribution = record::TableDistribution{4, {"id"}};
  TableInfo info{TablePath("db", "t"), TableId(1), SchemaId(1),
                 *record::TableDescriptor::Make(parts), 0, 0};
  auto hash = MakeBucketAssigner(info, NoKeyAssigner::kSticky, 1);
  ASSERT_TRUE(hash.ok());
  EXPECT_NE(dynamic_cast<HashBucketAssigner*>(hash->get()), nullptr);

  parts.distribution = record::TableDistribution{4, {}};
  info.descriptor = *record::TableDescriptor::Make(parts);
  auto sticky = MakeBucketAssigner(info, NoKeyAssigner::kSticky, 1);
  ASSERT_TRUE(sticky.ok());
  EXPECT_NE(dynamic_cast<StickyBucketAssigner*>(sticky->get()), nullptr);
  auto round_robin = MakeBucketAssigner(info, NoKeyAssigner::kRoundRobin, 1);
  ASSERT_TRUE(round_robin.ok());
  EXPECT_NE(dynamic_cast<RoundRobinBucketAssigner*>(round_robin->get()), nullptr);
}

}  // namespace
}  // namespace strom::client
