// Round trips, exact framing and corruption handling of the Arrow IPC writer and reader.

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "interop/arrow/random_rows.h"
#include "record/arrow/arrow_reader.h"
#include "record/arrow/arrow_writer.h"
#include "record/arrow/ipc_internal.h"
#include "testutil/seed.h"

namespace strom::record::arrow {
namespace {

using testing::AllTypesRowType;
using testing::RandomData;
using testing::Row;

const ArrowCompression kCodecs[] = {ArrowCompression::None(), ArrowCompression::Lz4Frame(),
                                    ArrowCompression::Zstd(3)};

std::string CodecName(const ArrowCompression& c) {
  return std::string(CompressionCodecName(c.codec));
}

ByteBuffer MustEncode(const DataType& type, const std::vector<GenericRow>& rows,
                      ArrowCompression compression) {
  auto encoded = EncodeArrowBatch(type, rows, compression);
  EXPECT_TRUE(encoded.ok()) << encoded.status().ToString();
  return encoded.ok() ? *encoded : ByteBuffer();
}

void ExpectRowsEqual(const std::vector<GenericRow>& expected, const std::vector<GenericRow>& got) {
  ASSERT_EQ(expected.size(), got.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(expected[i].size(), got[i].size()) << "row " << i;
    for (size_t c = 0; c < expected[i].size(); ++c) {
      EXPECT_TRUE(expected[i][c] == got[i][c]) << "row " << i << " column " << c;
    }
  }
}

/// Hand-written rows of AllTypesRowType(): extremes, empties, nulls everywhere allowed.
std::vector<GenericRow> HandRows(const DataType& type) {
  RandomData random(7);
  std::vector<GenericRow> rows;
  // All nullable columns null.
  GenericRow nulls;
  for (const DataField& f : type.fields()) {
    nulls.push_back(f.type.nullable() ? Datum() : random.Value(f.type, 0));
  }
  rows.push_back(nulls);
  // Random rows without nulls and with many nulls.
  for (int i = 0; i < 5; ++i) rows.push_back(random.Row(type, 0.0));
  for (int i = 0; i < 5; ++i) rows.push_back(random.Row(type, 0.6));
  return rows;
}

TEST(ArrowIpcTest, RoundTripsEveryTypeWithEveryCodec) {
  DataType type = AllTypesRowType();
  RandomData random(testutil::TestSeed());
  std::vector<GenericRow> rows = HandRows(type);
  for (int i = 0; i < 300; ++i) rows.push_back(random.Row(type));
  for (const ArrowCompression& codec : kCodecs) {
    SCOPED_TRACE(CodecName(codec));
    ByteBuffer message = MustEncode(type, rows, codec);
    auto decoded = DecodeArrowBatch(message, type);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->num_rows(), static_cast<int64_t>(rows.size()));
    EXPECT_EQ(decoded->message_size(), message.size());
    EXPECT_EQ(decoded->codec(), codec.codec);
    ExpectRowsEqual(rows, decoded->ToRows());
  }
}

TEST(ArrowIpcTest, FramingMatchesTheJavaWriter) {
  DataType type = AllTypesRowType();
  RandomData random(11);
  std::vector<GenericRow> rows = random.Rows(type, 37, 0.3);
  for (const ArrowCompression& codec : kCodecs) {
    SCOPED_TRACE(CodecName(codec));
    ByteBuffer message = MustEncode(type, rows, codec);
    ASSERT_GE(message.size(), 8u);
    EXPECT_EQ(LoadI32LE(message.data()), -1);  // continuation marker FF FF FF FF
    int32_t metadata_length = LoadI32LE(message.data() + 4);
    EXPECT_EQ((8 + metadata_length) % 8, 0);

    std::vector<uint64_t> scratch;
    auto parsed = internal::ParseMessage(message, &scratch);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    const fb::Message& msg = *parsed->message;
    EXPECT_EQ(msg.version(), fb::MetadataVersion::V5);
    ASSERT_EQ(msg.header_type(), fb::MessageHeader::RecordBatch);
    const fb::RecordBatch& batch = *msg.header_as_RecordBatch();
    EXPECT_EQ(batch.length(), 37);
    EXPECT_EQ(msg.body_length() % 8, 0);
    EXPECT_EQ(message.size(), 8u + metadata_length + msg.body_length());
    if (codec.codec == CompressionCodec::kNone) {
      EXPECT_EQ(batch.compression(), nullptr);
    } else {
      ASSERT_NE(batch.compression(), nullptr);
      EXPECT_EQ(batch.compression()->codec(), codec.codec == CompressionCodec::kZstd
                                                  ? fb::CompressionType::ZSTD
                                                  : fb::CompressionType::LZ4_FRAME);
      EXPECT_EQ(batch.compression()->method(), fb::BodyCompressionMethod::BUFFER);
    }

    // Node and buffer counts follow the Fluss layout; buffers are 8-byte aligned, in order,
    // and padded with zeros.
    NodeAndBufferCount count;
    for (const DataField& f : type.fields()) {
      NodeAndBufferCount c = CountNodesAndBuffers(f.type);
      count.nodes += c.nodes;
      count.buffers += c.buffers;
    }
    ASSERT_EQ(batch.nodes()->size(), static_cast<size_t>(count.nodes));
    ASSERT_EQ(batch.buffers()->size(), static_cast<size_t>(count.buffers));
    int64_t expected_offset = 0;
    for (const fb::Buffer* b : *batch.buffers()) {
      EXPECT_EQ(b->offset(), expected_offset);
      EXPECT_EQ(b->offset() % 8, 0);
      for (int64_t p = b->offset() + b->length(); p < internal::PadTo8(b->offset() + b->length());
           ++p) {
        EXPECT_EQ(parsed->body[static_cast<size_t>(p)], '\0');
      }
      expected_offset = internal::PadTo8(b->offset() + b->length());
    }
    EXPECT_EQ(expected_offset, msg.body_length());

    // Top-level nodes carry the row count and the real null count.
    size_t node = 0;
    for (size_t c = 0; c < type.fields().size(); ++c) {
      const fb::FieldNode* n = batch.nodes()->Get(static_cast<flatbuffers::uoffset_t>(node));
      int64_t nulls = 0;
      for (const GenericRow& r : rows) nulls += r[c].is_null() ? 1 : 0;
      EXPECT_EQ(n->length(), 37);
      EXPECT_EQ(n->null_count(), nulls) << type.fields()[c].name;
      node += static_cast<size_t>(CountNodesAndBuffers(type.fields()[c].type).nodes);
    }

    if (codec.codec == CompressionCodec::kNone) {
      // The validity buffer is always emitted: ceil(37 / 8) = 5 bytes for top-level nodes.
      size_t buffer = 0;
      for (const DataField& f : type.fields()) {
        EXPECT_EQ(batch.buffers()->Get(static_cast<flatbuffers::uoffset_t>(buffer))->length(), 5)
            << f.name;
        buffer += static_cast<size_t>(CountNodesAndBuffers(f.type).buffers);
      }
    }
  }
}

/// The body buffers of an encoded message, as (offset, length) views into it.
std::vector<ByteView> BodyBuffers(const ByteBuffer& message) {
  std::vector<uint64_t> scratch;
  auto parsed = internal::ParseMessage(message, &scratch);
  EXPECT_TRUE(parsed.ok());
  std::vector<ByteView> out;
  if (!parsed.ok()) return out;
  for (const fb::Buffer* b : *parsed->message->header_as_RecordBatch()->buffers()) {
    out.push_back(parsed->body.substr(static_cast<size_t>(b->offset()),
                                      static_cast<size_t>(b->length())));
  }
  return out;
}

TEST(ArrowIpcTest, CompressedBuffersCarryLengthPrefixAndJavaLz4Header) {
  DataType type = Row({{"s", DataType::String()}, {"i", DataType::BigInt()}});
  std::vector<GenericRow> rows;
  for (int i = 0; i < 2000; ++i) {
    rows.push_back({std::string("value-") + std::to_string(i % 10), int64_t{i % 3}});
  }
  ByteBuffer plain = MustEncode(type, rows, ArrowCompression::None());
  std::vector<ByteView> raw = BodyBuffers(plain);
  ByteBuffer lz4 = MustEncode(type, rows, ArrowCompression::Lz4Frame());
  std::vector<ByteView> compressed = BodyBuffers(lz4);
  ASSERT_EQ(raw.size(), compressed.size());
  int framed = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_GE(compressed[i].size(), 8u);
    int64_t prefix = LoadI64LE(compressed[i].data());
    ByteView payload = compressed[i].substr(8);
    if (prefix == kUncompressedMarker) {
      // Only the ever-growing string offsets do not shrink under LZ4.
      EXPECT_EQ(i, 1u);
      EXPECT_EQ(payload, raw[i]);
      continue;
    }
    ++framed;
    EXPECT_EQ(prefix, static_cast<int64_t>(raw[i].size()));
    ASSERT_GE(payload.size(), 7u + 4u);
    EXPECT_EQ(std::memcmp(payload.data(), kLz4FrameHeader, 7), 0);
    EXPECT_EQ(LoadI32LE(payload.data() + payload.size() - 4), 0);  // end mark
  }
  EXPECT_EQ(framed, 4);  // of 5 buffers: s.validity, s.offsets, s.data, i.validity, i.data
  // All validity bits set and a repetitive pattern: everything shrinks.
  EXPECT_LT(lz4.size(), plain.size());
  ByteBuffer zstd = MustEncode(type, rows, ArrowCompression::Zstd(3));
  for (ByteView b : BodyBuffers(zstd)) {
    ASSERT_GE(b.size(), 12u);
    EXPECT_EQ(static_cast<uint8_t>(b[8]), 0x28);  // zstd frame magic 28 B5 2F FD
    EXPECT_EQ(static_cast<uint8_t>(b[11]), 0xFD);
  }
}

