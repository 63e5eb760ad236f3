#pragma once

// One `strom-server` child process of a process-level test: started, found ready by its
// ready line, stopped gracefully or killed.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace strom::testing {

/// One `strom-server` child process (any subcommand), ready once it printed a line matching
/// `ready` whose first group is its port. Stderr goes to `log_path` (empty: the test's own).
/// Lifecycle: Start() forks, execs and waits (bounded); the destructor SIGKILLs and reaps.
/// Not thread-safe; owned by one test.
class ChildServer {
 public:
  ~ChildServer() { Kill(); }

  static std::unique_ptr<ChildServer> Start(std::vector<std::string> args, const std::regex& ready,
                                            const std::string& log_path,
                                            std::chrono::milliseconds timeout) {
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int fds[2];
    if (::pipe(fds) != 0) return nullptr;
    pid_t pid = ::fork();
    if (pid < 0) return nullptr;
    if (pid == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      if (!log_path.empty()) {
        int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (log >= 0) ::dup2(log, STDERR_FILENO);
      }
      ::close(fds[0]);
      ::close(fds[1]);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    std::unique_ptr<ChildServer> child(new ChildServer(pid, fds[0]));
    if (!child->AwaitReady(ready, timeout)) return nullptr;
    return child;
  }

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  bool running() const { return pid_ > 0; }

  /// SIGKILL (a crash) and reap; idempotent.
  void Kill() { Signal(SIGKILL, std::chrono::seconds(30)); }
  /// SIGTERM (graceful stop) and reap within `bound` (SIGKILL after it); returns the exit
  /// status, or -1 when it had to be killed.
  int Terminate(std::chrono::milliseconds bound = std::chrono::seconds(30)) {
    return Signal(SIGTERM, bound);
  }

 private:
  ChildServer(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}

  int Signal(int signal, std::chrono::milliseconds bound) {
    int result = -1;
    if (pid_ > 0) {
      ::kill(pid_, signal);
      auto deadline = std::chrono::steady_clock::now() + bound;
      int status = 0;
      while (true) {
        pid_t done = ::waitpid(pid_, &status, WNOHANG);
        if (done == pid_) {
          result = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
          break;
        }
        if (std::chrono::steady_clock::now() > deadline) {
          ::kill(pid_, SIGKILL);
          ::waitpid(pid_, &status, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      pid_ = -1;
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
    return result;
  }

  bool AwaitReady(const std::regex& ready, std::chrono::milliseconds timeout) {
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
      if (!std::regex_match(line, match, ready)) return false;
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
