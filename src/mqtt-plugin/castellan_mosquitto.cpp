// castellan's Mosquitto 2 plugin: on every TLS connection with a client certificate, ask
// castellan (over its local admission socket) whether to admit; close live connections whose
// certificate castellan no longer admits. Fail closed: when castellan does not answer, new
// connections are refused and the broker log says so.
//
// mosquitto.conf:
//   require_certificate true          (and neither use_identity_as_username nor
//   plugin /usr/lib/castellan/castellan_mosquitto.so     use_subject_as_username: with
//   plugin_opt_socket /var/lib/castellan/run/device-admission.sock   those Mosquitto skips plugins)
// Options: socket (required), timeout_ms (2000), cache_ms (500), check_ms (1000),
//          auto_id_prefix ("auto-": broker-assigned client IDs count as none presented).

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace {

using steady = std::chrono::steady_clock;

struct plugin_state {
  mosquitto_plugin_id_t* id = nullptr;
  std::string socket_path;
  int timeout_ms = 2000;
  std::chrono::milliseconds cache_ttl{500};
  std::chrono::milliseconds check_interval{1000};
  std::string auto_id_prefix = "auto-";
  int fd = -1;  // one keep-alive connection to castellan, reopened when it breaks
  std::map<std::string, std::string> connected;  // MQTT client id → certificate thumbprint
  std::map<std::string, steady::time_point> admitted_until;  // thumbprint '\n' client id → cache expiry
  steady::time_point next_check{};
};

void close_connection(plugin_state& s) {
  if (s.fd >= 0) {
    ::close(s.fd);
    s.fd = -1;
  }
}

bool open_connection(plugin_state& s) {
  if (s.fd >= 0) return true;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (s.socket_path.size() >= sizeof addr.sun_path) {
    ::close(fd);
    return false;
  }
  std::memcpy(addr.sun_path, s.socket_path.c_str(), s.socket_path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return false;
  }
  s.fd = fd;
  return true;
}

bool wait_for(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & events) != 0;
}

// One request line out, one response line back, within the timeout.
std::optional<nlohmann::json> exchange(plugin_state& s, const std::string& line) {
  if (!open_connection(s)) return std::nullopt;
  std::size_t sent = 0;
  while (sent < line.size()) {
    if (!wait_for(s.fd, POLLOUT, s.timeout_ms)) return std::nullopt;
    const ssize_t n = ::send(s.fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return std::nullopt;
    sent += static_cast<std::size_t>(n);
  }
  std::string response;
  char buf[4096];
  while (response.find('\n') == std::string::npos) {
    if (!wait_for(s.fd, POLLIN, s.timeout_ms)) return std::nullopt;
    const ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    response.append(buf, static_cast<std::size_t>(n));
    if (response.size() > 4 * 1024 * 1024) return std::nullopt;
  }
  auto j = nlohmann::json::parse(response.substr(0, response.find('\n')), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// A broken keep-alive connection (castellan restarted) gets one fresh try.
std::optional<nlohmann::json> ask(plugin_state& s, const nlohmann::json& request) {
  const std::string line = request.dump() + "\n";
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (auto j = exchange(s, line)) return j;
    close_connection(s);
  }
  return std::nullopt;
}

std::string pem_of(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  std::string out;
  if (bio != nullptr && PEM_write_bio_X509(bio, cert) == 1) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    out.assign(data, static_cast<std::size_t>(len));
  }
  BIO_free(bio);
  return out;
}

std::string thumbprint_of(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha1(), md, &len) != 1) return {};
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(k_hex[md[i] >> 4]);
    out.push_back(k_hex[md[i] & 0x0F]);
  }
  return out;
}

int on_basic_auth(int, void* event_data, void* userdata) {
  auto& s = *static_cast<plugin_state*>(userdata);
  auto* ed = static_cast<mosquitto_evt_basic_auth*>(event_data);
  const char* raw_id = mosquitto_client_id(ed->client);
  const std::string mqtt_id = raw_id != nullptr ? raw_id : "";
  const char* raw_address = mosquitto_client_address(ed->client);
  const std::string address = raw_address != nullptr ? raw_address : "";

  X509* cert = static_cast<X509*>(mosquitto_client_certificate(ed->client));  // ours to free
  if (cert == nullptr) {
    mosquitto_log_printf(MOSQ_LOG_WARNING, "castellan: refusing %s from %s: no client certificate", mqtt_id.c_str(), address.c_str());
    return MOSQ_ERR_AUTH;
  }
  const std::string pem = pem_of(cert);
  const std::string thumbprint = thumbprint_of(cert);
  X509_free(cert);

  const std::string cache_key = thumbprint + "\n" + mqtt_id;
  const auto now = steady::now();
  if (auto it = s.admitted_until.find(cache_key); it != s.admitted_until.end() && it->second > now) {
    s.connected[mqtt_id] = thumbprint;
    return MOSQ_ERR_SUCCESS;
  }
  const bool broker_assigned = !s.auto_id_prefix.empty() && mqtt_id.rfind(s.auto_id_prefix, 0) == 0;
  auto answer = ask(s, {{"op", "admit"},
                        {"certificate", pem},
                        {"client_id", broker_assigned ? std::string() : mqtt_id},
                        {"remote", address},
                        {"edge", "mqtt"}});
  if (!answer) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "castellan: no answer on %s: refusing %s from %s (fail closed)", s.socket_path.c_str(),
                         mqtt_id.c_str(), address.c_str());
    return MOSQ_ERR_AUTH;
  }
  const std::string status = answer->value("status", "Bad");
  if (status != "Good") {
    const std::string message = answer->value("message", "");
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "castellan: refused %s from %s: %s: %s", mqtt_id.c_str(), address.c_str(),
                         status.c_str(), message.c_str());
    return MOSQ_ERR_AUTH;
  }
  s.connected[mqtt_id] = thumbprint;
  s.admitted_until[cache_key] = now + s.cache_ttl;
  mosquitto_log_printf(MOSQ_LOG_INFO, "castellan: admitted %s (client ID %s, certificate %s)%s", mqtt_id.c_str(),
                       answer->value("client_id", "").c_str(), thumbprint.c_str(),
                       answer->value("registered", false) ? ", registered now" : "");
  return MOSQ_ERR_SUCCESS;
}

