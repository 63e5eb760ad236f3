#include "record/log_record_batch.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "testutil/golden.h"
#include "testutil/seed.h"

namespace strom::record {
namespace {

using testutil::Hex;
using testutil::JsonInt64;

std::vector<nlohmann::json> GoldenLogBatches() {
  nlohmann::json golden = testutil::LoadGolden("batches.json");
  std::vector<nlohmann::json> out;
  for (const auto& e : golden["entries"]) {
    if (e["kind"] == "DefaultLogRecordBatch") out.push_back(e);
  }
  return out;
}

LogBatchParams ParamsFromGolden(const nlohmann::json& e) {
  LogBatchParams p;
  p.magic = static_cast<int8_t>(e["magic"].get<int>());
  p.schema_id = SchemaId(static_cast<int16_t>(e["schema_id"].get<int>()));
  p.append_only = e["append_only"].get<bool>();
  p.writer_id = WriterId(JsonInt64(e["writer_id"]));
  p.batch_sequence = BatchSequence(static_cast<int32_t>(JsonInt64(e["batch_sequence"])));
  p.base_offset = LogOffset(JsonInt64(e["base_offset"]));
  p.commit_timestamp = TimestampMs(JsonInt64(e["commit_timestamp"]));
  if (!e["leader_epoch"].is_null()) {
    p.leader_epoch = LeaderEpoch(static_cast<int32_t>(JsonInt64(e["leader_epoch"])));
  }
  return p;
}

std::vector<RowRecord> ReadAll(const LogRecordBatch& batch) {
  std::vector<RowRecord> out;
  RowRecordIterator it(batch);
  while (true) {
    auto next = it.Next();
    EXPECT_TRUE(next.ok()) << next.status().ToString();
    if (!next.ok() || !next->has_value()) break;
    out.push_back(**next);
  }
  return out;
}

// ---- golden vectors (batches.json, written by Fluss 0.9.1) ----

TEST(LogRecordBatchGoldenTest, BuildMatchesFluss) {
  auto entries = GoldenLogBatches();
  ASSERT_EQ(entries.size(), 11u);
  for (const auto& e : entries) {
    SCOPED_TRACE(e["id"].get<std::string>());
    ByteBuffer out;
    LogRecordBatchBuilder builder(&out, ParamsFromGolden(e));
    for (const auto& r : e["records"]) {
      auto type = ChangeTypeFromShortName(r["change_type"].get<std::string>());
      ASSERT_TRUE(type.ok());
      ASSERT_EQ(static_cast<int>(*type), r["change_type_byte"].get<int>());
      ByteBuffer row = Hex(r["row_hex"].get<std::string>());
      EXPECT_EQ(LogRecordBatchBuilder::RowRecordSize(row.size()), r["record_size"].get<size_t>());
      ASSERT_TRUE(builder.AppendRow(*type, row).ok());
    }
    LogRecordBatch batch = builder.Finish();
    EXPECT_EQ(ToHex(out), e["hex"].get<std::string>());
    EXPECT_EQ(batch.checksum(), e["crc"].get<uint32_t>());
    EXPECT_EQ(batch.size_in_bytes(), e["size"].get<size_t>());
    EXPECT_EQ(out.size(), e["size"].get<size_t>());
  }
}

TEST(LogRecordBatchGoldenTest, ParseMatchesFluss) {
  for (const auto& e : GoldenLogBatches()) {
    SCOPED_TRACE(e["id"].get<std::string>());
    ByteBuffer bytes = Hex(e["hex"].get<std::string>());
    auto parsed = LogRecordBatch::Parse(bytes);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    const LogRecordBatch& b = *parsed;
    int magic = e["magic"].get<int>();
    EXPECT_EQ(b.magic(), magic);
    EXPECT_EQ(b.header_size(), magic == 0 ? 48u : 52u);
    EXPECT_EQ(b.size_in_bytes(), e["size"].get<size_t>());
    EXPECT_EQ(static_cast<size_t>(b.length()) + 12, bytes.size());
    EXPECT_EQ(b.base_offset(), LogOffset(JsonInt64(e["base_offset"])));
    EXPECT_EQ(b.commit_timestamp(), TimestampMs(JsonInt64(e["commit_timestamp"])));
    if (e["leader_epoch"].is_null()) {
      EXPECT_EQ(b.leader_epoch(), kNoLeaderEpoch);
    } else {
      EXPECT_EQ(b.leader_epoch().value(), JsonInt64(e["leader_epoch"]));
    }
    EXPECT_EQ(b.schema_id().value(), e["schema_id"].get<int>());
    EXPECT_EQ(b.is_append_only(), e["append_only"].get<bool>());
    EXPECT_EQ(b.attributes(), e["append_only"].get<bool>() ? 1 : 0);
    EXPECT_EQ(b.writer_id().value(), JsonInt64(e["writer_id"]));
    EXPECT_EQ(b.batch_sequence().value(), JsonInt64(e["batch_sequence"]));
    int count = e["record_count"].get<int>();
    EXPECT_EQ(b.record_count(), count);
    EXPECT_EQ(b.last_offset_delta(), count == 0 ? 0 : count - 1);
    EXPECT_EQ(b.last_offset(), b.base_offset() + (count == 0 ? 0 : count - 1));
    EXPECT_EQ(b.next_offset(), b.last_offset() + 1);
    EXPECT_EQ(b.checksum(), e["crc"].get<uint32_t>());
    EXPECT_EQ(b.ComputeChecksum(), e["crc"].get<uint32_t>());
    EXPECT_TRUE(b.IsValid());
    EXPECT_TRUE(b.ValidateCrc().ok());

    std::vector<RowRecord> records = ReadAll(b);
    ASSERT_EQ(records.size(), e["records"].size());
    for (size_t i = 0; i < records.size(); ++i) {
      const auto& r = e["records"][i];
      EXPECT_EQ(ChangeTypeShortName(records[i].change_type), r["change_type"].get<std::string>());
      EXPECT_EQ(static_cast<int>(records[i].change_type), r["change_type_byte"].get<int>());
      EXPECT_EQ(ToHex(records[i].row), r["row_hex"].get<std::string>());
    }
  }
}

TEST(LogRecordBatchGoldenTest, BaseOffsetIsOutsideTheCrc) {
  // The golden base-offset-100 batch equals the base-offset-0 one with only bytes 0..7 changed.
  ByteBuffer at0, at100;
  for (const auto& e : GoldenLogBatches()) {
    if (e["id"] == "log_v0_indexed_insert_delete") at0 = Hex(e["hex"].get<std::string>());
    if (e["id"] == "log_v0_indexed_insert_delete_base100") at100 = Hex(e["hex"].get<std::string>());
  }
  ASSERT_FALSE(at0.empty());
  ASSERT_FALSE(at100.empty());
  auto m = MutableLogRecordBatch::Parse(std::span<char>(at0.data(), at0.size()));
  ASSERT_TRUE(m.ok());
  m->SetBaseOffset(LogOffset(100));
  EXPECT_EQ(at0, at100);
  EXPECT_TRUE(m->view().IsValid());
}

// ---- fluss-formats §8.6 worked examples (hex from the format document) ----

TEST(LogRecordBatchDocTest, WorkedExamples) {
  struct Case {
    const char* name;
    int8_t magic;
    bool append_only;
    std::vector<std::pair<ChangeType, std::string>> rows;
    std::string hex;
    uint32_t crc;
  };
  // clang-format off
  std::vector<Case> cases = {
      {"V0 COMPACTED append-only", 0, true, {{ChangeType::kAppendOnly, "000a03616263"}},
       "0000000000000000" "2f000000" "00" "0000000000000000" "f575047d" "0100" "01" "00000000"
       "ffffffffffffffff" "ffffffff" "01000000" "07000000" "00" "000a03616263",
       0x7D0475F5},
      {"V1 COMPACTED append-only", 1, true, {{ChangeType::kAppendOnly, "000a03616263"}},
       "0000000000000000" "33000000" "01" "0000000000000000" "ffffffff" "f575047d" "0100" "01"
       "00000000" "ffffffffffffffff" "ffffffff" "01000000" "07000000" "00" "000a03616263",
       0x7D0475F5},
      {"V0 INDEXED append-only", 0, true,
       {{ChangeType::kAppendOnly, "00030000000a000000616263"}},
       "0000000000000000" "35000000" "00" "0000000000000000" "f130eb5d" "0100" "01" "00000000"
       "ffffffffffffffff" "ffffffff" "01000000" "0d000000" "00" "00030000000a000000616263",
       0x5DEB30F1},
      {"V0 empty non-append-only", 0, false, {},
       "0000000000000000" "24000000" "00" "0000000000000000" "1f2b1728" "0100" "00" "00000000"
       "ffffffffffffffff" "ffffffff" "00000000",
       0x28172B1F},
  };
  // clang-format on
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    LogBatchParams p;
    p.magic = c.magic;
    p.schema_id = SchemaId(1);
    p.append_only = c.append_only;
    ByteBuffer out;
    LogRecordBatchBuilder builder(&out, p);
    for (const auto& [type, row] : c.rows) ASSERT_TRUE(builder.AppendRow(type, Hex(row)).ok());
    LogRecordBatch batch = builder.Finish();
    EXPECT_EQ(ToHex(out), c.hex);
    EXPECT_EQ(batch.checksum(), c.crc);
  }
  // The V1 CRC equals the V0 CRC: the covered bytes are identical.
  EXPECT_EQ(cases[0].crc, cases[1].crc);
}

// ---- change types ----

TEST(ChangeTypeTest, BytesAndNames) {
  const std::pair<ChangeType, const char*> all[] = {{ChangeType::kAppendOnly, "+A"},
                                                    {ChangeType::kInsert, "+I"},
                                                    {ChangeType::kUpdateBefore, "-U"},
                                                    {ChangeType::kUpdateAfter, "+U"},
                                                    {ChangeType::kDelete, "-D"}};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(static_cast<int>(all[i].first), i);
    EXPECT_EQ(ChangeTypeShortName(all[i].first), all[i].second);
    EXPECT_EQ(*ChangeTypeFromByte(static_cast<uint8_t>(i)), all[i].first);
    EXPECT_EQ(*ChangeTypeFromShortName(all[i].second), all[i].first);
  }
  for (int b = 5; b < 256; ++b) {
    auto r = ChangeTypeFromByte(static_cast<uint8_t>(b));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kCorruptRecord);
  }
  EXPECT_FALSE(ChangeTypeFromShortName("+X").ok());
}

