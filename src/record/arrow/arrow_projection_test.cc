// Column projection of Arrow IPC messages and ARROW log batches.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "interop/arrow/random_rows.h"
#include "record/arrow/arrow_log_batch.h"
#include "record/arrow/arrow_projection.h"
#include "record/arrow/arrow_reader.h"
#include "record/arrow/arrow_writer.h"
#include "record/arrow/ipc_internal.h"
#include "testutil/seed.h"

namespace strom::record::arrow {
namespace {

using testing::AllTypesRowType;
using testing::RandomData;

const ArrowCompression kCodecs[] = {ArrowCompression::None(), ArrowCompression::Lz4Frame(),
                                    ArrowCompression::Zstd(3)};

std::vector<GenericRow> Select(const std::vector<GenericRow>& rows,
                               const std::vector<int32_t>& columns) {
  std::vector<GenericRow> out;
  for (const GenericRow& row : rows) {
    GenericRow r;
    for (int32_t c : columns) r.push_back(row[static_cast<size_t>(c)]);
    out.push_back(std::move(r));
  }
  return out;
}

void ExpectRowsEqual(const std::vector<GenericRow>& expected, const std::vector<GenericRow>& got) {
  ASSERT_EQ(expected.size(), got.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(expected[i].size(), got[i].size());
    for (size_t c = 0; c < expected[i].size(); ++c) {
      EXPECT_TRUE(expected[i][c] == got[i][c]) << "row " << i << " column " << c;
    }
  }
}

/// Checks the projected message is well formed and decodes to the selected columns.
void CheckProjection(const DataType& type, const std::vector<GenericRow>& rows,
                     const std::vector<int32_t>& selected, ArrowCompression codec) {
  auto message = EncodeArrowBatch(type, rows, codec);
  ASSERT_TRUE(message.ok()) << message.status().ToString();
  auto projection = ArrowProjection::Create(type, selected, codec);
  ASSERT_TRUE(projection.ok()) << projection.status().ToString();
  ByteBuffer projected;
  ASSERT_TRUE(projection->ProjectMessage(*message, &projected).ok());

  // Values equal an encode of the subset.
  auto decoded = DecodeArrowBatch(projected, projection->projected_row_type());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->message_size(), projected.size());
  std::vector<GenericRow> expected = Select(rows, selected);
  ExpectRowsEqual(expected, decoded->ToRows());

  // Framing: 8-byte prefix, aligned metadata, aligned buffers, body a multiple of 8.
  EXPECT_EQ(LoadI32LE(projected.data()), -1);
  EXPECT_EQ((8 + LoadI32LE(projected.data() + 4)) % 8, 0);
  std::vector<uint64_t> scratch;
  auto parsed = internal::ParseMessage(projected, &scratch);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->message->body_length() % 8, 0);
  for (const fb::Buffer* b : *parsed->message->header_as_RecordBatch()->buffers()) {
    EXPECT_EQ(b->offset() % 8, 0);
  }

  // Without compression the projected body equals the body of an encode of the subset.
  if (codec.codec == CompressionCodec::kNone) {
    auto subset = EncodeArrowBatch(projection->projected_row_type(), expected, codec);
    ASSERT_TRUE(subset.ok());
    std::vector<uint64_t> scratch2;
    auto parsed_subset = internal::ParseMessage(*subset, &scratch2);
    ASSERT_TRUE(parsed_subset.ok());
    EXPECT_EQ(parsed->body, parsed_subset->body);
  }
}

TEST(ArrowProjectionTest, ProjectionEqualsEncodingTheSubset) {
  DataType type = AllTypesRowType();
  RandomData random(testutil::TestSeed());
  std::vector<GenericRow> rows = random.Rows(type, 150);
  const int n = static_cast<int>(type.fields().size());
  std::vector<std::vector<int32_t>> selections = {
      {0}, {n - 1}, {1, 3}, {27, 28, 29, 30, 31, 32, 33}, {}};
  std::vector<int32_t> all;
  for (int i = 0; i < n; ++i) all.push_back(i);
  selections.push_back(all);
  for (int k = 0; k < 10; ++k) {
    std::vector<int32_t> s;
    for (int i = 0; i < n; ++i) {
      if (random.Chance(0.3)) s.push_back(i);
    }
    selections.push_back(s);
  }
  for (const ArrowCompression& codec : kCodecs) {
    for (const auto& selected : selections) {
      SCOPED_TRACE(::testing::Message() << CompressionCodecName(codec.codec) << " "
                                        << ::testing::PrintToString(selected));
      CheckProjection(type, rows, selected, codec);
    }
  }
}

