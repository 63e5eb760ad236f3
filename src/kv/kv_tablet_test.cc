#include "kv/kv_tablet.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "kv/kv_test_util.h"

namespace strom::kv {
namespace {

using record::AggFunction;
using record::AggFunctionType;
using record::DataType;
using record::Datum;
using record::GenericRow;
using ::testing::ElementsAre;
using testing::KvHarness;
using testing::KvOp;
using testing::Render;

record::Schema ThreeColumns() {
  auto schema = record::Schema::Builder()
                    .AddColumn("id", DataType::Int())
                    .AddColumn("name", DataType::String())
                    .AddColumn("v", DataType::BigInt())
                    .PrimaryKey({"id"})
                    .Build();
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  return *schema;
}

GenericRow Row(int32_t id, std::string name, int64_t v) {
  return GenericRow{Datum(id), Datum(std::move(name)), Datum(v)};
}
GenericRow Key(int32_t id) { return GenericRow{Datum(id), Datum(), Datum()}; }

#define ASSERT_OK(expr)                      \
  do {                                       \
    auto _st = (expr);                       \
    ASSERT_TRUE(_st.ok()) << _st.ToString(); \
  } while (0)
#define ASSERT_OK_RESULT(expr)                      \
  do {                                              \
    auto _r = (expr);                               \
    ASSERT_TRUE(_r.ok()) << _r.status().ToString(); \
  } while (0)

class DefaultEngineTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DefaultEngineTest, FullImageChangelogInEveryLogFormat) {
  record::Properties props = {{"table.log.format", GetParam()}};
  if (GetParam() == "INDEXED") props.push_back({"table.kv.format", "INDEXED"});
  KvHarness h(ThreeColumns(), props);
  ASSERT_OK(h.Open());
  ASSERT_OK_RESULT(h.Put({KvOp::Upsert(Row(1, "a", 10)), KvOp::Upsert(Row(2, "b", 20))}));
  ASSERT_OK_RESULT(
      h.Put({KvOp::Upsert(Row(1, "a2", 11)), KvOp::Delete(Key(2)), KvOp::Delete(Key(3))}));
  EXPECT_THAT(Render(h.Changelog()), ElementsAre("+I(1, a, 10)", "+I(2, b, 20)", "-U(1, a, 10)",
                                                 "+U(1, a2, 11)", "-D(2, b, 20)"));
  auto state = h.State();
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state.begin()->second, Row(1, "a2", 11));
  EXPECT_EQ(*h.kv().RowCount(), 1);
  EXPECT_EQ(h.log().log_end_offset(), LogOffset(5));
}

INSTANTIATE_TEST_SUITE_P(LogFormats, DefaultEngineTest,
                         ::testing::Values("ARROW", "COMPACTED", "INDEXED"));

TEST(KvTabletTest, WalImageLogsOnlyUpdateAfterAndDeletes) {
  KvHarness h(ThreeColumns(), {{"table.changelog.image", "WAL"}});
  ASSERT_OK(h.Open());
  ASSERT_OK_RESULT(h.Put({KvOp::Upsert(Row(1, "a", 1))}));
  ASSERT_OK_RESULT(
      h.Put({KvOp::Upsert(Row(1, "b", 2)), KvOp::Delete(Key(1)), KvOp::Delete(Key(9))}));
  // Full-row writes skip reading the old value: even the first write is +U.
  EXPECT_THAT(Render(h.Changelog()), ElementsAre("+U(1, a, 1)", "+U(1, b, 2)", "-D(1, b, 2)"));
  EXPECT_TRUE(h.State().empty());
  EXPECT_EQ(h.kv().RowCount().status().code(), ErrorCode::kInvalidTable);
}

TEST(KvTabletTest, WalImagePartialUpdateReadsOldValueAndLogsInsert) {
  KvHarness h(ThreeColumns(), {{"table.changelog.image", "WAL"}});
  ASSERT_OK(h.Open());
  PutKvParams partial;
  partial.target_columns = std::vector<int32_t>{0, 1};
  ASSERT_OK_RESULT(h.Put({KvOp::Upsert(GenericRow{Datum(1), Datum("x"), Datum()})}, partial));
  ASSERT_OK_RESULT(h.Put({KvOp::Upsert(GenericRow{Datum(1), Datum("y"), Datum()})}, partial));
  EXPECT_THAT(Render(h.Changelog()), ElementsAre("+I(1, x, null)", "+U(1, y, null)"));
}

