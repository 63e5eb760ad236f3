#pragma once

#include <fmt/format.h>

#include <compare>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "common/ids.h"

namespace strom::metadata {

/// One bucket of a table, or of one partition of a partitioned table (Fluss `TableBucket`).
/// The key of every tablet, replica and per-bucket request entry. A plain value.
struct TableBucket {
  TableId table_id;
  /// Set only for a bucket of a partitioned table.
  std::optional<PartitionId> partition_id;
  BucketId bucket;

  /// "TableBucket{tableId=1, bucket=0}" or "...{tableId=1, partitionId=5, bucket=0}".
  std::string ToString() const {
    if (partition_id) {
      return fmt::format("TableBucket{{tableId={}, partitionId={}, bucket={}}}", table_id,
                         *partition_id, bucket);
    }
    return fmt::format("TableBucket{{tableId={}, bucket={}}}", table_id, bucket);
  }

  friend auto operator<=>(const TableBucket&, const TableBucket&) = default;
  friend bool operator==(const TableBucket&, const TableBucket&) = default;
};

}  // namespace strom::metadata

template <>
struct std::hash<strom::metadata::TableBucket> {
  size_t operator()(const strom::metadata::TableBucket& b) const noexcept {
    size_t h = std::hash<int64_t>()(b.table_id.value());
    h = h * 1000003 + (b.partition_id ? std::hash<int64_t>()(b.partition_id->value()) + 1 : 0);
    return h * 1000003 + std::hash<int32_t>()(b.bucket.value());
  }
};

template <>
struct fmt::formatter<strom::metadata::TableBucket> : fmt::formatter<std::string_view> {
  auto format(const strom::metadata::TableBucket& b, fmt::format_context& ctx) const {
    return fmt::format_to(ctx.out(), "{}", b.ToString());
  }
};
