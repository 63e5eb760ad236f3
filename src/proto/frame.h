#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/result.h"
#include "common/status.h"

namespace google::protobuf {
class MessageLite;
}  // namespace google::protobuf

namespace strom::proto {

// The Fluss frame layout (docs/formats/wire-frame.md). Every frame starts with a 4-byte
// big-endian length that counts the bytes after it. Requests then carry api key, api version
// and request id; responses a type byte and (except SERVER_FAILURE) the request id. The
// payload is one protobuf message and runs to the end of the frame.

/// Size of the length prefix.
inline constexpr size_t kFrameLengthSize = 4;
/// Request header after the prefix: api key (2) + api version (2) + request id (4).
inline constexpr size_t kRequestHeaderSize = 8;
/// SUCCESS / ERROR response header after the prefix: type (1) + request id (4).
inline constexpr size_t kResponseHeaderSize = 5;
/// SERVER_FAILURE header after the prefix: type (1) only.
inline constexpr size_t kServerFailureHeaderSize = 1;
/// Default bound on a whole frame, length prefix included (Fluss's
/// `netty.server.max-request-size`, 100 MiB).
inline constexpr size_t kDefaultMaxFrameSize = 100 * 1024 * 1024;
/// Largest frame the format can describe: the length prefix is a signed 32-bit number.
inline constexpr size_t kLargestEncodableFrame = kFrameLengthSize + INT32_MAX;

/// Byte 4 of a response frame.
enum class ResponseType : int8_t {
  kSuccess = 0,        ///< payload is the api's response message
  kError = 1,          ///< the request failed as a whole; payload is ErrorResponse
  kServerFailure = 2,  ///< connection-level failure, no request id; payload is ErrorResponse
};

/// Which side of the protocol a frame belongs to; fixes the smallest legal length.
enum class FrameKind : uint8_t { kRequest, kResponse };

/// The fixed part of a request frame. `api_key` stays a raw number so that requests for
/// unknown apis can still be parsed and answered.
struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t request_id = 0;
};

/// A decoded request frame. `payload` borrows from the decoded buffer.
struct RequestFrame {
  RequestHeader header;
  ByteView payload;
};

/// A decoded response frame. `payload` borrows from the decoded buffer; `request_id` is 0
/// and meaningless for kServerFailure, which has none on the wire.
struct ResponseFrame {
  ResponseType type = ResponseType::kSuccess;
  int32_t request_id = 0;
  ByteView payload;
};

/// Answer of CheckFrame about the bytes at the front of a receive buffer.
struct FrameCheck {
  enum class Kind : uint8_t {
    kNeedMore,  ///< incomplete; `size` is the total number of bytes needed to go on
    kComplete,  ///< one whole frame of `size` bytes (prefix included) is available
    kCorrupt,   ///< the length field is impossible; `error` says why; close the connection
  };
  Kind kind = Kind::kNeedMore;
  size_t size = kFrameLengthSize;
  Status error;
};

/// Looks at the length prefix at the front of `buffer` without copying. A length below the
/// smallest header of `kind`, a negative length, or a frame larger than `max_frame_size`
/// (prefix included, as Fluss counts it) is reported as kCorrupt: kCorruptMessage for
/// impossible lengths, kRecordTooLarge for frames over the limit.
FrameCheck CheckFrame(ByteView buffer, FrameKind kind,
                      size_t max_frame_size = kDefaultMaxFrameSize);

/// Splits a byte stream into frames.
///
/// Stateful: it owns a receive buffer. The owner (one connection, on one thread) appends
/// whatever the socket delivered and then calls Next() until it returns no frame. A view
/// returned by Next() stays valid until the next call to Append() or Next(). After a
/// corrupt length every later Next() returns the same error: the stream has lost its
/// framing and the connection must be closed. Consumed bytes are dropped lazily, so the
/// buffer does not move for every frame.
class FrameDecoder {
 public:
  explicit FrameDecoder(FrameKind kind, size_t max_frame_size = kDefaultMaxFrameSize)
      : kind_(kind), max_frame_size_(max_frame_size) {}