// ---- layout constants (LogRecordBatchFormatTest offsets) ----

TEST(LogBatchLayoutTest, Offsets) {
  EXPECT_EQ(kLogLayoutV0.crc, 21u);
  EXPECT_EQ(kLogLayoutV0.schema_id, 25u);
  EXPECT_EQ(kLogLayoutV0.attributes, 27u);
  EXPECT_EQ(kLogLayoutV0.last_offset_delta, 28u);
  EXPECT_EQ(kLogLayoutV0.writer_id, 32u);
  EXPECT_EQ(kLogLayoutV0.batch_sequence, 40u);
  EXPECT_EQ(kLogLayoutV0.record_count, 44u);
  EXPECT_EQ(kLogLayoutV0.header_size, 48u);
  EXPECT_FALSE(kLogLayoutV0.has_leader_epoch());
  EXPECT_EQ(kLogLayoutV1.leader_epoch, 21u);
  EXPECT_EQ(kLogLayoutV1.crc, 25u);
  EXPECT_EQ(kLogLayoutV1.schema_id, 29u);
  EXPECT_EQ(kLogLayoutV1.attributes, 31u);
  EXPECT_EQ(kLogLayoutV1.last_offset_delta, 32u);
  EXPECT_EQ(kLogLayoutV1.writer_id, 36u);
  EXPECT_EQ(kLogLayoutV1.batch_sequence, 44u);
  EXPECT_EQ(kLogLayoutV1.record_count, 48u);
  EXPECT_EQ(kLogLayoutV1.header_size, 52u);
  EXPECT_EQ(LogLayoutForMagic(2), nullptr);
  EXPECT_EQ(LogLayoutForMagic(-1), nullptr);
}

