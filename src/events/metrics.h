#pragma once
// A small metrics registry for /metrics in the Prometheus text format (version 0.0.4):
// counters, gauges and histograms with labels. No external library: castellan exposes a few
// dozen series, and the exposition format is simple.
//
// One registry per process (metrics::global()), as Prometheus client libraries do, so a
// service can count what it decides without every constructor taking one more argument.

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace castellan::events {

using labels = std::vector<std::pair<std::string, std::string>>;

class metrics {
 public:
  static metrics& global();

  // Declares a family once (later calls are ignored); type: "counter", "gauge" or "histogram".
  void describe(const std::string& name, const std::string& type, const std::string& help);

  void add(const std::string& name, const labels& l = {}, double amount = 1);   // counter
  void set(const std::string& name, const labels& l, double value);             // gauge
  void observe(const std::string& name, const labels& l, double value);         // histogram
  // Called at every scrape, before rendering: for gauges read from elsewhere (list sizes, …).
  void on_scrape(std::function<void(metrics&)> collector);

  std::string render();

  // The value of one series (tests): a counter or gauge, or a histogram's count.
  double value(const std::string& name, const labels& l = {});

 private:
  struct series {
    double value = 0;                 // counter, gauge; histogram: sum
    std::vector<std::uint64_t> buckets;  // histogram: cumulative counts per bound
    std::uint64_t count = 0;
  };
  struct family {
    std::string type = "untyped";
    std::string help;
    std::map<std::string, series> by_labels;  // rendered label text → series
  };
  static std::string label_text(const labels& l);
  family& family_of(const std::string& name, const char* type);

  std::mutex mutex_;
  std::map<std::string, family> families_;
  std::vector<std::function<void(metrics&)>> collectors_;
  std::mutex collectors_mutex_;
};

}  // namespace castellan::events
