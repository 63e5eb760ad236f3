#include "cli/row_convert.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace strom::cli {

namespace {

using nlohmann::json;

template <typename... Args>
Status Bad(fmt::format_string<Args...> format, Args&&... args) {
  return Status(ErrorCode::kCorruptRecord, fmt::format(format, std::forward<Args>(args)...));
}

std::string_view KindOf(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    default: return "a value";
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

Result<int64_t> ParseInt64(std::string_view text) {
  text = Trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return Bad("'{}' is not an integer", text);
  }
  return value;
}

Result<int64_t> IntegerFromJson(const json& v) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return Bad("{} is out of range", v.dump());
    }
    return v.get<int64_t>();
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::trunc(d) != d || std::abs(d) > 9.2e18) return Bad("{} is not an integer", v.dump());
    return static_cast<int64_t>(d);
  }
  if (v.is_string()) return ParseInt64(v.get<std::string>());
  return Bad("expected an integer, got {}", KindOf(v));
}

Result<Datum> IntegerDatum(int64_t value, const DataType& type) {
  auto check = [&](int64_t min, int64_t max) -> Status {
    if (value < min || value > max) {
      return Bad("{} is out of range for {} ({}..{})", value, type.ToString(), min, max);
    }
    return Status::OK();
  };
  switch (type.root()) {
    case TypeRoot::kTinyInt:
      STROM_RETURN_IF_ERROR(check(INT8_MIN, INT8_MAX));
      return Datum(static_cast<int8_t>(value));
    case TypeRoot::kSmallInt:
      STROM_RETURN_IF_ERROR(check(INT16_MIN, INT16_MAX));
      return Datum(static_cast<int16_t>(value));
    case TypeRoot::kInt:
      STROM_RETURN_IF_ERROR(check(INT32_MIN, INT32_MAX));
      return Datum(static_cast<int32_t>(value));
    default:
      return Datum(value);
  }
}

Result<double> ParseDouble(std::string_view text) {
  text = Trim(text);
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity" || text == "+Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  std::string copy(text);
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size() || errno == ERANGE) {
    return Bad("'{}' is not a number", text);
  }
  return value;
}

// ---- dates and times ----

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Reads exactly `n` digits at *pos.
bool Digits(std::string_view s, size_t* pos, int n, int64_t* out) {
  if (*pos + static_cast<size_t>(n) > s.size()) return false;
  int64_t v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[*pos + static_cast<size_t>(i)];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  *pos += static_cast<size_t>(n);
  *out = v;
  return true;
}

// YYYY-MM-DD (a leading '-' for years before 0 is not supported) at *pos.
bool ParseDatePart(std::string_view s, size_t* pos, int64_t* days) {
  int64_t y, m, d;
  if (!Digits(s, pos, 4, &y) || *pos >= s.size() || s[(*pos)++] != '-' || !Digits(s, pos, 2, &m) ||
      *pos >= s.size() || s[(*pos)++] != '-' || !Digits(s, pos, 2, &d)) {
    return false;
  }
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  int max_day = kDays[m - 1] + (m == 2 && IsLeap(y) ? 1 : 0);
  if (d > max_day) return false;
  *days = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return true;
}

// HH:MM[:SS[.fffffffff]] at *pos: nanoseconds of the day.
bool ParseTimePart(std::string_view s, size_t* pos, int64_t* nanos) {
  int64_t h, mi, sec = 0, frac = 0;
  if (!Digits(s, pos, 2, &h) || *pos >= s.size() || s[(*pos)++] != ':' || !Digits(s, pos, 2, &mi)) {
    return false;
  }
  if (*pos < s.size() && s[*pos] == ':') {
    ++*pos;
    if (!Digits(s, pos, 2, &sec)) return false;
    if (*pos < s.size() && s[*pos] == '.') {
      ++*pos;
      int n = 0;
      while (*pos < s.size() && std::isdigit(static_cast<unsigned char>(s[*pos]))) {
        if (n == 9) return false;
        frac = frac * 10 + (s[(*pos)++] - '0');
        ++n;
      }
      if (n == 0) return false;
      for (; n < 9; ++n) frac *= 10;
    }
  }
  if (h > 23 || mi > 59 || sec > 59) return false;
  *nanos = ((h * 60 + mi) * 60 + sec) * 1000000000LL + frac;
  return true;
}

