#include "record/arrow/arrow_schema.h"

#include <flatbuffers/flatbuffers.h>

#include <vector>

#include "record/arrow/ipc_internal.h"

namespace strom::record::arrow {

ArrowLayout LayoutOf(const DataType& type) {
  switch (type.root()) {
    case TypeRoot::kBoolean:
      return ArrowLayout::kBool;
    case TypeRoot::kChar:
    case TypeRoot::kString:
    case TypeRoot::kBytes:
      return ArrowLayout::kVarBinary;
    case TypeRoot::kBinary:
      return ArrowLayout::kFixedSizeBinary;
    case TypeRoot::kArray:
      return ArrowLayout::kList;
    case TypeRoot::kMap:
      return ArrowLayout::kMap;
    case TypeRoot::kRow:
      return ArrowLayout::kStruct;
    default:
      return ArrowLayout::kFixedWidth;
  }
}

ArrowTimeUnit TimeUnitForPrecision(int32_t precision) {
  if (precision <= 0) return ArrowTimeUnit::kSecond;
  if (precision <= 3) return ArrowTimeUnit::kMillisecond;
  if (precision <= 6) return ArrowTimeUnit::kMicrosecond;
  return ArrowTimeUnit::kNanosecond;
}

int32_t FixedByteWidth(const DataType& type) {
  switch (type.root()) {
    case TypeRoot::kTinyInt:
      return 1;
    case TypeRoot::kSmallInt:
      return 2;
    case TypeRoot::kInt:
    case TypeRoot::kFloat:
    case TypeRoot::kDate:
      return 4;
    case TypeRoot::kTime: {
      ArrowTimeUnit unit = TimeUnitForPrecision(type.precision());
      return unit == ArrowTimeUnit::kSecond || unit == ArrowTimeUnit::kMillisecond ? 4 : 8;
    }
    case TypeRoot::kBigInt:
    case TypeRoot::kDouble:
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz:
      return 8;
    case TypeRoot::kDecimal:
      return 16;
    case TypeRoot::kBinary:
      return type.length();
    default:
      return 0;
  }
}

int BufferCountOf(const DataType& type) {
  switch (LayoutOf(type)) {
    case ArrowLayout::kStruct:
      return 1;
    case ArrowLayout::kVarBinary:
      return 3;
    default:
      return 2;
  }
}

NodeAndBufferCount CountNodesAndBuffers(const DataType& type) {
  NodeAndBufferCount count{1, BufferCountOf(type)};
  auto add = [&count](const DataType& child) {
    NodeAndBufferCount c = CountNodesAndBuffers(child);
    count.nodes += c.nodes;
    count.buffers += c.buffers;
  };
  switch (type.root()) {
    case TypeRoot::kArray:
      add(type.element());
      break;
    case TypeRoot::kMap:
      count.nodes += 1;    // the entries struct
      count.buffers += 1;  // its validity buffer
      add(type.key());
      add(type.value());
      break;
    case TypeRoot::kRow:
      for (const DataField& f : type.fields()) add(f.type);
      break;
    default:
      break;
  }
  return count;
}

namespace {

Status CheckColumnType(const DataType& type, std::string_view path) {
  switch (type.root()) {
    case TypeRoot::kTime:
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz:
      if (type.precision() < 0 || type.precision() > 9) {
        return MakeError(ErrorCode::kInvalidTable, "column {}: {} precision must be 0-9", path,
                         type.ToString());
      }
      return Status::OK();
    case TypeRoot::kDecimal:
      if (type.precision() < 1 || type.precision() > 38 || type.scale() < 0 ||
          type.scale() > type.precision()) {
        return MakeError(ErrorCode::kInvalidTable, "column {}: unsupported {}", path,
                         type.ToString());
      }
      return Status::OK();
    case TypeRoot::kBinary:
    case TypeRoot::kChar:
      if (type.length() < 1) {
        return MakeError(ErrorCode::kInvalidTable, "column {}: {} length must be >= 1", path,
                         type.ToString());
      }
      return Status::OK();
    case TypeRoot::kArray:
      return CheckColumnType(type.element(), std::string(path) + ".element");
    case TypeRoot::kMap:
      STROM_RETURN_IF_ERROR(CheckColumnType(type.key(), std::string(path) + ".key"));
      return CheckColumnType(type.value(), std::string(path) + ".value");
    case TypeRoot::kRow:
      for (const DataField& f : type.fields()) {
        STROM_RETURN_IF_ERROR(CheckColumnType(f.type, std::string(path) + "." + f.name));
      }
      return Status::OK();
    default:
      return Status::OK();
  }
}

}  // namespace

Status CheckArrowCompatible(const DataType& row_type) {
  if (row_type.root() != TypeRoot::kRow) {
    return MakeError(ErrorCode::kInvalidTable, "an Arrow batch needs a ROW type, got {}",
                     row_type.ToString());
  }
  for (const DataField& f : row_type.fields()) {
    STROM_RETURN_IF_ERROR(CheckColumnType(f.type, f.name));
  }
  return Status::OK();
}

Status WriteSchemaMessage(const DataType& row_type, ByteBuffer* out) {
  STROM_RETURN_IF_ERROR(CheckArrowCompatible(row_type));
  flatbuffers::FlatBufferBuilder fbb(1024);
  std::vector<flatbuffers::Offset<fb::Field>> fields;
  fields.reserve(row_type.fields().size());
  for (const DataField& f : row_type.fields()) {
    fields.push_back(internal::BuildField(&fbb, f.name, f.type));
  }
  auto fields_vec = fbb.CreateVector(fields);
  auto schema = fb::CreateSchema(fbb, fb::Endianness::Little, fields_vec);
  auto message = fb::CreateMessage(fbb, fb::MetadataVersion::V5, fb::MessageHeader::Schema,
                                   schema.Union(), /*body_length=*/0);
  fbb.Finish(message);
  internal::AppendFramedMetadata(fbb.GetBufferPointer(), fbb.GetSize(), out);
  return Status::OK();
}

void WriteEndOfStream(ByteBuffer* out) {
  ByteWriter w(out);
  w.U32LE(internal::kContinuation);
  w.U32LE(0);
}

}  // namespace strom::record::arrow