TEST(ArrowIpcTest, EmptyBufferStaysEmptyAndIncompressibleIsRawBehindMinusOne) {
  // Every string empty: the data buffer has no bytes. Random BYTES: incompressible.
  DataType type = Row({{"e", DataType::String().NotNull()}, {"r", DataType::Bytes()}});
  RandomData random(5);
  std::vector<GenericRow> rows;
  for (int i = 0; i < 64; ++i) rows.push_back({std::string(), random.Bytes(200)});
  for (const ArrowCompression& codec : {ArrowCompression::Lz4Frame(), ArrowCompression::Zstd(9)}) {
    SCOPED_TRACE(CodecName(codec));
    ByteBuffer message = MustEncode(type, rows, codec);
    std::vector<ByteView> buffers = BodyBuffers(message);
    ASSERT_EQ(buffers.size(), 6u);
    // buffers: e.validity, e.offsets, e.data, r.validity, r.offsets, r.data
    EXPECT_TRUE(buffers[2].empty());
    ByteView data = buffers[5];
    ASSERT_EQ(data.size(), 8u + 64u * 200u);
    EXPECT_EQ(LoadI64LE(data.data()), -1);
    ByteBuffer expected;
    for (const GenericRow& r : rows) expected += r[1].as<std::string>();
    EXPECT_EQ(data.substr(8), expected);
    auto decoded = DecodeArrowBatch(message, type);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ExpectRowsEqual(rows, decoded->ToRows());
  }
}

