#include "cli/schema_parser.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <set>

namespace strom::cli {

namespace {

/// A recursive-descent parser over the schema text. Tokens: identifiers/keywords (letters,
/// digits, `_`), backtick-quoted names, numbers, single-quoted strings, and the punctuation
/// `( ) < > , :`.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<DataType> ParseTypeOnly() {
    STROM_ASSIGN_OR_RETURN(DataType type, ParseType(0));
    SkipSpace();
    if (pos_ != text_.size()) return Error("expected the end of the type");
    return type;
  }

  Result<std::vector<ColumnSpec>> ParseColumnList() {
    std::vector<ColumnSpec> columns;
    std::set<std::string> names;
    SkipSpace();
    if (pos_ == text_.size()) return Error("expected at least one column");
    for (;;) {
      ColumnSpec column;
      STROM_ASSIGN_OR_RETURN(column.name, ParseName("a column name"));
      if (!names.insert(column.name).second) {
        return Error(fmt::format("column '{}' is defined twice", column.name));
      }
      STROM_ASSIGN_OR_RETURN(column.type, ParseType(0));
      if (PeekKeyword("COMMENT")) {
        ReadWord();
        STROM_ASSIGN_OR_RETURN(column.comment, ParseQuoted());
      }
      columns.push_back(std::move(column));
      SkipSpace();
      if (pos_ == text_.size()) break;
      if (!Consume(',')) return Error("expected ',' between columns");
    }
    return columns;
  }

  Result<std::vector<std::string>> ParseNames() {
    std::vector<std::string> names;
    for (;;) {
      STROM_ASSIGN_OR_RETURN(std::string name, ParseName("a column name"));
      names.push_back(std::move(name));
      SkipSpace();
      if (pos_ == text_.size()) break;
      if (!Consume(',')) return Error("expected ','");
    }
    return names;
  }

 private:
  static constexpr int kMaxDepth = 64;

