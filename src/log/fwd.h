#pragma once

// Forward declarations of the log component's main types, for headers that only pass them
// around.

namespace strom::log {

class Clock;
class File;
class FileSystem;
class LocalLog;
class LogSegment;
class LogSegments;
class LogTablet;
class OffsetIndex;
class TimeIndex;
class WriterStateManager;
struct FetchDataInfo;
struct LogAppendInfo;
struct LogConfig;
struct LogTabletOptions;
struct ReadParams;

}  // namespace strom::log
