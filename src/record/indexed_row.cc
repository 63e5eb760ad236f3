#include "record/indexed_row.h"

#include <limits>

#include "record/binary_array.h"
#include "record/detail/row_codec_util.h"

namespace strom::record {
namespace {

using detail::As;
using detail::CorruptRow;
using detail::Cursor;
using detail::ValueMismatch;

inline const DataType& TypeOf(const DataType& type) { return type; }
inline const DataType& TypeOf(const DataField& field) { return field.type; }

constexpr size_t kMaxLength = static_cast<size_t>(std::numeric_limits<int32_t>::max());

template <typename Field>
size_t VariableSlots(std::span<const Field> fields) {
  size_t slots = 0;
  for (const auto& field : fields) {
    if (IsVariableLengthInIndexedRow(TypeOf(field))) ++slots;
  }
  return slots;
}

/// Writer state for one row: where the next length slot goes.
struct SlotWriter {
  size_t next_slot;

  Status Record(size_t length, size_t pos, ByteBuffer* out) {
    if (length > kMaxLength) return CorruptRow("value at position {} is too long", pos);
    detail::StoreFixed(static_cast<int32_t>(length), out->data() + next_slot);
    next_slot += 4;
    return Status::OK();
  }
};

template <typename Field>
Status EncodeRow(std::span<const Field> fields, const std::vector<Datum>& row, ByteBuffer* out);

/// CHAR(n)/BINARY(n): exactly n bytes, zero padded.
Status AppendPadded(const DataType& type, const std::string& v, size_t pos, ByteBuffer* out) {
  auto width = static_cast<size_t>(type.length());
  if (v.size() > width) {
    return CorruptRow("value of {} bytes at position {} does not fit {}", v.size(), pos,
                      type.ToString());
  }
  out->append(v);
  out->append(width - v.size(), '\0');
  return Status::OK();
}

Status EncodeValue(const DataType& type, const Datum& value, size_t pos, SlotWriter* slots,
                   ByteBuffer* out) {
  switch (type.root()) {
    case TypeRoot::kBoolean: {
      const bool* v = As<bool>(value);
      if (!v) return ValueMismatch(type, value, pos);
      out->push_back(*v ? 1 : 0);
      return Status::OK();
    }
    case TypeRoot::kTinyInt: {
      const int8_t* v = As<int8_t>(value);
      if (!v) return ValueMismatch(type, value, pos);
      out->push_back(static_cast<char>(*v));
      return Status::OK();
    }
    case TypeRoot::kSmallInt: {
      const int16_t* v = As<int16_t>(value);
      if (!v) return ValueMismatch(type, value, pos);
      detail::AppendFixed(*v, out);
      return Status::OK();
    }
    case TypeRoot::kInt:
    case TypeRoot::kDate:
    case TypeRoot::kTime: {
      const int32_t* v = As<int32_t>(value);
      if (!v) return ValueMismatch(type, value, pos);
      detail::AppendFixed(*v, out);
      return Status::OK();
    }
    case TypeRoot::kBigInt: {
      const int64_t* v = As<int64_t>(value);
      if (!v) return ValueMismatch(type, value, pos);
      detail::AppendFixed(*v, out);
      return Status::OK();
    }
    case TypeRoot::kFloat: {
      const float* v = As<float>(value);
      if (!v) return ValueMismatch(type, value, pos);
      detail::AppendFixed(*v, out);
      return Status::OK();
    }
    case TypeRoot::kDouble: {
      const double* v = As<double>(value);
      if (!v) return ValueMismatch(type, value, pos);
      detail::AppendFixed(*v, out);
      return Status::OK();
    }
    case TypeRoot::kChar:
    case TypeRoot::kBinary: {
      const std::string* v = As<std::string>(value);
      if (!v) return ValueMismatch(type, value, pos);
      return AppendPadded(type, *v, pos, out);
    }
    case TypeRoot::kString:
    case TypeRoot::kBytes: {
      const std::string* v = As<std::string>(value);
      if (!v) return ValueMismatch(type, value, pos);
      STROM_RETURN_IF_ERROR(slots->Record(v->size(), pos, out));
      out->append(*v);
      return Status::OK();
    }
    case TypeRoot::kDecimal: {
      const DecimalValue* v = As<DecimalValue>(value);
      if (!v) return ValueMismatch(type, value, pos);
      if (type.IsCompactDecimal()) {
        if (!detail::FitsInt64(v->unscaled)) {
          return CorruptRow("decimal at position {} does not fit {}", pos, type.ToString());
        }
        detail::AppendFixed(static_cast<int64_t>(v->unscaled), out);
      } else {
        int n = detail::DecimalByteLength(v->unscaled);
        STROM_RETURN_IF_ERROR(slots->Record(n, pos, out));
        size_t at = out->size();
        out->resize(at + n);
        detail::StoreDecimalBytes(v->unscaled, out->data() + at);
      }
      return Status::OK();
    }
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz: {
      const TimestampValue* v = As<TimestampValue>(value);
      if (!v) return ValueMismatch(type, value, pos);
      if (v->nanos_of_milli < 0 || v->nanos_of_milli > 999'999) {
        return CorruptRow("timestamp at position {} has nanos of millisecond {}", pos,
                          v->nanos_of_milli);
      }
      detail::AppendFixed(v->millis, out);
      if (!type.IsCompactTimestamp()) detail::AppendFixed(v->nanos_of_milli, out);
      return Status::OK();
    }
    case TypeRoot::kArray:
    case TypeRoot::kMap:
    case TypeRoot::kRow: {
      size_t start = out->size();
      if (type.root() == TypeRoot::kArray) {
        const ArrayValue* v = As<ArrayValue>(value);
        if (!v) return ValueMismatch(type, value, pos);
        STROM_RETURN_IF_ERROR(
            BinaryArray::Append(type.element(), *v, BinaryRowFormat::kIndexed, out));
      } else if (type.root() == TypeRoot::kMap) {
        const MapValue* v = As<MapValue>(value);
        if (!v) return ValueMismatch(type, value, pos);
        STROM_RETURN_IF_ERROR(BinaryArray::AppendMap(type.key(), type.value(), *v,
                                                     BinaryRowFormat::kIndexed, out));
      } else {
        const RowValue* v = As<RowValue>(value);
        if (!v) return ValueMismatch(type, value, pos);
        STROM_RETURN_IF_ERROR(EncodeRow(std::span<const DataField>(type.fields()), v->fields, out));
      }
      return slots->Record(out->size() - start, pos, out);
    }
  }
  return CorruptRow("unsupported type {}", type.ToString());
}

template <typename Field>
Status EncodeRow(std::span<const Field> fields, const std::vector<Datum>& row, ByteBuffer* out) {
  size_t n = fields.size();
  if (row.size() != n) {
    return CorruptRow("row has {} values but its type has {} fields", row.size(), n);
  }
  size_t base = out->size();
  size_t bits_size = (n + 7) / 8;
  out->append(bits_size + 4 * VariableSlots(fields), '\0');
  SlotWriter slots{base + bits_size};
  for (size_t i = 0; i < n; ++i) {
    const DataType& type = TypeOf(fields[i]);
    const Datum& value = row[i];
    if (value.is_null()) {
      if (!type.nullable()) return ValueMismatch(type, value, i);
      detail::BitSet(out->data() + base, i);
      continue;
    }
    STROM_RETURN_IF_ERROR(EncodeValue(type, value, i, &slots, out));
  }
  return Status::OK();
}

template <typename Field>
Status DecodeRow(std::span<const Field> fields, ByteView bytes, std::vector<Datum>* row);

/// Reader state for one row: the next length slot and where slots end.
struct SlotReader {
  Cursor slots;