TEST(ArrowIpcTest, ReadsTheJavaFormOfEmptyCompressedBuffers) {
  // Fluss's Java writer turns an empty buffer into an 8-byte zero length prefix.
  DataType type = Row({{"s", DataType::String().NotNull()}});
  for (const ArrowCompression& codec : {ArrowCompression::Lz4Frame(), ArrowCompression::Zstd(3)}) {
    SCOPED_TRACE(CodecName(codec));
    BufferCompressor compressor(codec);
    ByteBuffer body;
    std::vector<fb::Buffer> buffers;
    auto add = [&](ByteView raw) {
      int64_t start = static_cast<int64_t>(body.size());
      if (raw.empty()) {
        body.append(8, '\0');
      } else {
        ASSERT_TRUE(compressor.Compress(raw, &body).ok());
      }
      buffers.emplace_back(start, static_cast<int64_t>(body.size()) - start);
      body.append(static_cast<size_t>(internal::PadTo8(static_cast<int64_t>(body.size())) -
                                      static_cast<int64_t>(body.size())),
                  '\0');
    };
    add(ByteView("\x03", 1));              // validity: two valid slots
    add(ByteView("\0\0\0\0\0\0\0\0\0\0\0\0", 12));  // offsets 0, 0, 0
    add(ByteView());                       // data: empty
    std::vector<fb::FieldNode> nodes = {fb::FieldNode(2, 0)};
    flatbuffers::FlatBufferBuilder fbb;
    internal::BuildRecordBatchMessage(&fbb, 2, nodes, buffers, codec.codec,
                                      static_cast<int64_t>(body.size()));
    ByteBuffer message;
    internal::AppendFramedMetadata(fbb.GetBufferPointer(), fbb.GetSize(), &message);
    message += body;
    auto decoded = DecodeArrowBatch(message, type);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ExpectRowsEqual({{std::string()}, {std::string()}}, decoded->ToRows());
  }
}

