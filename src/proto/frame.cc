#include "proto/frame.h"

#include <google/protobuf/message_lite.h>

#include <string>
#include <utility>

#include "proto/FlussApi.pb.h"
#include "proto/messages.h"

namespace strom::proto {
namespace {

// Smallest value of the length field: the fixed header that follows it.
size_t MinFrameLength(FrameKind kind) {
  return kind == FrameKind::kRequest ? kRequestHeaderSize : kServerFailureHeaderSize;
}

Status FrameTooLarge(size_t payload_size) {
  return MakeError(ErrorCode::kRecordTooLarge,
                   "frame payload of {} bytes does not fit a 32-bit frame length",
                   payload_size);
}

void PatchI32BE(char* p, int32_t v) {
  StoreI32LE(p, static_cast<int32_t>(__builtin_bswap32(static_cast<uint32_t>(v))));
}

// Length of the longest prefix of `text` that fits kMaxErrorMessageSize without splitting a
// UTF-8 sequence (string fields should hold valid UTF-8).
size_t Utf8Cut(const std::string& text) {
  if (text.size() <= kMaxErrorMessageSize) return text.size();
  size_t cut = kMaxErrorMessageSize;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

Status MissingRequired(const google::protobuf::MessageLite& message) {
  return MakeError(ErrorCode::kUnknownServerError, "{} is missing required fields: {}",
                   message.GetTypeName(), message.InitializationErrorString());
}

// Reads the 4-byte length of a whole frame and checks it against the frame's size.
Status CheckWholeFrame(ByteView frame, size_t header_size, ByteReader* reader) {
  if (frame.size() < kFrameLengthSize + header_size) {
    return Corruption("frame of {} bytes is shorter than its {}-byte header", frame.size(),
                      kFrameLengthSize + header_size);
  }
  int32_t length = reader->I32BE();
  if (length < 0 || static_cast<size_t>(length) != frame.size() - kFrameLengthSize) {
    return Corruption("frame length field says {} but {} bytes follow it", length,
                      frame.size() - kFrameLengthSize);
  }
  return Status::OK();
}

}  // namespace

FrameCheck CheckFrame(ByteView buffer, FrameKind kind, size_t max_frame_size) {
  FrameCheck check;
  if (buffer.size() < kFrameLengthSize) {
    check.kind = FrameCheck::Kind::kNeedMore;
    check.size = kFrameLengthSize;
    return check;
  }
  ByteReader reader(buffer);
  int32_t length = reader.I32BE();
  if (length < 0) {
    check.kind = FrameCheck::Kind::kCorrupt;
    check.error = Corruption("negative frame length {}", length);
    return check;
  }
  if (static_cast<size_t>(length) < MinFrameLength(kind)) {
    check.kind = FrameCheck::Kind::kCorrupt;
    check.error = Corruption("frame length {} is shorter than the {}-byte {} header", length,
                             MinFrameLength(kind),
                             kind == FrameKind::kRequest ? "request" : "response");
    return check;
  }
  size_t total = kFrameLengthSize + static_cast<size_t>(length);
  if (total > max_frame_size) {
    check.kind = FrameCheck::Kind::kCorrupt;
    check.error = MakeError(ErrorCode::kRecordTooLarge,
                            "frame of {} bytes exceeds the limit of {} bytes", total,
                            max_frame_size);
    return check;
  }
  check.kind = buffer.size() < total ? FrameCheck::Kind::kNeedMore : FrameCheck::Kind::kComplete;
  check.size = total;
  return check;
}

void FrameDecoder::Append(ByteView bytes) {
  Compact();
  buffer_.append(bytes.data(), bytes.size());
}

Result<ByteView> FrameDecoder::Next() {
  if (!error_.ok()) return error_;
  ByteView pending(buffer_.data() + consumed_, buffer_.size() - consumed_);
  FrameCheck check = CheckFrame(pending, kind_, max_frame_size_);
  switch (check.kind) {
    case FrameCheck::Kind::kNeedMore:
      wanted_ = check.size;
      return ByteView();
    case FrameCheck::Kind::kCorrupt:
      error_ = std::move(check.error);
      return error_;
    case FrameCheck::Kind::kComplete:
      break;
  }
  consumed_ += check.size;
  wanted_ = kFrameLengthSize;
  return pending.substr(0, check.size);
}

void FrameDecoder::Compact() {
  if (consumed_ == 0) return;
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ * 2 >= buffer_.size()) {
    // Moving the tail costs at most what was consumed, so compaction stays amortized O(1)
    // per byte.
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
}

Status AppendRequestHeader(const RequestHeader& header, size_t payload_size, ByteBuffer* out) {
  if (payload_size > static_cast<size_t>(INT32_MAX) - kRequestHeaderSize) {
    return FrameTooLarge(payload_size);
  }
  out->reserve(out->size() + kFrameLengthSize + kRequestHeaderSize + payload_size);
  ByteWriter writer(out);
  writer.I32BE(static_cast<int32_t>(kRequestHeaderSize + payload_size));
  writer.I16BE(header.api_key);
  writer.I16BE(header.api_version);
  writer.I32BE(header.request_id);
  return Status::OK();
}

Status AppendResponseHeader(ResponseType type, int32_t request_id, size_t payload_size,
                            ByteBuffer* out) {
  if (type != ResponseType::kSuccess && type != ResponseType::kError) {
    return MakeError(ErrorCode::kUnknownServerError,
                     "response type {} has no request id; use AppendServerFailureFrame",
                     static_cast<int>(type));
  }
  if (payload_size > static_cast<size_t>(INT32_MAX) - kResponseHeaderSize) {
    return FrameTooLarge(payload_size);
  }
  out->reserve(out->size() + kFrameLengthSize + kResponseHeaderSize + payload_size);
  ByteWriter writer(out);
  writer.I32BE(static_cast<int32_t>(kResponseHeaderSize + payload_size));
  writer.I8(static_cast<int8_t>(type));
  writer.I32BE(request_id);
  return Status::OK();
}

Status AppendRequestFrame(const RequestHeader& header, ByteView payload, ByteBuffer* out) {
  STROM_RETURN_IF_ERROR(AppendRequestHeader(header, payload.size(), out));
  out->append(payload.data(), payload.size());
  return Status::OK();
}

Status AppendRequestFrame(const RequestHeader& header, const google::protobuf::MessageLite& body,
                          ByteBuffer* out) {
  if (!body.IsInitialized()) return MissingRequired(body);
  size_t size = body.ByteSizeLong();
  STROM_RETURN_IF_ERROR(AppendRequestHeader(header, size, out));
  detail::AppendWithCachedSize(body, size, out);
  return Status::OK();
}

Status AppendSuccessResponseFrame(int32_t request_id, const google::protobuf::MessageLite& body,
                                  ByteBuffer* out) {
  if (!body.IsInitialized()) return MissingRequired(body);
  size_t size = body.ByteSizeLong();
  STROM_RETURN_IF_ERROR(AppendResponseHeader(ResponseType::kSuccess, request_id, size, out));
  detail::AppendWithCachedSize(body, size, out);
  return Status::OK();
}

Status AppendSuccessResponseFrame(int32_t request_id, ByteView payload, ByteBuffer* out) {
  STROM_RETURN_IF_ERROR(
      AppendResponseHeader(ResponseType::kSuccess, request_id, payload.size(), out));
  out->append(payload.data(), payload.size());
  return Status::OK();
}

void AppendErrorResponseBody(const Status& error, ByteBuffer* out) {
  ErrorResponse body;
  if (error.ok()) {
    // Code 0 in an error frame breaks the Java client; report the misuse instead.
    body.set_error_code(static_cast<int32_t>(ErrorCode::kUnknownServerError));
    body.set_error_message("error response built from an OK status");
  } else {
    body.set_error_code(static_cast<int32_t>(error.code()));
    const std::string& message = error.message();
    if (!message.empty()) body.set_error_message(message.substr(0, Utf8Cut(message)));
  }
  // Cannot fail: the only required field is set and the body is far below 2 GiB.
  AppendMessage(body, out).IgnoreError();
}

void AppendErrorResponseFrame(int32_t request_id, const Status& error, ByteBuffer* out) {
  size_t start = out->size();
  // Reserve room for the header, write the body, then fill the header in.
  out->append(kFrameLengthSize + kResponseHeaderSize, '\0');
  AppendErrorResponseBody(error, out);
  char* p = out->data() + start;
  PatchI32BE(p, static_cast<int32_t>(out->size() - start - kFrameLengthSize));
  p[4] = static_cast<char>(ResponseType::kError);
  PatchI32BE(p + 5, request_id);
}

void AppendServerFailureFrame(const Status& error, ByteBuffer* out) {
  size_t start = out->size();
  out->append(kFrameLengthSize + kServerFailureHeaderSize, '\0');
  AppendErrorResponseBody(error, out);
  char* p = out->data() + start;
  PatchI32BE(p, static_cast<int32_t>(out->size() - start - kFrameLengthSize));
  p[4] = static_cast<char>(ResponseType::kServerFailure);
}

Status DecodeErrorResponseBody(ByteView payload, Status* carried) {
  ErrorResponse body;
  STROM_RETURN_IF_ERROR(ParseMessage(payload, &body).WithContext("ErrorResponse"));
  int32_t wire = body.error_code();
  ErrorCode code = ErrorCodeFromWire(wire);
  std::string message = body.error_message();
  if (wire == 0 || static_cast<int32_t>(code) != wire) {
    // Code 0 is not an error and unknown codes collapse to UNKNOWN_SERVER_ERROR; keep the
    // number the peer sent in the text.
    code = ErrorCode::kUnknownServerError;
    message = fmt::format("error code {} from peer{}{}", wire, message.empty() ? "" : ": ",
                          message);
  }
  *carried = Status(code, std::move(message));
  return Status::OK();
}

Result<RequestFrame> DecodeRequestFrame(ByteView frame) {
  ByteReader reader(frame);
  STROM_RETURN_IF_ERROR(CheckWholeFrame(frame, kRequestHeaderSize, &reader));
  RequestFrame out;
  out.header.api_key = reader.I16BE();
  out.header.api_version = reader.I16BE();
  out.header.request_id = reader.I32BE();
  out.payload = reader.Bytes(reader.remaining());
  return out;
}

Result<ResponseFrame> DecodeResponseFrame(ByteView frame) {
  ByteReader reader(frame);
  STROM_RETURN_IF_ERROR(CheckWholeFrame(frame, kServerFailureHeaderSize, &reader));
  ResponseFrame out;
  int8_t type = reader.I8();
  switch (type) {
    case static_cast<int8_t>(ResponseType::kSuccess):
    case static_cast<int8_t>(ResponseType::kError):
      if (reader.remaining() < 4) {
        return Corruption("response frame of {} bytes has no room for a request id",
                          frame.size());
      }
      out.type = static_cast<ResponseType>(type);
      out.request_id = reader.I32BE();
      break;
    case static_cast<int8_t>(ResponseType::kServerFailure):
      out.type = ResponseType::kServerFailure;
      break;
    default:
      return Corruption("unknown response type {}", type);
  }
  out.payload = reader.Bytes(reader.remaining());
  return out;
}

}  // namespace strom::proto
