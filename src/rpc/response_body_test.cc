#include "rpc/response_body.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "rpc/connection.h"
#include "rpc/dispatcher.h"
#include "rpc/server.h"
#include "testutil/run_task.h"

namespace strom::rpc {
namespace {

using namespace std::chrono_literals;

// A temporary file with known contents; the descriptor stays open while any region of it
// (holding a reference) is unsent.
struct TempFile {
  explicit TempFile(const ByteBuffer& contents) {
    char name[] = "/tmp/strom-response-body-XXXXXX";
    fd = ::mkstemp(name);
    path = name;
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, contents.data(), contents.size()),
              static_cast<ssize_t>(contents.size()));
  }
  ~TempFile() {
    ::close(fd);
    ::unlink(path.c_str());
  }
  int fd = -1;
  std::string path;
};

ByteBuffer RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  ByteBuffer out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

// A raw FetchLog call (the test handler reads the payload as text).
Task<Result<ByteBuffer>> Fetch(std::shared_ptr<Connection> c, std::string request) {
  co_return co_await c->Call(static_cast<int16_t>(proto::ApiKey::kFetchLog), 0,
                             std::move(request), 10s);
}

FileRegion RegionOf(const std::shared_ptr<TempFile>& file, uint64_t offset, size_t size) {
  return FileRegion{file, file->fd, offset, size};
}

TEST(ResponseBodyTest, CountsPiecesAndReadsRegions) {
  auto file = std::make_shared<TempFile>(RandomBytes(1000, 1));
  ResponseBody body(ByteBuffer("head"));
  body.Append(ByteBuffer());  // skipped
  body.Append(RegionOf(file, 10, 100));
  body.Append(RegionOf(file, 0, 0));  // skipped
  body.Append(ByteBuffer("tail"));
  EXPECT_EQ(body.pieces().size(), 3u);
  EXPECT_EQ(body.size(), 108u);
  EXPECT_EQ(body.memory_bytes(), 8u);
  EXPECT_TRUE(body.has_file_regions());
  Result<ByteBuffer> bytes = body.ToBytes();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, "head" + RandomBytes(1000, 1).substr(10, 100) + "tail");

  ResponseBody past_end;
  past_end.Append(RegionOf(file, 990, 20));
  EXPECT_EQ(past_end.ToBytes().status().code(), ErrorCode::kUnknownServerError);
}

// A server whose FetchLog handler answers "<n>:" followed by the requested slice of a file
// (payload "offset,size[,truncate]"), as a ResponseBody with a file region.
class ResponseBodyServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    contents_ = RandomBytes(8 << 20, 7);
    file_ = std::make_shared<TempFile>(contents_);
    Dispatcher dispatcher;
    std::shared_ptr<TempFile> file = file_;
    dispatcher.RegisterBody(
        proto::ApiKey::kFetchLog,
        [file](RequestContext context, ByteBuffer payload) -> Task<Result<ResponseBody>> {
          uint64_t offset = std::strtoull(payload.c_str(), nullptr, 10);
          size_t size = std::strtoull(payload.c_str() + payload.find(',') + 1, nullptr, 10);
          if (payload.find(",truncate") != std::string::npos) {
            // The file loses the region's tail after the "read": as a log truncation would.
            EXPECT_EQ(::ftruncate(file->fd, static_cast<off_t>(offset + size / 2)), 0);
          }
          ResponseBody body(std::to_string(context.request_id) + ":");
          body.Append(RegionOf(file, offset, size));
          body.Append(ByteBuffer("."));
          co_return body;
        });
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<Server>(io_.get_executor(), options, std::move(dispatcher));
    ASSERT_TRUE(server_->Start().ok());
  }

  void TearDown() override {
    for (auto& c : connections_) Run(c->CloseAndWait());
    Run(server_->Stop(5s));
  }

  template <typename T>
  T Run(Task<T> task) {
    return testutil::RunTask(io_, std::move(task));
  }

  std::shared_ptr<Connection> Connect() {
    auto c = Run(Connection::Connect(io_.get_executor(), "127.0.0.1", server_->port(), {}));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return nullptr;
    connections_.push_back(*c);
    return *c;
  }

  ByteBuffer Expected(int32_t request_id, uint64_t offset, size_t size) const {
    return std::to_string(request_id) + ":" + contents_.substr(offset, size) + ".";
  }

  asio::io_context io_;
  ByteBuffer contents_;
  std::shared_ptr<TempFile> file_;
  std::unique_ptr<Server> server_;
  std::vector<std::shared_ptr<Connection>> connections_;
};

TEST_F(ResponseBodyServerTest, FileRegionsArriveByteForByteInSmallAndLargeFrames) {
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  // Request ids start at 1 after ApiVersions (0). Small frames go through the client's frame
  // decoder, large ones (over its 64 KiB read chunk) straight into their payload buffer.
  struct Case {
    uint64_t offset;
    size_t size;
  };
  int32_t id = 1;
  for (Case k : {Case{0, 10}, Case{5, 70000}, Case{123, 6 << 20}, Case{7, 1}, Case{1, 300000}}) {
    Result<ByteBuffer> got = Run(Fetch(c, fmt::format("{},{}", k.offset, k.size)));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(*got == Expected(id, k.offset, k.size)) << "offset " << k.offset;
    ++id;
  }
}

TEST_F(ResponseBodyServerTest, PipelinedCallsWithRegionsStayFramed) {
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  std::vector<Result<ByteBuffer>> results(40, Status(ErrorCode::kNetwork, "not run"));
  auto all = [&]() -> Task<void> {
    Gate gate;
    Executor ex = co_await asio::this_coro::executor;
    for (size_t i = 0; i < results.size(); ++i) {
      auto one = [](std::shared_ptr<Connection> conn, size_t i,
                    Result<ByteBuffer>* out) -> Task<void> {
        *out = co_await Fetch(conn, fmt::format("{},{}", i * 1000, 1000 + i * 20000));
      };
      SpawnBackground(ex, gate, "fetch", one(c, i, &results[i]));
    }
    co_await gate.Close();
  };
  Run(all());
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i].ok()) << i << ": " << results[i].status().ToString();
    // Ids 1..40 in call order; the payload names the id the server saw.
    const ByteBuffer& got = *results[i];
    const int32_t id = std::atoi(got.c_str());
    EXPECT_TRUE(got == Expected(id, i * 1000, 1000 + i * 20000)) << i;
  }
}

TEST_F(ResponseBodyServerTest, ARegionCutShortByTruncationDropsOnlyThatConnection) {
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  Result<ByteBuffer> cut = Run(Fetch(c, "1000,4000000,truncate"));
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), ErrorCode::kNetwork) << cut.status().ToString();
  // The server is fine: a new connection is served (from what is left of the file).
  auto again = Connect();
  ASSERT_NE(again, nullptr);
  Result<ByteBuffer> got = Run(Fetch(again, "10,1000"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == Expected(1, 10, 1000));
}

}  // namespace
}  // namespace strom::rpc