TEST(ArrowProjectionTest, RandomSchemasProjectLikeTheirSubsets) {
  RandomData random(testutil::TestSeed());
  for (int iteration = 0; iteration < 40; ++iteration) {
    DataType type = random.RowType(static_cast<int>(random.Uniform(1, 8)), 2);
    std::vector<GenericRow> rows = random.Rows(type, static_cast<int>(random.Uniform(0, 40)));
    std::vector<int32_t> selected;
    for (int i = 0; i < static_cast<int>(type.fields().size()); ++i) {
      if (random.Chance(0.5)) selected.push_back(i);
    }
    ArrowCompression codec = kCodecs[random.Uniform(0, 2)];
    SCOPED_TRACE(type.ToString());
    CheckProjection(type, rows, selected, codec);
  }
}

TEST(ArrowProjectionTest, RejectsBadProjections) {
  DataType type = testing::Row({{"a", DataType::Int()}, {"b", DataType::Int()},
                                {"c", DataType::Int()}});
  for (const std::vector<int32_t>& bad :
       std::vector<std::vector<int32_t>>{{1, 0}, {0, 0}, {3}, {0, 2, 2}, {-1}}) {
    auto p = ArrowProjection::Create(type, bad, {});
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), ErrorCode::kInvalidColumnProjection);
  }
  EXPECT_TRUE(ArrowProjection::Create(type, std::vector<int32_t>{0, 2}, {}).ok());
}

TEST(ArrowProjectionTest, WritesTheTableCodecIntoTheMetadata) {
  // Fluss writes BodyCompression from the table configuration, not from the input batch.
  DataType type = testing::Row({{"a", DataType::Int()}, {"b", DataType::String()}});
  std::vector<GenericRow> rows = {{int32_t{1}, std::string("x")}};
  auto message = EncodeArrowBatch(type, rows, ArrowCompression::Zstd(3));
  ASSERT_TRUE(message.ok());
  for (const ArrowCompression& table : kCodecs) {
    auto projection = ArrowProjection::Create(type, std::vector<int32_t>{1}, table);
    ASSERT_TRUE(projection.ok());
    ByteBuffer out;
    ASSERT_TRUE(projection->ProjectMessage(*message, &out).ok());
    std::vector<uint64_t> scratch;
    auto parsed = internal::ParseMessage(out, &scratch);
    ASSERT_TRUE(parsed.ok());
    const fb::BodyCompression* c = parsed->message->header_as_RecordBatch()->compression();
    if (table.codec == CompressionCodec::kNone) {
      EXPECT_EQ(c, nullptr);
    } else {
      ASSERT_NE(c, nullptr);
      EXPECT_EQ(c->codec(), table.codec == CompressionCodec::kZstd ? fb::CompressionType::ZSTD
                                                                   : fb::CompressionType::LZ4_FRAME);
    }
  }
}

