#include <gtest/gtest.h>

#include <algorithm>

#include "log/fs/fault_injection_file_system.h"
#include "log/fs/posix_file_system.h"
#include "log/log_test_util.h"

namespace strom::log {
namespace {

using testing::TempDir;

ByteBuffer ReadAll(FileSystem* fs, const std::string& path) {
  Result<ByteBuffer> bytes = fs->ReadFile(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : ByteBuffer();
}

TEST(LogFileSystemTest, PosixBasics) {
  TempDir dir;
  FileSystem* fs = PosixFileSystem::Default();
  std::string path = dir.Sub("a/b/file");
  ASSERT_TRUE(fs->CreateDirs(dir.Sub("a/b")).ok());
  EXPECT_FALSE(*fs->Exists(path));
  EXPECT_EQ(fs->Open(path, OpenMode::kRead).status().code(), ErrorCode::kStorage);

  auto file = fs->Open(path, OpenMode::kCreateExclusive);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append("hello").ok());
  ASSERT_TRUE((*file)->Append(" world").ok());
  ASSERT_TRUE((*file)->WriteAt(0, "J").ok());
  EXPECT_EQ(*(*file)->Size(), 11u);
  char buf[16];
  ASSERT_TRUE((*file)->ReadFully(6, 5, buf).ok());
  EXPECT_EQ(ByteView(buf, 5), "world");
  EXPECT_EQ((*file)->ReadFully(8, 5, buf).code(), ErrorCode::kStorage);
  EXPECT_EQ(*(*file)->ReadAt(11, 4, buf), 0u);
  ASSERT_TRUE((*file)->Truncate(5).ok());
  ASSERT_TRUE((*file)->Append("!").ok());
  ASSERT_TRUE((*file)->Truncate(8).ok());  // grows with zeros
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(ReadAll(fs, path), ByteBuffer("Jello!\0\0", 8));
  EXPECT_EQ(fs->Open(path, OpenMode::kCreateExclusive).status().code(), ErrorCode::kStorage);

  ASSERT_TRUE(fs->Rename(path, dir.Sub("a/b/renamed")).ok());
  auto names = fs->List(dir.Sub("a/b"));
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"renamed"});
  EXPECT_EQ(*fs->FileSize(dir.Sub("a/b/renamed")), 8u);
  EXPECT_TRUE(*fs->DeleteIfExists(dir.Sub("a/b/renamed")));
  EXPECT_FALSE(*fs->DeleteIfExists(dir.Sub("a/b/renamed")));
  EXPECT_EQ(fs->Delete(dir.Sub("a/b/renamed")).code(), ErrorCode::kStorage);

  ASSERT_TRUE(fs->WriteFileAtomically(dir.Sub("a/snap"), "v1").ok());
  ASSERT_TRUE(fs->WriteFileAtomically(dir.Sub("a/snap"), "version2").ok());
  EXPECT_EQ(ReadAll(fs, dir.Sub("a/snap")), "version2");
  EXPECT_FALSE(*fs->Exists(dir.Sub("a/snap.tmp")));
  ASSERT_TRUE(fs->SyncDir(dir.Sub("a")).ok());
  ASSERT_TRUE(fs->DeleteRecursively(dir.Sub("a")).ok());
  EXPECT_FALSE(*fs->Exists(dir.Sub("a")));
}

TEST(LogFileSystemTest, PathHelpers) {
  EXPECT_EQ(JoinPath("/x/y", "z"), "/x/y/z");
  EXPECT_EQ(JoinPath("/x/y/", "z"), "/x/y/z");
  EXPECT_EQ(ParentDir("/x/y/z"), "/x/y");
  EXPECT_EQ(ParentDir("/z"), "/");
  EXPECT_EQ(ParentDir("z"), ".");
}

