// `castellan ua …`: a small OPC UA client for operators and tests (endpoints, read), and
// `castellan bench opcua`: connects and Reads against any OPC UA server, reporting rates,
// latencies and — when the server runs on this machine — its CPU seconds and memory.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "app/authz_client.h"
#include "app/cli_context.h"
#include "app/fd_limit.h"
#include "app/own_certificate.h"
#include "app/ua_client_options.h"
#include "core/files.h"
#include "pki/builder.h"
#include "pki/encoding.h"
#include "ua/client/ua_client.h"

namespace castellan::app {

namespace {

// A self-signed application instance certificate for the client side: a throwaway one for the
// bench, a kept one for `ua read`.
struct client_identity {
  pki::private_key key;
  pki::certificate cert;
};
result<client_identity> make_client_identity(const std::string& application_uri, const std::string& common_name = "castellan bench client",
                                             int days = 30) {
  auto key = pki::private_key::generate(pki::key_spec::rsa2048);
  if (!key) return key.err();
  pki::subject_fields subject;
  subject.common_name = common_name;
  auto profile = pki::application_instance_profile(application_uri, {host_name()}, subject,
                                                   std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()), days);
  auto cert = pki::build_certificate(profile, key->native(), nullptr, *key);
  if (!cert) return cert.err();
  return client_identity{std::move(*key), std::move(*cert)};
}

struct process_sample {
  double cpu_seconds = 0;
  long rss_kib = 0;
  bool ok = false;
};
process_sample sample_process(int pid) {
  process_sample s;
  if (pid <= 0) return s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return s;
  // Fields after the command name (which may contain spaces) start after the last ')'.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  unsigned long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoul(field);
    if (i == 15) stime = std::stoul(field);
  }
  s.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) s.rss_kib = std::stol(line.substr(6));
  }
  s.ok = true;
  return s;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

struct bench_options {
  std::string url;
  int clients = 8;
  double seconds = 10;
  std::string policy = "Basic256Sha256";
  std::string mode = "SignAndEncrypt";
  int server_pid = 0;
  std::string user;
  std::string password;
  int idle_sessions = 0;
  // How long the idle sessions are held (each reads every 10 s meanwhile): a soak holds a
  // standing population this way.
  double hold_seconds = 5;
  bool trust_client = true;
  // Phase 2's operation: "read" (Server_ServerStatus_CurrentTime) or "token" (implicit-use
  // RequestAccessToken on Objects/AuthorizationServices/<service>, Part 12 §9.6.5).
  std::string operation = "read";
  std::string service = "default";
  std::string resource;  // default: the server's ApplicationUri
  // A full connect is OpenSecureChannel + CreateSession + ActivateSession; clients keep the
  // server's endpoints between connections. With this set, each connect asks GetEndpoints
  // first, over its own None connection, as a client with no endpoint cache does.
  bool discover_each_connect = false;
};

// The one Call of the "token" operation, built once per client.
result<ua::call_method_request> token_request(ua::ua_client& client, const bench_options& b) {
  auto endpoint = find_authorization_endpoint(client, b.resource);
  if (!endpoint) return endpoint.err();
  ua::call_method_request m;
  m.object_id = ua::node_id(1, "authz/" + b.service);
  m.method_id = ua::node_id(endpoint->gds_namespace, std::uint32_t{969});  // AuthorizationServiceType.RequestAccessToken
  m.input_arguments = {ua::variant{}, ua::variant::scalar(endpoint->resource)};
  return m;
}

// One full connect: channel, session, activation.
result<void> open_session(ua::ua_client& client, const ua::client_options& options, const bench_options& b,
                          double session_timeout_ms = 120'000) {
  if (auto c = client.connect(options); !c) return c;
  if (auto s = client.create_session("bench", session_timeout_ms); !s) return s.err();
  if (!b.user.empty()) return client.activate_user(b.user, b.password);
  return client.activate_anonymous();
}