  Status Error(std::string_view what) const {
    std::string found = pos_ < text_.size() ? fmt::format("'{}'", text_.substr(pos_, 12))
                                            : std::string("the end");
    return MakeError(ErrorCode::kInvalidTable, "schema: at column {}: {}, found {}", pos_ + 1,
                     what, found);
  }

  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  static bool IsWordChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
  }

  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool PeekChar(char c) {
    SkipSpace();
    return pos_ < text_.size() && text_[pos_] == c;
  }

  std::string_view PeekWord() {
    SkipSpace();
    size_t end = pos_;
    while (end < text_.size() && IsWordChar(text_[end])) ++end;
    return text_.substr(pos_, end - pos_);
  }

  static std::string Upper(std::string_view word) {
    std::string out(word);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
  }

  bool PeekKeyword(std::string_view keyword) { return Upper(PeekWord()) == keyword; }

  std::string_view ReadWord() {
    std::string_view word = PeekWord();
    pos_ += word.size();
    return word;
  }

  bool ConsumeKeyword(std::string_view keyword) {
    if (!PeekKeyword(keyword)) return false;
    ReadWord();
    return true;
  }

  Result<std::string> ParseName(std::string_view what) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '`') {
      std::string name;
      ++pos_;
      for (;;) {
        if (pos_ >= text_.size()) return Error("unterminated `quoted name`");
        char c = text_[pos_++];
        if (c == '`') {
          if (pos_ < text_.size() && text_[pos_] == '`') {
            name += '`';
            ++pos_;
            continue;
          }
          break;
        }
        name += c;
      }
      if (name.empty()) return Error("empty `quoted name`");
      return name;
    }
    std::string_view word = ReadWord();
    if (word.empty()) return Error(fmt::format("expected {}", what));
    return std::string(word);
  }

  Result<std::string> ParseQuoted() {
    SkipSpace();
    if (pos_ >= text_.size() || text_[pos_] != '\'') return Error("expected a 'quoted string'");
    ++pos_;
    std::string out;
    for (;;) {
      if (pos_ >= text_.size()) return Error("unterminated 'quoted string'");
      char c = text_[pos_++];
      if (c == '\'') {
        if (pos_ < text_.size() && text_[pos_] == '\'') {
          out += '\'';
          ++pos_;
          continue;
        }
        return out;
      }
      out += c;
    }
  }

  Result<int32_t> ParseNumber() {
    SkipSpace();
    size_t end = pos_;
    while (end < text_.size() && std::isdigit(static_cast<unsigned char>(text_[end]))) ++end;
    int32_t value = 0;
    auto [ptr, ec] = std::from_chars(text_.data() + pos_, text_.data() + end, value);
    if (end == pos_ || ec != std::errc()) return Error("expected a number");
    pos_ = end;
    return value;
  }

  // "(n)" when present, else `fallback`; checks `min <= n <= max`.
  Result<int32_t> OptionalParam(int32_t fallback, int32_t min, int32_t max, std::string_view type,
                                std::string_view param) {
    if (!Consume('(')) return fallback;
    size_t at = pos_;
    STROM_ASSIGN_OR_RETURN(int32_t value, ParseNumber());
    if (value < min || value > max) {
      pos_ = at;
      return Error(fmt::format("{} {} must be between {} and {}", type, param, min, max));
    }
    if (!Consume(')')) return Error("expected ')'");
    return value;
  }

  Result<DataType> ParseType(int depth) {
    if (depth > kMaxDepth) return Error("types are nested too deeply");
    SkipSpace();
    size_t start = pos_;
    std::string word = Upper(ReadWord());
    if (word.empty()) return Error("expected a type");
    DataType type;
    if (word == "BOOLEAN" || word == "BOOL") {
      type = DataType::Boolean();
    } else if (word == "TINYINT") {
      type = DataType::TinyInt();
    } else if (word == "SMALLINT") {
      type = DataType::SmallInt();
    } else if (word == "INT" || word == "INTEGER") {
      type = DataType::Int();
    } else if (word == "BIGINT") {
      type = DataType::BigInt();
    } else if (word == "FLOAT") {
      type = DataType::Float();
    } else if (word == "DOUBLE") {
      ConsumeKeyword("PRECISION");
      type = DataType::Double();
    } else if (word == "CHAR") {
      STROM_ASSIGN_OR_RETURN(int32_t n, OptionalParam(1, 1, INT32_MAX, "CHAR", "length"));
      type = DataType::Char(n);
    } else if (word == "STRING") {
      type = DataType::String();
    } else if (word == "BINARY") {
      STROM_ASSIGN_OR_RETURN(int32_t n, OptionalParam(1, 1, INT32_MAX, "BINARY", "length"));
      type = DataType::Binary(n);
    } else if (word == "BYTES") {
      type = DataType::Bytes();
    } else if (word == "DECIMAL" || word == "NUMERIC" || word == "DEC") {
      int32_t precision = 10;
      int32_t scale = 0;
      if (Consume('(')) {
        size_t at = pos_;
        STROM_ASSIGN_OR_RETURN(precision, ParseNumber());
        if (precision < 1 || precision > 38) {
          pos_ = at;
          return Error("DECIMAL precision must be between 1 and 38");
        }
        if (Consume(',')) {
          at = pos_;
          STROM_ASSIGN_OR_RETURN(scale, ParseNumber());
          if (scale > precision) {
            pos_ = at;
            return Error(fmt::format("DECIMAL scale must be between 0 and the precision {}",
                                     precision));
          }
        }
        if (!Consume(')')) return Error("expected ')'");
      }
      type = DataType::Decimal(precision, scale);
    } else if (word == "DATE") {
      type = DataType::Date();
    } else if (word == "TIME") {
      STROM_ASSIGN_OR_RETURN(int32_t p, OptionalParam(0, 0, 9, "TIME", "precision"));
      if (ConsumeKeyword("WITHOUT")) {
        if (!ConsumeKeyword("TIME") || !ConsumeKeyword("ZONE")) {
          return Error("expected WITHOUT TIME ZONE");
        }
      }
      type = DataType::Time(p);
    } else if (word == "TIMESTAMP") {
      STROM_ASSIGN_OR_RETURN(int32_t p, OptionalParam(6, 0, 9, "TIMESTAMP", "precision"));
      bool ltz = false;
      if (ConsumeKeyword("WITHOUT")) {
        if (!ConsumeKeyword("TIME") || !ConsumeKeyword("ZONE")) {
          return Error("expected WITHOUT TIME ZONE");
        }
      } else if (ConsumeKeyword("WITH")) {
        if (!ConsumeKeyword("LOCAL") || !ConsumeKeyword("TIME") || !ConsumeKeyword("ZONE")) {
          return Error("expected WITH LOCAL TIME ZONE");
        }
        ltz = true;
      }
      type = ltz ? DataType::TimestampLtz(p) : DataType::Timestamp(p);
    } else if (word == "TIMESTAMP_LTZ") {
      STROM_ASSIGN_OR_RETURN(int32_t p, OptionalParam(6, 0, 9, "TIMESTAMP_LTZ", "precision"));
      type = DataType::TimestampLtz(p);
    } else if (word == "ARRAY") {
      if (!Consume('<')) return Error("expected '<' after ARRAY");
      STROM_ASSIGN_OR_RETURN(DataType element, ParseType(depth + 1));
      if (!Consume('>')) return Error("expected '>' to close ARRAY<");
      type = DataType::Array(std::move(element));
    } else if (word == "MAP") {
      if (!Consume('<')) return Error("expected '<' after MAP");
      STROM_ASSIGN_OR_RETURN(DataType key, ParseType(depth + 1));
      if (!Consume(',')) return Error("expected ',' between the MAP key and value types");
      STROM_ASSIGN_OR_RETURN(DataType value, ParseType(depth + 1));
      if (!Consume('>')) return Error("expected '>' to close MAP<");
      type = DataType::Map(std::move(key), std::move(value));
    } else if (word == "ROW") {
      char close = '>';
      if (Consume('(')) {
        close = ')';
      } else if (!Consume('<')) {
        return Error("expected '<' or '(' after ROW");
      }
      std::vector<DataField> fields;
      std::set<std::string> names;
      if (!Consume(close)) {
        for (;;) {
          DataField field;
          STROM_ASSIGN_OR_RETURN(field.name, ParseName("a field name"));
          if (!names.insert(field.name).second) {
            return Error(fmt::format("ROW field '{}' is defined twice", field.name));
          }
          Consume(':');
          STROM_ASSIGN_OR_RETURN(field.type, ParseType(depth + 1));
          if (PeekKeyword("COMMENT")) {
            ReadWord();
            STROM_ASSIGN_OR_RETURN(std::string description, ParseQuoted());
            field.description = std::move(description);
          }
          fields.push_back(std::move(field));
          if (Consume(close)) break;
          if (!Consume(',')) return Error(fmt::format("expected ',' or '{}' in ROW", close));
        }
      }
      type = DataType::Row(std::move(fields));
    } else {
      pos_ = start;
      if (word == "VARCHAR") return Error("VARCHAR is not a Fluss type: use STRING");
      if (word == "VARBINARY") return Error("VARBINARY is not a Fluss type: use BYTES");
      return Error("expected a type");
    }
    if (ConsumeKeyword("NOT")) {
      if (!ConsumeKeyword("NULL")) return Error("expected NULL after NOT");
      type = type.NotNull();
    } else {
      ConsumeKeyword("NULL");
    }
    return type;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<DataType> ParseDataType(std::string_view text) { return Parser(text).ParseTypeOnly(); }

Result<std::vector<ColumnSpec>> ParseColumns(std::string_view text) {
  return Parser(text).ParseColumnList();
}

Result<std::vector<std::string>> ParseNameList(std::string_view text) {
  return Parser(text).ParseNames();
}

}  // namespace strom::cli