TEST(KvTabletTest, PartialUpdateKeepsOtherColumnsAndPartialDelete) {
  KvHarness h(ThreeColumns(), {});
  ASSERT_OK(h.Open());
  ASSERT_OK_RESULT(h.Put({KvOp::Upsert(Row(1, "a", 10))}));
  PutKvParams name_only;
  name_only.target_columns = std::vector<int32_t>{0, 1};
  ASSERT_OK_RESULT(h.Put({KvOp::Upsert(GenericRow{Datum(1), Datum("z"), Datum()}),
                          KvOp::Upsert(GenericRow{Datum(2), Datum("n"), Datum()})},
                         name_only));
  EXPECT_EQ(*h.Get(Key(1)), Row(1, "z", 10));
  EXPECT_EQ(*h.Get(Key(2)), (GenericRow{Datum(2), Datum("n"), Datum()}));
  // A partial delete nulls the target columns while other columns hold values...
  ASSERT_OK_RESULT(h.Put({KvOp::Delete(Key(1))}, name_only));
  EXPECT_EQ(*h.Get(Key(1)), (GenericRow{Datum(1), Datum(), Datum(int64_t{10})}));
  // ...and removes the row when nothing else is left.
  ASSERT_OK_RESULT(h.Put({KvOp::Delete(Key(2))}, name_only));
  EXPECT_FALSE(h.Get(Key(2)).has_value());
  // Updating only the key of an existing row changes nothing.
  PutKvParams key_only;
  key_only.target_columns = std::vector<int32_t>{0};
  auto result = h.Put({KvOp::Upsert(GenericRow{Datum(1), Datum(), Datum()})}, key_only);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->change_count, 0);
  EXPECT_EQ(*h.kv().RowCount(), 1);
}

TEST(KvTabletTest, PartialUpdateValidation) {
  auto schema = record::Schema::Builder()
                    .AddColumn("id", DataType::Int())
                    .AddColumn("name", DataType::String())
                    .AddColumn("v", DataType::BigInt().NotNull())
                    .PrimaryKey({"id"})
                    .Build();
  KvHarness h(*schema, {});
  ASSERT_OK(h.Open());
  PutKvParams no_key;
  no_key.target_columns = std::vector<int32_t>{1};
  auto r = h.Put({KvOp::Upsert(GenericRow{Datum(1), Datum("a"), Datum(int64_t{1})})}, no_key);
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidTargetColumn);
  PutKvParams not_null_left_out;
  not_null_left_out.target_columns = std::vector<int32_t>{0, 1};
  r = h.Put({KvOp::Upsert(GenericRow{Datum(1), Datum("a"), Datum(int64_t{1})})}, not_null_left_out);
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidTargetColumn);
  PutKvParams out_of_range;
  out_of_range.target_columns = std::vector<int32_t>{0, 7};
  r = h.Put({KvOp::Upsert(GenericRow{Datum(1), Datum("a"), Datum(int64_t{1})})}, out_of_range);
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidTargetColumn);
  EXPECT_EQ(h.log().log_end_offset(), LogOffset(0));
}

TEST(KvTabletTest, FirstRowKeepsFirstAndIgnoresDeletesByDefault) {
  KvHarness h(ThreeColumns(), {{"table.merge-engine", "first_row"}});
  ASSERT_OK(h.Open());
  ASSERT_OK_RESULT(h.Put({KvOp::Upsert(Row(1, "a", 1)), KvOp::Upsert(Row(1, "b", 2))}));
  auto r = h.Put({KvOp::Delete(Key(1)), KvOp::Upsert(Row(1, "c", 3))});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->change_count, 0);
  EXPECT_THAT(Render(h.Changelog()), ElementsAre("+I(1, a, 1)"));
  // The batch with no change still took one offset (an empty batch).
  EXPECT_EQ(h.log().log_end_offset(), LogOffset(2));
  EXPECT_EQ(*h.Get(Key(1)), Row(1, "a", 1));
  PutKvParams partial;
  partial.target_columns = std::vector<int32_t>{0, 1};
  EXPECT_EQ(h.Put({KvOp::Upsert(Row(2, "x", 0))}, partial).status().code(),
            ErrorCode::kUnknownServerError);
}

