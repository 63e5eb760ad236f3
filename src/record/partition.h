#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "record/data_type.h"
#include "record/datum.h"

namespace strom::record {

/// Separator between the values of a multi-key partition name ("2024$beijing").
inline constexpr char kPartitionSeparator = '$';
/// Longest partition value (and table or database name) Fluss accepts.
inline constexpr size_t kMaxPartitionValueLength = 200;

/// Java's `Float.toString` / `Double.toString` (the shortest-decimal form of JDK 19 and
/// later): "NaN", "Infinity", "-Infinity", "0.0", "-0.0"; plain notation with at least one
/// fractional digit for 1e-3 <= |v| < 1e7 ("5.73", "100.0", "0.001"); otherwise computerized
/// scientific notation ("1.0E10", "1.234E-5", "4.9E-324"). Digits are the shortest that read
/// back as `v`; where one digit would do, the closest two-digit decimal is used.
std::string JavaFloatToString(float v);
std::string JavaDoubleToString(double v);

/// String form of one partition value (`PartitionUtils.convertValueOfType`):
///   CHAR/STRING as is; BOOLEAN "true"/"false"; BINARY/BYTES lower-case hex;
///   TINYINT..BIGINT decimal; DATE "yyyy-MM-dd"; TIME "HH-mm-ss_SSS";
///   FLOAT/DOUBLE Java's toString with '.' -> '_' ("NaN", "Inf", "-Inf" for the specials);
///   TIMESTAMP(_LTZ) "yyyy-MM-dd-HH-mm-ss_" plus the fraction of the second without
///   trailing zeros (UTC).
/// A null value, a value of the wrong kind, or an unsupported type (DECIMAL, ARRAY, MAP,
/// ROW) is kPartitionSpecInvalid.
Result<std::string> PartitionValueToString(const DataType& type, const Datum& value);

/// Joins partition values (in partition-key order) into a partition name with '$'.
std::string JoinPartitionName(const std::vector<std::string>& values);
/// Splits a partition name into its values.
std::vector<std::string> SplitPartitionName(std::string_view name);

/// Checks one partition value: 1..200 characters of [A-Za-z0-9_-], not "." or "..", and
/// when `is_create`, not starting with the reserved prefix "__". kPartitionSpecInvalid.
Status ValidatePartitionValue(std::string_view value, bool is_create);
Status ValidatePartitionValues(const std::vector<std::string>& values, bool is_create);

/// Granularity of automatically created partitions (`table.auto-partition.time-unit`).
enum class AutoPartitionTimeUnit : uint8_t {
  kYear,
  kQuarter,
  kMonth,
  kDay,
  kHour,
};

/// Reads a time unit name (case-insensitive YEAR, QUARTER, MONTH, DAY, HOUR);
/// kInvalidConfig otherwise.
Result<AutoPartitionTimeUnit> ParseAutoPartitionTimeUnit(std::string_view name);

/// Name of the auto partition `offset` units away from the instant `epoch_millis`, seen in
/// the zone with the fixed UTC offset `utc_offset_seconds` (`generateAutoPartitionTime`):
/// YEAR "yyyy", QUARTER "yyyyQ", MONTH "yyyyMM", DAY "yyyyMMdd", HOUR "yyyyMMddHH".
/// Years and months are added on the calendar (a day past the end of the new month does not
/// matter to these formats), days on the local date, hours on the instant.
std::string AutoPartitionName(int64_t epoch_millis, int32_t offset, AutoPartitionTimeUnit unit,
                              int32_t utc_offset_seconds);

}  // namespace strom::record
