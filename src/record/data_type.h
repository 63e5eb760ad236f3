#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strom::record {

/// The type roots of Fluss 0.9 (`DataTypeRoot`).
enum class TypeRoot : uint8_t {
  kBoolean,
  kTinyInt,
  kSmallInt,
  kInt,
  kBigInt,
  kFloat,
  kDouble,
  kChar,
  kString,
  kBinary,
  kBytes,
  kDecimal,
  kDate,
  kTime,
  kTimestamp,     // TIMESTAMP(p) WITHOUT TIME ZONE
  kTimestampLtz,  // TIMESTAMP(p) WITH LOCAL TIME ZONE
  kArray,
  kMap,
  kRow,
};

struct DataField;

/// A Fluss logical type: root, nullability and parameters, with children for nested types.
///
/// A value type, cheap enough to copy for schemas (nested types are rare and small).
/// Parameters: `length` for CHAR/BINARY, `precision`/`scale` for DECIMAL, `precision` for
/// TIME/TIMESTAMP/TIMESTAMP_LTZ. ARRAY has one child (element), MAP two (key, value), ROW one
/// field per nested column.
class DataType {
 public:
  DataType() = default;
  // Defined after DataField: inline bodies below would otherwise make clang instantiate
  // std::vector<DataField>'s destructor while DataField is still incomplete.
  ~DataType();
  DataType(const DataType& other);
  DataType(DataType&& other) noexcept;
  DataType& operator=(const DataType& other);
  DataType& operator=(DataType&& other) noexcept;

  static DataType Boolean() { return DataType(TypeRoot::kBoolean); }
  static DataType TinyInt() { return DataType(TypeRoot::kTinyInt); }
  static DataType SmallInt() { return DataType(TypeRoot::kSmallInt); }
  static DataType Int() { return DataType(TypeRoot::kInt); }
  static DataType BigInt() { return DataType(TypeRoot::kBigInt); }
  static DataType Float() { return DataType(TypeRoot::kFloat); }
  static DataType Double() { return DataType(TypeRoot::kDouble); }
  static DataType Char(int32_t length) { return DataType(TypeRoot::kChar, length); }
  static DataType String() { return DataType(TypeRoot::kString); }
  static DataType Binary(int32_t length) { return DataType(TypeRoot::kBinary, length); }
  static DataType Bytes() { return DataType(TypeRoot::kBytes); }
  static DataType Decimal(int32_t precision, int32_t scale) {
    return DataType(TypeRoot::kDecimal, 0, precision, scale);
  }
  static DataType Date() { return DataType(TypeRoot::kDate); }
  static DataType Time(int32_t precision = 0) { return DataType(TypeRoot::kTime, 0, precision); }
  static DataType Timestamp(int32_t precision = 6) {
    return DataType(TypeRoot::kTimestamp, 0, precision);
  }
  static DataType TimestampLtz(int32_t precision = 6) {
    return DataType(TypeRoot::kTimestampLtz, 0, precision);
  }
  static DataType Array(DataType element);
  static DataType Map(DataType key, DataType value);
  static DataType Row(std::vector<DataField> fields);

  TypeRoot root() const { return root_; }
  bool nullable() const { return nullable_; }
  int32_t length() const { return length_; }
  int32_t precision() const { return precision_; }
  int32_t scale() const { return scale_; }

  /// Copies with a different nullability.
  DataType WithNullable(bool nullable) const {
    DataType copy = *this;
    copy.nullable_ = nullable;
    return copy;
  }
  DataType NotNull() const { return WithNullable(false); }

  /// ARRAY element type.
  const DataType& element() const { return children_[0]; }
  /// MAP key and value types.
  const DataType& key() const { return children_[0]; }
  const DataType& value() const { return children_[1]; }
  /// ROW fields.
  const std::vector<DataField>& fields() const { return fields_; }

  /// DECIMAL values with precision <= 18 fit an int64 unscaled value.
  bool IsCompactDecimal() const { return precision_ <= 18; }
  /// TIMESTAMP/TIMESTAMP_LTZ with precision <= 3 store only milliseconds.
  bool IsCompactTimestamp() const { return precision_ <= 3; }

  /// Fluss's SQL-like spelling, e.g. "DECIMAL(10, 2) NOT NULL", "ARRAY<INT>".
  std::string ToString() const;

  friend bool operator==(const DataType& a, const DataType& b);

 private:
  explicit DataType(TypeRoot root, int32_t length = 0, int32_t precision = 0, int32_t scale = 0);

  TypeRoot root_ = TypeRoot::kInt;
  bool nullable_ = true;
  int32_t length_ = 0;
  int32_t precision_ = 0;
  int32_t scale_ = 0;
  std::vector<DataType> children_;
  std::vector<DataField> fields_;
};

/// A named field of a ROW type.
struct DataField {
  std::string name;
  DataType type;
  std::optional<std::string> description;
  int32_t field_id = -1;

  friend bool operator==(const DataField& a, const DataField& b) = default;
};

inline DataType::DataType(TypeRoot root, int32_t length, int32_t precision, int32_t scale)
    : root_(root), length_(length), precision_(precision), scale_(scale) {}
inline DataType::~DataType() = default;
inline DataType::DataType(const DataType& other) = default;
inline DataType::DataType(DataType&& other) noexcept = default;
inline DataType& DataType::operator=(const DataType& other) = default;
inline DataType& DataType::operator=(DataType&& other) noexcept = default;

/// Name of a type root as written in Fluss's type JSON ("INTEGER", "TIME_WITHOUT_TIME_ZONE").
std::string_view TypeRootJsonName(TypeRoot root);

/// True for the roots whose IndexedRow encoding is variable-length by type.
bool IsVariableLengthInIndexedRow(const DataType& type);

}  // namespace strom::record
