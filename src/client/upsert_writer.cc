// The public UpsertWriter / TableUpsert and TableLookup, over AppendWriterImpl (in its KV
// mode) and LookupClient.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "client/append_writer_impl.h"
#include "client/kv_keys.h"
#include "client/lookup_client.h"
#include "strom/table.h"

namespace strom {

// ---- UpsertWriter ----

UpsertWriter::UpsertWriter(std::unique_ptr<client::AppendWriterImpl> impl)
    : impl_(std::move(impl)) {}
UpsertWriter::~UpsertWriter() = default;

Status UpsertWriter::Upsert(const GenericRow& row) {
  return impl_->Append(row, client::WriteKind::kUpsert, nullptr);
}
Status UpsertWriter::Upsert(const GenericRow& row, WriteResult* result) {
  return impl_->Append(row, client::WriteKind::kUpsert, result);
}
Status UpsertWriter::Delete(const GenericRow& row) {
  return impl_->Append(row, client::WriteKind::kDelete, nullptr);
}
Status UpsertWriter::Delete(const GenericRow& row, WriteResult* result) {
  return impl_->Append(row, client::WriteKind::kDelete, result);
}
Status UpsertWriter::Flush() { return impl_->Flush(); }
Status UpsertWriter::Close() { return impl_->Close(); }
UpsertWriterStats UpsertWriter::stats() const { return impl_->stats(); }

// ---- TableUpsert ----

TableUpsert& TableUpsert::PartialUpdate(std::vector<size_t> column_indexes) {
  target_indexes_ = std::move(column_indexes);
  target_names_.reset();
  return *this;
}

TableUpsert& TableUpsert::PartialUpdate(std::vector<std::string> column_names) {
  target_names_ = std::move(column_names);
  target_indexes_.reset();
  return *this;
}

Result<std::unique_ptr<UpsertWriter>> TableUpsert::CreateWriter() {
  std::optional<std::vector<size_t>> targets = target_indexes_;
  if (target_names_) {
    targets.emplace();
    for (const std::string& name : *target_names_) {
      std::optional<size_t> index = info_.schema().ColumnIndex(name);
      if (!index) {
        return MakeError(ErrorCode::kInvalidTargetColumn, "table {} has no column '{}'",
                         info_.path.ToString(), name);
      }
      targets->push_back(*index);
    }
  }
  STROM_ASSIGN_OR_RETURN(
      auto impl, client::AppendWriterImpl::CreateUpsert(context_, info_, std::move(targets)));
  return std::unique_ptr<UpsertWriter>(new UpsertWriter(std::move(impl)));
}

// ---- TableLookup ----

TableLookup& TableLookup::LookupBy(std::vector<std::string> column_names) {
  lookup_columns_ = std::move(column_names);
  return *this;
}

Result<std::unique_ptr<Lookuper>> TableLookup::CreateLookuper() {
  if (!info_.HasPrimaryKey()) {
    return MakeError(ErrorCode::kNonPrimaryKeyTable,
                     "table {} is a log table: it has no primary key to look rows up by",
                     info_.path.ToString());
  }
  const std::vector<std::string>& primary_key = info_.primary_keys();
  std::vector<std::string> key_columns = primary_key;
  bool prefix = false;
  if (lookup_columns_ && *lookup_columns_ != primary_key) {
    // The rules of the Java client's prefix lookuper.
    const std::vector<std::string> bucket_keys = info_.pk_bucket_keys();
    const std::string table = info_.path.ToString();
    if (bucket_keys.size() >= primary_key.size() ||
        !std::equal(bucket_keys.begin(), bucket_keys.end(), primary_key.begin())) {
      return MakeError(ErrorCode::kInvalidTable,
                       "cannot look up {} by a prefix: its bucket key ({}) is not a proper "
                       "prefix of its primary key ({})",
                       table, fmt::join(bucket_keys, ", "), fmt::join(primary_key, ", "));
    }
    if (*lookup_columns_ != bucket_keys) {
      return MakeError(ErrorCode::kInvalidTable,
                       "a prefix lookup on {} must name the bucket key columns ({}) in order, "
                       "not ({})",
                       table, fmt::join(bucket_keys, ", "), fmt::join(*lookup_columns_, ", "));
    }
    key_columns = bucket_keys;
    prefix = true;
  }
  STROM_ASSIGN_OR_RETURN(DataType key_type, client::ProjectRowType(info_, key_columns));
  STROM_ASSIGN_OR_RETURN(std::shared_ptr<const client::KvKeyCodec> codec,
                         client::KvKeyCodec::Create(info_, key_type, key_columns));
  STROM_ASSIGN_OR_RETURN(KvFormat kv_format, info_.kv_format());
  STROM_ASSIGN_OR_RETURN(std::shared_ptr<client::LookupClient> lookup_client,
                         client::LookupClient::Create(context_, info_));
  auto decoder = std::make_shared<const client::ValueDecoder>(
      info_.schema(), info_.schema_id, kv_format, client::MakeSchemaFetcher(context_, info_.path));
  std::vector<DataType> key_types;
  for (const auto& field : key_type.fields()) key_types.push_back(field.type);
  return std::unique_ptr<Lookuper>(
      new Lookuper(std::move(lookup_client), std::move(decoder), std::move(codec), info_.table_id,
                   std::move(key_columns), std::move(key_types), prefix));
}

}  // namespace strom
