#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "record/arrow/arrow_schema.h"
#include "record/arrow/buffer_builder.h"
#include "record/data_type.h"
#include "record/datum.h"

namespace strom::record::arrow {

/// Length and null count of one Arrow field node, as a builder reports it.
struct ArrowNodeInfo {
  int64_t length = 0;
  int64_t null_count = 0;
};

/// Builds the Arrow array of one column (and of its children for nested types) slot by slot.
///
/// Two ways to append: the typed methods of each subclass (the fast, columnar path, e.g.
/// `Int32Builder::Append(int32_t)`), or AppendDatum(), which takes the Datum alternative
/// that datum.h assigns to the column's Fluss type. Values are stored exactly as Fluss's Java
/// `ArrowFieldWriter`s store them (TIME/TIMESTAMP converted to the unit of their precision,
/// DECIMAL as 16-byte little-endian two's complement, BINARY(n) zero-padded to n bytes).
///
/// Errors: a value whose alternative does not match the type, a null in a NOT NULL column, or
/// a value that does not fit (a decimal beyond its precision, BINARY(n) longer than n, a
/// timestamp outside the unit's range, more than 2 GiB of variable-length data) returns
/// kCorruptRecord. After a failed append a nested builder may hold part of the value; call
/// Truncate(length-before-the-append) to drop it (ArrowBatchWriter does this per row).
///
/// Builders own their buffers, keep their capacity across Clear(), and are not thread-safe.
class ColumnBuilder {
 public:
  virtual ~ColumnBuilder() = default;
  ColumnBuilder(const ColumnBuilder&) = delete;
  ColumnBuilder& operator=(const ColumnBuilder&) = delete;

  const DataType& type() const { return type_; }
  /// Number of slots appended (null or not).
  int64_t length() const { return validity_.length(); }
  int64_t null_count() const { return validity_.zero_count(); }

  /// Appends one value of the column's type, or null.
  virtual Status AppendDatum(const Datum& value) = 0;

  /// Appends a null; kCorruptRecord when the type is NOT NULL.
  Status AppendNull();

  /// Keeps the first `length` slots (length <= length()) and drops the rest, including any
  /// child slots they or a partly appended value used.
  virtual void Truncate(int64_t length) = 0;

  /// Drops every slot; allocated memory is kept for reuse.
  virtual void Clear() = 0;

  /// Appends the field node of this array and of every descendant in pre-order to `nodes`,
  /// and their buffers (exact sizes, as Arrow Java reports them) to `buffers`. The views stay
  /// valid until the builder is next modified.
  virtual void Collect(std::vector<ArrowNodeInfo>* nodes, std::vector<ByteView>* buffers) const = 0;

 protected:
  explicit ColumnBuilder(DataType type) : type_(std::move(type)) {}

  /// Appends a null without the nullability check: a zero validity bit plus whatever the
  /// value buffers need for an empty slot. Used for the children of a null struct slot,
  /// which Arrow marks null whatever their declared nullability.
  void UnsafeAppendNull() {
    validity_.Append(false);
    AppendEmptySlot();
  }
  /// Fills the value buffers for a null slot (zeros, a repeated offset, null children).
  virtual void AppendEmptySlot() = 0;

  /// Pushes this node and its validity buffer.
  void CollectValidity(std::vector<ArrowNodeInfo>* nodes, std::vector<ByteView>* buffers) const {
    nodes->push_back({length(), null_count()});
    buffers->push_back(validity_.view());
  }

  /// kCorruptRecord describing a value that does not fit this column.
  Status Mismatch(const Datum& value) const;

  static void UnsafeAppendNullTo(ColumnBuilder* child) { child->UnsafeAppendNull(); }

  DataType type_;
  BitmapBuilder validity_;
};

/// BOOLEAN.
class BooleanBuilder final : public ColumnBuilder {
 public:
  explicit BooleanBuilder(DataType type) : ColumnBuilder(std::move(type)) {}
  void Append(bool value) {
    validity_.Append(true);
    values_.Append(value);
  }
  Status AppendDatum(const Datum& value) override;
  void Truncate(int64_t length) override;
  void Clear() override;
  void Collect(std::vector<ArrowNodeInfo>* nodes, std::vector<ByteView>* buffers) const override;

