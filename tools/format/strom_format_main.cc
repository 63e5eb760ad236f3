// strom-format: a window onto Strom's format library.
//
//   strom-format demo                 encode a sample table in every Fluss format, decode it back
//   strom-format dump-batches FILE    list the log batches of a .log segment or a records blob
//   strom-format bucket --key-hex HEX --buckets N [--lake paimon|iceberg|lance]
//   strom-format config-reference     the Markdown table of every server option

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/config/config.h"
#include "common/result.h"
#include "record/arrow/arrow_log_batch.h"
#include "record/arrow/arrow_projection.h"
#include "record/bucketing.h"
#include "record/compacted_row.h"
#include "record/datum_format.h"
#include "record/indexed_row.h"
#include "record/key_encoder.h"
#include "record/kv_record_batch.h"
#include "record/log_record_batch.h"
#include "record/schema.h"

namespace strom::tools {
namespace {

using record::ChangeType;
using record::DataType;
using record::Datum;
using record::GenericRow;

int Fail(const Status& status) {
  std::fprintf(stderr, "strom-format: %s\n", status.ToString().c_str());
  return 1;
}

// A short hex form for long byte strings: the first 48 bytes, then the total size.
std::string ShortHex(ByteView bytes) {
  if (bytes.size() <= 48) return ToHex(bytes);
  return fmt::format("{}... ({} bytes)", ToHex(bytes.substr(0, 48)), bytes.size());
}

Result<record::Schema> DemoSchema() {
  return record::Schema::Builder()
      .AddColumn("id", DataType::Int())
      .AddColumn("name", DataType::String())
      .AddColumn("price", DataType::Decimal(10, 2))
      .AddColumn("ts", DataType::TimestampLtz(3))
      .AddColumn("tags", DataType::Array(DataType::String()))
      .PrimaryKey({"id"})
      .Build();
}

std::vector<GenericRow> DemoRows() {
  auto tags = [](std::vector<std::string> values) {
    record::ArrayValue a;
    for (auto& v : values) a.elements.emplace_back(std::move(v));
    return Datum(std::move(a));
  };
  return {
      {Datum(int32_t{1}), Datum(std::string("espresso")), Datum(record::DecimalValue{250}),
       Datum(record::TimestampValue{1748662955428, 0}), tags({"hot", "small"})},
      {Datum(int32_t{2}), Datum(std::string("flat white")), Datum(record::DecimalValue{390}),
       Datum(record::TimestampValue{1748662956000, 0}), tags({"hot"})},
      {Datum(int32_t{3}), Datum(), Datum(record::DecimalValue{-100}),
       Datum(record::TimestampValue{1748662957500, 0}), Datum()},
  };
}

Status Check(bool ok, std::string_view what) {
  return ok ? Status::OK() : MakeError(ErrorCode::kCorruptRecord, "{} did not round-trip", what);
}

Status RunDemo() {
  STROM_ASSIGN_OR_RETURN(record::Schema schema, DemoSchema());
  const DataType row_type = schema.RowType();
  const std::vector<DataType> types = schema.FieldTypes();
  const std::vector<GenericRow> rows = DemoRows();

  fmt::print("schema: {}\n", schema.ToJson());
  fmt::print("\nrows:\n");
  for (const auto& row : rows) fmt::print("  {}\n", record::FormatRow(row_type, row));

  // Row formats.
  fmt::print("\nCompactedRow / IndexedRow of each row:\n");
  for (const auto& row : rows) {
    ByteBuffer compacted, indexed;
    STROM_RETURN_IF_ERROR(record::AppendCompactedRow(types, row, &compacted));
    STROM_RETURN_IF_ERROR(record::AppendIndexedRow(types, row, &indexed));
    GenericRow back_c, back_i;
    STROM_RETURN_IF_ERROR(record::DecodeCompactedRow(types, compacted, &back_c));
    STROM_RETURN_IF_ERROR(record::DecodeIndexedRow(types, indexed, &back_i));
    STROM_RETURN_IF_ERROR(Check(back_c == row && back_i == row, "row"));
    fmt::print("  compacted {}\n  indexed   {}\n", ToHex(compacted), ShortHex(indexed));
  }

  // Keys and buckets, as the Java client computes them.
  STROM_ASSIGN_OR_RETURN(auto key_encoder,
                         record::KeyEncoder::Create(record::KeyEncoding::kCompacted, row_type,
                                                    schema.primary_key()));
  record::BucketingFunction bucketing(record::DataLakeFormat::kNone);
  fmt::print("\nprimary key bytes and bucket of 3:\n");
  for (const auto& row : rows) {
    STROM_ASSIGN_OR_RETURN(ByteBuffer key, key_encoder->Encode(row));
    STROM_ASSIGN_OR_RETURN(int32_t bucket, bucketing.Bucket(key, 3));
    fmt::print("  id={} key={} bucket={}\n", record::FormatDatum(types[0], row[0]), ToHex(key),
               bucket);
  }

  // A COMPACTED log batch of the changelog kind (+I, +I, -D).
  ByteBuffer blob;
  {
    record::LogBatchParams params;
    params.schema_id = SchemaId(1);
    params.append_only = false;
    record::LogRecordBatchBuilder builder(&blob, params);
    const ChangeType kinds[] = {ChangeType::kInsert, ChangeType::kInsert, ChangeType::kDelete};
    for (size_t i = 0; i < rows.size(); ++i) {
      ByteBuffer row_bytes;
      STROM_RETURN_IF_ERROR(record::AppendCompactedRow(types, rows[i], &row_bytes));
      STROM_RETURN_IF_ERROR(builder.AppendRow(kinds[i], row_bytes));
    }
    builder.Finish();
  }
  // An ARROW (ZSTD) append-only batch of the same rows, as a log-table writer sends it.
  size_t arrow_start = blob.size();
  {
    record::LogBatchParams params;
    params.schema_id = SchemaId(1);
    STROM_RETURN_IF_ERROR(record::arrow::BuildArrowLogBatch(&blob, params, row_type, rows, {},
                                                            record::arrow::ArrowCompression::Zstd())
                              .status());
  }
  fmt::print("\nlog batches ({} bytes in all):\n", blob.size());
  record::LogRecordBatchIterator it(blob);
  int batch_no = 0;
  while (true) {
    STROM_ASSIGN_OR_RETURN(auto batch, it.Next());
    if (!batch) break;
    STROM_RETURN_IF_ERROR(batch->ValidateCrc());
    fmt::print("  batch {}: magic {} size {} records {} append-only {} crc {:08x} (valid)\n",
               batch_no, batch->magic(), batch->size_in_bytes(), batch->record_count(),
               batch->is_append_only(), batch->checksum());
    if (batch_no == 0) {
      record::RowRecordIterator records(*batch);
      size_t i = 0;
      while (true) {
        STROM_ASSIGN_OR_RETURN(auto record, records.Next());
        if (!record) break;
        GenericRow row;
        STROM_RETURN_IF_ERROR(record::DecodeCompactedRow(types, record->row, &row));
        STROM_RETURN_IF_ERROR(Check(row == rows[i++], "COMPACTED record"));
        fmt::print("    {} {}\n", record::ChangeTypeShortName(record->change_type),
                   record::FormatRow(row_type, row));
      }
    } else {
      STROM_ASSIGN_OR_RETURN(auto body, record::arrow::DecodeArrowLogBatch(*batch, row_type));
      STROM_RETURN_IF_ERROR(Check(body.batch.ToRows() == rows, "ARROW batch"));
      for (const auto& row : body.batch.ToRows()) {
        fmt::print("    +A {}\n", record::FormatRow(row_type, row));
      }
    }
    ++batch_no;
  }

  // Server-side projection: keep `id` and `price` without decoding the values.
  const int32_t selected[] = {0, 2};
  STROM_ASSIGN_OR_RETURN(auto projection,
                         record::arrow::ArrowProjection::Create(
                             row_type, selected, record::arrow::ArrowCompression::Zstd()));
  ByteBuffer projected;
  STROM_RETURN_IF_ERROR(
      projection.ProjectLogBatch(ByteView(blob).substr(arrow_start), &projected));
  DataType projected_type = DataType::Row({row_type.fields()[0], row_type.fields()[2]});
  STROM_ASSIGN_OR_RETURN(auto projected_batch, record::LogRecordBatch::Parse(projected));
  STROM_ASSIGN_OR_RETURN(auto projected_body,
                         record::arrow::DecodeArrowLogBatch(projected_batch, projected_type));
  fmt::print("\nARROW batch projected to (id, price): {} -> {} bytes\n",
             blob.size() - arrow_start, projected.size());
  for (const auto& row : projected_body.batch.ToRows()) {
    fmt::print("    {}\n", record::FormatRow(projected_type, row));
  }

  // A PutKv payload: two upserts and a delete.
  ByteBuffer kv;
  {
    record::KvBatchParams params;
    params.schema_id = SchemaId(1);
    record::KvRecordBatchBuilder builder(&kv, params);
    for (size_t i = 0; i < 2; ++i) {
      STROM_ASSIGN_OR_RETURN(ByteBuffer key, key_encoder->Encode(rows[i]));
      ByteBuffer value;
      STROM_RETURN_IF_ERROR(record::AppendCompactedRow(types, rows[i], &value));
      STROM_RETURN_IF_ERROR(builder.AppendUpsert(key, value));
    }
    STROM_ASSIGN_OR_RETURN(ByteBuffer key, key_encoder->Encode(rows[2]));
    STROM_RETURN_IF_ERROR(builder.AppendDelete(key));
    builder.Finish();
  }
  STROM_ASSIGN_OR_RETURN(auto kv_batch, record::KvRecordBatch::Parse(kv));
  STROM_RETURN_IF_ERROR(Check(kv_batch.IsValid(), "KV batch CRC"));
  fmt::print("\nKV batch (PutKv payload): {} records, {} bytes, crc valid\n  {}\n",
             kv_batch.record_count(), kv.size(), ShortHex(kv));

  fmt::print("\nall formats round-tripped\n");
  return Status::OK();
}

Status ReadFile(const std::string& path, ByteBuffer* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kStorage, "cannot read {}", path);
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return Status::OK();
}

Status DumpBatches(const std::string& path) {
  ByteBuffer blob;
  STROM_RETURN_IF_ERROR(ReadFile(path, &blob));
  record::LogRecordBatchIterator it(blob);
  size_t count = 0;
  while (true) {
    size_t position = it.position();
    STROM_ASSIGN_OR_RETURN(auto batch, it.Next());
    if (!batch) break;
    fmt::print(
        "position {} base_offset {} last_offset {} magic {} size {} records {} schema {} "
        "append_only {} writer {} seq {} commit_ts {} crc {:08x} {}\n",
        position, batch->base_offset(), batch->last_offset(), batch->magic(),
        batch->size_in_bytes(), batch->record_count(), batch->schema_id(),
        batch->is_append_only(), batch->writer_id(), batch->batch_sequence(),
        batch->commit_timestamp(), batch->checksum(), batch->IsValid() ? "valid" : "CRC MISMATCH");
    ++count;
  }
  fmt::print("{} batches, {} bytes{}\n", count, it.position(),
             it.truncated() ? ", truncated batch at the end" : "");
  return Status::OK();
}

Status PrintBucket(const std::string& key_hex, int32_t buckets, const std::string& lake) {
  ByteBuffer key;
  if (!FromHex(key_hex, &key)) {
    return MakeError(ErrorCode::kInvalidConfig, "'{}' is not hex", key_hex);
  }
  record::DataLakeFormat format = record::DataLakeFormat::kNone;
  if (!lake.empty()) {
    STROM_ASSIGN_OR_RETURN(format, record::ParseDataLakeFormat(lake));
  }
  STROM_ASSIGN_OR_RETURN(int32_t bucket, record::BucketingFunction(format).Bucket(key, buckets));
  fmt::print("fluss_hash {} bucket {}\n", record::FlussHash(key), bucket);
  return Status::OK();
}

}  // namespace
}  // namespace strom::tools

