#include "common/config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <limits>
#include <sstream>
#include <unordered_map>

#include "common/config/options.h"

namespace strom::config {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits "30 s" / "64mb" into its number and its (lower-cased, trimmed) unit.
Status SplitNumberAndUnit(std::string_view text, int64_t* number, std::string* unit) {
  std::string_view t = Trim(text);
  size_t i = 0;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
  if (i == 0) return MakeError(ErrorCode::kInvalidConfig, "'{}' does not start with a number", text);
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + i, *number);
  if (ec != std::errc()) {
    return MakeError(ErrorCode::kInvalidConfig, "number in '{}' is out of range", text);
  }
  *unit = Lower(Trim(t.substr(i)));
  return Status::OK();
}

Status CheckedMultiply(int64_t value, int64_t factor, std::string_view text, int64_t* out) {
  if (value > std::numeric_limits<int64_t>::max() / factor) {
    return MakeError(ErrorCode::kInvalidConfig, "'{}' is too large", text);
  }
  *out = value * factor;
  return Status::OK();
}

std::vector<std::string_view> SplitCsv(std::string_view csv) {
  std::vector<std::string_view> out;
  while (!csv.empty()) {
    size_t comma = csv.find(',');
    out.push_back(csv.substr(0, comma));
    if (comma == std::string_view::npos) break;
    csv.remove_prefix(comma + 1);
  }
  return out;
}

std::string_view TypeName(OptionType type) {
  switch (type) {
    case OptionType::kString: return "String";
    case OptionType::kInt: return "Integer";
    case OptionType::kLong: return "Long";
    case OptionType::kBool: return "Boolean";
    case OptionType::kDouble: return "Double";
    case OptionType::kDuration: return "Duration";
    case OptionType::kMemorySize: return "MemorySize";
    case OptionType::kEnum: return "Enum";
  }
  return "?";
}

void Flatten(const YAML::Node& node, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>* out) {
  for (const auto& entry : node) {
    // yaml-cpp iterators hand out temporaries: copy the nodes (cheap handles) before use.
    const YAML::Node key_node = entry.first;
    const YAML::Node value = entry.second;
    std::string key = key_node.as<std::string>();
    std::string full = prefix.empty() ? key : prefix + "." + key;
    if (value.IsMap()) {
      Flatten(value, full, out);
    } else if (value.IsSequence()) {
      // A YAML list becomes Fluss's comma-separated form.
      std::string joined;
      for (const auto& item : value) {
        if (!joined.empty()) joined += ",";
        joined += item.as<std::string>();
      }
      out->emplace_back(full, joined);
    } else if (value.IsNull()) {
      out->emplace_back(full, "");
    } else {
      out->emplace_back(full, value.as<std::string>());
    }
  }
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  int64_t n = 0;
  std::string unit;
  STROM_RETURN_IF_ERROR(SplitNumberAndUnit(text, &n, &unit));
  static const std::unordered_map<std::string, int64_t> kNanosPerUnit = {
      {"ns", 1}, {"nano", 1}, {"nanos", 1}, {"nanosecond", 1}, {"nanoseconds", 1},
      {"us", 1000}, {"µs", 1000}, {"micro", 1000}, {"micros", 1000},
      {"microsecond", 1000}, {"microseconds", 1000},
      {"", 1000000}, {"ms", 1000000}, {"milli", 1000000}, {"millis", 1000000},
      {"millisecond", 1000000}, {"milliseconds", 1000000},
      {"s", 1000000000LL}, {"sec", 1000000000LL}, {"secs", 1000000000LL},
      {"second", 1000000000LL}, {"seconds", 1000000000LL},
      {"m", 60000000000LL}, {"min", 60000000000LL}, {"mins", 60000000000LL},
      {"minute", 60000000000LL}, {"minutes", 60000000000LL},
      {"h", 3600000000000LL}, {"hour", 3600000000000LL}, {"hours", 3600000000000LL},
      {"d", 86400000000000LL}, {"day", 86400000000000LL}, {"days", 86400000000000LL},
  };
  auto it = kNanosPerUnit.find(unit);
  if (it == kNanosPerUnit.end()) {
    return MakeError(ErrorCode::kInvalidConfig, "'{}' has an unknown time unit '{}'", text, unit);
  }
  // Work in milliseconds to keep long durations (e.g. Long.MAX_VALUE ns) in range.
  if (it->second >= 1000000) {
    int64_t ms = 0;
    STROM_RETURN_IF_ERROR(CheckedMultiply(n, it->second / 1000000, text, &ms));
    return Duration(ms);
  }
  return Duration(n / (1000000 / it->second));
}

