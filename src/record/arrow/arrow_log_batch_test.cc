// ARROW log batch bodies (change-type vector + IPC message) and IPC streams.

#include <gtest/gtest.h>

#include <vector>

#include "interop/arrow/random_rows.h"
#include "record/arrow/arrow_log_batch.h"
#include "record/arrow/arrow_schema.h"
#include "record/arrow/ipc_stream.h"
#include "testutil/seed.h"

namespace strom::record::arrow {
namespace {

using testing::AllTypesRowType;
using testing::RandomData;

TEST(ArrowLogBatchTest, AppendOnlyBodyIsJustTheMessage) {
  DataType type = testing::Row({{"id", DataType::Int()}, {"name", DataType::String()}});
  std::vector<GenericRow> rows = {{int32_t{1}, std::string("a")}, {int32_t{2}, Datum()}};
  auto body = EncodeArrowLogBody(type, rows, {}, ArrowCompression::None());
  ASSERT_TRUE(body.ok());
  auto message = EncodeArrowBatch(type, rows, ArrowCompression::None());
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(*body, *message);
  auto decoded = DecodeArrowLogBody(*body, 2, /*append_only=*/true, type);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->change_types,
            (std::vector<ChangeType>{ChangeType::kAppendOnly, ChangeType::kAppendOnly}));
  EXPECT_EQ(decoded->batch.ToRows(), rows);
}

TEST(ArrowLogBatchTest, ChangeTypeVectorPrecedesTheMessage) {
  DataType type = testing::Row({{"id", DataType::Int()}});
  std::vector<GenericRow> rows = {{int32_t{1}}, {int32_t{1}}, {int32_t{2}}};
  std::vector<ChangeType> types = {ChangeType::kUpdateBefore, ChangeType::kUpdateAfter,
                                   ChangeType::kDelete};
  auto body = EncodeArrowLogBody(type, rows, types, ArrowCompression::Lz4Frame());
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(ByteView(*body).substr(0, 3), ByteView("\x02\x03\x04", 3));
  // The IPC message starts right after the vector, unpadded.
  EXPECT_EQ(LoadI32LE(body->data() + 3), -1);
  auto decoded = DecodeArrowLogBody(*body, 3, /*append_only=*/false, type);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->change_types, types);
  EXPECT_EQ(decoded->batch.ToRows(), rows);

  // Bad change type, wrong counts, mismatched vector.
  ByteBuffer bad = *body;
  bad[1] = 9;
  EXPECT_EQ(DecodeArrowLogBody(bad, 3, false, type).status().code(), ErrorCode::kCorruptRecord);
  // Four change types would swallow the first byte of the continuation marker (0xFF).
  EXPECT_EQ(DecodeArrowLogBody(*body, 4, false, type).status().code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(DecodeArrowLogBody(*body, 3, true, type).status().code(), ErrorCode::kCorruptMessage);
  EXPECT_EQ(DecodeArrowLogBody(ByteView(*body).substr(0, 2), 3, false, type).status().code(),
            ErrorCode::kCorruptRecord);
  EXPECT_EQ(DecodeArrowLogBody(*body, -1, false, type).status().code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(EncodeArrowLogBody(type, rows, std::vector<ChangeType>{ChangeType::kInsert},
                               ArrowCompression::None())
                .status()
                .code(),
            ErrorCode::kCorruptRecord);
}

TEST(ArrowLogBatchTest, RowCountMustMatchTheHeader) {
  DataType type = testing::Row({{"id", DataType::Int()}});
  std::vector<GenericRow> rows = {{int32_t{1}}, {int32_t{2}}};
  auto body = EncodeArrowLogBody(type, rows, {}, ArrowCompression::None());
  ASSERT_TRUE(body.ok());
  // With one change-type byte consumed the message would start one byte late.
  EXPECT_FALSE(DecodeArrowLogBody(*body, 1, false, type).ok());
  // Record count 1 vs. 2 rows in an append-only body.
  EXPECT_EQ(DecodeArrowLogBody(*body, 1, true, type).status().code(), ErrorCode::kCorruptRecord);
  // Zero records means an empty body.
  EXPECT_TRUE(DecodeArrowLogBody(ByteView(), 0, true, type).ok());
  EXPECT_EQ(DecodeArrowLogBody(*body, 0, true, type).status().code(), ErrorCode::kCorruptRecord);
}

TEST(ArrowLogBatchTest, BuildsAndReadsWholeLogBatches) {
  DataType type = AllTypesRowType();
  RandomData random(testutil::TestSeed());
  std::vector<GenericRow> rows = random.Rows(type, 40);
  std::vector<ChangeType> types;
  for (size_t i = 0; i < rows.size(); ++i) types.push_back(static_cast<ChangeType>(i % 5));
  for (const ArrowCompression& codec :
       {ArrowCompression::None(), ArrowCompression::Lz4Frame(), ArrowCompression::Zstd(5)}) {
    for (bool append_only : {true, false}) {
      LogBatchParams params;
      params.schema_id = SchemaId(9);
      params.append_only = append_only;
      ByteBuffer out = "prefix";
      auto batch = BuildArrowLogBatch(&out, params, type, rows,
                                      append_only ? std::span<const ChangeType>() : types, codec);
      ASSERT_TRUE(batch.ok()) << batch.status().ToString();
      EXPECT_EQ(batch->record_count(), 40);
      EXPECT_EQ(batch->last_offset_delta(), 39);
      EXPECT_EQ(batch->is_append_only(), append_only);
      EXPECT_TRUE(batch->IsValid());
      EXPECT_EQ(out.size(), 6 + batch->size_in_bytes());
      auto parsed = LogRecordBatch::Parse(ByteView(out).substr(6));
      ASSERT_TRUE(parsed.ok());
      auto body = DecodeArrowLogBatch(*parsed, type);
      ASSERT_TRUE(body.ok()) << body.status().ToString();
      EXPECT_EQ(body->batch.ToRows(), rows);
      if (!append_only) {
        EXPECT_EQ(body->change_types, types);
      }
    }
  }
  // An empty batch has no body at all.
  auto writer = ArrowBatchWriter::Create(type);
  ASSERT_TRUE(writer.ok());
  ByteBuffer out;
  LogBatchParams params;
  auto empty = BuildArrowLogBatch(&out, params, writer->get());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size_in_bytes(), kLogHeaderSizeV0);
  auto body = DecodeArrowLogBatch(*empty, type);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->batch.num_rows(), 0);
  // Change types must agree with the append-only flag.
  ASSERT_TRUE((*writer)->AppendRow(rows[0]).ok());
  std::vector<ChangeType> one = {ChangeType::kInsert};
  EXPECT_EQ(BuildArrowLogBatch(&out, params, writer->get(), one).status().code(),
            ErrorCode::kCorruptRecord);
}

