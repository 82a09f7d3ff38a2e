#pragma once
// result<T>: a value or an error (a StatusCode and a sentence for the person reading it).
// std::expected arrives with C++23; this is the small subset castellan uses.

#include <string>
#include <utility>
#include <variant>

#include "core/status_code.h"

namespace castellan {

struct error {
  status_code code = status_code::BadUnexpectedError;
  std::string message;
};

// Builds an error; the message should name the thing (file, thumbprint, field) at fault.
inline error make_error(status_code code, std::string message) {
  return error{code, std::move(message)};
}

template <typename T>
class [[nodiscard]] result {
 public:
  result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  result(error err) : state_(std::in_place_index<1>, std::move(err)) {}  // NOLINT

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const error& err() const& { return std::get<1>(state_); }
  error&& err() && { return std::get<1>(std::move(state_)); }
  status_code code() const { return ok() ? status_code::Good : err().code; }

 private:
  std::variant<T, error> state_;
};

template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(error err) : err_(std::move(err)), failed_(true) {}  // NOLINT: implicit on purpose

  bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }
  const error& err() const& { return err_; }
  error&& err() && { return std::move(err_); }
  status_code code() const { return failed_ ? err_.code : status_code::Good; }

 private:
  error err_{};
  bool failed_ = false;
};

}  // namespace castellan
