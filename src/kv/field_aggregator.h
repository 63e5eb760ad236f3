#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "record/data_type.h"
#include "record/datum.h"
#include "record/schema.h"

/// The per-column aggregate functions of the `aggregation` merge engine (Fluss 0.9.1
/// `rowmerger/aggregate/functions`).
namespace strom::kv {

/// Folds the value of one column of an incoming row into the stored value.
///
/// Semantics follow Fluss 0.9.1 exactly: every function except last_value,
/// last_value_ignore_nulls, first_value and first_value_ignore_nulls returns the non-null side
/// when either side is null. Integer sums and products wrap as Java's do; DECIMAL results
/// that no longer fit the column's precision become null (Java's Decimal.fromBigDecimal);
/// max/min compare as Java's InternalRowUtils.compare (Float.compare ordering, unsigned byte
/// order for strings and binaries). first_value in 0.9.1 takes the input while the stored
/// value is null (the same code as first_value_ignore_nulls).
///
/// Immutable after creation; safe to share.
class FieldAggregator {
 public:
  virtual ~FieldAggregator() = default;
  /// The aggregate of `accumulator` (stored value) and `input` (new value); either may be
  /// null. kCorruptRecord for an input a function cannot read (a bad bitmap).
  virtual Result<record::Datum> Agg(const record::Datum& accumulator,
                                    const record::Datum& input) const = 0;

  /// The aggregator of `function` for a column of `type`. kInvalidConfig when the function
  /// does not support the type (Fluss checks this when the table is created).
  static Result<std::unique_ptr<FieldAggregator>> Create(const record::AggFunction& function,
                                                         const record::DataType& type);
};

}  // namespace strom::kv
