#include "record/data_type.h"

#include <fmt/format.h>

namespace strom::record {

DataType DataType::Array(DataType element) {
  DataType t(TypeRoot::kArray);
  t.children_.push_back(std::move(element));
  return t;
}

DataType DataType::Map(DataType key, DataType value) {
  DataType t(TypeRoot::kMap);
  t.children_.push_back(std::move(key));
  t.children_.push_back(std::move(value));
  return t;
}

DataType DataType::Row(std::vector<DataField> fields) {
  DataType t(TypeRoot::kRow);
  t.fields_ = std::move(fields);
  return t;
}

bool operator==(const DataType& a, const DataType& b) {
  return a.root_ == b.root_ && a.nullable_ == b.nullable_ && a.length_ == b.length_ &&
         a.precision_ == b.precision_ && a.scale_ == b.scale_ && a.children_ == b.children_ &&
         a.fields_ == b.fields_;
}

std::string DataType::ToString() const {
  std::string s;
  switch (root_) {
    case TypeRoot::kBoolean: s = "BOOLEAN"; break;
    case TypeRoot::kTinyInt: s = "TINYINT"; break;
    case TypeRoot::kSmallInt: s = "SMALLINT"; break;
    case TypeRoot::kInt: s = "INT"; break;
    case TypeRoot::kBigInt: s = "BIGINT"; break;
    case TypeRoot::kFloat: s = "FLOAT"; break;
    case TypeRoot::kDouble: s = "DOUBLE"; break;
    case TypeRoot::kChar: s = fmt::format("CHAR({})", length_); break;
    case TypeRoot::kString: s = "STRING"; break;
    case TypeRoot::kBinary: s = fmt::format("BINARY({})", length_); break;
    case TypeRoot::kBytes: s = "BYTES"; break;
    case TypeRoot::kDecimal: s = fmt::format("DECIMAL({}, {})", precision_, scale_); break;
    case TypeRoot::kDate: s = "DATE"; break;
    case TypeRoot::kTime: s = fmt::format("TIME({})", precision_); break;
    case TypeRoot::kTimestamp: s = fmt::format("TIMESTAMP({})", precision_); break;
    case TypeRoot::kTimestampLtz: s = fmt::format("TIMESTAMP_LTZ({})", precision_); break;
    case TypeRoot::kArray: s = fmt::format("ARRAY<{}>", element().ToString()); break;
    case TypeRoot::kMap:
      s = fmt::format("MAP<{}, {}>", key().ToString(), value().ToString());
      break;
    case TypeRoot::kRow: {
      s = "ROW<";
      for (size_t i = 0; i < fields_.size(); ++i) {
        if (i > 0) s += ", ";
        s += fields_[i].name + " " + fields_[i].type.ToString();
      }
      s += ">";
      break;
    }
  }
  if (!nullable_) s += " NOT NULL";
  return s;
}

std::string_view TypeRootJsonName(TypeRoot root) {
  switch (root) {
    case TypeRoot::kBoolean: return "BOOLEAN";
    case TypeRoot::kTinyInt: return "TINYINT";
    case TypeRoot::kSmallInt: return "SMALLINT";
    case TypeRoot::kInt: return "INTEGER";
    case TypeRoot::kBigInt: return "BIGINT";
    case TypeRoot::kFloat: return "FLOAT";
    case TypeRoot::kDouble: return "DOUBLE";
    case TypeRoot::kChar: return "CHAR";
    case TypeRoot::kString: return "STRING";
    case TypeRoot::kBinary: return "BINARY";
    case TypeRoot::kBytes: return "BYTES";
    case TypeRoot::kDecimal: return "DECIMAL";
    case TypeRoot::kDate: return "DATE";
    case TypeRoot::kTime: return "TIME_WITHOUT_TIME_ZONE";
    case TypeRoot::kTimestamp: return "TIMESTAMP_WITHOUT_TIME_ZONE";
    case TypeRoot::kTimestampLtz: return "TIMESTAMP_WITH_LOCAL_TIME_ZONE";
    case TypeRoot::kArray: return "ARRAY";
    case TypeRoot::kMap: return "MAP";
    case TypeRoot::kRow: return "ROW";
  }
  return "UNKNOWN";
}

bool IsVariableLengthInIndexedRow(const DataType& type) {
  switch (type.root()) {
    case TypeRoot::kString:
    case TypeRoot::kBytes:
    case TypeRoot::kArray:
    case TypeRoot::kMap:
    case TypeRoot::kRow:
      return true;
    case TypeRoot::kDecimal:
      return !type.IsCompactDecimal();
    default:
      return false;
  }
}

}  // namespace strom::record