int run_bench(cli_context& ctx, const bench_options& b) {
  auto mode = parse_mode(b.mode);
  if (!mode) return ctx.fail(mode.err());
  const std::string application_uri = "urn:castellan:bench";
  auto identity = make_client_identity(application_uri);
  if (!identity) return ctx.fail(identity.err());
  if (b.trust_client && *mode != ua::security_mode::none) {
    // The bench runs next to the server it measures: it trusts its own certificate there.
    auto t = ctx.trust();
    if (!t) return ctx.fail(t.err());
    const auto pem = identity->cert.to_pem();
    auto added = (*t)->add({trust::named_input{"bench client", bytes(pem.begin(), pem.end())}}, store::trust_state::trusted, ctx.who());
    if (!added) return ctx.fail(added.err());
  }
  ua::client_options options;
  options.url = b.url;
  options.policy_uri = *mode == ua::security_mode::none ? ua::policy_none_uri : policy_uri(b.policy);
  options.mode = *mode;
  options.certificate = &identity->cert;
  options.key = &identity->key;
  options.application_uri = application_uri;
  if (!b.discover_each_connect && *mode != ua::security_mode::none) {
    auto endpoints = ua::ua_client::get_endpoints(b.url, options.timeout);
    if (!endpoints) return ctx.fail(endpoints.err());
    options.known_endpoints = std::move(*endpoints);
  }

  const auto phase = std::chrono::duration<double>(b.seconds / 2);
  std::mutex merge;
  std::vector<double> connect_ms, read_ms;
  std::atomic<long> connect_errors{0}, read_errors{0};
  status_code first_error = status_code::Good;
  std::string first_error_text;
  auto note_error = [&](const error& e) {
    std::lock_guard lock(merge);
    if (first_error == status_code::Good) {
      first_error = e.code;
      first_error_text = e.message;
    }
  };

  // Phase 1: full connects (channel + session + activation), closed again.
  const auto before_connects = sample_process(b.server_pid);
  auto t0 = std::chrono::steady_clock::now();
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < b.clients; ++i) {
      threads.emplace_back([&] {
        std::vector<double> mine;
        const auto end = std::chrono::steady_clock::now() + phase;
        while (std::chrono::steady_clock::now() < end) {
          ua::ua_client client;
          const auto start = std::chrono::steady_clock::now();
          auto opened = open_session(client, options, b);
          if (!opened) {
            ++connect_errors;
            note_error(opened.err());
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
          }
          mine.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
          (void)client.close_session();
          client.disconnect();
        }
        std::lock_guard lock(merge);
        connect_ms.insert(connect_ms.end(), mine.begin(), mine.end());
      });
    }
    for (auto& t : threads) t.join();
  }
  const double connect_elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto after_connects = sample_process(b.server_pid);

  // Phase 2: one session per client, Read in a loop.
  std::vector<std::unique_ptr<ua::ua_client>> sessions;
  for (int i = 0; i < b.clients; ++i) {
    auto c = std::make_unique<ua::ua_client>();
    if (auto opened = open_session(*c, options, b); !opened) return ctx.fail(opened.err());
    sessions.push_back(std::move(c));
  }
  ua::read_value_id current_time;
  current_time.node_id = ua::node_id::numeric(2258);
  current_time.attribute_id = 13;
  const bool tokens = b.operation == "token";
  std::vector<ua::call_method_request> token_calls;
  if (tokens) {
    for (auto& session : sessions) {
      auto call = token_request(*session, b);
      if (!call) return ctx.fail(call.err());
      token_calls.push_back(std::move(*call));
    }
  }
  const auto before_reads = sample_process(b.server_pid);
  t0 = std::chrono::steady_clock::now();
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < b.clients; ++i) {
      threads.emplace_back([&, i] {
        std::vector<double> mine;
        const auto end = std::chrono::steady_clock::now() + phase;
        while (std::chrono::steady_clock::now() < end) {
          const auto start = std::chrono::steady_clock::now();
          auto& session = *sessions[static_cast<std::size_t>(i)];
          result<void> r;
          if (tokens) {
            auto called = session.call({token_calls[static_cast<std::size_t>(i)]});
            if (!called) {
              r = called.err();
            } else if (called->results.empty() || !is_good(called->results.front().status_code)) {
              r = make_error(called->results.empty() ? status_code::BadUnexpectedError : called->results.front().status_code,
                             "RequestAccessToken");
            }
          } else if (auto read = session.read({current_time}); !read) {
            r = read.err();
          }
          if (!r) {
            ++read_errors;
            note_error(r.err());
            break;
          }
          mine.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
        }
        std::lock_guard lock(merge);
        read_ms.insert(read_ms.end(), mine.begin(), mine.end());
      });
    }
    for (auto& t : threads) t.join();
  }
  const double read_elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto after_reads = sample_process(b.server_pid);
  for (auto& s : sessions) {
    (void)s->close_session();
    s->disconnect();
  }

  // Phase 3 (optional): idle sessions, each on its own secure channel, held open. A few threads
  // with one event loop each open them, so a session costs the bench one file descriptor (its
  // socket); the endpoints are fetched once instead of over a discovery connection per session.
  nlohmann::json idle_out;
  long idle_rss_delta = 0;
  int idle_opened = 0;
  std::atomic<long> idle_read_errors{0};
  if (b.idle_sessions > 0) {
    const auto fds = raise_fd_limit();
    if (fds.soft < static_cast<std::uint64_t>(b.idle_sessions) + 64) {
      std::cerr << "warning: open-file limit " << fds.soft << " is below --idle-sessions + 64; raise ulimit -n\n";
    }
    auto endpoints = ua::ua_client::get_endpoints(b.url, options.timeout);
    if (!endpoints) return ctx.fail(endpoints.err());
    ua::client_options idle_options = options;
    idle_options.known_endpoints = std::move(*endpoints);
    const auto workers = static_cast<std::size_t>(std::clamp(b.clients, 1, 4));
    std::vector<std::unique_ptr<ua::client_io>> loops;  // declared before the clients: outlives them
    for (std::size_t w = 0; w < workers; ++w) loops.push_back(std::make_unique<ua::client_io>());
    std::vector<std::vector<std::unique_ptr<ua::ua_client>>> held(workers);
    std::atomic<int> next{0};
    std::atomic<bool> stop{false};
    // One thread per loop; each client is only ever used by the thread of its loop.
    auto on_each_loop = [&](const std::function<void(std::size_t)>& work) {
      std::vector<std::thread> threads;
      for (std::size_t w = 0; w < workers; ++w) threads.emplace_back([&work, w] { work(w); });
      for (auto& t : threads) t.join();
    };
    const auto before_idle = sample_process(b.server_pid);
    t0 = std::chrono::steady_clock::now();
    // A channel's security token lasts ten minutes (renewed at 75 %), and a server closes the
    // channel when it expires unused: when opening takes long (a slow server), the sessions
    // already held read once a minute, which renews their tokens.
    const auto refresh_every = std::chrono::seconds(60);
    on_each_loop([&](std::size_t w) {
      auto refreshed = std::chrono::steady_clock::now();
      while (!stop && next.fetch_add(1) < b.idle_sessions) {
        if (std::chrono::steady_clock::now() - refreshed > refresh_every) {
          for (auto& c : held[w]) (void)c->read({current_time});
          refreshed = std::chrono::steady_clock::now();
        }
        auto c = std::make_unique<ua::ua_client>(*loops[w]);
        // The longest timeout the server grants: opening 10,000 takes a while on a busy machine.
        if (auto opened = open_session(*c, idle_options, b, 3'600'000); !opened) {
          note_error(opened.err());
          stop = true;
          break;
        }
        held[w].push_back(std::move(c));
      }
    });
    const double open_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::size_t opened = 0;
    for (const auto& h : held) opened += h.size();
    idle_opened = static_cast<int>(opened);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto after_open = sample_process(b.server_pid);
    idle_rss_delta = after_open.rss_kib - before_idle.rss_kib;
    // Held: what the server spends on sessions that only read CurrentTime every 10 s — well
    // inside the session timeout, and often enough to renew their channel tokens — so a long
    // hold (a soak) keeps its population alive instead of watching it expire.
    const auto hold_end = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(b.hold_seconds));
    for (;;) {
      const auto tick = std::min(hold_end, std::chrono::steady_clock::now() + std::chrono::seconds(10));
      std::this_thread::sleep_until(tick);
      if (tick == hold_end) break;
      on_each_loop([&](std::size_t w) {
        for (auto& c : held[w]) {
          if (auto read = c->read({current_time}); !read) {
            ++idle_read_errors;
            note_error(read.err());
          }
        }
      });
    }
    const auto after_hold = sample_process(b.server_pid);
    // Still held? Every session reads once; a session the server dropped fails here.
    std::atomic<long> alive{0};
    t0 = std::chrono::steady_clock::now();
    on_each_loop([&](std::size_t w) {
      for (auto& c : held[w]) {
        if (c->read({current_time})) {
          ++alive;
        }
      }
    });
    const double check_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    on_each_loop([&](std::size_t w) {
      for (auto& c : held[w]) {
        (void)c->close_session();  // else the server keeps it for its timeout (an hour)
        c->disconnect();
      }
      held[w].clear();
    });
    idle_out["idle_sessions_opened"] = idle_opened;
    idle_out["idle_open_seconds"] = open_seconds;
    idle_out["idle_sessions_per_second"] = open_seconds > 0 ? static_cast<double>(opened) / open_seconds : 0;
    idle_out["idle_sessions_alive_after_hold"] = alive.load();
    idle_out["idle_hold_seconds"] = b.hold_seconds;
    idle_out["idle_check_reads_per_second"] = check_seconds > 0 ? static_cast<double>(alive.load()) / check_seconds : 0;
    idle_out["client_open_files_limit"] = fds.soft;
    if (after_hold.ok) {
      idle_out["server_rss_kib_with_idle_sessions"] = after_open.rss_kib;
      idle_out["server_cpu_ms_per_idle_open"] =
          opened > 0 ? (after_open.cpu_seconds - before_idle.cpu_seconds) * 1000 / static_cast<double>(opened) : 0;
      idle_out["server_cpu_percent_while_held"] =
          b.hold_seconds > 0 ? (after_hold.cpu_seconds - after_open.cpu_seconds) * 100 / b.hold_seconds : 0;
    }
  }

  nlohmann::json out;
  out["url"] = b.url;
  out["policy"] = b.policy;
  out["mode"] = b.mode;
  out["clients"] = b.clients;
  const double connects = static_cast<double>(connect_ms.size());
  const double reads = static_cast<double>(read_ms.size());
  out["connects"] = connect_ms.size();
  out["discover_each_connect"] = b.discover_each_connect;
  out["connects_per_second"] = connects / connect_elapsed;
  out["connect_ms_p50"] = percentile(connect_ms, 0.50);
  out["connect_ms_p99"] = percentile(connect_ms, 0.99);
  out["connect_errors"] = connect_errors.load();
  // Phase 2's counts keep the "read" names whatever the operation; "operation" says which.
  out["operation"] = b.operation;
  out["reads"] = read_ms.size();
  out["reads_per_second"] = reads / read_elapsed;
  out["read_us_p50"] = percentile(read_ms, 0.50);
  out["read_us_p99"] = percentile(read_ms, 0.99);
  out["read_errors"] = read_errors.load();
  if (after_reads.ok) {
    out["server_cpu_ms_per_connect"] = connects > 0 ? (after_connects.cpu_seconds - before_connects.cpu_seconds) * 1000 / connects : 0;
    out["server_cpu_us_per_read"] = reads > 0 ? (after_reads.cpu_seconds - before_reads.cpu_seconds) * 1e6 / reads : 0;
    out["server_rss_kib"] = after_reads.rss_kib;
  }
  if (b.idle_sessions > 0) {
    out.update(idle_out);
    out["server_rss_kib_per_idle_session"] = idle_opened > 0 ? static_cast<double>(idle_rss_delta) / idle_opened : 0;
    out["idle_read_errors"] = idle_read_errors.load();
  }
  if (first_error != status_code::Good) out["first_error"] = std::string(status_name(first_error)) + ": " + first_error_text;
  if (ctx.json()) {
    ctx.print(out);
  } else {
    std::cout << out.dump(2) << "\n";
  }
  return connect_ms.empty() || read_ms.empty() ? 1 : 0;
}

