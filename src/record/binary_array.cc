#include "record/binary_array.h"

#include <limits>

#include "record/compacted_row.h"
#include "record/detail/row_codec_util.h"
#include "record/indexed_row.h"

namespace strom::record {
namespace {

using detail::As;
using detail::CorruptRow;
using detail::ValueMismatch;

constexpr uint64_t kInlineMark = uint64_t{0x80} << 56;
constexpr size_t kMaxInline = 7;
constexpr uint64_t kMaxOffset = static_cast<uint64_t>(std::numeric_limits<int32_t>::max());

int64_t RoundUpTo8(int64_t n) { return (n + 7) & ~int64_t{7}; }

/// Writes one array into `out`: the fixed part first, then variable-length items appended
/// behind it. Offsets are relative to the array start and patched into slots by index, so
/// the buffer may grow (and move) while nested values are appended.
class ArrayWriter {
 public:
  ArrayWriter(const DataType& element_type, BinaryRowFormat nested_format, ByteBuffer* out)
      : type_(element_type), nested_format_(nested_format), out_(out) {}

  template <typename ElementAt>
  Status Write(size_t count, ElementAt element_at) {
    base_ = out_->size();
    width_ = BinaryArray::ElementWidth(type_);
    int64_t header = BinaryArray::HeaderSize(static_cast<int64_t>(count));
    int64_t fixed = RoundUpTo8(header + width_ * static_cast<int64_t>(count));
    if (count > kMaxOffset || static_cast<uint64_t>(fixed) > kMaxOffset) {
      return CorruptRow("array of {} elements is too large", count);
    }
    slots_at_ = base_ + static_cast<size_t>(header);
    out_->append(static_cast<size_t>(fixed), '\0');
    detail::StoreFixed(static_cast<int32_t>(count), out_->data() + base_);
    for (size_t i = 0; i < count; ++i) {
      const Datum& element = element_at(i);
      if (element.is_null()) {
        detail::BitSet(out_->data() + base_ + 4, i);
        continue;
      }
      STROM_RETURN_IF_ERROR(WriteElement(element, i));
    }
    return Status::OK();
  }

 private:
  char* Slot(size_t i) { return out_->data() + slots_at_ + i * width_; }

  void SetSlot(size_t i, uint64_t v) { detail::StoreFixed(v, Slot(i)); }

  /// Pads the variable part to 8 bytes and stores (offset << 32) | low in slot `i`.
  Status FinishVariable(size_t i, size_t offset, uint64_t low) {
    size_t length = out_->size() - base_ - offset;
    out_->append(static_cast<size_t>(RoundUpTo8(length)) - length, '\0');
    if (offset > kMaxOffset || length > kMaxOffset || out_->size() - base_ > kMaxOffset) {
      return CorruptRow("array exceeds {} bytes", kMaxOffset);
    }
    SetSlot(i, (static_cast<uint64_t>(offset) << 32) | low);
    return Status::OK();
  }

  Status WriteBytes(const std::string& v, size_t i) {
    if (v.size() <= kMaxInline) {
      uint64_t slot = 0;
      for (size_t k = 0; k < v.size(); ++k) {
        slot |= static_cast<uint64_t>(static_cast<uint8_t>(v[k])) << (8 * k);
      }
      slot |= (uint64_t{0x80} | v.size()) << 56;
      SetSlot(i, slot);
      return Status::OK();
    }
    size_t offset = out_->size() - base_;
    out_->append(v);
    return FinishVariable(i, offset, v.size());
  }