TEST(ArrowIpcTest, Lz4FrameSplitsInto64KiBBlocksAndStoresIncompressibleBlocksRaw) {
  RandomData random(3);
  std::string input = random.Bytes(70000) + std::string(100000, 'a');
  ByteBuffer frame;
  AppendLz4Frame(input, &frame);
  ASSERT_EQ(std::memcmp(frame.data(), kLz4FrameHeader, 7), 0);
  // First block: 65536 random bytes, stored raw (bit 31 set).
  uint32_t size0 = static_cast<uint32_t>(LoadI32LE(frame.data() + 7));
  EXPECT_EQ(size0, 0x80000000u | 65536u);
  EXPECT_EQ(frame.substr(11, 65536), input.substr(0, 65536));
  // Then a compressed block of the rest.
  uint32_t size1 = static_cast<uint32_t>(LoadI32LE(frame.data() + 11 + 65536));
  EXPECT_EQ(size1 & 0x80000000u, 0u);
  EXPECT_LT(size1, 65536u);
  // And the decompressor reads it back.
  BufferDecompressor decompressor;
  ByteBuffer buffer;
  ByteWriter(&buffer).I64LE(static_cast<int64_t>(input.size()));
  buffer += frame;
  std::string out(input.size(), '\0');
  ASSERT_TRUE(decompressor
                  .Decompress(CompressionCodec::kLz4Frame, buffer, out.data(),
                              static_cast<int64_t>(out.size()))
                  .ok());
  EXPECT_EQ(out, input);
}

TEST(ArrowIpcTest, EmptyBatchRoundTripsWithEmptyOffsetBuffers) {
  DataType type = AllTypesRowType();
  for (const ArrowCompression& codec : kCodecs) {
    ByteBuffer message = MustEncode(type, {}, codec);
    auto decoded = DecodeArrowBatch(message, type);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->num_rows(), 0);
    if (codec.codec == CompressionCodec::kNone) {
      for (ByteView b : BodyBuffers(message)) EXPECT_TRUE(b.empty());
    }
  }
}