TEST(LogFaultInjectionTest, FailsTheNthMatchingWrite) {
  TempDir dir;
  FaultInjectionFileSystem fs(PosixFileSystem::Default());
  auto a = fs.Open(dir.Sub("a.log"), OpenMode::kCreate);
  auto b = fs.Open(dir.Sub("b.index"), OpenMode::kCreate);
  ASSERT_TRUE(a.ok() && b.ok());
  fs.InjectWriteFault(1, WriteFault::kFail, ".log");
  ASSERT_TRUE((*a)->Append("1111").ok());
  ASSERT_TRUE((*b)->Append("xx").ok());  // does not match the filter
  Status st = (*a)->Append("2222");
  EXPECT_EQ(st.code(), ErrorCode::kStorage);
  EXPECT_TRUE(fs.write_fault_fired());
  EXPECT_EQ(*(*a)->Size(), 4u);
  ASSERT_TRUE((*a)->Append("3333").ok());  // one-shot
  EXPECT_EQ(fs.write_count(), 4);
  EXPECT_EQ(ReadAll(&fs, dir.Sub("a.log")), "11113333");
}

TEST(LogFaultInjectionTest, ShortWriteWritesHalf) {
  TempDir dir;
  FaultInjectionFileSystem fs(PosixFileSystem::Default());
  auto f = fs.Open(dir.Sub("f"), OpenMode::kCreate);
  ASSERT_TRUE(f.ok());
  fs.InjectWriteFault(0, WriteFault::kShortWrite);
  EXPECT_FALSE((*f)->Append("abcdefgh").ok());
  EXPECT_EQ(ReadAll(&fs, dir.Sub("f")), "abcd");
}

TEST(LogFaultInjectionTest, ShortReadsAndSyncFailures) {
  TempDir dir;
  FaultInjectionFileSystem fs(PosixFileSystem::Default());
  auto f = fs.Open(dir.Sub("f"), OpenMode::kCreate);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("0123456789").ok());
  fs.SetShortReads(true);
  char buf[10];
  EXPECT_EQ(*(*f)->ReadAt(0, 10, buf), 5u);
  ASSERT_TRUE((*f)->ReadFully(0, 10, buf).ok());
  EXPECT_EQ(ByteView(buf, 10), "0123456789");
  fs.SetFailSync(true);
  EXPECT_EQ((*f)->Sync().code(), ErrorCode::kStorage);
  EXPECT_EQ(fs.SyncDir(dir.path()).code(), ErrorCode::kStorage);
  fs.ClearFaults();
  EXPECT_TRUE((*f)->Sync().ok());
}

TEST(LogFaultInjectionTest, CrashForgetsUnsyncedBytes) {
  TempDir dir;
  FaultInjectionFileSystem fs(PosixFileSystem::Default());
  {
    auto f = fs.Open(dir.Sub("synced"), OpenMode::kCreate);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append("durable").ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE((*f)->Append("-lost").ok());
    ASSERT_TRUE((*f)->WriteAt(0, "DUR").ok());  // overwrite of synced bytes, not synced
    auto g = fs.Open(dir.Sub("unsynced-new"), OpenMode::kCreate);
    ASSERT_TRUE(g.ok());
    ASSERT_TRUE((*g)->Append("data").ok());
    ASSERT_TRUE((*g)->Sync().ok());  // data synced, but the directory entry is not
    auto h = fs.Open(dir.Sub("dir-synced"), OpenMode::kCreate);
    ASSERT_TRUE(h.ok());
    ASSERT_TRUE((*h)->Append("x").ok());
  }
  ASSERT_TRUE(fs.SyncDir(dir.path()).ok());  // makes the two new names durable...
  {
    auto k = fs.Open(dir.Sub("created-after-dir-sync"), OpenMode::kCreate);
    ASSERT_TRUE(k.ok());
  }
  ASSERT_TRUE(fs.SimulateCrash().ok());
  EXPECT_EQ(ReadAll(&fs, dir.Sub("synced")), "durable");
  EXPECT_EQ(ReadAll(&fs, dir.Sub("unsynced-new")), "data");
  EXPECT_EQ(ReadAll(&fs, dir.Sub("dir-synced")), "");  // ...but not unsynced data
  EXPECT_FALSE(*fs.Exists(dir.Sub("created-after-dir-sync")));
}

}  // namespace
}  // namespace strom::log