TEST(ArrowProjectionTest, ProjectsLogBatchesKeepingHeaderAndChangeTypes) {
  DataType type = AllTypesRowType();
  RandomData random(17);
  std::vector<GenericRow> rows = random.Rows(type, 25);
  std::vector<ChangeType> change_types;
  for (size_t i = 0; i < rows.size(); ++i) {
    change_types.push_back(static_cast<ChangeType>(1 + i % 4));
  }
  std::vector<int32_t> selected = {2, 8, 30};
  for (bool append_only : {true, false}) {
    for (int8_t magic : {kLogMagicV0, kLogMagicV1}) {
      SCOPED_TRACE(::testing::Message() << "append_only " << append_only << " magic "
                                        << int{magic});
      LogBatchParams params;
      params.magic = magic;
      params.schema_id = SchemaId(3);
      params.append_only = append_only;
      params.writer_id = WriterId(77);
      params.batch_sequence = BatchSequence(5);
      ByteBuffer blob;
      auto built =
          BuildArrowLogBatch(&blob, params, type, rows,
                             append_only ? std::span<const ChangeType>() : change_types,
                             ArrowCompression::Zstd(3));
      ASSERT_TRUE(built.ok()) << built.status().ToString();
      EXPECT_TRUE(built->IsValid());
      const size_t header = built->header_size();
      const uint32_t crc = built->checksum();
      // Followed by an empty (header-only) batch, which passes through as is.
      LogBatchParams empty_params = params;
      ByteBuffer empty_batch;
      {
        LogRecordBatchBuilder b(&empty_batch, empty_params);
        b.Finish();
      }
      ByteBuffer original = blob;
      blob += empty_batch;

      auto projection = ArrowProjection::Create(type, selected, ArrowCompression::Zstd(3));
      ASSERT_TRUE(projection.ok());
      ByteBuffer out;
      auto consumed = projection->ProjectLogRecords(blob, SIZE_MAX, &out);
      ASSERT_TRUE(consumed.ok()) << consumed.status().ToString();
      EXPECT_EQ(*consumed, blob.size());

      auto projected = LogRecordBatch::Parse(out);
      ASSERT_TRUE(projected.ok()) << projected.status().ToString();
      // Header copied byte for byte except Length; the CRC is left as it was.
      EXPECT_EQ(projected->size_in_bytes(), static_cast<size_t>(projected->length()) + 12);
      EXPECT_EQ(ByteView(out).substr(0, 8), ByteView(original).substr(0, 8));
      EXPECT_EQ(ByteView(out).substr(12, header - 12), ByteView(original).substr(12, header - 12));
      EXPECT_EQ(projected->checksum(), crc);
      EXPECT_LT(projected->size_in_bytes(), original.size());
      // The change types are copied unchanged.
      if (!append_only) {
        EXPECT_EQ(ByteView(out).substr(header, rows.size()),
                  ByteView(original).substr(header, rows.size()));
      }
      auto body = DecodeArrowLogBatch(*projected, projection->projected_row_type());
      ASSERT_TRUE(body.ok()) << body.status().ToString();
      ExpectRowsEqual(Select(rows, selected), body->batch.ToRows());
      if (!append_only) {
        EXPECT_EQ(body->change_types, change_types);
      }
      // The empty batch follows unchanged.
      EXPECT_EQ(ByteView(out).substr(projected->size_in_bytes()), ByteView(empty_batch));
    }
  }
}

TEST(ArrowProjectionTest, StopsAtMaxBytesAndAtATruncatedBatch) {
  DataType type = testing::Row({{"a", DataType::BigInt()}, {"b", DataType::String()}});
  RandomData random(2);
  ByteBuffer blob;
  std::vector<size_t> ends;
  for (int i = 0; i < 3; ++i) {
    LogBatchParams params;
    auto built = BuildArrowLogBatch(&blob, params, type, random.Rows(type, 10), {},
                                    ArrowCompression::None());
    ASSERT_TRUE(built.ok());
    ends.push_back(blob.size());
  }
  auto projection = ArrowProjection::Create(type, std::vector<int32_t>{1}, {});
  ASSERT_TRUE(projection.ok());
  ByteBuffer all;
  ASSERT_TRUE(projection->ProjectLogRecords(blob, SIZE_MAX, &all).ok());
  ByteBuffer first;
  ASSERT_TRUE(projection->ProjectLogBatch(ByteView(blob).substr(0, ends[0]), &first).ok());
  // A limit that fits one projected batch but not two.
  ByteBuffer limited;
  auto consumed = projection->ProjectLogRecords(blob, first.size() + 10, &limited);
  ASSERT_TRUE(consumed.ok());
  EXPECT_EQ(*consumed, ends[0]);
  EXPECT_EQ(limited, first);
  // A limit below the first batch: nothing.
  ByteBuffer none;
  consumed = projection->ProjectLogRecords(blob, 10, &none);
  ASSERT_TRUE(consumed.ok());
  EXPECT_EQ(*consumed, 0u);
  EXPECT_TRUE(none.empty());
  // A slice cut inside the third batch: the first two.
  ByteBuffer cut;
  consumed = projection->ProjectLogRecords(ByteView(blob).substr(0, ends[2] - 5), SIZE_MAX, &cut);
  ASSERT_TRUE(consumed.ok());
  EXPECT_EQ(*consumed, ends[1]);
  EXPECT_EQ(cut, all.substr(0, cut.size()));
}