 private:
  void AppendEmptySlot() override { values_.Append(false); }
  BitmapBuilder values_;
};

/// TINYINT (int8_t), SMALLINT (int16_t), INT and DATE (int32_t; DATE is days since epoch),
/// BIGINT (int64_t), FLOAT (float), DOUBLE (double): stored as is.
template <typename T>
class FixedWidthBuilder final : public ColumnBuilder {
 public:
  explicit FixedWidthBuilder(DataType type) : ColumnBuilder(std::move(type)) {}
  void Append(T value) {
    validity_.Append(true);
    values_.Append(value);
  }
  Status AppendDatum(const Datum& value) override;
  void Truncate(int64_t length) override;
  void Clear() override;
  void Collect(std::vector<ArrowNodeInfo>* nodes, std::vector<ByteView>* buffers) const override;

 private:
  void AppendEmptySlot() override { values_.Append(T{}); }
  BufferBuilder values_;
};

using Int8Builder = FixedWidthBuilder<int8_t>;
using Int16Builder = FixedWidthBuilder<int16_t>;
using Int32Builder = FixedWidthBuilder<int32_t>;
using Int64Builder = FixedWidthBuilder<int64_t>;
using FloatBuilder = FixedWidthBuilder<float>;
using DoubleBuilder = FixedWidthBuilder<double>;

/// TIME(p), appended as milliseconds of the day and stored in the unit of p (Arrow Time32
/// seconds or milliseconds, Time64 microseconds or nanoseconds).
class TimeBuilder final : public ColumnBuilder {
 public:
  explicit TimeBuilder(DataType type);
  void Append(int32_t millis_of_day);
  Status AppendDatum(const Datum& value) override;
  void Truncate(int64_t length) override;
  void Clear() override;
  void Collect(std::vector<ArrowNodeInfo>* nodes, std::vector<ByteView>* buffers) const override;

 private:
  void AppendEmptySlot() override { values_.AppendZeros(width_); }
  ArrowTimeUnit unit_;
  size_t width_;
  BufferBuilder values_;
};

/// TIMESTAMP(p) and TIMESTAMP_LTZ(p): epoch milliseconds plus nanoseconds of the millisecond,
/// stored as int64 in the unit of p (seconds and milliseconds drop the finer part, as Fluss
/// does). kCorruptRecord when the value does not fit an int64 in that unit.
class TimestampBuilder final : public ColumnBuilder {
 public:
  explicit TimestampBuilder(DataType type);
  Status Append(int64_t millis, int32_t nanos_of_milli);
  Status AppendDatum(const Datum& value) override;
  void Truncate(int64_t length) override;
  void Clear() override;
  void Collect(std::vector<ArrowNodeInfo>* nodes, std::vector<ByteView>* buffers) const override;

 private:
  void AppendEmptySlot() override { values_.Append<int64_t>(0); }
  ArrowTimeUnit unit_;
  BufferBuilder values_;
};

/// DECIMAL(p, s): the unscaled value as a 16-byte little-endian two's complement integer.
/// kCorruptRecord when it has more than p digits.
class DecimalBuilder final : public ColumnBuilder {
 public:
  explicit DecimalBuilder(DataType type);
  Status Append(__int128 unscaled);
  Status AppendDatum(const Datum& value) override;
  void Truncate(int64_t length) override;
  void Clear() override;
  void Collect(std::vector<ArrowNodeInfo>* nodes, std::vector<ByteView>* buffers) const override;

 private:
  void AppendEmptySlot() override { values_.AppendZeros(16); }
  __int128 bound_;  // 10^precision
  BufferBuilder values_;
};

/// CHAR(n) and STRING (Arrow Utf8) and BYTES (Arrow Binary): int32 offsets plus data.
class BinaryBuilder final : public ColumnBuilder {
 public:
  explicit BinaryBuilder(DataType type);
  Status Append(std::string_view value);
  Status AppendDatum(const Datum& value) override;
  void Truncate(int64_t length) override;
  void Clear() override;
  void Collect(std::vector<ArrowNodeInfo>* nodes, std::vector<ByteView>* buffers) const override;