  Status WriteElement(const Datum& element, size_t i) {
    switch (type_.root()) {
      case TypeRoot::kBoolean: {
        const bool* v = As<bool>(element);
        if (!v) return ValueMismatch(type_, element, i);
        *Slot(i) = *v ? 1 : 0;
        return Status::OK();
      }
      case TypeRoot::kTinyInt: {
        const int8_t* v = As<int8_t>(element);
        if (!v) return ValueMismatch(type_, element, i);
        *Slot(i) = static_cast<char>(*v);
        return Status::OK();
      }
      case TypeRoot::kSmallInt: {
        const int16_t* v = As<int16_t>(element);
        if (!v) return ValueMismatch(type_, element, i);
        detail::StoreFixed(*v, Slot(i));
        return Status::OK();
      }
      case TypeRoot::kInt:
      case TypeRoot::kDate:
      case TypeRoot::kTime: {
        const int32_t* v = As<int32_t>(element);
        if (!v) return ValueMismatch(type_, element, i);
        detail::StoreFixed(*v, Slot(i));
        return Status::OK();
      }
      case TypeRoot::kBigInt: {
        const int64_t* v = As<int64_t>(element);
        if (!v) return ValueMismatch(type_, element, i);
        detail::StoreFixed(*v, Slot(i));
        return Status::OK();
      }
      case TypeRoot::kFloat: {
        const float* v = As<float>(element);
        if (!v) return ValueMismatch(type_, element, i);
        detail::StoreFixed(detail::CanonicalNan(*v), Slot(i));
        return Status::OK();
      }
      case TypeRoot::kDouble: {
        const double* v = As<double>(element);
        if (!v) return ValueMismatch(type_, element, i);
        detail::StoreFixed(detail::CanonicalNan(*v), Slot(i));
        return Status::OK();
      }
      case TypeRoot::kChar:
      case TypeRoot::kString:
      case TypeRoot::kBinary:
      case TypeRoot::kBytes: {
        const std::string* v = As<std::string>(element);
        if (!v) return ValueMismatch(type_, element, i);
        return WriteBytes(*v, i);
      }
      case TypeRoot::kDecimal: {
        const DecimalValue* v = As<DecimalValue>(element);
        if (!v) return ValueMismatch(type_, element, i);
        if (type_.IsCompactDecimal()) {
          if (!detail::FitsInt64(v->unscaled)) {
            return CorruptRow("decimal element {} does not fit {}", i, type_.ToString());
          }
          SetSlot(i, static_cast<uint64_t>(static_cast<int64_t>(v->unscaled)));
          return Status::OK();
        }
        // 16 bytes are reserved whatever the length, as Java does.
        size_t offset = out_->size() - base_;
        int n = detail::DecimalByteLength(v->unscaled);
        out_->append(16, '\0');
        detail::StoreDecimalBytes(v->unscaled, out_->data() + base_ + offset);
        return FinishVariable(i, offset, static_cast<uint64_t>(n));
      }
      case TypeRoot::kTimestamp:
      case TypeRoot::kTimestampLtz: {
        const TimestampValue* v = As<TimestampValue>(element);
        if (!v) return ValueMismatch(type_, element, i);
        if (v->nanos_of_milli < 0 || v->nanos_of_milli > 999'999) {
          return CorruptRow("timestamp element {} has nanos of millisecond {}", i,
                            v->nanos_of_milli);
        }
        if (type_.IsCompactTimestamp()) {
          SetSlot(i, static_cast<uint64_t>(v->millis));
          return Status::OK();
        }
        size_t offset = out_->size() - base_;
        detail::AppendFixed(v->millis, out_);
        return FinishVariable(i, offset, static_cast<uint32_t>(v->nanos_of_milli));
      }
      case TypeRoot::kArray: {
        const ArrayValue* v = As<ArrayValue>(element);
        if (!v) return ValueMismatch(type_, element, i);
        size_t offset = out_->size() - base_;
        STROM_RETURN_IF_ERROR(BinaryArray::Append(type_.element(), *v, nested_format_, out_));
        return FinishVariable(i, offset, out_->size() - base_ - offset);
      }
      case TypeRoot::kMap: {
        const MapValue* v = As<MapValue>(element);
        if (!v) return ValueMismatch(type_, element, i);
        size_t offset = out_->size() - base_;
        STROM_RETURN_IF_ERROR(
            BinaryArray::AppendMap(type_.key(), type_.value(), *v, nested_format_, out_));
        return FinishVariable(i, offset, out_->size() - base_ - offset);
      }
      case TypeRoot::kRow: {
        const RowValue* v = As<RowValue>(element);
        if (!v) return ValueMismatch(type_, element, i);
        size_t offset = out_->size() - base_;
        std::span<const DataField> fields(type_.fields());
        STROM_RETURN_IF_ERROR(nested_format_ == BinaryRowFormat::kCompacted
                                  ? AppendCompactedRow(fields, v->fields, out_)
                                  : AppendIndexedRow(fields, v->fields, out_));
        return FinishVariable(i, offset, out_->size() - base_ - offset);
      }
    }
    return CorruptRow("unsupported element type {}", type_.ToString());
  }

  const DataType& type_;
  BinaryRowFormat nested_format_;
  ByteBuffer* out_;
  size_t base_ = 0;
  size_t slots_at_ = 0;
  int width_ = 8;
};

/// Reads one array: checks the fixed part against the buffer, then each element.
class ArrayReader {
 public:
  ArrayReader(const DataType& element_type, ByteView bytes, BinaryRowFormat nested_format)
      : type_(element_type), bytes_(bytes), nested_format_(nested_format) {}

