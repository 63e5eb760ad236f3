#include "record/arrow/arrow_projection.h"

#include <algorithm>
#include <cstring>

#include <flatbuffers/flatbuffers.h>
#include <fmt/format.h>

#include "record/arrow/arrow_schema.h"
#include "record/arrow/ipc_internal.h"
#include "record/log_record_batch.h"

namespace strom::record::arrow {

ArrowProjection::ArrowProjection(ArrowProjection&&) noexcept = default;
ArrowProjection& ArrowProjection::operator=(ArrowProjection&&) noexcept = default;
ArrowProjection::~ArrowProjection() = default;

Result<ArrowProjection> ArrowProjection::Create(const DataType& row_type,
                                                std::span<const int32_t> selected,
                                                ArrowCompression table_compression) {
  STROM_RETURN_IF_ERROR(CheckArrowCompatible(row_type));
  const auto& fields = row_type.fields();
  int32_t prev = -1;
  for (int32_t column : selected) {
    if (column < prev) {
      return MakeError(ErrorCode::kInvalidColumnProjection,
                       "projection indexes must be in field order, got {}",
                       fmt::join(selected, ", "));
    }
    if (column == prev) {
      return MakeError(ErrorCode::kInvalidColumnProjection,
                       "projection indexes must not repeat a field, got {}",
                       fmt::join(selected, ", "));
    }
    if (column >= static_cast<int32_t>(fields.size())) {
      return MakeError(ErrorCode::kInvalidColumnProjection,
                       "projected fields [{}] are out of bound for a schema with {} fields",
                       fmt::join(selected, ", "), fields.size());
    }
    prev = column;
  }

  ArrowProjection p;
  p.selected_.assign(selected.begin(), selected.end());
  p.codec_ = table_compression.codec;
  std::vector<DataField> projected;
  size_t next = 0;
  for (size_t c = 0; c < fields.size(); ++c) {
    NodeAndBufferCount count = CountNodesAndBuffers(fields[c].type);
    if (next < p.selected_.size() && p.selected_[next] == static_cast<int32_t>(c)) {
      p.node_ranges_.emplace_back(p.total_nodes_, p.total_nodes_ + count.nodes);
      p.buffer_ranges_.emplace_back(p.total_buffers_, p.total_buffers_ + count.buffers);
      projected.push_back(fields[c]);
      ++next;
    }
    p.total_nodes_ += count.nodes;
    p.total_buffers_ += count.buffers;
  }
  p.projected_row_type_ = DataType::Row(std::move(projected));
  p.fbb_ = std::make_unique<flatbuffers::FlatBufferBuilder>(512);
  return p;
}

Status ArrowProjection::Plan(ByteView message, ProjectedMessage* out) {
  return PlanHead(message, message.size(), out);
}

Status ArrowProjection::PlanHead(ByteView head, size_t size, ProjectedMessage* out) {
  STROM_ASSIGN_OR_RETURN(internal::ParsedMessage parsed,
                         internal::ParseMessageHead(head, size, &scratch_));
  const fb::RecordBatch* batch = parsed.message->header_as_RecordBatch();
  if (batch == nullptr) return Corruption("expected an Arrow RecordBatch message to project");
  const auto* nodes = batch->nodes();
  const auto* buffers = batch->buffers();
  size_t node_count = nodes == nullptr ? 0 : nodes->size();
  size_t buffer_count = buffers == nullptr ? 0 : buffers->size();
  if (node_count != static_cast<size_t>(total_nodes_) ||
      buffer_count != static_cast<size_t>(total_buffers_)) {
    return Corruption("Arrow RecordBatch has {} nodes and {} buffers, the schema needs {} and {}",
                      node_count, buffer_count, total_nodes_, total_buffers_);
  }

  // The verifier only guarantees 4-byte alignment for vectors of structs, and FieldNode and
  // Buffer need 8: copy them out (a few hundred bytes) rather than read them in place.
  std::vector<fb::FieldNode> node_list(node_count);
  std::vector<fb::Buffer> buffer_list(buffer_count);
  if (node_count > 0) {
    std::memcpy(static_cast<void*>(node_list.data()), nodes->Data(),
                node_count * sizeof(fb::FieldNode));
  }
  if (buffer_count > 0) {
    std::memcpy(static_cast<void*>(buffer_list.data()), buffers->Data(),
                buffer_count * sizeof(fb::Buffer));
  }
  const int64_t body_length = static_cast<int64_t>(parsed.body_length);
  const size_t body_start = parsed.body_offset;
  std::vector<fb::FieldNode> new_nodes;
  std::vector<fb::Buffer> new_buffers;
  out->body_ranges.clear();
  int64_t new_offset = 0;
  for (size_t s = 0; s < selected_.size(); ++s) {
    for (int n = node_ranges_[s].first; n < node_ranges_[s].second; ++n) {
      const fb::FieldNode* node = &node_list[static_cast<size_t>(n)];
      new_nodes.emplace_back(node->length(), node->null_count());
    }
    for (int b = buffer_ranges_[s].first; b < buffer_ranges_[s].second; ++b) {
      const fb::Buffer* buffer = &buffer_list[static_cast<size_t>(b)];
      // The padded size runs to the next buffer (or the end of the body).
      int64_t offset = buffer->offset();
      int64_t next = b + 1 < total_buffers_
                         ? buffer_list[static_cast<size_t>(b + 1)].offset()
                         : body_length;
      if (offset < 0 || next < offset || next > body_length || buffer->length() < 0 ||
          buffer->length() > next - offset) {
        return Corruption("Arrow buffer {} [{}, +{}) does not fit before offset {} (body {})", b,
                          offset, buffer->length(), next, body_length);
      }
      new_buffers.emplace_back(new_offset, buffer->length());
      out->body_ranges.emplace_back(body_start + static_cast<size_t>(offset),
                                    static_cast<size_t>(next - offset));
      new_offset += next - offset;
    }
  }

  internal::BuildRecordBatchMessage(fbb_.get(), batch->length(), new_nodes, new_buffers, codec_,
                                    new_offset);
  out->header.clear();
  internal::AppendFramedMetadata(fbb_->GetBufferPointer(), fbb_->GetSize(), &out->header);
  out->input_size = parsed.total_size;
  out->output_size = out->header.size() + static_cast<size_t>(new_offset);
  return Status::OK();
}

Status ArrowProjection::ProjectMessage(ByteView message, ByteBuffer* out) {
  STROM_RETURN_IF_ERROR(Plan(message, &plan_));
  out->reserve(out->size() + plan_.output_size);
  out->append(plan_.header);
  for (const auto& [offset, length] : plan_.body_ranges) out->append(message.data() + offset, length);
  return Status::OK();
}

Result<size_t> ArrowProjection::PlanLogBatch(ByteView head, size_t available,
                                             ProjectedLogBatch* out) {
  if (head.size() < kLogHeaderSizeV1 && head.size() < available) {
    return std::min(kLogHeaderSizeV1, available);
  }
  STROM_ASSIGN_OR_RETURN(LogBatchHeaderInfo info, ParseLogBatchHeader(head, available));
  const size_t header_size = info.layout->header_size;
  head = head.substr(0, info.size);
  out->head.clear();
  out->body_ranges.clear();
  out->input_size = info.size;
  out->next_offset = info.next_offset;
  if (info.size == header_size) {
    out->head.append(head);  // an empty batch only moves the offset forward
    out->output_size = out->head.size();
    return size_t{0};
  }
  size_t change_types = 0;
  if (!info.append_only) {
    if (static_cast<size_t>(info.record_count) > info.size - header_size) {
      return MakeError(ErrorCode::kCorruptRecord,
                       "ARROW batch declares {} change types in a {}-byte body",
                       info.record_count, info.size - header_size);
    }
    change_types = static_cast<size_t>(info.record_count);
  }
  const size_t message_start = header_size + change_types;
  const size_t message_size = info.size - message_start;
  const size_t needed = message_start +
                        internal::MessageHeadSize(head.substr(std::min(message_start, head.size())),
                                                  message_size);
  if (needed > head.size()) return needed;
  STROM_RETURN_IF_ERROR(PlanHead(head.substr(message_start), message_size, &plan_));
  const size_t new_size = message_start + plan_.output_size;
  if (new_size - kLogOverhead > static_cast<size_t>(INT32_MAX)) {
    return MakeError(ErrorCode::kCorruptRecord, "projected batch is too large");
  }
  out->head.reserve(message_start + plan_.header.size());
  out->head.append(head.substr(0, message_start));
  StoreI32LE(out->head.data() + kLogLengthOffset, static_cast<int32_t>(new_size - kLogOverhead));
  out->head.append(plan_.header);
  for (const auto& [offset, length] : plan_.body_ranges) {
    if (length == 0) continue;
    const size_t start = message_start + offset;
    if (!out->body_ranges.empty() &&
        out->body_ranges.back().first + out->body_ranges.back().second == start) {
      out->body_ranges.back().second += length;
    } else {
      out->body_ranges.emplace_back(start, length);
    }
  }
  out->output_size = new_size;
  return size_t{0};
}

Status ArrowProjection::ProjectLogBatch(ByteView batch_bytes, ByteBuffer* out) {
  STROM_ASSIGN_OR_RETURN(size_t needed, PlanLogBatch(batch_bytes, batch_bytes.size(), &batch_plan_));
  if (needed != 0) {  // cannot happen: every byte of the batch is there
    return MakeError(ErrorCode::kCorruptRecord, "log batch needs {} bytes, {} given", needed,
                     batch_bytes.size());
  }
  out->reserve(out->size() + batch_plan_.output_size);
  out->append(batch_plan_.head);
  for (const auto& [offset, length] : batch_plan_.body_ranges) {
    out->append(batch_bytes.data() + offset, length);
  }
  return Status::OK();
}

Result<size_t> ArrowProjection::ProjectLogRecords(ByteView records, size_t max_bytes,
                                                  ByteBuffer* out) {
  LogRecordBatchIterator it(records);
  const size_t start = out->size();
  size_t consumed = 0;
  while (true) {
    Result<std::optional<LogRecordBatch>> batch = it.Next();
    if (!batch.ok()) {
      out->resize(start);
      return batch.status();
    }
    if (!batch->has_value()) break;
    const size_t before = out->size();
    Status st = ProjectLogBatch((*batch)->data(), out);
    if (!st.ok()) {
      out->resize(start);
      return st;
    }
    if (out->size() - start > max_bytes) {
      out->resize(before);
      break;
    }
    consumed = it.position();
  }
  return consumed;
}

}  // namespace strom::record::arrow
