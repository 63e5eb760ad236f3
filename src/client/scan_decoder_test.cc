// ScanDecoder and ScanBatch: fetched log batches (ARROW in all three codecs, INDEXED) decoded
// into batch views, read through the typed getters, as Datums and as rows; fetch offsets
// inside a batch, change types, slices, projections, bad bytes.
#include "client/scan_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>

#include "record/arrow/arrow_log_batch.h"
#include "record/indexed_row.h"
#include "record/log_record_batch.h"

namespace strom::client {
namespace {

using record::arrow::ArrowCompression;

Schema EventsSchema() {
  Schema::Builder builder;
  builder.AddColumn("id", DataType::BigInt().NotNull());
  builder.AddColumn("n", DataType::Int());
  builder.AddColumn("name", DataType::String());
  builder.AddColumn("score", DataType::Double());
  builder.AddColumn("day", DataType::Date());
  builder.AddColumn("at", DataType::Timestamp(3));
  builder.AddColumn("ok", DataType::Boolean());
  return *builder.Build();
}

TableInfo Events(const std::string& format = "ARROW") {
  TableDescriptor::Parts parts;
  parts.schema = EventsSchema();
  parts.distribution = TableDistribution{1, {}};
  parts.properties.emplace_back("table.log.format", format);
  auto descriptor = TableDescriptor::Make(std::move(parts));
  EXPECT_TRUE(descriptor.ok()) << descriptor.status().ToString();
  return TableInfo{TablePath("db", "events"), TableId(3), SchemaId(1), *descriptor, 0, 0};
}

GenericRow Event(int64_t id) {
  GenericRow row(7);
  row[0] = Datum(id);
  if (id % 3 != 0) row[1] = Datum(static_cast<int32_t>(id * 10));  // every third n is null
  row[2] = Datum(std::string(static_cast<size_t>(id % 20), static_cast<char>('a' + id % 26)));
  row[3] = Datum(static_cast<double>(id) / 4);
  row[4] = Datum(static_cast<int32_t>(19000 + id));
  row[5] = Datum(record::TimestampValue{1700000000000 + id, 0});
  row[6] = Datum(id % 2 == 0);
  return row;
}

std::vector<GenericRow> Events(int64_t first, int64_t count) {
  std::vector<GenericRow> rows;
  for (int64_t i = 0; i < count; ++i) rows.push_back(Event(first + i));
  return rows;
}

// Appends one ARROW batch of `rows` at `base` to `out`.
void AppendArrowBatch(ByteBuffer* out, int64_t base, const std::vector<GenericRow>& rows,
                      ArrowCompression compression,
                      std::vector<ChangeType> change_types = {}) {
  record::LogBatchParams params;
  params.schema_id = SchemaId(1);
  params.base_offset = LogOffset(base);
  params.commit_timestamp = TimestampMs(1234);
  params.append_only = change_types.empty();
  auto built = record::arrow::BuildArrowLogBatch(out, params, EventsSchema().RowType(), rows,
                                                  change_types, compression);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
}

void AppendIndexedBatch(ByteBuffer* out, int64_t base, const std::vector<GenericRow>& rows) {
  record::LogBatchParams params;
  params.schema_id = SchemaId(1);
  params.base_offset = LogOffset(base);
  params.commit_timestamp = TimestampMs(1234);
  std::vector<DataType> types;
  const Schema schema = EventsSchema();
  for (const auto& column : schema.columns()) types.push_back(column.type);
  record::IndexedRowCodec codec(std::move(types));
  record::LogRecordBatchBuilder builder(out, params);
  for (const GenericRow& row : rows) {
    auto bytes = codec.Encode(row);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    ASSERT_TRUE(builder.AppendRow(ChangeType::kAppendOnly, *bytes).ok());
  }
  builder.Finish();
}

Result<int64_t> DecodeAll(ScanDecoder& decoder, const ByteBuffer& bytes, int64_t start,
                          std::deque<ScanBatch>* out) {
  return decoder.Decode(BucketId(0), std::make_shared<const ByteBuffer>(bytes), start, nullptr,
                        out);
}

// Checks every getter of `batch` against the rows that were written, starting at `first_id`.
void ExpectEvents(const ScanBatch& batch, int64_t first_id) {
  for (size_t r = 0; r < batch.size(); ++r) {
    const int64_t id = first_id + static_cast<int64_t>(r);
    SCOPED_TRACE(id);
    const GenericRow expected = Event(id);
    EXPECT_EQ(batch.offset(r).value(), id);
    EXPECT_EQ(batch.GetBigInt(r, 0), id);
    EXPECT_EQ(batch.IsNull(r, 1), id % 3 == 0);
    if (id % 3 != 0) {
      EXPECT_EQ(batch.GetInt(r, 1), id * 10);
    }
    EXPECT_EQ(batch.GetBytes(r, 2), expected[2].as<std::string>());
    EXPECT_EQ(batch.GetDouble(r, 3), static_cast<double>(id) / 4);
    EXPECT_EQ(batch.GetInt(r, 4), 19000 + id);
    EXPECT_EQ(batch.GetTimestamp(r, 5).millis, 1700000000000 + id);
    EXPECT_EQ(batch.GetBoolean(r, 6), id % 2 == 0);
    EXPECT_EQ(batch.GetRow(r), expected);
    EXPECT_EQ(batch.GetDatum(r, 2), expected[2]);
    ScanRecord record = batch.GetRecord(r);
    EXPECT_EQ(record.offset.value(), id);
    EXPECT_EQ(record.timestamp.value(), 1234);
    EXPECT_EQ(record.change_type, ChangeType::kAppendOnly);
    EXPECT_EQ(record.row, expected);
  }
}

class ScanDecoderArrowTest : public ::testing::TestWithParam<ArrowCompression> {};

TEST_P(ScanDecoderArrowTest, BatchesReadInPlaceMatchTheWrittenRows) {
  ByteBuffer bytes;
  AppendArrowBatch(&bytes, 0, Events(0, 100), GetParam());
  AppendArrowBatch(&bytes, 100, Events(100, 57), GetParam());
  auto decoder = ScanDecoder::Create(Events(), std::nullopt, true);
  ASSERT_TRUE(decoder.ok());
  std::deque<ScanBatch> batches;
  auto next = DecodeAll(**decoder, bytes, kEarliestOffsetValue, &batches);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(*next, 157);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].size(), 100u);
  EXPECT_EQ(batches[1].size(), 57u);
  EXPECT_EQ(batches[0].num_columns(), 7u);
  EXPECT_EQ(batches[1].timestamp().value(), 1234);
  EXPECT_EQ(batches[0].type_root(2), TypeRoot::kString);
  ExpectEvents(batches[0], 0);
  ExpectEvents(batches[1], 100);
}

