#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>

namespace strom {

/// One named logger per component ("log", "kv", "rpc", ...), all writing to the same sink.
/// Created on first use; thread-safe.
std::shared_ptr<spdlog::logger> Logger(std::string_view component);

/// Sets the level of every logger ("trace", "debug", "info", "warn", "error", "off").
void SetLogLevel(std::string_view level);

}  // namespace strom

#define STROM_LOG_INFO(component, ...) ::strom::Logger(component)->info(__VA_ARGS__)
#define STROM_LOG_WARN(component, ...) ::strom::Logger(component)->warn(__VA_ARGS__)
#define STROM_LOG_ERROR(component, ...) ::strom::Logger(component)->error(__VA_ARGS__)
#define STROM_LOG_DEBUG(component, ...) ::strom::Logger(component)->debug(__VA_ARGS__)
