// strom-server: the Strom server process. `strom-server local` runs a whole single-node
// cluster (coordinator and tablet server on one port, metadata in the data directory).

#include <CLI/CLI.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string>

#include "common/async.h"
#include "common/config/config.h"
#include "common/logging.h"
#include "server/local_server.h"

namespace {

using strom::Status;
using strom::Task;

/// Starts the server, prints the ready line, waits for SIGINT/SIGTERM, stops.
Task<void> RunLocal(asio::io_context& io, strom::server::LocalServer& server, int* exit_code) {
  asio::signal_set signals(io, SIGINT, SIGTERM);
  Status started = co_await server.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "strom-server local: cannot start: %s\n", started.ToString().c_str());
    *exit_code = 1;
    co_return;
  }
  std::printf("strom-server local ready on %s:%u (data dir %s)\n", server.host().c_str(),
              static_cast<unsigned>(server.port()), server.data_dir().c_str());
  std::fflush(stdout);
  auto [ec, signal] = co_await signals.async_wait(strom::kAwaitTuple);
  if (!ec) STROM_LOG_INFO("server", "signal {} received, shutting down", signal);
  co_await server.Stop();
  *exit_code = 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Strom: a C++ implementation of the Apache Fluss server"};
  app.require_subcommand(1);
  CLI::App* local = app.add_subcommand(
      "local", "Run a single-node cluster (coordinator + tablet server) on one port");
  std::string config_path;
  std::optional<std::string> data_dir;
  std::optional<std::string> host;
  std::optional<uint16_t> port;
  std::string log_level = "info";
  local->add_option("--config", config_path, "server.yaml with Fluss option names");
  local->add_option("--data-dir", data_dir, "data directory (overrides data.dir)");
  local->add_option("--host", host, "listen host (default 127.0.0.1, or bind.listeners)");
  local->add_option("--port", port, "listen port (default 9123; 0 picks a free port)");
  local->add_option("--log-level", log_level, "trace, debug, info, warn, error or off");
  CLI11_PARSE(app, argc, argv);

  strom::SetLogLevel(log_level);
  strom::server::LocalServerOptions options;
  if (!config_path.empty()) {
    auto conf = strom::config::Configuration::LoadFile(config_path);
    if (!conf.ok()) {
      std::fprintf(stderr, "strom-server: %s\n", conf.status().ToString().c_str());
      return 2;
    }
    options.config = std::move(conf).value();
  }
  options.data_dir = data_dir;
  options.host = host;
  options.port = port;

  asio::io_context io(1);
  strom::server::LocalServer server(io, std::move(options));
  int exit_code = 1;
  asio::co_spawn(io, RunLocal(io, server, &exit_code), [&](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "strom-server: fatal: %s\n", ex.what());
      }
      exit_code = 1;
      io.stop();
    }
  });
  io.run();
  return exit_code;
}
