#pragma once

// The behaviour every MetadataStore implementation shares, as a value-parameterised test
// suite. A test binary includes this header once and instantiates the suite with a factory
// of its implementation:
//
//   INSTANTIATE_TEST_SUITE_P(Embedded, MetadataStoreConformanceTest,
//                            ::testing::Values(StoreFactory{"Embedded", &MakeEmbedded}));

#include <gtest/gtest.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "metadata/metadata_store.h"
#include "testutil/run_task.h"

namespace strom::metadata::testing {

/// One durable state and the stores opened over it.
class StoreHarness {
 public:
  virtual ~StoreHarness() = default;
  /// A store over the harness's state: what earlier stores made durable is visible. The
  /// harness keeps alive whatever the store borrows.
  virtual std::unique_ptr<MetadataStore> Open() = 0;
  /// The reactor the stores run on.
  virtual asio::io_context& io() = 0;
};

struct StoreFactory {
  std::string name;
  std::function<std::unique_ptr<StoreHarness>()> make;
};

inline std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

inline record::Schema ConformanceSchema() {
  auto schema = record::Schema::Builder()
                    .AddColumn("id", record::DataType::Int())
                    .AddColumn("name", record::DataType::String())
                    .Build();
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  return std::move(schema).value();
}

inline TableRegistration ConformanceTable(TableId id, int32_t buckets = 3) {
  TableRegistration reg;
  reg.table_id = id;
  reg.bucket_count = buckets;
  reg.properties = {{"table.replication.factor", "1"}};
  reg.created_time = TimestampMs(1000);
  reg.modified_time = TimestampMs(1000);
  return reg;
}

inline TableAssignment ConformanceAssignment(int32_t buckets) {
  TableAssignment a;
  for (int32_t b = 0; b < buckets; ++b) a.buckets[BucketId(b)] = {ServerId(0)};
  return a;
}

class MetadataStoreConformanceTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    harness_ = GetParam().make();
    ASSERT_NE(harness_, nullptr);
  }
  void TearDown() override { harness_.reset(); }

  std::unique_ptr<MetadataStore> OpenStore() {
    auto store = harness_->Open();
    EXPECT_NE(store, nullptr);
    return store;
  }

  template <typename T>
  T Run(Task<T> task) {
    return testutil::RunTask(harness_->io(), std::move(task));
  }

  static DatabaseRegistration Db(TimestampMs t = TimestampMs(1)) {
    return DatabaseRegistration{record::DatabaseDescriptor(), t, t};
  }

  /// Creates db "db" and table db.t (id from the counter) and returns the table id.
  TableId CreateSampleTable(MetadataStore& store) {
    EXPECT_TRUE(Run(store.CreateDatabase("db", Db())).ok());
    auto id = Run(store.NextTableId());
    EXPECT_TRUE(id.ok());
    EXPECT_TRUE(Run(store.CreateTable({"db", "t"}, ConformanceTable(*id), ConformanceSchema(),
                                      ConformanceAssignment(3)))
                    .ok());
    return *id;
  }

  std::unique_ptr<StoreHarness> harness_;
};

TEST_P(MetadataStoreConformanceTest, EmptyStoreStartsEmpty) {
  auto store = OpenStore();
  auto dbs = Run(store->ListDatabases());
  ASSERT_TRUE(dbs.ok());
  EXPECT_TRUE(dbs->empty());
  EXPECT_TRUE(Run(store->ListTableAssignments())->empty());
  EXPECT_FALSE(Run(store->GetTable({"db", "t"}))->has_value());
  EXPECT_TRUE(Run(store->ListSchemaIds({"db", "t"}))->empty());
}

