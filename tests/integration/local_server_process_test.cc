// Integration tests of the `strom-server local` binary: ready line, DDL + produce + fetch over
// the wire, SIGKILL in the middle of appends and restart (every acknowledged record exactly
// once, no torn batch), and a clean SIGTERM shutdown.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "log/log_file_names.h"
#include "rpc/connection.h"
#include "server/server_test_util.h"
#include "testutil/run_task.h"

namespace strom {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using proto::ApiKey;
using server::testing::ArrowBatch;
using server::testing::LogTableJson;
using server::testing::Path;
using testutil::RunTask;

constexpr auto kCallTimeout = 10s;

/// A running `strom-server local` child process.
class ServerProcess {
 public:
  ~ServerProcess() { Kill(SIGKILL); }

  /// Starts the binary and waits (bounded) for its ready line; nullopt on failure.
  static std::unique_ptr<ServerProcess> Start(const std::string& data_dir) {
    int fds[2];
    if (::pipe(fds) != 0) return nullptr;
    pid_t pid = ::fork();
    if (pid < 0) return nullptr;
    if (pid == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execl(STROM_SERVER_BIN, STROM_SERVER_BIN, "local", "--host", "127.0.0.1", "--port", "0",
              "--data-dir", data_dir.c_str(), "--log-level", "warn", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    auto proc = std::unique_ptr<ServerProcess>(new ServerProcess(pid, fds[0]));
    if (!proc->AwaitReady(20s)) return nullptr;
    return proc;
  }

  uint16_t port() const { return port_; }
  const std::string& ready_line() const { return ready_line_; }

  void Kill(int signal) {
    if (pid_ > 0) ::kill(pid_, signal);
    if (signal == SIGKILL) Wait(10s);
  }

  /// Waits for the process to exit; its wait status, or nullopt after `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return exit_status_;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        if (out_fd_ >= 0) ::close(out_fd_);
        out_fd_ = -1;
        exit_status_ = status;
        return status;
      }
      std::this_thread::sleep_for(20ms);
    }
    return std::nullopt;
  }

 private:
  ServerProcess(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}

  bool AwaitReady(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string buffer;
    static const std::regex kReady(R"(strom-server local ready on 127\.0\.0\.1:(\d+) \(data dir .*\))");
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd pfd{out_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      char chunk[256];
      ssize_t n = ::read(out_fd_, chunk, sizeof(chunk));
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(n));
      auto newline = buffer.find('\n');
      if (newline == std::string::npos) continue;
      ready_line_ = buffer.substr(0, newline);
      std::smatch m;
      if (!std::regex_match(ready_line_, m, kReady)) return false;
      port_ = static_cast<uint16_t>(std::stoi(m[1].str()));
      return true;
    }
    return false;
  }

  pid_t pid_;
  int out_fd_;
  uint16_t port_ = 0;
  std::string ready_line_;
  std::optional<int> exit_status_;
};

class LocalServerProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("strom-integration-{}-{}", ::getpid(), n_++);
    fs::remove_all(dir_);
  }
  void TearDown() override {
    if (conn_) conn_->Close();
    conn_.reset();
    server_.reset();
    fs::remove_all(dir_);
  }

  void Launch() {
    server_ = ServerProcess::Start(dir_.string());
    ASSERT_NE(server_, nullptr) << "strom-server did not print its ready line";
    auto conn = RunTask(io_, rpc::Connection::Connect(io_.get_executor(), "127.0.0.1",
                                                      server_->port(), rpc::ConnectionOptions()));
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = *conn;
  }

  template <ApiKey kKey>
  Result<typename rpc::ApiTraits<kKey>::Response> Call(
      typename rpc::ApiTraits<kKey>::Request request) {
    return RunTask(io_, conn_->Call<kKey>(std::move(request), kCallTimeout));
  }

  int64_t CreateLogTable(const std::string& table, int buckets) {
    proto::CreateDatabaseRequest db;
    db.set_database_name("it");
    db.set_ignore_if_exists(true);
    EXPECT_TRUE(Call<ApiKey::kCreateDatabase>(db).ok());
    proto::CreateTableRequest create;
    *create.mutable_table_path() = Path("it", table);
    create.set_table_json(LogTableJson(buckets));
    create.set_ignore_if_exists(false);
    auto created = Call<ApiKey::kCreateTable>(create);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    proto::GetTableInfoRequest info;
    *info.mutable_table_path() = Path("it", table);
    auto resp = Call<ApiKey::kGetTableInfo>(info);
    EXPECT_TRUE(resp.ok());
    return resp.ok() ? resp->table_id() : -1;
  }

  static proto::ProduceLogRequest ProduceRequest(int64_t table_id, int first_id, int count) {
    proto::ProduceLogRequest req;
    req.set_acks(-1);
    req.set_table_id(table_id);
    req.set_timeout_ms(30000);
    auto* b = req.add_buckets_req();
    b->set_bucket_id(0);
    b->set_records(ArrowBatch(first_id, count));
    return req;
  }

  /// Every record of bucket 0, read batch by batch from the log start: the ids in log order.
  /// Fails the test on a torn or corrupt batch.
  std::vector<int32_t> ReadAll(int64_t table_id) {
    std::vector<int32_t> ids;
    int64_t offset = -2;
    // Decoded batches point at the row type: it must outlive them.
    const record::DataType row_type = server::testing::RowType();
    for (int round = 0; round < 10000; ++round) {
      proto::FetchLogRequest req;
      req.set_follower_server_id(-1);
      req.set_max_bytes(1 << 20);
      auto* t = req.add_tables_req();
      t->set_table_id(table_id);
      t->set_projection_pushdown_enabled(false);
      auto* b = t->add_buckets_req();
      b->set_bucket_id(0);
      b->set_fetch_offset(offset);
      b->set_max_fetch_bytes(64 << 10);
      auto resp = Call<ApiKey::kFetchLog>(req);
      EXPECT_TRUE(resp.ok()) << resp.status().ToString();
      if (!resp.ok()) return ids;
      const auto& bucket = resp->tables_resp(0).buckets_resp(0);
      EXPECT_FALSE(bucket.has_error_code()) << bucket.error_message();
      if (bucket.records().empty()) {
        EXPECT_EQ(offset < 0 ? 0 : offset, bucket.high_watermark());
        return ids;
      }
      record::LogRecordBatchIterator it(bucket.records());
      while (true) {
        auto next = it.Next();
        EXPECT_TRUE(next.ok()) << next.status().ToString();
        if (!next.ok() || !next->has_value()) break;
        const record::LogRecordBatch& batch = **next;
        EXPECT_TRUE(batch.IsValid()) << "batch at offset " << batch.base_offset() << " is torn";
        auto body = record::arrow::DecodeArrowLogBatch(batch, row_type);
        EXPECT_TRUE(body.ok()) << body.status().ToString();
        if (body.ok()) {
          for (const auto& row : body->batch.ToRows()) ids.push_back(row[0].as<int32_t>());
        }
        offset = batch.next_offset().value();
      }
    }
    ADD_FAILURE() << "log did not end";
    return ids;
  }

  static inline int n_ = 0;
  fs::path dir_;
  asio::io_context io_;
  std::unique_ptr<ServerProcess> server_;
  std::shared_ptr<rpc::Connection> conn_;
};

TEST_F(LocalServerProcessTest, ReadyLineDdlProduceFetch) {
  Launch();
  EXPECT_NE(server_->ready_line().find(dir_.string()), std::string::npos);
  int64_t table_id = CreateLogTable("t", 1);
  auto produced = Call<ApiKey::kProduceLog>(ProduceRequest(table_id, 0, 10));
  ASSERT_TRUE(produced.ok());
  EXPECT_FALSE(produced->buckets_resp(0).has_error_code());
  produced = Call<ApiKey::kProduceLog>(ProduceRequest(table_id, 10, 10));
  EXPECT_EQ(produced->buckets_resp(0).base_offset(), 10);
  std::vector<int32_t> expected;
  for (int i = 0; i < 20; ++i) expected.push_back(i);
  EXPECT_EQ(ReadAll(table_id), expected);
}

