// Randomized tests of every merge engine and aggregate function against a small in-memory
// model: seeded streams of upserts, partial updates and deletes go through a KvTablet; after
// every batch the committed state must equal the model, and replaying the changelog
// (+I/+U put, -D delete) must give the same state.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "kv/kv_test_util.h"
#include "kv/roaring_bitmap.h"
#include "testutil/seed.h"

namespace strom::kv {
namespace {

using record::AggFunction;
using record::AggFunctionType;
using record::DataType;
using record::Datum;
using record::GenericRow;
using testing::KvHarness;
using testing::KvOp;

using Model = std::map<int32_t, GenericRow>;

constexpr int kKeys = 6;
constexpr int kBatches = 25;

std::map<int32_t, GenericRow> ByKey(const std::map<ByteBuffer, GenericRow>& state) {
  std::map<int32_t, GenericRow> out;
  for (const auto& [key, row] : state) out[row[0].as<int32_t>()] = row;
  return out;
}

// Replays the changelog into a state and checks it against the committed state.
void ExpectChangelogMatchesState(KvHarness& h) {
  std::map<int32_t, GenericRow> replayed;
  for (const auto& change : h.Changelog()) {
    int32_t key = change.row[0].as<int32_t>();
    if (change.type == record::ChangeType::kDelete) {
      replayed.erase(key);
    } else if (change.type != record::ChangeType::kUpdateBefore) {
      replayed[key] = change.row;
    }
  }
  EXPECT_EQ(replayed, ByKey(h.State()));
}

// ---- default engine: whole rows, partial updates, deletes and partial deletes ----

TEST(KvModelTest, DefaultEngineWithPartialUpdatesAndDeletes) {
  std::mt19937_64 rng(strom::testutil::TestSeed());
  auto schema = *record::Schema::Builder()
                     .AddColumn("id", DataType::Int())
                     .AddColumn("a", DataType::String())
                     .AddColumn("b", DataType::BigInt())
                     .PrimaryKey({"id"})
                     .Build();
  KvHarness h(schema, {{"table.log.format", "COMPACTED"}});
  STROM_ASSERT_OK(h.Open());
  Model model;
  auto maybe = [&](Datum d) { return rng() % 4 == 0 ? Datum() : d; };
  for (int b = 0; b < kBatches; ++b) {
    // One batch is either whole rows or one partial column set, as a PutKv carries one.
    int mode = static_cast<int>(rng() % 4);  // 0 whole rows, 1 target {id,a}, 2 {id,b}, 3 {id}
    std::vector<bool> target = {true, mode == 0 || mode == 1, mode == 0 || mode == 2};
    PutKvParams params;
    if (mode != 0) {
      params.target_columns = std::vector<int32_t>{0};
      for (int32_t c = 1; c < 3; ++c) {
        if (target[c]) params.target_columns->push_back(c);
      }
    }
    std::vector<KvOp> ops;
    int n = 1 + static_cast<int>(rng() % 5);
    for (int i = 0; i < n; ++i) {
      int32_t key = static_cast<int32_t>(rng() % kKeys);
      if (rng() % 4 == 0) {
        ops.push_back(KvOp::Delete(GenericRow{Datum(key), Datum(), Datum()}));
        auto it = model.find(key);
        if (it == model.end()) continue;
        if (mode == 0) {
          model.erase(it);
          continue;
        }
        bool others = false;
        for (int c = 0; c < 3; ++c) others |= !target[c] && !it->second[c].is_null();
        if (!others) {
          model.erase(it);
        } else {
          for (int c = 1; c < 3; ++c) {
            if (target[c]) it->second[c] = Datum();
          }
        }
        continue;
      }
      GenericRow row{Datum(key), maybe(Datum("s" + std::to_string(rng() % 100))),
                     maybe(Datum(static_cast<int64_t>(rng() % 1000)))};
      for (int c = 1; c < 3; ++c) {
        if (!target[c]) row[c] = Datum();
      }
      ops.push_back(KvOp::Upsert(row));
      auto it = model.find(key);
      if (mode == 0 || it == model.end()) {
        model[key] = row;
      } else if (mode != 3) {
        for (int c = 1; c < 3; ++c) {
          if (target[c]) it->second[c] = row[c];
        }
      }
    }
    auto put = h.Put(ops, params);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    ASSERT_EQ(ByKey(h.State()), model) << "after batch " << b;
    ASSERT_EQ(*h.kv().RowCount(), static_cast<int64_t>(model.size()));
  }
  ExpectChangelogMatchesState(h);
}

// ---- first_row and versioned ----

TEST(KvModelTest, FirstRowAndVersioned) {
  for (const char* engine : {"first_row", "versioned"}) {
    SCOPED_TRACE(engine);
    std::mt19937_64 rng(strom::testutil::TestSeed());
    auto schema = *record::Schema::Builder()
                       .AddColumn("id", DataType::Int())
                       .AddColumn("ver", DataType::BigInt())
                       .AddColumn("payload", DataType::String())
                       .PrimaryKey({"id"})
                       .Build();
    KvHarness h(schema, {{"table.merge-engine", engine},
                         {"table.merge-engine.versioned.ver-column", "ver"}});
    STROM_ASSERT_OK(h.Open());
    bool versioned = std::string(engine) == "versioned";
    Model model;
    for (int b = 0; b < kBatches; ++b) {
      std::vector<KvOp> ops;
      int n = 1 + static_cast<int>(rng() % 5);
      for (int i = 0; i < n; ++i) {
        int32_t key = static_cast<int32_t>(rng() % kKeys);
        if (rng() % 5 == 0) {  // ignored by both engines
          ops.push_back(KvOp::Delete(GenericRow{Datum(key), Datum(), Datum()}));
          continue;
        }
        Datum ver = rng() % 6 == 0 ? Datum() : Datum(static_cast<int64_t>(rng() % 20));
        GenericRow row{Datum(key), ver, Datum("p" + std::to_string(rng() % 1000))};
        ops.push_back(KvOp::Upsert(row));
        auto it = model.find(key);
        if (it == model.end()) {
          model[key] = row;
        } else if (versioned) {
          // Null versions are the smallest; ties go to the new row.
          int64_t old_v = it->second[1].is_null() ? INT64_MIN : it->second[1].as<int64_t>();
          int64_t new_v = ver.is_null() ? INT64_MIN : ver.as<int64_t>();
          if (new_v >= old_v) it->second = row;
        }
      }
      ASSERT_TRUE(h.Put(ops).ok());
      ASSERT_EQ(ByKey(h.State()), model) << "after batch " << b;
    }
    ExpectChangelogMatchesState(h);
    if (!versioned) {
      // first_row's changelog is insert-only.
      for (const auto& c : h.Changelog()) EXPECT_EQ(c.type, record::ChangeType::kInsert);
    }
  }
}

// ---- aggregation: every function, full and partial, with deletes allowed ----

struct AggColumn {
  const char* name;
  DataType type;
  std::optional<AggFunction> function;
};

std::vector<AggColumn> AggColumns() {
  auto f = [](AggFunctionType t, std::vector<std::pair<std::string, std::string>> p = {}) {
    return std::optional<AggFunction>(AggFunction{t, std::move(p)});
  };
  return {
      {"id", DataType::Int(), std::nullopt},
      {"sum", DataType::BigInt(), f(AggFunctionType::kSum)},
      {"product", DataType::Int(), f(AggFunctionType::kProduct)},
      {"max", DataType::Int(), f(AggFunctionType::kMax)},
      {"min", DataType::String(), f(AggFunctionType::kMin)},
      {"last", DataType::String(), f(AggFunctionType::kLastValue)},
      {"last_nn", DataType::String(), f(AggFunctionType::kLastValueIgnoreNulls)},
      {"default", DataType::String(), std::nullopt},  // last_value_ignore_nulls
      {"first", DataType::Int(), f(AggFunctionType::kFirstValue)},
      {"first_nn", DataType::Int(), f(AggFunctionType::kFirstValueIgnoreNulls)},
      {"listagg", DataType::String(), f(AggFunctionType::kListAgg)},
      {"string_agg", DataType::String(), f(AggFunctionType::kStringAgg, {{"delimiter", ";"}})},
      {"bool_and", DataType::Boolean(), f(AggFunctionType::kBoolAnd)},
      {"bool_or", DataType::Boolean(), f(AggFunctionType::kBoolOr)},
      {"rbm32", DataType::Bytes(), f(AggFunctionType::kRbm32)},
      {"dsum", DataType::Decimal(6, 2), f(AggFunctionType::kSum)},
  };
}

// The model of one column's aggregate, written independently of FieldAggregator.
Datum ModelAgg(size_t column, const Datum& acc, const Datum& in) {
  auto keep_non_null = [&]() -> std::optional<Datum> {
    if (acc.is_null()) return in;
    if (in.is_null()) return acc;
    return std::nullopt;
  };
  switch (column) {
    case 0:
    case 5:
      return in;
    case 6:
    case 7:
      return in.is_null() ? acc : in;
    case 8:
    case 9:
      return acc.is_null() ? in : acc;
    default:
      break;
  }
  if (auto d = keep_non_null()) return *d;
  switch (column) {
    case 1:
      return Datum(acc.as<int64_t>() + in.as<int64_t>());
    case 2:
      return Datum(static_cast<int32_t>(static_cast<uint32_t>(acc.as<int32_t>()) *
                                        static_cast<uint32_t>(in.as<int32_t>())));
    case 3:
      return Datum(std::max(acc.as<int32_t>(), in.as<int32_t>()));
    case 4:
      return Datum(std::min(acc.as<std::string>(), in.as<std::string>()));
    case 10:
      return Datum(acc.as<std::string>() + "," + in.as<std::string>());
    case 11:
      return Datum(acc.as<std::string>() + ";" + in.as<std::string>());
    case 12:
      return Datum(acc.as<bool>() && in.as<bool>());
    case 13:
      return Datum(acc.as<bool>() || in.as<bool>());
    case 14: {
      auto a = *RoaringBitmap32Values(acc.as<std::string>());
      auto b = *RoaringBitmap32Values(in.as<std::string>());
      std::set<uint32_t> all(a.begin(), a.end());
      all.insert(b.begin(), b.end());
      std::vector<uint32_t> v(all.begin(), all.end());
      return Datum(RoaringBitmap32Serialize(v));
    }
    case 15: {
      __int128 sum =
          acc.as<record::DecimalValue>().unscaled + in.as<record::DecimalValue>().unscaled;
      if (sum >= 1000000 || sum <= -1000000) return Datum();  // beyond DECIMAL(6, 2)
      return Datum(record::DecimalValue{sum});
    }
  }
  return Datum();
}

// Bitmaps compare by content (the model re-serializes independently).
GenericRow Canonical(GenericRow row) {
  if (row.size() > 14 && !row[14].is_null()) {
    auto values = RoaringBitmap32Values(row[14].as<std::string>());
    EXPECT_TRUE(values.ok());
    std::string s;
    for (uint32_t v : *values) s += std::to_string(v) + " ";
    row[14] = Datum(s);
  }
  return row;
}

TEST(KvModelTest, AggregationEveryFunctionFullAndPartial) {
  std::mt19937_64 rng(strom::testutil::TestSeed());
  std::vector<AggColumn> columns = AggColumns();
  record::Schema::Builder builder;
  for (const auto& c : columns) builder.AddColumn(c.name, c.type, c.function);
  auto schema = builder.PrimaryKey({"id"}).Build();
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  KvHarness h(*schema, {{"table.merge-engine", "aggregation"}, {"table.delete.behavior", "allow"}});
  STROM_ASSERT_OK(h.Open());
  const size_t width = columns.size();
  auto random_value = [&](size_t c) -> Datum {
    if (c != 0 && rng() % 5 == 0) return Datum();
    switch (c) {
      case 1:
        return Datum(static_cast<int64_t>(rng() % 100) - 50);
      case 2:
        return Datum(static_cast<int32_t>(rng() % 7) - 3);
      case 3:
      case 8:
      case 9:
        return Datum(static_cast<int32_t>(rng() % 100));
      case 12:
      case 13:
        return Datum(rng() % 3 != 0);
      case 14: {
        std::vector<uint32_t> v;
        uint32_t base = static_cast<uint32_t>(rng() % 3) * 70000;
        for (int i = 0, n = static_cast<int>(rng() % 5); i < n; ++i) {
          v.push_back(base + static_cast<uint32_t>(rng() % 20));
        }
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
        return Datum(RoaringBitmap32Serialize(v));
      }
      case 15:
        return Datum(record::DecimalValue{static_cast<__int128>(rng() % 600000) - 100000});
      default:
        return Datum("v" + std::to_string(rng() % 30));
    }
  };
  Model model;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<bool> target(width, true);
    PutKvParams params;
    if (rng() % 3 == 0) {
      params.target_columns = std::vector<int32_t>{0};
      for (size_t c = 1; c < width; ++c) {
        target[c] = rng() % 2 == 0;
        if (target[c]) params.target_columns->push_back(static_cast<int32_t>(c));
      }
    }
    std::vector<KvOp> ops;
    int n = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i) {
      int32_t key = static_cast<int32_t>(rng() % kKeys);
      GenericRow row(width);
      row[0] = Datum(key);
      if (rng() % 6 == 0) {
        ops.push_back(KvOp::Delete(row));
        auto it = model.find(key);
        if (it == model.end()) continue;
        if (!params.target_columns) {
          model.erase(it);
          continue;
        }
        bool others = false;
        for (size_t c = 0; c < width; ++c) others |= !target[c] && !it->second[c].is_null();
        if (!others) {
          model.erase(it);
        } else {
          for (size_t c = 1; c < width; ++c) {
            if (target[c]) it->second[c] = Datum();
          }
        }
        continue;
      }
      for (size_t c = 1; c < width; ++c) row[c] = random_value(c);
      ops.push_back(KvOp::Upsert(row));
      auto it = model.find(key);
      if (it == model.end()) {
        // A first write stores the row as sent, non-target columns included (Fluss).
        model[key] = row;
        continue;
      }
      for (size_t c = 0; c < width; ++c) {
        if (target[c]) it->second[c] = ModelAgg(c, it->second[c], row[c]);
      }
    }
    auto put = h.Put(ops, params);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    auto state = ByKey(h.State());
    ASSERT_EQ(state.size(), model.size()) << "after batch " << b;
    for (const auto& [key, row] : model) {
      ASSERT_EQ(Canonical(state[key]), Canonical(row)) << "key " << key << " after batch " << b;
    }
  }
  ExpectChangelogMatchesState(h);
}

}  // namespace
}  // namespace strom::kv