struct read_options {
  std::string url;
  std::string reverse_listen;  // HOST:PORT: wait for the server to dial in instead
  std::string server_uri;      // with --reverse-listen: accept only this server
  std::vector<std::string> nodes;
  std::string policy = "Basic256Sha256";
  std::string mode = "SignAndEncrypt";
  std::string cert = "castellan-client.pem";
  std::string key = "castellan-client.key.pem";
  std::string application_uri;  // for a new certificate; default urn:<host>:castellan:client
  std::string server_cert;
  std::string user;
  std::string password;
  double timeout_seconds = 30;
};

// The client's certificate and key from their files, made (self-signed, a year) when neither
// exists yet, so that the server keeps seeing the same client: rejected once, then approved.
result<client_identity> load_or_make_client_identity(const read_options& o) {
  namespace fs = std::filesystem;
  const bool have_cert = fs::exists(o.cert);
  if (have_cert != fs::exists(o.key)) {
    return make_error(status_code::BadConfigurationError, "--cert " + o.cert + " and --key " + o.key + ": one exists without the other");
  }
  if (have_cert) {
    auto pair = load_pair(o.cert, o.key);
    if (!pair) return pair.err();
    return client_identity{std::move(pair->key), std::move(pair->cert)};
  }
  const auto uri = o.application_uri.empty() ? "urn:" + host_name() + ":castellan:client" : o.application_uri;
  auto made = make_client_identity(uri, "castellan ua client", 365);
  if (!made) return made.err();
  if (auto written = write_pair(made->cert, made->key, o.cert, o.key); !written) return written.err();
  std::cerr << "made the client certificate " << o.cert << " (" << made->cert.thumbprint() << ", " << uri << ")\n";
  return made;
}