TEST(KvTabletTest, DeleteBehaviors) {
  {
    KvHarness h(ThreeColumns(), {{"table.delete.behavior", "IGNORE"}});
    ASSERT_OK(h.Open());
    ASSERT_OK_RESULT(h.Put({KvOp::Upsert(Row(1, "a", 1))}));
    ASSERT_OK_RESULT(h.Put({KvOp::Delete(Key(1))}));
    EXPECT_TRUE(h.Get(Key(1)).has_value());
  }
  {
    KvHarness h(ThreeColumns(), {{"table.delete.behavior", "DISABLE"}});
    ASSERT_OK(h.Open());
    ASSERT_OK_RESULT(h.Put({KvOp::Upsert(Row(1, "a", 1))}));
    LogOffset end = h.log().log_end_offset();
    auto r = h.Put({KvOp::Upsert(Row(2, "b", 2)), KvOp::Delete(Key(1))});
    EXPECT_EQ(r.status().code(), ErrorCode::kDeletionDisabled);
    // Nothing of the failed batch was written: not the upsert before the delete either.
    EXPECT_EQ(h.log().log_end_offset(), end);
    EXPECT_EQ(h.kv().pre_write_buffer().entry_count(), 0u);
    EXPECT_FALSE(h.Get(Key(2)).has_value());
  }
  {
    // first_row and versioned refuse ALLOW; aggregation accepts it.
    KvHarness h(ThreeColumns(), {{"table.merge-engine", "versioned"},
                                 {"table.merge-engine.versioned.ver-column", "v"},
                                 {"table.delete.behavior", "allow"}});
    EXPECT_EQ(h.Open().code(), ErrorCode::kInvalidConfig);
  }
}

TEST(KvTabletTest, VersionedKeepsHighestVersion) {
  KvHarness h(ThreeColumns(), {{"table.merge-engine", "versioned"},
                               {"table.merge-engine.versioned.ver-column", "v"}});
  ASSERT_OK(h.Open());
  ASSERT_OK_RESULT(h.Put({KvOp::Upsert(Row(1, "a", 5)), KvOp::Upsert(Row(1, "old", 4)),
                          KvOp::Upsert(Row(1, "same", 5)), KvOp::Upsert(Row(1, "new", 9))}));
  ASSERT_OK_RESULT(h.Put({KvOp::Upsert(GenericRow{Datum(1), Datum("nullver"), Datum()})}));
  EXPECT_EQ(*h.Get(Key(1)), Row(1, "new", 9));
  EXPECT_THAT(Render(h.Changelog()), ElementsAre("+I(1, a, 5)", "-U(1, a, 5)", "+U(1, same, 5)",
                                                 "-U(1, same, 5)", "+U(1, new, 9)"));
}

TEST(KvTabletTest, VersionColumnOfWrongTypeIsRefused) {
  KvHarness h(ThreeColumns(), {{"table.merge-engine", "versioned"},
                               {"table.merge-engine.versioned.ver-column", "name"}});
  Status st = h.Open();
  EXPECT_EQ(st.code(), ErrorCode::kInvalidConfig);
  EXPECT_THAT(st.message(), ::testing::HasSubstr("must be one type of"));
}

TEST(KvTabletTest, AggregationMergesPerColumnAndPartially) {
  auto schema = record::Schema::Builder()
                    .AddColumn("id", DataType::Int())
                    .AddColumn("total", DataType::BigInt(), AggFunction{AggFunctionType::kSum, {}})
                    .AddColumn("tags", DataType::String(),
                               AggFunction{AggFunctionType::kListAgg, {{"delimiter", "|"}}})
                    .AddColumn("last", DataType::String())
                    .PrimaryKey({"id"})
                    .Build();
  ASSERT_TRUE(schema.ok());
  KvHarness h(*schema, {{"table.merge-engine", "aggregation"}});
  ASSERT_OK(h.Open());
  auto row = [](int32_t id, std::optional<int64_t> total, std::optional<std::string> tag,
                std::optional<std::string> last) {
    return GenericRow{Datum(id), total ? Datum(*total) : Datum(), tag ? Datum(*tag) : Datum(),
                      last ? Datum(*last) : Datum()};
  };
  ASSERT_OK_RESULT(
      h.Put({KvOp::Upsert(row(1, 5, "a", "x")), KvOp::Upsert(row(1, 7, "b", std::nullopt))}));
  EXPECT_EQ(*h.Get(Key(1)), row(1, 12, "a|b", "x"));
  PutKvParams partial;
  partial.target_columns = std::vector<int32_t>{0, 1};
  ASSERT_OK_RESULT(h.Put({KvOp::Upsert(row(1, 100, "ignored", "ignored"))}, partial));
  EXPECT_EQ(*h.Get(Key(1)), row(1, 112, "a|b", "x"));
  // Deletes are ignored by default for aggregation tables.
  ASSERT_OK_RESULT(h.Put({KvOp::Delete(Key(1))}));
  EXPECT_TRUE(h.Get(Key(1)).has_value());
  EXPECT_THAT(Render(h.Changelog()),
              ElementsAre("+I(1, 5, a, x)", "-U(1, 5, a, x)", "+U(1, 12, a|b, x)",
                          "-U(1, 12, a|b, x)", "+U(1, 112, a|b, x)"));
}