  /// Adds received bytes.
  void Append(ByteView bytes);

  /// The next whole frame (prefix included), an empty view when more bytes are needed, or
  /// the corruption error.
  Result<ByteView> Next();

  /// Bytes received but not yet returned as frames.
  size_t buffered() const { return buffer_.size() - consumed_; }
  /// Total frame size the decoder waits for (prefix included), or the prefix size while
  /// even the length is incomplete. Lets a reader size its next socket read.
  size_t bytes_wanted() const { return wanted_; }
  /// The received bytes not yet returned as frames, starting at the frame Next() waits for
  /// or refused. Lets a server read the header of a refused (oversized) frame to answer its
  /// request id. Valid until the next Append() or Next().
  ByteView pending() const { return ByteView(buffer_).substr(consumed_); }

 private:
  void Compact();

  FrameKind kind_;
  size_t max_frame_size_;
  ByteBuffer buffer_;
  size_t consumed_ = 0;
  size_t wanted_ = kFrameLengthSize;
  Status error_;
};

/// Writes the 12-byte prefix + request header for a payload of `payload_size` bytes, for
/// callers that send the payload separately (scatter/gather). Fails when the frame would
/// exceed kLargestEncodableFrame.
Status AppendRequestHeader(const RequestHeader& header, size_t payload_size, ByteBuffer* out);

/// Writes the 9-byte prefix + response header (type kSuccess or kError).
Status AppendResponseHeader(ResponseType type, int32_t request_id, size_t payload_size,
                            ByteBuffer* out);

/// Appends a whole request frame with a raw payload.
Status AppendRequestFrame(const RequestHeader& header, ByteView payload, ByteBuffer* out);

/// Appends a whole request frame, serializing `body` straight into `out` (no copy of the
/// payload). Fails without touching `out` when a required field of `body` is missing.
Status AppendRequestFrame(const RequestHeader& header, const google::protobuf::MessageLite& body,
                          ByteBuffer* out);

/// Appends a SUCCESS_RESPONSE frame carrying `body`. Fails without touching `out` when a
/// required field is missing (the Java client would drop the connection on such a frame).
Status AppendSuccessResponseFrame(int32_t request_id, const google::protobuf::MessageLite& body,
                                  ByteBuffer* out);

/// Appends a SUCCESS_RESPONSE frame with an already serialized payload.
Status AppendSuccessResponseFrame(int32_t request_id, ByteView payload, ByteBuffer* out);

/// Appends an ERROR_RESPONSE frame whose ErrorResponse carries `error`'s wire code and
/// message. `error` must not be OK (code 0 would make the Java client fail the request
/// with a null exception); an OK status is sent as UNKNOWN_SERVER_ERROR.
void AppendErrorResponseFrame(int32_t request_id, const Status& error, ByteBuffer* out);

/// Appends a SERVER_FAILURE frame (no request id). Send it only right before closing the
/// connection; the Rust client misreads it.
void AppendServerFailureFrame(const Status& error, ByteBuffer* out);

/// Longest error_message put on the wire; longer texts are cut. Messages are for humans
/// (the Java server cuts its stack traces to 2 KiB) and must not inflate a frame.
inline constexpr size_t kMaxErrorMessageSize = 64 * 1024;

/// Appends the ErrorResponse body {error_code, error_message} for `error` (message left
/// out when empty, cut to kMaxErrorMessageSize).
void AppendErrorResponseBody(const Status& error, ByteBuffer* out);

/// Parses an ErrorResponse body into the Status it carries (unknown codes become
/// UNKNOWN_SERVER_ERROR, as in the Java client). Returns a kCorruptMessage error when the
/// bytes are not a valid ErrorResponse.
Status DecodeErrorResponseBody(ByteView payload, Status* carried);

/// Decodes one whole request frame (prefix included, as returned by FrameDecoder). The
/// length prefix must match `frame.size()`.
Result<RequestFrame> DecodeRequestFrame(ByteView frame);

/// Decodes one whole response frame (prefix included). Unknown type bytes are corrupt.
Result<ResponseFrame> DecodeResponseFrame(ByteView frame);

}  // namespace strom::proto
