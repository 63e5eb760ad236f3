#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "kv/kv_tablet.h"
#include "log/log_tablet.h"
#include "log/log_test_util.h"
#include "record/arrow/arrow_log_batch.h"
#include "record/compacted_row.h"
#include "record/indexed_row.h"
#include "record/kv_record_batch.h"
#include "record/value_record.h"

/// Asserts that a Status is OK, printing it otherwise.
#define STROM_ASSERT_OK(expr)                \
  do {                                       \
    ::strom::Status _st = (expr);            \
    ASSERT_TRUE(_st.ok()) << _st.ToString(); \
  } while (0)

/// Helpers for the kv tests: building KV batches from rows, a LogTablet + KvTablet pair in a
/// temporary directory, and readers for the state and the changelog.
namespace strom::kv::testing {

using record::ChangeType;
using record::DataType;
using record::Datum;
using record::GenericRow;

/// A table-wide id counter kept in memory (the server backs it by its metadata store).
class MemorySequenceCounter final : public SequenceIdCounter {
 public:
  Result<int64_t> GetAndAdd(int64_t delta) override { return value_.fetch_add(delta); }
  int64_t value() const { return value_.load(); }

 private:
  std::atomic<int64_t> value_{0};
};

/// One record of a KV batch: an upsert of `row` or (row empty) a delete of `key_row`'s key.
struct KvOp {
  GenericRow row;
  bool is_delete = false;

  static KvOp Upsert(GenericRow row) { return KvOp{std::move(row), false}; }
  /// A delete; `row` only needs the key columns set.
  static KvOp Delete(GenericRow row) { return KvOp{std::move(row), true}; }
};

/// A changelog record as read back from the log.
struct ChangeRecord {
  LogOffset offset;
  ChangeType type;
  GenericRow row;
};

/// A LogTablet (the changelog) and a KvTablet on top of it, in a temporary directory.
class KvHarness {
  log::testing::TempDir dir_;  // first: root_ is initialised from it

 public:
  /// `root`: the directory to use instead of a fresh temporary one (kept afterwards).
  KvHarness(record::Schema schema, record::Properties properties,
            std::vector<std::string> physical_pk = {}, std::string root = "")
      : schemas_(SchemaId(0), std::move(schema)),
        properties_(std::move(properties)),
        physical_pk_(std::move(physical_pk)),
        root_(root.empty() ? dir_.path() : std::move(root)) {}

  ~KvHarness() { Crash(); }

  const std::string& root() const { return root_; }
  log::LogTablet& log() { return *log_; }
  KvTablet& kv() { return *kv_; }
  const record::Schema& schema() const { return schemas_.latest(); }
  SchemaSet& schemas() { return schemas_; }
  MemorySequenceCounter& counter() { return counter_; }

  /// Options used by Open(); tests may change them before opening.
  KvTabletOptions& options() { return options_; }

  /// Opens (or reopens) the log and the KV tablet. `high_watermark` (default: the log end,
  /// as a single replica has it) is set on the log before the KV tablet opens.
  Status Open(std::optional<LogOffset> high_watermark = std::nullopt) {
    log::LogTabletOptions log_options;
    log_options.dir = root_ + "/log-0";
    log_options.config = log::testing::SmallConfig();
    log_options.config.segment_file_size = 64 * 1024;
    log_options.is_changelog = true;
    STROM_ASSIGN_OR_RETURN(log_, log::LogTablet::Open(log_options));
    STROM_RETURN_IF_ERROR(
        log_->UpdateHighWatermark(high_watermark.value_or(log_->log_end_offset())));
    options_.dir = root_ + "/kv-0";
    options_.table.table_id = TableId(7);
    options_.table.properties = properties_;
    options_.table.physical_primary_key = physical_pk_;
    options_.schemas = schemas_;
    options_.log = log_.get();
    options_.auto_increment_counter = &counter_;
    options_.rocksdb.write_buffer_size = 1 << 20;
    options_.rocksdb.block_cache_size = 1 << 20;
    STROM_ASSIGN_OR_RETURN(kv_, KvTablet::Open(options_));
    return Status::OK();
  }

  /// Drops both tablets without closing them (a crash).
  void Crash() {
    kv_.reset();
    log_.reset();
  }

  /// Closes both tablets cleanly.
  Status Close() {
    STROM_RETURN_IF_ERROR(kv_->Close());
    STROM_RETURN_IF_ERROR(log_->Close());
    Crash();
    return Status::OK();
  }