TEST(KvTabletTest, AggregationWithAllowedDeletesAndWalIsRefused) {
  auto schema = record::Schema::Builder()
                    .AddColumn("id", DataType::Int())
                    .AddColumn("n", DataType::Int(), AggFunction{AggFunctionType::kSum, {}})
                    .PrimaryKey({"id"})
                    .Build();
  {
    KvHarness h(*schema,
                {{"table.merge-engine", "aggregation"}, {"table.delete.behavior", "allow"}});
    ASSERT_OK(h.Open());
    ASSERT_OK_RESULT(h.Put({KvOp::Upsert(GenericRow{Datum(1), Datum(2)})}));
    ASSERT_OK_RESULT(h.Put({KvOp::Delete(GenericRow{Datum(1), Datum()})}));
    EXPECT_FALSE(h.Get(GenericRow{Datum(1), Datum()}).has_value());
  }
  {
    KvHarness h(*schema, {{"table.merge-engine", "aggregation"}, {"table.changelog.image", "WAL"}});
    EXPECT_EQ(h.Open().code(), ErrorCode::kInvalidConfig);
  }
}

TEST(KvTabletTest, IdempotentDuplicateReturnsOriginalWithoutReapplying) {
  auto schema = record::Schema::Builder()
                    .AddColumn("id", DataType::Int())
                    .AddColumn("n", DataType::BigInt(), AggFunction{AggFunctionType::kSum, {}})
                    .PrimaryKey({"id"})
                    .Build();
  KvHarness h(*schema, {{"table.merge-engine", "aggregation"}});
  ASSERT_OK(h.Open());
  auto batch = [&](int32_t seq, int64_t n) {
    return h.Batch({KvOp::Upsert(GenericRow{Datum(1), Datum(n)})}, SchemaId(0), WriterId(42),
                   BatchSequence(seq));
  };
  auto first = h.PutBytes(batch(0, 5));
  ASSERT_TRUE(first.ok());
  auto second = h.PutBytes(batch(1, 7));
  ASSERT_TRUE(second.ok());
  auto retry = h.PutBytes(batch(1, 7));
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->append.first_offset, second->append.first_offset);
  EXPECT_EQ(retry->append.last_offset, second->append.last_offset);
  EXPECT_EQ(h.kv().pre_write_buffer().entry_count(), 0u);
  EXPECT_EQ(*h.Get(GenericRow{Datum(1), Datum()}), (GenericRow{Datum(1), Datum(int64_t{12})}));
  // A gap in the sequence is refused and writes nothing.
  LogOffset end = h.log().log_end_offset();
  EXPECT_EQ(h.PutBytes(batch(5, 1)).status().code(), ErrorCode::kOutOfOrderSequence);
  EXPECT_EQ(h.log().log_end_offset(), end);
  EXPECT_EQ(h.kv().pre_write_buffer().entry_count(), 0u);
  // The changelog batches carry the writer id and sequence.
  ByteBuffer raw;
  log::testing::ReadAllBatches(h.log(), LogOffset(0), log::FetchIsolation::kLogEnd, &raw);
  auto b = record::LogRecordBatch::Parse(raw);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->writer_id(), WriterId(42));
  EXPECT_EQ(b->batch_sequence(), BatchSequence(0));
}

TEST(KvTabletTest, PreWriteBufferHidesUncommittedChangesFromLookups) {
  KvHarness h(ThreeColumns(), {});
  ASSERT_OK(h.Open());
  ASSERT_OK_RESULT(h.Put({KvOp::Upsert(Row(1, "a", 1))}));
  // Uncommitted: appended to the log, high watermark not moved.
  auto r1 =
      h.kv().PutAsLeader(h.Batch({KvOp::Upsert(Row(1, "b", 2)), KvOp::Upsert(Row(2, "c", 3))}));
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(*h.Get(Key(1)), Row(1, "a", 1));
  EXPECT_FALSE(h.Get(Key(2)).has_value());
  // A second uncommitted batch merges against the buffered values, not RocksDB's.
  auto r2 = h.kv().PutAsLeader(h.Batch({KvOp::Upsert(Row(1, "c", 4))}));
  ASSERT_TRUE(r2.ok());
  EXPECT_THAT(
      Render(h.Changelog(LogOffset(1))),
      ElementsAre("-U(1, a, 1)", "+U(1, b, 2)", "+I(2, c, 3)", "-U(1, b, 2)", "+U(1, c, 4)"));
  // Committing the first batch only exposes it alone.
  ASSERT_OK(h.log().UpdateHighWatermark(r1->append.last_offset + 1));
  ASSERT_OK(h.kv().FlushUpTo(h.log().high_watermark()));
  EXPECT_EQ(*h.Get(Key(1)), Row(1, "b", 2));
  EXPECT_EQ(*h.kv().RowCount(), 2);
  ASSERT_OK(h.Commit());
  EXPECT_EQ(*h.Get(Key(1)), Row(1, "c", 4));
  EXPECT_EQ(h.kv().pre_write_buffer().entry_count(), 0u);
}