Result<Datum> ParseDate(std::string_view text) {
  text = Trim(text);
  size_t pos = 0;
  int64_t days = 0;
  if (!ParseDatePart(text, &pos, &days) || pos != text.size()) {
    return Bad("'{}' is not a date (YYYY-MM-DD)", text);
  }
  return Datum(static_cast<int32_t>(days));
}

Result<Datum> ParseTime(std::string_view text) {
  text = Trim(text);
  size_t pos = 0;
  int64_t nanos = 0;
  if (!ParseTimePart(text, &pos, &nanos) || pos != text.size()) {
    return Bad("'{}' is not a time (HH:MM:SS[.fff])", text);
  }
  return Datum(static_cast<int32_t>(nanos / 1000000));
}

Result<Datum> ParseTimestamp(std::string_view text, bool ltz) {
  text = Trim(text);
  size_t pos = 0;
  int64_t days = 0;
  int64_t nanos = 0;
  bool ok = ParseDatePart(text, &pos, &days);
  if (ok && pos < text.size() && (text[pos] == ' ' || text[pos] == 'T')) {
    ++pos;
    ok = ParseTimePart(text, &pos, &nanos);
  }
  int64_t offset_minutes = 0;
  if (ok && pos < text.size()) {
    if (!ltz) {
      return Bad("'{}' has a time zone, but TIMESTAMP has none (use TIMESTAMP_LTZ)", text);
    }
    if (text[pos] == 'Z') {
      ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
      int sign = text[pos] == '-' ? -1 : 1;
      ++pos;
      int64_t oh, om;
      ok = Digits(text, &pos, 2, &oh) && pos < text.size() && text[pos++] == ':' &&
           Digits(text, &pos, 2, &om) && oh <= 23 && om <= 59;
      offset_minutes = sign * (oh * 60 + om);
    } else {
      ok = false;
    }
  }
  if (!ok || pos != text.size()) {
    return Bad("'{}' is not a timestamp (YYYY-MM-DD HH:MM:SS[.fffffffff]{})", text,
               ltz ? "[Z|+HH:MM]" : "");
  }
  int64_t millis = days * 86400000LL + nanos / 1000000 - offset_minutes * 60000;
  return Datum(TimestampValue{millis, static_cast<int32_t>(nanos % 1000000)});
}

// ---- decimals ----

Result<Datum> ParseDecimal(std::string_view text, const DataType& type) {
  std::string_view s = Trim(text);
  bool negative = false;
  size_t pos = 0;
  if (pos < s.size() && (s[pos] == '-' || s[pos] == '+')) negative = s[pos++] == '-';
  std::string digits;
  int64_t fraction_digits = 0;
  bool seen_point = false;
  bool any = false;
  for (; pos < s.size(); ++pos) {
    char c = s[pos];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits += c;
      any = true;
      if (seen_point) ++fraction_digits;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  int64_t exponent = 0;
  if (any && pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
    ++pos;
    Result<int64_t> e = ParseInt64(s.substr(pos));
    if (!e.ok() || *e > 1000 || *e < -1000) return Bad("'{}' is not a decimal number", text);
    exponent = *e;
    pos = s.size();
  }
  if (!any || pos != s.size()) return Bad("'{}' is not a decimal number", text);
  // value = digits * 10^(exponent - fraction_digits); unscaled = value * 10^scale.
  int64_t shift = exponent - fraction_digits + type.scale();
  bool round_up = false;
  if (shift >= 0) {
    if (shift > 40) shift = 40;  // more digits than any precision: caught below
    digits.append(static_cast<size_t>(shift), '0');
  } else {
    size_t drop = static_cast<size_t>(-shift);
    if (drop >= digits.size()) {
      round_up = drop == digits.size() && digits[0] >= '5';
      digits.assign(1, '0');
    } else {
      round_up = digits[digits.size() - drop] >= '5';
      digits.resize(digits.size() - drop);
    }
  }
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) {
    digits.assign(1, '0');
  } else {
    digits.erase(0, first);
  }
  if (digits.size() > 39) {
    return Bad("'{}' does not fit DECIMAL({}, {})", text, type.precision(), type.scale());
  }
  __int128 unscaled = 0;
  for (char c : digits) unscaled = unscaled * 10 + (c - '0');
  if (round_up) unscaled += 1;
  __int128 limit = 1;
  for (int i = 0; i < type.precision(); ++i) limit *= 10;
  if (unscaled >= limit) {
    return Bad("'{}' does not fit DECIMAL({}, {})", text, type.precision(), type.scale());
  }
  return Datum(DecimalValue{negative ? -unscaled : unscaled});
}