TEST(ArrowIpcStreamTest, WritesAndReadsAStream) {
  DataType type = AllTypesRowType();
  RandomData random(testutil::TestSeed());
  std::vector<std::vector<GenericRow>> batches = {random.Rows(type, 10), random.Rows(type, 0),
                                                  random.Rows(type, 33)};
  std::vector<ByteBuffer> messages;
  for (const auto& rows : batches) {
    auto m = EncodeArrowBatch(type, rows, ArrowCompression::Zstd(1));
    ASSERT_TRUE(m.ok());
    messages.push_back(*m);
  }
  ByteBuffer stream;
  ASSERT_TRUE(WriteIpcStream(type, messages, &stream).ok());
  EXPECT_EQ(ByteView(stream).substr(stream.size() - 8), ByteView("\xFF\xFF\xFF\xFF\0\0\0\0", 8));
  auto read = ReadIpcStream(stream, type);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ((*read)[i].ToRows(), batches[i]);

  // Without the EOS marker, and with the legacy 4-byte EOS.
  ByteBuffer no_eos = stream.substr(0, stream.size() - 8);
  EXPECT_EQ(ReadIpcStream(no_eos, type)->size(), 3u);
  EXPECT_EQ(ReadIpcStream(no_eos + ByteBuffer(4, '\0'), type)->size(), 3u);
  // A partial trailing prefix is corruption.
  EXPECT_EQ(ReadIpcStream(no_eos + "\xFF", type).status().code(), ErrorCode::kCorruptMessage);

  // The schema must match the expected row type.
  std::vector<DataType> others = {
      testing::Row({{"x", DataType::Int()}}),
  };
  std::vector<DataField> renamed = type.fields();
  renamed[3].name = "other";
  others.push_back(DataType::Row(renamed));
  std::vector<DataField> retyped = type.fields();
  retyped[15].type = DataType::Time(3);  // TIME(0) -> TIME(3): another unit
  others.push_back(DataType::Row(retyped));
  std::vector<DataField> nested = type.fields();
  nested.back().type = DataType::BigInt().NotNull();
  others.push_back(DataType::Row(nested));
  for (const DataType& other : others) {
    EXPECT_EQ(ReadIpcStream(stream, other).status().code(), ErrorCode::kCorruptMessage)
        << other.ToString();
  }
  // A stream that starts with a record batch is rejected.
  EXPECT_EQ(ReadIpcStream(messages[0], type).status().code(), ErrorCode::kCorruptMessage);
}

}  // namespace
}  // namespace strom::record::arrow
