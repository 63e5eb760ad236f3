#pragma once

// Test helpers shared by the row, key and bucketing tests of strom::record: reading the typed
// values of tests/data/fluss-golden, and generating random nested types and values. Header
// only, so that the library glob (which takes every non-test .cc) leaves it out.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "record/data_type.h"
#include "record/datum.h"
#include "testutil/golden.h"

namespace strom::record::rowtest {

/// Parses the type spellings of the golden files: INT, BIGINT, CHAR(5), DECIMAL(5,2),
/// TIME(0), TIMESTAMP(3), TIMESTAMP_LTZ(9), BINARY(4), ARRAY<INT>, ARRAY<FLOAT NOT NULL>.
class GoldenTypeParser {
 public:
  explicit GoldenTypeParser(std::string_view text) : text_(text) {}

  DataType Parse() {
    DataType type = ParseOne();
    EXPECT_EQ(pos_, text_.size()) << "trailing text in type " << text_;
    return type;
  }

 private:
  DataType ParseOne() {
    std::string name;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) ||
                                   text_[pos_] == '_')) {
      name.push_back(text_[pos_++]);
    }
    std::vector<int> args;
    if (Peek('(')) {
      ++pos_;
      while (!Peek(')')) {
        if (Peek(',') || Peek(' ')) {
          ++pos_;
          continue;
        }
        size_t used = 0;
        args.push_back(std::stoi(std::string(text_.substr(pos_)), &used));
        pos_ += used;
      }
      ++pos_;
    }
    DataType type;
    if (name == "BOOLEAN") type = DataType::Boolean();
    else if (name == "TINYINT") type = DataType::TinyInt();
    else if (name == "SMALLINT") type = DataType::SmallInt();
    else if (name == "INT") type = DataType::Int();
    else if (name == "BIGINT") type = DataType::BigInt();
    else if (name == "FLOAT") type = DataType::Float();
    else if (name == "DOUBLE") type = DataType::Double();
    else if (name == "STRING") type = DataType::String();
    else if (name == "BYTES") type = DataType::Bytes();
    else if (name == "DATE") type = DataType::Date();
    else if (name == "CHAR") type = DataType::Char(args.at(0));
    else if (name == "BINARY") type = DataType::Binary(args.at(0));
    else if (name == "DECIMAL") type = DataType::Decimal(args.at(0), args.at(1));
    else if (name == "TIME") type = DataType::Time(args.empty() ? 0 : args[0]);
    else if (name == "TIMESTAMP") type = DataType::Timestamp(args.empty() ? 6 : args[0]);
    else if (name == "TIMESTAMP_LTZ") type = DataType::TimestampLtz(args.empty() ? 6 : args[0]);
    else if (name == "ARRAY") {
      Expect('<');
      DataType element = ParseOne();
      Expect('>');
      type = DataType::Array(element);
    } else {
      ADD_FAILURE() << "unknown golden type " << text_;
    }
    if (text_.substr(pos_).starts_with(" NOT NULL")) {
      pos_ += 9;
      type = type.NotNull();
    }
    return type;
  }

  bool Peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  void Expect(char c) {
    EXPECT_TRUE(Peek(c)) << "expected '" << c << "' in " << text_;
    ++pos_;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

inline DataType GoldenType(const std::string& text) { return GoldenTypeParser(text).Parse(); }

inline __int128 ParseInt128(const std::string& text) {
  bool negative = !text.empty() && text[0] == '-';
  __int128 v = 0;
  for (size_t i = negative ? 1 : 0; i < text.size(); ++i) v = v * 10 + (text[i] - '0');
  return negative ? -v : v;
}

/// One golden JSON value as the Datum the encoders take (see the golden README table).
inline Datum GoldenValue(const DataType& type, const nlohmann::json& value) {
  if (value.is_null()) return Datum::Null();
  switch (type.root()) {
    case TypeRoot::kBoolean: return Datum(value.get<bool>());
    case TypeRoot::kTinyInt: return Datum(static_cast<int8_t>(value.get<int>()));
    case TypeRoot::kSmallInt: return Datum(static_cast<int16_t>(value.get<int>()));
    case TypeRoot::kInt:
    case TypeRoot::kDate:
    case TypeRoot::kTime: return Datum(static_cast<int32_t>(testutil::JsonInt64(value)));
    case TypeRoot::kBigInt: return Datum(testutil::JsonInt64(value));
    case TypeRoot::kFloat: {
      auto bits = static_cast<uint32_t>(std::stoul(value.at("bits").get<std::string>(), nullptr, 16));
      float f;
      std::memcpy(&f, &bits, 4);
      return Datum(f);
    }
    case TypeRoot::kDouble: {
      uint64_t bits = std::stoull(value.at("bits").get<std::string>(), nullptr, 16);
      double d;
      std::memcpy(&d, &bits, 8);
      return Datum(d);
    }
    case TypeRoot::kChar:
    case TypeRoot::kString:
      return Datum(testutil::Hex(value.at("utf8_hex").get<std::string>()));
    case TypeRoot::kBinary:
    case TypeRoot::kBytes:
      return Datum(testutil::Hex(value.get<std::string>()));
    case TypeRoot::kDecimal:
      return Datum(DecimalValue{ParseInt128(value.at("unscaled").get<std::string>())});
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz:
      return Datum(TimestampValue{testutil::JsonInt64(value.at("millis")),
                                  static_cast<int32_t>(value.at("nanos_of_milli").get<int>())});
    case TypeRoot::kArray: {
      ArrayValue array;
      for (const auto& element : value) array.elements.push_back(GoldenValue(type.element(), element));
      return Datum(std::move(array));
    }
    default:
      ADD_FAILURE() << "no golden value form for " << type.ToString();
      return Datum::Null();
  }
}

/// A golden schema (list of {name, type}) as a ROW type.
inline DataType GoldenRowType(const nlohmann::json& columns) {
  std::vector<DataField> fields;
  for (const auto& column : columns) {
    fields.push_back(DataField{column.at("name").get<std::string>(),
                               GoldenType(column.at("type").get<std::string>()), std::nullopt,
                               static_cast<int32_t>(fields.size())});
  }
  return DataType::Row(std::move(fields));
}

inline std::vector<DataType> FieldTypesOf(const DataType& row_type) {
  std::vector<DataType> types;
  for (const auto& field : row_type.fields()) types.push_back(field.type);
  return types;
}

/// Values of a golden `values` / `row_values` list.
inline GenericRow GoldenRow(const std::vector<DataType>& types, const nlohmann::json& values) {
  GenericRow row;
  EXPECT_EQ(values.size(), types.size());
  for (size_t i = 0; i < types.size() && i < values.size(); ++i) {
    row.push_back(GoldenValue(types[i], values[i].at("value")));
  }
  return row;
}

/// Readable form of a value for failure messages.
inline std::string DebugString(const Datum& d) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "null"; }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(int8_t v) const { return std::to_string(v) + "t"; }
    std::string operator()(int16_t v) const { return std::to_string(v) + "s"; }
    std::string operator()(int32_t v) const { return std::to_string(v); }
    std::string operator()(int64_t v) const { return std::to_string(v) + "L"; }
    std::string operator()(float v) const { return std::to_string(v) + "f"; }
    std::string operator()(double v) const { return std::to_string(v); }
    std::string operator()(const std::string& v) const { return "x'" + ToHex(v) + "'"; }
    std::string operator()(const DecimalValue& v) const {
      return "dec(" + std::to_string(static_cast<int64_t>(v.unscaled >> 64)) + ":" +
             std::to_string(static_cast<uint64_t>(v.unscaled)) + ")";
    }
    std::string operator()(const TimestampValue& v) const {
      return "ts(" + std::to_string(v.millis) + "," + std::to_string(v.nanos_of_milli) + ")";
    }
    std::string operator()(const ArrayValue& v) const {
      std::string s = "[";
      for (const auto& e : v.elements) s += DebugString(e) + ",";
      return s + "]";
    }
    std::string operator()(const MapValue& v) const {
      std::string s = "{";
      for (const auto& [k, val] : v.entries) s += DebugString(k) + ":" + DebugString(val) + ",";
      return s + "}";
    }
    std::string operator()(const RowValue& v) const {
      std::string s = "(";
      for (const auto& e : v.fields) s += DebugString(e) + ",";
      return s + ")";
    }
  };
  return std::visit(Visitor{}, d.v);
}

