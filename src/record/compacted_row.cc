#include "record/compacted_row.h"

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

/// Puts a varint length in front of the bytes appended since `start`.
Status PrefixLength(size_t start, ByteBuffer* out) {
  size_t length = out->size() - start;
  if (length > kMaxLength) return CorruptRow("nested value of {} bytes is too large", length);
  char buf[5];
  int n = 0;
  auto v = static_cast<uint32_t>(length);
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->insert(start, buf, n);
  return Status::OK();
}

template <typename Field>
Status EncodeRow(std::span<const Field> fields, const std::vector<Datum>& row, ByteBuffer* out);

Status EncodeValue(const DataType& type, const Datum& value, size_t pos, ByteBuffer* out) {
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
      detail::AppendVarint32(static_cast<uint32_t>(*v), out);
      return Status::OK();
    }
    case TypeRoot::kBigInt: {
      const int64_t* v = As<int64_t>(value);
      if (!v) return ValueMismatch(type, value, pos);
      detail::AppendVarint64(static_cast<uint64_t>(*v), out);
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
    case TypeRoot::kString:
    case TypeRoot::kBinary:
    case TypeRoot::kBytes: {
      const std::string* v = As<std::string>(value);
      if (!v) return ValueMismatch(type, value, pos);
      if (v->size() > kMaxLength) return CorruptRow("value at position {} is too long", pos);
      detail::AppendVarint32(static_cast<uint32_t>(v->size()), out);
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
        detail::AppendVarint64(static_cast<uint64_t>(static_cast<int64_t>(v->unscaled)), out);
      } else {
        int n = detail::DecimalByteLength(v->unscaled);
        detail::AppendVarint32(static_cast<uint32_t>(n), out);
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
      detail::AppendVarint64(static_cast<uint64_t>(v->millis), out);
      if (!type.IsCompactTimestamp()) {
        detail::AppendVarint32(static_cast<uint32_t>(v->nanos_of_milli), out);
      }
      return Status::OK();
    }
    case TypeRoot::kArray: {
      const ArrayValue* v = As<ArrayValue>(value);
      if (!v) return ValueMismatch(type, value, pos);
      size_t start = out->size();
      STROM_RETURN_IF_ERROR(
          BinaryArray::Append(type.element(), *v, BinaryRowFormat::kCompacted, out));
      return PrefixLength(start, out);
    }
    case TypeRoot::kMap: {
      const MapValue* v = As<MapValue>(value);
      if (!v) return ValueMismatch(type, value, pos);
      size_t start = out->size();
      STROM_RETURN_IF_ERROR(BinaryArray::AppendMap(type.key(), type.value(), *v,
                                                   BinaryRowFormat::kCompacted, out));
      return PrefixLength(start, out);
    }
    case TypeRoot::kRow: {
      const RowValue* v = As<RowValue>(value);
      if (!v) return ValueMismatch(type, value, pos);
      size_t start = out->size();
      STROM_RETURN_IF_ERROR(
          EncodeRow(std::span<const DataField>(type.fields()), v->fields, out));
      return PrefixLength(start, out);
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
  size_t bits_at = out->size();
  out->append((n + 7) / 8, '\0');
  for (size_t i = 0; i < n; ++i) {
    const DataType& type = TypeOf(fields[i]);
    const Datum& value = row[i];
    if (value.is_null()) {
      if (!type.nullable()) return ValueMismatch(type, value, i);
      detail::BitSet(out->data() + bits_at, i);
      continue;
    }
    STROM_RETURN_IF_ERROR(EncodeValue(type, value, i, out));
  }
  return Status::OK();
}

template <typename Field>
Status DecodeRow(std::span<const Field> fields, ByteView bytes, std::vector<Datum>* row);

Status DecodeValue(const DataType& type, size_t pos, Cursor* in, Datum* out) {
  auto truncated = [&]() {
    return CorruptRow("CompactedRow field {} ({}) is truncated or malformed", pos,
                      type.ToString());
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
      uint32_t v;
      if (!in->ReadVarint32(&v)) return truncated();
      out->v = static_cast<int32_t>(v);
      return Status::OK();
    }
    case TypeRoot::kBigInt: {
      uint64_t v;
      if (!in->ReadVarint64(&v)) return truncated();
      out->v = static_cast<int64_t>(v);
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
    case TypeRoot::kString:
    case TypeRoot::kBinary:
    case TypeRoot::kBytes: {
      uint32_t length;
      const char* data;
      if (!in->ReadLength(&length) || !in->Take(length, &data)) return truncated();
      out->v.emplace<std::string>(data, length);
      return Status::OK();
    }
    case TypeRoot::kDecimal: {
      if (type.IsCompactDecimal()) {
        uint64_t v;
        if (!in->ReadVarint64(&v)) return truncated();
        out->v = DecimalValue{static_cast<int64_t>(v)};
        return Status::OK();
      }
      uint32_t length;
      const char* data;
      if (!in->ReadLength(&length) || !in->Take(length, &data)) return truncated();
      DecimalValue decimal;
      if (!detail::LoadDecimalBytes(ByteView(data, length), &decimal.unscaled)) {
        return CorruptRow("CompactedRow field {} has a decimal of {} bytes", pos, length);
      }
      out->v = decimal;
      return Status::OK();
    }
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz: {
      uint64_t millis;
      if (!in->ReadVarint64(&millis)) return truncated();
      TimestampValue ts{static_cast<int64_t>(millis), 0};
      if (!type.IsCompactTimestamp()) {
        uint32_t nanos;
        if (!in->ReadVarint32(&nanos)) return truncated();
        if (nanos > 999'999) {
          return CorruptRow("CompactedRow field {} has nanos of millisecond {}", pos, nanos);
        }
        ts.nanos_of_milli = static_cast<int32_t>(nanos);
      }
      out->v = ts;
      return Status::OK();
    }
    case TypeRoot::kArray:
    case TypeRoot::kMap:
    case TypeRoot::kRow: {
      uint32_t length;
      const char* data;
      if (!in->ReadLength(&length) || !in->Take(length, &data)) return truncated();
      ByteView nested(data, length);
      if (type.root() == TypeRoot::kArray) {
        STROM_ASSIGN_OR_RETURN(
            ArrayValue array,
            BinaryArray::Decode(type.element(), nested, BinaryRowFormat::kCompacted));
        out->v = std::move(array);
      } else if (type.root() == TypeRoot::kMap) {
        STROM_ASSIGN_OR_RETURN(MapValue map,
                               BinaryArray::DecodeMap(type.key(), type.value(), nested,
                                                      BinaryRowFormat::kCompacted));
        out->v = std::move(map);
      } else {
        RowValue nested_row;
        STROM_RETURN_IF_ERROR(
            DecodeRow(std::span<const DataField>(type.fields()), nested, &nested_row.fields));
        out->v = std::move(nested_row);
      }
      return Status::OK();
    }
  }
  return CorruptRow("unsupported type {}", type.ToString());
}

template <typename Field>
Status DecodeRow(std::span<const Field> fields, ByteView bytes, std::vector<Datum>* row) {
  size_t n = fields.size();
  size_t bits_size = (n + 7) / 8;
  if (bytes.size() < bits_size) {
    return CorruptRow("CompactedRow of {} bytes is shorter than its {}-byte null bitset",
                      bytes.size(), bits_size);
  }
  const char* bits = bytes.data();
  row->resize(n);
  Cursor in(bytes.substr(bits_size));
  for (size_t i = 0; i < n; ++i) {
    Datum& value = (*row)[i];
    if (detail::BitGet(bits, i)) {
      value.v = std::monostate{};
      continue;
    }
    STROM_RETURN_IF_ERROR(DecodeValue(TypeOf(fields[i]), i, &in, &value));
  }
  if (in.remaining() != 0) {
    return CorruptRow("CompactedRow has {} bytes after its last field", in.remaining());
  }
  return Status::OK();
}

template <typename Field>
Status AppendRowRestoring(std::span<const Field> fields, const std::vector<Datum>& row,
                          ByteBuffer* out) {
  size_t start = out->size();
  out->reserve(start + (fields.size() + 7) / 8 + fields.size() * 8);
  Status status = EncodeRow(fields, row, out);
  if (!status.ok()) out->resize(start);
  return status;
}

}  // namespace

