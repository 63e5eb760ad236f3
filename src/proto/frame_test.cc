#include "proto/frame.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "proto/messages.h"
#include "testutil/seed.h"

namespace strom::proto {
namespace {

ByteBuffer Bytes(std::string hex) {
  std::erase(hex, ' ');
  ByteBuffer out;
  EXPECT_TRUE(FromHex(hex, &out)) << hex;
  return out;
}

ByteBuffer RequestFrameBytes(int16_t api_key, int16_t version, int32_t id, ByteView payload) {
  ByteBuffer out;
  Status st = AppendRequestFrame({api_key, version, id}, payload, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

TEST(FrameTest, RequestRoundTrip) {
  ByteBuffer payload = "\x01\x02\x03 payload";
  ByteBuffer frame = RequestFrameBytes(1015, 0, 42, payload);
  ASSERT_EQ(frame.size(), kFrameLengthSize + kRequestHeaderSize + payload.size());
  EXPECT_EQ(ToHex(frame.substr(0, 12)), "0000001303f700000000002a");

  auto decoded = DecodeRequestFrame(frame);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->header.api_key, 1015);
  EXPECT_EQ(decoded->header.api_version, 0);
  EXPECT_EQ(decoded->header.request_id, 42);
  EXPECT_EQ(decoded->payload, payload);
  // The payload borrows from the frame.
  EXPECT_EQ(decoded->payload.data(), frame.data() + 12);

  // Unknown api keys, negative ids and odd versions still decode: the server answers them.
  decoded = DecodeRequestFrame(RequestFrameBytes(-7, 9, -1, ""));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->header.api_key, -7);
  EXPECT_EQ(decoded->header.api_version, 9);
  EXPECT_EQ(decoded->header.request_id, -1);
  EXPECT_TRUE(decoded->payload.empty());
}

TEST(FrameTest, FramesAppendAfterExistingBytes) {
  ByteBuffer out = "xy";
  ASSERT_TRUE(AppendRequestFrame({1000, 0, 1}, ByteView("ab"), &out).ok());
  ASSERT_TRUE(AppendSuccessResponseFrame(1, ByteView("cd"), &out).ok());
  AppendErrorResponseFrame(2, Status(ErrorCode::kNetwork, ""), &out);
  EXPECT_EQ(ToHex(out), "7879"
                        "0000000a03e80000000000016162"
                        "0000000700000000016364"
                        "00000007010000000208" "01");
}

TEST(FrameTest, ResponseRoundTrips) {
  ByteBuffer frame;
  ASSERT_TRUE(AppendSuccessResponseFrame(-5, ByteView("body"), &frame).ok());
  auto decoded = DecodeResponseFrame(frame);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->type, ResponseType::kSuccess);
  EXPECT_EQ(decoded->request_id, -5);
  EXPECT_EQ(decoded->payload, "body");

  frame.clear();
  AppendServerFailureFrame(Status(ErrorCode::kCorruptMessage, "bad frame"), &frame);
  EXPECT_EQ(static_cast<uint8_t>(frame[4]), 2);
  decoded = DecodeResponseFrame(frame);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->type, ResponseType::kServerFailure);
  EXPECT_EQ(decoded->payload.data(), frame.data() + 5);  // no request id on the wire
  Status carried;
  ASSERT_TRUE(DecodeErrorResponseBody(decoded->payload, &carried).ok());
  EXPECT_EQ(carried, Status(ErrorCode::kCorruptMessage, "bad frame"));

  // Header-only helpers for scatter/gather writers.
  frame.clear();
  ASSERT_TRUE(AppendResponseHeader(ResponseType::kError, 9, 3, &frame).ok());
  EXPECT_EQ(ToHex(frame), "000000080100000009");
  EXPECT_FALSE(AppendResponseHeader(ResponseType::kServerFailure, 9, 3, &frame).ok());
  EXPECT_EQ(frame.size(), 9u);
  EXPECT_EQ(AppendRequestHeader({1000, 0, 0}, size_t{INT32_MAX}, &frame).code(),
            ErrorCode::kRecordTooLarge);
  EXPECT_EQ(frame.size(), 9u);
}