inline std::string DebugString(const GenericRow& row) {
  return DebugString(Datum(RowValue{row}));
}

/// Which row layout a value went through (they differ in what decoding gives back).
enum class Layout { kCompacted, kIndexed };

/// What decoding an encoded `value` of `type` returns: NaN inside arrays and maps becomes
/// the canonical NaN, and IndexedRow fields (not array elements) give CHAR(n) back without
/// its zero padding and BINARY(n) padded to n bytes.
inline Datum ExpectedAfterRoundTrip(const DataType& type, const Datum& value, Layout layout,
                                    bool in_array = false) {
  if (value.is_null()) return value;
  switch (type.root()) {
    case TypeRoot::kFloat:
      if (in_array && std::isnan(value.as<float>())) {
        return Datum(std::numeric_limits<float>::quiet_NaN());
      }
      return value;
    case TypeRoot::kDouble:
      if (in_array && std::isnan(value.as<double>())) {
        return Datum(std::numeric_limits<double>::quiet_NaN());
      }
      return value;
    case TypeRoot::kChar:
      if (layout == Layout::kIndexed && !in_array) {
        std::string s = value.as<std::string>();
        while (!s.empty() && s.back() == '\0') s.pop_back();
        return Datum(std::move(s));
      }
      return value;
    case TypeRoot::kBinary:
      if (layout == Layout::kIndexed && !in_array) {
        std::string s = value.as<std::string>();
        s.resize(static_cast<size_t>(type.length()), '\0');
        return Datum(std::move(s));
      }
      return value;
    case TypeRoot::kArray: {
      ArrayValue out;
      for (const auto& e : value.as<ArrayValue>().elements) {
        out.elements.push_back(ExpectedAfterRoundTrip(type.element(), e, layout, true));
      }
      return Datum(std::move(out));
    }
    case TypeRoot::kMap: {
      MapValue out;
      for (const auto& [k, v] : value.as<MapValue>().entries) {
        out.entries.emplace_back(ExpectedAfterRoundTrip(type.key(), k, layout, true),
                                 ExpectedAfterRoundTrip(type.value(), v, layout, true));
      }
      return Datum(std::move(out));
    }
    case TypeRoot::kRow: {
      RowValue out;
      const auto& fields = value.as<RowValue>().fields;
      for (size_t i = 0; i < fields.size(); ++i) {
        out.fields.push_back(
            ExpectedAfterRoundTrip(type.fields()[i].type, fields[i], layout, false));
      }
      return Datum(std::move(out));
    }
    default:
      return value;
  }
}