Status AppendCompactedRow(std::span<const DataType> field_types, const GenericRow& row,
                          ByteBuffer* out) {
  return AppendRowRestoring(field_types, row, out);
}

Status AppendCompactedRow(std::span<const DataField> fields, const std::vector<Datum>& row,
                          ByteBuffer* out) {
  return AppendRowRestoring(fields, row, out);
}

Status AppendCompactedValue(const DataType& type, const Datum& value, ByteBuffer* out) {
  size_t start = out->size();
  Status status = value.is_null() ? ValueMismatch(type.NotNull(), value, 0)
                                  : EncodeValue(type, value, 0, out);
  if (!status.ok()) out->resize(start);
  return status;
}

Status DecodeCompactedRow(std::span<const DataType> field_types, ByteView bytes,
                          std::vector<Datum>* row) {
  return DecodeRow(field_types, bytes, row);
}

Status DecodeCompactedRow(std::span<const DataField> fields, ByteView bytes,
                          std::vector<Datum>* row) {
  return DecodeRow(fields, bytes, row);
}

Status CompactedRowCodec::Encode(const GenericRow& row, ByteBuffer* out) const {
  return AppendCompactedRow(std::span<const DataType>(field_types_), row, out);
}

Result<ByteBuffer> CompactedRowCodec::Encode(const GenericRow& row) const {
  ByteBuffer out;
  STROM_RETURN_IF_ERROR(Encode(row, &out));
  return out;
}

Result<GenericRow> CompactedRowCodec::Decode(ByteView bytes) const {
  GenericRow row;
  STROM_RETURN_IF_ERROR(DecodeInto(bytes, &row));
  return row;
}

Status CompactedRowCodec::DecodeInto(ByteView bytes, GenericRow* row) const {
  return DecodeRow(std::span<const DataType>(field_types_), bytes, row);
}

}  // namespace strom::record