TEST(ArrowProjectionTest, CorruptInputIsAnErrorNeverACrash) {
  DataType type = AllTypesRowType();
  RandomData random(testutil::TestSeed());
  std::vector<GenericRow> rows = random.Rows(type, 8);
  auto projection = ArrowProjection::Create(type, std::vector<int32_t>{1, 9, 30}, {});
  ASSERT_TRUE(projection.ok());
  for (const ArrowCompression& codec : kCodecs) {
    auto message = EncodeArrowBatch(type, rows, codec);
    ASSERT_TRUE(message.ok());
    for (size_t n = 0; n < message->size(); n += 3) {
      std::unique_ptr<char[]> copy(new char[n + 1]);
      std::memcpy(copy.get(), message->data(), n);
      ByteBuffer out;
      EXPECT_EQ(projection->ProjectMessage(ByteView(copy.get(), n), &out).code(),
                ErrorCode::kCorruptMessage);
    }
    for (int trial = 0; trial < 1000; ++trial) {
      ByteBuffer bad = *message;
      size_t pos = static_cast<size_t>(random.Uniform(0, static_cast<int64_t>(bad.size()) - 1));
      bad[pos] = static_cast<char>(random.Uniform(0, 255));
      ByteBuffer out;
      Status st = projection->ProjectMessage(bad, &out);
      if (!st.ok()) {
        EXPECT_EQ(st.code(), ErrorCode::kCorruptMessage);
      }
    }
  }
  // A message for another schema has the wrong node count.
  std::vector<GenericRow> other_rows = {{int32_t{1}}};
  auto other = EncodeArrowBatch(testing::Row({{"x", DataType::Int()}}), other_rows, {});
  ASSERT_TRUE(other.ok());
  ByteBuffer out;
  EXPECT_EQ(projection->ProjectMessage(*other, &out).code(), ErrorCode::kCorruptMessage);
}

// PlanLogBatch from the first bytes of a batch, asking for more until it has enough, then
// the kept ranges read from the whole batch: the bytes ProjectLogBatch writes.
// `well_formed`: the ranges of a valid batch come in order, not adjacent (merged); corrupt
// metadata may order them any way.
Result<ByteBuffer> ProjectFromHead(ArrowProjection& projection, ByteView batch, size_t first,
                                   bool well_formed = true) {
  ProjectedLogBatch plan;
  size_t have = std::min(first, batch.size());
  for (int step = 0;; ++step) {
    STROM_ASSIGN_OR_RETURN(size_t needed, projection.PlanLogBatch(batch.substr(0, have),
                                                                 batch.size(), &plan));
    if (needed == 0) break;
    EXPECT_GT(needed, have);
    EXPECT_LE(needed, batch.size());
    EXPECT_LT(step, 4);
    if (needed <= have || needed > batch.size() || step >= 4) {
      return MakeError(ErrorCode::kUnknownServerError, "bad request for {} bytes", needed);
    }
    have = needed;
  }
  ByteBuffer out = plan.head;
  size_t end = 0;
  for (const auto& [offset, length] : plan.body_ranges) {
    EXPECT_GT(length, 0u);
    if (well_formed) {
      EXPECT_GT(offset, end) << "adjacent ranges are merged";
    }
    EXPECT_LE(offset + length, plan.input_size);
    end = offset + length;
    out.append(batch.substr(offset, length));
  }
  EXPECT_EQ(out.size(), plan.output_size);
  return out;
}