inline GenericRow ExpectedRow(const std::vector<DataType>& types, const GenericRow& row,
                              Layout layout) {
  GenericRow out;
  for (size_t i = 0; i < row.size(); ++i) {
    out.push_back(ExpectedAfterRoundTrip(types[i], row[i], layout));
  }
  return out;
}

/// Random types and values for round-trip tests. Deterministic for a given seed.
class RandomRows {
 public:
  explicit RandomRows(uint64_t seed) : rng_(seed) {}

  std::mt19937_64& rng() { return rng_; }

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  /// A random type; `depth` limits ARRAY/MAP/ROW nesting.
  DataType Type(int depth) {
    int pick = Uniform(0, depth > 0 ? 21 : 17);
    DataType t;
    switch (pick) {
      case 0: t = DataType::Boolean(); break;
      case 1: t = DataType::TinyInt(); break;
      case 2: t = DataType::SmallInt(); break;
      case 3: t = DataType::Int(); break;
      case 4: t = DataType::BigInt(); break;
      case 5: t = DataType::Float(); break;
      case 6: t = DataType::Double(); break;
      case 7: t = DataType::Char(Uniform(1, 12)); break;
      case 8: t = DataType::String(); break;
      case 9: t = DataType::Binary(Uniform(1, 12)); break;
      case 10: t = DataType::Bytes(); break;
      case 11: {
        int p = Uniform(1, 38);
        t = DataType::Decimal(p, Uniform(0, p));
        break;
      }
      case 12: t = DataType::Date(); break;
      case 13: t = DataType::Time(Uniform(0, 3)); break;
      case 14: t = DataType::Timestamp(Uniform(0, 9)); break;
      case 15: t = DataType::TimestampLtz(Uniform(0, 9)); break;
      case 16: t = DataType::String(); break;
      case 17: t = DataType::BigInt(); break;
      case 18: t = DataType::Array(Type(depth - 1)); break;
      case 19: t = DataType::Map(Type(depth - 1), Type(depth - 1)); break;
      default: {
        std::vector<DataField> fields;
        int n = Uniform(1, 5);
        for (int i = 0; i < n; ++i) {
          fields.push_back(DataField{"f" + std::to_string(i), Type(depth - 1), std::nullopt, i});
        }
        t = DataType::Row(std::move(fields));
        break;
      }
    }
    return Chance(0.25) ? t.NotNull() : t;
  }