  bool Next(size_t* length) {
    int32_t v;
    if (!slots.ReadFixed(&v) || v < 0) return false;
    *length = static_cast<size_t>(v);
    return true;
  }
};

Status DecodeValue(const DataType& type, size_t pos, SlotReader* slots, Cursor* in, Datum* out) {
  auto truncated = [&]() {
    return CorruptRow("IndexedRow field {} ({}) is truncated or malformed", pos,
                      type.ToString());
  };
  // Borrows the next variable-length value.
  auto take_variable = [&](ByteView* view) {
    size_t length;
    const char* data;
    if (!slots->Next(&length) || !in->Take(length, &data)) return false;
    *view = ByteView(data, length);
    return true;
  };
  switch (type.root()) {
    case TypeRoot::kBoolean: {
      uint8_t b;
      if (!in->ReadFixed(&b)) return truncated();
      out->v = b != 0;
      return Status::OK();
    }
    case TypeRoot::kTinyInt: {
      int8_t v;
      if (!in->ReadFixed(&v)) return truncated();
      out->v = v;
      return Status::OK();
    }
    case TypeRoot::kSmallInt: {
      int16_t v;
      if (!in->ReadFixed(&v)) return truncated();
      out->v = v;
      return Status::OK();
    }
    case TypeRoot::kInt:
    case TypeRoot::kDate:
    case TypeRoot::kTime: {
      int32_t v;
      if (!in->ReadFixed(&v)) return truncated();
      out->v = v;
      return Status::OK();
    }
    case TypeRoot::kBigInt: {
      int64_t v;
      if (!in->ReadFixed(&v)) return truncated();
      out->v = v;
      return Status::OK();
    }
    case TypeRoot::kFloat: {
      float v;
      if (!in->ReadFixed(&v)) return truncated();
      out->v = v;
      return Status::OK();
    }
    case TypeRoot::kDouble: {
      double v;
      if (!in->ReadFixed(&v)) return truncated();
      out->v = v;
      return Status::OK();
    }
    case TypeRoot::kChar:
    case TypeRoot::kBinary: {
      const char* data;
      auto width = static_cast<size_t>(type.length());
      if (!in->Take(width, &data)) return truncated();
      if (type.root() == TypeRoot::kChar) {
        while (width > 0 && data[width - 1] == '\0') --width;
      }
      out->v.emplace<std::string>(data, width);
      return Status::OK();
    }
    case TypeRoot::kString:
    case TypeRoot::kBytes: {
      ByteView view;
      if (!take_variable(&view)) return truncated();
      out->v.emplace<std::string>(view);
      return Status::OK();
    }
    case TypeRoot::kDecimal: {
      if (type.IsCompactDecimal()) {
        int64_t v;
        if (!in->ReadFixed(&v)) return truncated();
        out->v = DecimalValue{v};
        return Status::OK();
      }
      ByteView view;
      if (!take_variable(&view)) return truncated();
      DecimalValue decimal;
      if (!detail::LoadDecimalBytes(view, &decimal.unscaled)) {
        return CorruptRow("IndexedRow field {} has a decimal of {} bytes", pos, view.size());
      }
      out->v = decimal;
      return Status::OK();
    }
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz: {
      TimestampValue ts;
      if (!in->ReadFixed(&ts.millis)) return truncated();
      if (!type.IsCompactTimestamp()) {
        if (!in->ReadFixed(&ts.nanos_of_milli)) return truncated();
        if (ts.nanos_of_milli < 0 || ts.nanos_of_milli > 999'999) {
          return CorruptRow("IndexedRow field {} has nanos of millisecond {}", pos,
                            ts.nanos_of_milli);
        }
      }
      out->v = ts;
      return Status::OK();
    }
    case TypeRoot::kArray: {
      ByteView view;
      if (!take_variable(&view)) return truncated();
      STROM_ASSIGN_OR_RETURN(ArrayValue array,
                             BinaryArray::Decode(type.element(), view, BinaryRowFormat::kIndexed));
      out->v = std::move(array);
      return Status::OK();
    }
    case TypeRoot::kMap: {
      ByteView view;
      if (!take_variable(&view)) return truncated();
      STROM_ASSIGN_OR_RETURN(MapValue map, BinaryArray::DecodeMap(type.key(), type.value(), view,
                                                                  BinaryRowFormat::kIndexed));
      out->v = std::move(map);
      return Status::OK();
    }
    case TypeRoot::kRow: {
      ByteView view;
      if (!take_variable(&view)) return truncated();
      RowValue nested;
      STROM_RETURN_IF_ERROR(
          DecodeRow(std::span<const DataField>(type.fields()), view, &nested.fields));
      out->v = std::move(nested);
      return Status::OK();
    }
  }
  return CorruptRow("unsupported type {}", type.ToString());
}

template <typename Field>
Status DecodeRow(std::span<const Field> fields, ByteView bytes, std::vector<Datum>* row) {
  size_t n = fields.size();
  size_t bits_size = (n + 7) / 8;
  size_t header = bits_size + 4 * VariableSlots(fields);
  if (bytes.size() < header) {
    return CorruptRow("IndexedRow of {} bytes is shorter than its {}-byte header", bytes.size(),
                      header);
  }
  const char* bits = bytes.data();
  SlotReader slots{Cursor(bytes.substr(bits_size, header - bits_size))};
  Cursor in(bytes.substr(header));
  row->resize(n);
  for (size_t i = 0; i < n; ++i) {
    Datum& value = (*row)[i];
    if (detail::BitGet(bits, i)) {
      value.v = std::monostate{};
      continue;
    }
    STROM_RETURN_IF_ERROR(DecodeValue(TypeOf(fields[i]), i, &slots, &in, &value));
  }
  if (in.remaining() != 0) {
    return CorruptRow("IndexedRow has {} bytes after its last field", in.remaining());
  }
  return Status::OK();
}

template <typename Field>
Status AppendRowRestoring(std::span<const Field> fields, const std::vector<Datum>& row,
                          ByteBuffer* out) {
  size_t start = out->size();
  out->reserve(start + (fields.size() + 7) / 8 + fields.size() * 12);
  Status status = EncodeRow(fields, row, out);
  if (!status.ok()) out->resize(start);
  return status;
}

}  // namespace

size_t IndexedRowCodec::HeaderSize(std::span<const DataType> field_types) {
  return (field_types.size() + 7) / 8 + 4 * VariableSlots(field_types);
}

Status AppendIndexedRow(std::span<const DataType> field_types, const GenericRow& row,
                        ByteBuffer* out) {
  return AppendRowRestoring(field_types, row, out);
}

Status AppendIndexedRow(std::span<const DataField> fields, const std::vector<Datum>& row,
                        ByteBuffer* out) {
  return AppendRowRestoring(fields, row, out);
}

Status DecodeIndexedRow(std::span<const DataType> field_types, ByteView bytes,
                        std::vector<Datum>* row) {
  return DecodeRow(field_types, bytes, row);
}

Status DecodeIndexedRow(std::span<const DataField> fields, ByteView bytes,
                        std::vector<Datum>* row) {
  return DecodeRow(fields, bytes, row);
}

Status IndexedRowCodec::Encode(const GenericRow& row, ByteBuffer* out) const {
  return AppendIndexedRow(std::span<const DataType>(field_types_), row, out);
}

Result<ByteBuffer> IndexedRowCodec::Encode(const GenericRow& row) const {
  ByteBuffer out;
  STROM_RETURN_IF_ERROR(Encode(row, &out));
  return out;
}

Result<GenericRow> IndexedRowCodec::Decode(ByteView bytes) const {
  GenericRow row;
  STROM_RETURN_IF_ERROR(DecodeInto(bytes, &row));
  return row;
}

Status IndexedRowCodec::DecodeInto(ByteView bytes, GenericRow* row) const {
  return DecodeRow(std::span<const DataType>(field_types_), bytes, row);
}

}  // namespace strom::record
