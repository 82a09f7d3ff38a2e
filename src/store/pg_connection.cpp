#include "store/pg_connection.h"

namespace castellan::store::pg {

param text(std::string_view s) { return std::string(s); }
param number(std::int64_t n) { return std::to_string(n); }
param epoch(sys_time t) { return number(t.time_since_epoch().count()); }
param epoch(const std::optional<sys_time>& t) { return t ? epoch(*t) : std::nullopt; }
param boolean(bool b) { return std::string(b ? "true" : "false"); }

param bytea(byte_view b) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + 2 * b.size());
  for (const auto byte : b) {
    out.push_back(k_digits[byte >> 4]);
    out.push_back(k_digits[byte & 0x0F]);
  }
  return out;
}

std::int64_t as_int(const pqxx::field& f) { return f.is_null() ? 0 : f.as<std::int64_t>(); }
std::optional<std::int64_t> as_optional_int(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional<std::int64_t>(f.as<std::int64_t>());
}
sys_time as_time(const pqxx::field& f) { return sys_time{std::chrono::seconds{as_int(f)}}; }
std::optional<sys_time> as_optional_time(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional<sys_time>(as_time(f));
}
std::string as_text(const pqxx::field& f) { return f.is_null() ? std::string() : std::string(f.c_str(), f.size()); }
bool as_bool(const pqxx::field& f) {
  const char* v = f.c_str();
  return !f.is_null() && (v[0] == 't' || v[0] == '1');
}

bytes as_blob(const pqxx::field& f) {
  if (f.is_null()) return {};
  const pqxx::binarystring b(f);
  return bytes(b.data(), b.data() + b.size());
}

pqxx::result exec(pqxx::transaction_base& tx, const std::string& sql, const params& values) {
  std::vector<const char*> raw;
  raw.reserve(values.size());
  for (const auto& v : values) raw.push_back(v ? v->c_str() : nullptr);
  return tx.exec_params(sql, pqxx::prepare::make_dynamic_params(raw));
}

namespace {

std::string sqlstate_of(const std::exception& e) {
  if (const auto* s = dynamic_cast<const pqxx::sql_error*>(&e)) return s->sqlstate();
  return {};
}

// libpqxx appends the failing query to some messages; the first line is the sentence.
std::string first_line(const char* what) {
  std::string text = what != nullptr ? what : "";
  if (const auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
  return text;
}

}  // namespace

bool is_retryable(const std::exception& e) {
  if (dynamic_cast<const pqxx::serialization_failure*>(&e) != nullptr) return true;
  if (dynamic_cast<const pqxx::deadlock_detected*>(&e) != nullptr) return true;
  const auto state = sqlstate_of(e);
  return state == "40001" || state == "40P01";
}

bool is_connection_lost(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) return true;
  const auto state = sqlstate_of(e);
  return state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03";
}

error pg_error(const std::exception& e, std::string_view what) {
  std::string message = std::string(what) + ": " + first_line(e.what());
  const auto state = sqlstate_of(e);
  status_code code = status_code::BadInternalError;
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    code = status_code::BadCommunicationError;
    message += " (the connection broke during COMMIT: the change may or may not be stored)";
  } else if (is_connection_lost(e)) {
    code = status_code::BadResourceUnavailable;
    message = std::string(what) + ": the PostgreSQL server is unreachable: " + first_line(e.what());
  } else if (is_retryable(e)) {
    code = status_code::BadResourceUnavailable;
  } else if (state.rfind("23", 0) == 0) {
    code = status_code::BadInvalidState;  // integrity constraint, as SQLite's SQLITE_CONSTRAINT
  } else if (state == "P0001") {
    code = status_code::BadInvalidState;  // raised by our triggers: revoked is final, audit append-only
  } else if (state == "53100") {
    code = status_code::BadOutOfMemory;
    message += " (disk full)";
  } else if (state.rfind("53", 0) == 0) {
    code = status_code::BadResourceUnavailable;
  } else if (state.rfind("28", 0) == 0 || state == "42501") {
    code = status_code::BadUserAccessDenied;
  } else if (state == "25006") {
    code = status_code::BadResourceUnavailable;  // read-only transaction (a standby)
  }
  return make_error(code, std::move(message));
}

std::string redact_conninfo(const std::string& conninfo) {
  std::string out = conninfo;
  // URL form: the password between "user:" and "@".
  if (const auto scheme = out.find("://"); scheme != std::string::npos) {
    const auto at = out.find('@', scheme + 3);
    const auto colon = out.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at) {
      out = out.substr(0, colon + 1) + "***" + out.substr(at);
    }
  }
  // password=… as a URL query parameter or a key=value pair.
  for (std::size_t pos = 0; (pos = out.find("password=", pos)) != std::string::npos;) {
    const auto start = pos + 9;
    auto end = start;
    if (end < out.size() && out[end] == '\'') {
      end = out.find('\'', end + 1);
      end = end == std::string::npos ? out.size() : end + 1;
    } else {
      while (end < out.size() && out[end] != '&' && out[end] != ' ') ++end;
    }
    out = out.substr(0, start) + "***" + out.substr(end);
    pos = start + 3;
  }
  return out;
}

std::string with_parameter(const std::string& conninfo, const std::string& key, const std::string& value) {
  if (conninfo.find(key + "=") != std::string::npos) return conninfo;
  if (conninfo.find("://") != std::string::npos) {
    return conninfo + (conninfo.find('?') == std::string::npos ? "?" : "&") + key + "=" + value;
  }
  return conninfo + (conninfo.empty() ? "" : " ") + key + "=" + value;
}

lease& lease::operator=(lease&& other) noexcept {
  if (this != &other) {
    if (pool_ != nullptr) pool_->give_back(std::move(conn_));
    pool_ = other.pool_;
    conn_ = std::move(other.conn_);
    other.pool_ = nullptr;
  }
  return *this;
}

lease::~lease() {
  // A discarded connection comes back as null: its slot is free for a new one.
  if (pool_ != nullptr) pool_->give_back(std::move(conn_));
}

result<lease> connection_pool::acquire(bool* connect_failed) {
  if (connect_failed != nullptr) *connect_failed = false;
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + wait_;
  for (;;) {
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->is_open()) return lease(this, std::move(conn));
      --open_;  // closed while idle: replace it
      continue;
    }
    if (open_ < size_) {
      ++open_;
      lock.unlock();
      try {
        // Named, so an operator sees castellan's connections in pg_stat_activity.
        auto conn = std::make_unique<pqxx::connection>(with_parameter(conninfo_, "application_name", "castellan"));
        return lease(this, std::move(conn));
      } catch (const std::exception& e) {
        lock.lock();
        --open_;
        freed_.notify_one();
        if (connect_failed != nullptr) *connect_failed = true;
        return pg_error(e, "connect to " + redact_conninfo(conninfo_));
      }
    }
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= size_) {
      return make_error(status_code::BadResourceUnavailable,
                        "all " + std::to_string(size_) + " PostgreSQL connections are busy (waited " +
                            std::to_string(wait_.count()) + " ms)");
    }
  }
}

void connection_pool::give_back(std::unique_ptr<pqxx::connection> conn) {
  std::lock_guard lock(mutex_);
  if (conn && conn->is_open()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
    // A broken connection usually means the server restarted or the network failed: the idle
    // ones are as stale. Close them now rather than let each next caller find out in turn.
    open_ -= idle_.size();
    idle_.clear();
  }
  freed_.notify_all();
}

}  // namespace castellan::store::pg