Result<int64_t> ParseMemorySize(std::string_view text) {
  int64_t n = 0;
  std::string unit;
  STROM_RETURN_IF_ERROR(SplitNumberAndUnit(text, &n, &unit));
  static const std::unordered_map<std::string, int64_t> kBytesPerUnit = {
      {"", 1}, {"b", 1}, {"bytes", 1},
      {"k", 1LL << 10}, {"kb", 1LL << 10}, {"kibibytes", 1LL << 10},
      {"m", 1LL << 20}, {"mb", 1LL << 20}, {"mebibytes", 1LL << 20},
      {"g", 1LL << 30}, {"gb", 1LL << 30}, {"gibibytes", 1LL << 30},
      {"t", 1LL << 40}, {"tb", 1LL << 40}, {"tebibytes", 1LL << 40},
  };
  auto it = kBytesPerUnit.find(unit);
  if (it == kBytesPerUnit.end()) {
    return MakeError(ErrorCode::kInvalidConfig, "'{}' has an unknown size unit '{}'", text, unit);
  }
  int64_t bytes = 0;
  STROM_RETURN_IF_ERROR(CheckedMultiply(n, it->second, text, &bytes));
  return bytes;
}

Result<bool> ParseBool(std::string_view text) {
  std::string t = Lower(Trim(text));
  if (t == "true") return true;
  if (t == "false") return false;
  return MakeError(ErrorCode::kInvalidConfig, "'{}' is not a boolean (true or false)", text);
}

Status ValidateValue(const OptionSpec& spec, std::string_view text) {
  std::string_view t = Trim(text);
  auto fail = [&](std::string_view what) {
    return MakeError(ErrorCode::kInvalidConfig, "option '{}': '{}' is not {}", spec.key, text,
                     what);
  };
  switch (spec.type) {
    case OptionType::kString:
      return Status::OK();
    case OptionType::kInt: {
      int32_t v;
      auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec != std::errc() || p != t.data() + t.size()) return fail("a 32-bit integer");
      return Status::OK();
    }
    case OptionType::kLong: {
      int64_t v;
      auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec != std::errc() || p != t.data() + t.size()) return fail("a 64-bit integer");
      return Status::OK();
    }
    case OptionType::kDouble: {
      std::string copy(t);
      char* end = nullptr;
      std::strtod(copy.c_str(), &end);
      if (copy.empty() || end != copy.c_str() + copy.size()) return fail("a number");
      return Status::OK();
    }
    case OptionType::kBool:
      return ParseBool(t).status().WithContext(fmt::format("option '{}'", spec.key));
    case OptionType::kDuration:
      return ParseDuration(t).status().WithContext(fmt::format("option '{}'", spec.key));
    case OptionType::kMemorySize:
      return ParseMemorySize(t).status().WithContext(fmt::format("option '{}'", spec.key));
    case OptionType::kEnum: {
      std::string lowered = Lower(t);
      for (std::string_view allowed : SplitCsv(spec.enum_values)) {
        if (Lower(allowed) == lowered) return Status::OK();
      }
      return fail(fmt::format("one of {}", spec.enum_values));
    }
  }
  return Status::OK();
}

const OptionSpec* FindOption(std::string_view key) {
  static const auto* index = [] {
    auto* m = new std::unordered_map<std::string_view, const OptionSpec*>();
    for (const OptionSpec* spec : AllOptions()) m->emplace(spec->key, spec);
    return m;
  }();
  auto it = index->find(key);
  return it == index->end() ? nullptr : it->second;
}