std::string FloatText(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return fmt::format("{}", v);
}

Result<Datum> BytesDatum(std::string bytes, const DataType& type) {
  if (type.root() == TypeRoot::kBinary) {
    if (bytes.size() > static_cast<size_t>(type.length())) {
      return Bad("{} bytes do not fit {}", bytes.size(), type.ToString());
    }
    bytes.resize(static_cast<size_t>(type.length()), '\0');
  }
  return Datum(std::move(bytes));
}

Result<Datum> StringDatum(std::string text, const DataType& type) {
  if (type.root() == TypeRoot::kChar) {
    // Count UTF-8 code points.
    size_t chars = 0;
    for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
    if (chars > static_cast<size_t>(type.length())) {
      return Bad("'{}' has {} characters, more than {}", text, chars, type.ToString());
    }
  }
  return Datum(std::move(text));
}

}  // namespace

// ---- JSON -> Datum ----

Result<Datum> JsonToDatum(const json& value, const DataType& type) {
  if (value.is_null()) {
    if (!type.nullable()) return Bad("null for a {} column", type.ToString());
    return Datum();
  }
  switch (type.root()) {
    case TypeRoot::kBoolean:
      if (value.is_boolean()) return Datum(value.get<bool>());
      if (value.is_string()) return TextToDatum(value.get<std::string>(), type);
      return Bad("expected true or false, got {}", KindOf(value));
    case TypeRoot::kTinyInt:
    case TypeRoot::kSmallInt:
    case TypeRoot::kInt:
    case TypeRoot::kBigInt: {
      STROM_ASSIGN_OR_RETURN(int64_t v, IntegerFromJson(value));
      return IntegerDatum(v, type);
    }
    case TypeRoot::kFloat:
    case TypeRoot::kDouble: {
      double v;
      if (value.is_number()) {
        v = value.get<double>();
      } else if (value.is_string()) {
        STROM_ASSIGN_OR_RETURN(v, ParseDouble(value.get<std::string>()));
      } else {
        return Bad("expected a number, got {}", KindOf(value));
      }
      if (type.root() == TypeRoot::kFloat) return Datum(static_cast<float>(v));
      return Datum(v);
    }
    case TypeRoot::kChar:
    case TypeRoot::kString:
      if (!value.is_string()) return Bad("expected a string, got {}", KindOf(value));
      return StringDatum(value.get<std::string>(), type);
    case TypeRoot::kBinary:
    case TypeRoot::kBytes: {
      if (!value.is_string()) return Bad("expected a base64 string, got {}", KindOf(value));
      STROM_ASSIGN_OR_RETURN(std::string bytes, Base64Decode(value.get<std::string>()));
      return BytesDatum(std::move(bytes), type);
    }
    case TypeRoot::kDecimal:
      if (value.is_string()) return ParseDecimal(value.get<std::string>(), type);
      if (value.is_number()) return ParseDecimal(value.dump(), type);
      return Bad("expected a decimal number, got {}", KindOf(value));
    case TypeRoot::kDate:
      if (value.is_string()) return ParseDate(value.get<std::string>());
      if (value.is_number_integer()) {
        STROM_ASSIGN_OR_RETURN(int64_t days, IntegerFromJson(value));
        return IntegerDatum(days, DataType::Int());
      }
      return Bad("expected a date string, got {}", KindOf(value));
    case TypeRoot::kTime:
      if (value.is_string()) return ParseTime(value.get<std::string>());
      if (value.is_number_integer()) {
        STROM_ASSIGN_OR_RETURN(int64_t ms, IntegerFromJson(value));
        if (ms < 0 || ms >= 86400000) return Bad("{} is not a millisecond of the day", ms);
        return Datum(static_cast<int32_t>(ms));
      }
      return Bad("expected a time string, got {}", KindOf(value));
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz:
      if (value.is_string()) {
        return ParseTimestamp(value.get<std::string>(), type.root() == TypeRoot::kTimestampLtz);
      }
      if (value.is_number_integer()) {
        STROM_ASSIGN_OR_RETURN(int64_t ms, IntegerFromJson(value));
        return Datum(TimestampValue{ms, 0});
      }
      return Bad("expected a timestamp string or epoch milliseconds, got {}", KindOf(value));
    case TypeRoot::kArray: {
      if (!value.is_array()) return Bad("expected an array, got {}", KindOf(value));
      ArrayValue array;
      for (size_t i = 0; i < value.size(); ++i) {
        Result<Datum> element = JsonToDatum(value[i], type.element());
        if (!element.ok()) return element.status().WithContext(fmt::format("element {}", i));
        array.elements.push_back(std::move(*element));
      }
      return Datum(std::move(array));
    }
    case TypeRoot::kMap: {
      MapValue map;
      if (value.is_object()) {
        for (const auto& [key, item] : value.items()) {
          Result<Datum> k = TextToDatum(key, type.key());
          if (!k.ok()) return k.status().WithContext(fmt::format("map key '{}'", key));
          Result<Datum> v = JsonToDatum(item, type.value());
          if (!v.ok()) return v.status().WithContext(fmt::format("map value of '{}'", key));
          map.entries.emplace_back(std::move(*k), std::move(*v));
        }
      } else if (value.is_array()) {
        for (size_t i = 0; i < value.size(); ++i) {
          const json& pair = value[i];
          if (!pair.is_array() || pair.size() != 2) {
            return Bad("map entry {} is not a [key, value] pair", i);
          }
          Result<Datum> k = JsonToDatum(pair[0], type.key());
          if (!k.ok()) return k.status().WithContext(fmt::format("map key {}", i));
          Result<Datum> v = JsonToDatum(pair[1], type.value());
          if (!v.ok()) return v.status().WithContext(fmt::format("map value {}", i));
          map.entries.emplace_back(std::move(*k), std::move(*v));
        }
      } else {
        return Bad("expected an object or [[key, value], ...], got {}", KindOf(value));
      }
      return Datum(std::move(map));
    }
    case TypeRoot::kRow: {
      const auto& fields = type.fields();
      RowValue row;
      row.fields.resize(fields.size());
      if (value.is_object()) {
        for (const auto& [key, item] : value.items()) {
          auto it = std::find_if(fields.begin(), fields.end(),
                                 [&](const DataField& f) { return f.name == key; });
          if (it == fields.end()) return Bad("ROW has no field '{}'", key);
        }
        for (size_t i = 0; i < fields.size(); ++i) {
          auto it = value.find(fields[i].name);
          Result<Datum> v = JsonToDatum(it == value.end() ? json() : *it, fields[i].type);
          if (!v.ok()) return v.status().WithContext(fmt::format("field {}", fields[i].name));
          row.fields[i] = std::move(*v);
        }
      } else if (value.is_array()) {
        if (value.size() != fields.size()) {
          return Bad("ROW has {} fields, the array {}", fields.size(), value.size());
        }
        for (size_t i = 0; i < fields.size(); ++i) {
          Result<Datum> v = JsonToDatum(value[i], fields[i].type);
          if (!v.ok()) return v.status().WithContext(fmt::format("field {}", fields[i].name));
          row.fields[i] = std::move(*v);
        }
      } else {
        return Bad("expected an object or an array for a ROW, got {}", KindOf(value));
      }
      return Datum(std::move(row));
    }
  }
  return Bad("unsupported type {}", type.ToString());
}