// ---- builder ----

TEST(LogRecordBatchBuilderTest, AppendsAfterExistingBytesAndSetsFields) {
  ByteBuffer out = "prefix";
  LogBatchParams p;
  p.schema_id = SchemaId(7);
  p.append_only = false;
  p.writer_id = WriterId(42);
  p.batch_sequence = BatchSequence(9);
  p.base_offset = LogOffset(1000);
  p.commit_timestamp = TimestampMs(1700000000000);
  LogRecordBatchBuilder builder(&out, p);
  ASSERT_TRUE(builder.AppendRow(ChangeType::kInsert, "abc").ok());
  ASSERT_TRUE(builder.AppendRow(ChangeType::kDelete, "").ok());
  ASSERT_TRUE(builder.AppendRow(ChangeType::kUpdateAfter, "xyzw").ok());
  EXPECT_EQ(builder.record_count(), 3);
  EXPECT_EQ(builder.size_in_bytes(), 48u + 8 + 5 + 9);
  LogRecordBatch b = builder.Finish();
  EXPECT_EQ(out.substr(0, 6), "prefix");
  EXPECT_EQ(b.data().data(), out.data() + 6);
  EXPECT_EQ(b.magic(), 0);
  EXPECT_EQ(b.schema_id(), SchemaId(7));
  EXPECT_FALSE(b.is_append_only());
  EXPECT_EQ(b.writer_id(), WriterId(42));
  EXPECT_EQ(b.batch_sequence(), BatchSequence(9));
  EXPECT_EQ(b.base_offset(), LogOffset(1000));
  EXPECT_EQ(b.commit_timestamp(), TimestampMs(1700000000000));
  EXPECT_EQ(b.leader_epoch(), kNoLeaderEpoch);
  EXPECT_EQ(b.record_count(), 3);
  EXPECT_EQ(b.last_offset_delta(), 2);
  EXPECT_EQ(b.last_offset(), LogOffset(1002));
  EXPECT_TRUE(b.IsValid());
  auto records = ReadAll(b);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].change_type, ChangeType::kInsert);
  EXPECT_EQ(records[0].row, "abc");
  EXPECT_EQ(records[1].change_type, ChangeType::kDelete);
  EXPECT_EQ(records[1].row, "");
  EXPECT_EQ(records[2].change_type, ChangeType::kUpdateAfter);
  EXPECT_EQ(records[2].row, "xyzw");
}