TEST(FrameTest, ErrorResponseEdgeCases) {
  // An OK status must never go out as code 0.
  ByteBuffer frame;
  AppendErrorResponseFrame(3, Status::OK(), &frame);
  auto decoded = DecodeResponseFrame(frame);
  ASSERT_TRUE(decoded.ok());
  ErrorResponse body;
  ASSERT_TRUE(ParseMessage(decoded->payload, &body).ok());
  EXPECT_EQ(body.error_code(), -1);

  // Over-long messages are cut without splitting a UTF-8 sequence.
  std::string text = "a";
  while (text.size() < kMaxErrorMessageSize + 10) text += "\xc3\xa9";  // 'é'
  frame.clear();
  AppendErrorResponseFrame(3, Status(ErrorCode::kStorage, text), &frame);
  decoded = DecodeResponseFrame(frame);
  ASSERT_TRUE(decoded.ok());
  ASSERT_TRUE(ParseMessage(decoded->payload, &body).ok());
  EXPECT_EQ(body.error_code(), 26);
  EXPECT_LE(body.error_message().size(), kMaxErrorMessageSize);
  EXPECT_GE(body.error_message().size(), kMaxErrorMessageSize - 1);
  EXPECT_EQ(body.error_message().size() % 2, 1u);  // "a" plus whole 2-byte characters
  EXPECT_EQ(text.compare(0, body.error_message().size(), body.error_message()), 0);

  // Codes from the peer that this build does not know keep their number in the text.
  Status carried;
  ASSERT_TRUE(DecodeErrorResponseBody(Bytes("08 e7 07 12 02 68 69"), &carried).ok());
  EXPECT_EQ(carried.code(), ErrorCode::kUnknownServerError);
  EXPECT_EQ(carried.message(), "error code 999 from peer: hi");
  ASSERT_TRUE(DecodeErrorResponseBody(Bytes("08 00"), &carried).ok());
  EXPECT_EQ(carried.code(), ErrorCode::kUnknownServerError);
  EXPECT_FALSE(carried.ok());

  // Not an ErrorResponse: missing the required code, or not protobuf at all.
  EXPECT_EQ(DecodeErrorResponseBody(Bytes("12 01 78"), &carried).code(),
            ErrorCode::kCorruptMessage);
  EXPECT_EQ(DecodeErrorResponseBody(Bytes("08"), &carried).code(), ErrorCode::kCorruptMessage);
}

TEST(FrameTest, CheckFrameReportsNeedMoreCompleteAndCorrupt) {
  ByteBuffer frame = RequestFrameBytes(1012, 0, 1, "abc");  // 15 bytes
  for (size_t n = 0; n < frame.size(); ++n) {
    FrameCheck check = CheckFrame(ByteView(frame).substr(0, n), FrameKind::kRequest);
    EXPECT_EQ(check.kind, FrameCheck::Kind::kNeedMore) << n;
    EXPECT_EQ(check.size, n < 4 ? 4u : frame.size()) << n;
  }
  ByteBuffer two = frame + frame;
  FrameCheck check = CheckFrame(two, FrameKind::kRequest);
  EXPECT_EQ(check.kind, FrameCheck::Kind::kComplete);
  EXPECT_EQ(check.size, frame.size());

  check = CheckFrame(Bytes("ff ff ff ff"), FrameKind::kRequest);
  EXPECT_EQ(check.kind, FrameCheck::Kind::kCorrupt);
  EXPECT_EQ(check.error.code(), ErrorCode::kCorruptMessage);
  check = CheckFrame(Bytes("80 00 00 00 00"), FrameKind::kResponse);
  EXPECT_EQ(check.kind, FrameCheck::Kind::kCorrupt);

  // A request needs at least its 8-byte header, a response at least its type byte.
  EXPECT_EQ(CheckFrame(Bytes("00 00 00 07"), FrameKind::kRequest).kind,
            FrameCheck::Kind::kCorrupt);
  EXPECT_EQ(CheckFrame(Bytes("00 00 00 08"), FrameKind::kRequest).kind,
            FrameCheck::Kind::kNeedMore);
  EXPECT_EQ(CheckFrame(Bytes("00 00 00 00"), FrameKind::kResponse).kind,
            FrameCheck::Kind::kCorrupt);
  EXPECT_EQ(CheckFrame(Bytes("00 00 00 01 02"), FrameKind::kResponse).kind,
            FrameCheck::Kind::kComplete);

  // The limit counts the prefix, as Fluss does: 100 MiB - 4 after the prefix is the largest
  // accepted length. The check fires on the prefix alone, before any body arrives.
  check = CheckFrame(Bytes("06 3f ff fc"), FrameKind::kRequest);
  EXPECT_EQ(check.kind, FrameCheck::Kind::kNeedMore);
  EXPECT_EQ(check.size, kDefaultMaxFrameSize);
  check = CheckFrame(Bytes("06 3f ff fd"), FrameKind::kRequest);
  EXPECT_EQ(check.kind, FrameCheck::Kind::kCorrupt);
  EXPECT_EQ(check.error.code(), ErrorCode::kRecordTooLarge);
  check = CheckFrame(Bytes("7f ff ff ff"), FrameKind::kResponse);
  EXPECT_EQ(check.kind, FrameCheck::Kind::kCorrupt);
  // A custom limit.
  EXPECT_EQ(CheckFrame(frame, FrameKind::kRequest, 14).kind, FrameCheck::Kind::kCorrupt);
  EXPECT_EQ(CheckFrame(frame, FrameKind::kRequest, 15).kind, FrameCheck::Kind::kComplete);
}

