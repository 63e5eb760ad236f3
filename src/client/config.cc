#include "common/config/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <map>

#include "strom/config.h"

namespace strom {

namespace {

std::string Upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

Result<int64_t> ParseInteger(std::string_view key, std::string_view text) {
  text = Trim(text);
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return MakeError(ErrorCode::kInvalidConfig, "{}: '{}' is not an integer", key, text);
  }
  return value;
}

Result<int32_t> ParseInt32(std::string_view key, std::string_view text) {
  STROM_ASSIGN_OR_RETURN(int64_t value, ParseInteger(key, text));
  if (value < INT32_MIN || value > INT32_MAX) {
    return MakeError(ErrorCode::kInvalidConfig, "{}: {} is out of range", key, value);
  }
  return static_cast<int32_t>(value);
}

Result<int64_t> ParseSize(std::string_view key, std::string_view text) {
  Result<int64_t> size = config::ParseMemorySize(text);
  if (!size.ok()) return size.status().WithContext(key);
  return *size;
}

Result<int32_t> ParseSize32(std::string_view key, std::string_view text) {
  STROM_ASSIGN_OR_RETURN(int64_t size, ParseSize(key, text));
  if (size > INT32_MAX) {
    return MakeError(ErrorCode::kInvalidConfig, "{}: {} bytes is too large", key, size);
  }
  return static_cast<int32_t>(size);
}

Result<std::chrono::milliseconds> ParseMillis(std::string_view key, std::string_view text) {
  Result<config::Duration> duration = config::ParseDuration(text);
  if (!duration.ok()) return duration.status().WithContext(key);
  return *duration;
}

Result<bool> ParseFlag(std::string_view key, std::string_view text) {
  Result<bool> value = config::ParseBool(text);
  if (!value.ok()) return value.status().WithContext(key);
  return *value;
}

using Setter = std::function<Status(ClientConfig*, std::string_view key, std::string_view value)>;

// One entry per supported Fluss client option.
const std::map<std::string, Setter, std::less<>>& Setters() {
  static const auto* setters = new std::map<std::string, Setter, std::less<>>{
      {"bootstrap.servers",
       [](ClientConfig* c, std::string_view, std::string_view v) {
         c->bootstrap_servers = std::string(Trim(v));
         return Status::OK();
       }},
      {"client.request-timeout",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->request_timeout, ParseMillis(k, v));
         return Status::OK();
       }},
      {"client.connect-timeout",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->connect_timeout, ParseMillis(k, v));
         return Status::OK();
       }},
      {"client.writer.acks",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         if (Upper(Trim(v)) == "ALL") {
           c->writer_acks = -1;
           return Status::OK();
         }
         STROM_ASSIGN_OR_RETURN(c->writer_acks, ParseInt32(k, v));
         return Status::OK();
       }},
      {"client.writer.retries",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->writer_retries, ParseInt32(k, v));
         return Status::OK();
       }},
      {"client.writer.retry-backoff",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->writer_retry_backoff, ParseMillis(k, v));
         return Status::OK();
       }},
      {"client.writer.delivery-timeout",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->writer_delivery_timeout, ParseMillis(k, v));
         return Status::OK();
       }},
      {"client.writer.batch-size",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->writer_batch_size, ParseSize(k, v));
         return Status::OK();
       }},
      {"client.writer.batch-timeout",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->writer_batch_timeout, ParseMillis(k, v));
         return Status::OK();
       }},
      {"client.writer.buffer.memory-size",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->writer_buffer_memory, ParseSize(k, v));
         return Status::OK();
       }},
      {"client.writer.request-max-size",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->writer_request_max_size, ParseSize(k, v));
         return Status::OK();
       }},
      {"client.writer.enable-idempotence",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->writer_enable_idempotence, ParseFlag(k, v));
         return Status::OK();
       }},
      {"client.writer.max-inflight-requests-per-bucket",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->writer_max_inflight_requests_per_bucket, ParseInt32(k, v));
         return Status::OK();
       }},
      {"client.writer.bucket.no-key-assigner",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         std::string upper = Upper(Trim(v));
         if (upper == "STICKY") {
           c->writer_no_key_assigner = NoKeyAssigner::kSticky;
         } else if (upper == "ROUND_ROBIN") {
           c->writer_no_key_assigner = NoKeyAssigner::kRoundRobin;
         } else {
           return MakeError(ErrorCode::kInvalidConfig, "{}: '{}' is not STICKY or ROUND_ROBIN", k,
                            v);
         }
         return Status::OK();
       }},
      {"client.scanner.log.fetch.max-bytes",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->scanner_fetch_max_bytes, ParseSize32(k, v));
         return Status::OK();
       }},
      {"client.scanner.log.fetch.max-bytes-for-bucket",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->scanner_fetch_max_bytes_for_bucket, ParseSize32(k, v));
         return Status::OK();
       }},
      {"client.scanner.log.fetch.min-bytes",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->scanner_fetch_min_bytes, ParseSize32(k, v));
         return Status::OK();
       }},
      {"client.scanner.log.fetch.wait-max-time",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->scanner_fetch_wait_max_time, ParseMillis(k, v));
         return Status::OK();
       }},
      {"client.scanner.log.check-crc",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->scanner_check_crc, ParseFlag(k, v));
         return Status::OK();
       }},
      {"client.scanner.log.max-poll-records",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->scanner_max_poll_records, ParseInt32(k, v));
         return Status::OK();
       }},
      {"client.lookup.queue-size",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->lookup_queue_size, ParseInt32(k, v));
         return Status::OK();
       }},
      {"client.lookup.max-batch-size",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->lookup_max_batch_size, ParseInt32(k, v));
         return Status::OK();
       }},
      {"client.lookup.max-inflight-requests",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->lookup_max_inflight_requests, ParseInt32(k, v));
         return Status::OK();
       }},
      {"client.lookup.max-retries",
       [](ClientConfig* c, std::string_view k, std::string_view v) -> Status {
         STROM_ASSIGN_OR_RETURN(c->lookup_max_retries, ParseInt32(k, v));
         return Status::OK();
       }},
  };
  return *setters;
}

}  // namespace