// "HOST:PORT" or "[IPv6]:PORT".
result<std::pair<std::string, std::string>> split_host_port(const std::string& text) {
  auto url = ua::split_opc_tcp_url("opc.tcp://" + text);
  if (!url || text.find(':') == std::string::npos) {
    return make_error(status_code::BadConfigurationError, "--reverse-listen wants HOST:PORT, not '" + text + "'");
  }
  return url;
}

std::string date_time_text(ua::date_time t) {
  // OPC UA DateTime: 100 ns ticks since 1601-01-01 UTC; shown to the millisecond.
  constexpr std::int64_t ticks_1601_to_1970 = 116'444'736'000'000'000;
  const auto ms = (t.ticks - ticks_1601_to_1970) / 10'000;
  const auto seconds = sys_time(std::chrono::seconds(ms / 1000 - (ms % 1000 < 0 ? 1 : 0)));
  auto text = format_time(seconds);  // …Z
  char fraction[8];
  std::snprintf(fraction, sizeof fraction, ".%03d", static_cast<int>((ms % 1000 + 1000) % 1000));
  return text.insert(text.size() - 1, fraction);
}

// Part 6 Table 1's names, by builtin type id (a variant_value's index).
std::string builtin_type_name(std::size_t id) {
  static constexpr const char* names[] = {"Null", "Boolean", "SByte", "Byte", "Int16", "UInt16", "Int32", "UInt32", "Int64",
                                          "UInt64", "Float", "Double", "String", "DateTime", "Guid", "ByteString",
                                          "XmlElement", "NodeId", "ExpandedNodeId", "StatusCode", "QualifiedName",
                                          "LocalizedText", "ExtensionObject", "DataValue", "Variant", "DiagnosticInfo"};
  return id < std::size(names) ? names[id] : "BuiltinType" + std::to_string(id);
}

