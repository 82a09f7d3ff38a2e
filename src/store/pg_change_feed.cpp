#include "store/pg_change_feed.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "store/pg_connection.h"
#include "store/pg_migrations.h"

namespace castellan::store::pg {
namespace {

// More entries than this and a reader that fell behind drops its whole cache instead.
constexpr std::size_t k_journal_limit = 100'000;
// How often the listening connection is checked when no notification comes.
constexpr auto k_keepalive = std::chrono::seconds(2);

class receiver final : public pqxx::notification_receiver {
 public:
  receiver(pqxx::connection_base& conn, change_feed& feed)
      : pqxx::notification_receiver(conn, std::string(k_change_channel)), feed_(feed) {}
  void operator()(const std::string& payload, int /*backend_pid*/) override { feed_.handle(payload); }

 private:
  change_feed& feed_;
};

std::uint64_t parse_revision(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() ? value : 0;
}

}  // namespace

change_feed::change_feed(std::string conninfo)
    : conninfo_(with_parameter(conninfo, "application_name", "castellan-change-feed")) {}

void change_feed::start(std::chrono::milliseconds wait) {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (!listening() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void change_feed::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  listening_.store(false, std::memory_order_release);
}

void change_feed::run() {
  auto backoff = std::chrono::milliseconds(50);
  bool was_listening = false;
  for (;;) {
    {
      std::lock_guard lock(stop_mutex_);
      if (stopping_) return;
    }
    try {
      pqxx::connection conn(conninfo_);
      receiver listen(conn, *this);  // issues LISTEN
      const int backend = conn.backendpid();
      {
        // Read after LISTEN: a change committed from here on is either in this read or in a
        // notification still to come. Everything before may have been missed: drop it all.
        pqxx::nontransaction read(conn);
        const auto rows = read.exec("SELECT value FROM meta WHERE key = 'trust_revision'");
        if (!rows.empty()) note_trust_revision(static_cast<std::uint64_t>(as_int(rows[0][0])));
      }
      everything_changed();
      users_revision_.fetch_add(1, std::memory_order_acq_rel);
      listening_.store(true, std::memory_order_release);
      if (was_listening) {
        reconnects_.fetch_add(1, std::memory_order_relaxed);
        spdlog::info("store: change feed listening again after a reconnect; caches refreshed");
      }
      was_listening = true;
      backoff = std::chrono::milliseconds(50);
      auto next_check = std::chrono::steady_clock::now() + k_keepalive;
      for (;;) {
        {
          std::lock_guard lock(stop_mutex_);
          if (stopping_) return;
        }
        // Short waits: notifications are handled as they come, and stop() is heard quickly.
        conn.await_notification(0, 100'000);
        if (std::chrono::steady_clock::now() >= next_check) {
          pqxx::nontransaction ping(conn);
          ping.exec("SELECT 1");
          // libpqxx may reconnect by itself; a new backend has not been listening all along.
          if (!conn.is_open() || conn.backendpid() != backend) throw pqxx::broken_connection("listening connection replaced");
          next_check = std::chrono::steady_clock::now() + k_keepalive;
        }
      }
    } catch (const std::exception& e) {
      if (listening_.exchange(false, std::memory_order_acq_rel)) {
        // Never the connection string: it may carry a password.
        spdlog::warn("store: change feed lost its connection ({}); deciding from the database until it is back",
                     pg_error(e, "listen").message);
      }
      everything_changed();
    }
    std::unique_lock lock(stop_mutex_);
    if (stop_cv_.wait_for(lock, backoff, [this] { return stopping_; })) return;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

void change_feed::handle(const std::string& payload) {
  notifications_.fetch_add(1, std::memory_order_relaxed);
  const std::string_view p(payload);
  const auto space = p.find(' ');
  const auto kind = p.substr(0, space);
  const auto rest = space == std::string_view::npos ? std::string_view() : p.substr(space + 1);
  if (kind == "trust") {
    note_trust_revision(parse_revision(rest));
  } else if (kind == "device") {
    const auto second = rest.find(' ');
    note_device(std::string(rest.substr(0, second)),
                second == std::string_view::npos ? std::string() : std::string(rest.substr(second + 1)));
  } else if (kind == "ca") {
    note_ca(std::string(rest));
  } else if (kind == "users" || kind == "token") {
    users_revision_.fetch_add(1, std::memory_order_acq_rel);
  } else {
    // A payload this version does not know (a newer node?): assume the worst.
    everything_changed();
  }
}

void change_feed::note_trust_revision(std::uint64_t revision) {
  auto current = trust_revision_.load(std::memory_order_acquire);
  while (revision > current && !trust_revision_.compare_exchange_weak(current, revision, std::memory_order_acq_rel)) {
  }
}

void change_feed::push(entry e) {
  e.sequence = ++sequence_;
  journal_.push_back(std::move(e));
  while (journal_.size() > k_journal_limit) {
    floor_ = journal_.front().sequence;
    journal_.pop_front();
  }
}

void change_feed::note_device(const std::string& device_id, const std::string& ca_id) {
  std::lock_guard lock(mutex_);
  push({0, device_id, ca_id, false});
}

void change_feed::note_ca(const std::string& ca_id) {
  std::lock_guard lock(mutex_);
  push({0, "", ca_id, false});
}

void change_feed::everything_changed() {
  std::lock_guard lock(mutex_);
  push({0, "", "", true});
}

std::uint64_t change_feed::registry_revision() {
  if (!listening()) everything_changed();
  std::lock_guard lock(mutex_);
  return sequence_;
}

registry_change_set change_feed::changes_since(std::uint64_t revision) {
  std::lock_guard lock(mutex_);
  registry_change_set out;
  out.revision = sequence_;
  if (revision < floor_ || journal_.empty()) {
    out.too_many = revision < floor_;
    return out;
  }
  const auto first = journal_.front().sequence;
  const std::size_t start = revision < first ? 0 : static_cast<std::size_t>(revision - first + 1);
  for (std::size_t i = start; i < journal_.size(); ++i) {
    const auto& e = journal_[i];
    if (e.everything) {
      out.too_many = true;
      out.device_ids.clear();
      out.ca_ids.clear();
      return out;
    }
    if (!e.device_id.empty()) {
      out.device_ids.push_back(e.device_id);
    } else {
      out.ca_ids.push_back(e.ca_id);
    }
  }
  return out;
}

}  // namespace castellan::store::pg