TEST(ArrowProjectionTest, PlanningFromTheHeadGivesTheBytesOfProjectLogBatch) {
  DataType type = AllTypesRowType();
  RandomData random(testutil::TestSeed());
  std::vector<GenericRow> rows = random.Rows(type, 300);  // nulls included
  std::vector<ChangeType> change_types;
  for (size_t i = 0; i < rows.size(); ++i) change_types.push_back(static_cast<ChangeType>(1 + i % 4));
  const std::vector<std::vector<int32_t>> selections = {{0}, {1, 5}, {2, 8, 30}, {3, 4, 5, 6}};
  for (const ArrowCompression& codec : kCodecs) {
    for (bool append_only : {true, false}) {
      for (int8_t magic : {kLogMagicV0, kLogMagicV1}) {
        LogBatchParams params;
        params.magic = magic;
        params.append_only = append_only;
        ByteBuffer batch;
        auto built = BuildArrowLogBatch(&batch, params, type, rows,
                                        append_only ? std::span<const ChangeType>() : change_types,
                                        codec);
        ASSERT_TRUE(built.ok()) << built.status().ToString();
        ByteBuffer empty_batch;
        {
          LogRecordBatchBuilder b(&empty_batch, params);
          b.Finish();
        }
        for (const auto& selected : selections) {
          SCOPED_TRACE(::testing::Message()
                       << CompressionCodecName(codec.codec) << " append_only " << append_only
                       << " magic " << int{magic} << " " << ::testing::PrintToString(selected));
          auto projection = ArrowProjection::Create(type, selected, codec);
          ASSERT_TRUE(projection.ok());
          ByteBuffer expected;
          ASSERT_TRUE(projection->ProjectLogBatch(batch, &expected).ok());
          for (size_t first : {size_t{0}, size_t{5}, size_t{13}, size_t{47}, size_t{52},
                               size_t{60}, size_t{300}, size_t{400}, size_t{4096}, batch.size()}) {
            auto got = ProjectFromHead(*projection, batch, first);
            ASSERT_TRUE(got.ok()) << got.status().ToString();
            EXPECT_TRUE(*got == expected) << "first " << first;
          }
          ByteBuffer expected_empty;
          ASSERT_TRUE(projection->ProjectLogBatch(empty_batch, &expected_empty).ok());
          EXPECT_EQ(expected_empty, empty_batch);
          auto got_empty = ProjectFromHead(*projection, empty_batch, 0);
          ASSERT_TRUE(got_empty.ok());
          EXPECT_EQ(*got_empty, empty_batch);
        }
      }
    }
  }
}

TEST(ArrowProjectionTest, PlanningCorruptBatchesFromTheHeadFailsAsTheWholeBatchDoes) {
  DataType type = AllTypesRowType();
  RandomData random(testutil::TestSeed());
  std::vector<GenericRow> rows = random.Rows(type, 12);
  std::vector<ChangeType> change_types(rows.size(), ChangeType::kInsert);
  auto projection = ArrowProjection::Create(type, std::vector<int32_t>{1, 9, 30}, {});
  ASSERT_TRUE(projection.ok());
  for (bool append_only : {true, false}) {
    LogBatchParams params;
    params.append_only = append_only;
    ByteBuffer batch;
    ASSERT_TRUE(BuildArrowLogBatch(&batch, params, type, rows,
                                   append_only ? std::span<const ChangeType>() : change_types,
                                   ArrowCompression::None())
                    .ok());
    for (int trial = 0; trial < 2000; ++trial) {
      ByteBuffer bad = batch;
      // Mostly in the header, change types and metadata, where the plan reads.
      const int64_t limit = std::min<int64_t>(static_cast<int64_t>(bad.size()) - 1, 600);
      for (int k = 0; k < 2; ++k) {
        size_t pos = static_cast<size_t>(random.Uniform(0, limit));
        bad[pos] = static_cast<char>(random.Uniform(0, 255));
      }
      ByteBuffer whole;
      Status expected = projection->ProjectLogBatch(bad, &whole);
      auto got = ProjectFromHead(*projection, bad, static_cast<size_t>(random.Uniform(0, 200)),
                                 /*well_formed=*/false);
      ASSERT_EQ(got.status().code(), expected.code()) << got.status().ToString() << " vs "
                                                      << expected.ToString();
      if (expected.ok()) {
        EXPECT_TRUE(*got == whole);
      }
    }
  }
}

}  // namespace
}  // namespace strom::record::arrow