// A Variant's value as JSON: numbers, strings and booleans as they are; the rest as text.
nlohmann::json value_json(const ua::variant_value& v) {
  return std::visit(
      [&v](const auto& x) -> nlohmann::json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return nullptr;
        } else if constexpr (std::is_arithmetic_v<T> || std::is_same_v<T, std::string>) {
          return x;
        } else if constexpr (std::is_same_v<T, ua::date_time>) {
          return date_time_text(x);
        } else if constexpr (std::is_same_v<T, ua::node_id>) {
          return x.to_string();
        } else if constexpr (std::is_same_v<T, status_code>) {
          return std::string(status_name(x));
        } else if constexpr (std::is_same_v<T, ua::localized_text>) {
          return x.text;
        } else if constexpr (std::is_same_v<T, ua::qualified_name>) {
          return x.name;
        } else if constexpr (std::is_same_v<T, bytes>) {
          return to_hex(x);
        } else {
          return "(" + builtin_type_name(v.index()) + ")";
        }
      },
      v);
}

nlohmann::json variant_json(const ua::variant& v) {
  if (!v.is_array) return v.values.empty() ? nlohmann::json(nullptr) : value_json(v.values.front());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : v.values) out.push_back(value_json(item));
  return out;
}

int run_read(cli_context& ctx, const read_options& o) {
  auto mode = parse_mode(o.mode);
  if (!mode) return ctx.fail(mode.err());
  if (o.url.empty() == o.reverse_listen.empty()) {
    return ctx.fail(make_error(status_code::BadInvalidArgument, "give --url (dial the server) or --reverse-listen (the server dials in)"));
  }
  if (!o.server_uri.empty() && o.reverse_listen.empty()) {
    return ctx.fail(make_error(status_code::BadInvalidArgument, "--server-uri checks a ReverseHello: it needs --reverse-listen"));
  }
  std::vector<ua::read_value_id> nodes;
  for (const auto& text : o.nodes.empty() ? std::vector<std::string>{"i=2258"} : o.nodes) {
    auto id = ua::node_id::parse(text);
    if (!id) return ctx.fail(id.err());
    ua::read_value_id r;
    r.node_id = std::move(*id);
    r.attribute_id = 13;  // Value
    nodes.push_back(std::move(r));
  }
  std::optional<std::pair<std::string, std::string>> listen_on;
  if (!o.reverse_listen.empty()) {
    auto where = split_host_port(o.reverse_listen);
    if (!where) return ctx.fail(where.err());
    listen_on = std::move(*where);
  }
  const bool secured = *mode != ua::security_mode::none;
  std::optional<client_identity> identity;
  if (secured) {
    auto loaded = load_or_make_client_identity(o);
    if (!loaded) return ctx.fail(loaded.err());
    identity = std::move(*loaded);
  }
  std::optional<pki::certificate> pinned;
  if (!o.server_cert.empty()) {
    auto raw = read_file(o.server_cert);
    if (!raw) return ctx.fail(raw.err());
    auto certs = pki::parse_certificates(*raw, o.server_cert);
    if (!certs) return ctx.fail(certs.err());
    pinned = std::move(certs->front());
  }
  const auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o.timeout_seconds * 1000));
  ua::client_options options;
  options.url = o.url;
  options.policy_uri = secured ? policy_uri(o.policy) : ua::policy_none_uri;
  options.mode = *mode;
  options.timeout = timeout;
  if (identity) {
    options.certificate = &identity->cert;
    options.key = &identity->key;
    const auto uris = identity->cert.san_uris();
    if (!uris.empty()) options.application_uri = uris.front();
  }
  options.server_certificate = pinned ? &*pinned : nullptr;

  nlohmann::json out;
  ua::ua_client client;
  if (listen_on) {
    ua::reverse_listener listener;
    ua::reverse_listen_options listen_options;
    listen_options.on_refused = [](const std::string&, const error& why) {
      std::cerr << "refused a reverse connection: " << status_name(why.code) << ": " << why.message << "\n";
    };
    if (auto listening = listener.listen(listen_on->first, listen_on->second, listen_options); !listening) return ctx.fail(listening.err());
    std::cerr << "waiting up to " << o.timeout_seconds << " s for a server to connect to " << o.reverse_listen << "\n";
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto left = [&] {
      return std::max(std::chrono::milliseconds(1),
                      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
    };
    if (secured && !pinned) {
      // No certificate given: ask the server's endpoints (a None channel) on its first
      // connection, and open the secure channel on the next one it offers.
      auto first = listener.accept(o.server_uri, left());
      if (!first) return ctx.fail(first.err());
      auto endpoints = ua::ua_client::get_endpoints(std::move(*first), timeout);
      if (!endpoints) return ctx.fail(endpoints.err());
      options.known_endpoints = std::move(*endpoints);
    }
    auto connection = listener.accept(o.server_uri, left());
    if (!connection) return ctx.fail(connection.err());
    out["server_uri"] = connection->hello().server_uri;
    out["endpoint_url"] = connection->hello().endpoint_url;
    out["server_address"] = connection->peer();
    if (auto c = client.connect(options, std::move(*connection)); !c) return ctx.fail(c.err());
  } else {
    out["endpoint_url"] = o.url;
    if (auto c = client.connect(options); !c) return ctx.fail(c.err());
  }
  if (auto s = client.create_session("castellan ua read"); !s) return ctx.fail(s.err());
  auto activated = o.user.empty() ? client.activate_anonymous() : client.activate_user(o.user, o.password);
  if (!activated) return ctx.fail(activated.err());
  auto read = client.read(nodes);
  if (!read) return ctx.fail(read.err());
  (void)client.close_session();
  client.disconnect();
  out["policy"] = options.policy_uri;
  out["mode"] = o.mode;
  nlohmann::json results = nlohmann::json::array();
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    nlohmann::json r{{"node", nodes[i].node_id.to_string()}};
    const auto* dv = i < read->results.size() ? &read->results[i] : nullptr;
    r["status"] = std::string(status_name(dv && dv->status ? *dv->status : status_code::Good));
    r["value"] = dv && dv->value ? variant_json(*dv->value) : nlohmann::json(nullptr);
    r["type"] = builtin_type_name(dv && dv->value ? static_cast<std::size_t>(dv->value->type) : 0) + (dv && dv->value && dv->value->is_array ? "[]" : "");
    results.push_back(std::move(r));
  }
  out["results"] = results;
  if (ctx.json()) {
    ctx.print(out);
  } else {
    if (out.contains("server_uri")) std::cout << "server " << out["server_uri"].get<std::string>() << " at " << out["endpoint_url"].get<std::string>() << "\n";
    for (const auto& r : results) {
      std::cout << r["node"].get<std::string>() << " " << r["status"].get<std::string>() << " " << r["type"].get<std::string>() << " "
                << r["value"].dump() << "\n";
    }
  }
  // Good only when every value came back Good.
  const bool all_good = std::all_of(results.begin(), results.end(), [](const auto& r) { return r["status"] == "Good"; });
  return all_good ? 0 : 1;
}

