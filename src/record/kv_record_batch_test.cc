#include "record/kv_record_batch.h"

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

std::vector<nlohmann::json> GoldenKvBatches() {
  nlohmann::json golden = testutil::LoadGolden("batches.json");
  std::vector<nlohmann::json> out;
  for (const auto& e : golden["entries"]) {
    if (e["kind"] == "DefaultKvRecordBatch") out.push_back(e);
  }
  return out;
}

KvBatchParams ParamsFromGolden(const nlohmann::json& e) {
  KvBatchParams p;
  p.schema_id = SchemaId(static_cast<int16_t>(e["schema_id"].get<int>()));
  p.writer_id = WriterId(JsonInt64(e["writer_id"]));
  p.batch_sequence = BatchSequence(static_cast<int32_t>(JsonInt64(e["batch_sequence"])));
  return p;
}

std::vector<KvRecord> ReadAll(const KvRecordBatch& batch) {
  std::vector<KvRecord> out;
  KvRecordIterator it(batch);
  while (true) {
    auto next = it.Next();
    EXPECT_TRUE(next.ok()) << next.status().ToString();
    if (!next.ok() || !next->has_value()) break;
    out.push_back(**next);
  }
  return out;
}

Status FirstError(ByteView records, int32_t count) {
  KvRecordIterator it(records, count);
  for (int i = 0; i < 1000; ++i) {
    auto next = it.Next();
    if (!next.ok()) return next.status();
    if (!next->has_value()) return Status::OK();
  }
  return Status::OK();
}

// ---- golden vectors (batches.json, written by Fluss 0.9.1) ----

TEST(KvRecordBatchGoldenTest, BuildMatchesFluss) {
  auto entries = GoldenKvBatches();
  ASSERT_EQ(entries.size(), 4u);
  for (const auto& e : entries) {
    SCOPED_TRACE(e["id"].get<std::string>());
    ASSERT_EQ(e["magic"].get<int>(), 0);
    ByteBuffer out;
    KvRecordBatchBuilder builder(&out, ParamsFromGolden(e));
    for (const auto& r : e["records"]) {
      ByteBuffer key = Hex(r["key_hex"].get<std::string>());
      if (r["op"] == "upsert") {
        ByteBuffer value = Hex(r["value_row_hex"].get<std::string>());
        EXPECT_EQ(KvRecordBatchBuilder::RecordSize(key.size(), value.size()),
                  r["record_size"].get<size_t>());
        ASSERT_TRUE(builder.AppendUpsert(key, value).ok());
      } else {
        ASSERT_EQ(r["op"], "delete");
        EXPECT_EQ(KvRecordBatchBuilder::RecordSize(key.size(), 0), r["record_size"].get<size_t>());
        ASSERT_TRUE(builder.AppendDelete(key).ok());
      }
    }
    KvRecordBatch batch = builder.Finish();
    EXPECT_EQ(ToHex(out), e["hex"].get<std::string>());
    EXPECT_EQ(batch.checksum(), e["crc"].get<uint32_t>());
    EXPECT_EQ(batch.size_in_bytes(), e["size"].get<size_t>());
  }
}

TEST(KvRecordBatchGoldenTest, ParseMatchesFluss) {
  for (const auto& e : GoldenKvBatches()) {
    SCOPED_TRACE(e["id"].get<std::string>());
    ByteBuffer bytes = Hex(e["hex"].get<std::string>());
    auto parsed = KvRecordBatch::Parse(bytes);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    const KvRecordBatch& b = *parsed;
    EXPECT_EQ(b.magic(), e["magic"].get<int>());
    EXPECT_EQ(b.size_in_bytes(), e["size"].get<size_t>());
    EXPECT_EQ(static_cast<size_t>(b.length()) + 4, bytes.size());
    EXPECT_EQ(b.schema_id().value(), e["schema_id"].get<int>());
    EXPECT_EQ(b.attributes(), e["attributes"].get<int>());
    EXPECT_EQ(b.writer_id().value(), JsonInt64(e["writer_id"]));
    EXPECT_EQ(b.batch_sequence().value(), JsonInt64(e["batch_sequence"]));
    EXPECT_EQ(b.record_count(), e["record_count"].get<int>());
    EXPECT_EQ(b.checksum(), e["crc"].get<uint32_t>());
    EXPECT_EQ(b.ComputeChecksum(), e["crc"].get<uint32_t>());
    EXPECT_TRUE(b.IsValid());
    EXPECT_TRUE(b.ValidateCrc().ok());
    auto records = ReadAll(b);
    ASSERT_EQ(records.size(), e["records"].size());
    for (size_t i = 0; i < records.size(); ++i) {
      const auto& r = e["records"][i];
      EXPECT_EQ(ToHex(records[i].key), r["key_hex"].get<std::string>());
      if (r["op"] == "upsert") {
        ASSERT_FALSE(records[i].is_delete());
        EXPECT_EQ(ToHex(*records[i].value), r["value_row_hex"].get<std::string>());
      } else {
        EXPECT_TRUE(records[i].is_delete());
      }
    }
  }
}

