#pragma once
// The first check of every service that takes a list of operations (Part 4 §7.34): none is
// BadNothingToDo, more than the server's limit is BadTooManyOperations (0: no limit).

#include <cstdint>

#include "core/status_code.h"

namespace castellan::ua {

// False (with the response's service result set) when the request must be answered as it is.
template <class Response, class Items>
bool check_operations(Response& response, const Items& items, std::uint32_t max) {
  if (items.empty()) {
    response.response_header.service_result = status_code::BadNothingToDo;
    return false;
  }
  if (max != 0 && items.size() > max) {
    response.response_header.service_result = status_code::BadTooManyOperations;
    return false;
  }
  return true;
}

}  // namespace castellan::ua