  /// Builds a KV batch of `ops` in the table's KV format under `schema_id`.
  ByteBuffer Batch(const std::vector<KvOp>& ops, SchemaId schema_id = SchemaId(0),
                   WriterId writer = kNoWriterId, BatchSequence sequence = kNoBatchSequence) {
    // An unknown id (for tests of its refusal) still gets rows of the latest schema.
    const record::Schema* schema = schemas_.Find(schema_id);
    if (schema == nullptr) schema = &schemas_.latest();
    auto encoder = record::KeyEncoder::Create(
        record::KeyEncoding::kCompacted, schemas_.latest().RowType(),
        physical_pk_.empty() ? schemas_.latest().primary_key() : physical_pk_);
    EXPECT_TRUE(encoder.ok()) << encoder.status().ToString();
    bool indexed = IsIndexedKv();
    ByteBuffer out;
    record::KvBatchParams params;
    params.schema_id = schema_id;
    params.writer_id = writer;
    params.batch_sequence = sequence;
    record::KvRecordBatchBuilder builder(&out, params);
    for (const KvOp& op : ops) {
      GenericRow padded = op.row;
      padded.resize(schemas_.latest().column_count());
      ByteBuffer key;
      EXPECT_TRUE((*encoder)->Encode(padded, &key).ok());
      if (op.is_delete) {
        EXPECT_TRUE(builder.AppendDelete(key).ok());
        continue;
      }
      ByteBuffer value;
      auto types = schema->FieldTypes();
      Status st = indexed ? record::AppendIndexedRow(types, op.row, &value)
                          : record::AppendCompactedRow(types, op.row, &value);
      EXPECT_TRUE(st.ok()) << st.ToString();
      EXPECT_TRUE(builder.AppendUpsert(key, value).ok());
    }
    builder.Finish();
    return out;
  }

  /// PutKv, then commits it as a single replica does: high watermark to the log end, flush.
  Result<KvPutResult> Put(const std::vector<KvOp>& ops, const PutKvParams& params = {}) {
    return PutBytes(Batch(ops), params);
  }
  Result<KvPutResult> PutBytes(ByteView batch, const PutKvParams& params = {}) {
    STROM_ASSIGN_OR_RETURN(KvPutResult result, kv_->PutAsLeader(batch, params));
    STROM_RETURN_IF_ERROR(Commit());
    return result;
  }
  /// Moves the high watermark to the log end and flushes the KV tablet up to it.
  Status Commit() {
    STROM_RETURN_IF_ERROR(log_->UpdateHighWatermark(log_->log_end_offset()));
    return kv_->FlushUpTo(log_->high_watermark());
  }

  /// The key bytes of `row`'s primary key.
  ByteBuffer Key(const GenericRow& row) {
    auto encoder = record::KeyEncoder::Create(
        record::KeyEncoding::kCompacted, schemas_.latest().RowType(),
        physical_pk_.empty() ? schemas_.latest().primary_key() : physical_pk_);
    GenericRow padded = row;
    padded.resize(schemas_.latest().column_count());
    return *(*encoder)->Encode(padded);
  }

  /// Decodes a stored value (schema id + row) into a row of its schema.
  GenericRow DecodeValue(ByteView stored) {
    auto view = record::DecodeValue(stored);
    EXPECT_TRUE(view.ok());
    const record::Schema* schema = schemas_.Find(view->schema_id);
    EXPECT_NE(schema, nullptr);
    GenericRow row;
    auto types = schema->FieldTypes();
    Status st = IsIndexedKv() ? record::DecodeIndexedRow(types, view->row, &row)
                              : record::DecodeCompactedRow(types, view->row, &row);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return row;
  }

  /// Looks one row up by its key columns; nullopt when absent.
  std::optional<GenericRow> Get(const GenericRow& key_row) {
    ByteBuffer key = Key(key_row);
    ByteView view = key;
    auto found = kv_->Lookup(std::span<const ByteView>(&view, 1));
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    if (!found.ok() || !(*found)[0]) return std::nullopt;
    return DecodeValue(*(*found)[0]);
  }