TEST(KvTabletTest, FlushOffTheTabletThreadLetsWritesGoOnAndSettlesIntoTheSameState) {
  KvHarness h(ThreeColumns(), {});
  ASSERT_OK(h.Open());
  auto r1 =
      h.kv().PutAsLeader(h.Batch({KvOp::Upsert(Row(1, "a", 1)), KvOp::Upsert(Row(2, "b", 2))}));
  ASSERT_TRUE(r1.ok());
  const LogOffset committed = r1->append.last_offset + 1;
  ASSERT_OK(h.log().UpdateHighWatermark(committed));
  auto job = h.kv().BeginFlush(committed);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  ASSERT_NE(*job, nullptr);
  EXPECT_TRUE(h.kv().flush_in_flight());
  EXPECT_EQ(h.kv().flushed_log_offset(), LogOffset(0));
  EXPECT_FALSE(h.kv().BeginFlush(committed).ok());  // one at a time
  // The write runs on another thread while the next batch merges against the buffered
  // values (the flush leaves them in the buffer until it settles).
  std::thread writer([job = *job] { job->Run(); });
  auto r2 = h.kv().PutAsLeader(h.Batch({KvOp::Upsert(Row(1, "c", 3))}));
  writer.join();
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_TRUE((*job)->done());
  EXPECT_THAT(Render(h.Changelog(committed)), ElementsAre("-U(1, a, 1)", "+U(1, c, 3)"));
  // Written but not settled: lookups see the committed rows, the tablet's offsets have not
  // moved yet.
  EXPECT_EQ(*h.Get(Key(1)), Row(1, "a", 1));
  EXPECT_EQ(h.kv().flushed_log_offset(), LogOffset(0));
  ASSERT_OK(h.kv().SettleFlush(/*wait=*/false));
  EXPECT_FALSE(h.kv().flush_in_flight());
  EXPECT_EQ(h.kv().flushed_log_offset(), committed);
  EXPECT_EQ(*h.kv().RowCount(), 2);
  EXPECT_EQ(h.kv().pre_write_buffer().entry_count(), 1u);  // r2's update of key 1
  ASSERT_OK(h.Commit());
  EXPECT_EQ(*h.Get(Key(1)), Row(1, "c", 3));
  EXPECT_EQ(*h.Get(Key(2)), Row(2, "b", 2));
  EXPECT_EQ(*h.kv().RowCount(), 2);
  EXPECT_EQ(h.kv().pre_write_buffer().entry_count(), 0u);
}

TEST(KvTabletTest, AFlushNoThreadRanIsWrittenByWhatNeedsItsState) {
  KvHarness h(ThreeColumns(), {});
  ASSERT_OK(h.Open());
  auto flush_one = [&](int32_t id) -> std::shared_ptr<KvFlushJob> {
    auto put = h.kv().PutAsLeader(h.Batch({KvOp::Upsert(Row(id, "x", id))}));
    EXPECT_TRUE(put.ok());
    EXPECT_TRUE(h.log().UpdateHighWatermark(h.log().log_end_offset()).ok());
    auto job = h.kv().BeginFlush(h.log().high_watermark());
    EXPECT_TRUE(job.ok() && *job != nullptr);
    return job.ok() ? *job : nullptr;
  };
  // SettleFlush without waiting leaves a write nobody began alone.
  std::shared_ptr<KvFlushJob> job = flush_one(1);
  ASSERT_OK(h.kv().SettleFlush(/*wait=*/false));
  EXPECT_TRUE(h.kv().flush_in_flight());
  EXPECT_FALSE(h.Get(Key(1)).has_value());
  // A checkpoint records the flushed offset, so it writes the flush first.
  auto checkpoint = h.kv().TakeCheckpoint();
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  EXPECT_EQ(checkpoint->metadata.log_offset, h.log().high_watermark());
  EXPECT_EQ(checkpoint->metadata.row_count, 1);
  EXPECT_TRUE(job->done());
  job->Run();  // the worker coming late does nothing
  EXPECT_EQ(*h.Get(Key(1)), Row(1, "x", 1));
  // So does the step down to follower, and a snapshot scan.
  job = flush_one(2);
  h.kv().BecomeFollower();
  EXPECT_FALSE(h.kv().flush_in_flight());
  EXPECT_EQ(h.kv().flushed_log_offset(), h.log().high_watermark());
  EXPECT_EQ(*h.Get(Key(2)), Row(2, "x", 2));
  ASSERT_OK(h.kv().BecomeLeader());
  job = flush_one(3);
  auto scan = h.kv().OpenSnapshotScan();
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->log_offset, h.log().high_watermark());
  scan->cursor.reset();
  // Dropping the tablet (a crash) with a flush never run does not hang, and the reopened
  // tablet holds every committed row.
  job = flush_one(4);
  h.Crash();
  job->Run();
  ASSERT_OK(h.Open(/*high_watermark=*/std::nullopt));
  EXPECT_EQ(h.State().size(), 4u);
  EXPECT_EQ(*h.kv().RowCount(), 4);
}

