#include "record/datum_format.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

#include "common/bytes.h"

namespace strom::record {

namespace {

// Days since 1970-01-01 to a civil date (proleptic Gregorian), after H. Hinnant's algorithm.
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::string FormatDate(int32_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

std::string FormatTime(int32_t millis_of_day, int32_t precision) {
  int32_t ms = millis_of_day;
  std::string out = fmt::format("{:02}:{:02}:{:02}", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60);
  if (precision > 0) out += fmt::format(".{:03}", ms % 1000);
  return out;
}

std::string FormatTimestamp(const TimestampValue& ts, int32_t precision) {
  int64_t seconds = FloorDiv(ts.millis, 1000);
  int64_t millis = ts.millis - seconds * 1000;
  int64_t days = FloorDiv(seconds, 86400);
  int64_t sod = seconds - days * 86400;
  std::string out = fmt::format("{}T{:02}:{:02}:{:02}", FormatDate(static_cast<int32_t>(days)),
                                sod / 3600, sod / 60 % 60, sod % 60);
  if (precision > 0) {
    std::string frac = fmt::format("{:03}{:06}", millis, ts.nanos_of_milli);
    out += "." + frac.substr(0, static_cast<size_t>(std::min(precision, 9)));
  }
  return out;
}

std::string FormatFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return fmt::format("{}", v);
}

}  // namespace

std::string FormatDecimal(__int128 unscaled, int32_t scale) {
  bool negative = unscaled < 0;
  unsigned __int128 magnitude =
      negative ? static_cast<unsigned __int128>(-(unscaled + 1)) + 1 : unscaled;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  if (scale > 0) {
    if (digits.size() <= static_cast<size_t>(scale)) {
      digits.insert(0, static_cast<size_t>(scale) - digits.size() + 1, '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  }
  return negative ? "-" + digits : digits;
}

std::string FormatDatum(const DataType& type, const Datum& value) {
  if (value.is_null()) return "null";
  const auto& v = value.v;
  switch (type.root()) {
    case TypeRoot::kDate:
      if (auto* d = std::get_if<int32_t>(&v)) return FormatDate(*d);
      break;
    case TypeRoot::kTime:
      if (auto* t = std::get_if<int32_t>(&v)) return FormatTime(*t, type.precision());
      break;
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz:
      if (auto* ts = std::get_if<TimestampValue>(&v)) {
        return FormatTimestamp(*ts, type.precision()) +
               (type.root() == TypeRoot::kTimestampLtz ? "Z" : "");
      }
      break;
    case TypeRoot::kDecimal:
      if (auto* dec = std::get_if<DecimalValue>(&v)) return FormatDecimal(dec->unscaled, type.scale());
      break;
    case TypeRoot::kBinary:
    case TypeRoot::kBytes:
      if (auto* s = std::get_if<std::string>(&v)) return "0x" + ToHex(*s);
      break;
    case TypeRoot::kArray:
      if (auto* a = std::get_if<ArrayValue>(&v)) {
        std::string out = "[";
        for (size_t i = 0; i < a->elements.size(); ++i) {
          if (i > 0) out += ", ";
          out += FormatDatum(type.element(), a->elements[i]);
        }
        return out + "]";
      }
      break;
    case TypeRoot::kMap:
      if (auto* m = std::get_if<MapValue>(&v)) {
        std::string out = "{";
        for (size_t i = 0; i < m->entries.size(); ++i) {
          if (i > 0) out += ", ";
          out += FormatDatum(type.key(), m->entries[i].first) + ": " +
                 FormatDatum(type.value(), m->entries[i].second);
        }
        return out + "}";
      }
      break;
    case TypeRoot::kRow:
      if (auto* r = std::get_if<RowValue>(&v)) {
        std::string out = "(";
        for (size_t i = 0; i < r->fields.size(); ++i) {
          if (i > 0) out += ", ";
          out += i < type.fields().size() ? FormatDatum(type.fields()[i].type, r->fields[i])
                                          : FormatDatum(DataType::String(), r->fields[i]);
        }
        return out + ")";
      }
      break;
    default:
      break;
  }
  // Scalars, and values whose shape does not match the type.
  struct Visitor {
    std::string operator()(std::monostate) const { return "null"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int8_t i) const { return std::to_string(i); }
    std::string operator()(int16_t i) const { return std::to_string(i); }
    std::string operator()(int32_t i) const { return std::to_string(i); }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(float f) const { return FormatFloat(f); }
    std::string operator()(double d) const { return FormatFloat(d); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(const DecimalValue& d) const { return FormatDecimal(d.unscaled, 0); }
    std::string operator()(const TimestampValue& t) const { return FormatTimestamp(t, 9); }
    std::string operator()(const ArrayValue&) const { return "[...]"; }
    std::string operator()(const MapValue&) const { return "{...}"; }
    std::string operator()(const RowValue&) const { return "(...)"; }
  };
  return std::visit(Visitor{}, v);
}

std::string FormatRow(const DataType& row_type, const GenericRow& row) {
  return FormatDatum(row_type, Datum(RowValue{row}));
}

}  // namespace strom::record
