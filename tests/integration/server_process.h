#pragma once

// A `strom-server local` child process for process-level tests: started on a free loopback
// port with its own data directory, found ready by its ready line, killed at the end.

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace strom::testing {

/// One running `strom-server local`.
///
/// Lifecycle: Start() forks and execs the binary and waits (bounded) for the line
/// "strom-server local ready on 127.0.0.1:PORT (...)"; the destructor SIGKILLs and reaps it.
/// Not thread-safe; owned by one test.
class ServerProcess {
 public:
  ~ServerProcess() { Kill(); }

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
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int fds[2];
    if (::pipe(fds) != 0) return nullptr;
    pid_t pid = ::fork();
    if (pid < 0) return nullptr;
    if (pid == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execv(binary.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    std::unique_ptr<ServerProcess> process(new ServerProcess(pid, fds[0]));
    if (!process->AwaitReady(timeout)) return nullptr;
    return process;
  }

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  /// SIGTERMs the server and waits up to `timeout` for it to exit: its exit code, or -1 when
  /// it did not exit in time (it is then SIGKILLed) or died of a signal.
  int Terminate(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        Kill();
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Kill();
    return -1;
  }

  /// SIGKILLs and reaps the server now (a crash); idempotent.
  void Kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
  }

 private:
  ServerProcess(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}

  bool AwaitReady(std::chrono::milliseconds timeout) {
    static const std::regex kReady(R"(strom-server local ready on 127\.0\.0\.1:(\d+) .*)");
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string buffer;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd pfd{out_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      char chunk[256];
      ssize_t n = ::read(out_fd_, chunk, sizeof(chunk));
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(n));
      size_t newline = buffer.find('\n');
      if (newline == std::string::npos) continue;
      std::smatch match;
      std::string line = buffer.substr(0, newline);
      if (!std::regex_match(line, match, kReady)) return false;
      port_ = static_cast<uint16_t>(std::stoi(match[1].str()));
      return true;
    }
    return false;
  }

  pid_t pid_;
  int out_fd_;
  uint16_t port_ = 0;
};

}  // namespace strom::testing