TEST_P(MetadataStoreConformanceTest, DatabaseLifecycleAndErrors) {
  auto store = OpenStore();
  DatabaseRegistration reg{record::DatabaseDescriptor("c", {{"k", "v"}}), TimestampMs(1),
                           TimestampMs(2)};
  ASSERT_TRUE(Run(store->CreateDatabase("db", reg)).ok());
  EXPECT_EQ(Run(store->CreateDatabase("db", reg)).code(), ErrorCode::kDatabaseAlreadyExist);
  auto got = Run(store->GetDatabase("db"));
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, reg);
  EXPECT_FALSE(Run(store->GetDatabase("nope"))->has_value());
  EXPECT_EQ(Run(store->ListTables("nope")).status().code(), ErrorCode::kDatabaseNotExist);
  EXPECT_EQ(Run(store->CreateTable({"nope", "t"}, ConformanceTable(TableId(0)),
                                   ConformanceSchema(), {}))
                .code(),
            ErrorCode::kDatabaseNotExist);
  EXPECT_EQ(*Run(store->ListTables("db")), std::vector<std::string>{});
  ASSERT_TRUE(Run(store->CreateDatabase("b2", Db())).ok());
  EXPECT_EQ(*Run(store->ListDatabases()), (std::vector<std::string>{"b2", "db"}));
  ASSERT_TRUE(Run(store->DeleteDatabase("db")).ok());
  EXPECT_EQ(Run(store->DeleteDatabase("db")).code(), ErrorCode::kDatabaseNotExist);
  EXPECT_EQ(*Run(store->ListDatabases()), std::vector<std::string>{"b2"});
}

TEST_P(MetadataStoreConformanceTest, TableSchemaAndAssignmentSurviveReopen) {
  TableId id;
  {
    auto store = OpenStore();
    id = CreateSampleTable(*store);
    EXPECT_EQ(Run(store->CreateTable({"db", "t"}, ConformanceTable(TableId(99)),
                                     ConformanceSchema(), {}))
                  .code(),
              ErrorCode::kTableAlreadyExist);
    auto second = Run(store->RegisterSchema({"db", "t"}, ConformanceSchema()));
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(*second, SchemaId(2));
    EXPECT_EQ(Run(store->RegisterSchema({"db", "x"}, ConformanceSchema())).status().code(),
              ErrorCode::kTableNotExist);
  }
  auto store = OpenStore();
  auto tables = Run(store->ListTables("db"));
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(*tables, std::vector<std::string>{"t"});
  auto reg = Run(store->GetTable({"db", "t"}));
  ASSERT_TRUE(reg.ok() && reg->has_value());
  EXPECT_EQ(**reg, ConformanceTable(id));
  EXPECT_EQ(*Run(store->ListSchemaIds({"db", "t"})),
            (std::vector<SchemaId>{SchemaId(1), SchemaId(2)}));
  auto schema = Run(store->GetSchema({"db", "t"}, SchemaId(1)));
  ASSERT_TRUE(schema.ok() && schema->has_value());
  EXPECT_EQ(**schema, ConformanceSchema());
  EXPECT_FALSE(Run(store->GetSchema({"db", "t"}, SchemaId(3)))->has_value());
  auto assignment = Run(store->GetTableAssignment(id));
  ASSERT_TRUE(assignment.ok() && assignment->has_value());
  EXPECT_EQ(**assignment, ConformanceAssignment(3));
  auto all = Run(store->ListTableAssignments());
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->begin()->first, id);

  auto info = Run(LoadTableInfo(*store, {"db", "t"}));
  ASSERT_TRUE(info.ok() && info->has_value()) << info.status().ToString();
  EXPECT_EQ((*info)->table_id, id);
  EXPECT_EQ((*info)->schema_id, SchemaId(2));
  EXPECT_EQ((*info)->bucket_count(), 3);
  EXPECT_EQ((*info)->log_format(), LogFormat::kArrow);
  EXPECT_FALSE(Run(LoadTableInfo(*store, {"db", "x"}))->has_value());
}

TEST_P(MetadataStoreConformanceTest, TableWithoutAssignmentAndDatabaseDropCascades) {
  auto store = OpenStore();
  ASSERT_TRUE(Run(store->CreateDatabase("db", Db())).ok());
  ASSERT_TRUE(Run(store->CreateTable({"db", "p"}, ConformanceTable(TableId(7)),
                                     ConformanceSchema(), std::nullopt))
                  .ok());
  EXPECT_FALSE(Run(store->GetTableAssignment(TableId(7)))->has_value());
  ASSERT_TRUE(Run(store->DeleteDatabase("db")).ok());
  EXPECT_FALSE(Run(store->GetTable({"db", "p"}))->has_value());
  EXPECT_TRUE(Run(store->ListSchemaIds({"db", "p"}))->empty());
  // A new database of the same name starts empty.
  ASSERT_TRUE(Run(store->CreateDatabase("db", Db())).ok());
  EXPECT_TRUE(Run(store->ListTables("db"))->empty());
}

