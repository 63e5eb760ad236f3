#include "client/idempotence_manager.h"

#include <gtest/gtest.h>

namespace strom::client {
namespace {

const TableBucket kB0(TableId(1), BucketId(0));
const TableBucket kB1(TableId(1), BucketId(1));

TEST(IdempotenceManagerTest, NothingIsSentWithoutWriterId) {
  IdempotenceManager m(true, 5);
  EXPECT_FALSE(m.ready());
  EXPECT_FALSE(m.CanSend(kB0, kNoBatchSequence, 0));
  m.SetWriterId(WriterId(7));
  EXPECT_TRUE(m.ready());
  EXPECT_TRUE(m.CanSend(kB0, kNoBatchSequence, 0));
}

TEST(IdempotenceManagerTest, SequencesArePerBucketAndStartAtZero) {
  IdempotenceManager m(true, 5);
  m.SetWriterId(WriterId(7));
  EXPECT_EQ(m.AssignSequence(kB0).value(), 0);
  EXPECT_EQ(m.AssignSequence(kB0).value(), 1);
  EXPECT_EQ(m.AssignSequence(kB1).value(), 0);
  EXPECT_EQ(m.AssignSequence(kB0).value(), 2);
  EXPECT_EQ(*m.InflightSequences(kB0), (std::set<int32_t>{0, 1, 2}));
  m.OnSuccess(kB0, WriterId(7), BatchSequence(1));
  m.OnSuccess(kB0, WriterId(7), BatchSequence(0));
  EXPECT_EQ(m.LastAckedSequence(kB0), 1);
  EXPECT_EQ(*m.InflightSequences(kB0), (std::set<int32_t>{2}));
}

TEST(IdempotenceManagerTest, InflightBoundForNewBatches) {
  IdempotenceManager m(true, 2);
  m.SetWriterId(WriterId(1));
  m.AssignSequence(kB0);
  EXPECT_TRUE(m.CanSend(kB0, kNoBatchSequence, 0));
  m.AssignSequence(kB0);
  EXPECT_FALSE(m.CanSend(kB0, kNoBatchSequence, 0));
  EXPECT_TRUE(m.CanSend(kB1, kNoBatchSequence, 0));
  m.OnSuccess(kB0, WriterId(1), BatchSequence(0));
  EXPECT_TRUE(m.CanSend(kB0, kNoBatchSequence, 0));
}

TEST(IdempotenceManagerTest, DuplicateSequenceIsSuccess) {
  IdempotenceManager m(true, 5);
  m.SetWriterId(WriterId(3));
  BatchSequence s = m.AssignSequence(kB0);
  EXPECT_EQ(m.OnError(kB0, WriterId(3), s, ErrorCode::kDuplicateSequence, true),
            BatchErrorAction::kSucceed);
  EXPECT_EQ(m.LastAckedSequence(kB0), 0);
  EXPECT_TRUE(m.InflightSequences(kB0)->empty());
}

TEST(IdempotenceManagerTest, RetriableErrorRetriesSameSequenceInOrder) {
  IdempotenceManager m(true, 5);
  m.SetWriterId(WriterId(3));
  BatchSequence s0 = m.AssignSequence(kB0);
  BatchSequence s1 = m.AssignSequence(kB0);
  // s0 timed out: retried with the same sequence.
  EXPECT_EQ(m.OnError(kB0, WriterId(3), s0, ErrorCode::kRequestTimeOut, true),
            BatchErrorAction::kRetry);
  // s1 reached the server first and was rejected as out of order: retried too.
  EXPECT_EQ(m.OnError(kB0, WriterId(3), s1, ErrorCode::kOutOfOrderSequence, true),
            BatchErrorAction::kRetry);
  // Only the lowest in-flight sequence may be re-sent.
  EXPECT_TRUE(m.CanSend(kB0, s0, 0));
  EXPECT_FALSE(m.CanSend(kB0, s1, 0));
  m.OnSuccess(kB0, WriterId(3), s0);
  EXPECT_TRUE(m.CanSend(kB0, s1, 0));
  m.OnSuccess(kB0, WriterId(3), s1);
  EXPECT_EQ(m.LastAckedSequence(kB0), 1);
  EXPECT_EQ(m.writer_id(), WriterId(3));
}

TEST(IdempotenceManagerTest, OutOfOrderForNextExpectedResetsWriter) {
  IdempotenceManager m(true, 5);
  m.SetWriterId(WriterId(3));
  BatchSequence s0 = m.AssignSequence(kB0);
  m.OnSuccess(kB0, WriterId(3), s0);
  BatchSequence s1 = m.AssignSequence(kB0);
  // s1 is what the server should expect next, yet it says out of order: its writer state
  // is gone. The batch was not stored and goes out again under a new writer id.
  EXPECT_EQ(m.OnError(kB0, WriterId(3), s1, ErrorCode::kOutOfOrderSequence, true),
            BatchErrorAction::kRetryAsNew);
  EXPECT_FALSE(m.ready());
  EXPECT_EQ(m.reset_count(), 1);
  m.SetWriterId(WriterId(4));
  EXPECT_TRUE(m.CanSend(kB0, kNoBatchSequence, 0));
  EXPECT_EQ(m.AssignSequence(kB0).value(), 0);
}

TEST(IdempotenceManagerTest, UnknownWriterIdResetsAndResends) {
  IdempotenceManager m(true, 5);
  m.SetWriterId(WriterId(3));
  BatchSequence s0 = m.AssignSequence(kB0);
  EXPECT_EQ(m.OnError(kB0, WriterId(3), s0, ErrorCode::kUnknownWriterId, true),
            BatchErrorAction::kRetryAsNew);
  EXPECT_FALSE(m.ready());
}

TEST(IdempotenceManagerTest, RetriableErrorAfterResetFails) {
  IdempotenceManager m(true, 5);
  m.SetWriterId(WriterId(3));
  BatchSequence a = m.AssignSequence(kB0);
  BatchSequence b = m.AssignSequence(kB1);
  m.OnSuccess(kB1, WriterId(3), BatchSequence(99));  // unknown sequence: harmless
  EXPECT_EQ(m.OnError(kB0, WriterId(3), a, ErrorCode::kUnknownWriterId, true),
            BatchErrorAction::kRetryAsNew);
  m.SetWriterId(WriterId(4));
  // kB1's batch was sent under writer 3 and timed out: it may or may not be stored.
  EXPECT_EQ(m.OnError(kB1, WriterId(3), b, ErrorCode::kRequestTimeOut, true),
            BatchErrorAction::kFail);
  // An out-of-order answer for an old-writer batch proves it was not stored.
  EXPECT_EQ(m.OnError(kB1, WriterId(3), b, ErrorCode::kOutOfOrderSequence, true),
            BatchErrorAction::kRetryAsNew);
}

TEST(IdempotenceManagerTest, FatalErrorOfLastBatchGivesSequenceBack) {
  IdempotenceManager m(true, 5);
  m.SetWriterId(WriterId(3));
  BatchSequence s0 = m.AssignSequence(kB0);
  m.OnSuccess(kB0, WriterId(3), s0);
  BatchSequence s1 = m.AssignSequence(kB0);
  EXPECT_EQ(m.OnError(kB0, WriterId(3), s1, ErrorCode::kRecordTooLarge, true),
            BatchErrorAction::kFail);
  EXPECT_EQ(m.writer_id(), WriterId(3));
  EXPECT_EQ(m.NextSequence(kB0), 1);
  EXPECT_EQ(m.AssignSequence(kB0).value(), 1);
}

TEST(IdempotenceManagerTest, FatalErrorWithLaterBatchesOutResetsWriter) {
  IdempotenceManager m(true, 5);
  m.SetWriterId(WriterId(3));
  BatchSequence s0 = m.AssignSequence(kB0);
  m.AssignSequence(kB0);
  EXPECT_EQ(m.OnError(kB0, WriterId(3), s0, ErrorCode::kRecordTooLarge, true),
            BatchErrorAction::kFail);
  EXPECT_FALSE(m.ready());
}

TEST(IdempotenceManagerTest, ExhaustedRetriesFail) {
  IdempotenceManager m(true, 5);
  m.SetWriterId(WriterId(3));
  BatchSequence s0 = m.AssignSequence(kB0);
  EXPECT_EQ(m.OnError(kB0, WriterId(3), s0, ErrorCode::kRequestTimeOut, false),
            BatchErrorAction::kFail);
  // Whether it was stored is unknown: start over with a new writer id.
  EXPECT_FALSE(m.ready());
}

TEST(IdempotenceManagerTest, NewBatchesWaitForOldWriterBatchesToDrain) {
  IdempotenceManager m(true, 5);
  m.SetWriterId(WriterId(3));
  m.AssignSequence(kB0);
  m.AssignSequence(kB1);
  BatchSequence s = m.AssignSequence(kB0);
  m.ResetWriterId();
  m.SetWriterId(WriterId(9));
  // Reset forgot every bucket, so nothing of writer 3 blocks writer 9.
  EXPECT_TRUE(m.CanSend(kB0, kNoBatchSequence, 0));
  EXPECT_EQ(m.AssignSequence(kB0).value(), 0);
  // Answers for writer 3's batches no longer touch writer 9's state.
  m.OnSuccess(kB0, WriterId(3), s);
  EXPECT_EQ(m.LastAckedSequence(kB0), -1);
  EXPECT_EQ(*m.InflightSequences(kB0), (std::set<int32_t>{0}));
}

TEST(IdempotenceManagerTest, DisabledUsesPlainRetriesAndInflightBound) {
  IdempotenceManager m(false, 2);
  EXPECT_TRUE(m.ready());
  EXPECT_TRUE(m.CanSend(kB0, kNoBatchSequence, 1));
  EXPECT_FALSE(m.CanSend(kB0, kNoBatchSequence, 2));
  EXPECT_EQ(m.OnError(kB0, kNoWriterId, kNoBatchSequence, ErrorCode::kNotLeaderOrFollower, true),
            BatchErrorAction::kRetry);
  EXPECT_EQ(m.OnError(kB0, kNoWriterId, kNoBatchSequence, ErrorCode::kNotLeaderOrFollower, false),
            BatchErrorAction::kFail);
  EXPECT_EQ(m.OnError(kB0, kNoWriterId, kNoBatchSequence, ErrorCode::kInvalidTable, true),
            BatchErrorAction::kFail);
}

}  // namespace
}  // namespace strom::client