Result<Configuration> Configuration::FromYaml(std::string_view yaml_text) {
  std::vector<std::pair<std::string, std::string>> entries;
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    if (root.IsNull()) return Configuration();
    if (!root.IsMap()) {
      return MakeError(ErrorCode::kInvalidConfig, "configuration must be a map of key: value");
    }
    Flatten(root, "", &entries);
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kInvalidConfig, "configuration is not valid YAML: {}", e.what());
  }
  Configuration conf;
  for (auto& [key, value] : entries) {
    STROM_RETURN_IF_ERROR(conf.Set(key, value));
  }
  return conf;
}

Result<Configuration> Configuration::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return MakeError(ErrorCode::kInvalidConfig, "cannot read configuration file {}", path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto conf = FromYaml(ss.str());
  if (!conf.ok()) return conf.status().WithContext(path);
  return conf;
}

Status Configuration::Set(std::string_view key, std::string_view value) {
  if (const OptionSpec* spec = FindOption(key)) {
    // An empty value for an option without default means "unset", as in Fluss.
    if (!(Trim(value).empty() && !spec->has_default())) {
      STROM_RETURN_IF_ERROR(ValidateValue(*spec, value));
    }
  }
  values_[std::string(key)] = std::string(Trim(value));
  return Status::OK();
}

std::optional<std::string> Configuration::GetRaw(std::string_view key) const {
  auto it = values_.find(std::string(key));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Configuration::TextOf(const OptionSpec& spec) const {
  auto it = values_.find(std::string(spec.key));
  if (it != values_.end() && !it->second.empty()) return it->second;
  if (spec.has_default()) return std::string(spec.default_value);
  return std::nullopt;
}

std::string Configuration::Get(const ConfigOption<std::string>& option) const {
  return TextOf(*option.spec).value_or("");
}

int32_t Configuration::Get(const ConfigOption<int32_t>& option) const {
  return GetOptional(option).value_or(0);
}

std::optional<int32_t> Configuration::GetOptional(const ConfigOption<int32_t>& option) const {
  auto text = TextOf(*option.spec);
  if (!text) return std::nullopt;
  int32_t v = 0;
  std::from_chars(text->data(), text->data() + text->size(), v);  // validated by Set
  return v;
}

std::optional<std::string> Configuration::GetOptional(
    const ConfigOption<std::string>& option) const {
  return TextOf(*option.spec);
}

int64_t Configuration::Get(const ConfigOption<int64_t>& option) const {
  auto text = TextOf(*option.spec);
  if (!text) return 0;
  if (option.spec->type == OptionType::kMemorySize) {
    return ParseMemorySize(*text).value_or(0);
  }
  int64_t v = 0;
  std::from_chars(text->data(), text->data() + text->size(), v);
  return v;
}

bool Configuration::Get(const ConfigOption<bool>& option) const {
  auto text = TextOf(*option.spec);
  return text ? ParseBool(*text).value_or(false) : false;
}

double Configuration::Get(const ConfigOption<double>& option) const {
  auto text = TextOf(*option.spec);
  return text ? std::strtod(text->c_str(), nullptr) : 0.0;
}

Duration Configuration::Get(const ConfigOption<Duration>& option) const {
  auto text = TextOf(*option.spec);
  return text ? ParseDuration(*text).value_or(Duration(0)) : Duration(0);
}

std::vector<std::string> Configuration::UnknownKeys() const {
  std::vector<std::string> out;
  for (const auto& [key, value] : values_) {
    if (FindOption(key) == nullptr) out.push_back(key);
  }
  return out;
}

std::string ReferenceTable() {
  std::string out = "| Key | Type | Default | Description |\n|---|---|---|---|\n";
  for (const OptionSpec* spec : AllOptions()) {
    std::string type(TypeName(spec->type));
    if (spec->type == OptionType::kEnum) type += " (" + std::string(spec->enum_values) + ")";
    out += fmt::format("| `{}` | {} | {} | {} |\n", spec->key, type,
                       spec->has_default() ? fmt::format("`{}`", spec->default_value) : "(none)",
                       spec->description);
  }
  return out;
}

}  // namespace strom::config