  /// The committed state: key bytes -> row (padded to the latest schema).
  std::map<ByteBuffer, GenericRow> State() {
    std::map<ByteBuffer, GenericRow> out;
    Status st = kv_->ScanAll([&](ByteView key, ByteView value) {
      GenericRow row = DecodeValue(value);
      row.resize(schemas_.latest().column_count());
      out.emplace(ByteBuffer(key), std::move(row));
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  /// Every changelog record from `from` to the log end, decoded.
  std::vector<ChangeRecord> Changelog(LogOffset from = LogOffset(0)) {
    std::vector<ChangeRecord> out;
    ByteBuffer raw;
    auto batches = log::testing::ReadAllBatches(*log_, from, log::FetchIsolation::kLogEnd, &raw);
    record::LogRecordBatchIterator it(raw);
    while (true) {
      auto batch = it.Next();
      EXPECT_TRUE(batch.ok());
      if (!batch.ok() || !*batch) break;
      AppendChanges(**batch, &out);
    }
    return out;
  }

  /// Decoded records of one changelog batch.
  void AppendChanges(const record::LogRecordBatch& batch, std::vector<ChangeRecord>* out) {
    EXPECT_FALSE(batch.is_append_only());
    const record::Schema* schema = schemas_.Find(batch.schema_id());
    EXPECT_NE(schema, nullptr);
    std::string format = LogFormatProperty();
    if (format == "ARROW") {
      // The decoded batch points at the row type: keep it alive while rows are read.
      const DataType row_type = schema->RowType();
      auto body = record::arrow::DecodeArrowLogBatch(batch, row_type);
      EXPECT_TRUE(body.ok()) << body.status().ToString();
      if (!body.ok()) return;
      auto rows = body->batch.ToRows();
      for (size_t i = 0; i < rows.size(); ++i) {
        out->push_back({batch.base_offset() + static_cast<int64_t>(i), body->change_types[i],
                        std::move(rows[i])});
      }
      return;
    }
    record::RowRecordIterator records(batch);
    auto types = schema->FieldTypes();
    int64_t i = 0;
    while (true) {
      auto record = records.Next();
      EXPECT_TRUE(record.ok());
      if (!record.ok() || !*record) break;
      GenericRow row;
      Status st = format == "COMPACTED" ? record::DecodeCompactedRow(types, (*record)->row, &row)
                                        : record::DecodeIndexedRow(types, (*record)->row, &row);
      EXPECT_TRUE(st.ok()) << st.ToString();
      out->push_back({batch.base_offset() + i, (*record)->change_type, std::move(row)});
      ++i;
    }
  }

 private:
  bool IsIndexedKv() const {
    const std::string* v = record::FindProperty(properties_, "table.kv.format");
    return v != nullptr && *v == "INDEXED";
  }
  std::string LogFormatProperty() const {
    const std::string* v = record::FindProperty(properties_, "table.log.format");
    return v == nullptr ? "ARROW" : *v;
  }

  SchemaSet schemas_;
  record::Properties properties_;
  std::vector<std::string> physical_pk_;
  std::string root_;
  MemorySequenceCounter counter_;
  KvTabletOptions options_;
  std::unique_ptr<log::LogTablet> log_;
  std::unique_ptr<KvTablet> kv_;
};

/// "+I(1, a)" style rendering of changes for readable assertions.
inline std::string ToString(const Datum& d) {
  if (d.is_null()) return "null";
  if (d.is<bool>()) return d.as<bool>() ? "true" : "false";
  if (d.is<int8_t>()) return std::to_string(d.as<int8_t>());
  if (d.is<int16_t>()) return std::to_string(d.as<int16_t>());
  if (d.is<int32_t>()) return std::to_string(d.as<int32_t>());
  if (d.is<int64_t>()) return std::to_string(d.as<int64_t>());
  if (d.is<double>()) return fmt::format("{}", d.as<double>());
  if (d.is<float>()) return fmt::format("{}", d.as<float>());
  if (d.is<std::string>()) return d.as<std::string>();
  if (d.is<record::DecimalValue>()) {
    return std::to_string(static_cast<int64_t>(d.as<record::DecimalValue>().unscaled)) + "d";
  }
  return "?";
}

inline std::string ToString(const GenericRow& row) {
  std::string out = "(";
  for (size_t i = 0; i < row.size(); ++i) {
    if (i > 0) out += ", ";
    out += ToString(row[i]);
  }
  return out + ")";
}

inline std::vector<std::string> Render(const std::vector<ChangeRecord>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) {
    out.push_back(std::string(record::ChangeTypeShortName(c.type)) + ToString(c.row));
  }
  return out;
}

/// Every stored key and value (schema id + row bytes) of `kv`'s committed state, in key order.
inline std::map<ByteBuffer, ByteBuffer> StoredState(KvTablet& kv) {
  std::map<ByteBuffer, ByteBuffer> out;
  Status st = kv.ScanAll([&](ByteView key, ByteView value) {
    out.emplace(ByteBuffer(key), ByteBuffer(value));
    return true;
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

/// The table (id INT primary key, v STRING) several KV suites share, and its rows and keys.
namespace two_columns {

inline record::Schema TwoColumns() {
  return *record::Schema::Builder()
              .AddColumn("id", record::DataType::Int())
              .AddColumn("v", record::DataType::String())
              .PrimaryKey({"id"})
              .Build();
}
inline GenericRow Row(int32_t id, std::string v) {
  return GenericRow{Datum(id), Datum(std::move(v))};
}
inline GenericRow Key(int32_t id) { return GenericRow{Datum(id), Datum()}; }

}  // namespace two_columns

}  // namespace strom::kv::testing
