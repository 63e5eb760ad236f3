// Unit tests of the client's primary-key parts: KV batches, key/bucket codecs, the
// accumulator in KV mode, partial-update target columns, value decoding, lookup options.

#include <gtest/gtest.h>

#include "client/append_writer_impl.h"
#include "client/bucket_assigner.h"
#include "client/kv_keys.h"
#include "client/lookup_client.h"
#include "client/record_accumulator.h"
#include "client/write_batch.h"
#include "record/compacted_row.h"
#include "record/indexed_row.h"
#include "record/kv_record_batch.h"
#include "record/value_record.h"

namespace strom::client {
namespace {

using record::DataType;
using record::Datum;
using record::GenericRow;

// orders (shop INT NOT NULL, id BIGINT NOT NULL, item STRING, qty INT NOT NULL)
// primary key (shop, id)
Schema OrdersSchema(bool qty_nullable = false) {
  Schema::Builder builder;
  builder.AddColumn("shop", DataType::Int().NotNull());
  builder.AddColumn("id", DataType::BigInt().NotNull());
  builder.AddColumn("item", DataType::String());
  builder.AddColumn("qty", qty_nullable ? DataType::Int() : DataType::Int().NotNull());
  builder.PrimaryKey({"shop", "id"});
  return *builder.Build();
}

TableInfo Orders(std::vector<std::string> bucket_keys, int32_t buckets = 8,
                 record::Properties properties = {}, bool qty_nullable = false) {
  TableDescriptor::Parts parts;
  parts.schema = OrdersSchema(qty_nullable);
  parts.distribution = TableDistribution{buckets, std::move(bucket_keys)};
  parts.properties = std::move(properties);
  auto descriptor = TableDescriptor::Make(std::move(parts));
  EXPECT_TRUE(descriptor.ok()) << descriptor.status().ToString();
  return TableInfo{TablePath("db", "orders"), TableId(9), SchemaId(1), *descriptor, 0, 0};
}

GenericRow Order(int32_t shop, int64_t id, std::string item, int32_t qty) {
  return {Datum(shop), Datum(id), Datum(std::move(item)), Datum(qty)};
}

std::vector<DataType> OrderTypes() { return OrdersSchema().FieldTypes(); }

// ---- KV batches ----

class KvBatchTest : public ::testing::TestWithParam<KvFormat> {};

TEST_P(KvBatchTest, UpsertsAndDeletesRoundTrip) {
  const TableInfo info = Orders({"shop"});
  const DataType row_type = info.schema().RowType();
  auto codec = KvKeyCodec::Create(info, row_type, info.primary_keys());
  ASSERT_TRUE(codec.ok()) << codec.status().ToString();
  auto builder = MakeKvRecordsBuilder(GetParam(), row_type, (*codec)->key_encoder());
  ASSERT_TRUE(builder.ok());

  ASSERT_TRUE((*builder)->Append(Order(1, 10, "apple", 3), WriteKind::kUpsert).ok());
  ASSERT_TRUE((*builder)->Append(Order(1, 11, "pear", 0), WriteKind::kDelete).ok());
  ASSERT_TRUE((*builder)->Append(Order(2, 12, "fig", 7), WriteKind::kUpsert).ok());
  // A null key column is refused and leaves the builder as it was.
  GenericRow null_key = Order(3, 0, "x", 1);
  null_key[1] = Datum();
  EXPECT_EQ((*builder)->Append(null_key, WriteKind::kUpsert).code(), ErrorCode::kCorruptRecord);
  // Appends belong to log batches.
  EXPECT_EQ((*builder)->Append(Order(4, 1, "y", 1), WriteKind::kAppend).code(),
            ErrorCode::kInvalidTable);
  EXPECT_EQ((*builder)->record_count(), 3);

  ByteBuffer bytes;
  ASSERT_TRUE((*builder)->Build(&bytes).ok());
  ASSERT_TRUE(SealKvBatch(std::span<char>(bytes.data(), bytes.size()), SchemaId(1), WriterId(42),
                          BatchSequence(7), 3)
                  .ok());
  auto batch = record::KvRecordBatch::Parse(ByteView(bytes));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_TRUE(batch->IsValid());
  EXPECT_EQ(batch->schema_id(), SchemaId(1));
  EXPECT_EQ(batch->writer_id(), WriterId(42));
  EXPECT_EQ(batch->batch_sequence(), BatchSequence(7));
  EXPECT_EQ(batch->record_count(), 3);
  EXPECT_EQ(batch->size_in_bytes(), bytes.size());

  const std::vector<GenericRow> expected = {Order(1, 10, "apple", 3), Order(1, 11, "pear", 0),
                                            Order(2, 12, "fig", 7)};
  record::KvRecordIterator it(*batch);
  for (size_t i = 0; i < expected.size(); ++i) {
    auto record = it.Next();
    ASSERT_TRUE(record.ok() && record->has_value()) << i;
    // The key is the compacted encoding of (shop, id).
    auto key = (*codec)->key_encoder()->Encode(expected[i]);
    ASSERT_TRUE(key.ok());
    EXPECT_EQ((*record)->key, ByteView(*key)) << i;
    if (i == 1) {
      EXPECT_TRUE((*record)->is_delete());
      continue;
    }
    ASSERT_FALSE((*record)->is_delete()) << i;
    GenericRow row;
    Status decoded = GetParam() == KvFormat::kIndexed
                         ? record::DecodeIndexedRow(OrderTypes(), *(*record)->value, &row)
                         : record::DecodeCompactedRow(OrderTypes(), *(*record)->value, &row);
    ASSERT_TRUE(decoded.ok()) << decoded.ToString();
    EXPECT_EQ(row, expected[i]);
  }
  auto end = it.Next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());

