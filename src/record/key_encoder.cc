#include "record/key_encoder.h"

#include <fmt/format.h>

#include <cstring>

#include "record/compacted_row.h"
#include "record/detail/row_codec_util.h"

namespace strom::record {
namespace {

using detail::As;
using detail::CorruptRow;
using detail::ValueMismatch;

template <typename... Args>
Status KeyError(fmt::format_string<Args...> format, Args&&... args) {
  return Status(ErrorCode::kInvalidTable, fmt::format(format, std::forward<Args>(args)...));
}

bool PaimonSupports(TypeRoot root) {
  switch (root) {
    case TypeRoot::kArray:
    case TypeRoot::kMap:
    case TypeRoot::kRow:
      return false;
    default:
      return true;
  }
}

bool IcebergSupports(TypeRoot root) {
  switch (root) {
    case TypeRoot::kInt:
    case TypeRoot::kDate:
    case TypeRoot::kTime:
    case TypeRoot::kBigInt:
    case TypeRoot::kFloat:
    case TypeRoot::kDouble:
    case TypeRoot::kTimestamp:
    case TypeRoot::kDecimal:
    case TypeRoot::kChar:
    case TypeRoot::kString:
    case TypeRoot::kBinary:
    case TypeRoot::kBytes:
      return true;
    default:
      return false;
  }
}

Status NullKey(const DataType& type, size_t position) {
  return CorruptRow("null value is not allowed in key position {} of type {}", position,
                    type.ToString());
}

}  // namespace

KeyEncoding BucketKeyEncoding(DataLakeFormat lake_format) {
  switch (lake_format) {
    case DataLakeFormat::kPaimon: return KeyEncoding::kPaimon;
    case DataLakeFormat::kIceberg: return KeyEncoding::kIceberg;
    case DataLakeFormat::kNone:
    case DataLakeFormat::kLance: return KeyEncoding::kCompacted;
  }
  return KeyEncoding::kCompacted;
}

Result<KeyEncoding> PrimaryKeyEncoding(DataLakeFormat lake_format, int32_t kv_format_version,
                                       bool is_default_bucket_key) {
  if (kv_format_version == 1) return BucketKeyEncoding(lake_format);
  if (kv_format_version == 2) {
    return is_default_bucket_key ? BucketKeyEncoding(lake_format) : KeyEncoding::kCompacted;
  }
  return Status(ErrorCode::kInvalidConfig,
                fmt::format("unsupported table.kv.format-version {}", kv_format_version));
}

Result<std::unique_ptr<KeyEncoder>> KeyEncoder::Create(KeyEncoding encoding,
                                                       const DataType& row_type,
                                                       const std::vector<std::string>& key_names) {
  if (row_type.root() != TypeRoot::kRow) {
    return KeyError("a key encoder needs a ROW type, got {}", row_type.ToString());
  }
  const auto& fields = row_type.fields();
  std::vector<size_t> indexes;
  std::vector<DataType> types;
  indexes.reserve(key_names.size());
  types.reserve(key_names.size());
  for (const auto& name : key_names) {
    size_t index = fields.size();
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].name == name) {
        index = i;
        break;
      }
    }
    if (index == fields.size()) {
      return KeyError("key column \"{}\" is not in row type {}", name, row_type.ToString());
    }
    indexes.push_back(index);
    types.push_back(fields[index].type);
  }
  switch (encoding) {
    case KeyEncoding::kCompacted:
      return std::unique_ptr<KeyEncoder>(
          new CompactedKeyEncoder(std::move(indexes), std::move(types)));
    case KeyEncoding::kPaimon:
      for (const auto& type : types) {
        if (!PaimonSupports(type.root())) {
          return KeyError("type {} cannot be a Paimon key column", type.ToString());
        }
      }
      return std::unique_ptr<KeyEncoder>(
          new PaimonKeyEncoder(std::move(indexes), std::move(types)));
    case KeyEncoding::kIceberg:
      if (types.size() != 1) {
        return KeyError("an Iceberg key must have exactly one column, got {}", types.size());
      }
      if (!IcebergSupports(types[0].root())) {
        return KeyError("type {} cannot be an Iceberg key column", types[0].ToString());
      }
      return std::unique_ptr<KeyEncoder>(
          new IcebergKeyEncoder(std::move(indexes), std::move(types)));
  }
  return KeyError("unknown key encoding");
}

