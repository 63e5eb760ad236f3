#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/ids.h"

/// File names inside a log tablet directory (fluss-formats §7.1): every segment file and
/// writer snapshot is named by an offset zero-padded to 20 digits.
namespace strom::log {

inline constexpr std::string_view kLogFileSuffix = ".log";
inline constexpr std::string_view kIndexFileSuffix = ".index";
inline constexpr std::string_view kTimeIndexFileSuffix = ".timeindex";
inline constexpr std::string_view kWriterSnapshotFileSuffix = ".writer_snapshot";
/// Suffix of files written by FileSystem::WriteFileAtomically before their rename; left-overs
/// are deleted when a tablet is opened.
inline constexpr std::string_view kTempFileSuffix = ".tmp";
/// Suffix Fluss gives files that are about to be deleted; left-overs are deleted on open.
inline constexpr std::string_view kDeletedFileSuffix = ".deleted";
/// Written by LogTablet::Close() after everything is flushed; its presence on open means the
/// tail need not be scanned. Strom-specific (Fluss keeps one marker per data directory).
inline constexpr std::string_view kCleanShutdownFileName = ".strom-clean-shutdown";

/// "00000000000000000042" + suffix.
std::string OffsetFileName(LogOffset offset, std::string_view suffix);

/// The offset in a name of the form <20 digits><suffix>; nullopt for any other name.
std::optional<LogOffset> ParseOffsetFileName(std::string_view name, std::string_view suffix);

}  // namespace strom::log