TEST(LogRecordBatchBuilderTest, PrebuiltBody) {
  // An ARROW-style body: change-type vector (not append-only) then opaque bytes.
  std::string body = std::string("\x01\x03\x04", 3) + std::string(37, 'q');
  LogBatchParams p;
  p.append_only = false;
  p.schema_id = SchemaId(2);
  ByteBuffer out;
  LogRecordBatchBuilder builder(&out, p);
  ASSERT_TRUE(builder.SetBody(body, 3).ok());
  LogRecordBatch b = builder.Finish();
  EXPECT_EQ(b.record_count(), 3);
  EXPECT_EQ(b.last_offset_delta(), 2);
  EXPECT_EQ(b.records(), body);
  EXPECT_EQ(b.size_in_bytes(), 48 + body.size());
  EXPECT_EQ(b.checksum(), crc32c::Value(ByteView(out).substr(25)));
  EXPECT_TRUE(b.IsValid());

  ByteBuffer out2;
  LogRecordBatchBuilder negative(&out2, p);
  auto st = negative.SetBody("x", -1);
  EXPECT_EQ(st.code(), ErrorCode::kCorruptRecord);
}

TEST(LogRecordBatchBuilderTest, EmptyBatchesTakeOneOffset) {
  for (int8_t magic : {kLogMagicV0, kLogMagicV1}) {
    LogBatchParams p;
    p.magic = magic;
    p.base_offset = LogOffset(5);
    ByteBuffer out;
    LogRecordBatchBuilder builder(&out, p);
    LogRecordBatch b = builder.Finish();
    EXPECT_EQ(b.size_in_bytes(), LogRecordBatchBuilder::HeaderSize(magic));
    EXPECT_EQ(b.record_count(), 0);
    EXPECT_EQ(b.last_offset_delta(), 0);
    EXPECT_EQ(b.last_offset(), LogOffset(5));
    EXPECT_EQ(b.next_offset(), LogOffset(6));
    EXPECT_TRUE(b.records().empty());
    EXPECT_TRUE(b.IsValid());
    RowRecordIterator it(b);
    auto next = it.Next();
    ASSERT_TRUE(next.ok());
    EXPECT_FALSE(next->has_value());
  }
}

TEST(LogRecordBatchBuilderTest, OffsetArithmeticWrapsInsteadOfOverflowing) {
  LogBatchParams p;
  p.base_offset = LogOffset(INT64_MAX);
  ByteBuffer out;
  LogRecordBatchBuilder builder(&out, p);
  ASSERT_TRUE(builder.AppendRow(ChangeType::kAppendOnly, "a").ok());
  ASSERT_TRUE(builder.AppendRow(ChangeType::kAppendOnly, "b").ok());
  LogRecordBatch b = builder.Finish();
  EXPECT_EQ(b.last_offset(), LogOffset(INT64_MIN));
  EXPECT_EQ(b.next_offset(), LogOffset(INT64_MIN + 1));
}

// ---- in-place setters ----

