#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

/// 32-bit Roaring bitmaps in the portable serialization that Java's RoaringBitmap writes
/// (https://github.com/RoaringBitmap/RoaringFormatSpec): what the `rbm32` aggregate of the
/// aggregation merge engine stores in a BYTES column. Backed by CRoaring (Debian
/// libroaring-dev) for parsing and the union; the portable writer is Strom's own, so each
/// container gets the kind Java's `or` + `runOptimize` would give it (CRoaring breaks the
/// array/run size tie the other way). This file and its .cc are the only users of CRoaring.
namespace strom::kv {

/// Union of two serialized 32-bit bitmaps, run-optimized and serialized again in the portable
/// format (Fluss's FieldRoaringBitmap32Agg: deserialize both, `or`, `runOptimize`,
/// `serialize`). kCorruptRecord when either input is not a valid portable bitmap.
Result<ByteBuffer> RoaringBitmap32Union(ByteView accumulator, ByteView input);

/// The portable serialization of the set `values` (run-optimized), for tests and tools.
ByteBuffer RoaringBitmap32Serialize(std::span<const uint32_t> values);

/// The sorted values of a portable serialized bitmap; kCorruptRecord when it is not one.
Result<std::vector<uint32_t>> RoaringBitmap32Values(ByteView serialized);

}  // namespace strom::kv
