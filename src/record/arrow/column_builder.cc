#include "record/arrow/column_builder.h"

#include <algorithm>
#include <limits>
#include <string>

namespace strom::record::arrow {

namespace {

constexpr int64_t kMaxOffset = std::numeric_limits<int32_t>::max();

std::string_view AlternativeName(const Datum& d) {
  static constexpr std::string_view kNames[] = {
      "null",   "bool",   "int8",  "int16",         "int32",          "int64",
      "float",  "double", "bytes", "DecimalValue",  "TimestampValue", "ArrayValue",
      "MapValue", "RowValue"};
  size_t i = d.v.index();
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

}  // namespace

Status ColumnBuilder::Mismatch(const Datum& value) const {
  return MakeError(ErrorCode::kCorruptRecord, "a {} value does not fit column type {}",
                   AlternativeName(value), type_.ToString());
}

Status ColumnBuilder::AppendNull() {
  if (!type_.nullable()) {
    return MakeError(ErrorCode::kCorruptRecord, "null in a column of type {}", type_.ToString());
  }
  UnsafeAppendNull();
  return Status::OK();
}

// ---- BooleanBuilder -----------------------------------------------------------------------

Status BooleanBuilder::AppendDatum(const Datum& value) {
  if (const bool* b = std::get_if<bool>(&value.v)) {
    Append(*b);
    return Status::OK();
  }
  if (value.is_null()) return AppendNull();
  return Mismatch(value);
}

void BooleanBuilder::Truncate(int64_t length) {
  validity_.Truncate(length);
  values_.Truncate(length);
}

void BooleanBuilder::Clear() {
  validity_.Clear();
  values_.Clear();
}

void BooleanBuilder::Collect(std::vector<ArrowNodeInfo>* nodes,
                             std::vector<ByteView>* buffers) const {
  CollectValidity(nodes, buffers);
  buffers->push_back(values_.view());
}

// ---- FixedWidthBuilder ----------------------------------------------------------------------

template <typename T>
Status FixedWidthBuilder<T>::AppendDatum(const Datum& value) {
  if (const T* v = std::get_if<T>(&value.v)) {
    Append(*v);
    return Status::OK();
  }
  if (value.is_null()) return AppendNull();
  return Mismatch(value);
}

template <typename T>
void FixedWidthBuilder<T>::Truncate(int64_t length) {
  validity_.Truncate(length);
  values_.Truncate(static_cast<size_t>(length) * sizeof(T));
}

template <typename T>
void FixedWidthBuilder<T>::Clear() {
  validity_.Clear();
  values_.Clear();
}

template <typename T>
void FixedWidthBuilder<T>::Collect(std::vector<ArrowNodeInfo>* nodes,
                                   std::vector<ByteView>* buffers) const {
  CollectValidity(nodes, buffers);
  buffers->push_back(values_.view());
}

template class FixedWidthBuilder<int8_t>;
template class FixedWidthBuilder<int16_t>;
template class FixedWidthBuilder<int32_t>;
template class FixedWidthBuilder<int64_t>;
template class FixedWidthBuilder<float>;
template class FixedWidthBuilder<double>;

// ---- TimeBuilder ----------------------------------------------------------------------------

TimeBuilder::TimeBuilder(DataType type)
    : ColumnBuilder(std::move(type)),
      unit_(TimeUnitForPrecision(type_.precision())),
      width_(static_cast<size_t>(FixedByteWidth(type_))) {}

void TimeBuilder::Append(int32_t millis_of_day) {
  validity_.Append(true);
  switch (unit_) {
    case ArrowTimeUnit::kSecond:
      values_.Append<int32_t>(millis_of_day / 1000);
      break;
    case ArrowTimeUnit::kMillisecond:
      values_.Append<int32_t>(millis_of_day);
      break;
    case ArrowTimeUnit::kMicrosecond:
      values_.Append<int64_t>(int64_t{millis_of_day} * 1000);
      break;
    case ArrowTimeUnit::kNanosecond:
      values_.Append<int64_t>(int64_t{millis_of_day} * 1000000);
      break;
  }
}

Status TimeBuilder::AppendDatum(const Datum& value) {
  if (const int32_t* v = std::get_if<int32_t>(&value.v)) {
    Append(*v);
    return Status::OK();
  }
  if (value.is_null()) return AppendNull();
  return Mismatch(value);
}

void TimeBuilder::Truncate(int64_t length) {
  validity_.Truncate(length);
  values_.Truncate(static_cast<size_t>(length) * width_);
}

void TimeBuilder::Clear() {
  validity_.Clear();
  values_.Clear();
}

void TimeBuilder::Collect(std::vector<ArrowNodeInfo>* nodes, std::vector<ByteView>* buffers) const {
  CollectValidity(nodes, buffers);
  buffers->push_back(values_.view());
}

// ---- TimestampBuilder -----------------------------------------------------------------------

TimestampBuilder::TimestampBuilder(DataType type)
    : ColumnBuilder(std::move(type)), unit_(TimeUnitForPrecision(type_.precision())) {}

Status TimestampBuilder::Append(int64_t millis, int32_t nanos_of_milli) {
  int64_t v = 0;
  switch (unit_) {
    case ArrowTimeUnit::kSecond:
      v = millis / 1000;  // truncation toward zero, as Fluss's writer does
      break;
    case ArrowTimeUnit::kMillisecond:
      v = millis;
      break;
    case ArrowTimeUnit::kMicrosecond:
      if (__builtin_mul_overflow(millis, int64_t{1000}, &v) ||
          __builtin_add_overflow(v, int64_t{nanos_of_milli / 1000}, &v)) {
        return MakeError(ErrorCode::kCorruptRecord, "timestamp {} ms does not fit {}", millis,
                         type_.ToString());
      }
      break;
    case ArrowTimeUnit::kNanosecond:
      if (__builtin_mul_overflow(millis, int64_t{1000000}, &v) ||
          __builtin_add_overflow(v, int64_t{nanos_of_milli}, &v)) {
        return MakeError(ErrorCode::kCorruptRecord, "timestamp {} ms does not fit {}", millis,
                         type_.ToString());
      }
      break;
  }
  validity_.Append(true);
  values_.Append<int64_t>(v);
  return Status::OK();
}

Status TimestampBuilder::AppendDatum(const Datum& value) {
  if (const TimestampValue* ts = std::get_if<TimestampValue>(&value.v)) {
    return Append(ts->millis, ts->nanos_of_milli);
  }
  if (value.is_null()) return AppendNull();
  return Mismatch(value);
}

void TimestampBuilder::Truncate(int64_t length) {
  validity_.Truncate(length);
  values_.Truncate(static_cast<size_t>(length) * 8);
}

void TimestampBuilder::Clear() {
  validity_.Clear();
  values_.Clear();
}

void TimestampBuilder::Collect(std::vector<ArrowNodeInfo>* nodes,
                               std::vector<ByteView>* buffers) const {
  CollectValidity(nodes, buffers);
  buffers->push_back(values_.view());
}

// ---- DecimalBuilder -------------------------------------------------------------------------

DecimalBuilder::DecimalBuilder(DataType type) : ColumnBuilder(std::move(type)), bound_(1) {
  for (int i = 0; i < type_.precision(); ++i) bound_ *= 10;
}

Status DecimalBuilder::Append(__int128 unscaled) {
  if (unscaled >= bound_ || unscaled <= -bound_) {
    return MakeError(ErrorCode::kCorruptRecord, "decimal value has more digits than {}",
                     type_.ToString());
  }
  validity_.Append(true);
  values_.Append<__int128>(unscaled);  // x86-64 / aarch64: little-endian two's complement
  return Status::OK();
}

Status DecimalBuilder::AppendDatum(const Datum& value) {
  if (const DecimalValue* d = std::get_if<DecimalValue>(&value.v)) return Append(d->unscaled);
  if (value.is_null()) return AppendNull();
  return Mismatch(value);
}

void DecimalBuilder::Truncate(int64_t length) {
  validity_.Truncate(length);
  values_.Truncate(static_cast<size_t>(length) * 16);
}

void DecimalBuilder::Clear() {
  validity_.Clear();
  values_.Clear();
}

void DecimalBuilder::Collect(std::vector<ArrowNodeInfo>* nodes,
                             std::vector<ByteView>* buffers) const {
  CollectValidity(nodes, buffers);
  buffers->push_back(values_.view());
}

// ---- BinaryBuilder --------------------------------------------------------------------------

BinaryBuilder::BinaryBuilder(DataType type) : ColumnBuilder(std::move(type)) {
  offsets_.Append<int32_t>(0);
}

Status BinaryBuilder::Append(std::string_view value) {
  if (static_cast<int64_t>(data_.size() + value.size()) > kMaxOffset) {
    return MakeError(ErrorCode::kCorruptRecord,
                     "more than 2 GiB of variable-length data in one Arrow column");
  }
  validity_.Append(true);
  data_.AppendBytes(value.data(), value.size());
  offsets_.Append(static_cast<int32_t>(data_.size()));
  return Status::OK();
}

Status BinaryBuilder::AppendDatum(const Datum& value) {
  if (const std::string* s = std::get_if<std::string>(&value.v)) return Append(*s);
  if (value.is_null()) return AppendNull();
  return Mismatch(value);
}

void BinaryBuilder::Truncate(int64_t length) {
  validity_.Truncate(length);
  size_t entries = static_cast<size_t>(length + 1) * 4;
  offsets_.Truncate(entries);
  data_.Truncate(static_cast<size_t>(offsets_.Load<int32_t>(entries - 4)));
}

void BinaryBuilder::Clear() {
  validity_.Clear();
  offsets_.Clear();
  offsets_.Append<int32_t>(0);
  data_.Clear();
}

void BinaryBuilder::Collect(std::vector<ArrowNodeInfo>* nodes,
                            std::vector<ByteView>* buffers) const {
  CollectValidity(nodes, buffers);
  // Arrow Java emits an empty offsets buffer for an empty vector; so do we.
  buffers->push_back(length() == 0 ? ByteView() : offsets_.view());
  buffers->push_back(data_.view());
}

// ---- FixedSizeBinaryBuilder -----------------------------------------------------------------

FixedSizeBinaryBuilder::FixedSizeBinaryBuilder(DataType type)
    : ColumnBuilder(std::move(type)), width_(static_cast<size_t>(type_.length())) {}

Status FixedSizeBinaryBuilder::Append(std::string_view value) {
  if (value.size() > width_) {
    return MakeError(ErrorCode::kCorruptRecord, "{} bytes do not fit {}", value.size(),
                     type_.ToString());
  }
  validity_.Append(true);
  values_.AppendBytes(value.data(), value.size());
  values_.AppendZeros(width_ - value.size());
  return Status::OK();
}

Status FixedSizeBinaryBuilder::AppendDatum(const Datum& value) {
  if (const std::string* s = std::get_if<std::string>(&value.v)) return Append(*s);
  if (value.is_null()) return AppendNull();
  return Mismatch(value);
}

void FixedSizeBinaryBuilder::Truncate(int64_t length) {
  validity_.Truncate(length);
  values_.Truncate(static_cast<size_t>(length) * width_);
}

void FixedSizeBinaryBuilder::Clear() {
  validity_.Clear();
  values_.Clear();
}

void FixedSizeBinaryBuilder::Collect(std::vector<ArrowNodeInfo>* nodes,
                                     std::vector<ByteView>* buffers) const {
  CollectValidity(nodes, buffers);
  buffers->push_back(values_.view());
}

// ---- ListBuilder ----------------------------------------------------------------------------

ListBuilder::ListBuilder(DataType type)
    : ColumnBuilder(std::move(type)), element_(MakeColumnBuilder(type_.element())) {
  offsets_.Append<int32_t>(0);
}

Status ListBuilder::FinishList() {
  if (element_->length() > kMaxOffset) {
    return MakeError(ErrorCode::kCorruptRecord, "more than 2^31 array elements in one column");
  }
  validity_.Append(true);
  offsets_.Append(static_cast<int32_t>(element_->length()));
  return Status::OK();
}

Status ListBuilder::AppendDatum(const Datum& value) {
  if (const ArrayValue* a = std::get_if<ArrayValue>(&value.v)) {
    for (const Datum& e : a->elements) STROM_RETURN_IF_ERROR(element_->AppendDatum(e));
    return FinishList();
  }
  if (value.is_null()) return AppendNull();
  return Mismatch(value);
}

void ListBuilder::Truncate(int64_t length) {
  validity_.Truncate(length);
  size_t entries = static_cast<size_t>(length + 1) * 4;
  offsets_.Truncate(entries);
  element_->Truncate(offsets_.Load<int32_t>(entries - 4));
}

void ListBuilder::Clear() {
  validity_.Clear();
  offsets_.Clear();
  offsets_.Append<int32_t>(0);
  element_->Clear();
}

void ListBuilder::Collect(std::vector<ArrowNodeInfo>* nodes,
                          std::vector<ByteView>* buffers) const {
  CollectValidity(nodes, buffers);
  buffers->push_back(length() == 0 ? ByteView() : offsets_.view());
  element_->Collect(nodes, buffers);
}

// ---- MapBuilder -----------------------------------------------------------------------------

MapBuilder::MapBuilder(DataType type)
    : ColumnBuilder(std::move(type)),
      key_(MakeColumnBuilder(type_.key().NotNull())),
      value_(MakeColumnBuilder(type_.value())) {
  offsets_.Append<int32_t>(0);
}

Status MapBuilder::FinishMap() {
  int64_t end = key_->length();
  if (value_->length() != end) {
    return MakeError(ErrorCode::kCorruptRecord, "map has {} keys but {} values", end,
                     value_->length());
  }
  if (end > kMaxOffset) {
    return MakeError(ErrorCode::kCorruptRecord, "more than 2^31 map entries in one column");
  }
  entries_valid_.AppendOnes(end - entries_valid_.length());
  validity_.Append(true);
  offsets_.Append(static_cast<int32_t>(end));
  return Status::OK();
}

Status MapBuilder::AppendDatum(const Datum& value) {
  if (const MapValue* m = std::get_if<MapValue>(&value.v)) {
    for (const auto& [k, v] : m->entries) {
      STROM_RETURN_IF_ERROR(key_->AppendDatum(k));
      STROM_RETURN_IF_ERROR(value_->AppendDatum(v));
    }
    return FinishMap();
  }
  if (value.is_null()) return AppendNull();
  return Mismatch(value);
}

void MapBuilder::Truncate(int64_t length) {
  validity_.Truncate(length);
  size_t entries = static_cast<size_t>(length + 1) * 4;
  offsets_.Truncate(entries);
  int64_t end = offsets_.Load<int32_t>(entries - 4);
  entries_valid_.Truncate(std::min(end, entries_valid_.length()));
  key_->Truncate(end);
  value_->Truncate(std::min(end, value_->length()));
}

void MapBuilder::Clear() {
  validity_.Clear();
  offsets_.Clear();
  offsets_.Append<int32_t>(0);
  entries_valid_.Clear();
  key_->Clear();
  value_->Clear();
}

void MapBuilder::Collect(std::vector<ArrowNodeInfo>* nodes, std::vector<ByteView>* buffers) const {
  CollectValidity(nodes, buffers);
  buffers->push_back(length() == 0 ? ByteView() : offsets_.view());
  nodes->push_back({entries_valid_.length(), 0});
  buffers->push_back(entries_valid_.view());
  key_->Collect(nodes, buffers);
  value_->Collect(nodes, buffers);
}

// ---- StructBuilder --------------------------------------------------------------------------

StructBuilder::StructBuilder(DataType type) : ColumnBuilder(std::move(type)) {
  children_.reserve(type_.fields().size());
  for (const DataField& f : type_.fields()) children_.push_back(MakeColumnBuilder(f.type));
}

Status StructBuilder::FinishStruct() {
  for (const auto& c : children_) {
    if (c->length() != length() + 1) {
      return MakeError(ErrorCode::kCorruptRecord,
                       "struct child of type {} holds {} slots, expected {}",
                       c->type().ToString(), c->length(), length() + 1);
    }
  }
  validity_.Append(true);
  return Status::OK();
}

Status StructBuilder::AppendDatum(const Datum& value) {
  if (const RowValue* r = std::get_if<RowValue>(&value.v)) {
    if (r->fields.size() != children_.size()) {
      return MakeError(ErrorCode::kCorruptRecord, "row value has {} fields, {} has {}",
                       r->fields.size(), type_.ToString(), children_.size());
    }
    for (size_t i = 0; i < children_.size(); ++i) {
      STROM_RETURN_IF_ERROR(children_[i]->AppendDatum(r->fields[i]));
    }
    validity_.Append(true);
    return Status::OK();
  }
  if (value.is_null()) return AppendNull();
  return Mismatch(value);
}

void StructBuilder::Truncate(int64_t length) {
  validity_.Truncate(length);
  for (auto& c : children_) c->Truncate(std::min(length, c->length()));
}

void StructBuilder::Clear() {
  validity_.Clear();
  for (auto& c : children_) c->Clear();
}

void StructBuilder::Collect(std::vector<ArrowNodeInfo>* nodes,
                            std::vector<ByteView>* buffers) const {
  CollectValidity(nodes, buffers);
  for (const auto& c : children_) c->Collect(nodes, buffers);
}

// ---- factory --------------------------------------------------------------------------------

std::unique_ptr<ColumnBuilder> MakeColumnBuilder(const DataType& type) {
  switch (type.root()) {
    case TypeRoot::kBoolean:
      return std::make_unique<BooleanBuilder>(type);
    case TypeRoot::kTinyInt:
      return std::make_unique<Int8Builder>(type);
    case TypeRoot::kSmallInt:
      return std::make_unique<Int16Builder>(type);
    case TypeRoot::kInt:
    case TypeRoot::kDate:
      return std::make_unique<Int32Builder>(type);
    case TypeRoot::kBigInt:
      return std::make_unique<Int64Builder>(type);
    case TypeRoot::kFloat:
      return std::make_unique<FloatBuilder>(type);
    case TypeRoot::kDouble:
      return std::make_unique<DoubleBuilder>(type);
    case TypeRoot::kTime:
      return std::make_unique<TimeBuilder>(type);
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz:
      return std::make_unique<TimestampBuilder>(type);
    case TypeRoot::kDecimal:
      return std::make_unique<DecimalBuilder>(type);
    case TypeRoot::kChar:
    case TypeRoot::kString:
    case TypeRoot::kBytes:
      return std::make_unique<BinaryBuilder>(type);
    case TypeRoot::kBinary:
      return std::make_unique<FixedSizeBinaryBuilder>(type);
    case TypeRoot::kArray:
      return std::make_unique<ListBuilder>(type);
    case TypeRoot::kMap:
      return std::make_unique<MapBuilder>(type);
    case TypeRoot::kRow:
      return std::make_unique<StructBuilder>(type);
  }
  return nullptr;
}

}  // namespace strom::record::arrow