TEST(KvTabletTest, LookupPrefixLookupLimitScanAndRowCount) {
  auto schema = record::Schema::Builder()
                    .AddColumn("tenant", DataType::Int())
                    .AddColumn("item", DataType::String())
                    .AddColumn("qty", DataType::Int())
                    .PrimaryKey({"tenant", "item"})
                    .Build();
  ASSERT_TRUE(schema.ok());
  // Bucket key `tenant` is a prefix of the primary key: kv format version 2 keeps keys
  // compacted so its bytes prefix the primary key's.
  KvHarness h(*schema, {{"table.kv.format-version", "2"}});
  ASSERT_OK(h.Open());
  std::vector<KvOp> ops;
  for (int t = 1; t <= 3; ++t) {
    for (int i = 0; i < 4; ++i) {
      ops.push_back(
          KvOp::Upsert(GenericRow{Datum(t), Datum("item" + std::to_string(i)), Datum(t * 10 + i)}));
    }
  }
  ASSERT_OK_RESULT(h.Put(ops));
  EXPECT_EQ(*h.kv().RowCount(), 12);

  ByteBuffer k1 = h.Key(GenericRow{Datum(2), Datum("item3"), Datum()});
  ByteBuffer k2 = h.Key(GenericRow{Datum(9), Datum("none"), Datum()});
  std::vector<ByteView> keys = {k1, k2, k1};
  auto found = h.kv().Lookup(keys);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 3u);
  EXPECT_EQ(h.DecodeValue(*(*found)[0]), (GenericRow{Datum(2), Datum("item3"), Datum(23)}));
  EXPECT_FALSE((*found)[1].has_value());
  EXPECT_TRUE((*found)[2].has_value());

  ByteBuffer prefix;
  ASSERT_OK(record::AppendCompactedValue(DataType::Int(), Datum(2), &prefix));
  auto values = h.kv().PrefixLookup(prefix);
  ASSERT_TRUE(values.ok());
  ASSERT_EQ(values->size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(h.DecodeValue((*values)[i]),
              (GenericRow{Datum(2), Datum("item" + std::to_string(i)), Datum(20 + i)}));
  }

  auto scan = h.kv().LimitScan(5);
  ASSERT_TRUE(scan.ok());
  auto batch = record::ValueRecordBatch::Parse(*scan);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->record_count(), 5);
  record::ValueRecordIterator it(*batch);
  int n = 0;
  while (true) {
    auto v = it.Next();
    ASSERT_TRUE(v.ok());
    if (!*v) break;
    EXPECT_EQ((*v)->schema_id, SchemaId(0));
    ++n;
  }
  EXPECT_EQ(n, 5);
  auto all = h.kv().LimitScan(100);
  EXPECT_EQ(record::ValueRecordBatch::Parse(*all)->record_count(), 12);
  EXPECT_EQ(record::ValueRecordBatch::Parse(*h.kv().LimitScan(0))->record_count(), 0);
}

