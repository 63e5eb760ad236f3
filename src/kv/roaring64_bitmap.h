#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

/// 64-bit Roaring bitmaps as Java's `Roaring64Bitmap.serialize(DataOutput)` (RoaringBitmap
/// 1.3, the version Fluss 0.9.1 ships) writes them: what the `rbm64` aggregate of the
/// aggregation merge engine stores in a BYTES column. The codec is Strom's own: the bytes are
/// a dump of Java's adaptive radix tree over the high 48 bits plus its container table, a
/// layout no C or C++ library reads (CRoaring's 64-bit "portable" format is a different one,
/// and Debian's CRoaring 0.2 has no 64-bit bitmaps at all).
///
/// Layout (all integers little-endian; docs in src/kv/README.md "rbm64"):
///   u8 tag (0 = empty, nothing follows; 1 = not empty)
///   i64 key count, then the tree in pre-order: each node is
///     u8 kind (0 Node4, 1 Node16, 2 Node48, 3 Node256, 4 leaf), i16 child count,
///     i8 prefix length, the prefix bytes, then a body: Node4 4 child-key bytes, Node16 16,
///     Node48 256 child-slot bytes, Node256 a 256-bit child mask, a leaf the 6 big-endian
///     bytes of its 48-bit key and an i64 container index (first level << 32 | slot);
///     inner nodes are followed by their children in key order
///   i32 first-level count, per first level: u8 trim mark, i32 slot count, per slot u8 0
///     (empty) or 1 + u8 kind (0 run, 1 bitmap, 2 array) + i32 cardinality + the container
///     (run: u16 run count and (start, length - 1) pairs; bitmap: 1024 u64; array: u16s)
///   i64 container count, i32 last first-level index, i32 last slot index.
///
/// Reading takes every leaf's own key and container, so any tree shape Java's insert and
/// remove histories leave (leaves with prefixes, shrunk nodes, empty slots) reads the same.
/// Writing builds the tree Java's inserts would build for the sorted keys (node kinds by child
/// count) and a dense container table; Java reads it back as exactly the set (checked by
/// tests/interop/java RbmInterop), though its bytes may differ from what Java would write for
/// the same set, as Java's depend on the bitmap's history.
namespace strom::kv {

/// Union of two serialized 64-bit bitmaps, run-optimized and serialized again (Fluss's
/// FieldRoaringBitmap64Agg: deserialize both, `or`, `runOptimize`, `serialize`).
/// kCorruptRecord when either input is not a serialized Roaring64Bitmap.
Result<ByteBuffer> RoaringBitmap64Union(ByteView accumulator, ByteView input);

/// The serialization of the set `values` (any order, duplicates ignored), run-optimized.
ByteBuffer RoaringBitmap64Serialize(std::span<const uint64_t> values);

/// The sorted values (unsigned order) of a serialized bitmap; kCorruptRecord when it is not
/// one.
Result<std::vector<uint64_t>> RoaringBitmap64Values(ByteView serialized);

}  // namespace strom::kv
