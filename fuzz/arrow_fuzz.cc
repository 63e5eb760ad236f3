// libFuzzer target for the Arrow IPC subset. The first input byte picks one of a few fixed
// row types and a mode; the rest is read as untrusted bytes:
//   mode 0: one IPC RecordBatch message -> ArrowBatchReader, every value read;
//   mode 1: column projection of the message, then a read of the projected message;
//   mode 2: an ARROW log batch body (change types + message) with a record count and flag
//           taken from the second byte;
//   mode 3: a whole IPC stream (Schema message, batches, EOS).
// Nothing may crash or read out of bounds, and these properties must hold:
//   * rows that decode and that the writer accepts again re-encode to a message that decodes,
//     and a second round trip changes nothing;
//   * projecting a message that decodes (when the projection accepts it) gives a message
//     that decodes to the selected columns of the same rows.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "record/arrow/arrow_log_batch.h"
#include "record/arrow/arrow_projection.h"
#include "record/arrow/arrow_reader.h"
#include "record/arrow/arrow_writer.h"
#include "record/arrow/ipc_stream.h"

namespace {

namespace sr = strom::record;
namespace sa = strom::record::arrow;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

sr::DataField F(std::string name, sr::DataType type) {
  sr::DataField f;
  f.name = std::move(name);
  f.type = std::move(type);
  return f;
}

constexpr int kSchemaCount = 3;

/// The row types the fuzzer reads with (the seed corpus is written with the same ones).
sr::DataType FuzzSchema(int i) {
  using sr::DataType;
  switch (i) {
    case 0:
      return DataType::Row({F("i", DataType::Int()), F("s", DataType::String()),
                            F("b", DataType::Bytes().NotNull())});
    case 1:
      return DataType::Row(
          {F("bool", DataType::Boolean()), F("i8", DataType::TinyInt()),
           F("i16", DataType::SmallInt()), F("i64", DataType::BigInt()),
           F("f32", DataType::Float()), F("f64", DataType::Double()), F("c", DataType::Char(4)),
           F("bin", DataType::Binary(3)), F("d", DataType::Decimal(20, 4)),
           F("date", DataType::Date()), F("t0", DataType::Time(0)), F("t9", DataType::Time(9)),
           F("ts0", DataType::Timestamp(0)), F("ts6", DataType::Timestamp(6)),
           F("ltz9", DataType::TimestampLtz(9))});
    default:
      return DataType::Row(
          {F("a", DataType::Array(DataType::Int())),
           F("m", DataType::Map(DataType::String().NotNull(), DataType::Array(DataType::BigInt()))),
           F("r", DataType::Row({F("x", DataType::Double()),
                                 F("y", DataType::Array(DataType::String().NotNull()))})),
           F("z", DataType::Int().NotNull())});
  }
}

/// Columns the projection mode keeps, per schema.
std::vector<int32_t> FuzzSelection(int i) {
  switch (i) {
    case 0:
      return {1, 2};
    case 1:
      return {0, 7, 8, 13};
    default:
      return {1, 2};
  }
}

std::vector<sr::GenericRow> ReadAll(const sa::DecodedArrowBatch& batch) {
  std::vector<sr::GenericRow> rows = batch.ToRows();
  Check(static_cast<int64_t>(rows.size()) == batch.num_rows());
  return rows;
}

void CheckReencode(const sr::DataType& type, const std::vector<sr::GenericRow>& rows,
                   sa::CompressionCodec codec) {
  sa::ArrowCompression compression{codec, 1};
  auto first = sa::EncodeArrowBatch(type, rows, compression);
  if (!first.ok()) return;  // e.g. a null in a NOT NULL column, a decimal beyond precision
  auto decoded = sa::DecodeArrowBatch(*first, type);
  Check(decoded.ok());
  std::vector<sr::GenericRow> again = ReadAll(*decoded);
  auto second = sa::EncodeArrowBatch(type, again, compression);
  Check(second.ok());
  auto decoded2 = sa::DecodeArrowBatch(*second, type);
  Check(decoded2.ok());
  Check(ReadAll(*decoded2) == again);
}

sa::ArrowReadOptions FuzzOptions() {
  sa::ArrowReadOptions options;
  options.max_decompressed_bytes = 1 << 24;
  return options;
}

void FuzzMessage(const sr::DataType& type, strom::ByteView data) {
  sa::ArrowBatchReader reader(FuzzOptions());
  auto batch = reader.Read(data, type);
  if (!batch.ok()) return;
  Check(batch->message_size() <= data.size());
  CheckReencode(type, ReadAll(*batch), batch->codec());
}

void FuzzProjection(int schema, const sr::DataType& type, strom::ByteView data) {
  auto decoded = sa::DecodeArrowBatch(data, type, FuzzOptions());
  sa::CompressionCodec codec = decoded.ok() ? decoded->codec() : sa::CompressionCodec::kZstd;
  std::vector<int32_t> selected = FuzzSelection(schema);
  auto projection = sa::ArrowProjection::Create(type, selected, {codec, 3});
  Check(projection.ok());
  strom::ByteBuffer out;
  strom::Status st = projection->ProjectMessage(data, &out);
  // Projection needs buffers in body order, which a decodable message need not have.
  if (!decoded.ok() || !st.ok()) return;
  auto projected = sa::DecodeArrowBatch(out, projection->projected_row_type(), FuzzOptions());
  Check(projected.ok());
  std::vector<sr::GenericRow> rows = ReadAll(*decoded);
  std::vector<sr::GenericRow> got = ReadAll(*projected);
  Check(rows.size() == got.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t k = 0; k < selected.size(); ++k) {
      Check(got[r][k] == rows[r][static_cast<size_t>(selected[k])]);
    }
  }
}

void FuzzLogBody(const sr::DataType& type, uint8_t control, strom::ByteView data) {
  bool append_only = (control & 0x80) != 0;
  int32_t record_count = control & 0x7F;
  sa::ArrowBatchReader reader(FuzzOptions());
  auto body = sa::DecodeArrowLogBody(data, record_count, append_only, type, &reader);
  if (!body.ok()) return;
  Check(static_cast<int32_t>(body->change_types.size()) == record_count);
  if (record_count > 0) ReadAll(body->batch);
}

void FuzzStream(const sr::DataType& type, strom::ByteView data) {
  auto batches = sa::ReadIpcStream(data, type, FuzzOptions());
  if (!batches.ok()) return;
  for (const auto& batch : *batches) ReadAll(batch);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 2) return 0;
  const int schema = bytes[0] % kSchemaCount;
  const int mode = (bytes[0] / kSchemaCount) % 4;
  const sr::DataType type = FuzzSchema(schema);
  // A fresh, exactly sized copy so that any read past the end is caught.
  std::vector<char> copy(bytes + 2, bytes + size);
  strom::ByteView data(copy.data(), copy.size());
  switch (mode) {
    case 0:
      FuzzMessage(type, data);
      break;
    case 1:
      FuzzProjection(schema, type, data);
      break;
    case 2:
      FuzzLogBody(type, bytes[1], data);
      break;
    default:
      FuzzStream(type, data);
      break;
  }
  return 0;
}