TEST(KvTabletTest, BatchTouchingAKeyAgainMergesAgainstItsOwnEarlierChanges) {
  // The stored values are read for the whole batch up front; later records of the same key
  // must still see the batch's own earlier changes, not the value read ahead.
  KvHarness h(ThreeColumns(), {});
  ASSERT_OK(h.Open());
  ASSERT_OK_RESULT(h.Put({KvOp::Upsert(Row(1, "a", 1)), KvOp::Upsert(Row(3, "x", 9))}));
  ASSERT_OK_RESULT(h.Put({KvOp::Upsert(Row(1, "b", 2)), KvOp::Delete(Key(1)),
                          KvOp::Upsert(Row(1, "c", 3)), KvOp::Upsert(Row(2, "d", 4)),
                          KvOp::Upsert(Row(2, "e", 5)), KvOp::Delete(Key(3)),
                          KvOp::Delete(Key(3)), KvOp::Delete(Key(4))}));
  EXPECT_THAT(Render(h.Changelog(LogOffset(2))),
              ElementsAre("-U(1, a, 1)", "+U(1, b, 2)", "-D(1, b, 2)", "+I(1, c, 3)",
                          "+I(2, d, 4)", "-U(2, d, 4)", "+U(2, e, 5)", "-D(3, x, 9)"));
  EXPECT_EQ(*h.Get(Key(1)), Row(1, "c", 3));
  EXPECT_EQ(*h.Get(Key(2)), Row(2, "e", 5));
  EXPECT_FALSE(h.Get(Key(3)).has_value());
  EXPECT_EQ(*h.kv().RowCount(), 2);
}

TEST(KvTabletTest, BadInputWritesNothing) {
  KvHarness h(ThreeColumns(), {});
  ASSERT_OK(h.Open());
  ASSERT_OK_RESULT(h.Put({KvOp::Upsert(Row(1, "a", 1))}));
  const LogOffset end = h.log().log_end_offset();
  auto expect_nothing_written = [&](Status st, ErrorCode code) {
    EXPECT_EQ(st.code(), code) << st.ToString();
    EXPECT_EQ(h.log().log_end_offset(), end);
    EXPECT_EQ(h.kv().pre_write_buffer().entry_count(), 0u);
    EXPECT_EQ(*h.Get(Key(1)), Row(1, "a", 1));
  };
  // Unknown schema id.
  expect_nothing_written(
      h.kv().PutAsLeader(h.Batch({KvOp::Upsert(Row(1, "x", 2))}, SchemaId(3))).status(),
      ErrorCode::kSchemaNotExist);
  // A null key column in the value (with a good first record, which must not survive).
  {
    ByteBuffer out;
    record::KvRecordBatchBuilder b(&out, {});
    ByteBuffer good = h.Batch({KvOp::Upsert(Row(2, "ok", 2))});
    auto good_record = record::KvRecordIterator(*record::KvRecordBatch::Parse(good)).Next();
    ASSERT_OK(b.AppendUpsert(good_record->value().key, *good_record->value().value));
    // Nullable types: the table's own codec would refuse the null key column.
    ByteBuffer value =
        *record::CompactedRowCodec({DataType::Int(), DataType::String(), DataType::BigInt()})
             .Encode(GenericRow{Datum(), Datum("x"), Datum(int64_t{1})});
    ASSERT_OK(b.AppendUpsert(h.Key(Key(1)), value));
    b.Finish();
    expect_nothing_written(h.kv().PutAsLeader(out).status(), ErrorCode::kCorruptRecord);
  }
  // Key bytes of the wrong type: a BIGINT-encoded key for an INT column.
  {
    ByteBuffer out;
    record::KvRecordBatchBuilder b(&out, {});
    ByteBuffer key;
    ASSERT_OK(record::AppendCompactedValue(DataType::BigInt(), Datum(int64_t{-1}), &key));
    ByteBuffer value = *record::CompactedRowCodec(h.schema().FieldTypes()).Encode(Row(-1, "x", 1));
    ASSERT_OK(b.AppendUpsert(key, value));
    b.Finish();
    expect_nothing_written(h.kv().PutAsLeader(out).status(), ErrorCode::kCorruptRecord);
    ByteBuffer del;
    record::KvRecordBatchBuilder d(&del, {});
    ASSERT_OK(d.AppendDelete(key));
    d.Finish();
    expect_nothing_written(h.kv().PutAsLeader(del).status(), ErrorCode::kCorruptRecord);
  }
  // A key that does not match its row.
  {
    ByteBuffer out;
    record::KvRecordBatchBuilder b(&out, {});
    ByteBuffer value = *record::CompactedRowCodec(h.schema().FieldTypes()).Encode(Row(5, "x", 1));
    ASSERT_OK(b.AppendUpsert(h.Key(Key(6)), value));
    b.Finish();
    expect_nothing_written(h.kv().PutAsLeader(out).status(), ErrorCode::kCorruptRecord);
  }
  // A value with too few columns.
  {
    ByteBuffer out;
    record::KvRecordBatchBuilder b(&out, {});
    ByteBuffer value = *record::CompactedRowCodec({DataType::Int()}).Encode(GenericRow{Datum(1)});
    ASSERT_OK(b.AppendUpsert(h.Key(Key(1)), value));
    b.Finish();
    expect_nothing_written(h.kv().PutAsLeader(out).status(), ErrorCode::kCorruptRecord);
  }
  // Garbage instead of a batch.
  expect_nothing_written(h.kv().PutAsLeader(ByteView("nonsense")).status(),
                         ErrorCode::kCorruptRecord);
}