TEST_F(LocalServerProcessTest, KillDuringAppendsLosesNoAcknowledgedRecord) {
  Launch();
  int64_t table_id = CreateLogTable("crash", 1);
  constexpr int kBatch = 20;
  constexpr int kInFlight = 4;
  std::set<int32_t> acked;
  std::set<int32_t> sent;

  // Producers keep kInFlight batches in flight; after 40 acknowledgements the server is
  // killed with SIGKILL while appends are still arriving.
  auto producer = [](rpc::Connection* conn, int64_t table, int lane, std::set<int32_t>* sent_ids,
                     std::set<int32_t>* acked_ids) -> Task<void> {
    for (int seq = 0;; ++seq) {
      int first = (seq * kInFlight + lane) * kBatch;
      for (int i = 0; i < kBatch; ++i) sent_ids->insert(first + i);
      auto req = ProduceRequest(table, first, kBatch);
      auto resp = co_await conn->Call<ApiKey::kProduceLog>(std::move(req), kCallTimeout);
      if (!resp.ok() || resp->buckets_resp(0).has_error_code()) co_return;
      for (int i = 0; i < kBatch; ++i) acked_ids->insert(first + i);
    }
  };
  auto killer = [](ServerProcess* proc, std::set<int32_t>* acked_ids) -> Task<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (acked_ids->size() < 40 * kBatch) {
      timer.expires_after(2ms);
      co_await timer.async_wait(kAwaitTuple);
    }
    proc->Kill(SIGKILL);
  };
  auto run = [&]() -> Task<void> {
    using namespace asio::experimental::awaitable_operators;  // NOLINT
    auto p0 = producer(conn_.get(), table_id, 0, &sent, &acked);
    auto p1 = producer(conn_.get(), table_id, 1, &sent, &acked);
    auto p2 = producer(conn_.get(), table_id, 2, &sent, &acked);
    auto p3 = producer(conn_.get(), table_id, 3, &sent, &acked);
    auto k = killer(server_.get(), &acked);
    co_await (std::move(p0) && std::move(p1) && std::move(p2) && std::move(p3) && std::move(k));
  };
  RunTask(io_, run());
  ASSERT_GE(acked.size(), 40u * kBatch);
  conn_->Close();
  conn_.reset();

  Launch();
  std::vector<int32_t> ids = ReadAll(table_id);
  std::map<int32_t, int> seen;
  for (int32_t id : ids) ++seen[id];
  for (int32_t id : acked) {
    ASSERT_EQ(seen[id], 1) << "acknowledged record " << id << " must be there exactly once";
  }
  for (const auto& [id, count] : seen) {
    EXPECT_EQ(count, 1) << "record " << id << " duplicated";
    EXPECT_TRUE(sent.count(id)) << "record " << id << " was never sent";
  }
  // The log accepts appends after recovery, at the recovered end.
  auto produced = Call<ApiKey::kProduceLog>(ProduceRequest(table_id, 1000000, 5));
  ASSERT_TRUE(produced.ok());
  EXPECT_EQ(produced->buckets_resp(0).base_offset(), static_cast<int64_t>(ids.size()));
}

TEST_F(LocalServerProcessTest, SigtermShutsDownCleanly) {
  Launch();
  int64_t table_id = CreateLogTable("term", 1);
  ASSERT_TRUE(Call<ApiKey::kProduceLog>(ProduceRequest(table_id, 0, 10)).ok());
  conn_->Close();
  conn_.reset();
  server_->Kill(SIGTERM);
  auto status = server_->Wait(20s);
  ASSERT_TRUE(status.has_value()) << "strom-server did not exit after SIGTERM";
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  fs::path tablet = dir_ / "it" / fmt::format("term-{}", table_id) / "log-0";
  EXPECT_TRUE(fs::exists(tablet / std::string(log::kCleanShutdownFileName)))
      << "tablets are closed cleanly on SIGTERM";
  Launch();
  EXPECT_EQ(ReadAll(table_id).size(), 10u);
}

}  // namespace
}  // namespace strom
