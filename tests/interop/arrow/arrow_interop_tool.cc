// arrow_interop_tool: the C++ half of the pyarrow interoperability test
// (tests/interop/arrow/test_arrow_interop.py).
//
//   arrow_interop_tool write --schema S --seed N --rows R --codec C --out F.arrows --json F.json
//       Writes an Arrow IPC stream (Schema message, Strom RecordBatch messages, EOS) of R random
//       rows for schema S, compressed with C (NONE, LZ4_FRAME, ZSTD), and a JSON file with the
//       column types and the expected values.
//   arrow_interop_tool read --schema S --in F.arrows --json F.json
//       Reads an IPC stream (as pyarrow writes it) for schema S with Strom's reader and dumps
//       the column types and values as JSON, in the same form.
//
// Schemas: "all" (one column of every Fluss type, nested ones included) or "random:<seed>".
// Values are written in a canonical JSON form that the Python side can produce from pyarrow
// on its own: Arrow storage values (TIME/TIMESTAMP as the integer in the column's unit, DATE
// as days), floats as their IEEE bit patterns, decimals as the unscaled integer string,
// binary as hex, ARRAY as a list, MAP as a list of [key, value], ROW as a list of fields.

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "interop/arrow/random_rows.h"
#include "record/arrow/arrow_reader.h"
#include "record/arrow/arrow_schema.h"
#include "record/arrow/arrow_writer.h"
#include "record/arrow/compression.h"
#include "record/arrow/ipc_stream.h"

namespace strom::record::arrow {
namespace {

using nlohmann::json;

std::string Int128ToString(__int128 v) {
  if (v == 0) return "0";
  bool negative = v < 0;
  unsigned __int128 u = negative ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string s;
  while (u != 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  if (negative) s.push_back('-');
  return std::string(s.rbegin(), s.rend());
}

json TypeJson(const DataType& type) {
  json j;
  j["root"] = std::string(TypeRootJsonName(type.root()));
  j["nullable"] = type.nullable();
  switch (type.root()) {
    case TypeRoot::kChar:
    case TypeRoot::kBinary:
      j["length"] = type.length();
      break;
    case TypeRoot::kDecimal:
      j["precision"] = type.precision();
      j["scale"] = type.scale();
      break;
    case TypeRoot::kTime:
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz:
      j["precision"] = type.precision();
      break;
    case TypeRoot::kArray:
      j["element"] = TypeJson(type.element());
      break;
    case TypeRoot::kMap:
      j["key"] = TypeJson(type.key());
      j["value"] = TypeJson(type.value());
      break;
    case TypeRoot::kRow: {
      json fields = json::array();
      for (const DataField& f : type.fields()) {
        fields.push_back({{"name", f.name}, {"type", TypeJson(f.type)}});
      }
      j["fields"] = fields;
      break;
    }
    default:
      break;
  }
  return j;
}

/// Canonical JSON of a Fluss value stored in a column of `type` (see the file comment).
json ValueJson(const DataType& type, const Datum& d) {
  if (d.is_null()) return nullptr;
  switch (type.root()) {
    case TypeRoot::kBoolean:
      return d.as<bool>();
    case TypeRoot::kTinyInt:
      return d.as<int8_t>();
    case TypeRoot::kSmallInt:
      return d.as<int16_t>();
    case TypeRoot::kInt:
    case TypeRoot::kDate:
      return d.as<int32_t>();
    case TypeRoot::kBigInt:
      return d.as<int64_t>();
    case TypeRoot::kFloat: {
      uint32_t bits;
      float f = d.as<float>();
      std::memcpy(&bits, &f, 4);
      return bits;
    }
    case TypeRoot::kDouble: {
      uint64_t bits;
      double f = d.as<double>();
      std::memcpy(&bits, &f, 8);
      return bits;
    }
    case TypeRoot::kChar:
    case TypeRoot::kString:
      return d.as<std::string>();
    case TypeRoot::kBinary:
    case TypeRoot::kBytes:
      return ToHex(d.as<std::string>());
    case TypeRoot::kDecimal:
      return Int128ToString(d.as<DecimalValue>().unscaled);
    case TypeRoot::kTime: {
      int64_t millis = d.as<int32_t>();
      switch (TimeUnitForPrecision(type.precision())) {
        case ArrowTimeUnit::kSecond:
          return millis / 1000;
        case ArrowTimeUnit::kMillisecond:
          return millis;
        case ArrowTimeUnit::kMicrosecond:
          return millis * 1000;
        case ArrowTimeUnit::kNanosecond:
          return millis * 1000000;
      }
      return nullptr;
    }
    case TypeRoot::kTimestamp:
    case TypeRoot::kTimestampLtz: {
      const TimestampValue& ts = d.as<TimestampValue>();
      switch (TimeUnitForPrecision(type.precision())) {
        case ArrowTimeUnit::kSecond:
          return ts.millis / 1000;
        case ArrowTimeUnit::kMillisecond:
          return ts.millis;
        case ArrowTimeUnit::kMicrosecond:
          return ts.millis * 1000 + ts.nanos_of_milli / 1000;
        case ArrowTimeUnit::kNanosecond:
          return ts.millis * 1000000 + ts.nanos_of_milli;
      }
      return nullptr;
    }
    case TypeRoot::kArray: {
      json a = json::array();
      for (const Datum& e : d.as<ArrayValue>().elements) a.push_back(ValueJson(type.element(), e));
      return a;
    }
    case TypeRoot::kMap: {
      json m = json::array();
      for (const auto& [k, v] : d.as<MapValue>().entries) {
        m.push_back(json::array({ValueJson(type.key(), k), ValueJson(type.value(), v)}));
      }
      return m;
    }
    case TypeRoot::kRow: {
      json r = json::array();
      const auto& fields = d.as<RowValue>().fields;
      for (size_t i = 0; i < fields.size(); ++i) {
        r.push_back(ValueJson(type.fields()[i].type, fields[i]));
      }
      return r;
    }
  }
  return nullptr;
}

json RowsJson(const DataType& row_type, const std::vector<GenericRow>& rows) {
  json out = json::array();
  for (const GenericRow& row : rows) {
    json r = json::array();
    for (size_t c = 0; c < row.size(); ++c) r.push_back(ValueJson(row_type.fields()[c].type, row[c]));
    out.push_back(r);
  }
  return out;
}

Result<DataType> SchemaFor(const std::string& spec) {
  if (spec == "all") return testing::AllTypesRowType();
  if (spec.rfind("random:", 0) == 0) {
    uint64_t seed = std::stoull(spec.substr(7));
    testing::RandomData random(seed);
    return random.RowType(static_cast<int>(random.Uniform(1, 8)), 2);
  }
  return MakeError(ErrorCode::kInvalidConfig, "unknown schema '{}'", spec);
}

std::map<std::string, std::string> ParseFlags(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) == 0) flags[key.substr(2)] = argv[i + 1];
  }
  return flags;
}

