#pragma once

// `strom perf upsert` and `strom perf lookup` (perf_kv_command.cc).

#include <cstdint>

#include "cli/commands.h"

namespace strom::cli {

struct KvPerfOptions {
  /// Keys upserted (each once), and for `lookup` the keys loaded before looking up.
  int64_t keys = 1000000;
  /// Lookups of random loaded keys (`lookup`).
  int64_t lookups = 1000000;
  int32_t buckets = 4;
  /// Threads sharing one writer (upserts) or one lookuper (lookups) per connection.
  int32_t threads = 2;
  /// Connections the threads are spread over (thread t uses connection t mod this), each
  /// with its own writer and lookuper; at most `threads` are opened. 1: the command's own.
  int32_t connections = 1;
  /// Lookups in flight across all threads (`lookup`).
  int32_t concurrency = 256;
  bool keep = false;
};

/// Creates `strom_perf.upsert_<n>` (id BIGINT primary key + 9 INT/BIGINT/DOUBLE/STRING
/// columns), upserts `keys` rows from `threads` threads through one UpsertWriter per
/// connection (`connections`), and reports
/// rows/s (one JSON object with --format json). Drops the table unless `keep`.
Status PerfUpsert(CommandContext& ctx, const KvPerfOptions& options);

/// Loads `keys` rows as PerfUpsert does, then looks up `lookups` random keys through one
/// Lookuper (batched) per connection, `concurrency` at a time, checks every row read, and reports lookups/s
/// with p50/p90/p99/p99.9 latency. Fails (after reporting) when a key is missing or a row
/// differs.
Status PerfLookup(CommandContext& ctx, const KvPerfOptions& options);

}  // namespace strom::cli
