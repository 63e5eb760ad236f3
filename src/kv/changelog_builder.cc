#include "kv/changelog_builder.h"

#include "record/arrow/arrow_log_batch.h"
#include "record/compacted_row.h"
#include "record/indexed_row.h"

namespace strom::kv {

Status ChangelogBuilder::Reset(const SchemaInfo& latest) {
  latest_ = &latest;
  change_types_.clear();
  rows_.clear();
  row_ends_.clear();
  if (config_.log_format == LogFormat::kArrow) {
    if (arrow_writer_ == nullptr || arrow_schema_id_ != latest.id) {
      STROM_ASSIGN_OR_RETURN(arrow_writer_,
                             record::arrow::ArrowBatchWriter::Create(latest.schema->RowType(),
                                                                     config_.arrow_compression));
      arrow_schema_id_ = latest.id;
    }
    arrow_writer_->Clear();
  }
  return Status::OK();
}

const record::GenericRow& ChangelogBuilder::Padded(const record::GenericRow& row) {
  if (row.size() == latest_->types.size()) return row;
  padded_ = row;
  padded_.resize(latest_->types.size());
  return padded_;
}

Status ChangelogBuilder::Append(record::ChangeType type, const KvValue& value) {
  switch (config_.log_format) {
    case LogFormat::kArrow:
      STROM_RETURN_IF_ERROR(arrow_writer_->AppendRow(Padded(value.row)));
      break;
    case LogFormat::kCompacted:
    case LogFormat::kIndexed: {
      bool same_format = (config_.log_format == LogFormat::kCompacted) ==
                         (config_.kv_format == KvFormat::kCompacted);
      if (same_format && value.encoded && value.schema_id == latest_->id) {
        rows_.append(value.encoded->data(), value.encoded->size());
      } else if (config_.log_format == LogFormat::kCompacted) {
        STROM_RETURN_IF_ERROR(
            record::AppendCompactedRow(latest_->types, Padded(value.row), &rows_));
      } else {
        STROM_RETURN_IF_ERROR(record::AppendIndexedRow(latest_->types, Padded(value.row), &rows_));
      }
      row_ends_.push_back(rows_.size());
      break;
    }
  }
  change_types_.push_back(type);
  return Status::OK();
}

Result<ByteBuffer> ChangelogBuilder::Build(WriterId writer_id, BatchSequence batch_sequence) {
  record::LogBatchParams params;
  params.schema_id = latest_->id;
  params.append_only = false;
  params.writer_id = writer_id;
  params.batch_sequence = batch_sequence;
  ByteBuffer out;
  if (config_.log_format == LogFormat::kArrow) {
    auto batch =
        record::arrow::BuildArrowLogBatch(&out, params, arrow_writer_.get(), change_types_);
    if (!batch.ok()) return std::move(batch).status();
    return out;
  }
  record::LogRecordBatchBuilder builder(&out, params);
  size_t start = 0;
  for (size_t i = 0; i < change_types_.size(); ++i) {
    STROM_RETURN_IF_ERROR(
        builder.AppendRow(change_types_[i], ByteView(rows_.data() + start, row_ends_[i] - start)));
    start = row_ends_[i];
  }
  builder.Finish();
  return out;
}

}  // namespace strom::kv
