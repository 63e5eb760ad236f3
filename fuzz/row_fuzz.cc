// Fuzzes the CompactedRow and IndexedRow decoders (and through them BinaryArray/BinaryMap).
//
// Input: byte 0 picks the schema (bits 1..) and the row format (bit 0); the rest is the row.
// Decoding must never crash or read out of bounds. When it succeeds and the value re-encodes,
// encoding is idempotent from there on: decode(encode(v)) re-encodes to the same bytes
// (the first pass may legitimately change bytes, e.g. canonical NaN in arrays, CHAR padding).
// Decoded rows are also pushed through the compacted key encoder and the bucket functions.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "record/bucketing.h"
#include "record/compacted_row.h"
#include "record/data_type.h"
#include "record/indexed_row.h"
#include "record/key_encoder.h"

namespace {

using strom::ByteBuffer;
using strom::ByteView;
using strom::Status;
using namespace strom::record;  // NOLINT: a fuzz driver, not library code.

DataField Field(const char* name, DataType type) {
  return DataField{name, std::move(type), std::nullopt, -1};
}

std::vector<DataType> AllScalars() {
  return {DataType::Boolean(),          DataType::TinyInt(),        DataType::SmallInt(),
          DataType::Int(),              DataType::BigInt(),         DataType::Float(),
          DataType::Double(),           DataType::Char(5),          DataType::String(),
          DataType::Binary(4),          DataType::Bytes(),          DataType::Decimal(5, 2),
          DataType::Decimal(20, 3),     DataType::Date(),           DataType::Time(0),
          DataType::Timestamp(3),       DataType::Timestamp(9),     DataType::TimestampLtz(3),
          DataType::TimestampLtz(9)};
}

std::vector<DataType> Nested() {
  DataType inner = DataType::Row({Field("x", DataType::Char(3)), Field("y", DataType::Binary(2))});
  return {DataType::Int().NotNull(),
          DataType::Array(DataType::String()),
          DataType::Map(DataType::Int(), DataType::Array(DataType::Decimal(25, 3))),
          DataType::Row({Field("a", DataType::Timestamp(9)),
                         Field("b", DataType::Array(inner)),
                         Field("c", DataType::Map(DataType::String(), inner))})};
}

std::vector<DataType> KeyLike() {
  return {DataType::Int().NotNull(), DataType::String().NotNull(), DataType::Double()};
}

std::vector<DataType> DeepArrays() {
  return {DataType::Array(DataType::Array(DataType::BigInt())),
          DataType::Map(DataType::String(), DataType::String()),
          DataType::Array(DataType::Float().NotNull()),
          DataType::Array(DataType::TimestampLtz(6)),
          DataType::Array(DataType::Boolean())};
}

const std::vector<std::vector<DataType>>& Schemas() {
  static const auto* schemas =
      new std::vector<std::vector<DataType>>{AllScalars(), Nested(), KeyLike(), DeepArrays()};
  return *schemas;
}

Status Encode(bool indexed, const std::vector<DataType>& types, const GenericRow& row,
              ByteBuffer* out) {
  return indexed ? AppendIndexedRow(types, row, out) : AppendCompactedRow(types, row, out);
}

Status Decode(bool indexed, const std::vector<DataType>& types, ByteView bytes,
              GenericRow* row) {
  return indexed ? DecodeIndexedRow(types, bytes, row) : DecodeCompactedRow(types, bytes, row);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool indexed = (data[0] & 1) != 0;
  const auto& types = Schemas()[(data[0] >> 1) % Schemas().size()];
  ByteView bytes(reinterpret_cast<const char*>(data + 1), size - 1);

  GenericRow row;
  if (!Decode(indexed, types, bytes, &row).ok()) return 0;

  ByteBuffer first;
  if (!Encode(indexed, types, row, &first).ok()) return 0;  // e.g. a null bit on NOT NULL
  GenericRow again;
  if (!Decode(indexed, types, first, &again).ok()) std::abort();
  ByteBuffer second;
  if (!Encode(indexed, types, again, &second).ok() || second != first) std::abort();

  std::vector<DataField> fields;
  for (size_t i = 0; i < types.size(); ++i) {
    fields.push_back(
        DataField{"c" + std::to_string(i), types[i], std::nullopt, static_cast<int32_t>(i)});
  }
  auto encoder = KeyEncoder::Create(KeyEncoding::kCompacted, DataType::Row(fields), {"c0"});
  if (encoder.ok()) {
    ByteBuffer key;
    if ((*encoder)->Encode(row, &key).ok() && !key.empty()) {
      for (DataLakeFormat lake : {DataLakeFormat::kNone, DataLakeFormat::kPaimon,
                                  DataLakeFormat::kIceberg}) {
        auto bucket = BucketingFunction(lake).Bucket(key, 7);
        if (!bucket.ok() || *bucket < 0 || *bucket >= 7) std::abort();
      }
    }
  }
  return 0;
}
