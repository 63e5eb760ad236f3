#include "server/listeners.h"

#include <charconv>

#include "common/config/options.h"

namespace strom::server {
namespace {

constexpr std::string_view kLoopback = "127.0.0.1";

Result<uint16_t> ParsePort(std::string_view text) {
  uint32_t port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port > 65535) {
    return MakeError(ErrorCode::kInvalidConfig, "bad port '{}'", text);
  }
  return static_cast<uint16_t>(port);
}

Result<Endpoint> ParseFirst(const std::string& listeners) {
  std::string first = listeners.substr(0, listeners.find(','));
  auto scheme = first.find("://");
  std::string address = scheme == std::string::npos ? first : first.substr(scheme + 3);
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return MakeError(ErrorCode::kInvalidConfig, "listener '{}' has no port", first);
  }
  Endpoint out;
  out.host = address.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty() || out.host == "localhost") out.host = std::string(kLoopback);
  STROM_ASSIGN_OR_RETURN(out.port, ParsePort(address.substr(colon + 1)));
  return out;
}

}  // namespace

Result<Endpoint> BindEndpoint(const config::Configuration& config, ListenerRole role,
                              const std::optional<std::string>& host,
                              const std::optional<uint16_t>& port) {
  Endpoint out{std::string(kLoopback), role == ListenerRole::kCoordinator ? uint16_t{9123}
                                                                          : uint16_t{0}};
  std::string listeners = config.Get(config::kBindListeners);
  if (!listeners.empty()) {
    STROM_ASSIGN_OR_RETURN(out, ParseFirst(listeners));
  } else if (role == ListenerRole::kCoordinator) {
    if (config.Contains(config::kCoordinatorPort.key())) {
      STROM_ASSIGN_OR_RETURN(out.port, ParsePort(config.Get(config::kCoordinatorPort)));
    }
    std::string h = config.Get(config::kCoordinatorHost);
    if (!h.empty() && h != "localhost") out.host = h;
  } else {
    if (config.Contains(config::kTabletServerPort.key())) {
      STROM_ASSIGN_OR_RETURN(out.port, ParsePort(config.Get(config::kTabletServerPort)));
    }
    std::string h = config.Get(config::kTabletServerHost);
    if (!h.empty() && h != "localhost") out.host = h;
  }
  if (host) out.host = *host;
  if (port) out.port = *port;
  return out;
}

Result<Endpoint> AdvertisedEndpoint(const config::Configuration& config, const Endpoint& bound) {
  std::string listeners = config.Get(config::kAdvertisedListeners);
  if (!listeners.empty()) return ParseFirst(listeners);
  Endpoint out = bound;
  if (out.host == "0.0.0.0" || out.host == "::") out.host = std::string(kLoopback);
  return out;
}

}  // namespace strom::server