TEST(MutableLogRecordBatchTest, SettersKeepCrcValid) {
  for (int8_t magic : {kLogMagicV0, kLogMagicV1}) {
    SCOPED_TRACE(static_cast<int>(magic));
    LogBatchParams p;
    p.magic = magic;
    p.schema_id = SchemaId(3);
    ByteBuffer out;
    LogRecordBatchBuilder builder(&out, p);
    ASSERT_TRUE(builder.AppendRow(ChangeType::kAppendOnly, "row").ok());
    uint32_t crc = builder.Finish().checksum();
    ByteBuffer before = out;

    auto m = MutableLogRecordBatch::Parse(std::span<char>(out.data(), out.size()));
    ASSERT_TRUE(m.ok());
    m->SetBaseOffset(LogOffset(123456789012));
    m->SetCommitTimestamp(TimestampMs(1700000000123));
    Status epoch = m->SetLeaderEpoch(LeaderEpoch(17));
    LogRecordBatch v = m->view();
    EXPECT_EQ(v.base_offset(), LogOffset(123456789012));
    EXPECT_EQ(v.commit_timestamp(), TimestampMs(1700000000123));
    if (magic == kLogMagicV1) {
      EXPECT_TRUE(epoch.ok());
      EXPECT_EQ(v.leader_epoch(), LeaderEpoch(17));
    } else {
      EXPECT_EQ(epoch.code(), ErrorCode::kUnsupportedVersion);
      EXPECT_EQ(v.leader_epoch(), kNoLeaderEpoch);
    }
    EXPECT_EQ(v.checksum(), crc);
    EXPECT_TRUE(v.IsValid());
    // Only the base offset, timestamp and (V1) epoch bytes changed.
    for (size_t i = 0; i < out.size(); ++i) {
      bool may_change = i < 8 || (i >= 13 && i < 21) || (magic == 1 && i >= 21 && i < 25);
      if (!may_change) {
        EXPECT_EQ(out[i], before[i]) << "byte " << i;
      }
    }
  }
}

// ---- batch iterator ----

ByteBuffer ThreeBatches(std::vector<size_t>* starts) {
  ByteBuffer blob;
  for (int i = 0; i < 3; ++i) {
    starts->push_back(blob.size());
    LogBatchParams p;
    p.magic = i == 1 ? kLogMagicV1 : kLogMagicV0;
    p.base_offset = LogOffset(i * 10);
    LogRecordBatchBuilder builder(&blob, p);
    for (int r = 0; r <= i; ++r) {
      EXPECT_TRUE(builder.AppendRow(ChangeType::kAppendOnly, std::string(r + 3, 'a' + i)).ok());
    }
    builder.Finish();
  }
  starts->push_back(blob.size());
  return blob;
}

TEST(LogRecordBatchIteratorTest, WalksConcatenatedBatches) {
  std::vector<size_t> starts;
  ByteBuffer blob = ThreeBatches(&starts);
  LogRecordBatchIterator it(blob);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(it.position(), starts[i]);
    auto next = it.Next();
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    ASSERT_TRUE(next->has_value());
    const LogRecordBatch& b = **next;
    EXPECT_EQ(b.data().data(), blob.data() + starts[i]);
    EXPECT_EQ(b.magic(), i == 1 ? 1 : 0);
    EXPECT_EQ(b.base_offset(), LogOffset(i * 10));
    EXPECT_EQ(b.record_count(), i + 1);
    EXPECT_TRUE(b.IsValid());
  }
  auto end = it.Next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
  EXPECT_FALSE(it.truncated());
  EXPECT_EQ(it.position(), blob.size());
}

TEST(LogRecordBatchIteratorTest, StopsCleanlyAtEveryTruncation) {
  std::vector<size_t> starts;
  ByteBuffer blob = ThreeBatches(&starts);
  for (size_t cut = 0; cut <= blob.size(); ++cut) {
    LogRecordBatchIterator it(ByteView(blob).substr(0, cut));
    size_t whole = 0;
    while (true) {
      auto next = it.Next();
      ASSERT_TRUE(next.ok()) << "cut " << cut << ": " << next.status().ToString();
      if (!next->has_value()) break;
      ++whole;
    }
    size_t expect_whole = 0;
    while (expect_whole < 3 && starts[expect_whole + 1] <= cut) ++expect_whole;
    EXPECT_EQ(whole, expect_whole) << "cut " << cut;
    EXPECT_EQ(it.position(), starts[expect_whole]) << "cut " << cut;
    EXPECT_EQ(it.truncated(), cut != starts[expect_whole]) << "cut " << cut;
  }
}

TEST(LogRecordBatchIteratorTest, BadLengthIsCorruption) {
  std::vector<size_t> starts;
  ByteBuffer blob = ThreeBatches(&starts);
  for (int32_t bad : {-1, 0, 35, INT32_MIN}) {
    ByteBuffer copy = blob;
    StoreI32LE(copy.data() + starts[1] + kLogLengthOffset, bad);
    LogRecordBatchIterator it(copy);
    ASSERT_TRUE(it.Next().ok());
    auto second = it.Next();
    ASSERT_FALSE(second.ok()) << bad;
    EXPECT_EQ(second.status().code(), ErrorCode::kCorruptRecord);
    // Sticky.
    EXPECT_FALSE(it.Next().ok());
    EXPECT_EQ(it.position(), starts[1]);
  }
  // A complete batch with an unknown magic is corruption as well.
  ByteBuffer copy = blob;
  copy[starts[2] + kLogMagicOffset] = 7;
  LogRecordBatchIterator it(copy);
  ASSERT_TRUE(it.Next().ok());
  ASSERT_TRUE(it.Next().ok());
  auto third = it.Next();
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), ErrorCode::kCorruptRecord);
}

