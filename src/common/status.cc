#include "common/status.h"

namespace strom {

namespace {
const std::string& EmptyString() {
  static const std::string* empty = new std::string();
  return *empty;
}
}  // namespace

Status::Status(ErrorCode code, std::string message) {
  if (code != ErrorCode::kNone) {
    state_ = std::make_unique<State>(State{code, std::move(message)});
  }
}

Status::Status(const Status& other)
    : state_(other.state_ ? std::make_unique<State>(*other.state_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) {
    state_ = other.state_ ? std::make_unique<State>(*other.state_) : nullptr;
  }
  return *this;
}

const std::string& Status::message() const { return state_ ? state_->message : EmptyString(); }

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(ErrorCodeName(state_->code));
  if (!state_->message.empty()) {
    out += ": ";
    out += state_->message;
  }
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return Status();
  return Status(state_->code, fmt::format("{}: {}", context, state_->message));
}

}  // namespace strom
