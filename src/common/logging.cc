#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>
#include <string>

namespace strom {

namespace {
std::mutex& Mutex() {
  static std::mutex mu;
  return mu;
}
spdlog::level::level_enum& CurrentLevel() {
  static spdlog::level::level_enum level = spdlog::level::info;
  return level;
}
}  // namespace

std::shared_ptr<spdlog::logger> Logger(std::string_view component) {
  std::string name(component);
  if (auto existing = spdlog::get(name)) return existing;
  std::lock_guard<std::mutex> lock(Mutex());
  if (auto existing = spdlog::get(name)) return existing;
  static auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(name, sink);
  logger->set_level(CurrentLevel());
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [%n] %v");
  spdlog::register_logger(logger);
  return logger;
}

void SetLogLevel(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  {
    std::lock_guard<std::mutex> lock(Mutex());
    CurrentLevel() = parsed;
  }
  spdlog::apply_all([parsed](const std::shared_ptr<spdlog::logger>& l) { l->set_level(parsed); });
}

}  // namespace strom
