#include "record/arrow/arrow_writer.h"

#include <flatbuffers/flatbuffers.h>

#include <cstring>

#include "record/arrow/arrow_schema.h"
#include "record/arrow/ipc_internal.h"

namespace strom::record::arrow {

using internal::PadTo8;

ArrowBatchWriter::ArrowBatchWriter(DataType row_type, ArrowCompression compression)
    : row_type_(std::move(row_type)),
      compressor_(compression),
      fbb_(std::make_unique<flatbuffers::FlatBufferBuilder>(1024)) {
  columns_.reserve(row_type_.fields().size());
  for (const DataField& f : row_type_.fields()) columns_.push_back(MakeColumnBuilder(f.type));
}

ArrowBatchWriter::~ArrowBatchWriter() = default;

Result<std::unique_ptr<ArrowBatchWriter>> ArrowBatchWriter::Create(const DataType& row_type,
                                                                   ArrowCompression compression) {
  STROM_RETURN_IF_ERROR(CheckArrowCompatible(row_type));
  if (compression.codec == CompressionCodec::kZstd &&
      (compression.zstd_level < 1 || compression.zstd_level > 22)) {
    return MakeError(ErrorCode::kInvalidConfig, "zstd level {} is outside 1-22",
                     compression.zstd_level);
  }
  return std::unique_ptr<ArrowBatchWriter>(new ArrowBatchWriter(row_type, compression));
}

int64_t ArrowBatchWriter::num_rows() const {
  return columns_.empty() ? rows_without_columns_ : columns_[0]->length();
}

Status ArrowBatchWriter::AppendRow(const GenericRow& row) {
  if (row.size() != columns_.size()) {
    return MakeError(ErrorCode::kCorruptRecord, "row has {} values, the schema has {} columns",
                     row.size(), columns_.size());
  }
  if (columns_.empty()) {
    ++rows_without_columns_;
    return Status::OK();
  }
  const int64_t before = columns_[0]->length();
  for (size_t i = 0; i < columns_.size(); ++i) {
    Status st = columns_[i]->AppendDatum(row[i]);
    if (__builtin_expect(!st.ok(), 0)) {
      for (size_t j = 0; j <= i; ++j) columns_[j]->Truncate(before);
      return st.WithContext(row_type_.fields()[i].name);
    }
  }
  return Status::OK();
}

Status ArrowBatchWriter::AppendRows(std::span<const GenericRow> rows) {
  for (const GenericRow& row : rows) STROM_RETURN_IF_ERROR(AppendRow(row));
  return Status::OK();
}

int64_t ArrowBatchWriter::EstimatedUncompressedSize() const {
  std::vector<ArrowNodeInfo> nodes;
  std::vector<ByteView> buffers;
  for (const auto& c : columns_) c->Collect(&nodes, &buffers);
  int64_t body = 0;
  for (ByteView b : buffers) body += PadTo8(static_cast<int64_t>(b.size()));
  // Metadata: a fixed part plus 16 bytes per node and per buffer.
  int64_t metadata = 8 + 128 + 16 * static_cast<int64_t>(nodes.size() + buffers.size());
  return metadata + body;
}

Status ArrowBatchWriter::Finish(ByteBuffer* out) {
  const int64_t rows = num_rows();
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i]->length() != rows) {
      return MakeError(ErrorCode::kCorruptRecord, "column {} holds {} rows, column 0 holds {}",
                       row_type_.fields()[i].name, columns_[i]->length(), rows);
    }
  }
  nodes_.clear();
  buffers_.clear();
  for (const auto& c : columns_) c->Collect(&nodes_, &buffers_);

  std::vector<fb::FieldNode> fb_nodes;
  fb_nodes.reserve(nodes_.size());
  for (const ArrowNodeInfo& n : nodes_) fb_nodes.emplace_back(n.length, n.null_count);

  const CompressionCodec codec = compressor_.compression().codec;
  std::vector<fb::Buffer> fb_buffers;
  fb_buffers.reserve(buffers_.size());
  int64_t body_length = 0;
  if (codec == CompressionCodec::kNone) {
    for (ByteView b : buffers_) {
      fb_buffers.emplace_back(body_length, static_cast<int64_t>(b.size()));
      body_length += PadTo8(static_cast<int64_t>(b.size()));
    }
  } else {
    compressed_body_.clear();
    for (ByteView b : buffers_) {
      size_t start = compressed_body_.size();
      STROM_RETURN_IF_ERROR(compressor_.Compress(b, &compressed_body_));
      int64_t length = static_cast<int64_t>(compressed_body_.size() - start);
      fb_buffers.emplace_back(static_cast<int64_t>(start), length);
      compressed_body_.append(static_cast<size_t>(PadTo8(length) - length), '\0');
    }
    body_length = static_cast<int64_t>(compressed_body_.size());
  }

  internal::BuildRecordBatchMessage(fbb_.get(), rows, fb_nodes, fb_buffers, codec, body_length);
  const size_t metadata_size = fbb_->GetSize();
  out->reserve(out->size() + internal::FramedMetadataSize(metadata_size) +
               static_cast<size_t>(body_length));
  internal::AppendFramedMetadata(fbb_->GetBufferPointer(), metadata_size, out);
  if (codec == CompressionCodec::kNone) {
    static constexpr char kZeros[8] = {};
    for (ByteView b : buffers_) {
      out->append(b.data(), b.size());
      out->append(kZeros, static_cast<size_t>(PadTo8(static_cast<int64_t>(b.size()))) - b.size());
    }
  } else {
    out->append(compressed_body_);
  }
  Clear();
  return Status::OK();
}

void ArrowBatchWriter::Clear() {
  for (auto& c : columns_) c->Clear();
  rows_without_columns_ = 0;
}

Result<ByteBuffer> EncodeArrowBatch(const DataType& row_type, std::span<const GenericRow> rows,
                                    ArrowCompression compression) {
  STROM_ASSIGN_OR_RETURN(auto writer, ArrowBatchWriter::Create(row_type, compression));
  STROM_RETURN_IF_ERROR(writer->AppendRows(rows));
  ByteBuffer out;
  STROM_RETURN_IF_ERROR(writer->Finish(&out));
  return out;
}

}  // namespace strom::record::arrow