TEST_P(MetadataStoreConformanceTest, DropsAreDurableAndCountersNeverRepeat) {
  std::set<int64_t> table_ids;
  {
    auto store = OpenStore();
    TableId id = CreateSampleTable(*store);
    table_ids.insert(id.value());
    ASSERT_TRUE(Run(store->DeleteTable({"db", "t"})).ok());
    EXPECT_EQ(Run(store->DeleteTable({"db", "t"})).code(), ErrorCode::kTableNotExist);
    // The assignment outlives the table until the tablets are gone.
    EXPECT_TRUE(Run(store->GetTableAssignment(id))->has_value());
    ASSERT_TRUE(Run(store->DeleteTableAssignment(id)).ok());
    ASSERT_TRUE(Run(store->DeleteTableAssignment(id)).ok());
  }
  auto store = OpenStore();
  EXPECT_FALSE(Run(store->GetTable({"db", "t"}))->has_value());
  EXPECT_TRUE(Run(store->ListTableAssignments())->empty());
  for (int i = 0; i < 3; ++i) {
    auto id = Run(store->NextTableId());
    ASSERT_TRUE(id.ok());
    EXPECT_TRUE(table_ids.insert(id->value()).second) << "table id reused: " << *id;
  }
  std::set<int64_t> partition_ids;
  for (int i = 0; i < 3; ++i) {
    auto id = Run(store->NextPartitionId());
    ASSERT_TRUE(id.ok());
    EXPECT_GE(id->value(), 0);
    EXPECT_TRUE(partition_ids.insert(id->value()).second);
  }
}

TEST_P(MetadataStoreConformanceTest, WriterIdsAreUniqueAcrossReopens) {
  std::set<int64_t> seen;
  for (int round = 0; round < 3; ++round) {
    auto store = OpenStore();
    for (int i = 0; i < 20; ++i) {
      auto id = Run(store->NextWriterId());
      ASSERT_TRUE(id.ok());
      EXPECT_GE(id->value(), 0);
      EXPECT_TRUE(seen.insert(id->value()).second) << "writer id reused: " << *id;
    }
  }
}

TEST_P(MetadataStoreConformanceTest, ConcurrentMutationsAreAllApplied) {
  auto store = OpenStore();
  auto many = [](MetadataStore* s) -> Task<Status> {
    using namespace asio::experimental::awaitable_operators;  // NOLINT
    std::string a = "a", b = "b", a2 = "a";
    // Three creates awaited together: both distinct ones land, the duplicate is refused.
    auto [ra, rb, rc] = co_await (s->CreateDatabase(a, Db()) && s->CreateDatabase(b, Db()) &&
                                  s->CreateDatabase(a2, Db()));
    int ok = ra.ok() + rb.ok() + rc.ok();
    if (ok != 2) co_return Status(ErrorCode::kUnknownServerError, "expected two creates");
    if (!rb.ok()) co_return rb;
    co_return Status::OK();
  };
  Status s = Run(many(store.get()));
  EXPECT_TRUE(s.ok()) << s.ToString();
  store.reset();
  store = OpenStore();
  EXPECT_EQ(*Run(store->ListDatabases()), (std::vector<std::string>{"a", "b"}));
}

TEST_P(MetadataStoreConformanceTest, ConcurrentIdsAreDistinct) {
  auto store = OpenStore();
  auto ids = [](MetadataStore* s) -> Task<Result<std::vector<int64_t>>> {
    using namespace asio::experimental::awaitable_operators;  // NOLINT
    auto [a, b, c] = co_await (s->NextTableId() && s->NextTableId() && s->NextTableId());
    if (!a.ok() || !b.ok() || !c.ok()) co_return Status(ErrorCode::kStorage, "id failed");
    co_return std::vector<int64_t>{a->value(), b->value(), c->value()};
  };
  auto got = Run(ids(store.get()));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(std::set<int64_t>(got->begin(), got->end()).size(), 3u);
}

}  // namespace strom::metadata::testing