// ---- documented examples ----

KvBatchParams NoWriter(int16_t schema_id) {
  KvBatchParams p;
  p.schema_id = SchemaId(schema_id);
  return p;
}

TEST(KvRecordBatchDocTest, FormatsWorkedExample) {
  // fluss-formats §8.6: upsert key 01 02 -> (INT 10, "abc"), delete key 02 03; schema 1.
  ByteBuffer out;
  KvRecordBatchBuilder builder(&out, NoWriter(1));
  ASSERT_TRUE(builder.AppendUpsert(Hex("0102"), Hex("000a03616263")).ok());
  ASSERT_TRUE(builder.AppendDelete(Hex("0203")).ok());
  KvRecordBatch b = builder.Finish();
  EXPECT_EQ(ToHex(out),
            "2c000000"
            "00"
            "407025ed"
            "0100"
            "00"
            "ffffffffffffffff"
            "ffffffff"
            "02000000"
            "09000000020102000a03616263"
            "03000000020203");
  EXPECT_EQ(b.checksum(), 0xED257040u);
  EXPECT_EQ(out.size(), 48u);
}

TEST(KvRecordBatchDocTest, RecordSizesFromDefaultKvRecordTest) {
  // rpc §15.1 item 4: key 01 02 + CompactedRow(10, "abc") is 13 bytes; key 02 03 delete is 7.
  EXPECT_EQ(KvRecordBatchBuilder::RecordSize(2, 6), 13u);
  EXPECT_EQ(KvRecordBatchBuilder::RecordSize(2, 0), 7u);
  ByteBuffer out;
  KvRecordBatchBuilder builder(&out, NoWriter(1));
  ASSERT_TRUE(builder.AppendUpsert(Hex("0102"), Hex("000a03616263")).ok());
  EXPECT_EQ(ToHex(ByteView(out).substr(kKvHeaderSize)), "09000000020102000a03616263");
}

TEST(KvRecordBatchDocTest, RpcGoldenPutKvBatches) {
  // rpc §15.2 item 9: one upsert, key CompactedKey(INT 1) = 01, value CompactedRow(1, "a").
  KvBatchParams idempotent;
  idempotent.schema_id = SchemaId(1);
  idempotent.writer_id = WriterId(0);
  idempotent.batch_sequence = BatchSequence(0);
  ByteBuffer out;
  KvRecordBatchBuilder builder(&out, idempotent);
  ASSERT_TRUE(builder.AppendUpsert(Hex("01"), Hex("00010161")).ok());
  builder.Finish();
  EXPECT_EQ(ToHex(out),
            "22000000"
            "00"
            "baa660aa"
            "0100"
            "00"
            "0000000000000000"
            "00000000"
            "01000000"
            "06000000010100010161");
  EXPECT_EQ(out.size(), 38u);

  ByteBuffer plain;
  KvRecordBatchBuilder builder2(&plain, NoWriter(1));
  ASSERT_TRUE(builder2.AppendUpsert(Hex("01"), Hex("00010161")).ok());
  KvRecordBatch b = builder2.Finish();
  EXPECT_EQ(ToHex(plain),
            "2200000000d23b5c7e010000ffffffffffffffffffffffff01000000"
            "06000000010100010161");
  EXPECT_EQ(ToHex(ByteView(plain).substr(kKvCrcOffset, 4)), "d23b5c7e");
  EXPECT_TRUE(b.IsValid());
}

// ---- builder ----