Result<ByteBuffer> KeyEncoder::Encode(const GenericRow& row) const {
  ByteBuffer out;
  STROM_RETURN_IF_ERROR(Encode(row, &out));
  return out;
}

const Datum* KeyEncoder::KeyValue(const GenericRow& row, size_t i) const {
  size_t index = key_indexes_[i];
  return index < row.size() ? &row[index] : nullptr;
}

Status CompactedKeyEncoder::Encode(const GenericRow& row, ByteBuffer* out) const {
  size_t start = out->size();
  for (size_t i = 0; i < key_types().size(); ++i) {
    const Datum* value = KeyValue(row, i);
    Status status;
    if (value == nullptr) {
      status = CorruptRow("row of {} values has no key column {}", row.size(), key_indexes()[i]);
    } else if (value->is_null()) {
      status = NullKey(key_types()[i], i);
    } else {
      status = AppendCompactedValue(key_types()[i], *value, out);
    }
    if (!status.ok()) {
      out->resize(start);
      return status;
    }
  }
  return Status::OK();
}

Status PaimonKeyEncoder::Encode(const GenericRow& row, ByteBuffer* out) const {
  const size_t n = key_types().size();
  const size_t base = out->size();
  const size_t bits_size = ((n + 63 + 8) / 64) * 8;
  const size_t fixed = bits_size + 8 * n;
  out->append(fixed, '\0');  // Row kind byte 0 is INSERT.
  auto fail = [&](Status status) {
    out->resize(base);
    return status;
  };
  auto slot = [&](size_t i) { return out->data() + base + bits_size + 8 * i; };
  // Appends `length` bytes to the 8-aligned variable part; returns their offset.
  auto reserve_variable = [&](size_t length) {
    size_t offset = out->size() - base;
    out->append((length + 7) & ~size_t{7}, '\0');
    return offset;
  };
  for (size_t i = 0; i < n; ++i) {
    const DataType& type = key_types()[i];
    const Datum* value = KeyValue(row, i);
    if (value == nullptr) {
      return fail(CorruptRow("row of {} values has no key column {}", row.size(),
                             key_indexes()[i]));
    }
    if (value->is_null()) {
      detail::BitSet(out->data() + base, i + 8);
      continue;
    }
    switch (type.root()) {
      case TypeRoot::kBoolean:
        if (const bool* v = As<bool>(*value)) {
          *slot(i) = *v ? 1 : 0;
          continue;
        }
        break;
      case TypeRoot::kTinyInt:
        if (const int8_t* v = As<int8_t>(*value)) {
          *slot(i) = static_cast<char>(*v);
          continue;
        }
        break;
      case TypeRoot::kSmallInt:
        if (const int16_t* v = As<int16_t>(*value)) {
          detail::StoreFixed(*v, slot(i));
          continue;
        }
        break;
      case TypeRoot::kInt:
      case TypeRoot::kDate:
      case TypeRoot::kTime:
        if (const int32_t* v = As<int32_t>(*value)) {
          detail::StoreFixed(*v, slot(i));
          continue;
        }
        break;
      case TypeRoot::kBigInt:
        if (const int64_t* v = As<int64_t>(*value)) {
          detail::StoreFixed(*v, slot(i));
          continue;
        }
        break;
      case TypeRoot::kFloat:
        if (const float* v = As<float>(*value)) {
          detail::StoreFixed(*v, slot(i));
          continue;
        }
        break;
      case TypeRoot::kDouble:
        if (const double* v = As<double>(*value)) {
          detail::StoreFixed(*v, slot(i));
          continue;
        }
        break;
      case TypeRoot::kChar:
      case TypeRoot::kString:
      case TypeRoot::kBinary:
      case TypeRoot::kBytes:
        if (const std::string* v = As<std::string>(*value)) {
          if (v->size() <= 7) {
            uint64_t word = 0;
            for (size_t k = 0; k < v->size(); ++k) {
              word |= static_cast<uint64_t>(static_cast<uint8_t>((*v)[k])) << (8 * k);
            }
            word |= (uint64_t{0x80} | v->size()) << 56;
            detail::StoreFixed(word, slot(i));
          } else {
            size_t offset = reserve_variable(v->size());
            std::memcpy(out->data() + base + offset, v->data(), v->size());
            detail::StoreFixed((static_cast<uint64_t>(offset) << 32) | v->size(), slot(i));
          }
          continue;
        }
        break;
      case TypeRoot::kDecimal:
        if (const DecimalValue* v = As<DecimalValue>(*value)) {
          if (type.IsCompactDecimal()) {
            if (!detail::FitsInt64(v->unscaled)) {
              return fail(CorruptRow("decimal key {} does not fit {}", i, type.ToString()));
            }
            detail::StoreFixed(static_cast<int64_t>(v->unscaled), slot(i));
          } else {
            size_t offset = reserve_variable(16);
            detail::StoreDecimalBytes(v->unscaled, out->data() + base + offset);
            uint64_t length = static_cast<uint64_t>(detail::DecimalByteLength(v->unscaled));
            detail::StoreFixed((static_cast<uint64_t>(offset) << 32) | length, slot(i));
          }
          continue;
        }
        break;
      case TypeRoot::kTimestamp:
      case TypeRoot::kTimestampLtz:
        if (const TimestampValue* v = As<TimestampValue>(*value)) {
          if (v->nanos_of_milli < 0 || v->nanos_of_milli > 999'999) {
            return fail(CorruptRow("timestamp key {} has nanos of millisecond {}", i,
                                   v->nanos_of_milli));
          }
          if (type.IsCompactTimestamp()) {
            detail::StoreFixed(v->millis, slot(i));
          } else {
            size_t offset = reserve_variable(8);
            detail::StoreFixed(v->millis, out->data() + base + offset);
            detail::StoreFixed((static_cast<uint64_t>(offset) << 32) |
                                   static_cast<uint32_t>(v->nanos_of_milli),
                               slot(i));
          }
          continue;
        }
        break;
      default:
        break;
    }
    return fail(ValueMismatch(type, *value, i));
  }
  return Status::OK();
}

