#include "client/record_accumulator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "record/arrow/arrow_reader.h"
#include "record/compacted_row.h"
#include "record/indexed_row.h"
#include "record/log_record_batch.h"

namespace strom::client {
namespace {

using record::DataType;
using record::Datum;
using record::GenericRow;
using namespace std::chrono_literals;

record::DataField Field(std::string name, DataType type) {
  record::DataField field;
  field.name = std::move(name);
  field.type = std::move(type);
  return field;
}

DataType RowType() {
  return DataType::Row({Field("id", DataType::Int().NotNull()), Field("name", DataType::String())});
}

GenericRow MakeRow(int32_t id) { return {Datum(id), Datum("row-" + std::to_string(id))}; }

AccumulatorOptions Options(LogFormat format = LogFormat::kArrow) {
  AccumulatorOptions options;
  options.table_id = TableId(5);
  options.schema_id = SchemaId(1);
  options.row_type = RowType();
  options.log_format = format;
  options.batch_timeout = std::chrono::hours(1);
  return options;
}

std::unique_ptr<BucketAssigner> HashOnId(int32_t buckets) {
  return std::move(*HashBucketAssigner::Create(RowType(), {"id"}, record::DataLakeFormat::kNone,
                                               buckets));
}

// Seals a built batch (no writer id) and decodes its rows, whatever its format.
std::vector<GenericRow> DecodeBatch(WriteBatch& built, LogFormat format) {
  if (!built.sealed()) {
    EXPECT_TRUE(built.Seal(kNoWriterId, kNoBatchSequence).ok());
  }
  const ByteBuffer& bytes = built.bytes();
  auto batch = record::LogRecordBatch::Parse(bytes);
  EXPECT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_TRUE(batch->IsValid());
  EXPECT_TRUE(batch->is_append_only());
  EXPECT_EQ(batch->schema_id(), SchemaId(1));
  std::vector<GenericRow> rows;
  if (format == LogFormat::kArrow) {
    auto decoded = record::arrow::DecodeArrowBatch(batch->records(), RowType());
    EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
    rows = decoded->ToRows();
  } else {
    std::vector<DataType> types = {RowType().fields()[0].type, RowType().fields()[1].type};
    record::RowRecordIterator it(*batch);
    for (;;) {
      auto next = it.Next();
      EXPECT_TRUE(next.ok());
      if (!next->has_value()) break;
      EXPECT_EQ((*next)->change_type, record::ChangeType::kAppendOnly);
      GenericRow row;
      Status st = format == LogFormat::kIndexed
                      ? record::DecodeIndexedRow(types, (*next)->row, &row)
                      : record::DecodeCompactedRow(types, (*next)->row, &row);
      EXPECT_TRUE(st.ok()) << st.ToString();
      rows.push_back(row);
    }
  }
  EXPECT_EQ(static_cast<int32_t>(rows.size()), batch->record_count());
  return rows;
}

class AccumulatorFormatTest : public ::testing::TestWithParam<LogFormat> {};

TEST_P(AccumulatorFormatTest, FlushMakesEveryOpenBatchReadyInBucketOrder) {
  std::atomic<int> wakes{0};
  RecordAccumulator acc(Options(GetParam()), HashOnId(3), [&] { ++wakes; });
  for (int32_t i = 0; i < 100; ++i) ASSERT_TRUE(acc.Append(MakeRow(i)).ok());
  EXPECT_GT(acc.buffered_bytes(), 0);
  EXPECT_TRUE(acc.HasUndrained());

  auto now = BatchClock::now();
  auto next_due = BatchClock::time_point::max();
  EXPECT_TRUE(acc.TakeReady(now, &next_due).empty());  // nothing is due for an hour
  EXPECT_LT(next_due, BatchClock::time_point::max());

  acc.BeginFlush();
  auto ready = acc.TakeReady(now, nullptr);
  acc.EndFlush();
  EXPECT_FALSE(acc.HasUndrained());
  ASSERT_EQ(ready.size(), 3u);  // one batch per bucket
  std::map<int32_t, int32_t> seen;
  for (auto& batch : ready) {
    EXPECT_EQ(batch->state(), WriteBatch::State::kReady);
    auto rows = DecodeBatch(*batch, GetParam());
    EXPECT_EQ(static_cast<int32_t>(rows.size()), batch->record_count());
    int32_t previous = -1;
    for (const auto& row : rows) {
      int32_t id = row[0].as<int32_t>();
      EXPECT_GT(id, previous);  // append order within the bucket
      previous = id;
      EXPECT_EQ(row[1].as<std::string>(), "row-" + std::to_string(id));
      seen[id] = batch->bucket().bucket.value();
    }
  }
  EXPECT_EQ(seen.size(), 100u);
  // The same id always lands in the same bucket.
  auto assigner = HashOnId(3);
  for (const auto& [id, bucket] : seen) {
    EXPECT_EQ(assigner->Assign(MakeRow(id), {})->value(), bucket);
  }
  for (const auto& batch : ready) {
    batch->completion()->Complete(Status::OK());
    acc.Release(*batch);
  }
  EXPECT_EQ(acc.buffered_bytes(), 0);
  EXPECT_TRUE(acc.Incomplete().empty());
}

INSTANTIATE_TEST_SUITE_P(Formats, AccumulatorFormatTest,
                         ::testing::Values(LogFormat::kArrow, LogFormat::kIndexed,
                                           LogFormat::kCompacted));

TEST(RecordAccumulatorTest, FullBatchesAreReadyWithoutFlush) {
  AccumulatorOptions options = Options();
  options.batch_size = 4096;
  std::atomic<int> wakes{0};
  RecordAccumulator acc(options, HashOnId(1), [&] { ++wakes; });
  for (int32_t i = 0; i < 2000; ++i) ASSERT_TRUE(acc.Append(MakeRow(i)).ok());
  EXPECT_GT(wakes.load(), 0);
  auto ready = acc.TakeReady(BatchClock::now(), nullptr);
  ASSERT_GT(ready.size(), 3u);
  int32_t next_id = 0;
  int64_t previous_index = -1;
  for (auto& batch : ready) {
    EXPECT_GT(batch->creation_index(), previous_index);
    previous_index = batch->creation_index();
    // Batches stay near the batch size (at most one planned-check step over it).
    EXPECT_LT(batch->bytes().size(), 2u * 4096u);
    for (const auto& row : DecodeBatch(*batch, LogFormat::kArrow)) {
      EXPECT_EQ(row[0].as<int32_t>(), next_id++);
    }
  }
  // The remaining rows sit in the open batch until it is due.
  acc.BeginFlush();
  auto rest = acc.TakeReady(BatchClock::now(), nullptr);
  acc.EndFlush();
  ASSERT_EQ(rest.size(), 1u);
  for (const auto& row : DecodeBatch(*rest[0], LogFormat::kArrow)) {
    EXPECT_EQ(row[0].as<int32_t>(), next_id++);
  }
  EXPECT_EQ(next_id, 2000);
}

TEST(RecordAccumulatorTest, LingerMakesOldBatchesDue) {
  AccumulatorOptions options = Options();
  options.batch_timeout = 50ms;
  RecordAccumulator acc(options, HashOnId(1), [] {});
  ASSERT_TRUE(acc.Append(MakeRow(1)).ok());
  auto created = BatchClock::now();
  auto next_due = BatchClock::time_point::max();
  EXPECT_TRUE(acc.TakeReady(created, &next_due).empty());
  EXPECT_LE(next_due, created + 50ms);
  auto ready = acc.TakeReady(created + 60ms, nullptr);
  EXPECT_EQ(ready.size(), 1u);
}

TEST(RecordAccumulatorTest, OpeningABatchWakesTheSenderOnce) {
  // An idle sender sleeps until woken; it must learn of a new batch to honour its linger.
  std::atomic<int> wakes{0};
  RecordAccumulator acc(Options(), HashOnId(1), [&] { ++wakes; });
  ASSERT_TRUE(acc.Append(MakeRow(1)).ok());
  EXPECT_EQ(wakes.load(), 1);
  ASSERT_TRUE(acc.Append(MakeRow(2)).ok());  // same open batch: no second wake-up
  EXPECT_EQ(wakes.load(), 1);
}

TEST(RecordAccumulatorTest, BadRowIsRefusedAndNothingIsBuffered) {
  RecordAccumulator acc(Options(), HashOnId(2), [] {});
  // Null in the NOT NULL key column: the bucket key cannot even be encoded.
  EXPECT_FALSE(acc.Append(GenericRow{Datum(), Datum("x")}).ok());
  // Wrong type for `name`.
  auto bad = acc.Append(GenericRow{Datum(int32_t{1}), Datum(int64_t{5})});
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kCorruptRecord);
  EXPECT_FALSE(acc.HasUndrained());
  EXPECT_EQ(acc.buffered_bytes(), 0);
  // A good row after a bad one in an open batch keeps the batch consistent.
  ASSERT_TRUE(acc.Append(MakeRow(1)).ok());
  EXPECT_FALSE(acc.Append(GenericRow{Datum(int32_t{1}), Datum(int64_t{5})}).ok());
  ASSERT_TRUE(acc.Append(MakeRow(1)).ok());
  acc.BeginFlush();
  auto ready = acc.TakeReady(BatchClock::now(), nullptr);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(DecodeBatch(*ready[0], LogFormat::kArrow).size(), 2u);
}

TEST(RecordAccumulatorTest, AppendBlocksAtTheMemoryBound) {
  AccumulatorOptions options = Options(LogFormat::kCompacted);
  options.batch_size = 1024;
  options.buffer_memory = 4096;
  std::atomic<int> wakes{0};
  RecordAccumulator acc(options, HashOnId(1), [&] { ++wakes; });
  std::atomic<int> appended{0};
  std::thread producer([&] {
    for (int32_t i = 0; i < 1000; ++i) {
      ASSERT_TRUE(acc.Append(MakeRow(i)).ok());
      ++appended;
    }
  });
  // The producer stalls once ~4 KiB are buffered.
  std::this_thread::sleep_for(100ms);
  EXPECT_LT(appended.load(), 1000);
  EXPECT_LE(acc.buffered_bytes(), options.buffer_memory + options.batch_size);
  // A sender that acknowledges whatever is ready lets it finish.
  int32_t rows = 0;
  bool flushing = false;
  while (rows < 1000) {
    if (!flushing && appended.load() == 1000) {
      acc.BeginFlush();  // the last, partly filled batch
      flushing = true;
    }
    for (auto& batch : acc.TakeReady(BatchClock::now(), nullptr)) {
      rows += batch->record_count();
      batch->completion()->Complete(Status::OK());
      acc.Release(*batch);
    }
    std::this_thread::sleep_for(1ms);
  }
  producer.join();
  EXPECT_EQ(appended.load(), 1000);
  EXPECT_GT(wakes.load(), 0);
}

TEST(RecordAccumulatorTest, CloseFailsAppends) {
  RecordAccumulator acc(Options(), HashOnId(1), [] {});
  acc.Close();
  auto result = acc.Append(MakeRow(1));
  EXPECT_FALSE(result.ok());
}

TEST(RecordAccumulatorTest, IncompleteTracksBatchesUntilReleased) {
  RecordAccumulator acc(Options(), HashOnId(4), [] {});
  auto c1 = acc.Append(MakeRow(1));
  auto c2 = acc.Append(MakeRow(1));
  ASSERT_TRUE(c1.ok() && c2.ok());
  EXPECT_EQ(c1->get(), c2->get());  // same bucket, same open batch
  EXPECT_EQ(acc.Incomplete().size(), 1u);
  acc.BeginFlush();
  auto ready = acc.TakeReady(BatchClock::now(), nullptr);
  acc.EndFlush();
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(acc.Incomplete().size(), 1u);  // in flight still counts
  ready[0]->completion()->Complete(Status::OK());
  acc.Release(*ready[0]);
  EXPECT_TRUE(acc.Incomplete().empty());
  EXPECT_TRUE((*c1)->IsReady());
}

// Sealing records written behind a header gap gives exactly what the record component's
// builder writes for the same records and header fields.
TEST(WriteBatchTest, SealMatchesTheBatchBuilder) {
  for (int32_t count : {0, 1, 3}) {
    ByteBuffer records;
    for (int32_t i = 0; i < count; ++i) {
      ByteBuffer row = *record::CompactedRowCodec({DataType::Int().NotNull(), DataType::String()})
                            .Encode(MakeRow(i));
      ByteWriter w(&records);
      w.I32LE(static_cast<int32_t>(row.size() + 1));
      w.U8(0);
      w.Bytes(row);
    }
    record::LogBatchParams params;
    params.schema_id = SchemaId(3);
    params.writer_id = WriterId(12345);
    params.batch_sequence = BatchSequence(7);
    ByteBuffer expected;
    record::LogRecordBatchBuilder builder(&expected, params);
    ASSERT_TRUE(builder.SetBody(records, count).ok());
    builder.Finish();

    ByteBuffer sealed(record::kLogHeaderSizeV0, '\x55');  // whatever the gap holds
    sealed += records;
    ASSERT_TRUE(SealLogBatch(std::span<char>(sealed.data(), sealed.size()), SchemaId(3),
                             WriterId(12345), BatchSequence(7), count)
                    .ok());
    EXPECT_EQ(ToHex(sealed), ToHex(expected)) << count << " records";
  }
  ByteBuffer too_short(10, '\0');
  EXPECT_EQ(SealLogBatch(std::span<char>(too_short.data(), too_short.size()), SchemaId(1),
                         kNoWriterId, kNoBatchSequence, 0)
                .code(),
            ErrorCode::kCorruptRecord);
}

TEST(WriteBatchTest, SealWritesWriterStateAndAValidCrc) {
  RecordAccumulator acc(Options(), HashOnId(1), [] {});
  ASSERT_TRUE(acc.Append(MakeRow(1)).ok());
  acc.BeginFlush();
  auto ready = acc.TakeReady(BatchClock::now(), nullptr);
  ASSERT_EQ(ready.size(), 1u);
  WriteBatch& batch = *ready[0];
  EXPECT_FALSE(batch.sealed());
  ASSERT_TRUE(batch.Seal(WriterId(77), BatchSequence(12)).ok());
  auto view = record::LogRecordBatch::Parse(batch.bytes());
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->writer_id(), WriterId(77));
  EXPECT_EQ(view->batch_sequence(), BatchSequence(12));
  EXPECT_EQ(view->schema_id(), SchemaId(1));
  EXPECT_EQ(view->record_count(), 1);
  EXPECT_TRUE(view->is_append_only());
  EXPECT_TRUE(view->IsValid());
  EXPECT_EQ(batch.writer_id(), WriterId(77));
  // Re-sealing (a re-send under a new writer id) rewrites the fields and the CRC.
  ASSERT_TRUE(batch.Seal(WriterId(78), BatchSequence(0)).ok());
  view = record::LogRecordBatch::Parse(batch.bytes());
  EXPECT_EQ(view->writer_id(), WriterId(78));
  EXPECT_EQ(view->batch_sequence(), BatchSequence(0));
  EXPECT_TRUE(view->IsValid());
  batch.ClearSeal();
  EXPECT_FALSE(batch.sealed());
  EXPECT_EQ(batch.sequence(), kNoBatchSequence);
}

}  // namespace
}  // namespace strom::client
