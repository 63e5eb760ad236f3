#pragma once

// `strom-server local` as a child process of a test, on a free loopback port with its own data
// directory, found ready by its ready line, killed at the end.

#include <chrono>
#include <cstdint>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "integration/child_server.h"

namespace strom::testing {

/// One running `strom-server local`.
///
/// Lifecycle: Start() forks and execs the binary and waits (bounded) for the line
/// "strom-server local ready on 127.0.0.1:PORT (...)"; the destructor SIGKILLs and reaps it.
/// Not thread-safe; owned by one test.
class ServerProcess {
 public:
  /// Starts `binary local` on 127.0.0.1, port 0, with `data_dir` (and `extra_args`, e.g.
  /// `--config FILE`); null when it does not report ready within `timeout`.
  static std::unique_ptr<ServerProcess> Start(const std::string& binary,
                                              const std::string& data_dir,
                                              std::chrono::milliseconds timeout =
                                                  std::chrono::seconds(20),
                                              const std::vector<std::string>& extra_args = {}) {
    std::vector<std::string> args = {binary,      "local",    "--host", "127.0.0.1",
                                     "--port",    "0",        "--data-dir", data_dir,
                                     "--log-level", "warn"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    static const std::regex kReady(R"(strom-server local ready on 127\.0\.0\.1:(\d+) .*)");
    auto child = ChildServer::Start(std::move(args), kReady, "", timeout);
    if (child == nullptr) return nullptr;
    return std::unique_ptr<ServerProcess>(new ServerProcess(std::move(child)));
  }

  uint16_t port() const { return child_->port(); }
  std::string address() const { return child_->address(); }

  /// SIGTERMs the server and waits up to `timeout` for it to exit: its exit code, or -1 when
  /// it did not exit in time (it is then SIGKILLed) or died of a signal.
  int Terminate(std::chrono::milliseconds timeout) { return child_->Terminate(timeout); }

  /// SIGKILLs and reaps the server now (a crash); idempotent.
  void Kill() { child_->Kill(); }

 private:
  explicit ServerProcess(std::unique_ptr<ChildServer> child) : child_(std::move(child)) {}

  std::unique_ptr<ChildServer> child_;
};

}  // namespace strom::testing
