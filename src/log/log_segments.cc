#include "log/log_segments.h"

namespace strom::log {

void LogSegments::Add(std::unique_ptr<LogSegment> segment) {
  LogOffset base = segment->base_offset();
  segments_[base] = std::move(segment);
}

std::unique_ptr<LogSegment> LogSegments::Remove(LogOffset base_offset) {
  auto it = segments_.find(base_offset);
  if (it == segments_.end()) return nullptr;
  std::unique_ptr<LogSegment> out = std::move(it->second);
  segments_.erase(it);
  return out;
}

LogSegment* LogSegments::Get(LogOffset base_offset) const {
  auto it = segments_.find(base_offset);
  return it == segments_.end() ? nullptr : it->second.get();
}

LogSegment* LogSegments::first() const {
  return segments_.empty() ? nullptr : segments_.begin()->second.get();
}

LogSegment* LogSegments::last() const {
  return segments_.empty() ? nullptr : segments_.rbegin()->second.get();
}

LogSegment* LogSegments::FloorSegment(LogOffset offset) const {
  auto it = segments_.upper_bound(offset);
  if (it == segments_.begin()) return nullptr;
  return std::prev(it)->second.get();
}

LogSegment* LogSegments::HigherSegment(LogOffset offset) const {
  auto it = segments_.upper_bound(offset);
  return it == segments_.end() ? nullptr : it->second.get();
}

LogSegment* LogSegments::LowerSegment(LogOffset offset) const {
  auto it = segments_.lower_bound(offset);
  if (it == segments_.begin()) return nullptr;
  return std::prev(it)->second.get();
}

std::vector<LogSegment*> LogSegments::Values() const {
  std::vector<LogSegment*> out;
  out.reserve(segments_.size());
  for (const auto& [base, segment] : segments_) out.push_back(segment.get());
  return out;
}

std::vector<LogSegment*> LogSegments::Values(LogOffset from, LogOffset to) const {
  std::vector<LogSegment*> out;
  if (from >= to) return out;
  auto it = segments_.upper_bound(from);
  if (it != segments_.begin()) --it;
  for (; it != segments_.end() && it->first < to; ++it) out.push_back(it->second.get());
  return out;
}

std::vector<LogOffset> LogSegments::BaseOffsets() const {
  std::vector<LogOffset> out;
  out.reserve(segments_.size());
  for (const auto& [base, segment] : segments_) out.push_back(base);
  return out;
}

int64_t LogSegments::SizeInBytes() const {
  int64_t total = 0;
  for (const auto& [base, segment] : segments_) total += segment->size();
  return total;
}

}  // namespace strom::log