TEST(ArrowIpcTest, ValuesAreStoredInTheUnitOfTheirPrecision) {
  DataType type = Row({{"t0", DataType::Time(0)},
                                 {"t3", DataType::Time(3)},
                                 {"t6", DataType::Time(6)},
                                 {"t9", DataType::Time(9)},
                                 {"s0", DataType::Timestamp(0)},
                                 {"s3", DataType::TimestampLtz(3)},
                                 {"s6", DataType::Timestamp(6)},
                                 {"s9", DataType::TimestampLtz(9)},
                                 {"d", DataType::Decimal(20, 2)},
                                 {"b", DataType::Binary(4)}});
  TimestampValue ts{1748662955428, 99988};
  TimestampValue before_epoch{-1, 500000};
  std::vector<GenericRow> rows = {
      {int32_t{3723456}, int32_t{3723456}, int32_t{3723456}, int32_t{3723456}, ts, ts, ts, ts,
       DecimalValue{-12345}, std::string("ab")},
      {int32_t{0}, int32_t{1}, int32_t{2}, int32_t{3}, before_epoch, before_epoch, before_epoch,
       before_epoch, DecimalValue{(static_cast<__int128>(1) << 64) + 5}, std::string("wxyz")}};
  ByteBuffer message = MustEncode(type, rows, ArrowCompression::None());
  auto decoded = DecodeArrowBatch(message, type);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const DecodedArrowBatch& b = *decoded;
  EXPECT_EQ(b.column(0).GetFixed<int32_t>(0), 3723);
  EXPECT_EQ(b.column(1).GetFixed<int32_t>(0), 3723456);
  EXPECT_EQ(b.column(2).GetFixed<int64_t>(0), 3723456000);
  EXPECT_EQ(b.column(3).GetFixed<int64_t>(0), 3723456000000);
  EXPECT_EQ(b.column(4).GetFixed<int64_t>(0), 1748662955);
  EXPECT_EQ(b.column(5).GetFixed<int64_t>(0), 1748662955428);
  EXPECT_EQ(b.column(6).GetFixed<int64_t>(0), 1748662955428099);
  EXPECT_EQ(b.column(7).GetFixed<int64_t>(0), 1748662955428099988);
  // Read back in Fluss terms (coarser units lose the finer digits, as in Fluss).
  EXPECT_EQ(b.column(0).GetTimeMillis(0), 3723000);
  EXPECT_EQ(b.column(2).GetTimeMillis(0), 3723456);
  EXPECT_EQ(b.column(4).GetTimestamp(0), (TimestampValue{1748662955000, 0}));
  EXPECT_EQ(b.column(5).GetTimestamp(0), (TimestampValue{1748662955428, 0}));
  EXPECT_EQ(b.column(6).GetTimestamp(0), (TimestampValue{1748662955428, 99000}));
  EXPECT_EQ(b.column(7).GetTimestamp(0), ts);
  // Before the epoch: -1 ms + 500000 ns = -500 us; read back with floor division.
  EXPECT_EQ(b.column(6).GetFixed<int64_t>(1), -500);
  EXPECT_EQ(b.column(6).GetTimestamp(1), before_epoch);
  EXPECT_EQ(b.column(7).GetTimestamp(1), before_epoch);
  EXPECT_EQ(b.column(4).GetTimestamp(1), (TimestampValue{0, 0}));  // -1 ms / 1000 truncates
  // Decimal128 little-endian two's complement.
  EXPECT_EQ(b.column(8).GetDecimal(0).unscaled, -12345);
  EXPECT_EQ(b.column(8).GetDecimal(1).unscaled, (static_cast<__int128>(1) << 64) + 5);
  // BINARY(4): shorter values zero-padded.
  EXPECT_EQ(b.column(9).GetBytes(0), ByteView("ab\0\0", 4));
  EXPECT_EQ(b.column(9).GetBytes(1), "wxyz");
}

TEST(ArrowIpcTest, RejectedValuesLeaveTheWriterUnchanged) {
  DataType type = Row({{"i", DataType::Int()},
                                 {"a", DataType::Array(DataType::String().NotNull())},
                                 {"m", DataType::Map(DataType::Int(), DataType::Int())},
                                 {"d", DataType::Decimal(3, 0)},
                                 {"b", DataType::Binary(2)},
                                 {"n", DataType::BigInt().NotNull()}});
  auto writer = ArrowBatchWriter::Create(type);
  ASSERT_TRUE(writer.ok());
  GenericRow good = {int32_t{1}, ArrayValue{{std::string("x")}},
                     MapValue{{{int32_t{1}, int32_t{2}}}}, DecimalValue{999},
                     std::string("ok"), int64_t{5}};
  ASSERT_TRUE((*writer)->AppendRow(good).ok());
  std::vector<GenericRow> bad = {
      {int64_t{1}, ArrayValue{}, MapValue{}, DecimalValue{1}, std::string("a"), int64_t{1}},
      {int32_t{1}, ArrayValue{{std::string("x"), Datum()}}, MapValue{}, DecimalValue{1},
       std::string("a"), int64_t{1}},
      {int32_t{1}, ArrayValue{}, MapValue{{{Datum(), int32_t{1}}}}, DecimalValue{1},
       std::string("a"), int64_t{1}},
      {int32_t{1}, ArrayValue{{std::string("y")}}, MapValue{{{int32_t{3}, int32_t{4}}}},
       DecimalValue{1000}, std::string("a"), int64_t{1}},
      {int32_t{1}, ArrayValue{}, MapValue{}, DecimalValue{-1000}, std::string("a"), int64_t{1}},
      {int32_t{1}, ArrayValue{}, MapValue{}, DecimalValue{1}, std::string("abc"), int64_t{1}},
      {int32_t{1}, ArrayValue{{std::string("z")}}, MapValue{}, DecimalValue{1},
       std::string("a"), Datum()},
      {int32_t{1}, ArrayValue{}, MapValue{}},
  };
  for (const GenericRow& row : bad) {
    Status st = (*writer)->AppendRow(row);
    EXPECT_EQ(st.code(), ErrorCode::kCorruptRecord) << st.ToString();
    EXPECT_EQ((*writer)->num_rows(), 1);
  }
  ASSERT_TRUE((*writer)->AppendRow(good).ok());
  ByteBuffer message;
  ASSERT_TRUE((*writer)->Finish(&message).ok());
  EXPECT_EQ((*writer)->num_rows(), 0);
  auto decoded = DecodeArrowBatch(message, type);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectRowsEqual({good, good}, decoded->ToRows());
}

