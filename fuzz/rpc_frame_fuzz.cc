// libFuzzer target for the RPC frame layer: arbitrary bytes go through the incremental frame
// splitter and the request and response frame decoders; every request frame whose api key is
// known has its payload parsed as that api's request message. Nothing may crash, read out of
// bounds or leak, and whatever parses must re-encode stably.

#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/bytes.h"
#include "proto/api_keys.h"
#include "proto/frame.h"
#include "proto/messages.h"
#include "proto/sasl_plain.h"

namespace {

using strom::ByteBuffer;
using strom::ByteView;
namespace sp = strom::proto;

// Small limit so that length checks are exercised by short inputs too.
constexpr size_t kFuzzMaxFrameSize = 64 * 1024;

// A message that parsed must serialize, and its encoding must parse back to the same
// encoding (unknown fields included).
void CheckReencodes(const google::protobuf::Message& message) {
  ByteBuffer first;
  if (!sp::AppendMessage(message, &first).ok()) __builtin_trap();
  std::unique_ptr<google::protobuf::Message> copy(message.New());
  if (!sp::ParseMessage(first, copy.get()).ok()) __builtin_trap();
  ByteBuffer second;
  if (!sp::AppendMessage(*copy, &second).ok()) __builtin_trap();
  if (first != second) __builtin_trap();
}

void HandleRequestFrame(ByteView frame) {
  auto decoded = sp::DecodeRequestFrame(frame);
  // The splitter only hands out frames whose length is consistent.
  if (!decoded.ok()) __builtin_trap();
  const sp::ApiInfo* api = sp::FindApi(decoded->header.api_key);
  if (api == nullptr) return;
  std::unique_ptr<google::protobuf::Message> request = sp::NewRequestMessage(api->key);
  if (!sp::ParseMessage(decoded->payload, request.get()).ok()) return;
  CheckReencodes(*request);
  if (api->key == sp::ApiKey::kAuthenticate) {
    const auto& auth = static_cast<const sp::AuthenticateRequest&>(*request);
    sp::DecodeSaslPlainToken(auth.token()).status().IgnoreError();
  }
}

void HandleResponseFrame(ByteView frame) {
  auto decoded = sp::DecodeResponseFrame(frame);
  if (!decoded.ok()) return;  // unknown type byte, or no room for a request id
  if (decoded->type != sp::ResponseType::kSuccess) {
    strom::Status carried;
    if (sp::DecodeErrorResponseBody(decoded->payload, &carried).ok() && carried.ok()) {
      __builtin_trap();  // an error frame must never decode as success
    }
    return;
  }
  // Responses carry no api key; pick one from the request id so every type gets inputs.
  auto apis = sp::AllApis();
  uint32_t index = static_cast<uint32_t>(decoded->request_id) % apis.size();
  std::unique_ptr<google::protobuf::Message> response =
      sp::NewResponseMessage(apis[index].key);
  if (sp::ParseMessage(decoded->payload, response.get()).ok()) CheckReencodes(*response);
}

// Feeds `data` to a splitter in pieces whose sizes come from the data itself.
template <typename Handler>
void Split(ByteView data, sp::FrameKind kind, Handler handle) {
  sp::FrameDecoder decoder(kind, kFuzzMaxFrameSize);
  size_t pos = 0;
  size_t step = data.empty() ? 1 : static_cast<uint8_t>(data[0]) % 17 + 1;
  while (pos < data.size()) {
    size_t n = std::min(step, data.size() - pos);
    decoder.Append(data.substr(pos, n));
    pos += n;
    while (true) {
      auto next = decoder.Next();
      if (!next.ok()) return;
      if (next->empty()) break;
      if (next->size() > kFuzzMaxFrameSize) __builtin_trap();
      handle(*next);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // Debug builds of the generated code log every invalid UTF-8 string; keep the output quiet.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteView input(reinterpret_cast<const char*>(data), size);
  Split(input, sp::FrameKind::kRequest, HandleRequestFrame);
  Split(input, sp::FrameKind::kResponse, HandleResponseFrame);
  // The one-shot decoders must also cope with any input as a whole frame.
  sp::DecodeRequestFrame(input).status().IgnoreError();
  sp::DecodeResponseFrame(input).status().IgnoreError();
  sp::CheckFrame(input, sp::FrameKind::kRequest);
  return 0;
}