TEST(KvRecordBatchBuilderTest, EmptyUpsertValueIsRejected) {
  ByteBuffer out;
  KvRecordBatchBuilder builder(&out, NoWriter(1));
  EXPECT_EQ(builder.AppendUpsert("k", "").code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(builder.record_count(), 0);
  EXPECT_EQ(builder.size_in_bytes(), kKvHeaderSize);
}

TEST(KvRecordBatchBuilderTest, LongKeysUseMultiByteVarints) {
  ByteBuffer out = "xx";
  KvRecordBatchBuilder builder(&out, NoWriter(9));
  std::string key128(128, 'k');
  std::string key20000(20000, 'K');
  ASSERT_TRUE(builder.AppendUpsert(key128, "v").ok());
  ASSERT_TRUE(builder.AppendDelete(key20000).ok());
  ASSERT_TRUE(builder.AppendUpsert("", "value").ok());
  EXPECT_EQ(builder.size_in_bytes(), kKvHeaderSize + KvRecordBatchBuilder::RecordSize(128, 1) +
                                         KvRecordBatchBuilder::RecordSize(20000, 0) +
                                         KvRecordBatchBuilder::RecordSize(0, 5));
  EXPECT_EQ(KvRecordBatchBuilder::RecordSize(128, 1), 4u + 2 + 128 + 1);
  EXPECT_EQ(KvRecordBatchBuilder::RecordSize(20000, 0), 4u + 3 + 20000);
  KvRecordBatch b = builder.Finish();
  EXPECT_EQ(b.data().data(), out.data() + 2);
  // Record 1 starts right after the header: length, then varint 128 = 80 01.
  EXPECT_EQ(ToHex(ByteView(out).substr(2 + kKvHeaderSize + 4, 2)), "8001");
  auto records = ReadAll(b);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].key, key128);
  EXPECT_EQ(*records[0].value, "v");
  EXPECT_EQ(records[1].key, key20000);
  EXPECT_TRUE(records[1].is_delete());
  EXPECT_EQ(records[2].key, "");
  EXPECT_EQ(*records[2].value, "value");
}

// ---- corruption ----

ByteBuffer SampleKvBatch() {
  KvBatchParams p;
  p.schema_id = SchemaId(5);
  p.writer_id = WriterId(123);
  p.batch_sequence = BatchSequence(4);
  ByteBuffer out;
  KvRecordBatchBuilder builder(&out, p);
  EXPECT_TRUE(builder.AppendUpsert("key-1", "value-1").ok());
  EXPECT_TRUE(builder.AppendDelete("key-2").ok());
  EXPECT_TRUE(builder.AppendUpsert("k3", "v").ok());
  builder.Finish();
  return out;
}

TEST(KvRecordBatchCorruptionTest, ParseRejectsMalformedHeaders) {
  ByteBuffer good = SampleKvBatch();
  auto expect_corrupt = [](ByteView data, const char* what) {
    auto r = KvRecordBatch::Parse(data);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), ErrorCode::kCorruptRecord) << what;
  };
  expect_corrupt(ByteView(), "empty");
  expect_corrupt(ByteView(good).substr(0, 4), "no magic");
  ByteBuffer b = good;
  b[kKvMagicOffset] = 1;
  expect_corrupt(b, "magic 1");
  b = good;
  StoreI32LE(b.data(), 23);
  expect_corrupt(b, "length below header");
  b = good;
  StoreI32LE(b.data(), -5);
  expect_corrupt(b, "negative length");
  b = good;
  StoreI32LE(b.data(), static_cast<int32_t>(good.size() - 4 + 1));
  expect_corrupt(b, "length past the data");
  b = good;
  StoreI32LE(b.data() + kKvRecordCountOffset, -1);
  expect_corrupt(b, "negative count");
  auto longer = KvRecordBatch::Parse(good + "tail");
  ASSERT_TRUE(longer.ok());
  EXPECT_EQ(longer->size_in_bytes(), good.size());
}

TEST(KvRecordBatchCorruptionTest, EveryByteFlipIsDetected) {
  ByteBuffer good = SampleKvBatch();
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t mask : {0x01, 0x40, 0xFF}) {
      ByteBuffer b = good;
      b[i] = static_cast<char>(b[i] ^ mask);
      auto parsed = KvRecordBatch::Parse(b);
      bool detected = !parsed.ok() || !parsed->IsValid();
      EXPECT_TRUE(detected) << "byte " << i << " mask " << int{mask};
      if (parsed.ok()) {
        EXPECT_EQ(parsed->ValidateCrc().code(), ErrorCode::kCorruptRecord);
        KvRecordIterator it(*parsed);
        for (int n = 0; n < 10; ++n) {
          auto next = it.Next();
          if (!next.ok() || !next->has_value()) break;
        }
      }
    }
  }
}

TEST(KvRecordBatchCorruptionTest, EveryTruncationIsRejected) {
  ByteBuffer good = SampleKvBatch();
  for (size_t cut = 0; cut < good.size(); ++cut) {
    auto parsed = KvRecordBatch::Parse(ByteView(good).substr(0, cut));
    ASSERT_FALSE(parsed.ok()) << cut;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kCorruptRecord);
  }
  // The records section alone, cut anywhere, fails in the iterator.
  ByteView records = ByteView(good).substr(kKvHeaderSize);
  for (size_t cut = 0; cut < records.size(); ++cut) {
    EXPECT_EQ(FirstError(records.substr(0, cut), 3).code(), ErrorCode::kCorruptRecord) << cut;
  }
  EXPECT_TRUE(FirstError(records, 3).ok());
}