TEST(ArrowIpcTest, TypedColumnBuildersAndWriterReuse) {
  DataType type = Row({{"id", DataType::BigInt().NotNull()},
                                 {"name", DataType::String()},
                                 {"tags", DataType::Array(DataType::Int())},
                                 {"attrs", DataType::Map(DataType::String(), DataType::Double())},
                                 {"pt", Row({{"x", DataType::Float()}})}});
  auto created = ArrowBatchWriter::Create(type, ArrowCompression::Zstd(1));
  ASSERT_TRUE(created.ok());
  ArrowBatchWriter& writer = **created;
  for (int round = 0; round < 3; ++round) {
    std::vector<GenericRow> expected;
    auto* id = writer.column_as<Int64Builder>(0);
    auto* name = writer.column_as<BinaryBuilder>(1);
    auto* tags = writer.column_as<ListBuilder>(2);
    auto* attrs = writer.column_as<MapBuilder>(3);
    auto* pt = writer.column_as<StructBuilder>(4);
    ASSERT_NE(id, nullptr);
    ASSERT_NE(name, nullptr);
    ASSERT_NE(tags, nullptr);
    ASSERT_NE(attrs, nullptr);
    ASSERT_NE(pt, nullptr);
    EXPECT_EQ(writer.column_as<Int32Builder>(0), nullptr);
    for (int i = 0; i < 100 + round; ++i) {
      id->Append(i);
      ASSERT_TRUE(name->Append("n" + std::to_string(i)).ok());
      ArrayValue tag_values;
      for (int k = 0; k < i % 3; ++k) {
        static_cast<Int32Builder*>(tags->element())->Append(k);
        tag_values.elements.push_back(int32_t{k});
      }
      ASSERT_TRUE(tags->FinishList().ok());
      Datum attr_value;
      if (i % 4 == 0) {
        ASSERT_TRUE(attrs->AppendNull().ok());
      } else {
        ASSERT_TRUE(static_cast<BinaryBuilder*>(attrs->key())->Append("k").ok());
        static_cast<DoubleBuilder*>(attrs->value())->Append(i * 0.5);
        ASSERT_TRUE(attrs->FinishMap().ok());
        attr_value = MapValue{{{std::string("k"), i * 0.5}}};
      }
      static_cast<FloatBuilder*>(pt->child(0))->Append(static_cast<float>(i));
      ASSERT_TRUE(pt->FinishStruct().ok());
      expected.push_back({int64_t{i}, std::string("n" + std::to_string(i)), tag_values,
                          attr_value, RowValue{{static_cast<float>(i)}}});
    }
    EXPECT_EQ(writer.num_rows(), 100 + round);
    ByteBuffer message;
    ASSERT_TRUE(writer.Finish(&message).ok());
    auto decoded = DecodeArrowBatch(message, type);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ExpectRowsEqual(expected, decoded->ToRows());
  }
  // Columns of different lengths are refused and the rows stay.
  writer.column_as<Int64Builder>(0)->Append(1);
  ByteBuffer message;
  EXPECT_EQ(writer.Finish(&message).code(), ErrorCode::kCorruptRecord);
  EXPECT_TRUE(message.empty());
  EXPECT_EQ(writer.num_rows(), 1);
  writer.Clear();
  EXPECT_EQ(writer.num_rows(), 0);
}

TEST(ArrowIpcTest, AcceptsTheLegacyFourBytePrefixAndTrailingBytes) {
  DataType type = AllTypesRowType();
  RandomData random(21);
  std::vector<GenericRow> rows = random.Rows(type, 20);
  ByteBuffer message = MustEncode(type, rows, ArrowCompression::Zstd(3));
  ByteBuffer legacy = message.substr(4) + "trailing";
  auto decoded = DecodeArrowBatch(legacy, type);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->message_size(), message.size() - 4);
  ExpectRowsEqual(rows, decoded->ToRows());
}

