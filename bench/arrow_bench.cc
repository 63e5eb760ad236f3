// Arrow IPC subset: encode and decode of a 10-column batch (values/s = rows x columns), for
// NONE, LZ4_FRAME and ZSTD, and column projection of 2 of 20 columns (bytes/s of input).

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "record/arrow/arrow_projection.h"
#include "record/arrow/arrow_reader.h"
#include "record/arrow/arrow_writer.h"

namespace strom::record::arrow {
namespace {

constexpr int kRows = 8192;
constexpr int kColumns = 10;

DataField F(std::string name, DataType type) {
  DataField f;
  f.name = std::move(name);
  f.type = std::move(type);
  return f;
}

/// A typical event table: ids, counters, a short string, a timestamp, a decimal amount.
DataType TenColumns() {
  return DataType::Row({F("id", DataType::BigInt().NotNull()), F("user_id", DataType::Int()),
                        F("score", DataType::Double()), F("flag", DataType::Boolean()),
                        F("name", DataType::String()), F("ts", DataType::TimestampLtz(3)),
                        F("amount", DataType::Decimal(10, 2)), F("day", DataType::Date()),
                        F("qty", DataType::SmallInt()), F("ratio", DataType::Float())});
}

struct Columns {
  std::vector<int64_t> id;
  std::vector<int32_t> user_id;
  std::vector<double> score;
  std::vector<bool> flag;
  std::vector<std::string> name;
  std::vector<int64_t> ts;
  std::vector<int64_t> amount;
  std::vector<int32_t> day;
  std::vector<int16_t> qty;
  std::vector<float> ratio;
};

Columns MakeColumns(int rows) {
  std::mt19937_64 rng(42);
  Columns c;
  for (int i = 0; i < rows; ++i) {
    c.id.push_back(1000000 + i);
    c.user_id.push_back(static_cast<int32_t>(rng() % 100000));
    c.score.push_back(static_cast<double>(rng() % 10000) / 100.0);
    c.flag.push_back(rng() % 2 == 0);
    c.name.push_back("user-" + std::to_string(rng() % 5000));
    c.ts.push_back(1748662955428 + i * 7);
    c.amount.push_back(static_cast<int64_t>(rng() % 1000000));
    c.day.push_back(20000 + static_cast<int32_t>(rng() % 30));
    c.qty.push_back(static_cast<int16_t>(rng() % 100));
    c.ratio.push_back(static_cast<float>(rng() % 1000) / 1000.0f);
  }
  return c;
}

std::vector<GenericRow> MakeRows(const Columns& c) {
  std::vector<GenericRow> rows;
  for (size_t i = 0; i < c.id.size(); ++i) {
    rows.push_back({c.id[i], c.user_id[i], c.score[i], bool{c.flag[i]}, c.name[i],
                    TimestampValue{c.ts[i], 0}, DecimalValue{c.amount[i]}, c.day[i], c.qty[i],
                    c.ratio[i]});
  }
  return rows;
}

/// The columnar fast path: typed builders, no Datum.
void AppendColumns(ArrowBatchWriter* w, const Columns& c) {
  auto* id = w->column_as<Int64Builder>(0);
  auto* user_id = w->column_as<Int32Builder>(1);
  auto* score = w->column_as<DoubleBuilder>(2);
  auto* flag = w->column_as<BooleanBuilder>(3);
  auto* name = w->column_as<BinaryBuilder>(4);
  auto* ts = w->column_as<TimestampBuilder>(5);
  auto* amount = w->column_as<DecimalBuilder>(6);
  auto* day = w->column_as<Int32Builder>(7);
  auto* qty = w->column_as<Int16Builder>(8);
  auto* ratio = w->column_as<FloatBuilder>(9);
  const size_t n = c.id.size();
  for (size_t i = 0; i < n; ++i) id->Append(c.id[i]);
  for (size_t i = 0; i < n; ++i) user_id->Append(c.user_id[i]);
  for (size_t i = 0; i < n; ++i) score->Append(c.score[i]);
  for (size_t i = 0; i < n; ++i) flag->Append(c.flag[i]);
  for (size_t i = 0; i < n; ++i) name->Append(c.name[i]).IgnoreError();
  for (size_t i = 0; i < n; ++i) ts->Append(c.ts[i], 0).IgnoreError();
  for (size_t i = 0; i < n; ++i) amount->Append(c.amount[i]).IgnoreError();
  for (size_t i = 0; i < n; ++i) day->Append(c.day[i]);
  for (size_t i = 0; i < n; ++i) qty->Append(c.qty[i]);
  for (size_t i = 0; i < n; ++i) ratio->Append(c.ratio[i]);
}

ArrowCompression CodecArg(int64_t arg) {
  switch (arg) {
    case 1:
      return ArrowCompression::Lz4Frame();
    case 2:
      return ArrowCompression::Zstd(3);
    default:
      return ArrowCompression::None();
  }
}

void SetCodecLabel(benchmark::State& state, int64_t arg) {
  state.SetLabel(std::string(CompressionCodecName(CodecArg(arg).codec)));
}

void BM_ArrowEncodeColumnar(benchmark::State& state) {
  DataType type = TenColumns();
  Columns columns = MakeColumns(kRows);
  auto writer = ArrowBatchWriter::Create(type, CodecArg(state.range(0)));
  ByteBuffer out;
  for (auto _ : state) {
    out.clear();
    AppendColumns(writer->get(), columns);
    if (!(*writer)->Finish(&out).ok()) state.SkipWithError("finish failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows * kColumns);
  state.counters["bytes_per_batch"] = static_cast<double>(out.size());
  SetCodecLabel(state, state.range(0));
}
BENCHMARK(BM_ArrowEncodeColumnar)->Arg(0)->Arg(1)->Arg(2);

void BM_ArrowEncodeRows(benchmark::State& state) {
  DataType type = TenColumns();
  std::vector<GenericRow> rows = MakeRows(MakeColumns(kRows));
  auto writer = ArrowBatchWriter::Create(type, CodecArg(state.range(0)));
  ByteBuffer out;
  for (auto _ : state) {
    out.clear();
    if (!(*writer)->AppendRows(rows).ok() || !(*writer)->Finish(&out).ok()) {
      state.SkipWithError("encode failed");
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows * kColumns);
  SetCodecLabel(state, state.range(0));
}
BENCHMARK(BM_ArrowEncodeRows)->Arg(0)->Arg(1)->Arg(2);

/// Decode (verify, decompress, check every node) and read every value through the typed
/// column accessors.
void BM_ArrowDecode(benchmark::State& state) {
  DataType type = TenColumns();
  auto writer = ArrowBatchWriter::Create(type, CodecArg(state.range(0)));
  AppendColumns(writer->get(), MakeColumns(kRows));
  ByteBuffer message;
  if (!(*writer)->Finish(&message).ok()) state.SkipWithError("encode failed");
  ArrowBatchReader reader;
  for (auto _ : state) {
    auto batch = reader.Read(message, type);
    if (!batch.ok()) {
      state.SkipWithError("decode failed");
      break;
    }
    int64_t sum = 0;
    double fsum = 0;
    const int64_t n = batch->num_rows();
    for (int64_t i = 0; i < n; ++i) sum += batch->column(0).GetFixed<int64_t>(i);
    for (int64_t i = 0; i < n; ++i) sum += batch->column(1).IsNull(i) ? 0 : batch->column(1).GetFixed<int32_t>(i);
    for (int64_t i = 0; i < n; ++i) fsum += batch->column(2).GetFixed<double>(i);
    for (int64_t i = 0; i < n; ++i) sum += batch->column(3).GetBool(i);
    for (int64_t i = 0; i < n; ++i) sum += static_cast<int64_t>(batch->column(4).GetBytes(i).size());
    for (int64_t i = 0; i < n; ++i) sum += batch->column(5).GetTimestamp(i).millis;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<int64_t>(batch->column(6).GetDecimal(i).unscaled);
    for (int64_t i = 0; i < n; ++i) sum += batch->column(7).GetFixed<int32_t>(i);
    for (int64_t i = 0; i < n; ++i) sum += batch->column(8).GetFixed<int16_t>(i);
    for (int64_t i = 0; i < n; ++i) fsum += batch->column(9).GetFixed<float>(i);
    benchmark::DoNotOptimize(sum);
    benchmark::DoNotOptimize(fsum);
  }
  state.SetItemsProcessed(state.iterations() * kRows * kColumns);
  SetCodecLabel(state, state.range(0));
}
BENCHMARK(BM_ArrowDecode)->Arg(0)->Arg(1)->Arg(2);

/// Decode into GenericRow values (allocates per string and per row).
void BM_ArrowDecodeToRows(benchmark::State& state) {
  DataType type = TenColumns();
  auto writer = ArrowBatchWriter::Create(type, CodecArg(state.range(0)));
  AppendColumns(writer->get(), MakeColumns(kRows));
  ByteBuffer message;
  if (!(*writer)->Finish(&message).ok()) state.SkipWithError("encode failed");
  ArrowBatchReader reader;
  for (auto _ : state) {
    auto batch = reader.Read(message, type);
    if (!batch.ok()) {
      state.SkipWithError("decode failed");
      break;
    }
    std::vector<GenericRow> rows = batch->ToRows();
    benchmark::DoNotOptimize(rows.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows * kColumns);
  SetCodecLabel(state, state.range(0));
}
BENCHMARK(BM_ArrowDecodeToRows)->Arg(0)->Arg(2);

/// Projection of columns 3 and 14 of a 20-column batch (two copies of the 10 columns).
void BM_ArrowProject2Of20(benchmark::State& state) {
  DataType ten = TenColumns();
  std::vector<DataField> fields = ten.fields();
  for (const DataField& f : ten.fields()) fields.push_back(F(f.name + "_2", f.type));
  DataType type = DataType::Row(fields);
  Columns c = MakeColumns(kRows);
  std::vector<GenericRow> rows = MakeRows(c);
  for (GenericRow& r : rows) {
    GenericRow copy = r;
    r.insert(r.end(), copy.begin(), copy.end());
  }
  ArrowCompression codec = CodecArg(state.range(0));
  auto writer = ArrowBatchWriter::Create(type, codec);
  ByteBuffer message;
  if (!(*writer)->AppendRows(rows).ok() || !(*writer)->Finish(&message).ok()) {
    state.SkipWithError("encode failed");
  }
  std::vector<int32_t> selected = {3, 14};
  auto projection = ArrowProjection::Create(type, selected, codec);
  ByteBuffer out;
  for (auto _ : state) {
    out.clear();
    if (!projection->ProjectMessage(message, &out).ok()) state.SkipWithError("project failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(message.size()));
  state.counters["input_bytes"] = static_cast<double>(message.size());
  state.counters["output_bytes"] = static_cast<double>(out.size());
  SetCodecLabel(state, state.range(0));
}
BENCHMARK(BM_ArrowProject2Of20)->Arg(0)->Arg(2);

}  // namespace
}  // namespace strom::record::arrow