  std::string Bytes(size_t max_len) {
    std::string s(static_cast<size_t>(Uniform(0, static_cast<int>(max_len))), '\0');
    for (char& c : s) c = static_cast<char>(Uniform(0, 255));
    return s;
  }

  /// A random value of `type`; nulls only where the type is nullable (or when
  /// `allow_null` is forced, as inside arrays).
  Datum Value(const DataType& type, double null_chance = 0.2) {
    if (type.nullable() && Chance(null_chance)) return Datum::Null();
    std::uniform_int_distribution<int64_t> any64;
    switch (type.root()) {
      case TypeRoot::kBoolean: return Datum(Chance(0.5));
      case TypeRoot::kTinyInt: return Datum(static_cast<int8_t>(Uniform(-128, 127)));
      case TypeRoot::kSmallInt: return Datum(static_cast<int16_t>(Uniform(-32768, 32767)));
      case TypeRoot::kInt:
      case TypeRoot::kDate: return Datum(static_cast<int32_t>(SkewedInt64()));
      case TypeRoot::kTime: return Datum(static_cast<int32_t>(Uniform(0, 86'399'999)));
      case TypeRoot::kBigInt: return Datum(SkewedInt64());
      case TypeRoot::kFloat: {
        uint32_t bits = static_cast<uint32_t>(any64(rng_));
        float f;
        std::memcpy(&f, &bits, 4);
        return Datum(Chance(0.5) ? static_cast<float>(Uniform(-1000, 1000)) / 8 : f);
      }
      case TypeRoot::kDouble: {
        uint64_t bits = static_cast<uint64_t>(any64(rng_));
        double d;
        std::memcpy(&d, &bits, 8);
        return Datum(Chance(0.5) ? static_cast<double>(Uniform(-1000, 1000)) / 8 : d);
      }
      case TypeRoot::kChar: {
        std::string s(static_cast<size_t>(Uniform(0, type.length())), 'a');
        for (char& c : s) c = static_cast<char>('a' + Uniform(0, 25));
        return Datum(std::move(s));
      }
      case TypeRoot::kBinary: return Datum(Bytes(static_cast<size_t>(type.length())));
      case TypeRoot::kString:
      case TypeRoot::kBytes: return Datum(Bytes(Chance(0.2) ? 300 : 12));
      case TypeRoot::kDecimal: {
        __int128 limit = 1;
        for (int i = 0; i < type.precision(); ++i) limit *= 10;
        auto high = static_cast<unsigned __int128>(static_cast<uint64_t>(any64(rng_)));
        auto low = static_cast<unsigned __int128>(static_cast<uint64_t>(any64(rng_)));
        auto raw = static_cast<__int128>(((high << 64) | low) >> 1);
        __int128 v = raw % limit;
        return Datum(DecimalValue{Chance(0.5) ? -v : v});
      }
      case TypeRoot::kTimestamp:
      case TypeRoot::kTimestampLtz: {
        TimestampValue ts{SkewedInt64(), 0};
        if (!type.IsCompactTimestamp()) ts.nanos_of_milli = Uniform(0, 999'999);
        return Datum(ts);
      }
      case TypeRoot::kArray: {
        ArrayValue array;
        int n = Uniform(0, Chance(0.1) ? 40 : 5);
        for (int i = 0; i < n; ++i) array.elements.push_back(Value(type.element(), 0.2));
        return Datum(std::move(array));
      }
      case TypeRoot::kMap: {
        MapValue map;
        int n = Uniform(0, 5);
        for (int i = 0; i < n; ++i) {
          map.entries.emplace_back(Value(type.key(), 0.1), Value(type.value(), 0.2));
        }
        return Datum(std::move(map));
      }
      case TypeRoot::kRow: {
        RowValue row;
        for (const auto& field : type.fields()) row.fields.push_back(Value(field.type));
        return Datum(std::move(row));
      }
    }
    return Datum::Null();
  }

 private:
  /// Small values more often than large ones, to cover every varint length.
  int64_t SkewedInt64() {
    std::uniform_int_distribution<int64_t> any64;
    int64_t v = any64(rng_);
    int shift = Uniform(0, 63);
    return Chance(0.5) ? (v >> shift) : v;
  }

  std::mt19937_64 rng_;
};

}  // namespace strom::record::rowtest
