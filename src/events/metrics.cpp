#include "events/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace castellan::events {
namespace {

// Latency buckets in seconds: from a cached read to an Argon2id login and a large import.
constexpr double k_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string number(double v) {
  if (v == static_cast<double>(static_cast<long long>(v)) && v < 1e15 && v > -1e15) return std::to_string(static_cast<long long>(v));
  return fmt::format("{}", v);
}

// Adds one label to rendered label text: {a="1"} + le="0.5" → {a="1",le="0.5"}.
std::string with_label(const std::string& text, const std::string& extra) {
  if (text.empty()) return "{" + extra + "}";
  return text.substr(0, text.size() - 1) + "," + extra + "}";
}

}  // namespace

metrics& metrics::global() {
  static metrics instance;
  return instance;
}

std::string metrics::label_text(const labels& l) {
  if (l.empty()) return "";
  std::string out = "{";
  for (std::size_t i = 0; i < l.size(); ++i) out += (i ? "," : "") + l[i].first + "=\"" + escape(l[i].second) + "\"";
  return out + "}";
}

metrics::family& metrics::family_of(const std::string& name, const char* type) {
  auto& f = families_[name];
  if (f.type == "untyped") f.type = type;
  return f;
}

void metrics::describe(const std::string& name, const std::string& type, const std::string& help) {
  std::lock_guard lock(mutex_);
  auto& f = families_[name];
  if (f.help.empty()) {
    f.type = type;
    f.help = help;
  }
}

void metrics::add(const std::string& name, const labels& l, double amount) {
  std::lock_guard lock(mutex_);
  family_of(name, "counter").by_labels[label_text(l)].value += amount;
}

void metrics::set(const std::string& name, const labels& l, double value) {
  std::lock_guard lock(mutex_);
  family_of(name, "gauge").by_labels[label_text(l)].value = value;
}

void metrics::observe(const std::string& name, const labels& l, double value) {
  std::lock_guard lock(mutex_);
  auto& s = family_of(name, "histogram").by_labels[label_text(l)];
  if (s.buckets.empty()) s.buckets.assign(std::size(k_bounds), 0);
  for (std::size_t i = 0; i < std::size(k_bounds); ++i) {
    if (value <= k_bounds[i]) ++s.buckets[i];
  }
  s.value += value;
  ++s.count;
}

void metrics::on_scrape(std::function<void(metrics&)> collector) {
  std::lock_guard lock(collectors_mutex_);
  collectors_.push_back(std::move(collector));
}

double metrics::value(const std::string& name, const labels& l) {
  std::lock_guard lock(mutex_);
  auto f = families_.find(name);
  if (f == families_.end()) return 0;
  auto s = f->second.by_labels.find(label_text(l));
  if (s == f->second.by_labels.end()) return 0;
  return f->second.type == "histogram" ? static_cast<double>(s->second.count) : s->second.value;
}

std::string metrics::render() {
  {
    std::lock_guard lock(collectors_mutex_);
    for (auto& c : collectors_) c(*this);
  }
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + " " + f.type + "\n";
    for (const auto& [text, s] : f.by_labels) {
      if (f.type != "histogram") {
        out += name + text + " " + number(s.value) + "\n";
        continue;
      }
      for (std::size_t i = 0; i < s.buckets.size(); ++i) {
        out += name + "_bucket" + with_label(text, "le=\"" + number(k_bounds[i]) + "\"") + " " + std::to_string(s.buckets[i]) + "\n";
      }
      out += name + "_bucket" + with_label(text, "le=\"+Inf\"") + " " + std::to_string(s.count) + "\n";
      out += name + "_sum" + text + " " + number(s.value) + "\n";
      out += name + "_count" + text + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

}  // namespace castellan::events