INSTANTIATE_TEST_SUITE_P(Codecs, ScanDecoderArrowTest,
                         ::testing::Values(ArrowCompression::None(), ArrowCompression::Lz4Frame(),
                                           ArrowCompression::Zstd()));

TEST(ScanDecoderTest, BatchesOutliveTheDecoderAndTheFetchedBuffer) {
  std::deque<ScanBatch> batches;
  {
    ByteBuffer bytes;
    AppendArrowBatch(&bytes, 0, Events(0, 30), ArrowCompression::None());
    auto decoder = ScanDecoder::Create(Events(), std::nullopt, true);
    ASSERT_TRUE(decoder.ok());
    ASSERT_TRUE(DecodeAll(**decoder, bytes, 0, &batches).ok());
    bytes.assign(bytes.size(), '\xff');  // the decoder was handed its own copy
  }
  ASSERT_EQ(batches.size(), 1u);
  ExpectEvents(batches[0], 0);
}

TEST(ScanDecoderTest, AFetchOffsetInsideABatchSkipsItsEarlierRecords) {
  ByteBuffer bytes;
  AppendArrowBatch(&bytes, 10, Events(10, 20), ArrowCompression::None());
  AppendArrowBatch(&bytes, 30, Events(30, 5), ArrowCompression::None());
  auto decoder = ScanDecoder::Create(Events(), std::nullopt, true);
  ASSERT_TRUE(decoder.ok());
  std::deque<ScanBatch> batches;
  auto next = DecodeAll(**decoder, bytes, 25, &batches);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 35);
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].size(), 5u);
  EXPECT_EQ(batches[0].offset(0).value(), 25);
  ExpectEvents(batches[0], 25);
  ExpectEvents(batches[1], 30);

  // A fetch offset past every batch yields nothing but still moves the position on.
  batches.clear();
  next = DecodeAll(**decoder, bytes, 40, &batches);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 40);
  EXPECT_TRUE(batches.empty());
}

TEST(ScanDecoderTest, SlicesShareTheDataAndKeepOffsets) {
  ByteBuffer bytes;
  AppendArrowBatch(&bytes, 0, Events(0, 50), ArrowCompression::Zstd());
  auto decoder = ScanDecoder::Create(Events(), std::nullopt, true);
  ASSERT_TRUE(decoder.ok());
  std::deque<ScanBatch> batches;
  ASSERT_TRUE(DecodeAll(**decoder, bytes, 0, &batches).ok());
  ScanBatch head = batches[0].Slice(0, 20);
  ScanBatch tail = batches[0].Slice(20, 100);  // clamped to what is left
  batches.clear();
  EXPECT_EQ(head.size(), 20u);
  EXPECT_EQ(tail.size(), 30u);
  ExpectEvents(head, 0);
  ExpectEvents(tail, 20);
  EXPECT_TRUE(tail.Slice(30, 5).empty());
}