Result<GenericRow> JsonObjectToRow(const json& object, const std::vector<std::string>& names,
                                   const std::vector<DataType>& types) {
  if (!object.is_object()) return Bad("expected a JSON object per line, got {}", KindOf(object));
  for (const auto& [key, item] : object.items()) {
    if (std::find(names.begin(), names.end(), key) == names.end()) {
      return Bad("column '{}': the table has no such column", key);
    }
  }
  GenericRow row(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = object.find(names[i]);
    Result<Datum> value = JsonToDatum(it == object.end() ? json() : *it, types[i]);
    if (!value.ok()) {
      return Status(value.status().code(),
                    fmt::format("column '{}' ({}): {}", names[i], types[i].ToString(),
                                value.status().message()));
    }
    row[i] = std::move(*value);
  }
  return row;
}

Result<Datum> TextToDatum(std::string_view text, const DataType& type) {
  switch (type.root()) {
    case TypeRoot::kBoolean: {
      std::string lower(Trim(text));
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "true" || lower == "1") return Datum(true);
      if (lower == "false" || lower == "0") return Datum(false);
      return Bad("'{}' is not true or false", text);
    }
    case TypeRoot::kTinyInt:
    case TypeRoot::kSmallInt:
    case TypeRoot::kInt:
    case TypeRoot::kBigInt: {
      STROM_ASSIGN_OR_RETURN(int64_t v, ParseInt64(text));
      return IntegerDatum(v, type);
    }
    case TypeRoot::kFloat: {
      STROM_ASSIGN_OR_RETURN(double v, ParseDouble(text));
      return Datum(static_cast<float>(v));
    }
    case TypeRoot::kDouble: {
      STROM_ASSIGN_OR_RETURN(double v, ParseDouble(text));
      return Datum(v);
    }
    case TypeRoot::kChar:
    case TypeRoot::kString:
      return StringDatum(std::string(text), type);
    case TypeRoot::kBinary:
    case TypeRoot::kBytes: {
      STROM_ASSIGN_OR_RETURN(std::string bytes, Base64Decode(text));
      return BytesDatum(std::move(bytes), type);
    }
    case TypeRoot::kDecimal:
      return ParseDecimal(text, type);
    case TypeRoot::kDate: {
      Result<int64_t> days = ParseInt64(text);
      if (days.ok()) return IntegerDatum(*days, DataType::Int());
      return ParseDate(text);
    }
    case TypeRoot::kTime: {
      Result<int64_t> ms = ParseInt64(text);
      if (ms.ok()) return JsonToDatum(json(*ms), type);
      return ParseTime(text);
    }
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz: {
      Result<int64_t> ms = ParseInt64(text);
      if (ms.ok()) return Datum(TimestampValue{*ms, 0});
      return ParseTimestamp(text, type.root() == TypeRoot::kTimestampLtz);
    }
    case TypeRoot::kArray:
    case TypeRoot::kMap:
    case TypeRoot::kRow: {
      json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_discarded()) return Bad("'{}' is not JSON text for {}", text, type.ToString());
      return JsonToDatum(parsed, type);
    }
  }
  return Bad("unsupported type {}", type.ToString());
}