  // Sealing again re-stamps the header.
  ASSERT_TRUE(SealKvBatch(std::span<char>(bytes.data(), bytes.size()), SchemaId(1), kNoWriterId,
                          kNoBatchSequence, 3)
                  .ok());
  batch = record::KvRecordBatch::Parse(ByteView(bytes));
  ASSERT_TRUE(batch.ok());
  EXPECT_TRUE(batch->IsValid());
  EXPECT_EQ(batch->writer_id(), kNoWriterId);
}

INSTANTIATE_TEST_SUITE_P(Formats, KvBatchTest,
                         ::testing::Values(KvFormat::kCompacted, KvFormat::kIndexed));

TEST(KvBatch, SealRefusesShortOrNegative) {
  ByteBuffer tiny(10, '\0');
  EXPECT_EQ(SealKvBatch(std::span<char>(tiny.data(), tiny.size()), SchemaId(1), kNoWriterId,
                        kNoBatchSequence, 0)
                .code(),
            ErrorCode::kCorruptRecord);
  ByteBuffer header(record::kKvHeaderSize, '\0');
  EXPECT_EQ(SealKvBatch(std::span<char>(header.data(), header.size()), SchemaId(1), kNoWriterId,
                        kNoBatchSequence, -1)
                .code(),
            ErrorCode::kCorruptRecord);
}

TEST(KvBatch, LogBuilderRefusesUpserts) {
  auto builder = MakeRecordsBuilder(LogFormat::kCompacted, OrdersSchema().RowType(),
                                    record::arrow::ArrowCompression());
  ASSERT_TRUE(builder.ok());
  EXPECT_EQ((*builder)->Append(Order(1, 1, "a", 1), WriteKind::kUpsert).code(),
            ErrorCode::kInvalidTable);
  EXPECT_TRUE((*builder)->Append(Order(1, 1, "a", 1), WriteKind::kAppend).ok());
}

// ---- key and bucket codecs ----

struct CodecCase {
  const char* lake;  // nullptr: no data lake
  int32_t version;
};

class KvKeyCodecTest : public ::testing::TestWithParam<CodecCase> {
 protected:
  record::Properties Properties() const {
    record::Properties properties;
    if (GetParam().lake != nullptr)
      properties.emplace_back("table.datalake.format", GetParam().lake);
    properties.emplace_back("table.kv.format-version", std::to_string(GetParam().version));
    return properties;
  }
};

TEST_P(KvKeyCodecTest, WriterAndLookupAgreeOnKeysAndBuckets) {
  for (std::vector<std::string> bucket_keys :
       {std::vector<std::string>{}, std::vector<std::string>{"shop"}}) {
    // Iceberg keys take exactly one column: only the one-column bucket key applies there.
    if (GetParam().lake != nullptr && std::string(GetParam().lake) == "iceberg" &&
        (bucket_keys.empty() || GetParam().version == 1)) {
      continue;
    }
    const TableInfo info = Orders(bucket_keys, 7, Properties());
    auto writer = KvKeyCodec::Create(info, info.schema().RowType(), info.primary_keys());
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    auto key_type = ProjectRowType(info, info.primary_keys());
    ASSERT_TRUE(key_type.ok());
    auto lookup = KvKeyCodec::Create(info, *key_type, info.primary_keys());
    ASSERT_TRUE(lookup.ok()) << lookup.status().ToString();
    // The bucket is the lake's bucket function over the bucket key, as for log tables.
    auto hash = HashBucketAssigner::Create(info.schema().RowType(), info.pk_bucket_keys(),
                                           *TableLakeFormat(info), 7);
    ASSERT_TRUE(hash.ok());
    for (int32_t shop = 0; shop < 20; ++shop) {
      const GenericRow row = Order(shop, shop * 1000003LL, "x", 1);
      const GenericRow key = {row[0], row[1]};
      ByteBuffer row_key, lookup_key;
      ASSERT_TRUE((*writer)->EncodeKey(row, &row_key).ok());
      ASSERT_TRUE((*lookup)->EncodeKey(key, &lookup_key).ok());
      EXPECT_EQ(row_key, lookup_key);
      auto row_bucket = (*writer)->Bucket(row, ByteView(row_key));
      auto lookup_bucket = (*lookup)->Bucket(key, ByteView(lookup_key));
      ASSERT_TRUE(row_bucket.ok() && lookup_bucket.ok());
      EXPECT_EQ(*row_bucket, *lookup_bucket);
      EXPECT_EQ(*row_bucket, *(*hash)->Assign(row, {}));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Lakes, KvKeyCodecTest,
                         ::testing::Values(CodecCase{nullptr, 1}, CodecCase{nullptr, 2},
                                           CodecCase{"paimon", 1}, CodecCase{"paimon", 2},
                                           CodecCase{"iceberg", 2}, CodecCase{"lance", 2}));

TEST(KvKeyCodec, PrefixBytesArePrefixesOfPrimaryKeys) {
  for (const char* lake : {"", "paimon"}) {
    record::Properties properties = {{"table.kv.format-version", "2"}};
    if (*lake != '\0') properties.emplace_back("table.datalake.format", lake);
    const TableInfo info = Orders({"shop"}, 5, properties);
    auto writer = KvKeyCodec::Create(info, info.schema().RowType(), info.primary_keys());
    auto prefix_type = ProjectRowType(info, {"shop"});
    ASSERT_TRUE(writer.ok() && prefix_type.ok());
    auto prefix = KvKeyCodec::Create(info, *prefix_type, {"shop"});
    ASSERT_TRUE(prefix.ok()) << prefix.status().ToString();
    for (int32_t shop : {0, 1, -5, 70000}) {
      const GenericRow row = Order(shop, 99, "x", 1);
      ByteBuffer full, part;
      ASSERT_TRUE((*writer)->EncodeKey(row, &full).ok());
      ASSERT_TRUE((*prefix)->EncodeKey(GenericRow{Datum(shop)}, &part).ok());
      EXPECT_EQ(full.substr(0, part.size()), part) << lake << " " << shop;
      EXPECT_LT(part.size(), full.size());
      EXPECT_EQ(*(*writer)->Bucket(row, ByteView(full)),
                *(*prefix)->Bucket(GenericRow{Datum(shop)}, ByteView(part)));
    }
  }
}

TEST(KvKeyCodec, RefusesLogTablesAndBadKeys) {
  TableDescriptor::Parts parts;
  Schema::Builder builder;
  builder.AddColumn("a", DataType::Int());
  parts.schema = *builder.Build();
  const TableInfo log{TablePath("db", "log"),
                      TableId(1),
                      SchemaId(1),
                      *TableDescriptor::Make(std::move(parts)),
                      0,
                      0};
  EXPECT_EQ(KvKeyCodec::Create(log, log.schema().RowType(), {"a"}).status().code(),
            ErrorCode::kNonPrimaryKeyTable);

  const TableInfo info = Orders({});
  EXPECT_EQ(ProjectRowType(info, {"nope"}).status().code(), ErrorCode::kInvalidTable);
  auto codec = KvKeyCodec::Create(info, info.schema().RowType(), info.primary_keys());
  ASSERT_TRUE(codec.ok());
  GenericRow wrong_type = Order(1, 2, "x", 3);
  wrong_type[1] = Datum("not a number");
  ByteBuffer key;
  EXPECT_EQ((*codec)->EncodeKey(wrong_type, &key).code(), ErrorCode::kCorruptRecord);

  record::Properties bad_version = {{"table.kv.format-version", "x"}};
  const TableInfo bad = Orders({}, 1, bad_version);
  EXPECT_EQ(KvKeyCodec::Create(bad, bad.schema().RowType(), bad.primary_keys()).status().code(),
            ErrorCode::kInvalidConfig);
}

// ---- the accumulator in KV mode ----

TEST(KvAccumulator, BatchesPerBucketInKvFormat) {
  const TableInfo info = Orders({"shop"}, 4);
  auto codec = KvKeyCodec::Create(info, info.schema().RowType(), info.primary_keys());
  ASSERT_TRUE(codec.ok());
  AccumulatorOptions options;
  options.table_id = info.table_id;
  options.schema_id = info.schema_id;
  options.row_type = info.schema().RowType();
  options.batch_timeout = std::chrono::hours(1);
  options.kv = AccumulatorOptions::Kv{KvFormat::kCompacted, (*codec)->key_encoder()};
  RecordAccumulator accumulator(std::move(options), std::make_unique<KvBucketAssigner>(*codec),
                                [] {});
  std::map<int32_t, int32_t> per_bucket;
  for (int32_t shop = 0; shop < 40; ++shop) {
    GenericRow row = Order(shop, shop, "item", shop);
    ASSERT_TRUE(
        accumulator.Append(row, shop % 5 == 0 ? WriteKind::kDelete : WriteKind::kUpsert).ok());
    ByteBuffer key;
    ASSERT_TRUE((*codec)->EncodeKey(row, &key).ok());
    ++per_bucket[(*codec)->Bucket(row, ByteView(key))->value()];
  }
  EXPECT_EQ(accumulator.Append(Order(1, 1, "a", 1), WriteKind::kAppend).status().code(),
            ErrorCode::kInvalidTable);

  accumulator.BeginFlush();
  auto batches = accumulator.TakeReady(BatchClock::now(), nullptr);
  accumulator.EndFlush();
  ASSERT_EQ(batches.size(), per_bucket.size());
  for (auto& batch : batches) {
    ASSERT_TRUE(batch->Seal(WriterId(3), BatchSequence(0)).ok());
    auto parsed = record::KvRecordBatch::Parse(ByteView(batch->bytes()));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_TRUE(parsed->IsValid());
    EXPECT_EQ(parsed->record_count(), per_bucket[batch->bucket().bucket.value()]);
    EXPECT_EQ(parsed->writer_id(), WriterId(3));
    accumulator.Release(*batch);
  }
}

// ---- partial-update target columns ----

TEST(TargetColumns, FollowTheJavaClientRules) {
  const TableInfo strict = Orders({});  // qty NOT NULL
  const TableInfo loose = Orders({}, 8, {}, /*qty_nullable=*/true);
  EXPECT_TRUE(ResolveTargetColumns(strict, std::nullopt)->empty());
  auto targets = ResolveTargetColumns(loose, std::vector<size_t>{0, 1, 3});
  ASSERT_TRUE(targets.ok()) << targets.status().ToString();
  EXPECT_EQ(*targets, (std::vector<int32_t>{0, 1, 3}));
  // Missing a key column, out of range, repeated, or leaving a NOT NULL column out.
  EXPECT_EQ(ResolveTargetColumns(loose, std::vector<size_t>{0, 3}).status().code(),
            ErrorCode::kInvalidTargetColumn);
  EXPECT_EQ(ResolveTargetColumns(loose, std::vector<size_t>{0, 1, 9}).status().code(),
            ErrorCode::kInvalidTargetColumn);
  EXPECT_EQ(ResolveTargetColumns(loose, std::vector<size_t>{0, 1, 1}).status().code(),
            ErrorCode::kInvalidTargetColumn);
  auto not_null = ResolveTargetColumns(strict, std::vector<size_t>{0, 1, 2});
  EXPECT_EQ(not_null.status().code(), ErrorCode::kInvalidTargetColumn);
  EXPECT_NE(not_null.status().message().find("qty"), std::string::npos);
}

// ---- stored values ----

TEST(ValueDecoder, DecodesCurrentAndOlderSchemas) {
  const Schema current = OrdersSchema(true);
  // Schema 0 had (shop, id, qty): no item, qty in another position.
  Schema::Builder old_builder;
  old_builder.AddColumn("shop", DataType::Int().NotNull());
  old_builder.AddColumn("id", DataType::BigInt().NotNull());
  old_builder.AddColumn("qty", DataType::Int());
  old_builder.PrimaryKey({"shop", "id"});
  const Schema old = *old_builder.Build();
  int fetches = 0;
  ValueDecoder decoder(current, SchemaId(1), KvFormat::kCompacted,
                       [&](SchemaId id) -> Result<Schema> {
                         ++fetches;
                         if (id == SchemaId(0)) return old;
                         return MakeError(ErrorCode::kSchemaNotExist, "no schema {}", id);
                       });
  record::CompactedRowCodec current_codec(current.FieldTypes());
  record::CompactedRowCodec old_codec(old.FieldTypes());

  ByteBuffer now = record::EncodeValue(SchemaId(1), *current_codec.Encode(Order(1, 2, "kiwi", 3)));
  auto row = decoder.Decode(ByteView(now));
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(*row, Order(1, 2, "kiwi", 3));
  EXPECT_EQ(fetches, 0);

  ByteBuffer before = record::EncodeValue(
      SchemaId(0),
      *old_codec.Encode(GenericRow{Datum(int32_t{4}), Datum(int64_t{5}), Datum(int32_t{6})}));
  for (int i = 0; i < 2; ++i) {
    row = decoder.Decode(ByteView(before));
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    EXPECT_EQ(*row, (GenericRow{Datum(int32_t{4}), Datum(int64_t{5}), Datum(), Datum(int32_t{6})}));
  }
  EXPECT_EQ(fetches, 1);  // cached

  EXPECT_EQ(decoder.Decode(ByteView("x", 1)).status().code(), ErrorCode::kCorruptRecord);
  ByteBuffer unknown = record::EncodeValue(SchemaId(7), ByteView("\0", 1));
  EXPECT_EQ(decoder.Decode(ByteView(unknown)).status().code(), ErrorCode::kSchemaNotExist);
  ByteBuffer truncated = now.substr(0, now.size() - 2);
  EXPECT_FALSE(decoder.Decode(ByteView(truncated)).ok());
}

// ---- configuration ----

TEST(LookupConfig, OptionsParseAndValidate) {
  auto config = ClientConfig::FromProperties({{"client.lookup.max-batch-size", "64"},
                                              {"client.lookup.max-inflight-requests", "8"},
                                              {"client.lookup.queue-size", "1000"},
                                              {"client.lookup.max-retries", "3"}});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->lookup_max_batch_size, 64);
  EXPECT_EQ(config->lookup_max_inflight_requests, 8);
  EXPECT_EQ(config->lookup_queue_size, 1000);
  EXPECT_EQ(config->lookup_max_retries, 3);
  EXPECT_EQ(ClientConfig::FromProperties({{"client.lookup.max-batch-size", "0"}}).status().code(),
            ErrorCode::kInvalidConfig);
}

TEST(TableInfoKv, FormatAndVersionProperties) {
  EXPECT_EQ(*Orders({}).kv_format(), KvFormat::kCompacted);
  EXPECT_EQ(*Orders({}).kv_format_version(), 1);
  EXPECT_TRUE(Orders({}).IsDefaultBucketKey());
  EXPECT_FALSE(Orders({"shop"}).IsDefaultBucketKey());
  record::Properties indexed = {{"table.kv.format", "indexed"}, {"table.kv.format-version", "2"}};
  EXPECT_EQ(*Orders({}, 1, indexed).kv_format(), KvFormat::kIndexed);
  EXPECT_EQ(*Orders({}, 1, indexed).kv_format_version(), 2);
  record::Properties bad = {{"table.kv.format", "ARROW"}};
  EXPECT_EQ(Orders({}, 1, bad).kv_format().status().code(), ErrorCode::kInvalidConfig);
}

}  // namespace
}  // namespace strom::client