TEST(FrameTest, DecodeRejectsTruncatedAndInconsistentFrames) {
  ByteBuffer frame = RequestFrameBytes(1012, 0, 1, "abc");
  for (size_t n = 0; n < frame.size(); ++n) {
    auto decoded = DecodeRequestFrame(ByteView(frame).substr(0, n));
    EXPECT_FALSE(decoded.ok()) << n;
    EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruptMessage) << n;
  }
  EXPECT_FALSE(DecodeRequestFrame(frame + "z").ok());  // trailing byte not covered by length
  EXPECT_FALSE(DecodeRequestFrame(Bytes("ff ff ff ff 03 e8 00 00 00 00 00 00")).ok());
  EXPECT_FALSE(DecodeRequestFrame(Bytes("00 00 00 07 03 e8 00 00 00 00 00")).ok());

  ByteBuffer response;
  ASSERT_TRUE(AppendSuccessResponseFrame(1, ByteView("abc"), &response).ok());
  for (size_t n = 0; n < response.size(); ++n) {
    EXPECT_FALSE(DecodeResponseFrame(ByteView(response).substr(0, n)).ok()) << n;
  }
  // Unknown type byte, and success/error frames too short to hold a request id.
  EXPECT_FALSE(DecodeResponseFrame(Bytes("00 00 00 05 03 00 00 00 01")).ok());
  EXPECT_FALSE(DecodeResponseFrame(Bytes("00 00 00 05 ff 00 00 00 01")).ok());
  EXPECT_FALSE(DecodeResponseFrame(Bytes("00 00 00 01 00")).ok());
  EXPECT_FALSE(DecodeResponseFrame(Bytes("00 00 00 04 01 00 00 00")).ok());
  // Smallest legal frames of each type.
  EXPECT_TRUE(DecodeResponseFrame(Bytes("00 00 00 05 00 00 00 00 01")).ok());
  EXPECT_TRUE(DecodeResponseFrame(Bytes("00 00 00 01 02")).ok());
}