TEST(KvTabletTest, AutoIncrementAssignsIdsFromBucketRanges) {
  auto schema = record::Schema::Builder()
                    .AddColumn("name", DataType::String())
                    .AddColumn("uid", DataType::BigInt())
                    .PrimaryKey({"name"})
                    .EnableAutoIncrement("uid")
                    .Build();
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  KvHarness h(*schema, {{"table.auto-increment.cache-size", "3"}});
  ASSERT_OK(h.Open());
  PutKvParams params;
  params.target_columns = std::vector<int32_t>{0};
  std::vector<KvOp> ops;
  for (const char* name : {"a", "b", "c", "d", "a"}) {
    ops.push_back(KvOp::Upsert(GenericRow{Datum(std::string(name)), Datum()}));
  }
  ASSERT_OK_RESULT(h.Put(ops, params));
  EXPECT_EQ(*h.Get(GenericRow{Datum("a"), Datum()}), (GenericRow{Datum("a"), Datum(int64_t{1})}));
  EXPECT_EQ(*h.Get(GenericRow{Datum("d"), Datum()}), (GenericRow{Datum("d"), Datum(int64_t{4})}));
  EXPECT_EQ(h.counter().value(), 6);  // two ranges of 3 reserved
  EXPECT_EQ(h.kv().auto_increment_range()->start, 5);
  // Writing without target columns, or with the auto-increment column, is refused.
  EXPECT_EQ(h.Put({KvOp::Upsert(GenericRow{Datum("e"), Datum(int64_t{9})})}).status().code(),
            ErrorCode::kInvalidTargetColumn);
  PutKvParams with_uid;
  with_uid.target_columns = std::vector<int32_t>{0, 1};
  EXPECT_EQ(
      h.Put({KvOp::Upsert(GenericRow{Datum("e"), Datum(int64_t{9})})}, with_uid).status().code(),
      ErrorCode::kInvalidTargetColumn);
}

TEST(KvTabletTest, OverwriteModeBypassesMergeEngine) {
  KvHarness h(ThreeColumns(), {{"table.merge-engine", "first_row"}});
  ASSERT_OK(h.Open());
  ASSERT_OK_RESULT(h.Put({KvOp::Upsert(Row(1, "a", 1))}));
  PutKvParams overwrite;
  overwrite.merge_mode = MergeMode::kOverwrite;
  ASSERT_OK_RESULT(h.Put({KvOp::Upsert(Row(1, "b", 2))}, overwrite));
  EXPECT_EQ(*h.Get(Key(1)), Row(1, "b", 2));
}

TEST(KvTabletTest, OlderSchemaRowsArePaddedAfterAddColumn) {
  KvHarness h(ThreeColumns(), {});
  ASSERT_OK(h.Open());
  ASSERT_OK_RESULT(h.Put({KvOp::Upsert(Row(1, "a", 1))}));
  auto v2 = record::Schema::Builder()
                .AddColumn("id", DataType::Int())
                .AddColumn("name", DataType::String())
                .AddColumn("v", DataType::BigInt())
                .AddColumn("extra", DataType::String())
                .PrimaryKey({"id"})
                .Build();
  ASSERT_TRUE(v2.ok());
  h.schemas() = h.schemas().With(SchemaId(1), *v2);
  ASSERT_OK(h.kv().UpdateSchemas(h.schemas()));
  // A writer still on schema 0 updates the row; the changelog is in schema 1.
  ASSERT_OK_RESULT(h.PutBytes(h.Batch({KvOp::Upsert(Row(1, "b", 2))}, SchemaId(0))));
  ASSERT_OK_RESULT(h.PutBytes(
      h.Batch({KvOp::Upsert(GenericRow{Datum(2), Datum("c"), Datum(int64_t{3}), Datum("e")})},
              SchemaId(1))));
  EXPECT_THAT(Render(h.Changelog(LogOffset(1))),
              ElementsAre("-U(1, a, 1, null)", "+U(1, b, 2, null)", "+I(2, c, 3, e)"));
  auto state = h.State();
  EXPECT_EQ(state.size(), 2u);
}

}  // namespace
}  // namespace strom::kv
