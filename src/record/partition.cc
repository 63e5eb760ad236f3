#include "record/partition.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "record/detail/row_codec_util.h"

namespace strom::record {
namespace {

using detail::As;

template <typename... Args>
Status SpecError(fmt::format_string<Args...> format, Args&&... args) {
  return Status(ErrorCode::kPartitionSpecInvalid, fmt::format(format, std::forward<Args>(args)...));
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

struct CivilDate {
  int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};

/// Proleptic Gregorian date of a count of days since 1970-01-01 (the era-based method:
/// shift to a 400-year cycle that starts on 0000-03-01, then split the cycle).
CivilDate DateFromDays(int64_t days) {
  int64_t z = days + 719468;
  int64_t era = FloorDiv(z, 146097);
  int64_t day_of_era = z - era * 146097;
  int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t month_from_march = (5 * day_of_year + 2) / 153;
  int day = static_cast<int>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  int month = static_cast<int>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

/// Inverse of DateFromDays.
int64_t DaysFromDate(int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  int64_t era = FloorDiv(year, 400);
  int64_t year_of_era = year - era * 400;
  int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

/// A `yyyy` field of java.time patterns: the year of era (1 BC is year 1), at least four
/// digits, and a '+' when it needs more than four.
std::string YearOfEra(int64_t year) {
  int64_t yoe = year <= 0 ? 1 - year : year;
  return yoe > 9999 ? fmt::format("+{}", yoe) : fmt::format("{:04d}", yoe);
}

struct LocalDateTime {
  CivilDate date;
  int hour;
  int minute;
  int second;
  int64_t nano_of_second;
};

LocalDateTime FromEpochNanosParts(int64_t epoch_seconds, int64_t nano_of_second) {
  int64_t days = FloorDiv(epoch_seconds, 86400);
  int64_t second_of_day = FloorMod(epoch_seconds, 86400);
  return {DateFromDays(days), static_cast<int>(second_of_day / 3600),
          static_cast<int>(second_of_day / 60 % 60), static_cast<int>(second_of_day % 60),
          nano_of_second};
}

std::string TimestampToString(const TimestampValue& ts) {
  int64_t seconds = FloorDiv(ts.millis, 1000);
  int64_t nanos = FloorMod(ts.millis, 1000) * 1'000'000 + ts.nanos_of_milli;
  LocalDateTime t = FromEpochNanosParts(seconds, nanos);
  std::string out = fmt::format("{}-{:02d}-{:02d}-{:02d}-{:02d}-{:02d}_", YearOfEra(t.date.year),
                                t.date.month, t.date.day, t.hour, t.minute, t.second);
  if (t.nano_of_second != 0) {
    std::string fraction = fmt::format("{:09d}", t.nano_of_second);
    fraction.erase(fraction.find_last_not_of('0') + 1);
    out += fraction;
  }
  return out;
}

std::string TimeToString(int32_t millis) {
  constexpr int64_t kHour = 3'600'000;
  constexpr int64_t kMinute = 60'000;
  int64_t hour = FloorDiv(millis, kHour);
  int64_t within_hour = FloorMod(millis, kHour);
  return fmt::format("{:02d}-{:02d}-{:02d}_{:03d}", hour, within_hour / kMinute,
                     within_hour % kMinute / 1000, FloorMod(millis, 1000));
}

std::string DateToString(int32_t days) {
  CivilDate d = DateFromDays(days);
  return fmt::format("{:04d}-{:02d}-{:02d}", d.year, d.month, d.day);
}

/// Decimal digits (no leading/trailing zeros) and exponent of v = d.ddd x 10^exponent.
struct DecimalDigits {
  std::string digits;
  int exponent = 0;
};

template <typename T>
DecimalDigits ToDecimal(T v, int precision) {
  char buf[64];
  std::to_chars_result r = precision < 0
      ? std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific)
      : std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific, precision);
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  if (!s.empty() && s[0] == '-') s.remove_prefix(1);
  size_t e = s.find('e');
  DecimalDigits d;
  d.digits.push_back(s[0]);
  if (s.size() > 1 && s[1] == '.') d.digits.append(s.substr(2, e - 2));
  d.exponent = std::atoi(std::string(s.substr(e + 1)).c_str());
  size_t last = d.digits.find_last_not_of('0');
  d.digits.erase(last == std::string::npos ? 1 : last + 1);
  return d;
}

template <typename T>
bool ReadsBackAs(const DecimalDigits& d, T v) {
  std::string text = d.digits.substr(0, 1) + "." + d.digits.substr(1) + "e" +
                     std::to_string(d.exponent);
  T parsed{};
  auto r = std::from_chars(text.data(), text.data() + text.size(), parsed);
  return r.ec == std::errc() && parsed == std::fabs(v);
}

template <typename T>
std::string JavaToString(T v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  DecimalDigits d = ToDecimal(v, -1);
  if (d.digits.size() == 1) {
    // Java never prints a single significant digit: among the two-digit decimals that
    // read back as v it takes the closest one.
    DecimalDigits two = ToDecimal(v, 1);
    if (ReadsBackAs(two, v)) d = two;
  }
  std::string out = std::signbit(v) ? "-" : "";
  T magnitude = std::fabs(v);
  const auto n = static_cast<int>(d.digits.size());
  if (magnitude >= static_cast<T>(1e-3) && magnitude < static_cast<T>(1e7)) {
    if (d.exponent >= 0) {
      int int_digits = d.exponent + 1;
      out += d.digits.substr(0, std::min(n, int_digits));
      if (int_digits > n) out.append(int_digits - n, '0');
      out += '.';
      out += n > int_digits ? d.digits.substr(int_digits) : "0";
    } else {
      out += "0.";
      out.append(-d.exponent - 1, '0');
      out += d.digits;
    }
  } else {
    out += d.digits[0];
    out += '.';
    out += n > 1 ? d.digits.substr(1) : "0";
    out += 'E';
    out += std::to_string(d.exponent);
  }
  return out;
}

template <typename T>
std::string PartitionFloat(T v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Inf" : "-Inf";
  std::string s = JavaToString(v);
  for (char& c : s) {
    if (c == '.') c = '_';
  }
  return s;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

std::string JavaFloatToString(float v) { return JavaToString(v); }
std::string JavaDoubleToString(double v) { return JavaToString(v); }

Result<std::string> PartitionValueToString(const DataType& type, const Datum& value) {
  auto mismatch = [&]() {
    return SpecError("partition value of type {} is {}", type.ToString(),
                     value.is_null() ? "null" : "of another kind");
  };
  if (value.is_null()) return mismatch();
  switch (type.root()) {
    case TypeRoot::kChar:
    case TypeRoot::kString:
      if (const std::string* v = As<std::string>(value)) return *v;
      break;
    case TypeRoot::kBoolean:
      if (const bool* v = As<bool>(value)) return std::string(*v ? "true" : "false");
      break;
    case TypeRoot::kBinary:
    case TypeRoot::kBytes:
      if (const std::string* v = As<std::string>(value)) return ToHex(*v);
      break;
    case TypeRoot::kTinyInt:
      if (const int8_t* v = As<int8_t>(value)) return std::to_string(*v);
      break;
    case TypeRoot::kSmallInt:
      if (const int16_t* v = As<int16_t>(value)) return std::to_string(*v);
      break;
    case TypeRoot::kInt:
      if (const int32_t* v = As<int32_t>(value)) return std::to_string(*v);
      break;
    case TypeRoot::kBigInt:
      if (const int64_t* v = As<int64_t>(value)) return std::to_string(*v);
      break;
    case TypeRoot::kDate:
      if (const int32_t* v = As<int32_t>(value)) return DateToString(*v);
      break;
    case TypeRoot::kTime:
      if (const int32_t* v = As<int32_t>(value)) return TimeToString(*v);
      break;
    case TypeRoot::kFloat:
      if (const float* v = As<float>(value)) return PartitionFloat(*v);
      break;
    case TypeRoot::kDouble:
      if (const double* v = As<double>(value)) return PartitionFloat(*v);
      break;
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz:
      if (const TimestampValue* v = As<TimestampValue>(value)) return TimestampToString(*v);
      break;
    default:
      return SpecError("type {} cannot be a partition key", type.ToString());
  }
  return mismatch();
}

std::string JoinPartitionName(const std::vector<std::string>& values) {
  std::string name;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) name.push_back(kPartitionSeparator);
    name += values[i];
  }
  return name;
}

std::vector<std::string> SplitPartitionName(std::string_view name) {
  std::vector<std::string> values;
  size_t start = 0;
  while (true) {
    size_t end = name.find(kPartitionSeparator, start);
    if (end == std::string_view::npos) {
      values.emplace_back(name.substr(start));
      return values;
    }
    values.emplace_back(name.substr(start, end - start));
    start = end + 1;
  }
}

Status ValidatePartitionValue(std::string_view value, bool is_create) {
  auto invalid = [&](std::string_view why) {
    return SpecError("the partition value {} is invalid: {}", value, why);
  };
  if (value.empty()) return invalid("the empty string is not allowed");
  if (value == ".") return invalid("'.' is not allowed");
  if (value == "..") return invalid("'..' is not allowed");
  if (value.size() > kMaxPartitionValueLength) {
    return invalid(fmt::format("it is longer than the max allowed length {}",
                               kMaxPartitionValueLength));
  }
  for (char c : value) {
    if (!IsNameChar(c)) {
      return invalid("it contains characters other than ASCII alphanumerics, '_' and '-'");
    }
  }
  if (is_create && value.substr(0, 2) == "__") {
    return invalid("the prefix '__' is reserved for internal use");
  }
  return Status::OK();
}

Status ValidatePartitionValues(const std::vector<std::string>& values, bool is_create) {
  for (const auto& value : values) STROM_RETURN_IF_ERROR(ValidatePartitionValue(value, is_create));
  return Status::OK();
}

Result<AutoPartitionTimeUnit> ParseAutoPartitionTimeUnit(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "YEAR") return AutoPartitionTimeUnit::kYear;
  if (upper == "QUARTER") return AutoPartitionTimeUnit::kQuarter;
  if (upper == "MONTH") return AutoPartitionTimeUnit::kMonth;
  if (upper == "DAY") return AutoPartitionTimeUnit::kDay;
  if (upper == "HOUR") return AutoPartitionTimeUnit::kHour;
  return Status(ErrorCode::kInvalidConfig,
                fmt::format("unknown auto-partition time unit \"{}\"", name));
}

std::string AutoPartitionName(int64_t epoch_millis, int32_t offset, AutoPartitionTimeUnit unit,
                              int32_t utc_offset_seconds) {
  int64_t local_seconds = FloorDiv(epoch_millis, 1000) + utc_offset_seconds;
  if (unit == AutoPartitionTimeUnit::kHour) local_seconds += int64_t{offset} * 3600;
  LocalDateTime t = FromEpochNanosParts(local_seconds, 0);
  CivilDate date = t.date;
  auto add_months = [&](int64_t months) {
    int64_t index = date.year * 12 + (date.month - 1) + months;
    date.year = FloorDiv(index, 12);
    date.month = static_cast<int>(FloorMod(index, 12)) + 1;
    date.day = std::min(date.day, DaysInMonth(date.year, date.month));
  };
  switch (unit) {
    case AutoPartitionTimeUnit::kYear:
      add_months(int64_t{offset} * 12);
      return YearOfEra(date.year);
    case AutoPartitionTimeUnit::kQuarter:
      add_months(int64_t{offset} * 3);
      return fmt::format("{}{}", YearOfEra(date.year), (date.month - 1) / 3 + 1);
    case AutoPartitionTimeUnit::kMonth:
      add_months(offset);
      return fmt::format("{}{:02d}", YearOfEra(date.year), date.month);
    case AutoPartitionTimeUnit::kDay:
      date = DateFromDays(DaysFromDate(date.year, date.month, date.day) + offset);
      return fmt::format("{}{:02d}{:02d}", YearOfEra(date.year), date.month, date.day);
    case AutoPartitionTimeUnit::kHour:
      return fmt::format("{}{:02d}{:02d}{:02d}", YearOfEra(date.year), date.month, date.day,
                         t.hour);
  }
  return {};
}

}  // namespace strom::record