  Status Read(ArrayValue* out) {
    if (bytes_.size() < 4) return CorruptRow("array of {} bytes has no size", bytes_.size());
    int32_t count = detail::LoadFixed<int32_t>(bytes_.data());
    if (count < 0) return CorruptRow("array has a negative size {}", count);
    int64_t header = BinaryArray::HeaderSize(count);
    width_ = BinaryArray::ElementWidth(type_);
    if (header + static_cast<int64_t>(width_) * count > static_cast<int64_t>(bytes_.size())) {
      return CorruptRow("array of {} elements does not fit {} bytes", count, bytes_.size());
    }
    slots_ = bytes_.data() + header;
    out->elements.clear();
    out->elements.resize(static_cast<size_t>(count));
    for (int32_t i = 0; i < count; ++i) {
      if (detail::BitGet(bytes_.data() + 4, i)) continue;
      STROM_RETURN_IF_ERROR(ReadElement(i, &out->elements[i]));
    }
    return Status::OK();
  }

 private:
  uint64_t SlotLong(int32_t i) const {
    return detail::LoadFixed<uint64_t>(slots_ + static_cast<size_t>(i) * width_);
  }

  /// The (offset << 32) | length item of slot `i`, checked against the array bytes.
  bool Variable(int32_t i, uint64_t length, ByteView* view) const {
    uint64_t offset = SlotLong(i) >> 32;
    if (offset > kMaxOffset || length > kMaxOffset || offset + length > bytes_.size()) {
      return false;
    }
    *view = bytes_.substr(offset, length);
    return true;
  }

  Status Bad(int32_t i) const {
    return CorruptRow("array element {} ({}) points outside the array", i, type_.ToString());
  }

  Status ReadElement(int32_t i, Datum* out) {
    const char* slot = slots_ + static_cast<size_t>(i) * width_;
    switch (type_.root()) {
      case TypeRoot::kBoolean:
        out->v = *slot != 0;
        return Status::OK();
      case TypeRoot::kTinyInt:
        out->v = static_cast<int8_t>(*slot);
        return Status::OK();
      case TypeRoot::kSmallInt:
        out->v = detail::LoadFixed<int16_t>(slot);
        return Status::OK();
      case TypeRoot::kInt:
      case TypeRoot::kDate:
      case TypeRoot::kTime:
        out->v = detail::LoadFixed<int32_t>(slot);
        return Status::OK();
      case TypeRoot::kBigInt:
        out->v = detail::LoadFixed<int64_t>(slot);
        return Status::OK();
      case TypeRoot::kFloat:
        out->v = detail::LoadFixed<float>(slot);
        return Status::OK();
      case TypeRoot::kDouble:
        out->v = detail::LoadFixed<double>(slot);
        return Status::OK();
      case TypeRoot::kChar:
      case TypeRoot::kString:
      case TypeRoot::kBinary:
      case TypeRoot::kBytes: {
        uint64_t v = SlotLong(i);
        if (v & kInlineMark) {
          size_t length = (v >> 56) & 0x7F;
          if (length > kMaxInline) return CorruptRow("array element {} inline length {}", i, length);
          out->v.emplace<std::string>(slot, length);
          return Status::OK();
        }
        ByteView view;
        if (!Variable(i, v & 0xFFFFFFFFu, &view)) return Bad(i);
        out->v.emplace<std::string>(view);
        return Status::OK();
      }
      case TypeRoot::kDecimal: {
        if (type_.IsCompactDecimal()) {
          out->v = DecimalValue{detail::LoadFixed<int64_t>(slot)};
          return Status::OK();
        }
        ByteView view;
        if (!Variable(i, SlotLong(i) & 0xFFFFFFFFu, &view)) return Bad(i);
        DecimalValue decimal;
        if (!detail::LoadDecimalBytes(view, &decimal.unscaled)) {
          return CorruptRow("array element {} has a decimal of {} bytes", i, view.size());
        }
        out->v = decimal;
        return Status::OK();
      }
      case TypeRoot::kTimestamp:
      case TypeRoot::kTimestampLtz: {
        if (type_.IsCompactTimestamp()) {
          out->v = TimestampValue{detail::LoadFixed<int64_t>(slot), 0};
          return Status::OK();
        }
        uint64_t v = SlotLong(i);
        auto nanos = static_cast<int32_t>(static_cast<uint32_t>(v));
        if (nanos < 0 || nanos > 999'999) {
          return CorruptRow("array element {} has nanos of millisecond {}", i, nanos);
        }
        ByteView view;
        if (!Variable(i, 8, &view)) return Bad(i);
        out->v = TimestampValue{detail::LoadFixed<int64_t>(view.data()), nanos};
        return Status::OK();
      }
      case TypeRoot::kArray: {
        ByteView view;
        if (!Variable(i, SlotLong(i) & 0xFFFFFFFFu, &view)) return Bad(i);
        STROM_ASSIGN_OR_RETURN(ArrayValue nested,
                               BinaryArray::Decode(type_.element(), view, nested_format_));
        out->v = std::move(nested);
        return Status::OK();
      }
      case TypeRoot::kMap: {
        ByteView view;
        if (!Variable(i, SlotLong(i) & 0xFFFFFFFFu, &view)) return Bad(i);
        STROM_ASSIGN_OR_RETURN(
            MapValue nested,
            BinaryArray::DecodeMap(type_.key(), type_.value(), view, nested_format_));
        out->v = std::move(nested);
        return Status::OK();
      }
      case TypeRoot::kRow: {
        ByteView view;
        if (!Variable(i, SlotLong(i) & 0xFFFFFFFFu, &view)) return Bad(i);
        RowValue nested;
        std::span<const DataField> fields(type_.fields());
        STROM_RETURN_IF_ERROR(nested_format_ == BinaryRowFormat::kCompacted
                                  ? DecodeCompactedRow(fields, view, &nested.fields)
                                  : DecodeIndexedRow(fields, view, &nested.fields));
        out->v = std::move(nested);
        return Status::OK();
      }
    }
    return CorruptRow("unsupported element type {}", type_.ToString());
  }