// ---- Datum -> text ----

json DatumToJson(const Datum& value, const DataType& type) {
  if (value.is_null()) return json();
  switch (type.root()) {
    case TypeRoot::kBoolean:
      return value.as<bool>();
    case TypeRoot::kTinyInt:
      return value.as<int8_t>();
    case TypeRoot::kSmallInt:
      return value.as<int16_t>();
    case TypeRoot::kInt:
      return value.as<int32_t>();
    case TypeRoot::kBigInt:
      return value.as<int64_t>();
    case TypeRoot::kFloat:
    case TypeRoot::kDouble: {
      double v = type.root() == TypeRoot::kFloat ? static_cast<double>(value.as<float>())
                                                 : value.as<double>();
      if (std::isfinite(v)) return v;
      return FloatText(v);
    }
    case TypeRoot::kChar:
    case TypeRoot::kString:
      return value.as<std::string>();
    case TypeRoot::kBinary:
    case TypeRoot::kBytes:
      return Base64Encode(value.as<std::string>());
    case TypeRoot::kMap: {
      const auto& entries = value.as<MapValue>().entries;
      bool text_keys = type.key().root() == TypeRoot::kString || type.key().root() == TypeRoot::kChar;
      if (text_keys) {
        json object = json::object();
        for (const auto& [k, v] : entries) {
          object[k.is_null() ? "null" : k.as<std::string>()] = DatumToJson(v, type.value());
        }
        return object;
      }
      json pairs = json::array();
      for (const auto& [k, v] : entries) {
        pairs.push_back(json::array({DatumToJson(k, type.key()), DatumToJson(v, type.value())}));
      }
      return pairs;
    }
    case TypeRoot::kArray: {
      json array = json::array();
      for (const Datum& e : value.as<ArrayValue>().elements) {
        array.push_back(DatumToJson(e, type.element()));
      }
      return array;
    }
    case TypeRoot::kRow: {
      json object = json::object();
      const auto& fields = value.as<RowValue>().fields;
      for (size_t i = 0; i < fields.size() && i < type.fields().size(); ++i) {
        object[type.fields()[i].name] = DatumToJson(fields[i], type.fields()[i].type);
      }
      return object;
    }
    default:
      // DECIMAL, DATE, TIME, TIMESTAMP(_LTZ): the text form, which the parsers above read.
      return FormatDatum(type, value);
  }
}