bool WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

int Fail(const Status& status) {
  std::cerr << "arrow_interop_tool: " << status.ToString() << "\n";
  return 1;
}

int Write(std::map<std::string, std::string>& flags) {
  auto type = SchemaFor(flags["schema"]);
  if (!type.ok()) return Fail(type.status());
  auto codec = ParseCompressionCodec(flags["codec"]);
  if (!codec.ok()) return Fail(codec.status());
  uint64_t seed = std::stoull(flags["seed"]);
  int rows_per_batch = std::stoi(flags["rows"]);
  int batches = flags.count("batches") ? std::stoi(flags["batches"]) : 2;

  testing::RandomData random(seed);
  ArrowCompression compression{*codec, 3};
  auto writer = ArrowBatchWriter::Create(*type, compression);
  if (!writer.ok()) return Fail(writer.status());
  std::vector<GenericRow> all_rows;
  std::vector<ByteBuffer> messages;
  for (int b = 0; b < batches; ++b) {
    // The last batch keeps every nullable value null, so empty child arrays appear too.
    double null_chance = b == batches - 1 && batches > 1 ? 1.0 : 0.2;
    std::vector<GenericRow> rows = random.Rows(*type, rows_per_batch, null_chance);
    Status st = (*writer)->AppendRows(rows);
    if (!st.ok()) return Fail(st);
    ByteBuffer message;
    st = (*writer)->Finish(&message);
    if (!st.ok()) return Fail(st);
    messages.push_back(std::move(message));
    all_rows.insert(all_rows.end(), rows.begin(), rows.end());
  }
  ByteBuffer stream;
  Status st = WriteIpcStream(*type, messages, &stream);
  if (!st.ok()) return Fail(st);
  json out = {{"type", TypeJson(*type)}, {"rows", RowsJson(*type, all_rows)}};
  if (!WriteFile(flags["out"], stream) || !WriteFile(flags["json"], out.dump())) {
    return Fail(MakeError(ErrorCode::kStorage, "cannot write the output files"));
  }
  return 0;
}

int Read(std::map<std::string, std::string>& flags) {
  auto type = SchemaFor(flags["schema"]);
  if (!type.ok()) return Fail(type.status());
  std::ifstream in(flags["in"], std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string stream = buffer.str();
  auto batches = ReadIpcStream(stream, *type);
  if (!batches.ok()) return Fail(batches.status());
  std::vector<GenericRow> rows;
  for (const DecodedArrowBatch& batch : *batches) {
    std::vector<GenericRow> r = batch.ToRows();
    rows.insert(rows.end(), r.begin(), r.end());
  }
  json out = {{"type", TypeJson(*type)},
              {"rows", RowsJson(*type, rows)},
              {"batches", batches->size()}};
  if (!WriteFile(flags["json"], out.dump())) {
    return Fail(MakeError(ErrorCode::kStorage, "cannot write the output file"));
  }
  return 0;
}

}  // namespace
}  // namespace strom::record::arrow

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: arrow_interop_tool write|read --flag value ...\n";
    return 2;
  }
  auto flags = strom::record::arrow::ParseFlags(argc, argv);
  std::string command = argv[1];
  if (command == "write") return strom::record::arrow::Write(flags);
  if (command == "read") return strom::record::arrow::Read(flags);
  std::cerr << "unknown command " << command << "\n";
  return 2;
}
