#include "record/arrow/ipc_internal.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "record/arrow/arrow_schema.h"

namespace strom::record::arrow::internal {

Result<MessagePrefix> ReadMessagePrefix(ByteView data) {
  if (data.size() < 4) {
    return Corruption("Arrow IPC message truncated: {} bytes, need a 4-byte prefix", data.size());
  }
  MessagePrefix prefix;
  uint32_t first;
  std::memcpy(&first, data.data(), 4);
  int32_t length;
  if (first == kContinuation) {
    if (data.size() < 8) {
      return Corruption("Arrow IPC message truncated after the continuation marker");
    }
    std::memcpy(&length, data.data() + 4, 4);
    prefix.prefix_size = 8;
  } else {
    length = static_cast<int32_t>(first);
    prefix.prefix_size = 4;
  }
  if (length < 0) return Corruption("Arrow IPC metadata length {} is negative", length);
  if (length == 0) {
    prefix.end_of_stream = true;
    return prefix;
  }
  if (static_cast<size_t>(length) > data.size() - prefix.prefix_size) {
    return Corruption("Arrow IPC metadata truncated: declared {} bytes, {} available", length,
                      data.size() - prefix.prefix_size);
  }
  prefix.metadata = data.substr(prefix.prefix_size, static_cast<size_t>(length));
  return prefix;
}

Result<const fb::Message*> VerifyMessage(ByteView metadata, std::vector<uint64_t>* scratch) {
  const uint8_t* bytes = reinterpret_cast<const uint8_t*>(metadata.data());
  if (reinterpret_cast<uintptr_t>(bytes) % 8 != 0) {
    scratch->resize((metadata.size() + 7) / 8);
    std::memcpy(scratch->data(), metadata.data(), metadata.size());
    bytes = reinterpret_cast<const uint8_t*>(scratch->data());
  }
  // The verifier follows every offset and checks it stays inside the metadata, bounds the
  // nesting depth and table count, and checks alignment relative to the buffer start.
  flatbuffers::Verifier::Options options;
  options.max_depth = 64;
  options.max_tables = 1u << 20;
  flatbuffers::Verifier verifier(bytes, metadata.size(), options);
  if (!fb::VerifyMessageBuffer(verifier)) {
    return Corruption("Arrow IPC metadata is not a valid Message flatbuffer");
  }
  return fb::GetMessage(bytes);
}

Result<ParsedMessage> ParseMessage(ByteView data, std::vector<uint64_t>* scratch) {
  STROM_ASSIGN_OR_RETURN(ParsedMessage parsed, ParseMessageHead(data, data.size(), scratch));
  parsed.body = data.substr(parsed.body_offset, parsed.body_length);
  return parsed;
}

Result<ParsedMessage> ParseMessageHead(ByteView head, size_t size,
                                       std::vector<uint64_t>* scratch) {
  head = head.substr(0, size);
  STROM_ASSIGN_OR_RETURN(MessagePrefix prefix, ReadMessagePrefix(head));
  if (prefix.end_of_stream) return Corruption("expected an Arrow IPC message, found end of stream");
  STROM_ASSIGN_OR_RETURN(const fb::Message* message, VerifyMessage(prefix.metadata, scratch));
  int64_t body_length = message->body_length();
  size_t body_start = prefix.prefix_size + prefix.metadata.size();
  if (body_length < 0 || static_cast<uint64_t>(body_length) > size - body_start) {
    return Corruption("Arrow IPC body truncated: declared {} bytes, {} available", body_length,
                      size - body_start);
  }
  ParsedMessage parsed;
  parsed.message = message;
  parsed.body_offset = body_start;
  parsed.body_length = static_cast<size_t>(body_length);
  parsed.total_size = body_start + static_cast<size_t>(body_length);
  return parsed;
}

size_t MessageHeadSize(ByteView head, size_t size) {
  constexpr size_t kPrefix = 8;
  if (head.size() < kPrefix) return std::min(kPrefix, size);
  uint32_t first;
  std::memcpy(&first, head.data(), 4);
  size_t prefix_size = 4;
  int32_t length = static_cast<int32_t>(first);
  if (first == kContinuation) {
    std::memcpy(&length, head.data() + 4, 4);
    prefix_size = 8;
  }
  // A negative or oversized length is an error ReadMessagePrefix reports from any head.
  if (length <= 0 || static_cast<size_t>(length) > size - std::min(size, prefix_size)) {
    return std::min(kPrefix, size);
  }
  return prefix_size + static_cast<size_t>(length);
}

void AppendFramedMetadata(const uint8_t* flatbuffer, size_t size, ByteBuffer* out) {
  size_t padded = static_cast<size_t>(PadTo8(static_cast<int64_t>(size)));
  size_t start = out->size();
  out->resize(start + 8 + padded);
  char* p = out->data() + start;
  StoreI32LE(p, -1);
  StoreI32LE(p + 4, static_cast<int32_t>(padded));
  std::memcpy(p + 8, flatbuffer, size);
  std::memset(p + 8 + size, 0, padded - size);
}

void BuildRecordBatchMessage(flatbuffers::FlatBufferBuilder* fbb, int64_t num_rows,
                             const std::vector<fb::FieldNode>& nodes,
                             const std::vector<fb::Buffer>& buffers, CompressionCodec codec,
                             int64_t body_length) {
  fbb->Clear();
  auto nodes_vec = fbb->CreateVectorOfStructs(nodes.data(), nodes.size());
  auto buffers_vec = fbb->CreateVectorOfStructs(buffers.data(), buffers.size());
  flatbuffers::Offset<fb::BodyCompression> compression;
  if (codec != CompressionCodec::kNone) {
    compression = fb::CreateBodyCompression(
        *fbb,
        codec == CompressionCodec::kZstd ? fb::CompressionType::ZSTD
                                         : fb::CompressionType::LZ4_FRAME,
        fb::BodyCompressionMethod::BUFFER);
  }
  auto batch = fb::CreateRecordBatch(*fbb, num_rows, nodes_vec, buffers_vec, compression);
  auto message = fb::CreateMessage(*fbb, fb::MetadataVersion::V5, fb::MessageHeader::RecordBatch,
                                   batch.Union(), body_length);
  fbb->Finish(message);
}

namespace {

fb::TimeUnit ToFbUnit(ArrowTimeUnit unit) { return static_cast<fb::TimeUnit>(unit); }

}  // namespace

flatbuffers::Offset<fb::Field> BuildField(flatbuffers::FlatBufferBuilder* fbb,
                                          std::string_view name, const DataType& type) {
  // Children first: a flatbuffers table cannot be started while another one is open.
  std::vector<flatbuffers::Offset<fb::Field>> children;
  switch (type.root()) {
    case TypeRoot::kArray:
      children.push_back(BuildField(fbb, "element", type.element()));
      break;
    case TypeRoot::kMap: {
      // Arrow requires non-null map keys; Fluss's MapType makes its key NOT NULL as well.
      std::vector<flatbuffers::Offset<fb::Field>> entries{
          BuildField(fbb, "key", type.key().NotNull()), BuildField(fbb, "value", type.value())};
      auto entries_vec = fbb->CreateVector(entries);
      auto entries_name = fbb->CreateString("entries");
      auto struct_type = fb::CreateStruct_(*fbb);
      children.push_back(fb::CreateField(*fbb, entries_name, /*nullable=*/false,
                                         fb::Type::Struct_, struct_type.Union(), 0,
                                         entries_vec));
      break;
    }
    case TypeRoot::kRow:
      for (const DataField& f : type.fields()) children.push_back(BuildField(fbb, f.name, f.type));
      break;
    default:
      break;
  }
  auto children_vec = fbb->CreateVector(children);
  auto name_off = fbb->CreateString(name.data(), name.size());

  fb::Type type_type = fb::Type::NONE;
  flatbuffers::Offset<void> type_off;
  switch (type.root()) {
    case TypeRoot::kBoolean:
      type_type = fb::Type::Bool;
      type_off = fb::CreateBool(*fbb).Union();
      break;
    case TypeRoot::kTinyInt:
    case TypeRoot::kSmallInt:
    case TypeRoot::kInt:
    case TypeRoot::kBigInt:
      type_type = fb::Type::Int;
      type_off = fb::CreateInt(*fbb, FixedByteWidth(type) * 8, /*is_signed=*/true).Union();
      break;
    case TypeRoot::kFloat:
      type_type = fb::Type::FloatingPoint;
      type_off = fb::CreateFloatingPoint(*fbb, fb::Precision::SINGLE).Union();
      break;
    case TypeRoot::kDouble:
      type_type = fb::Type::FloatingPoint;
      type_off = fb::CreateFloatingPoint(*fbb, fb::Precision::DOUBLE).Union();
      break;
    case TypeRoot::kChar:
    case TypeRoot::kString:
      type_type = fb::Type::Utf8;
      type_off = fb::CreateUtf8(*fbb).Union();
      break;
    case TypeRoot::kBytes:
      type_type = fb::Type::Binary;
      type_off = fb::CreateBinary(*fbb).Union();
      break;
    case TypeRoot::kBinary:
      type_type = fb::Type::FixedSizeBinary;
      type_off = fb::CreateFixedSizeBinary(*fbb, type.length()).Union();
      break;
    case TypeRoot::kDecimal:
      type_type = fb::Type::Decimal;
      type_off = fb::CreateDecimal(*fbb, type.precision(), type.scale(), 128).Union();
      break;
    case TypeRoot::kDate:
      type_type = fb::Type::Date;
      type_off = fb::CreateDate(*fbb, fb::DateUnit::DAY).Union();
      break;
    case TypeRoot::kTime:
      type_type = fb::Type::Time;
      type_off = fb::CreateTime(*fbb, ToFbUnit(TimeUnitForPrecision(type.precision())),
                                FixedByteWidth(type) * 8)
                     .Union();
      break;
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz:
      // Fluss writes both without a timezone.
      type_type = fb::Type::Timestamp;
      type_off =
          fb::CreateTimestamp(*fbb, ToFbUnit(TimeUnitForPrecision(type.precision()))).Union();
      break;
    case TypeRoot::kArray:
      type_type = fb::Type::List;
      type_off = fb::CreateList(*fbb).Union();
      break;
    case TypeRoot::kMap:
      type_type = fb::Type::Map;
      type_off = fb::CreateMap(*fbb, /*keys_sorted=*/false).Union();
      break;
    case TypeRoot::kRow:
      type_type = fb::Type::Struct_;
      type_off = fb::CreateStruct_(*fbb).Union();
      break;
  }
  return fb::CreateField(*fbb, name_off, type.nullable(), type_type, type_off, 0, children_vec);
}

namespace {

std::string_view FbString(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->c_str(), s->size());
}

size_t ChildCount(const fb::Field& field) {
  return field.children() == nullptr ? 0 : field.children()->size();
}

Status Mismatch(const std::string& path, const DataType& type, std::string_view what) {
  return Corruption("Arrow schema does not match column {} ({}): {}", path, type.ToString(),
                    what);
}

Status MatchField(const fb::Field& field, const DataType& type, const std::string& path) {
  if (field.dictionary() != nullptr) return Mismatch(path, type, "dictionary-encoded field");
  fb::Type tt = field.type_type();
  switch (type.root()) {
    case TypeRoot::kBoolean:
      if (tt != fb::Type::Bool) return Mismatch(path, type, "expected Bool");
      return Status::OK();
    case TypeRoot::kTinyInt:
    case TypeRoot::kSmallInt:
    case TypeRoot::kInt:
    case TypeRoot::kBigInt: {
      const fb::Int* t = field.type_as_Int();
      if (t == nullptr || t->bit_width() != FixedByteWidth(type) * 8 || !t->is_signed()) {
        return Mismatch(path, type, "expected a signed Int of matching width");
      }
      return Status::OK();
    }
    case TypeRoot::kFloat:
    case TypeRoot::kDouble: {
      const fb::FloatingPoint* t = field.type_as_FloatingPoint();
      fb::Precision want =
          type.root() == TypeRoot::kFloat ? fb::Precision::SINGLE : fb::Precision::DOUBLE;
      if (t == nullptr || t->precision() != want) {
        return Mismatch(path, type, "expected FloatingPoint of matching precision");
      }
      return Status::OK();
    }
    case TypeRoot::kChar:
    case TypeRoot::kString:
      if (tt != fb::Type::Utf8) return Mismatch(path, type, "expected Utf8");
      return Status::OK();
    case TypeRoot::kBytes:
      if (tt != fb::Type::Binary) return Mismatch(path, type, "expected Binary");
      return Status::OK();
    case TypeRoot::kBinary: {
      const fb::FixedSizeBinary* t = field.type_as_FixedSizeBinary();
      if (t == nullptr || t->byte_width() != type.length()) {
        return Mismatch(path, type, "expected FixedSizeBinary of matching width");
      }
      return Status::OK();
    }
    case TypeRoot::kDecimal: {
      const fb::Decimal* t = field.type_as_Decimal();
      if (t == nullptr || t->precision() != type.precision() || t->scale() != type.scale() ||
          t->bit_width() != 128) {
        return Mismatch(path, type, "expected Decimal128 of matching precision and scale");
      }
      return Status::OK();
    }
    case TypeRoot::kDate: {
      const fb::Date* t = field.type_as_Date();
      if (t == nullptr || t->unit() != fb::DateUnit::DAY) {
        return Mismatch(path, type, "expected Date(DAY)");
      }
      return Status::OK();
    }
    case TypeRoot::kTime: {
      const fb::Time* t = field.type_as_Time();
      if (t == nullptr || t->unit() != ToFbUnit(TimeUnitForPrecision(type.precision())) ||
          t->bit_width() != FixedByteWidth(type) * 8) {
        return Mismatch(path, type, "expected Time of the unit Fluss uses for this precision");
      }
      return Status::OK();
    }
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz: {
      const fb::Timestamp* t = field.type_as_Timestamp();
      if (t == nullptr || t->unit() != ToFbUnit(TimeUnitForPrecision(type.precision()))) {
        return Mismatch(path, type,
                        "expected Timestamp of the unit Fluss uses for this precision");
      }
      if (type.root() == TypeRoot::kTimestamp && !FbString(t->timezone()).empty()) {
        return Mismatch(path, type, "a TIMESTAMP column must have no timezone");
      }
      return Status::OK();
    }
    case TypeRoot::kArray:
      if (tt != fb::Type::List || ChildCount(field) != 1) {
        return Mismatch(path, type, "expected List with one child");
      }
      return MatchField(*field.children()->Get(0), type.element(), path + ".element");
    case TypeRoot::kMap: {
      if (tt != fb::Type::Map || ChildCount(field) != 1) {
        return Mismatch(path, type, "expected Map with one child");
      }
      const fb::Field& entries = *field.children()->Get(0);
      if (entries.type_type() != fb::Type::Struct_ || ChildCount(entries) != 2) {
        return Mismatch(path, type, "expected a Map entries struct with two children");
      }
      STROM_RETURN_IF_ERROR(MatchField(*entries.children()->Get(0), type.key(), path + ".key"));
      return MatchField(*entries.children()->Get(1), type.value(), path + ".value");
    }
    case TypeRoot::kRow: {
      if (tt != fb::Type::Struct_ || ChildCount(field) != type.fields().size()) {
        return Mismatch(path, type, "expected Struct with one child per field");
      }
      for (size_t i = 0; i < type.fields().size(); ++i) {
        const fb::Field& child = *field.children()->Get(static_cast<flatbuffers::uoffset_t>(i));
        const DataField& f = type.fields()[i];
        if (FbString(child.name()) != f.name) {
          return Mismatch(path, type, "struct field names differ");
        }
        STROM_RETURN_IF_ERROR(MatchField(child, f.type, path + "." + f.name));
      }
      return Status::OK();
    }
  }
  return Mismatch(path, type, "unsupported type");
}

}  // namespace

Status CheckSchemaMatches(const fb::Schema& schema, const DataType& row_type) {
  if (schema.endianness() != fb::Endianness::Little) {
    return Corruption("big-endian Arrow data is not supported");
  }
  size_t count = schema.fields() == nullptr ? 0 : schema.fields()->size();
  if (count != row_type.fields().size()) {
    return Corruption("Arrow schema has {} fields, expected {}", count, row_type.fields().size());
  }
  for (size_t i = 0; i < count; ++i) {
    const fb::Field& field = *schema.fields()->Get(static_cast<flatbuffers::uoffset_t>(i));
    const DataField& f = row_type.fields()[i];
    if (FbString(field.name()) != f.name) {
      return Corruption("Arrow schema field {} is named '{}', expected '{}'", i,
                        FbString(field.name()), f.name);
    }
    STROM_RETURN_IF_ERROR(MatchField(field, f.type, f.name));
  }
  return Status::OK();
}

}  // namespace strom::record::arrow::internal
