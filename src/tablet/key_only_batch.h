#pragma once

#include <span>

#include "common/bytes.h"
#include "common/result.h"
#include "kv/kv_table_config.h"
#include "metadata/table_info.h"

namespace strom::tablet {

/// The insert half of a Lookup with `insert_if_not_exists` (Fluss's KeyRecordBatch): one KV
/// record batch that upserts, for each of `keys` (encoded primary keys of `table`), a row of
/// the table's latest schema whose primary-key columns are decoded from the key and whose
/// other columns are null, in the table's KV format, without writer id (so not idempotent,
/// as Fluss's). Sent with the primary-key columns as target columns, it goes through the
/// ordinary PutKv checks: the auto-increment column gets the next id, NOT NULL columns or
/// merge engines that refuse partial updates fail as a partial update would.
///
/// Errors: kCorruptRecord for key bytes that are not an encoded key of the table;
/// kUnknownServerError for lake-encoded keys (Paimon, Iceberg), which Strom cannot decode yet.
Result<ByteBuffer> BuildKeyOnlyBatch(const metadata::TableInfo& table,
                                     const kv::KvTableConfig& config,
                                     std::span<const ByteView> keys);

}  // namespace strom::tablet