Result<ClientConfig> ClientConfig::FromProperties(
    const std::vector<std::pair<std::string, std::string>>& properties) {
  ClientConfig config;
  for (const auto& [key, value] : properties) {
    auto it = Setters().find(key);
    if (it == Setters().end()) {
      return MakeError(ErrorCode::kInvalidConfig, "unknown client option '{}'", key);
    }
    STROM_RETURN_IF_ERROR(it->second(&config, key, value));
  }
  STROM_RETURN_IF_ERROR(config.Validate());
  return config;
}

Result<std::vector<std::pair<std::string, uint16_t>>> ClientConfig::BootstrapAddresses() const {
  std::vector<std::pair<std::string, uint16_t>> out;
  std::string_view rest = bootstrap_servers;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view entry = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (entry.empty()) continue;
    size_t colon = entry.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      return MakeError(ErrorCode::kInvalidConfig, "bootstrap.servers: '{}' is not host:port",
                       entry);
    }
    std::string_view host = entry.substr(0, colon);
    // [::1]:9123 style IPv6 literals.
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    std::string_view port_text = entry.substr(colon + 1);
    int32_t port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port <= 0 ||
        port > 65535) {
      return MakeError(ErrorCode::kInvalidConfig, "bootstrap.servers: '{}' has no valid port",
                       entry);
    }
    out.emplace_back(std::string(host), static_cast<uint16_t>(port));
  }
  if (out.empty()) {
    return MakeError(ErrorCode::kInvalidConfig, "bootstrap.servers is empty");
  }
  return out;
}

Status ClientConfig::Validate() const {
  auto fail = [](std::string_view option, std::string_view why) {
    return MakeError(ErrorCode::kInvalidConfig, "{}: {}", option, why);
  };
  STROM_RETURN_IF_ERROR(BootstrapAddresses().status());
  if (request_timeout.count() <= 0) return fail("client.request-timeout", "must be positive");
  if (connect_timeout.count() <= 0) return fail("client.connect-timeout", "must be positive");
  if (writer_acks != -1 && writer_acks != 0 && writer_acks != 1) {
    return fail("client.writer.acks", "must be all (-1), 0 or 1");
  }
  if (writer_retries < 0) return fail("client.writer.retries", "must not be negative");
  if (writer_retry_backoff.count() < 0) {
    return fail("client.writer.retry-backoff", "must not be negative");
  }
  if (writer_delivery_timeout.count() < 0) {
    return fail("client.writer.delivery-timeout", "must not be negative");
  }
  if (writer_batch_size <= 0) return fail("client.writer.batch-size", "must be positive");
  if (writer_batch_timeout.count() < 0) {
    return fail("client.writer.batch-timeout", "must not be negative");
  }
  if (writer_buffer_memory <= 0) {
    return fail("client.writer.buffer.memory-size", "must be positive");
  }
  if (writer_request_max_size <= 0) {
    return fail("client.writer.request-max-size", "must be positive");
  }
  if (writer_max_inflight_requests_per_bucket <= 0) {
    return fail("client.writer.max-inflight-requests-per-bucket", "must be positive");
  }
  if (writer_enable_idempotence) {
    if (writer_acks != -1) {
      return fail("client.writer.acks", "must be all (-1) when idempotence is enabled");
    }
    if (writer_retries == 0) {
      return fail("client.writer.retries", "must be positive when idempotence is enabled");
    }
    if (writer_max_inflight_requests_per_bucket > 5) {
      return fail("client.writer.max-inflight-requests-per-bucket",
                  "must be at most 5 when idempotence is enabled");
    }
  }
  if (scanner_fetch_max_bytes <= 0) {
    return fail("client.scanner.log.fetch.max-bytes", "must be positive");
  }
  if (scanner_fetch_max_bytes_for_bucket <= 0) {
    return fail("client.scanner.log.fetch.max-bytes-for-bucket", "must be positive");
  }
  if (scanner_fetch_min_bytes < 0) {
    return fail("client.scanner.log.fetch.min-bytes", "must not be negative");
  }
  if (scanner_fetch_wait_max_time.count() < 0) {
    return fail("client.scanner.log.fetch.wait-max-time", "must not be negative");
  }
  if (scanner_max_poll_records <= 0) {
    return fail("client.scanner.log.max-poll-records", "must be positive");
  }
  if (lookup_queue_size <= 0) return fail("client.lookup.queue-size", "must be positive");
  if (lookup_max_batch_size <= 0) return fail("client.lookup.max-batch-size", "must be positive");
  if (lookup_max_inflight_requests <= 0) {
    return fail("client.lookup.max-inflight-requests", "must be positive");
  }
  if (lookup_max_retries < 0) return fail("client.lookup.max-retries", "must not be negative");
  return Status::OK();
}

}  // namespace strom