// ---- parse validation and corruption ----

ByteBuffer SampleBatch(int8_t magic) {
  LogBatchParams p;
  p.magic = magic;
  p.schema_id = SchemaId(4);
  p.append_only = false;
  p.writer_id = WriterId(77);
  p.batch_sequence = BatchSequence(3);
  ByteBuffer out;
  LogRecordBatchBuilder builder(&out, p);
  EXPECT_TRUE(builder.AppendRow(ChangeType::kInsert, "hello").ok());
  EXPECT_TRUE(builder.AppendRow(ChangeType::kUpdateBefore, "wor").ok());
  EXPECT_TRUE(builder.AppendRow(ChangeType::kDelete, "ld!").ok());
  builder.Finish();
  return out;
}

TEST(LogRecordBatchCorruptionTest, ParseRejectsMalformedHeaders) {
  ByteBuffer good = SampleBatch(0);
  auto expect_corrupt = [](ByteView data, const char* what) {
    auto r = LogRecordBatch::Parse(data);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), ErrorCode::kCorruptRecord) << what;
  };
  expect_corrupt(ByteView(), "empty");
  expect_corrupt(ByteView(good).substr(0, 12), "no magic");
  ByteBuffer b = good;
  b[kLogMagicOffset] = 2;
  expect_corrupt(b, "magic 2");
  b = good;
  b[kLogMagicOffset] = -1;
  expect_corrupt(b, "magic -1");
  b = good;
  StoreI32LE(b.data() + kLogLengthOffset, 35);
  expect_corrupt(b, "length below V0 header");
  b = good;
  b[kLogMagicOffset] = 1;
  StoreI32LE(b.data() + kLogLengthOffset, 39);  // 51 bytes: room for V0, not V1.
  expect_corrupt(b, "length below V1 header");
  b = good;
  StoreI32LE(b.data() + kLogLengthOffset, static_cast<int32_t>(good.size() - 12 + 1));
  expect_corrupt(b, "length past the data");
  b = good;
  StoreI32LE(b.data() + kLogLayoutV0.record_count, -1);
  expect_corrupt(b, "negative record count");
  b = good;
  StoreI32LE(b.data() + kLogLayoutV0.last_offset_delta, -2);
  expect_corrupt(b, "negative last offset delta");

  // Extra bytes after the batch are not part of it.
  ByteBuffer longer = good + "trailing";
  auto r = LogRecordBatch::Parse(longer);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size_in_bytes(), good.size());
  EXPECT_TRUE(r->IsValid());
}

// Any single corrupted byte is caught, by the header checks or by the CRC, except in the
// fields the CRC deliberately leaves out (base offset, commit timestamp, leader epoch).
TEST(LogRecordBatchCorruptionTest, EveryByteFlipIsDetected) {
  for (int8_t magic : {kLogMagicV0, kLogMagicV1}) {
    ByteBuffer good = SampleBatch(magic);
    size_t crc_start = LogLayoutForMagic(magic)->crc;
    for (size_t i = 0; i < good.size(); ++i) {
      for (uint8_t mask : {0x01, 0x80, 0xFF}) {
        ByteBuffer b = good;
        b[i] = static_cast<char>(b[i] ^ mask);
        auto parsed = LogRecordBatch::Parse(b);
        bool outside_crc =
            i < kLogLengthOffset || (i >= kLogCommitTimestampOffset && i < crc_start);
        if (outside_crc) {
          ASSERT_TRUE(parsed.ok()) << "magic " << int{magic} << " byte " << i;
          EXPECT_TRUE(parsed->IsValid()) << "byte " << i;
          continue;
        }
        bool detected = !parsed.ok() || !parsed->IsValid();
        EXPECT_TRUE(detected) << "magic " << int{magic} << " byte " << i << " mask " << int{mask};
        if (parsed.ok()) {
          EXPECT_EQ(parsed->ValidateCrc().code(), ErrorCode::kCorruptRecord);
          // Reading the records of a corrupt batch must stay in bounds.
          RowRecordIterator it(*parsed);
          for (int n = 0; n < 10; ++n) {
            auto next = it.Next();
            if (!next.ok() || !next->has_value()) break;
          }
        }
      }
    }
  }
}