TEST(KvRecordIteratorTest, RejectsBadRecords) {
  using namespace std::string_literals;
  auto rec = [](int32_t length, std::string rest) {
    ByteBuffer b(4, '\0');
    StoreI32LE(b.data(), length);
    return b + rest;
  };
  EXPECT_TRUE(FirstError(rec(3, "\x01kv"), 1).ok());
  EXPECT_TRUE(FirstError(rec(1, std::string(1, '\0')), 1).ok());  // empty key, delete
  EXPECT_EQ(FirstError(rec(0, ""), 1).code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(FirstError(rec(-1, "\x01k"), 1).code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(FirstError(rec(4, "\x01kv"), 1).code(), ErrorCode::kCorruptRecord);
  // Key length past the record.
  EXPECT_EQ(FirstError(rec(3, "\x03kv"), 1).code(), ErrorCode::kCorruptRecord);
  // Unterminated varint inside the record.
  EXPECT_EQ(FirstError(rec(2, "\x80\x80"), 1).code(), ErrorCode::kCorruptRecord);
  // Over-long varint (6 bytes).
  EXPECT_EQ(FirstError(rec(7, "\x80\x80\x80\x80\x80\x00k"s), 1).code(), ErrorCode::kCorruptRecord);
  // Key length with the top bits set (over 4 GiB would be needed).
  EXPECT_EQ(FirstError(rec(6,
                           "\xff\xff\xff\xff\x0f"
                           "k"),
                       1)
                .code(),
            ErrorCode::kCorruptRecord);
  // Count too large, and trailing bytes.
  EXPECT_EQ(FirstError(rec(3, "\x01kv"), 2).code(), ErrorCode::kCorruptRecord);
  EXPECT_EQ(FirstError(rec(3, "\x01kv") + "z", 1).code(), ErrorCode::kCorruptRecord);
  // Sticky error.
  ByteBuffer bad = rec(0, "");
  KvRecordIterator it(bad, 1);
  EXPECT_FALSE(it.Next().ok());
  EXPECT_FALSE(it.Next().ok());
}

// ---- random round trips ----

TEST(KvRecordBatchRandomTest, RoundTrips) {
  std::mt19937_64 rng(testutil::TestSeed());
  auto random_bytes = [&](size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
  };
  for (int iter = 0; iter < 300; ++iter) {
    KvBatchParams p;
    p.schema_id = SchemaId(static_cast<int16_t>(rng()));
    p.writer_id = WriterId(static_cast<int64_t>(rng()));
    p.batch_sequence = BatchSequence(static_cast<int32_t>(rng()));
    struct Rec {
      std::string key;
      std::optional<std::string> value;
    };
    std::vector<Rec> recs(rng() % 30);
    for (auto& r : recs) {
      // Mostly short keys, sometimes past the one-byte varint range.
      r.key = random_bytes((rng() % 8 == 0) ? 100 + rng() % 300 : rng() % 20);
      if (rng() % 4 != 0) r.value = random_bytes(1 + rng() % 60);
    }
    ByteBuffer out;
    KvRecordBatchBuilder builder(&out, p);
    size_t expect_size = kKvHeaderSize;
    for (const auto& r : recs) {
      if (r.value) {
        ASSERT_TRUE(builder.AppendUpsert(r.key, *r.value).ok());
      } else {
        ASSERT_TRUE(builder.AppendDelete(r.key).ok());
      }
      expect_size += KvRecordBatchBuilder::RecordSize(r.key.size(), r.value ? r.value->size() : 0);
    }
    builder.Finish();
    ASSERT_EQ(out.size(), expect_size);
    auto parsed = KvRecordBatch::Parse(out);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_TRUE(parsed->IsValid());
    EXPECT_EQ(parsed->checksum(), crc32c::Value(ByteView(out).substr(kKvSchemaIdOffset)));
    EXPECT_EQ(parsed->schema_id(), p.schema_id);
    EXPECT_EQ(parsed->writer_id(), p.writer_id);
    EXPECT_EQ(parsed->batch_sequence(), p.batch_sequence);
    EXPECT_EQ(parsed->attributes(), 0);
    EXPECT_EQ(parsed->record_count(), static_cast<int32_t>(recs.size()));
    auto records = ReadAll(*parsed);
    ASSERT_EQ(records.size(), recs.size());
    for (size_t i = 0; i < recs.size(); ++i) {
      EXPECT_EQ(records[i].key, recs[i].key);
      ASSERT_EQ(records[i].value.has_value(), recs[i].value.has_value());
      if (recs[i].value) {
        EXPECT_EQ(*records[i].value, *recs[i].value);
      }
    }
  }
}

}  // namespace
}  // namespace strom::record