TEST(ArrowIpcTest, RejectsInvalidSchemasAndMismatchedRowTypes) {
  EXPECT_EQ(ArrowBatchWriter::Create(DataType::Int()).status().code(), ErrorCode::kInvalidTable);
  EXPECT_EQ(ArrowBatchWriter::Create(Row({{"t", DataType::Time(10)}})).status().code(),
            ErrorCode::kInvalidTable);
  EXPECT_EQ(ArrowBatchWriter::Create(Row({{"d", DataType::Decimal(39, 0)}}))
                .status()
                .code(),
            ErrorCode::kInvalidTable);
  EXPECT_EQ(ArrowBatchWriter::Create(Row({{"i", DataType::Int()}}),
                                     ArrowCompression::Zstd(23))
                .status()
                .code(),
            ErrorCode::kInvalidConfig);

  DataType type = Row({{"a", DataType::Int()}, {"b", DataType::String()}});
  ByteBuffer message = MustEncode(type, {{int32_t{1}, std::string("x")}}, {});
  // One column fewer: node and buffer counts differ.
  EXPECT_EQ(DecodeArrowBatch(message, Row({{"a", DataType::Int()}})).status().code(),
            ErrorCode::kCorruptMessage);
  // Same counts, but an 8-byte type needs more data than the 4-byte column holds.
  EXPECT_EQ(DecodeArrowBatch(message,
                             Row({{"a", DataType::BigInt()}, {"b", DataType::Bytes()}}))
                .status()
                .code(),
            ErrorCode::kCorruptMessage);
}

TEST(ArrowIpcTest, TruncatedMessagesFailCleanly) {
  DataType type = AllTypesRowType();
  RandomData random(31);
  std::vector<GenericRow> rows = random.Rows(type, 9);
  for (const ArrowCompression& codec : kCodecs) {
    ByteBuffer message = MustEncode(type, rows, codec);
    for (size_t n = 0; n < message.size(); ++n) {
      // A fresh copy so ASan sees reads past the truncated end.
      std::unique_ptr<char[]> copy(new char[n + 1]);
      std::memcpy(copy.get(), message.data(), n);
      auto decoded = DecodeArrowBatch(ByteView(copy.get(), n), type);
      ASSERT_FALSE(decoded.ok()) << "length " << n;
      EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruptMessage);
    }
  }
}

TEST(ArrowIpcTest, CorruptedBytesNeverCrash) {
  DataType type = AllTypesRowType();
  RandomData random(testutil::TestSeed());
  std::vector<GenericRow> rows = random.Rows(type, 12);
  int failures = 0;
  int trials = 0;
  for (const ArrowCompression& codec : kCodecs) {
    ByteBuffer message = MustEncode(type, rows, codec);
    for (int trial = 0; trial < 1500; ++trial) {
      ByteBuffer bad = message;
      int flips = static_cast<int>(random.Uniform(1, 4));
      for (int f = 0; f < flips; ++f) {
        size_t pos = static_cast<size_t>(random.Uniform(0, static_cast<int64_t>(bad.size()) - 1));
        bad[pos] = static_cast<char>(random.Uniform(0, 255));
      }
      ArrowReadOptions options;
      options.max_decompressed_bytes = 1 << 24;
      auto decoded = DecodeArrowBatch(bad, type, options);
      ++trials;
      if (!decoded.ok()) {
        ++failures;
        EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruptMessage);
        continue;
      }
      // Whatever decoded must be readable end to end.
      for (const GenericRow& row : decoded->ToRows()) EXPECT_EQ(row.size(), rows[0].size());
    }
  }
  EXPECT_GT(failures, 0);
  EXPECT_LE(failures, trials);
}

