#pragma once

#include <string>

#include "record/data_type.h"
#include "record/datum.h"

namespace strom::record {

/// Human-readable text of a value of `type`, as tools and the CLI print it:
/// DECIMAL with its scale ("12.50"), DATE as 2025-05-27, TIME as 09:30:00.123, TIMESTAMP as
/// 2025-05-31T03:42:35.428 (UTC, fraction to the column's precision), BINARY/BYTES as hex,
/// ARRAY as [a, b], MAP as {k: v}, ROW as (a, b), null as "null". Values that do not match the
/// type are printed by their own shape rather than rejected.
std::string FormatDatum(const DataType& type, const Datum& value);

/// FormatDatum for each column of a row, joined with ", ".
std::string FormatRow(const DataType& row_type, const GenericRow& row);

/// The unscaled decimal as text with `scale` fractional digits ("-0.05").
std::string FormatDecimal(__int128 unscaled, int32_t scale);

}  // namespace strom::record
