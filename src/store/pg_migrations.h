#pragma once
// The PostgreSQL schema, version by version: the same versions and tables as the SQLite
// migrations (sqlite_migrations.cpp), in PostgreSQL's dialect. Times are BIGINT seconds since
// the epoch and text compares byte by byte (COLLATE "C"), as in SQLite, so a copied store
// lists in the same order. The change feed is NOTIFY on the channel k_change_channel instead
// of SQLite's registry_changes table.

#include <span>
#include <string_view>

#include "store/sqlite_migrations.h"

namespace castellan::store::pg {

inline constexpr std::string_view k_change_channel = "castellan_changes";

std::span<const sqlite::migration> migrations();

}  // namespace castellan::store::pg