TEST(ArrowIpcTest, BadBufferAndNodeDescriptionsAreCorruption) {
  DataType type = Row({{"s", DataType::String()}, {"l", DataType::Array(DataType::Int())}});
  std::vector<GenericRow> rows = {{std::string("hello"), ArrayValue{{int32_t{1}, int32_t{2}}}},
                                  {Datum(), Datum()}};
  ByteBuffer message = MustEncode(type, rows, {});
  std::vector<uint64_t> scratch;
  auto parsed = internal::ParseMessage(message, &scratch);
  ASSERT_TRUE(parsed.ok());
  const fb::RecordBatch* batch = parsed->message->header_as_RecordBatch();
  size_t body_start = message.size() - parsed->body.size();
  // Locate structs inside `message` (the metadata is 8-aligned in this buffer, so the parsed
  // pointers point straight into it).
  ASSERT_EQ(scratch.size(), 0u);
  auto offset_in_message = [&](const void* p) {
    return static_cast<size_t>(static_cast<const char*>(p) - message.data());
  };
  {
    // A buffer pointing past the body.
    ByteBuffer bad = message;
    size_t pos = offset_in_message(batch->buffers()->Get(2));
    StoreI64LE(bad.data() + pos, static_cast<int64_t>(parsed->body.size()));
    EXPECT_EQ(DecodeArrowBatch(bad, type).status().code(), ErrorCode::kCorruptMessage);
  }
  {
    // Offsets that decrease: swap the string offsets 0 and 5.
    ByteBuffer bad = message;
    size_t pos = body_start + static_cast<size_t>(batch->buffers()->Get(1)->offset());
    StoreI32LE(bad.data() + pos, 5);
    StoreI32LE(bad.data() + pos + 4, 0);
    EXPECT_EQ(DecodeArrowBatch(bad, type).status().code(), ErrorCode::kCorruptMessage);
  }
  {
    // A list offset past the child length.
    ByteBuffer bad = message;
    size_t pos = body_start + static_cast<size_t>(batch->buffers()->Get(4)->offset());
    StoreI32LE(bad.data() + pos + 8, 3);
    EXPECT_EQ(DecodeArrowBatch(bad, type).status().code(), ErrorCode::kCorruptMessage);
  }
  {
    // A null count larger than the length.
    ByteBuffer bad = message;
    size_t pos = offset_in_message(batch->nodes()->Get(0));
    StoreI64LE(bad.data() + pos + 8, 3);
    EXPECT_EQ(DecodeArrowBatch(bad, type).status().code(), ErrorCode::kCorruptMessage);
  }
  {
    // A top-level node shorter than the batch.
    ByteBuffer bad = message;
    size_t pos = offset_in_message(batch->nodes()->Get(0));
    StoreI64LE(bad.data() + pos, 1);
    StoreI64LE(bad.data() + pos + 8, 0);
    EXPECT_EQ(DecodeArrowBatch(bad, type).status().code(), ErrorCode::kCorruptMessage);
  }
}

TEST(ArrowIpcTest, RandomSchemasRoundTrip) {
  RandomData random(testutil::TestSeed());
  for (int iteration = 0; iteration < 60; ++iteration) {
    DataType type = random.RowType(static_cast<int>(random.Uniform(1, 6)), 2);
    std::vector<GenericRow> rows =
        random.Rows(type, static_cast<int>(random.Uniform(0, 60)), random.Uniform(0, 3) * 0.2);
    ArrowCompression codec = kCodecs[random.Uniform(0, 2)];
    SCOPED_TRACE(type.ToString() + " " + CodecName(codec));
    ByteBuffer message = MustEncode(type, rows, codec);
    auto decoded = DecodeArrowBatch(message, type);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ExpectRowsEqual(rows, decoded->ToRows());
  }
}

TEST(ArrowIpcTest, DecompressedSizeIsBounded) {
  DataType type = Row({{"s", DataType::String()}});
  std::vector<GenericRow> rows(1000, GenericRow{std::string(1000, 'q')});
  ByteBuffer message = MustEncode(type, rows, ArrowCompression::Zstd(3));
  ArrowReadOptions small;
  small.max_decompressed_bytes = 100000;
  EXPECT_EQ(DecodeArrowBatch(message, type, small).status().code(), ErrorCode::kCorruptMessage);
  EXPECT_TRUE(DecodeArrowBatch(message, type).ok());
}

TEST(ArrowIpcTest, ParsesCompressionTypeNames) {
  EXPECT_EQ(*ParseCompressionCodec("zstd"), CompressionCodec::kZstd);
  EXPECT_EQ(*ParseCompressionCodec("LZ4_FRAME"), CompressionCodec::kLz4Frame);
  EXPECT_EQ(*ParseCompressionCodec("None"), CompressionCodec::kNone);
  EXPECT_EQ(ParseCompressionCodec("gzip").status().code(), ErrorCode::kInvalidConfig);
}

}  // namespace
}  // namespace strom::record::arrow