 private:
  void AppendEmptySlot() override {
    offsets_.Append(static_cast<int32_t>(data_.size()));
  }
  BufferBuilder offsets_;  // always holds length() + 1 entries
  BufferBuilder data_;
};

/// BINARY(n) (Arrow FixedSizeBinary(n)): shorter values are zero-padded to n bytes, longer
/// ones are rejected.
class FixedSizeBinaryBuilder final : public ColumnBuilder {
 public:
  explicit FixedSizeBinaryBuilder(DataType type);
  Status Append(std::string_view value);
  Status AppendDatum(const Datum& value) override;
  void Truncate(int64_t length) override;
  void Clear() override;
  void Collect(std::vector<ArrowNodeInfo>* nodes, std::vector<ByteView>* buffers) const override;

 private:
  void AppendEmptySlot() override { values_.AppendZeros(width_); }
  size_t width_;
  BufferBuilder values_;
};

/// ARRAY<T> (Arrow List with child `element`). Columnar use: append the elements of one
/// array to element(), then call FinishList().
class ListBuilder final : public ColumnBuilder {
 public:
  explicit ListBuilder(DataType type);
  ColumnBuilder* element() { return element_.get(); }
  /// Closes the array made of the elements appended since the previous array.
  Status FinishList();
  Status AppendDatum(const Datum& value) override;
  void Truncate(int64_t length) override;
  void Clear() override;
  void Collect(std::vector<ArrowNodeInfo>* nodes, std::vector<ByteView>* buffers) const override;

 private:
  void AppendEmptySlot() override { offsets_.Append(offsets_.Load<int32_t>(offsets_.size() - 4)); }
  BufferBuilder offsets_;  // always holds length() + 1 entries
  std::unique_ptr<ColumnBuilder> element_;
};

/// MAP<K, V> (Arrow Map, child struct `entries` with `key` and `value`; keys are NOT NULL).
/// Columnar use: append the same number of keys and values, then call FinishMap().
class MapBuilder final : public ColumnBuilder {
 public:
  explicit MapBuilder(DataType type);
  ColumnBuilder* key() { return key_.get(); }
  ColumnBuilder* value() { return value_.get(); }
  /// Closes the map made of the entries appended since the previous map.
  Status FinishMap();
  Status AppendDatum(const Datum& value) override;
  void Truncate(int64_t length) override;
  void Clear() override;
  void Collect(std::vector<ArrowNodeInfo>* nodes, std::vector<ByteView>* buffers) const override;

 private:
  void AppendEmptySlot() override { offsets_.Append(offsets_.Load<int32_t>(offsets_.size() - 4)); }
  BufferBuilder offsets_;        // always holds length() + 1 entries
  BitmapBuilder entries_valid_;  // validity of the entries struct: one set bit per entry
  std::unique_ptr<ColumnBuilder> key_;
  std::unique_ptr<ColumnBuilder> value_;
};

/// ROW<...> (Arrow Struct). Columnar use: append one value to every child, then call
/// FinishStruct(). A null row appends a null to every child, as Arrow Java does.
class StructBuilder final : public ColumnBuilder {
 public:
  explicit StructBuilder(DataType type);
  size_t num_children() const { return children_.size(); }
  ColumnBuilder* child(size_t i) { return children_[i].get(); }
  /// Closes one non-null row; every child must hold exactly length() + 1 slots.
  Status FinishStruct();
  Status AppendDatum(const Datum& value) override;
  void Truncate(int64_t length) override;
  void Clear() override;
  void Collect(std::vector<ArrowNodeInfo>* nodes, std::vector<ByteView>* buffers) const override;

 private:
  void AppendEmptySlot() override {
    for (auto& c : children_) UnsafeAppendNullTo(c.get());
  }
  std::vector<std::unique_ptr<ColumnBuilder>> children_;
};

/// Creates the builder for a Fluss column type (checked with CheckArrowCompatible first).
std::unique_ptr<ColumnBuilder> MakeColumnBuilder(const DataType& type);

}  // namespace strom::record::arrow
