#pragma once

// Helpers for tests that drive primary-key tables over raw RPC: the table JSON of two test
// tables, KV record batches and keys built with the record component's encoders, and decoding
// of the stored values that Lookup, PrefixLookup, LimitScan and ScanKv return.

#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ids.h"
#include "record/arrow/arrow_log_batch.h"
#include "record/bucketing.h"
#include "record/compacted_row.h"
#include "record/data_type.h"
#include "record/datum.h"
#include "record/key_encoder.h"
#include "record/kv_record_batch.h"
#include "record/log_record_batch.h"
#include "record/value_record.h"

namespace strom::server::testing {

/// A primary-key table (id INT NOT NULL PRIMARY KEY, name STRING, score BIGINT).
inline std::string PkTableJson(int buckets, const std::string& extra_properties = "") {
  return R"({"version":1,"schema":{"version":1,"columns":[)"
         R"({"name":"id","data_type":{"type":"INTEGER","nullable":false},"id":0},)"
         R"({"name":"name","data_type":{"type":"STRING"},"id":1},)"
         R"({"name":"score","data_type":{"type":"BIGINT"},"id":2}],)"
         R"("primary_key":["id"],"highest_field_id":2},)"
         R"("partition_key":[],"bucket_key":["id"],"bucket_count":)" +
         std::to_string(buckets) + R"(,"properties":{)" + extra_properties +
         R"(},"custom_properties":{}})";
}

/// A primary-key table with a composite key and a shorter bucket key, for prefix lookups:
/// (a INT NOT NULL, b STRING NOT NULL, v BIGINT), PRIMARY KEY (a, b), bucket key (a).
inline std::string CompositePkTableJson(int buckets) {
  return R"({"version":1,"schema":{"version":1,"columns":[)"
         R"({"name":"a","data_type":{"type":"INTEGER","nullable":false},"id":0},)"
         R"({"name":"b","data_type":{"type":"STRING","nullable":false},"id":1},)"
         R"({"name":"v","data_type":{"type":"BIGINT"},"id":2}],)"
         R"("primary_key":["a","b"],"highest_field_id":2},)"
         R"("partition_key":[],"bucket_key":["a"],"bucket_count":)" +
         std::to_string(buckets) + R"(,"properties":{},"custom_properties":{}})";
}

/// The row type of both test tables: (INT NOT NULL, STRING [NOT NULL], BIGINT).
inline record::DataType KvRowType(bool composite = false) {
  std::vector<record::DataField> fields;
  fields.push_back({composite ? "a" : "id", record::DataType::Int().NotNull(), std::nullopt, 0});
  record::DataType name = record::DataType::String();
  if (composite) name = name.NotNull();
  fields.push_back({composite ? "b" : "name", name, std::nullopt, 1});
  fields.push_back({composite ? "v" : "score", record::DataType::BigInt(), std::nullopt, 2});
  return record::DataType::Row(std::move(fields));
}

inline std::vector<record::DataType> KvFieldTypes(bool composite = false) {
  std::vector<record::DataType> types;
  const record::DataType row_type = KvRowType(composite);
  for (const auto& field : row_type.fields()) types.push_back(field.type);
  return types;
}

inline record::GenericRow KvRow(int32_t id, std::optional<std::string> name,
                                std::optional<int64_t> score) {
  record::GenericRow row;
  row.push_back(record::Datum(id));
  row.push_back(name ? record::Datum(*name) : record::Datum::Null());
  row.push_back(score ? record::Datum(*score) : record::Datum::Null());
  return row;
}

/// The encoded key of `row` over `key_names` (COMPACTED key encoding, no data lake).
inline ByteBuffer EncodeKvKey(const record::GenericRow& row,
                              const std::vector<std::string>& key_names = {"id"},
                              bool composite = false) {
  auto encoder =
      record::KeyEncoder::Create(record::KeyEncoding::kCompacted, KvRowType(composite), key_names);
  if (!encoder.ok()) return {};
  auto key = (*encoder)->Encode(row);
  return key.ok() ? *key : ByteBuffer();
}

/// The bucket a client routes an encoded bucket key to (no data lake).
inline int32_t KvBucketOf(ByteView bucket_key, int32_t buckets) {
  auto bucket =
      record::BucketingFunction(record::DataLakeFormat::kNone).Bucket(bucket_key, buckets);
  return bucket.ok() ? *bucket : -1;
}

/// One operation of a KV batch: an upsert of `row`, or (is_delete) a delete of its key.
struct KvOp {
  record::GenericRow row;
  bool is_delete = false;
};

/// A KV record batch of `ops` (values as COMPACTED rows of all three columns; a partial
/// update still sends whole rows with the untouched columns null, as clients do).
inline ByteBuffer KvBatch(const std::vector<KvOp>& ops, SchemaId schema = SchemaId(1),
                          WriterId writer = kNoWriterId, BatchSequence seq = kNoBatchSequence,
                          bool composite = false) {
  const std::vector<std::string> keys =
      composite ? std::vector<std::string>{"a", "b"} : std::vector<std::string>{"id"};
  ByteBuffer out;
  record::KvBatchParams params;
  params.schema_id = schema;
  params.writer_id = writer;
  params.batch_sequence = seq;
  record::KvRecordBatchBuilder builder(&out, params);
  record::CompactedRowCodec codec(KvFieldTypes(composite));
  for (const KvOp& op : ops) {
    ByteBuffer key = EncodeKvKey(op.row, keys, composite);
    if (op.is_delete) {
      if (!builder.AppendDelete(key).ok()) return {};
    } else {
      auto value = codec.Encode(op.row);
      if (!value.ok() || !builder.AppendUpsert(key, *value).ok()) return {};
    }
  }
  builder.Finish();
  return out;
}

/// Decodes a stored value (int16 schema id + COMPACTED row); nullopt when it does not decode.
inline std::optional<record::GenericRow> DecodeKvValue(ByteView value, bool composite = false) {
  auto view = record::DecodeValue(value);
  if (!view.ok()) return std::nullopt;
  auto row = record::CompactedRowCodec(KvFieldTypes(composite)).Decode(view->row);
  if (!row.ok()) return std::nullopt;
  return *row;
}

/// Every row of a ValueRecordBatch (LimitScan, ScanKv); nullopt when it does not decode.
inline std::optional<std::vector<record::GenericRow>> DecodeValueBatch(ByteView bytes,
                                                                       bool composite = false) {
  std::vector<record::GenericRow> rows;
  if (bytes.empty()) return rows;
  auto batch = record::ValueRecordBatch::Parse(bytes);
  if (!batch.ok()) return std::nullopt;
  record::ValueRecordIterator it(*batch);
  record::CompactedRowCodec codec(KvFieldTypes(composite));
  while (true) {
    auto next = it.Next();
    if (!next.ok()) return std::nullopt;
    if (!next->has_value()) break;
    auto row = codec.Decode((*next)->row);
    if (!row.ok()) return std::nullopt;
    rows.push_back(std::move(*row));
  }
  return rows;
}

/// "+I(1, a, 10)" rendering of a row of the test tables (null as "null").
inline std::string RenderKvRow(const record::GenericRow& row) {
  std::string out = "(";
  for (size_t i = 0; i < row.size(); ++i) {
    if (i > 0) out += ", ";
    const record::Datum& d = row[i];
    if (d.is_null()) {
      out += "null";
    } else if (d.is<int32_t>()) {
      out += std::to_string(d.as<int32_t>());
    } else if (d.is<int64_t>()) {
      out += std::to_string(d.as<int64_t>());
    } else if (d.is<std::string>()) {
      out += d.as<std::string>();
    } else {
      out += "?";
    }
  }
  return out + ")";
}

/// The changelog records of fetched ARROW batches as "+I(1, a, 10)", "-U(...)", ...; records
/// below `from_offset` are skipped. {"?"} when a batch does not decode.
inline std::vector<std::string> DecodeChangelog(const ByteBuffer& records,
                                                LogOffset from_offset = LogOffset(0),
                                                bool composite = false) {
  std::vector<std::string> out;
  const record::DataType row_type = KvRowType(composite);
  record::LogRecordBatchIterator it(records);
  while (true) {
    auto next = it.Next();
    if (!next.ok()) return {"?"};
    if (!next->has_value()) break;
    const record::LogRecordBatch& batch = **next;
    if (batch.record_count() == 0) continue;
    auto body = record::arrow::DecodeArrowLogBatch(batch, row_type);
    if (!body.ok()) return {"?"};
    auto rows = body->batch.ToRows();
    for (size_t i = 0; i < rows.size(); ++i) {
      if (batch.base_offset() + static_cast<int64_t>(i) < from_offset) continue;
      out.push_back(std::string(record::ChangeTypeShortName(body->change_types[i])) +
                    RenderKvRow(rows[i]));
    }
  }
  return out;
}

}  // namespace strom::server::testing
