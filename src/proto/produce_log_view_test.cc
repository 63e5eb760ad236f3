#include "proto/produce_log_view.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proto/messages.h"

namespace strom::proto {
namespace {

ByteBuffer Serialize(const ProduceLogRequest& request) {
  ByteBuffer out;
  EXPECT_TRUE(request.SerializePartialToString(&out));
  return out;
}

std::span<char> Span(ByteBuffer& bytes) { return std::span<char>(bytes.data(), bytes.size()); }

ProduceLogRequest Sample() {
  ProduceLogRequest request;
  request.set_acks(-1);
  request.set_table_id(123456789012LL);
  request.set_timeout_ms(30000);
  auto* a = request.add_buckets_req();
  a->set_bucket_id(0);
  a->set_records(std::string("batch-zero\0with-nul", 19));
  auto* b = request.add_buckets_req();
  b->set_partition_id(-7);
  b->set_bucket_id(2);
  b->set_records(std::string(70000, 'r'));  // a multi-byte length prefix
  return request;
}

// Both parsers read the same bytes to the same fields.
void ExpectSameAsProtobuf(ByteBuffer bytes) {
  ProduceLogRequest expected;
  ASSERT_TRUE(ParseMessage(bytes, &expected).ok());
  ProduceLogRequestView view;
  Status st = ParseProduceLogRequest(Span(bytes), &view);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(view.acks, expected.acks());
  EXPECT_EQ(view.table_id, expected.table_id());
  EXPECT_EQ(view.timeout_ms, expected.timeout_ms());
  ASSERT_EQ(view.buckets.size(), static_cast<size_t>(expected.buckets_req_size()));
  for (size_t i = 0; i < view.buckets.size(); ++i) {
    const PbProduceLogReqForBucket& want = expected.buckets_req(static_cast<int>(i));
    const ProduceLogRequestView::Bucket& got = view.buckets[i];
    EXPECT_EQ(got.partition_id.has_value(), want.has_partition_id()) << i;
    if (want.has_partition_id()) {
      EXPECT_EQ(*got.partition_id, want.partition_id()) << i;
    }
    EXPECT_EQ(got.bucket_id, want.bucket_id()) << i;
    EXPECT_EQ(std::string(got.records.data(), got.records.size()), want.records()) << i;
    // A view, not a copy: the records point into the payload.
    EXPECT_GE(got.records.data(), bytes.data());
    EXPECT_LE(got.records.data() + got.records.size(), bytes.data() + bytes.size());
  }
}

TEST(ProduceLogView, ReadsWhatProtobufReads) {
  ExpectSameAsProtobuf(Serialize(Sample()));
  ProduceLogRequest empty_buckets = Sample();
  empty_buckets.clear_buckets_req();
  ExpectSameAsProtobuf(Serialize(empty_buckets));
}

TEST(ProduceLogView, RecordsAreWritableInPlace) {
  ByteBuffer bytes = Serialize(Sample());
  ProduceLogRequestView view;
  ASSERT_TRUE(ParseProduceLogRequest(Span(bytes), &view).ok());
  view.buckets[0].records[0] = 'B';
  ProduceLogRequest reparsed;
  ASSERT_TRUE(ParseMessage(bytes, &reparsed).ok());
  EXPECT_EQ(reparsed.buckets_req(0).records().substr(0, 5), "Batch");
}

TEST(ProduceLogView, FollowsProto2MergeRulesAndSkipsUnknownFields) {
  ByteBuffer bytes = Serialize(Sample());
  // A later scalar wins; another buckets_req adds a bucket; unknown fields of every wire
  // type (varint, fixed64, bytes, group, fixed32) and a known number with the wrong wire
  // type are skipped.
  ProduceLogRequest tail;
  tail.set_acks(1);
  tail.set_timeout_ms(5);
  auto* c = tail.add_buckets_req();
  c->set_bucket_id(9);
  c->set_records("c");
  bytes += Serialize(tail);
  bytes += std::string("\xa8\x06\x96\x01", 4);                   // field 101, varint 150
  bytes += std::string("\xb1\x06" "12345678", 10);               // field 102, fixed64
  bytes += std::string("\xba\x06\x03" "abc", 6);                 // field 103, bytes
  bytes += std::string("\xc3\x06\x08\x01\xc4\x06", 6);           // field 104, group {1: 1}
  bytes += std::string("\xcd\x06" "1234", 6);                    // field 105, fixed32
  bytes += std::string("\x0d" "wxyz", 5);                        // acks as fixed32: unknown
  ExpectSameAsProtobuf(bytes);

  ProduceLogRequestView view;
  ASSERT_TRUE(ParseProduceLogRequest(Span(bytes), &view).ok());
  EXPECT_EQ(view.acks, 1);
  EXPECT_EQ(view.timeout_ms, 5);
  EXPECT_EQ(view.table_id, 123456789012LL);
  ASSERT_EQ(view.buckets.size(), 3u);
  EXPECT_EQ(view.buckets[2].bucket_id, 9);
}

TEST(ProduceLogView, MissingRequiredFieldsAreNamed) {
  ProduceLogRequest request = Sample();
  request.clear_timeout_ms();
  request.mutable_buckets_req(1)->clear_records();
  ByteBuffer bytes = Serialize(request);
  ProduceLogRequestView view;
  Status st = ParseProduceLogRequest(Span(bytes), &view);
  EXPECT_EQ(st.code(), ErrorCode::kCorruptMessage);
  EXPECT_NE(st.message().find("timeout_ms"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("buckets_req[1].records"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("buckets_req[0]"), std::string::npos) << st.message();
  EXPECT_TRUE(view.buckets.empty());
  // protobuf refuses the same bytes.
  ProduceLogRequest parsed;
  EXPECT_EQ(ParseMessage(bytes, &parsed).code(), ErrorCode::kCorruptMessage);
}

TEST(ProduceLogView, RefusesMalformedBytesWithoutReadingPastThem) {
  const ByteBuffer whole = Serialize(Sample());
  // Every truncation of a valid request is refused or (at a field boundary) short of a
  // required field, exactly when protobuf refuses it.
  for (size_t n = 0; n < whole.size(); n += (n < 64 ? 1 : 997)) {
    ByteBuffer cut = whole.substr(0, n);
    ProduceLogRequest parsed;
    const bool protobuf_ok = ParseMessage(cut, &parsed).ok();
    ProduceLogRequestView view;
    EXPECT_EQ(ParseProduceLogRequest(Span(cut), &view).ok(), protobuf_ok) << n;
  }
  using namespace std::string_literals;  // NOLINT
  const std::vector<std::string> bad = {
      "\x08"s,                                          // varint cut short
      "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"s,  // an 11-byte varint
      "\x22\x05\x10\x01"s,                              // bucket longer than the payload
      "\x00\x01"s,                                      // field number 0
      "\x0c"s,                                          // end group without a start
      "\x0f"s,                                          // wire type 7
      "\xc3\x06\x08\x01"s,                              // group never closed
  };
  for (ByteBuffer bytes : bad) {
    ProduceLogRequestView view;
    Status st = ParseProduceLogRequest(Span(bytes), &view);
    EXPECT_EQ(st.code(), ErrorCode::kCorruptMessage) << ToHex(bytes);
    ProduceLogRequest parsed;
    EXPECT_FALSE(ParseMessage(bytes, &parsed).ok()) << ToHex(bytes);
  }
}

}  // namespace
}  // namespace strom::proto
