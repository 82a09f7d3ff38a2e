#pragma once
// The SQLite schema, as numbered migrations. PRAGMA user_version holds the number applied;
// a database newer than this binary is refused rather than guessed at.

#include <span>
#include <string_view>

namespace castellan::store::sqlite {

struct migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

std::span<const migration> migrations();

}  // namespace castellan::store::sqlite
