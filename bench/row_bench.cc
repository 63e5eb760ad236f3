// CompactedRow (and IndexedRow) encode/decode of a 10-column row: INT, BIGINT, STRING, DOUBLE,
// BOOLEAN, TIMESTAMP_LTZ(3), DECIMAL(10,2), DATE, SMALLINT, FLOAT. Reports rows/s; encoding
// reuses one output buffer and decoding one GenericRow, as a batch builder or reader would.
// Also the compacted key encoder plus bucket function, the per-record path of a writer.

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "record/bucketing.h"
#include "record/compacted_row.h"
#include "record/indexed_row.h"
#include "record/key_encoder.h"

namespace strom::record {
namespace {

constexpr int kRows = 1024;

std::vector<DataType> TenColumns() {
  return {DataType::Int().NotNull(), DataType::BigInt(),          DataType::String(),
          DataType::Double(),        DataType::Boolean(),         DataType::TimestampLtz(3),
          DataType::Decimal(10, 2),  DataType::Date(),            DataType::SmallInt(),
          DataType::Float()};
}

std::vector<GenericRow> MakeRows() {
  std::mt19937_64 rng(42);
  std::vector<GenericRow> rows;
  rows.reserve(kRows);
  for (int i = 0; i < kRows; ++i) {
    GenericRow row;
    row.reserve(10);
    row.emplace_back(static_cast<int32_t>(i));
    row.emplace_back(static_cast<int64_t>(rng() % 10'000'000'000ULL));
    row.emplace_back("user-" + std::to_string(rng() % 5000));
    row.emplace_back(static_cast<double>(rng() % 10000) / 100.0);
    row.emplace_back(rng() % 2 == 0);
    row.emplace_back(TimestampValue{1748662955428 + i * 7, 0});
    row.emplace_back(DecimalValue{static_cast<int64_t>(rng() % 1'000'000)});
    if (i % 5 == 0) {
      row.emplace_back(Datum::Null());
    } else {
      row.emplace_back(static_cast<int32_t>(20000 + rng() % 30));
    }
    row.emplace_back(static_cast<int16_t>(rng() % 1000));
    row.emplace_back(static_cast<float>(rng() % 1000) / 7.0f);
    rows.push_back(std::move(row));
  }
  return rows;
}

template <typename Codec>
void EncodeRows(benchmark::State& state) {
  Codec codec(TenColumns());
  std::vector<GenericRow> rows = MakeRows();
  ByteBuffer buffer;
  size_t bytes = 0;
  for (auto _ : state) {
    for (const auto& row : rows) {
      buffer.clear();
      if (!codec.Encode(row, &buffer).ok()) state.SkipWithError("encode failed");
      bytes += buffer.size();
    }
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

template <typename Codec>
void DecodeRows(benchmark::State& state) {
  Codec codec(TenColumns());
  std::vector<ByteBuffer> encoded;
  size_t total = 0;
  for (const auto& row : MakeRows()) {
    encoded.push_back(*codec.Encode(row));
    total += encoded.back().size();
  }
  GenericRow row;
  for (auto _ : state) {
    for (const auto& bytes : encoded) {
      if (!codec.DecodeInto(bytes, &row).ok()) state.SkipWithError("decode failed");
    }
    benchmark::DoNotOptimize(row.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * total));
}

void BM_CompactedRowEncode(benchmark::State& state) { EncodeRows<CompactedRowCodec>(state); }
void BM_CompactedRowDecode(benchmark::State& state) { DecodeRows<CompactedRowCodec>(state); }
void BM_IndexedRowEncode(benchmark::State& state) { EncodeRows<IndexedRowCodec>(state); }
void BM_IndexedRowDecode(benchmark::State& state) { DecodeRows<IndexedRowCodec>(state); }

void BM_KeyEncodeAndBucket(benchmark::State& state) {
  std::vector<DataField> fields;
  for (const auto& type : TenColumns()) {
    fields.push_back(DataField{"c" + std::to_string(fields.size()), type, std::nullopt,
                               static_cast<int32_t>(fields.size())});
  }
  auto encoder = KeyEncoder::Create(KeyEncoding::kCompacted, DataType::Row(fields), {"c0", "c2"});
  BucketingFunction bucketing(DataLakeFormat::kNone);
  std::vector<GenericRow> rows = MakeRows();
  ByteBuffer key;
  int64_t sum = 0;
  for (auto _ : state) {
    for (const auto& row : rows) {
      key.clear();
      if (!(*encoder)->Encode(row, &key).ok()) state.SkipWithError("key encode failed");
      sum += bucketing.Bucket(key, 16).value_or(0);
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * kRows);
}

BENCHMARK(BM_CompactedRowEncode);
BENCHMARK(BM_CompactedRowDecode);
BENCHMARK(BM_IndexedRowEncode);
BENCHMARK(BM_IndexedRowDecode);
BENCHMARK(BM_KeyEncodeAndBucket);

}  // namespace
}  // namespace strom::record
