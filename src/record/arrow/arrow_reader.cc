#include "record/arrow/arrow_reader.h"

#include <cstring>
#include <limits>

#include "record/arrow/ipc_internal.h"

namespace strom::record::arrow {

using internal::PadTo8;

namespace {

// The flatbuffer verifier allows vectors of structs at 4-byte alignment while FieldNode and
// Buffer need 8: read them by copy, never in place.
template <typename T>
T LoadStruct(const flatbuffers::Vector<const T*>* vec, size_t index) {
  T value;
  std::memcpy(static_cast<void*>(&value), vec->Data() + index * sizeof(T), sizeof(T));
  return value;
}

constexpr int64_t kMaxLength = std::numeric_limits<int32_t>::max();

/// Splits `v` into floor(v / unit) and the non-negative remainder, without overflow.
void FloorDivMod(int64_t v, int64_t unit, int64_t* quotient, int64_t* remainder) {
  int64_t q = v / unit;
  int64_t r = v % unit;
  if (r < 0) {
    r += unit;
    --q;
  }
  *quotient = q;
  *remainder = r;
}

int32_t LoadI32(const char* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

// ---- ArrowColumnView ------------------------------------------------------------------------

int32_t ArrowColumnView::GetTimeMillis(int64_t i) const {
  switch (unit_) {
    case ArrowTimeUnit::kSecond:
      return static_cast<int32_t>(static_cast<uint32_t>(GetFixed<int32_t>(i)) * 1000u);
    case ArrowTimeUnit::kMillisecond:
      return GetFixed<int32_t>(i);
    case ArrowTimeUnit::kMicrosecond:
      return static_cast<int32_t>(GetFixed<int64_t>(i) / 1000);
    case ArrowTimeUnit::kNanosecond:
      return static_cast<int32_t>(GetFixed<int64_t>(i) / 1000000);
  }
  return 0;
}

TimestampValue ArrowColumnView::GetTimestamp(int64_t i) const {
  int64_t v = GetFixed<int64_t>(i);
  TimestampValue ts;
  switch (unit_) {
    case ArrowTimeUnit::kSecond:
      // Wraps like Java's long arithmetic for seconds beyond the millisecond range.
      ts.millis = static_cast<int64_t>(static_cast<uint64_t>(v) * 1000u);
      break;
    case ArrowTimeUnit::kMillisecond:
      ts.millis = v;
      break;
    case ArrowTimeUnit::kMicrosecond: {
      int64_t micros_of_milli;
      FloorDivMod(v, 1000, &ts.millis, &micros_of_milli);
      ts.nanos_of_milli = static_cast<int32_t>(micros_of_milli * 1000);
      break;
    }
    case ArrowTimeUnit::kNanosecond: {
      int64_t nanos;
      FloorDivMod(v, 1000000, &ts.millis, &nanos);
      ts.nanos_of_milli = static_cast<int32_t>(nanos);
      break;
    }
  }
  return ts;
}

std::string_view ArrowColumnView::GetBytes(int64_t i) const {
  if (layout_ == ArrowLayout::kFixedSizeBinary) {
    return std::string_view(values_ + i * width_, static_cast<size_t>(width_));
  }
  int32_t begin = LoadOffset(i);
  int32_t end = LoadOffset(i + 1);
  return std::string_view(values_ + begin, static_cast<size_t>(end - begin));
}

Datum ArrowColumnView::GetDatum(int64_t i) const {
  if (IsNull(i)) return Datum();
  switch (type_->root()) {
    case TypeRoot::kBoolean:
      return GetBool(i);
    case TypeRoot::kTinyInt:
      return GetFixed<int8_t>(i);
    case TypeRoot::kSmallInt:
      return GetFixed<int16_t>(i);
    case TypeRoot::kInt:
    case TypeRoot::kDate:
      return GetFixed<int32_t>(i);
    case TypeRoot::kBigInt:
      return GetFixed<int64_t>(i);
    case TypeRoot::kFloat:
      return GetFixed<float>(i);
    case TypeRoot::kDouble:
      return GetFixed<double>(i);
    case TypeRoot::kTime:
      return GetTimeMillis(i);
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz:
      return GetTimestamp(i);
    case TypeRoot::kDecimal:
      return GetDecimal(i);
    case TypeRoot::kChar:
    case TypeRoot::kString:
    case TypeRoot::kBinary:
    case TypeRoot::kBytes:
      return std::string(GetBytes(i));
    case TypeRoot::kArray: {
      ArrayValue a;
      int32_t begin = ListBegin(i);
      int32_t end = ListEnd(i);
      a.elements.reserve(static_cast<size_t>(end - begin));
      for (int32_t k = begin; k < end; ++k) a.elements.push_back(children_[0].GetDatum(k));
      return a;
    }
    case TypeRoot::kMap: {
      MapValue m;
      int32_t begin = ListBegin(i);
      int32_t end = ListEnd(i);
      m.entries.reserve(static_cast<size_t>(end - begin));
      for (int32_t k = begin; k < end; ++k) {
        m.entries.emplace_back(children_[0].GetDatum(k), children_[1].GetDatum(k));
      }
      return m;
    }
    case TypeRoot::kRow: {
      RowValue r;
      r.fields.reserve(children_.size());
      for (const ArrowColumnView& c : children_) r.fields.push_back(c.GetDatum(i));
      return r;
    }
  }
  return Datum();
}

// ---- DecodedArrowBatch ----------------------------------------------------------------------

GenericRow DecodedArrowBatch::GetRow(int64_t i) const {
  GenericRow row;
  row.reserve(columns_.size());
  for (const ArrowColumnView& c : columns_) row.push_back(c.GetDatum(i));
  return row;
}

std::vector<GenericRow> DecodedArrowBatch::ToRows() const {
  std::vector<GenericRow> rows;
  rows.reserve(static_cast<size_t>(num_rows_));
  for (int64_t i = 0; i < num_rows_; ++i) rows.push_back(GetRow(i));
  return rows;
}

// ---- ArrowBatchReader -----------------------------------------------------------------------

struct ArrowBatchReader::NodeCursor {
  const flatbuffers::Vector<const fb::FieldNode*>* nodes = nullptr;
  size_t next_node = 0;
  size_t next_buffer = 0;
};

ArrowBatchReader::ArrowBatchReader(ArrowReadOptions options) : options_(options) {}

namespace {

/// Checks `count` + 1 int32 offsets: non-negative, non-decreasing, last <= limit.
Status CheckOffsets(ByteView offsets, int64_t count, int64_t limit, const DataType& type) {
  if (static_cast<int64_t>(offsets.size()) < (count + 1) * 4) {
    return Corruption("Arrow offsets buffer of {} ({} bytes) is too small for {} slots",
                      type.ToString(), offsets.size(), count);
  }
  const char* p = offsets.data();
  int32_t prev = LoadI32(p);
  if (prev < 0) return Corruption("negative Arrow offset in {}", type.ToString());
  for (int64_t i = 1; i <= count; ++i) {
    int32_t cur = LoadI32(p + i * 4);
    if (cur < prev) return Corruption("decreasing Arrow offsets in {}", type.ToString());
    prev = cur;
  }
  if (prev > limit) {
    return Corruption("Arrow offset {} of {} is past the end ({})", prev, type.ToString(), limit);
  }
  return Status::OK();
}

}  // namespace

Result<ArrowColumnView> ArrowBatchReader::ReadColumn(const DataType& type, NodeCursor* cursor) {
  // Counts were checked against the row type before, so the cursors stay in range.
  const fb::FieldNode node_value = LoadStruct(cursor->nodes, cursor->next_node++);
  const fb::FieldNode* node = &node_value;
  ArrowColumnView view;
  view.type_ = &type;
  view.layout_ = LayoutOf(type);
  view.length_ = node->length();
  view.null_count_ = node->null_count();
  if (view.length_ < 0 || view.length_ > kMaxLength || view.null_count_ < 0 ||
      view.null_count_ > view.length_) {
    return Corruption("Arrow field node of {} has length {} and null count {}", type.ToString(),
                      view.length_, view.null_count_);
  }
  const int64_t n = view.length_;
  ByteView validity = buffers_[cursor->next_buffer++];
  if (view.null_count_ > 0) {
    if (static_cast<int64_t>(validity.size()) < (n + 7) / 8) {
      return Corruption("Arrow validity buffer of {} is too small", type.ToString());
    }
    view.validity_ = reinterpret_cast<const uint8_t*>(validity.data());
  }

  switch (view.layout_) {
    case ArrowLayout::kBool: {
      ByteView values = buffers_[cursor->next_buffer++];
      if (static_cast<int64_t>(values.size()) < (n + 7) / 8) {
        return Corruption("Arrow boolean buffer is too small");
      }
      view.values_ = values.data();
      break;
    }
    case ArrowLayout::kFixedWidth:
    case ArrowLayout::kFixedSizeBinary: {
      ByteView values = buffers_[cursor->next_buffer++];
      view.width_ = FixedByteWidth(type);
      if (type.root() == TypeRoot::kTime || type.root() == TypeRoot::kTimestamp ||
          type.root() == TypeRoot::kTimestampLtz) {
        view.unit_ = TimeUnitForPrecision(type.precision());
      }
      if (static_cast<int64_t>(values.size()) < n * view.width_) {
        return Corruption("Arrow value buffer of {} ({} bytes) is too small for {} slots",
                          type.ToString(), values.size(), n);
      }
      view.values_ = values.data();
      break;
    }
    case ArrowLayout::kVarBinary: {
      ByteView offsets = buffers_[cursor->next_buffer++];
      ByteView data = buffers_[cursor->next_buffer++];
      // Arrow Java writes no offsets at all for an empty array.
      if (n == 0 && offsets.size() < 4) break;
      STROM_RETURN_IF_ERROR(CheckOffsets(offsets, n, static_cast<int64_t>(data.size()), type));
      view.offsets_ = offsets.data();
      view.values_ = data.data();
      break;
    }
    case ArrowLayout::kList: {
      ByteView offsets = buffers_[cursor->next_buffer++];
      STROM_ASSIGN_OR_RETURN(ArrowColumnView element, ReadColumn(type.element(), cursor));
      if (!(n == 0 && offsets.size() < 4)) {
        STROM_RETURN_IF_ERROR(CheckOffsets(offsets, n, element.length(), type));
        view.offsets_ = offsets.data();
      }
      view.children_.push_back(std::move(element));
      break;
    }
    case ArrowLayout::kMap: {
      ByteView offsets = buffers_[cursor->next_buffer++];
      const fb::FieldNode entries_value = LoadStruct(cursor->nodes, cursor->next_node++);
      const fb::FieldNode* entries = &entries_value;
      ++cursor->next_buffer;  // the entries struct's validity: entries are never null
      STROM_ASSIGN_OR_RETURN(ArrowColumnView keys, ReadColumn(type.key(), cursor));
      STROM_ASSIGN_OR_RETURN(ArrowColumnView values, ReadColumn(type.value(), cursor));
      int64_t entries_length = entries->length();
      if (entries_length < 0 || keys.length() < entries_length ||
          values.length() < entries_length) {
        return Corruption("Arrow map entries of {} are inconsistent", type.ToString());
      }
      if (!(n == 0 && offsets.size() < 4)) {
        STROM_RETURN_IF_ERROR(CheckOffsets(offsets, n, entries_length, type));
        view.offsets_ = offsets.data();
      }
      view.children_.push_back(std::move(keys));
      view.children_.push_back(std::move(values));
      break;
    }
    case ArrowLayout::kStruct: {
      view.children_.reserve(type.fields().size());
      for (const DataField& f : type.fields()) {
        STROM_ASSIGN_OR_RETURN(ArrowColumnView child, ReadColumn(f.type, cursor));
        if (child.length() < n) {
          return Corruption("Arrow struct child {} is shorter than its parent", f.name);
        }
        view.children_.push_back(std::move(child));
      }
      break;
    }
  }
  return view;
}

Result<DecodedArrowBatch> ArrowBatchReader::Read(ByteView data, const DataType& row_type) {
  STROM_RETURN_IF_ERROR(CheckArrowCompatible(row_type));
  STROM_ASSIGN_OR_RETURN(internal::ParsedMessage parsed, internal::ParseMessage(data, &scratch_));
  const fb::Message& message = *parsed.message;
  if (message.version() < fb::MetadataVersion::V4) {
    return Corruption("Arrow metadata version {} is not supported",
                      static_cast<int>(message.version()));
  }
  const fb::RecordBatch* batch = message.header_as_RecordBatch();
  if (batch == nullptr) {
    return Corruption("expected an Arrow RecordBatch message, got header type {}",
                      static_cast<int>(message.header_type()));
  }
  if (batch->length() < 0 || batch->length() > kMaxLength) {
    return Corruption("Arrow RecordBatch length {} is out of range", batch->length());
  }
  if (batch->variadic_buffer_counts() != nullptr && batch->variadic_buffer_counts()->size() > 0) {
    return Corruption("Arrow variadic buffers are not supported");
  }

  NodeAndBufferCount expected;
  for (const DataField& f : row_type.fields()) {
    NodeAndBufferCount c = CountNodesAndBuffers(f.type);
    expected.nodes += c.nodes;
    expected.buffers += c.buffers;
  }
  const auto* nodes = batch->nodes();
  const auto* buffers = batch->buffers();
  size_t node_count = nodes == nullptr ? 0 : nodes->size();
  size_t buffer_count = buffers == nullptr ? 0 : buffers->size();
  if (node_count != static_cast<size_t>(expected.nodes) ||
      buffer_count != static_cast<size_t>(expected.buffers)) {
    return Corruption("Arrow RecordBatch has {} nodes and {} buffers, the row type needs {} and {}",
                      node_count, buffer_count, expected.nodes, expected.buffers);
  }

  DecodedArrowBatch out;
  out.num_rows_ = batch->length();
  out.message_size_ = parsed.total_size;
  if (const fb::BodyCompression* compression = batch->compression()) {
    if (compression->method() != fb::BodyCompressionMethod::BUFFER) {
      return Corruption("Arrow body compression method {} is not supported",
                        static_cast<int>(compression->method()));
    }
    switch (compression->codec()) {
      case fb::CompressionType::LZ4_FRAME:
        out.codec_ = CompressionCodec::kLz4Frame;
        break;
      case fb::CompressionType::ZSTD:
        out.codec_ = CompressionCodec::kZstd;
        break;
      default:
        return Corruption("Arrow compression codec {} is not supported",
                          static_cast<int>(compression->codec()));
    }
  }

  // Every buffer range must lie inside the body.
  const ByteView body = parsed.body;
  buffers_.clear();
  buffers_.reserve(buffer_count);
  for (size_t i = 0; i < buffer_count; ++i) {
    const fb::Buffer b_value = LoadStruct(buffers, i);
    const fb::Buffer* b = &b_value;
    int64_t offset = b->offset();
    int64_t length = b->length();
    if (offset < 0 || length < 0 || static_cast<uint64_t>(offset) > body.size() ||
        static_cast<uint64_t>(length) > body.size() - static_cast<uint64_t>(offset)) {
      return Corruption("Arrow buffer {} [{}, +{}) is outside the {}-byte body", i, offset,
                        length, body.size());
    }
    buffers_.push_back(body.substr(static_cast<size_t>(offset), static_cast<size_t>(length)));
  }

  if (out.codec_ != CompressionCodec::kNone) {
    sizes_.clear();
    int64_t total = 0;
    for (ByteView b : buffers_) {
      STROM_ASSIGN_OR_RETURN(int64_t size, BufferDecompressor::DecompressedLength(b));
      if (size > options_.max_decompressed_bytes ||
          total > options_.max_decompressed_bytes - PadTo8(size)) {
        return Corruption("Arrow batch decompresses to more than {} bytes",
                          options_.max_decompressed_bytes);
      }
      sizes_.push_back(size);
      total += PadTo8(size);
    }
    out.arena_ = std::make_unique_for_overwrite<char[]>(static_cast<size_t>(total));
    int64_t pos = 0;
    for (size_t i = 0; i < buffers_.size(); ++i) {
      char* dst = out.arena_.get() + pos;
      STROM_RETURN_IF_ERROR(decompressor_.Decompress(out.codec_, buffers_[i], dst, sizes_[i]));
      buffers_[i] = ByteView(dst, static_cast<size_t>(sizes_[i]));
      pos += PadTo8(sizes_[i]);
    }
  }

  NodeCursor cursor;
  cursor.nodes = nodes;
  // The views point at the types they were decoded for: the batch keeps its own copy, so it
  // never depends on the lifetime of the caller's row type.
  out.row_type_ = std::make_shared<const DataType>(row_type);
  out.columns_.reserve(out.row_type_->fields().size());
  for (const DataField& f : out.row_type_->fields()) {
    STROM_ASSIGN_OR_RETURN(ArrowColumnView column, ReadColumn(f.type, &cursor));
    if (column.length() != out.num_rows_) {
      return Corruption("Arrow column {} has {} slots, the batch has {} rows", f.name,
                        column.length(), out.num_rows_);
    }
    out.columns_.push_back(std::move(column));
  }
  return out;
}

Result<DecodedArrowBatch> DecodeArrowBatch(ByteView data, const DataType& row_type,
                                           ArrowReadOptions options) {
  ArrowBatchReader reader(options);
  return reader.Read(data, row_type);
}

}  // namespace strom::record::arrow