  const DataType& type_;
  ByteView bytes_;
  BinaryRowFormat nested_format_;
  const char* slots_ = nullptr;
  int width_ = 8;
};

}  // namespace

int BinaryArray::ElementWidth(const DataType& element_type) {
  switch (element_type.root()) {
    case TypeRoot::kBoolean:
    case TypeRoot::kTinyInt:
      return 1;
    case TypeRoot::kSmallInt:
      return 2;
    case TypeRoot::kInt:
    case TypeRoot::kFloat:
    case TypeRoot::kDate:
    case TypeRoot::kTime:
      return 4;
    default:
      return 8;
  }
}

Status BinaryArray::Append(const DataType& element_type, const ArrayValue& value,
                           BinaryRowFormat nested_format, ByteBuffer* out) {
  ArrayWriter writer(element_type, nested_format, out);
  return writer.Write(value.elements.size(),
                      [&](size_t i) -> const Datum& { return value.elements[i]; });
}

Result<ArrayValue> BinaryArray::Decode(const DataType& element_type, ByteView bytes,
                                       BinaryRowFormat nested_format) {
  ArrayValue array;
  ArrayReader reader(element_type, bytes, nested_format);
  STROM_RETURN_IF_ERROR(reader.Read(&array));
  return array;
}

Status BinaryArray::AppendMap(const DataType& key_type, const DataType& value_type,
                              const MapValue& value, BinaryRowFormat nested_format,
                              ByteBuffer* out) {
  size_t base = out->size();
  out->append(4, '\0');
  const auto& entries = value.entries;
  ArrayWriter keys(key_type, nested_format, out);
  STROM_RETURN_IF_ERROR(
      keys.Write(entries.size(), [&](size_t i) -> const Datum& { return entries[i].first; }));
  size_t key_bytes = out->size() - base - 4;
  if (key_bytes > kMaxOffset) return CorruptRow("map keys exceed {} bytes", kMaxOffset);
  detail::StoreFixed(static_cast<int32_t>(key_bytes), out->data() + base);
  ArrayWriter values(value_type, nested_format, out);
  return values.Write(entries.size(),
                      [&](size_t i) -> const Datum& { return entries[i].second; });
}

Result<MapValue> BinaryArray::DecodeMap(const DataType& key_type, const DataType& value_type,
                                        ByteView bytes, BinaryRowFormat nested_format) {
  if (bytes.size() < 4) return CorruptRow("map of {} bytes has no key size", bytes.size());
  int32_t key_bytes = detail::LoadFixed<int32_t>(bytes.data());
  if (key_bytes < 0 || static_cast<size_t>(key_bytes) > bytes.size() - 4) {
    return CorruptRow("map key array size {} does not fit {} bytes", key_bytes, bytes.size());
  }
  ArrayValue keys;
  ArrayValue values;
  STROM_RETURN_IF_ERROR(
      ArrayReader(key_type, bytes.substr(4, key_bytes), nested_format).Read(&keys));
  STROM_RETURN_IF_ERROR(
      ArrayReader(value_type, bytes.substr(4 + key_bytes), nested_format).Read(&values));
  if (keys.elements.size() != values.elements.size()) {
    return CorruptRow("map has {} keys but {} values", keys.elements.size(),
                      values.elements.size());
  }
  MapValue map;
  map.entries.reserve(keys.elements.size());
  for (size_t i = 0; i < keys.elements.size(); ++i) {
    map.entries.emplace_back(std::move(keys.elements[i]), std::move(values.elements[i]));
  }
  return map;
}

}  // namespace strom::record