int on_tick(int, void*, void* userdata) {
  auto& s = *static_cast<plugin_state*>(userdata);
  const auto now = steady::now();
  if (now < s.next_check) return MOSQ_ERR_SUCCESS;
  s.next_check = now + s.check_interval;
  for (auto it = s.admitted_until.begin(); it != s.admitted_until.end();) {
    it = it->second <= now ? s.admitted_until.erase(it) : std::next(it);
  }
  if (s.connected.empty()) return MOSQ_ERR_SUCCESS;
  nlohmann::json devices = nlohmann::json::array();
  for (const auto& [client, thumbprint] : s.connected) devices.push_back({{"id", thumbprint}, {"client_id", client}});
  auto answer = ask(s, {{"op", "check"}, {"devices", devices}});
  if (!answer) {
    mosquitto_log_printf(MOSQ_LOG_WARNING, "castellan: no answer on %s while checking live connections", s.socket_path.c_str());
    return MOSQ_ERR_SUCCESS;
  }
  for (const auto& refused : answer->value("refused", nlohmann::json::array())) {
    const std::string client = refused.value("client_id", "");
    const std::string why = refused.value("status", "");
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "castellan: closing %s: %s", client.c_str(), why.c_str());
    const std::string thumbprint = s.connected[client];
    s.connected.erase(client);
    s.admitted_until.erase(thumbprint + "\n" + client);
    mosquitto_kick_client_by_clientid(client.c_str(), false);
  }
  return MOSQ_ERR_SUCCESS;
}

int on_disconnect(int, void* event_data, void* userdata) {
  auto& s = *static_cast<plugin_state*>(userdata);
  auto* ed = static_cast<mosquitto_evt_disconnect*>(event_data);
  if (const char* id = mosquitto_client_id(ed->client)) s.connected.erase(id);
  return MOSQ_ERR_SUCCESS;
}

}  // namespace

extern "C" {
// The broker looks these up by name; everything else stays hidden.
#define CASTELLAN_EXPORT __attribute__((visibility("default")))

CASTELLAN_EXPORT int mosquitto_plugin_version(int supported_version_count, const int* supported_versions) {
  for (int i = 0; i < supported_version_count; ++i) {
    if (supported_versions[i] == 5) return 5;
  }
  return -1;
}

CASTELLAN_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t* identifier, void** userdata, struct mosquitto_opt* options, int option_count) {
  auto* s = new plugin_state();
  s->id = identifier;
  for (int i = 0; i < option_count; ++i) {
    const std::string key = options[i].key != nullptr ? options[i].key : "";
    const std::string value = options[i].value != nullptr ? options[i].value : "";
    try {
      if (key == "socket") s->socket_path = value;
      else if (key == "timeout_ms") s->timeout_ms = std::stoi(value);
      else if (key == "cache_ms") s->cache_ttl = std::chrono::milliseconds(std::stoi(value));
      else if (key == "check_ms") s->check_interval = std::chrono::milliseconds(std::stoi(value));
      else if (key == "auto_id_prefix") s->auto_id_prefix = value;
      else mosquitto_log_printf(MOSQ_LOG_WARNING, "castellan: unknown plugin option '%s' ignored", key.c_str());
    } catch (const std::exception&) {
      mosquitto_log_printf(MOSQ_LOG_ERR, "castellan: plugin_opt_%s '%s' is not a number", key.c_str(), value.c_str());
      delete s;
      return MOSQ_ERR_INVAL;
    }
  }
  if (s->socket_path.empty()) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "castellan: plugin_opt_socket (castellan's device admission socket) is required");
    delete s;
    return MOSQ_ERR_INVAL;
  }
  *userdata = s;
  int rc = mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, nullptr, s);
  if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_callback_register(identifier, MOSQ_EVT_TICK, on_tick, nullptr, s);
  if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_callback_register(identifier, MOSQ_EVT_DISCONNECT, on_disconnect, nullptr, s);
  mosquitto_log_printf(MOSQ_LOG_INFO, "castellan: admission by %s (cache %d ms, live check every %d ms)", s->socket_path.c_str(),
                       static_cast<int>(s->cache_ttl.count()), static_cast<int>(s->check_interval.count()));
  return rc;
}

CASTELLAN_EXPORT int mosquitto_plugin_cleanup(void* userdata, struct mosquitto_opt*, int) {
  auto* s = static_cast<plugin_state*>(userdata);
  if (s == nullptr) return MOSQ_ERR_SUCCESS;
  mosquitto_callback_unregister(s->id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, nullptr);
  mosquitto_callback_unregister(s->id, MOSQ_EVT_TICK, on_tick, nullptr);
  mosquitto_callback_unregister(s->id, MOSQ_EVT_DISCONNECT, on_disconnect, nullptr);
  close_connection(*s);
  delete s;
  return MOSQ_ERR_SUCCESS;
}

}  // extern "C"
