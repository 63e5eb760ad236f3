#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace strom::config {

/// How an option's text value is parsed.
enum class OptionType {
  kString,
  kInt,         // int32
  kLong,        // int64
  kBool,        // true / false
  kDouble,
  kDuration,    // "30 s", "7 d", "500ms"; a bare number means milliseconds
  kMemorySize,  // "64mb", "4 kb", "1024m"; a bare number means bytes
  kEnum,        // one of OptionSpec::enum_values, case-insensitive
};

/// Static description of one option: Fluss's key, its type, its default (as text, as Fluss
/// documents it; empty when the option has none) and what it does.
struct OptionSpec {
  std::string_view key;
  OptionType type;
  std::string_view default_value;
  std::string_view description;
  /// For kEnum: the allowed values, comma-separated ("ARROW,INDEXED,COMPACTED").
  std::string_view enum_values = {};
  bool has_default() const { return !default_value.empty(); }
};

/// A typed handle on a registered option: `Get(kDataDir)` yields a std::string,
/// `Get(kLogSegmentFileSize)` an int64 byte count.
template <typename T>
struct ConfigOption {
  const OptionSpec* spec;
  std::string_view key() const { return spec->key; }
};

using Duration = std::chrono::milliseconds;

/// Parsers for Fluss's value syntax (shared with table properties).
Result<Duration> ParseDuration(std::string_view text);
Result<int64_t> ParseMemorySize(std::string_view text);
Result<bool> ParseBool(std::string_view text);

/// Every option Strom knows, in registration order (see options.h).
const std::vector<const OptionSpec*>& AllOptions();
/// The option registered under `key`, or nullptr.
const OptionSpec* FindOption(std::string_view key);

/// A set of option values, typically loaded from `server.yaml`.
///
/// Values are kept as text and parsed on Get, so a value can be shown back exactly as the
/// user wrote it. Set and Load validate known keys against their type, so a bad value is
/// reported when the file is read, not later. Unknown keys are kept (Fluss passes unknown
/// options through, e.g. for plugins) and listed by UnknownKeys(). Not thread-safe; servers
/// read it once at start-up.
class Configuration {
 public:
  Configuration() = default;

  /// Parses YAML text: a map of `key: value` pairs; nested maps are flattened with '.'
  /// (so `log: {segment: {file-size: 1gb}}` equals `log.segment.file-size: 1gb`).
  static Result<Configuration> FromYaml(std::string_view yaml_text);
  /// Reads and parses a YAML file.
  static Result<Configuration> LoadFile(const std::string& path);

  /// Sets a value, checking it against the option's type when the key is known.
  Status Set(std::string_view key, std::string_view value);
  bool Contains(std::string_view key) const { return values_.count(std::string(key)) > 0; }
  /// The raw text of a value that was set.
  std::optional<std::string> GetRaw(std::string_view key) const;

  /// Typed getters: the value set, else the option's default. For an option without a
  /// default that was not set, the std::optional overloads return nullopt.
  std::string Get(const ConfigOption<std::string>& option) const;
  int32_t Get(const ConfigOption<int32_t>& option) const;
  int64_t Get(const ConfigOption<int64_t>& option) const;
  bool Get(const ConfigOption<bool>& option) const;
  double Get(const ConfigOption<double>& option) const;
  Duration Get(const ConfigOption<Duration>& option) const;
  std::optional<std::string> GetOptional(const ConfigOption<std::string>& option) const;
  std::optional<int32_t> GetOptional(const ConfigOption<int32_t>& option) const;

  /// Keys that were set but are not registered options.
  std::vector<std::string> UnknownKeys() const;
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::optional<std::string> TextOf(const OptionSpec& spec) const;

  std::map<std::string, std::string> values_;
};

/// A Markdown table of every option: key, type, default, description.
std::string ReferenceTable();

/// Checks `text` against the option type; used by Set and by table-property validation.
Status ValidateValue(const OptionSpec& spec, std::string_view text);

}  // namespace strom::config