int main(int argc, char** argv) {
  CLI::App app{"strom-format: encode, decode and inspect Fluss data formats"};
  app.require_subcommand(1);
  auto* demo = app.add_subcommand("demo", "encode a sample table in every format and decode it");
  std::string path;
  auto* dump = app.add_subcommand("dump-batches", "list the log batches of a file");
  dump->add_option("file", path, "a .log segment or a records blob")->required();
  std::string key_hex, lake;
  int32_t buckets = 1;
  auto* bucket = app.add_subcommand("bucket", "bucket of encoded key bytes");
  bucket->add_option("--key-hex", key_hex, "encoded key bytes")->required();
  bucket->add_option("--buckets", buckets, "number of buckets")->required()->check(
      CLI::PositiveNumber);
  bucket->add_option("--lake", lake, "data lake format (paimon, iceberg, lance)");
  auto* reference = app.add_subcommand("config-reference", "Markdown table of server options");
  CLI11_PARSE(app, argc, argv);

  strom::Status status;
  if (demo->parsed()) status = strom::tools::RunDemo();
  if (dump->parsed()) status = strom::tools::DumpBatches(path);
  if (bucket->parsed()) status = strom::tools::PrintBucket(key_hex, buckets, lake);
  if (reference->parsed()) std::fputs(strom::config::ReferenceTable().c_str(), stdout);
  return status.ok() ? 0 : strom::tools::Fail(status);
}
