// CRC-32C throughput: the dispatching entry point, the SSE4.2 path and the table path, for
// a batch-header-sized input, a typical batch and a large segment read.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>

#include "common/crc32c.h"

namespace strom::crc32c {
namespace {

std::string RandomBuffer(size_t n) {
  std::mt19937_64 rng(42);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

template <uint32_t (*kFn)(uint32_t, const uint8_t*, size_t)>
void BM_Crc32c(benchmark::State& state) {
  size_t n = static_cast<size_t>(state.range(0));
  std::string data = RandomBuffer(n);
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  uint32_t crc = 0;
  for (auto _ : state) {
    crc = kFn(crc, p, n);
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
}

uint32_t Dispatch(uint32_t crc, const uint8_t* p, size_t n) { return Extend(crc, p, n); }

void BM_Crc32cHardware(benchmark::State& state) {
  if (!detail::HardwareAvailable()) {
    state.SkipWithError("no SSE4.2 on this CPU");
    return;
  }
  BM_Crc32c<detail::ExtendHardware>(state);
}

BENCHMARK(BM_Crc32c<Dispatch>)->Name("BM_Crc32cValue")->Arg(64)->Arg(4 << 10)->Arg(1 << 20);
BENCHMARK(BM_Crc32cHardware)->Arg(64)->Arg(4 << 10)->Arg(1 << 20);
BENCHMARK(BM_Crc32c<detail::ExtendPortable>)
    ->Name("BM_Crc32cPortable")
    ->Arg(64)
    ->Arg(4 << 10)
    ->Arg(1 << 20);

}  // namespace
}  // namespace strom::crc32c