TEST(FrameDecoderTest, SplitsAStreamDeliveredInRandomPieces) {
  std::mt19937_64 rng(testutil::TestSeed());
  std::vector<ByteBuffer> frames;
  ByteBuffer stream;
  for (int i = 0; i < 200; ++i) {
    ByteBuffer payload(rng() % 300, '\0');
    for (char& c : payload) c = static_cast<char>(rng());
    frames.push_back(RequestFrameBytes(static_cast<int16_t>(1000 + i % 60), 0, i, payload));
    stream += frames.back();
  }
  FrameDecoder decoder(FrameKind::kRequest);
  std::vector<ByteBuffer> out;
  size_t pos = 0;
  while (pos < stream.size()) {
    size_t n = std::min<size_t>(stream.size() - pos, rng() % 700);
    decoder.Append(ByteView(stream).substr(pos, n));
    pos += n;
    while (true) {
      auto next = decoder.Next();
      ASSERT_TRUE(next.ok()) << next.status().ToString();
      if (next->empty()) break;
      out.emplace_back(*next);
    }
    EXPECT_GE(decoder.bytes_wanted(), kFrameLengthSize);
  }
  EXPECT_EQ(decoder.buffered(), 0u);
  ASSERT_EQ(out.size(), frames.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    ASSERT_EQ(out[i], frames[i]) << i;
    auto decoded = DecodeRequestFrame(out[i]);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->header.request_id, static_cast<int32_t>(i));
  }
}

TEST(FrameDecoderTest, ByteByByteAndBytesWanted) {
  ByteBuffer frame;
  ASSERT_TRUE(AppendSuccessResponseFrame(77, ByteView("hello"), &frame).ok());
  FrameDecoder decoder(FrameKind::kResponse);
  for (size_t i = 0; i + 1 < frame.size(); ++i) {
    decoder.Append(ByteView(frame).substr(i, 1));
    auto next = decoder.Next();
    ASSERT_TRUE(next.ok());
    EXPECT_TRUE(next->empty());
    EXPECT_EQ(decoder.bytes_wanted(), i < 3 ? 4u : frame.size()) << i;
  }
  decoder.Append(ByteView(frame).substr(frame.size() - 1));
  auto next = decoder.Next();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, frame);
  next = decoder.Next();
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(next->empty());
}

TEST(FrameDecoderTest, CorruptLengthIsSticky) {
  FrameDecoder decoder(FrameKind::kRequest, 1024);
  ByteBuffer good = RequestFrameBytes(1000, 0, 1, "");
  decoder.Append(good);
  decoder.Append(Bytes("00 00 04 00"));  // 1028 bytes with the prefix: over the limit
  auto next = decoder.Next();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, good);
  next = decoder.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), ErrorCode::kRecordTooLarge);
  decoder.Append(good);
  next = decoder.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), ErrorCode::kRecordTooLarge);

  FrameDecoder negative(FrameKind::kResponse);
  negative.Append(Bytes("ff ff ff fe 00"));
  next = negative.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), ErrorCode::kCorruptMessage);
}

// The seed inputs of fuzz/rpc_frame_fuzz.cc must be real frames, so that the fuzzer starts
// from inputs that get past the frame layer into the message parsers.
TEST(FuzzCorpusTest, SeedsAreWellFormedFrames) {
  std::filesystem::path dir = std::filesystem::path(STROM_SOURCE_DIR) / "fuzz/corpus/rpc_frame";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    ByteBuffer data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string name = entry.path().filename().string();
    bool is_request = name.find("request") != std::string::npos;
    FrameDecoder decoder(is_request ? FrameKind::kRequest : FrameKind::kResponse);
    decoder.Append(data);
    int frames = 0;
    while (true) {
      auto next = decoder.Next();
      ASSERT_TRUE(next.ok()) << name << ": " << next.status().ToString();
      if (next->empty()) break;
      ++frames;
      if (is_request) {
        auto decoded = DecodeRequestFrame(*next);
        ASSERT_TRUE(decoded.ok()) << name;
        const ApiInfo* api = FindApi(decoded->header.api_key);
        ASSERT_NE(api, nullptr) << name;
        auto message = NewRequestMessage(api->key);
        EXPECT_TRUE(ParseMessage(decoded->payload, message.get()).ok()) << name;
      } else {
        EXPECT_TRUE(DecodeResponseFrame(*next).ok()) << name;
      }
    }
    EXPECT_GE(frames, 1) << name;
    EXPECT_EQ(decoder.buffered(), 0u) << name;
    ++files;
  }
  EXPECT_GE(files, 10);
}

}  // namespace
}  // namespace strom::proto