TEST(LogRecordBatchCorruptionTest, EveryTruncationIsRejected) {
  for (int8_t magic : {kLogMagicV0, kLogMagicV1}) {
    ByteBuffer good = SampleBatch(magic);
    for (size_t cut = 0; cut < good.size(); ++cut) {
      auto parsed = LogRecordBatch::Parse(ByteView(good).substr(0, cut));
      ASSERT_FALSE(parsed.ok()) << "cut " << cut;
      EXPECT_EQ(parsed.status().code(), ErrorCode::kCorruptRecord);
    }
  }
}

// ---- row record iterator ----

TEST(RowRecordIteratorTest, RejectsBadRecords) {
  auto record = [](int32_t length, uint8_t type, std::string row) {
    ByteBuffer b(4, '\0');
    StoreI32LE(b.data(), length);
    b.push_back(static_cast<char>(type));
    return b + row;
  };
  auto first_error = [](ByteView records, int32_t count) -> Status {
    RowRecordIterator it(records, count);
    for (int i = 0; i < 100; ++i) {
      auto next = it.Next();
      if (!next.ok()) return next.status();
      if (!next->has_value()) return Status::OK();
    }
    return Status::OK();
  };
  EXPECT_TRUE(first_error(record(4, 1, "abc"), 1).ok());
  EXPECT_TRUE(first_error(record(1, 0, ""), 1).ok());
  EXPECT_EQ(first_error(record(4, 5, "abc"), 1).code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(first_error(record(4, 0xFF, "abc"), 1).code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(first_error(record(0, 1, ""), 1).code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(first_error(record(-3, 1, "abc"), 1).code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(first_error(record(5, 1, "abc"), 1).code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(first_error(record(INT32_MAX, 1, "abc"), 1).code(), ErrorCode::kCorruptRecord);
  // Fewer records than the count, and bytes after the last one.
  EXPECT_EQ(first_error(record(4, 1, "abc"), 2).code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(first_error(record(4, 1, "abc") + "x", 1).code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(first_error(ByteView("\x04\x00\x00", 3), 1).code(), ErrorCode::kCorruptRecord);
  EXPECT_TRUE(first_error(ByteView(), 0).ok());
  // Every truncation of a valid section is an error, never a crash.
  ByteBuffer two = record(4, 1, "abc") + record(2, 4, "z");
  for (size_t cut = 0; cut < two.size(); ++cut) {
    EXPECT_FALSE(first_error(ByteView(two).substr(0, cut), 2).ok()) << cut;
  }
}

// ---- magic 1 read from hand-written headers, and random round trips ----

// Writes a magic 1 batch field by field, independently of the builder.
ByteBuffer HandBuiltV1(int64_t base, int64_t ts, int32_t epoch, int16_t schema, uint8_t attrs,
                       int64_t writer, int32_t seq,
                       const std::vector<std::pair<uint8_t, std::string>>& rows) {
  ByteBuffer body;
  for (const auto& [type, row] : rows) {
    ByteWriter w(&body);
    w.I32LE(static_cast<int32_t>(row.size() + 1));
    w.U8(type);
    w.Bytes(row);
  }
  int32_t count = static_cast<int32_t>(rows.size());
  ByteBuffer out;
  ByteWriter w(&out);
  w.I64LE(base);
  w.I32LE(static_cast<int32_t>(52 - 12 + body.size()));
  w.I8(1);
  w.I64LE(ts);
  w.I32LE(epoch);
  w.U32LE(0);  // CRC, patched below.
  w.I16LE(schema);
  w.U8(attrs);
  w.I32LE(count == 0 ? 0 : count - 1);
  w.I64LE(writer);
  w.I32LE(seq);
  w.I32LE(count);
  w.Bytes(body);
  uint32_t crc = crc32c::Value(ByteView(out).substr(29));
  StoreI32LE(out.data() + 25, static_cast<int32_t>(crc));
  return out;
}

TEST(LogRecordBatchRandomTest, RoundTrips) {
  std::mt19937_64 rng(testutil::TestSeed());
  for (int iter = 0; iter < 300; ++iter) {
    LogBatchParams p;
    p.magic = (rng() & 1) ? kLogMagicV1 : kLogMagicV0;
    p.schema_id = SchemaId(static_cast<int16_t>(rng()));
    p.append_only = rng() & 1;
    p.writer_id = WriterId(static_cast<int64_t>(rng()));
    p.batch_sequence = BatchSequence(static_cast<int32_t>(rng()));
    p.base_offset = LogOffset(static_cast<int64_t>(rng() >> 1));
    p.commit_timestamp = TimestampMs(static_cast<int64_t>(rng()));
    p.leader_epoch = LeaderEpoch(static_cast<int32_t>(rng()));
    int count = static_cast<int>(rng() % 40);
    std::vector<std::pair<ChangeType, std::string>> rows;
    for (int i = 0; i < count; ++i) {
      std::string row(rng() % 70, '\0');
      for (auto& c : row) c = static_cast<char>(rng());
      rows.emplace_back(static_cast<ChangeType>(rng() % 5), std::move(row));
    }
    ByteBuffer out;
    LogRecordBatchBuilder builder(&out, p);
    for (const auto& [type, row] : rows) ASSERT_TRUE(builder.AppendRow(type, row).ok());
    LogRecordBatch built = builder.Finish();
    ASSERT_EQ(built.size_in_bytes(), out.size());

    auto parsed = LogRecordBatch::Parse(out);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    const LogRecordBatch& b = *parsed;
    EXPECT_TRUE(b.IsValid());
    EXPECT_EQ(b.magic(), p.magic);
    EXPECT_EQ(b.schema_id(), p.schema_id);
    EXPECT_EQ(b.is_append_only(), p.append_only);
    EXPECT_EQ(b.writer_id(), p.writer_id);
    EXPECT_EQ(b.batch_sequence(), p.batch_sequence);
    EXPECT_EQ(b.base_offset(), p.base_offset);
    EXPECT_EQ(b.commit_timestamp(), p.commit_timestamp);
    EXPECT_EQ(b.leader_epoch(), p.magic == kLogMagicV1 ? p.leader_epoch : kNoLeaderEpoch);
    EXPECT_EQ(b.record_count(), count);
    auto records = ReadAll(b);
    ASSERT_EQ(records.size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(records[i].change_type, rows[i].first);
      EXPECT_EQ(records[i].row, rows[i].second);
    }

    if (p.magic == kLogMagicV1) {
      // A hand-written magic 1 batch with the same fields is byte-identical and reads back.
      std::vector<std::pair<uint8_t, std::string>> raw;
      for (const auto& [type, row] : rows) raw.emplace_back(static_cast<uint8_t>(type), row);
      ByteBuffer hand =
          HandBuiltV1(p.base_offset.value(), p.commit_timestamp.value(), p.leader_epoch.value(),
                      p.schema_id.value(), p.append_only ? 1 : 0, p.writer_id.value(),
                      p.batch_sequence.value(), raw);
      EXPECT_EQ(ToHex(hand), ToHex(out));
    }
  }
}

TEST(LogRecordBatchRandomTest, HandBuiltV1HeadersParse) {
  std::mt19937_64 rng(testutil::TestSeed());
  for (int iter = 0; iter < 100; ++iter) {
    int64_t base = static_cast<int64_t>(rng() >> 2);
    int64_t ts = static_cast<int64_t>(rng());
    int32_t epoch = static_cast<int32_t>(rng());
    int16_t schema = static_cast<int16_t>(rng());
    uint8_t attrs = rng() & 1;
    int64_t writer = static_cast<int64_t>(rng());
    int32_t seq = static_cast<int32_t>(rng());
    std::vector<std::pair<uint8_t, std::string>> rows(rng() % 10);
    for (auto& [type, row] : rows) {
      type = static_cast<uint8_t>(rng() % 5);
      row.assign(rng() % 30, static_cast<char>(rng()));
    }
    ByteBuffer bytes = HandBuiltV1(base, ts, epoch, schema, attrs, writer, seq, rows);
    auto parsed = LogRecordBatch::Parse(bytes);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    const LogRecordBatch& b = *parsed;
    EXPECT_EQ(b.magic(), 1);
    EXPECT_EQ(b.header_size(), 52u);
    EXPECT_EQ(b.base_offset().value(), base);
    EXPECT_EQ(b.commit_timestamp().value(), ts);
    EXPECT_EQ(b.leader_epoch().value(), epoch);
    EXPECT_EQ(b.schema_id().value(), schema);
    EXPECT_EQ(b.attributes(), attrs);
    EXPECT_EQ(b.writer_id().value(), writer);
    EXPECT_EQ(b.batch_sequence().value(), seq);
    EXPECT_EQ(b.record_count(), static_cast<int32_t>(rows.size()));
    EXPECT_TRUE(b.IsValid());
    auto records = ReadAll(b);
    ASSERT_EQ(records.size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(static_cast<uint8_t>(records[i].change_type), rows[i].first);
      EXPECT_EQ(records[i].row, rows[i].second);
    }
  }
}

}  // namespace
}  // namespace strom::record
