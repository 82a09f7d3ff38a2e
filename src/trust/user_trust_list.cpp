#include "trust/user_trust_list.h"

#include "core/files.h"
#include "pki/encoding.h"

namespace castellan::trust {

namespace {

constexpr const char* k_dirs[] = {"trusted/certs", "trusted/crl", "issuers/certs", "issuers/crl"};

// Every parsable certificate (or CRL) in a directory; unreadable files are skipped (the folder
// is the administrator's: one bad file must not lock every user out).
template <class T, class Parse>
void read_all(const std::filesystem::path& dir, std::vector<T>& out, Parse parse) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    auto data = read_file(entry.path());
    if (!data) continue;
    auto items = parse(*data, entry.path().string());
    if (!items) continue;
    for (auto& i : *items) out.push_back(std::move(i));
  }
}

}  // namespace

user_trust_list::user_trust_list(std::filesystem::path folder, const clock& clk)
    : folder_(std::move(folder)), clock_(clk), validator_(make_validator(validation_mode::trusted_ca, {}, nullptr)) {}

result<void> user_trust_list::ensure_layout() const {
  for (const auto* d : k_dirs) {
    std::error_code ec;
    std::filesystem::create_directories(folder_ / d, ec);
    if (ec) return make_error(status_code::BadConfigurationError, "cannot create " + (folder_ / d).string() + ": " + ec.message());
  }
  return {};
}

std::filesystem::file_time_type user_trust_list::newest_change() const {
  std::filesystem::file_time_type newest{};
  for (const auto* d : k_dirs) {
    std::error_code ec;
    const auto t = std::filesystem::last_write_time(folder_ / d, ec);
    if (!ec && t > newest) newest = t;
    for (const auto& entry : std::filesystem::directory_iterator(folder_ / d, ec)) {
      const auto f = entry.last_write_time(ec);
      if (!ec && f > newest) newest = f;
    }
  }
  return newest;
}

std::shared_ptr<const trust_snapshot> user_trust_list::current() {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (snapshot_ && now - checked_ < std::chrono::seconds(1)) return snapshot_;
  checked_ = now;
  const auto changed = newest_change();
  if (snapshot_ && changed == loaded_change_) return snapshot_;
  std::vector<pki::certificate> trusted, issuers;
  std::vector<pki::crl> crls;
  read_all(folder_ / "trusted/certs", trusted, pki::parse_certificates);
  read_all(folder_ / "issuers/certs", issuers, pki::parse_certificates);
  read_all(folder_ / "trusted/crl", crls, pki::parse_crls);
  read_all(folder_ / "issuers/crl", crls, pki::parse_crls);
  snapshot_ = trust_snapshot::build(snapshot_ ? snapshot_->revision + 1 : 1, std::move(trusted), std::move(issuers), std::move(crls));
  loaded_change_ = changed;
  return snapshot_;
}

validation_result user_trust_list::validate(const std::vector<pki::certificate>& chain) {
  validation_request request;
  request.chain = chain;
  request.use = certificate_use::any;
  return validator_->validate(request, *current(), clock_.now());
}

std::size_t user_trust_list::trusted_count() { return current()->trusted.size(); }

}  // namespace castellan::trust
