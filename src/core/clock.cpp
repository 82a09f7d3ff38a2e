#include "core/clock.h"

#include <cstdio>
#include <ctime>

namespace castellan {

std::string format_time(sys_time t) {
  // Seconds straight into time_t: system_clock counts nanoseconds, which overflow past 2262,
  // and a date from a token, a certificate or a file may lie anywhere.
  const std::time_t tt = static_cast<std::time_t>(t.time_since_epoch().count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

bool parse_time(const std::string& text, sys_time& out_time) {
  std::tm tm{};
  int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0;
  char z = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &year, &mon, &day, &hour, &min, &sec, &z) != 7 ||
      z != 'Z') {
    return false;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  const std::time_t tt = timegm(&tm);
  if (tt == static_cast<std::time_t>(-1)) {
    return false;
  }
  out_time = sys_time(std::chrono::seconds(tt));  // not through system_clock's nanoseconds (see above)
  return true;
}

}  // namespace castellan
