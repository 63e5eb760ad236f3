#pragma once

#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/result.h"
#include "common/status.h"

/// Whole-file replacement that survives a crash at any moment, for small state files.
///
/// A file is `magic (8) | format version u32 LE | CRC-32C of payload u32 LE |
/// payload length u64 LE | payload`. Writing goes to `<path>.tmp`, which is fsynced, renamed
/// over `<path>`, and the directory fsynced: after a crash the path holds either the old or
/// the new complete file; a torn `.tmp` is ignored and removed on the next read. Failures are
/// kStorage naming the path and the OS error; a file whose header or checksum does not match
/// is kCorruptMessage. Stateless functions; blocking (run them off the reactor).
namespace strom::metadata::detail {

inline constexpr size_t kDurableFileHeaderSize = 24;

/// Writes `payload` to `path` as described above, creating the parent directory if needed.
Status WriteDurableFile(const std::string& path, std::string_view magic, uint32_t version,
                        ByteView payload);

/// The payload stored at `path`, or nullopt when there is no such file. A version other
/// than `version` is kCorruptMessage.
Result<std::optional<ByteBuffer>> ReadDurableFile(const std::string& path,
                                                  std::string_view magic, uint32_t version);

}  // namespace strom::metadata::detail
