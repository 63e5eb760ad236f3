#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "strom/status.h"
#include "strom/types.h"

namespace strom {

namespace client {
class KvKeyCodec;
class LookupClient;
class ValueDecoder;
struct LookupQuery;
}  // namespace client

/// The rows one lookup found: at most one for a primary-key lookup, any number for a prefix
/// lookup. Rows have the table's current columns (rows stored under an older schema are
/// matched by column name; columns they lack read as null).
class LookupResult {
 public:
  LookupResult() = default;
  explicit LookupResult(std::vector<GenericRow> rows) : rows_(std::move(rows)) {}

  const std::vector<GenericRow>& rows() const { return rows_; }
  std::vector<GenericRow>& rows() { return rows_; }
  bool empty() const { return rows_.empty(); }
  /// The row of a primary-key lookup; nullopt when the key is absent.
  std::optional<GenericRow> row() const {
    if (rows_.empty()) return std::nullopt;
    return rows_.front();
  }

 private:
  std::vector<GenericRow> rows_;
};

/// Completion of one LookupAsync(): ready once the cluster answered (or the lookup failed
/// for good). Copyable; all copies observe the same outcome; Wait() from any thread.
class LookupFuture {
 public:
  LookupFuture() = default;

  /// Blocks until the lookup completed; the decoded rows or the error.
  Result<LookupResult> Wait() const;
  bool IsReady() const;

 private:
  friend class Lookuper;
  LookupFuture(std::shared_ptr<client::LookupQuery> query,
               std::shared_ptr<const client::ValueDecoder> decoder, Status immediate)
      : query_(std::move(query)), decoder_(std::move(decoder)), immediate_(std::move(immediate)) {}

  std::shared_ptr<client::LookupQuery> query_;
  std::shared_ptr<const client::ValueDecoder> decoder_;
  Status immediate_;  // a failure found before the lookup was queued
};

/// Point or prefix lookups on a primary-key table (Fluss `Lookuper`), from
/// TableLookup::CreateLookuper().
///
/// A primary-key lookuper takes key rows holding the primary-key columns in primary-key
/// order (`key_columns()`); a prefix lookuper (TableLookup::LookupBy with the bucket-key
/// columns) takes rows of those columns and finds every row whose primary key starts with
/// them. Keys are encoded and bucketed exactly as the Java client does, so they match what
/// any Fluss writer stored.
///
/// Batching: lookups are queued and sent by the connection's network thread, grouped per
/// bucket leader into one Lookup (or PrefixLookup) request of up to
/// `lookup_max_batch_size` keys, with at most `lookup_max_inflight_requests` requests in
/// flight. A lookup goes out as soon as a request may be sent; while requests are in
/// flight new lookups gather into the next batch, so many concurrent lookups (from several
/// threads, or LookupAsync) share requests. Retriable errors (leader moved, ...) re-send the
/// lookup after a metadata refresh, up to `lookup_max_retries` times.
///
/// Threads: every method may be called from several threads at once. Lifecycle: lookups
/// still queued when the Lookuper is destroyed fail with kUnknownServerError. Ownership:
/// shares the connection's internals (see Connection).
class Lookuper {
 public:
  ~Lookuper();
  Lookuper(const Lookuper&) = delete;
  Lookuper& operator=(const Lookuper&) = delete;

  /// Looks `key` up and waits for the answer. kCorruptRecord for a key row that does not
  /// match `key_columns()` (wrong column count, a value of the wrong kind, a null).
  Result<LookupResult> Lookup(const GenericRow& key);
  /// Queues the lookup of `key` and returns at once (blocks only while the queue is full).
  LookupFuture LookupAsync(const GenericRow& key);

  /// The columns a key row holds, in order.
  const std::vector<std::string>& key_columns() const { return key_columns_; }
  /// Their types.
  const std::vector<DataType>& key_types() const { return key_types_; }
  bool is_prefix_lookup() const { return prefix_; }

 private:
  friend class TableLookup;
  Lookuper(std::shared_ptr<client::LookupClient> client,
           std::shared_ptr<const client::ValueDecoder> decoder,
           std::shared_ptr<const client::KvKeyCodec> codec, TableId table_id,
           std::vector<std::string> key_columns, std::vector<DataType> key_types, bool prefix);

  std::shared_ptr<client::LookupClient> client_;
  std::shared_ptr<const client::ValueDecoder> decoder_;
  std::shared_ptr<const client::KvKeyCodec> codec_;
  TableId table_id_;
  std::vector<std::string> key_columns_;
  std::vector<DataType> key_types_;
  bool prefix_;
};

}  // namespace strom
