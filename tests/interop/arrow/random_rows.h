#pragma once

// Seeded generators of random Fluss row types and rows for Arrow tests (unit tests, the
// pyarrow interop tool). Every value is one the Arrow layout stores exactly, so a write/read
// round trip must give it back unchanged: TIME and TIMESTAMP values carry no digits finer
// than their precision, BINARY(n) values are exactly n bytes, decimals fit their precision.

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "record/data_type.h"
#include "record/datum.h"

namespace strom::record::arrow::testing {

/// A named ROW field.
inline DataField Field(std::string name, DataType type) {
  DataField f;
  f.name = std::move(name);
  f.type = std::move(type);
  return f;
}

/// A ROW type from (name, type) pairs.
inline DataType Row(std::vector<std::pair<std::string, DataType>> fields) {
  std::vector<DataField> out;
  for (auto& [name, type] : fields) out.push_back(Field(name, type));
  return DataType::Row(std::move(out));
}

/// Every leaf type Fluss maps to Arrow, with a spread of parameters.
inline std::vector<DataType> AllLeafTypes() {
  return {DataType::Boolean(),       DataType::TinyInt(),      DataType::SmallInt(),
          DataType::Int(),           DataType::BigInt(),       DataType::Float(),
          DataType::Double(),        DataType::Char(3),        DataType::String(),
          DataType::Binary(5),       DataType::Bytes(),        DataType::Decimal(5, 2),
          DataType::Decimal(20, 3),  DataType::Decimal(38, 10), DataType::Date(),
          DataType::Time(0),         DataType::Time(3),        DataType::Time(6),
          DataType::Time(9),         DataType::Timestamp(0),   DataType::Timestamp(3),
          DataType::Timestamp(6),    DataType::Timestamp(9),   DataType::TimestampLtz(0),
          DataType::TimestampLtz(3), DataType::TimestampLtz(6), DataType::TimestampLtz(9)};
}

/// A ROW with one column of every leaf type plus nested ARRAY, MAP and ROW columns (nested
/// two levels deep, with NOT NULL children in places).
inline DataType AllTypesRowType() {
  std::vector<DataField> fields;
  int i = 0;
  for (const DataType& t : AllLeafTypes()) {
    fields.push_back(
        Field("c" + std::to_string(i++) + "_" + std::string(TypeRootJsonName(t.root())), t));
  }
  fields.push_back(Field("arr_int", DataType::Array(DataType::Int())));
  fields.push_back(Field("arr_str_nn", DataType::Array(DataType::String().NotNull())));
  fields.push_back(Field("arr_arr", DataType::Array(DataType::Array(DataType::BigInt()))));
  fields.push_back(
      Field("map_str_int", DataType::Map(DataType::String().NotNull(), DataType::Int())));
  fields.push_back(Field("map_int_row",
                         DataType::Map(DataType::Int().NotNull(),
                                       Row({{"a", DataType::Double()}, {"b", DataType::Bytes()}}))));
  fields.push_back(Field("row", Row({{"x", DataType::Int().NotNull()},
                                     {"y", DataType::String()},
                                     {"z", DataType::Array(DataType::Timestamp(6))}})));
  fields.push_back(Field(
      "row_nn",
      Row({{"m", DataType::Map(DataType::BigInt().NotNull(), DataType::Decimal(10, 2))},
           {"t", DataType::Time(3)}})
          .NotNull()));
  fields.push_back(Field("int_nn", DataType::Int().NotNull()));
  return DataType::Row(std::move(fields));
}

/// Random rows and types from one seeded engine.
class RandomData {
 public:
  explicit RandomData(uint64_t seed) : rng_(seed) {}

  std::mt19937_64& rng() { return rng_; }

