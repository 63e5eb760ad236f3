#include "record/datum.h"

#include <cstring>

namespace strom::record {

bool operator==(const ArrayValue& a, const ArrayValue& b) { return a.elements == b.elements; }
bool operator==(const MapValue& a, const MapValue& b) { return a.entries == b.entries; }
bool operator==(const RowValue& a, const RowValue& b) { return a.fields == b.fields; }

bool operator==(const Datum& a, const Datum& b) {
  if (a.v.index() != b.v.index()) return false;
  if (auto* f = std::get_if<float>(&a.v)) {
    float g = std::get<float>(b.v);
    return std::memcmp(f, &g, sizeof(float)) == 0;
  }
  if (auto* d = std::get_if<double>(&a.v)) {
    double e = std::get<double>(b.v);
    return std::memcmp(d, &e, sizeof(double)) == 0;
  }
  return a.v == b.v;
}

}  // namespace strom::record
