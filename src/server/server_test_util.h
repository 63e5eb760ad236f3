#pragma once

// Helpers shared by the server tests: Fluss-shaped requests and real log batches built with
// the record component's builders.

#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ids.h"
#include "proto/FlussApi.pb.h"
#include "record/arrow/arrow_log_batch.h"
#include "record/arrow/compression.h"
#include "record/data_type.h"
#include "record/datum.h"
#include "record/indexed_row.h"
#include "record/log_record_batch.h"

namespace strom::server::testing {

/// A log table (id INT, name STRING, score BIGINT) in Fluss table JSON.
inline std::string LogTableJson(int buckets, const std::string& extra_properties = "") {
  return R"({"version":1,"schema":{"version":1,"columns":[)"
         R"({"name":"id","data_type":{"type":"INTEGER"},"id":0},)"
         R"({"name":"name","data_type":{"type":"STRING"},"id":1},)"
         R"({"name":"score","data_type":{"type":"BIGINT"},"id":2}],"highest_field_id":2},)"
         R"("partition_key":[],"bucket_key":[],"bucket_count":)" +
         std::to_string(buckets) + R"(,"properties":{)" + extra_properties +
         R"(},"custom_properties":{}})";
}

inline std::vector<record::DataType> RowTypes() {
  return {record::DataType::Int(), record::DataType::String(), record::DataType::BigInt()};
}

inline record::DataType RowType() {
  std::vector<record::DataField> fields;
  auto types = RowTypes();
  const char* names[] = {"id", "name", "score"};
  for (size_t i = 0; i < types.size(); ++i) {
    fields.push_back(record::DataField{names[i], types[i], std::nullopt, static_cast<int32_t>(i)});
  }
  return record::DataType::Row(std::move(fields));
}

inline std::vector<record::GenericRow> Rows(int first, int count) {
  std::vector<record::GenericRow> rows;
  for (int i = first; i < first + count; ++i) {
    rows.push_back({record::Datum(int32_t{i}), record::Datum("name-" + std::to_string(i)),
                    record::Datum(int64_t{i} * 10)});
  }
  return rows;
}

/// One ARROW batch (ZSTD, the table default) of rows [first, first + count).
inline ByteBuffer ArrowBatch(int first, int count, WriterId writer = kNoWriterId,
                             BatchSequence seq = kNoBatchSequence, SchemaId schema = SchemaId(1)) {
  ByteBuffer out;
  record::LogBatchParams params;
  params.schema_id = schema;
  params.writer_id = writer;
  params.batch_sequence = seq;
  auto rows = Rows(first, count);
  auto batch = record::arrow::BuildArrowLogBatch(&out, params, RowType(), rows, {},
                                                 record::arrow::ArrowCompression::Zstd(3));
  if (!batch.ok()) return {};
  return out;
}

/// One INDEXED batch of rows [first, first + count).
inline ByteBuffer IndexedBatch(int first, int count) {
  ByteBuffer out;
  record::LogBatchParams params;
  params.schema_id = SchemaId(1);
  record::LogRecordBatchBuilder builder(&out, params);
  auto types = RowTypes();
  for (const auto& row : Rows(first, count)) {
    ByteBuffer encoded;
    if (!record::AppendIndexedRow(types, row, &encoded).ok()) return {};
    if (!builder.AppendRow(record::ChangeType::kAppendOnly, encoded).ok()) return {};
  }
  builder.Finish();
  return out;
}

/// The first-column values (ids) of every record in a fetched blob, decoding ARROW or
/// INDEXED batches; records below `from_offset` are skipped as clients do.
inline std::vector<int32_t> DecodeIds(const ByteBuffer& records, bool arrow,
                                      LogOffset from_offset = LogOffset(0)) {
  std::vector<int32_t> ids;
  record::LogRecordBatchIterator it(records);
  auto types = RowTypes();
  // Decoded batches point at the row type: it must outlive them.
  const record::DataType row_type = RowType();
  while (true) {
    auto next = it.Next();
    if (!next.ok() || !next->has_value()) break;
    const record::LogRecordBatch& batch = **next;
    std::vector<record::GenericRow> rows;
    if (arrow) {
      auto body = record::arrow::DecodeArrowLogBatch(batch, row_type);
      if (!body.ok()) return {-1};
      rows = body->batch.ToRows();
    } else {
      record::RowRecordIterator rit(batch);
      while (true) {
        auto r = rit.Next();
        if (!r.ok() || !r->has_value()) break;
        std::vector<record::Datum> row;
        if (!record::DecodeIndexedRow(types, (*r)->row, &row).ok()) return {-1};
        rows.push_back(std::move(row));
      }
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      if (batch.base_offset() + static_cast<int64_t>(i) < from_offset) continue;
      ids.push_back(rows[i][0].as<int32_t>());
    }
  }
  return ids;
}

inline proto::PbTablePath Path(const std::string& db, const std::string& table) {
  proto::PbTablePath p;
  p.set_database_name(db);
  p.set_table_name(table);
  return p;
}

}  // namespace strom::server::testing