Status IcebergKeyEncoder::Encode(const GenericRow& row, ByteBuffer* out) const {
  const DataType& type = key_types()[0];
  const Datum* value = KeyValue(row, 0);
  if (value == nullptr) {
    return CorruptRow("row of {} values has no key column {}", row.size(), key_indexes()[0]);
  }
  if (value->is_null()) return NullKey(type, 0);
  switch (type.root()) {
    case TypeRoot::kInt:
    case TypeRoot::kDate:
      if (const int32_t* v = As<int32_t>(*value)) {
        detail::AppendFixed(static_cast<int64_t>(*v), out);
        return Status::OK();
      }
      break;
    case TypeRoot::kTime:
      if (const int32_t* v = As<int32_t>(*value)) {
        detail::AppendFixed(static_cast<int64_t>(*v) * 1000, out);
        return Status::OK();
      }
      break;
    case TypeRoot::kBigInt:
      if (const int64_t* v = As<int64_t>(*value)) {
        detail::AppendFixed(*v, out);
        return Status::OK();
      }
      break;
    case TypeRoot::kFloat:
      if (const float* v = As<float>(*value)) {
        detail::AppendFixed(*v, out);
        return Status::OK();
      }
      break;
    case TypeRoot::kDouble:
      if (const double* v = As<double>(*value)) {
        detail::AppendFixed(*v, out);
        return Status::OK();
      }
      break;
    case TypeRoot::kTimestamp:
      if (const TimestampValue* v = As<TimestampValue>(*value)) {
        // Java's long arithmetic wraps; so does this.
        auto micros = static_cast<int64_t>(static_cast<uint64_t>(v->millis) * 1000u +
                                           static_cast<uint64_t>(v->nanos_of_milli / 1000));
        detail::AppendFixed(micros, out);
        return Status::OK();
      }
      break;
    case TypeRoot::kDecimal:
      if (const DecimalValue* v = As<DecimalValue>(*value)) {
        size_t at = out->size();
        out->resize(at + detail::DecimalByteLength(v->unscaled));
        detail::StoreDecimalBytes(v->unscaled, out->data() + at);
        return Status::OK();
      }
      break;
    case TypeRoot::kChar:
    case TypeRoot::kString:
    case TypeRoot::kBinary:
    case TypeRoot::kBytes:
      if (const std::string* v = As<std::string>(*value)) {
        out->append(*v);
        return Status::OK();
      }
      break;
    default:
      break;
  }
  return ValueMismatch(type, *value, 0);
}

}  // namespace strom::record