TEST(ScanDecoderTest, ChangeTypesOfAChangelogBatch) {
  ByteBuffer bytes;
  const std::vector<ChangeType> types = {ChangeType::kInsert, ChangeType::kUpdateBefore,
                                         ChangeType::kUpdateAfter, ChangeType::kDelete};
  AppendArrowBatch(&bytes, 0, Events(0, 4), ArrowCompression::None(), types);
  auto decoder = ScanDecoder::Create(Events(), std::nullopt, true);
  ASSERT_TRUE(decoder.ok());
  std::deque<ScanBatch> batches;
  ASSERT_TRUE(DecodeAll(**decoder, bytes, 1, &batches).ok());
  ASSERT_EQ(batches.size(), 1u);
  ASSERT_EQ(batches[0].size(), 3u);
  EXPECT_EQ(batches[0].change_type(0), ChangeType::kUpdateBefore);
  EXPECT_EQ(batches[0].change_type(2), ChangeType::kDelete);
  EXPECT_EQ(batches[0].GetRecord(2).change_type, ChangeType::kDelete);
}

TEST(ScanDecoderTest, AnUnknownChangeTypeIsCorruptionAndYieldsNothing) {
  ByteBuffer good;
  AppendArrowBatch(&good, 0, Events(0, 3), ArrowCompression::None());
  ByteBuffer bad;
  AppendArrowBatch(&bad, 3, Events(3, 2), ArrowCompression::None(),
                   {ChangeType::kInsert, ChangeType::kInsert});
  // Break the second change-type byte and skip the CRC check (it would catch it first).
  bad[record::kLogHeaderSizeV0 + 1] = 9;
  auto decoder = ScanDecoder::Create(Events(), std::nullopt, false);
  ASSERT_TRUE(decoder.ok());
  std::deque<ScanBatch> batches;
  auto next = DecodeAll(**decoder, good + bad, 0, &batches);
  EXPECT_EQ(next.status().code(), ErrorCode::kCorruptRecord);
  EXPECT_TRUE(batches.empty());
}

TEST(ScanDecoderTest, IndexedBatchesReadThroughTheSameGetters) {
  ByteBuffer bytes;
  AppendIndexedBatch(&bytes, 0, Events(0, 40));
  AppendIndexedBatch(&bytes, 40, Events(40, 10));
  auto decoder = ScanDecoder::Create(Events("INDEXED"), std::nullopt, true);
  ASSERT_TRUE(decoder.ok());
  std::deque<ScanBatch> batches;
  auto next = DecodeAll(**decoder, bytes, 5, &batches);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(*next, 50);
  ASSERT_EQ(batches.size(), 2u);
  ExpectEvents(batches[0], 5);
  ExpectEvents(batches[1], 40);
}

TEST(ScanDecoderTest, ProjectedColumnsComeInTheAskedOrder) {
  for (const std::string format : {"ARROW", "INDEXED"}) {
    SCOPED_TRACE(format);
    ByteBuffer bytes;
    if (format == "ARROW") {
      // The server projects ARROW batches: it sends columns 0 and 2, ascending.
      record::LogBatchParams params;
      params.schema_id = SchemaId(1);
      Schema::Builder builder;
      builder.AddColumn("id", DataType::BigInt().NotNull());
      builder.AddColumn("name", DataType::String());
      std::vector<GenericRow> rows;
      for (const GenericRow& row : Events(0, 8)) rows.push_back({row[0], row[2]});
      ASSERT_TRUE(record::arrow::BuildArrowLogBatch(&bytes, params, builder.Build()->RowType(),
                                                    rows, {}, ArrowCompression::None())
                      .ok());
    } else {
      AppendIndexedBatch(&bytes, 0, Events(0, 8));
    }
    auto decoder = ScanDecoder::Create(Events(format), std::vector<size_t>{2, 0}, true);
    ASSERT_TRUE(decoder.ok());
    EXPECT_EQ((*decoder)->server_side_projection(), format == "ARROW");
    std::deque<ScanBatch> batches;
    ASSERT_TRUE(DecodeAll(**decoder, bytes, 0, &batches).ok());
    ASSERT_EQ(batches.size(), 1u);
    const ScanBatch& batch = batches[0];
    ASSERT_EQ(batch.num_columns(), 2u);
    for (size_t r = 0; r < batch.size(); ++r) {
      const GenericRow expected = Event(static_cast<int64_t>(r));
      EXPECT_EQ(batch.GetBytes(r, 0), expected[2].as<std::string>());
      EXPECT_EQ(batch.GetBigInt(r, 1), static_cast<int64_t>(r));
      EXPECT_EQ(batch.GetRow(r), (GenericRow{expected[2], expected[0]}));
    }
  }
}

TEST(ScanDecoderDeathTest, AGetterOfTheWrongTypeStopsInsteadOfReadingOutOfBounds) {
  ByteBuffer bytes;
  AppendArrowBatch(&bytes, 0, Events(0, 4), ArrowCompression::None());
  auto decoder = ScanDecoder::Create(Events(), std::nullopt, true);
  ASSERT_TRUE(decoder.ok());
  std::deque<ScanBatch> batches;
  ASSERT_TRUE(DecodeAll(**decoder, bytes, 0, &batches).ok());
  const ScanBatch batch = batches[0];
  EXPECT_DEATH(batch.GetBigInt(3, 1), "column 1");  // INT read as BIGINT
  EXPECT_DEATH(batch.GetBytes(0, 0), "column 0");
}

}  // namespace
}  // namespace strom::client