int run_endpoints(cli_context& ctx, const std::string& url) {
  auto eps = ua::ua_client::get_endpoints(url, std::chrono::seconds(10));
  if (!eps) return ctx.fail(eps.err());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : *eps) {
    nlohmann::json tokens = nlohmann::json::array();
    for (const auto& t : e.user_identity_tokens) tokens.push_back(t.policy_id);
    std::string thumbprint;
    if (auto cert = pki::certificate::from_der(e.server_certificate)) thumbprint = cert->thumbprint();
    out.push_back({{"url", e.endpoint_url},
                   {"policy", e.security_policy_uri},
                   {"mode", ua::enum_name(e.security_mode)},
                   {"security_level", e.security_level},
                   {"user_tokens", tokens},
                   {"server_certificate", thumbprint}});
  }
  if (ctx.json()) {
    ctx.print(out);
  } else {
    for (const auto& e : out) {
      std::cout << e["policy"].get<std::string>() << " " << e["mode"].get<std::string>() << " level "
                << e["security_level"].get<int>() << " tokens " << e["user_tokens"].dump() << "\n";
    }
  }
  return 0;
}

}  // namespace

void add_opcua_commands(CLI::App& app, command_fn& selected) {
  auto* ua_cmd = app.add_subcommand("ua", "A small OPC UA client: ask any server for its endpoints, read its values");
  {
    auto* cmd = ua_cmd->add_subcommand("endpoints", "GetEndpoints over SecurityPolicy None");
    auto url = std::make_shared<std::string>();
    cmd->add_option("--url", *url, "opc.tcp://HOST:PORT")->required();
    cmd->callback([&selected, url] { selected = [url](cli_context& ctx) { return run_endpoints(ctx, *url); }; });
  }
  {
    auto* cmd = ua_cmd->add_subcommand(
        "read", "Open a session and read node values (default: the server's CurrentTime); with --reverse-listen the server "
                "dials in (reverse connect, Part 6 §7.1.3)");
    auto o = std::make_shared<read_options>();
    auto* url = cmd->add_option("--url", o->url, "opc.tcp://HOST:PORT of the server to dial");
    auto* listen = cmd->add_option("--reverse-listen", o->reverse_listen,
                                   "HOST:PORT to listen on for a server that dials in and sends a ReverseHello");
    url->excludes(listen);
    cmd->add_option("--server-uri", o->server_uri,
                    "with --reverse-listen: accept only the server with this ApplicationUri (others get an Error)");
    cmd->add_option("--node", o->nodes, "NodeId to read, e.g. i=2258 or ns=1;s=Tank.Level (repeatable)");
    cmd->add_option("--policy", o->policy, "security policy (short name or URI)")->capture_default_str();
    cmd->add_option("--mode", o->mode, "None, Sign or SignAndEncrypt")->capture_default_str();
    cmd->add_option("--cert", o->cert, "the client's certificate (PEM or DER); made with --key when neither exists")
        ->capture_default_str();
    cmd->add_option("--key", o->key, "the client's private key (written 0600 when made)")->capture_default_str();
    cmd->add_option("--application-uri", o->application_uri, "ApplicationUri of a certificate made now (default urn:HOST:castellan:client)");
    cmd->add_option("--server-cert", o->server_cert,
                    "the server's certificate as the operator knows it; without it the server's endpoints are asked first "
                    "(with --reverse-listen: on the first connection the server offers)");
    cmd->add_option("--user", o->user, "log in as this user (default: anonymous)");
    cmd->add_option("--password", o->password, "the user's password");
    cmd->add_option("--timeout", o->timeout_seconds, "seconds to wait for the server (to dial in) and for each answer")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 86400.0));
    cmd->callback([&selected, o] { selected = [o](cli_context& ctx) { return run_read(ctx, *o); }; });
  }
  auto* bench = app.add_subcommand("bench", "Benchmarks against a running server");
  {
    auto* cmd = bench->add_subcommand(
        "opcua", "Full connects (channel + session + activation) and Reads against an OPC UA server; with --server-pid "
                 "also its CPU time per operation and memory");
    auto o = std::make_shared<bench_options>();
    cmd->add_option("--url", o->url, "opc.tcp://HOST:PORT of the server to measure")->required();
    cmd->add_option("--clients", o->clients, "concurrent clients")->check(CLI::Range(1, 1000));
    cmd->add_option("--seconds", o->seconds, "total run time: half connects, half reads")->check(CLI::Range(1.0, 3600.0));
    cmd->add_option("--policy", o->policy, "security policy (short name or URI)");
    cmd->add_option("--mode", o->mode, "None, Sign or SignAndEncrypt");
    cmd->add_option("--server-pid", o->server_pid, "the server's process id, for CPU and memory from /proc");
    cmd->add_option("--user", o->user, "log in as this user (default: anonymous)");
    cmd->add_option("--password", o->password, "the user's password");
    cmd->add_option("--operation", o->operation, "phase 2: read (CurrentTime) or token (implicit-use RequestAccessToken)")
        ->check(CLI::IsMember({"read", "token"}));
    cmd->add_option("--service", o->service, "AuthorizationService name for --operation token");
    cmd->add_option("--resource", o->resource, "ResourceId for --operation token (default: the server's ApplicationUri)");
    cmd->add_option("--idle-sessions", o->idle_sessions,
                    "then hold this many idle sessions, each on its own secure channel, and report the server's memory per "
                    "session, CPU per open and while held, and how many still answer after the hold")
        ->check(CLI::Range(0, 1'000'000));
    cmd->add_option("--hold-seconds", o->hold_seconds, "how long the idle sessions are held (each reads every 10 s meanwhile)")
        ->check(CLI::Range(0.0, 86400.0));
    cmd->add_flag("--discover-each-connect", o->discover_each_connect,
                  "ask GetEndpoints before every connect (default: once, before the run, as clients keep endpoints)");
    cmd->add_flag("!--no-trust", o->trust_client,
                  "do not add the bench's client certificate to this data directory's trusted list");
    cmd->callback([&selected, o] { selected = [o](cli_context& ctx) { return run_bench(ctx, *o); }; });
  }
}

}  // namespace castellan::app
