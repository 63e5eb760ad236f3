#pragma once

#include <nlohmann/json.hpp>

#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strom/types.h"

namespace strom::cli {

/// Conversions between the text forms the CLI reads and prints (JSON values, CSV fields,
/// table cells) and Datums of a column type.
///
/// Text forms, both directions:
///   BOOLEAN true/false; integers and FLOAT/DOUBLE as numbers (also as strings; "NaN",
///   "Infinity", "-Infinity" for floats); CHAR/STRING as strings (CHAR(n) at most n
///   characters); BINARY/BYTES as base64 (BINARY(n) at most n bytes, zero-padded);
///   DECIMAL(p,s) as a decimal string or number (rounded half-up to s digits; more than p
///   digits is an error), printed as a string; DATE "YYYY-MM-DD" (or days since epoch);
///   TIME "HH:MM:SS[.fff]" (or milliseconds of the day); TIMESTAMP "YYYY-MM-DD HH:MM:SS[.f]"
///   (a 'T' may separate, and is what is printed; or epoch milliseconds); TIMESTAMP_LTZ the
///   same with an optional "Z" or "+HH:MM" offset (UTC when none), printed with "Z"; ARRAY as a JSON array; MAP as
///   a JSON object (keys converted from their text) or an array of [key, value] pairs, printed
///   as an object when the key type is CHAR/STRING; ROW as an object by field name or an array
///   by position, printed as an object. JSON null is null.
///
/// Output of DECIMAL and temporal values is strom::FormatDatum's text (the table output of
/// `strom scan` uses FormatDatum for every type). Errors are kCorruptRecord and say what was
/// expected; callers add line and column.

/// One JSON value as a Datum of `type` (null refused for NOT NULL types).
Result<Datum> JsonToDatum(const nlohmann::json& value, const DataType& type);

/// A JSON object (column name -> value) as a row of `names`/`types`. Missing columns are
/// null; a key that is not a column is an error. Errors name the column.
Result<GenericRow> JsonObjectToRow(const nlohmann::json& object,
                                   const std::vector<std::string>& names,
                                   const std::vector<DataType>& types);

/// One text field (CSV cell) as a Datum; complex types take their JSON text.
Result<Datum> TextToDatum(std::string_view text, const DataType& type);

/// The JSON form of a value (see above).
nlohmann::json DatumToJson(const Datum& value, const DataType& type);

/// One CSV field: its text, and whether it was quoted (an unquoted empty field is NULL, a
/// quoted empty one "" is the empty string).
struct CsvField {
  std::string text;
  bool quoted = false;
};

/// Reads RFC 4180 CSV records: comma-separated, fields optionally in double quotes (a doubled
/// quote inside stands for one; quoted fields may span lines), CRLF or LF line ends.
///
/// Not thread-safe; borrows the stream.
class CsvReader {
 public:
  explicit CsvReader(std::istream* in) : in_(in) {}

  /// The next record, or nullopt at the end of input. kCorruptRecord for an unterminated
  /// quote or text after a closing quote.
  Result<std::optional<std::vector<CsvField>>> Next();

  /// Line number (1-based) where the last record returned started.
  int64_t line() const { return record_line_; }
  /// Bytes consumed so far.
  int64_t bytes_read() const { return bytes_read_; }

 private:
  std::istream* in_;
  int64_t next_line_ = 1;
  int64_t record_line_ = 0;
  int64_t bytes_read_ = 0;
};

/// Base64 (RFC 4648, with padding).
std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);

}  // namespace strom::cli
