#include "kv/auto_increment.h"

namespace strom::kv {

Result<int64_t> AutoIncrementAllocator::NextValue() {
  if (next_ > end_) {
    if (counter_ == nullptr) {
      return MakeError(ErrorCode::kUnknownServerError, "no id counter for auto-increment column {}",
                       column_name_);
    }
    auto start = counter_->GetAndAdd(cache_size_);
    if (!start.ok()) {
      return MakeError(ErrorCode::kUnknownServerError,
                       "Failed to fetch auto-increment values, column_name={}: {}", column_name_,
                       start.status().ToString());
    }
    // The counter starts at 0 but ids start at 1.
    next_ = *start + 1;
    end_ = *start + cache_size_;
  }
  int64_t id = next_++;
  if (id > max_value_) {
    return MakeError(ErrorCode::kUnknownServerError,
                     "Reached maximum value of sequence \"<{}>\" ({}).", column_name_, max_value_);
  }
  return id;
}

}  // namespace strom::kv
