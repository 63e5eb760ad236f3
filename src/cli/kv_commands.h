#pragma once

// The commands of primary-key tables: upsert, delete, lookup, and the snapshot scan.

#include <functional>
#include <optional>
#include <string>

#include "cli/commands.h"

namespace CLI {
class App;
}

namespace strom::cli {

/// Adds `upsert`, `delete`, `lookup` and `perf upsert|lookup` to the command tree (the
/// `perf` command must exist); their callbacks store what to run in `action`.
void AddKvCommands(CLI::App& app, std::function<Status(CommandContext&)>& action);

struct UpsertOptions {
  std::string table;
  std::string input;  // empty or "-": stdin
  std::string input_format = "json";
  bool csv_header = true;
  /// Comma-separated target columns: a partial update of those (they include the key).
  std::string columns;
};

struct LookupOptions {
  std::string table;
  /// JSON object of the primary-key columns (point lookup).
  std::string key;
  /// JSON object of the bucket-key columns (prefix lookup).
  std::string prefix;
};

/// Upserts rows read as `produce` reads them (JSON lines or CSV) into a primary-key table;
/// with `columns` a partial update of those columns (values of other columns are refused).
/// Progress bar on a terminal, summary line (or JSON object) at the end.
Status Upsert(CommandContext& ctx, const UpsertOptions& options);

/// Deletes the row whose primary key is the JSON object `key` (every key column, nothing
/// else). Deleting an absent key succeeds.
Status Delete(CommandContext& ctx, const std::string& table, const std::string& key);

/// Prints the row with primary key `key`, or every row whose bucket-key columns equal
/// `prefix`; prints nothing (and succeeds) when there is none.
Status Lookup(CommandContext& ctx, const LookupOptions& options);

/// `scan --snapshot`: prints the current rows of a primary-key table (bucket by bucket, in
/// key order within a bucket), honouring `columns`, `limit` and `buckets` of `options`.
Status ScanSnapshot(CommandContext& ctx, const ScanOptions& options);

/// Parses a JSON object naming exactly the columns `names` (of `types`) into a key row:
/// kCorruptRecord for text that is not a JSON object, an unknown column, a missing or null
/// key column, or a value that does not fit its type (exposed for tests).
Result<GenericRow> ParseKeyObject(const std::string& text, const std::vector<std::string>& names,
                                  const std::vector<DataType>& types);

}  // namespace strom::cli
