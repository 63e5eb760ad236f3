#pragma once

#include <cstdint>

// Forward declarations of the hand-written proto types, for headers that only pass them
// around. Generated message classes come from "proto/FlussApi.pb.h" (a large header: include
// it only where messages are built or read).

namespace strom::proto {

enum class ApiKey : int16_t;
enum class ApiVisibility : uint8_t;
enum class ServedBy : uint8_t;
enum class ServerType : int32_t;
enum class ResponseType : int8_t;
enum class FrameKind : uint8_t;

struct ApiInfo;
struct RequestHeader;
struct RequestFrame;
struct ResponseFrame;
struct FrameCheck;
class FrameDecoder;
struct SaslPlainCredentials;

}  // namespace strom::proto
