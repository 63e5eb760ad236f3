#include "proto/fetch_log_view.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace strom::proto {
namespace {

ByteBuffer Records(size_t n, char fill) { return ByteBuffer(n, fill); }

// A response with every field kind: two tables (one with a negative id), buckets with
// partitions, errors, offsets, remote fetch info, empty and large records.
FetchLogResponse FullResponse() {
  FetchLogResponse resp;
  PbFetchLogRespForTable* t0 = resp.add_tables_resp();
  t0->set_table_id(7);
  PbFetchLogRespForBucket* b = t0->add_buckets_resp();
  b->set_bucket_id(0);
  b->set_high_watermark(1000);
  b->set_log_start_offset(0);
  b->set_records(Records(300, 'a'));
  b = t0->add_buckets_resp();
  b->set_partition_id(12);
  b->set_bucket_id(1);
  b->set_error_code(54);
  b->set_error_message("not the leader");
  b = t0->add_buckets_resp();
  b->set_bucket_id(2);
  b->set_high_watermark(5);
  b->set_log_start_offset(3);
  b->set_records("");
  b = t0->add_buckets_resp();
  b->set_bucket_id(3);
  b->set_high_watermark(1LL << 40);
  b->set_log_start_offset(-1);
  PbRemoteLogFetchInfo* remote = b->mutable_remote_log_fetch_info();
  remote->set_remote_log_tablet_dir("s3://x/y");
  remote->set_first_start_pos(4);
  b->set_records(Records(200000, 'b'));
  PbFetchLogRespForTable* t1 = resp.add_tables_resp();
  t1->set_table_id(-3);
  b = t1->add_buckets_resp();
  b->set_bucket_id(-1);
  b->set_high_watermark(9);
  b->set_log_start_offset(9);
  b->set_records(Records(17, 'c'));
  resp.add_tables_resp()->set_table_id(0);  // a table without buckets
  return resp;
}

// Encodes `full` with the records of the buckets in `external` left out, and puts the
// records back between the runs.
ByteBuffer EncodeAround(const FetchLogResponse& full, const std::vector<ExternalRecords>& external,
                        size_t* runs_count = nullptr) {
  FetchLogResponse stripped = full;
  std::vector<std::string> records;
  std::vector<ExternalRecords> sized = external;
  for (ExternalRecords& e : sized) {
    PbFetchLogRespForBucket* b = stripped.mutable_tables_resp(static_cast<int>(e.table_index))
                                     ->mutable_buckets_resp(static_cast<int>(e.bucket_index));
    records.push_back(b->records());
    e.size = b->records().size();
    b->clear_records();
  }
  Result<std::vector<ByteBuffer>> runs = EncodeFetchLogResponseAround(stripped, sized);
  EXPECT_TRUE(runs.ok()) << runs.status().ToString();
  if (!runs.ok()) return "";
  EXPECT_EQ(runs->size(), external.size() + 1);
  if (runs_count != nullptr) *runs_count = runs->size();
  ByteBuffer out;
  for (size_t i = 0; i < runs->size(); ++i) {
    out += (*runs)[i];
    if (i < records.size()) out += records[i];
  }
  return out;
}

TEST(FetchLogViewTest, EncodingAroundExternalRecordsMatchesProtobufByteForByte) {
  const FetchLogResponse full = FullResponse();
  const ByteBuffer golden = full.SerializeAsString();
  // Every subset of the buckets that carry records.
  const std::vector<ExternalRecords> candidates = {{0, 0, 0}, {0, 2, 0}, {0, 3, 0}, {1, 0, 0}};
  for (uint32_t mask = 0; mask < (1u << candidates.size()); ++mask) {
    std::vector<ExternalRecords> external;
    for (size_t i = 0; i < candidates.size(); ++i) {
      if ((mask & (1u << i)) != 0) external.push_back(candidates[i]);
    }
    EXPECT_TRUE(EncodeAround(full, external) == golden) << "subset " << mask;
  }
  // An empty response, and one with a 2 MiB record blob (multi-byte length varints).
  EXPECT_EQ(EncodeAround(FetchLogResponse(), {}), "");
  FetchLogResponse big;
  PbFetchLogRespForTable* t = big.add_tables_resp();
  t->set_table_id(INT64_MAX);
  PbFetchLogRespForBucket* b = t->add_buckets_resp();
  b->set_bucket_id(INT32_MAX);
  b->set_high_watermark(INT64_MIN);
  b->set_records(Records(2 << 20, 'z'));
  EXPECT_TRUE(EncodeAround(big, {{0, 0, 0}}) == big.SerializeAsString());
}

TEST(FetchLogViewTest, EncodingRefusesCallerBugs) {
  FetchLogResponse resp = FullResponse();
  resp.mutable_tables_resp(0)->mutable_buckets_resp(0)->clear_records();
  resp.mutable_tables_resp(1)->mutable_buckets_resp(0)->clear_records();
  auto code = [&](std::vector<ExternalRecords> external) {
    return EncodeFetchLogResponseAround(resp, external).status().code();
  };
  EXPECT_EQ(code({{0, 0, 5}, {1, 0, 5}}), ErrorCode::kNone);
  EXPECT_EQ(code({{1, 0, 5}, {0, 0, 5}}), ErrorCode::kUnknownServerError);  // out of order
  EXPECT_EQ(code({{0, 0, 5}, {0, 0, 5}}), ErrorCode::kUnknownServerError);  // repeated
  EXPECT_EQ(code({{0, 9, 5}}), ErrorCode::kUnknownServerError);             // no such bucket
  EXPECT_EQ(code({{5, 0, 5}}), ErrorCode::kUnknownServerError);             // no such table
  EXPECT_EQ(code({{0, 2, 5}}), ErrorCode::kUnknownServerError);  // has records of its own
  FetchLogResponse missing;
  missing.add_tables_resp()->add_buckets_resp()->set_bucket_id(1);  // no table_id
  EXPECT_EQ(EncodeFetchLogResponseAround(missing, {}).status().code(),
            ErrorCode::kUnknownServerError);
}

// The view must agree with the generated parser on every field.
void ExpectSame(const FetchLogResponse& message, const FetchLogResponseView& view) {
  ASSERT_EQ(view.tables.size(), static_cast<size_t>(message.tables_resp_size()));
  for (int t = 0; t < message.tables_resp_size(); ++t) {
    const PbFetchLogRespForTable& mt = message.tables_resp(t);
    const FetchLogResponseView::Table& vt = view.tables[static_cast<size_t>(t)];
    EXPECT_EQ(vt.table_id, mt.table_id());
    ASSERT_EQ(vt.buckets.size(), static_cast<size_t>(mt.buckets_resp_size()));
    for (int i = 0; i < mt.buckets_resp_size(); ++i) {
      const PbFetchLogRespForBucket& m = mt.buckets_resp(i);
      const FetchLogResponseView::Bucket& v = vt.buckets[static_cast<size_t>(i)];
      EXPECT_EQ(v.bucket_id, m.bucket_id());
      EXPECT_EQ(v.partition_id.has_value(), m.has_partition_id());
      if (m.has_partition_id()) {
        EXPECT_EQ(*v.partition_id, m.partition_id());
      }
      EXPECT_EQ(v.error_code.has_value(), m.has_error_code());
      if (m.has_error_code()) {
        EXPECT_EQ(*v.error_code, m.error_code());
      }
      EXPECT_EQ(v.error_message.has_value(), m.has_error_message());
      if (m.has_error_message()) {
        EXPECT_EQ(*v.error_message, m.error_message());
      }
      EXPECT_EQ(v.high_watermark.has_value(), m.has_high_watermark());
      if (m.has_high_watermark()) {
        EXPECT_EQ(*v.high_watermark, m.high_watermark());
      }
      EXPECT_EQ(v.log_start_offset.has_value(), m.has_log_start_offset());
      if (m.has_log_start_offset()) {
        EXPECT_EQ(*v.log_start_offset, m.log_start_offset());
      }
      EXPECT_EQ(v.remote_log_fetch_info.has_value(), m.has_remote_log_fetch_info());
      if (m.has_remote_log_fetch_info()) {
        PbRemoteLogFetchInfo remote;
        EXPECT_TRUE(remote.ParseFromArray(v.remote_log_fetch_info->data(),
                                          static_cast<int>(v.remote_log_fetch_info->size())));
        EXPECT_EQ(remote.SerializeAsString(), m.remote_log_fetch_info().SerializeAsString());
      }
      EXPECT_EQ(v.records.has_value(), m.has_records());
      if (m.has_records()) {
        EXPECT_TRUE(*v.records == m.records());
      }
    }
  }
}

TEST(FetchLogViewTest, ParsesWhatProtobufWritesAsViewsIntoThePayload) {
  const ByteBuffer payload = FullResponse().SerializeAsString();
  FetchLogResponseView view;
  Status parsed = ParseFetchLogResponse(payload, &view);
  ASSERT_TRUE(parsed.ok()) << parsed.ToString();
  ExpectSame(FullResponse(), view);
  // Records alias the payload.
  const ByteView records = *view.tables[0].buckets[3].records;
  EXPECT_GE(records.data(), payload.data());
  EXPECT_LE(records.data() + records.size(), payload.data() + payload.size());
}

TEST(FetchLogViewTest, FollowsProtobufOnUnknownFieldsRepeatsAndWireTypeMismatches) {
  ByteBuffer payload;
  ByteWriter w(&payload);
  // An unknown top-level varint field 9, a fixed64 field 10, a fixed32 field 11, a group 12.
  w.U8((9 << 3) | 0);
  w.Varint64(300);
  w.U8((10 << 3) | 1);
  w.Zeros(8);
  w.U8((11 << 3) | 5);
  w.Zeros(4);
  w.U8((12 << 3) | 3);
  w.U8((1 << 3) | 0);
  w.U8(1);
  w.U8((12 << 3) | 4);
  // A table whose bucket repeats bucket_id (last wins), carries records with a wrong wire
  // type (varint: skipped as unknown) and then real records, and an unknown field.
  ByteBuffer bucket;
  ByteWriter bw(&bucket);
  bw.U8((2 << 3) | 0);
  bw.Varint64(4);
  bw.U8((2 << 3) | 0);
  bw.Varint64(5);
  bw.U8((8 << 3) | 0);
  bw.Varint64(77);
  bw.U8((8 << 3) | 2);
  bw.Varint64(3);
  bw.Bytes("xyz");
  bw.Varint64((20 << 3) | 2);  // a tag of two bytes
  bw.Varint64(1);
  bw.Bytes("q");
  ByteBuffer table;
  ByteWriter tw(&table);
  tw.U8((2 << 3) | 2);
  tw.Varint64(bucket.size());
  tw.Bytes(bucket);
  tw.U8((1 << 3) | 0);  // table_id after the buckets
  tw.Varint64(static_cast<uint64_t>(-5));
  w.U8((1 << 3) | 2);
  w.Varint64(table.size());
  w.Bytes(table);

  FetchLogResponse message;
  ASSERT_TRUE(message.ParseFromString(payload));
  FetchLogResponseView view;
  Status parsed = ParseFetchLogResponse(payload, &view);
  ASSERT_TRUE(parsed.ok()) << parsed.ToString();
  ExpectSame(message, view);
  EXPECT_EQ(view.tables[0].buckets[0].bucket_id, 5);
  EXPECT_EQ(*view.tables[0].buckets[0].records, "xyz");
}

TEST(FetchLogViewTest, RefusesMissingRequiredFields) {
  FetchLogResponse no_bucket_id;
  PbFetchLogRespForTable* t = no_bucket_id.add_tables_resp();
  t->set_table_id(1);
  t->add_buckets_resp()->set_high_watermark(3);
  FetchLogResponseView view;
  Status parsed = ParseFetchLogResponse(no_bucket_id.SerializePartialAsString(), &view);
  EXPECT_EQ(parsed.code(), ErrorCode::kCorruptMessage);
  EXPECT_NE(parsed.message().find("tables_resp[0].buckets_resp[0].bucket_id"), std::string::npos)
      << parsed.message();
  EXPECT_TRUE(view.tables.empty());

  FetchLogResponse no_table_id;
  no_table_id.add_tables_resp();
  parsed = ParseFetchLogResponse(no_table_id.SerializePartialAsString(), &view);
  EXPECT_EQ(parsed.code(), ErrorCode::kCorruptMessage);
  EXPECT_NE(parsed.message().find("tables_resp[0].table_id"), std::string::npos);
}

// Every prefix of a valid payload, and random garbage, is accepted exactly when protobuf
// accepts it (with required fields), and then read identically; the rest is a clean
// kCorruptMessage.
TEST(FetchLogViewTest, AgreesWithProtobufOnTruncatedAndGarbageInput) {
  const ByteBuffer payload = FullResponse().SerializeAsString();
  auto check = [](ByteView bytes, const std::string& what) {
    FetchLogResponse message;
    const bool protobuf_ok =
        message.ParsePartialFromArray(bytes.data(), static_cast<int>(bytes.size())) &&
        message.IsInitialized();
    FetchLogResponseView view;
    Status parsed = ParseFetchLogResponse(bytes, &view);
    std::string hex;
    for (char c : bytes.substr(0, 64)) hex += fmt::format("{:02x} ", static_cast<uint8_t>(c));
    ASSERT_EQ(parsed.ok(), protobuf_ok) << what << ": " << parsed.ToString() << " bytes " << hex;
    if (parsed.ok()) {
      ExpectSame(message, view);
    } else {
      EXPECT_EQ(parsed.code(), ErrorCode::kCorruptMessage) << what;
      EXPECT_TRUE(view.tables.empty()) << what;
    }
  };
  for (size_t n = 0; n <= payload.size(); n += (n < 2000 ? 1 : 997)) {
    check(ByteView(payload).substr(0, n), "prefix " + std::to_string(n));
  }
  FetchLogResponse small_message = FullResponse();
  small_message.mutable_tables_resp(0)->mutable_buckets_resp(3)->set_records(Records(50, 'd'));
  const ByteBuffer small = small_message.SerializeAsString();
  std::mt19937 rng(42);
  for (int i = 0; i < 3000; ++i) {
    ByteBuffer garbage(rng() % 64, '\0');
    for (char& c : garbage) c = static_cast<char>(rng());
    check(garbage, "garbage " + std::to_string(i));
    // And a valid payload with one byte flipped.
    ByteBuffer flipped = small;
    flipped[rng() % flipped.size()] ^= static_cast<char>(1 + rng() % 255);
    check(flipped, "flipped " + std::to_string(i));
  }
}

}  // namespace
}  // namespace strom::proto