// ---- CSV ----

Result<std::optional<std::vector<CsvField>>> CsvReader::Next() {
  std::string line;
  if (!std::getline(*in_, line)) return std::optional<std::vector<CsvField>>();
  record_line_ = next_line_++;
  bytes_read_ += static_cast<int64_t>(line.size()) + 1;
  std::vector<CsvField> fields;
  CsvField field;
  size_t i = 0;
  bool at_field_start = true;
  for (;;) {
    if (i >= line.size() || (line[i] == '\r' && i + 1 == line.size())) {
      fields.push_back(std::move(field));
      break;
    }
    char c = line[i];
    if (at_field_start && c == '"') {
      field.quoted = true;
      ++i;
      // Quoted field: runs to the closing quote, possibly across lines.
      for (;;) {
        if (i >= line.size()) {
          std::string more;
          if (!std::getline(*in_, more)) {
            return Bad("line {}: unterminated quoted field", record_line_);
          }
          ++next_line_;
          bytes_read_ += static_cast<int64_t>(more.size()) + 1;
          field.text += '\n';
          line = std::move(more);
          i = 0;
          continue;
        }
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field.text += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field.text += line[i++];
      }
      at_field_start = false;
      if (i < line.size() && line[i] != ',' && !(line[i] == '\r' && i + 1 == line.size())) {
        return Bad("line {}: text after a closing quote", record_line_);
      }
      continue;
    }
    if (c == ',') {
      fields.push_back(std::move(field));
      field = CsvField();
      at_field_start = true;
      ++i;
      continue;
    }
    field.text += c;
    at_field_start = false;
    ++i;
  }
  return std::optional<std::vector<CsvField>>(std::move(fields));
}

// ---- base64 ----

namespace {
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    out += kBase64Alphabet[n >> 18];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += kBase64Alphabet[(n >> 6) & 63];
    out += kBase64Alphabet[n & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kBase64Alphabet[n >> 18];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += rest == 2 ? kBase64Alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string_view s = Trim(text);
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  if (s.size() % 4 == 1) return Bad("'{}' is not base64", text);
  std::string out;
  out.reserve(s.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : s) {
    int v = value(c);
    if (v < 0) return Bad("'{}' is not base64", text);
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

}  // namespace strom::cli