  int64_t Uniform(int64_t lo, int64_t hi) {  // inclusive
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  /// A random column type; nested types down to `depth` levels.
  DataType Type(int depth) {
    int kind = static_cast<int>(Uniform(0, depth > 0 ? 9 : 6));
    DataType t;
    if (kind <= 6) {
      std::vector<DataType> leaves = AllLeafTypes();
      t = leaves[static_cast<size_t>(Uniform(0, static_cast<int64_t>(leaves.size()) - 1))];
      if (t.root() == TypeRoot::kChar) t = DataType::Char(static_cast<int32_t>(Uniform(1, 10)));
      if (t.root() == TypeRoot::kBinary) {
        t = DataType::Binary(static_cast<int32_t>(Uniform(1, 20)));
      }
      if (t.root() == TypeRoot::kDecimal) {
        int32_t p = static_cast<int32_t>(Uniform(1, 38));
        t = DataType::Decimal(p, static_cast<int32_t>(Uniform(0, p)));
      }
    } else if (kind == 7) {
      t = DataType::Array(Type(depth - 1));
    } else if (kind == 8) {
      t = DataType::Map(Type(0).NotNull(), Type(depth - 1));
    } else {
      std::vector<DataField> fields;
      int n = static_cast<int>(Uniform(1, 4));
      for (int i = 0; i < n; ++i) fields.push_back(Field("f" + std::to_string(i), Type(depth - 1)));
      t = DataType::Row(std::move(fields));
    }
    return t.WithNullable(Chance(0.8));
  }

  /// A random ROW of `columns` columns.
  DataType RowType(int columns, int depth) {
    std::vector<DataField> fields;
    for (int i = 0; i < columns; ++i) fields.push_back(Field("col" + std::to_string(i), Type(depth)));
    return DataType::Row(std::move(fields));
  }

  /// A random value of `type` (null with probability `null_chance` when nullable).
  Datum Value(const DataType& type, double null_chance = 0.15) {
    if (type.nullable() && Chance(null_chance)) return Datum();
    switch (type.root()) {
      case TypeRoot::kBoolean:
        return Chance(0.5);
      case TypeRoot::kTinyInt:
        return static_cast<int8_t>(Uniform(-128, 127));
      case TypeRoot::kSmallInt:
        return static_cast<int16_t>(Uniform(-32768, 32767));
      case TypeRoot::kInt:
        return static_cast<int32_t>(Uniform(INT32_MIN, INT32_MAX));
      case TypeRoot::kBigInt:
        return static_cast<int64_t>(rng_());
      case TypeRoot::kFloat:
        return Chance(0.1) ? 0.0f : static_cast<float>(Uniform(-1000000, 1000000)) / 64.0f;
      case TypeRoot::kDouble:
        return Chance(0.1) ? -0.0 : static_cast<double>(static_cast<int64_t>(rng_()) >> 11) / 1024.0;
      case TypeRoot::kChar:
      case TypeRoot::kString:
        return Text(static_cast<int>(Uniform(0, type.root() == TypeRoot::kChar ? type.length() : 12)));
      case TypeRoot::kBinary:
        return Bytes(static_cast<size_t>(type.length()));
      case TypeRoot::kBytes:
        return Bytes(static_cast<size_t>(Uniform(0, 16)));
      case TypeRoot::kDecimal: {
        __int128 bound = 1;
        for (int i = 0; i < type.precision(); ++i) bound *= 10;
        unsigned __int128 r = (static_cast<unsigned __int128>(rng_()) << 64) | rng_();
        __int128 v = static_cast<__int128>(r % static_cast<unsigned __int128>(bound));
        return DecimalValue{Chance(0.5) ? -v : v};
      }
      case TypeRoot::kDate:
        return static_cast<int32_t>(Uniform(-700000, 2900000));  // years 0084 .. 9909
      case TypeRoot::kTime: {
        int32_t millis = static_cast<int32_t>(Uniform(0, 86399999));
        if (type.precision() == 0) millis -= millis % 1000;
        return millis;
      }
      case TypeRoot::kTimestamp:
      case TypeRoot::kTimestampLtz: {
        // Years 1700 .. 2250 fit every unit, nanoseconds included.
        int64_t millis = Uniform(-8'520'000'000'000, 8'600'000'000'000);
        int32_t nanos = 0;
        int32_t p = type.precision();
        if (p == 0) millis -= ((millis % 1000) + 1000) % 1000;
        if (p >= 4 && p <= 6) nanos = static_cast<int32_t>(Uniform(0, 999)) * 1000;
        if (p >= 7) nanos = static_cast<int32_t>(Uniform(0, 999999));
        return TimestampValue{millis, nanos};
      }
      case TypeRoot::kArray: {
        ArrayValue a;
        int n = static_cast<int>(Uniform(0, 4));
        for (int i = 0; i < n; ++i) a.elements.push_back(Value(type.element(), null_chance));
        return a;
      }
      case TypeRoot::kMap: {
        MapValue m;
        int n = static_cast<int>(Uniform(0, 3));
        for (int i = 0; i < n; ++i) {
          m.entries.emplace_back(Value(type.key().NotNull(), 0), Value(type.value(), null_chance));
        }
        return m;
      }
      case TypeRoot::kRow: {
        RowValue r;
        for (const DataField& f : type.fields()) r.fields.push_back(Value(f.type, null_chance));
        return r;
      }
    }
    return Datum();
  }

  GenericRow Row(const DataType& row_type, double null_chance = 0.15) {
    GenericRow row;
    for (const DataField& f : row_type.fields()) row.push_back(Value(f.type, null_chance));
    return row;
  }

  std::vector<GenericRow> Rows(const DataType& row_type, int count, double null_chance = 0.15) {
    std::vector<GenericRow> rows;
    rows.reserve(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) rows.push_back(Row(row_type, null_chance));
    return rows;
  }

  /// Valid UTF-8 of `chars` code points, mixing ASCII with 2-, 3- and 4-byte sequences.
  std::string Text(int chars) {
    static const char* const kPieces[] = {"a", "Z", "0", " ", "é", "ß", "€", "中", "😀", "x"};
    std::string s;
    for (int i = 0; i < chars; ++i) s += kPieces[Uniform(0, 9)];
    return s;
  }

  std::string Bytes(size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(Uniform(0, 255));
    return s;
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace strom::record::arrow::testing
