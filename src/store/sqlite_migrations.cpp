#include "store/sqlite_migrations.h"

namespace castellan::store::sqlite {
namespace {

constexpr std::string_view k_v1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('trust_revision', 0);

CREATE TABLE certificates (
  thumbprint      TEXT PRIMARY KEY,
  sha256          TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('trusted', 'issuer', 'rejected')),
  der             BLOB NOT NULL,
  subject         TEXT NOT NULL,
  issuer          TEXT NOT NULL,
  serial          TEXT NOT NULL,
  application_uri TEXT NOT NULL DEFAULT '',
  not_before      INTEGER NOT NULL,
  not_after       INTEGER NOT NULL,
  added_at        INTEGER NOT NULL,
  first_attempt   INTEGER,
  last_attempt    INTEGER,
  attempts        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX certificates_by_state ON certificates (state, last_attempt);

CREATE TABLE crls (
  id          TEXT PRIMARY KEY,
  list        TEXT NOT NULL CHECK (list IN ('trusted', 'issuer')),
  der         BLOB NOT NULL,
  issuer      TEXT NOT NULL,
  this_update INTEGER NOT NULL,
  next_update INTEGER,
  added_at    INTEGER NOT NULL
);

CREATE TABLE audit (
  id     INTEGER PRIMARY KEY AUTOINCREMENT,
  time   INTEGER NOT NULL,
  node   TEXT NOT NULL,
  actor  TEXT NOT NULL,
  source TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  result TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit (time);
CREATE INDEX audit_by_action ON audit (action);
CREATE INDEX audit_by_target ON audit (target);

-- The audit log is append-only, enforced by the database itself.
CREATE TRIGGER audit_is_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_is_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;

-- Any change to what is trusted bumps the revision that caches and other processes poll.
-- Changes confined to the rejected list do not: they cannot change a trust decision.
CREATE TRIGGER trust_revision_on_insert AFTER INSERT ON certificates WHEN NEW.state <> 'rejected'
BEGIN UPDATE meta SET value = value + 1 WHERE key = 'trust_revision'; END;
CREATE TRIGGER trust_revision_on_update AFTER UPDATE ON certificates
  WHEN NEW.state <> 'rejected' OR OLD.state <> 'rejected'
BEGIN UPDATE meta SET value = value + 1 WHERE key = 'trust_revision'; END;
CREATE TRIGGER trust_revision_on_delete AFTER DELETE ON certificates WHEN OLD.state <> 'rejected'
BEGIN UPDATE meta SET value = value + 1 WHERE key = 'trust_revision'; END;
CREATE TRIGGER trust_revision_on_crl_insert AFTER INSERT ON crls
BEGIN UPDATE meta SET value = value + 1 WHERE key = 'trust_revision'; END;
CREATE TRIGGER trust_revision_on_crl_update AFTER UPDATE ON crls
BEGIN UPDATE meta SET value = value + 1 WHERE key = 'trust_revision'; END;
CREATE TRIGGER trust_revision_on_crl_delete AFTER DELETE ON crls
BEGIN UPDATE meta SET value = value + 1 WHERE key = 'trust_revision'; END;
)sql";


constexpr std::string_view k_v2_registry = R"sql(
-- The registry's change feed: every change to a device or CA appends a row; caches (in this
-- process or another) read what changed since the revision they hold and evict just that.
CREATE TABLE registry_changes (
  revision  INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL,  -- '' for a change to a CA
  ca_id     TEXT NOT NULL
);

CREATE TABLE registry_cas (
  id                TEXT PRIMARY KEY,
  der               BLOB NOT NULL,
  subject           TEXT NOT NULL,
  common_name       TEXT NOT NULL,
  serial            TEXT NOT NULL,
  not_before        INTEGER NOT NULL,
  not_after         INTEGER NOT NULL,
  active            INTEGER NOT NULL,
  auto_registration INTEGER NOT NULL,
  require_approval  INTEGER NOT NULL,
  verified          INTEGER NOT NULL,
  registered_at     INTEGER NOT NULL
);

CREATE TABLE registry_devices (
  id                  TEXT PRIMARY KEY,
  sha256              TEXT NOT NULL,
  ca_id               TEXT NOT NULL,  -- no foreign key: revoked devices outlive a deleted CA
  der                 BLOB NOT NULL,
  common_name         TEXT NOT NULL,
  organizational_unit TEXT NOT NULL,
  organization        TEXT NOT NULL,
  serial              TEXT NOT NULL,
  client_id           TEXT NOT NULL,
  effective_client_id TEXT NOT NULL,
  status              TEXT NOT NULL CHECK (status IN ('activated', 'not-activated', 'registered-not-activated', 'revoked')),
  registration        TEXT NOT NULL CHECK (registration IN ('auto', 'manual')),
  not_before          INTEGER NOT NULL,
  not_after           INTEGER NOT NULL,
  registered_at       INTEGER NOT NULL,
  status_changed_at   INTEGER NOT NULL
);
-- A client ID names one device among those not revoked.
CREATE UNIQUE INDEX registry_devices_live_client_id ON registry_devices (effective_client_id) WHERE status <> 'revoked';
CREATE INDEX registry_devices_by_serial ON registry_devices (serial);
CREATE INDEX registry_devices_by_cn ON registry_devices (common_name);
CREATE INDEX registry_devices_by_ou ON registry_devices (organizational_unit, registered_at);
CREATE INDEX registry_devices_by_ca ON registry_devices (ca_id, status);
CREATE INDEX registry_devices_by_status ON registry_devices (status, registered_at);
CREATE INDEX registry_devices_by_registered ON registry_devices (registered_at);
CREATE INDEX registry_devices_by_not_after ON registry_devices (not_after);
CREATE INDEX registry_devices_by_not_before ON registry_devices (not_before);

-- Revoked is final, enforced by the database as well as the service.
CREATE TRIGGER registry_revoked_is_final BEFORE UPDATE OF status ON registry_devices
  WHEN OLD.status = 'revoked' AND NEW.status <> 'revoked'
BEGIN SELECT RAISE(ABORT, 'a revoked certificate cannot be reactivated'); END;

CREATE TRIGGER registry_feed_device_insert AFTER INSERT ON registry_devices
BEGIN INSERT INTO registry_changes (device_id, ca_id) VALUES (NEW.id, NEW.ca_id); END;
CREATE TRIGGER registry_feed_device_update AFTER UPDATE ON registry_devices
BEGIN INSERT INTO registry_changes (device_id, ca_id) VALUES (NEW.id, NEW.ca_id); END;
CREATE TRIGGER registry_feed_device_delete AFTER DELETE ON registry_devices
BEGIN INSERT INTO registry_changes (device_id, ca_id) VALUES (OLD.id, OLD.ca_id); END;
CREATE TRIGGER registry_feed_ca_insert AFTER INSERT ON registry_cas
BEGIN INSERT INTO registry_changes (device_id, ca_id) VALUES ('', NEW.id); END;
CREATE TRIGGER registry_feed_ca_update AFTER UPDATE ON registry_cas
BEGIN INSERT INTO registry_changes (device_id, ca_id) VALUES ('', NEW.id); END;
CREATE TRIGGER registry_feed_ca_delete AFTER DELETE ON registry_cas
BEGIN INSERT INTO registry_changes (device_id, ca_id) VALUES ('', OLD.id); END;

CREATE TABLE registry_device_clients (
  device_id      TEXT NOT NULL REFERENCES registry_devices (id) ON DELETE CASCADE,
  client_id      TEXT NOT NULL,
  first_seen     INTEGER NOT NULL,
  last_seen      INTEGER NOT NULL,
  remote_address TEXT NOT NULL,
  edge           TEXT NOT NULL,
  connections    INTEGER NOT NULL,
  PRIMARY KEY (device_id, client_id)
);

CREATE TABLE registry_codes (
  code       TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
)sql";

constexpr std::string_view k_v3_users = R"sql(
-- Local users for the admin API and OPC UA UserName logins. Roles are Part 18 names, kept as
-- one comma-separated column: a handful of fixed names read together with the row.
CREATE TABLE users (
  name                TEXT PRIMARY KEY,
  password_hash       TEXT NOT NULL,  -- Argon2id, libsodium's crypto_pwhash_str format
  roles               TEXT NOT NULL,
  created_at          INTEGER NOT NULL,
  password_changed_at INTEGER NOT NULL,
  last_login          INTEGER
);

-- API tokens: the secret is shown once; only its SHA-256 is kept. Revoked tokens stay listed.
CREATE TABLE api_tokens (
  id            TEXT PRIMARY KEY,
  user_name     TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  secret_sha256 TEXT NOT NULL,
  roles         TEXT NOT NULL,
  description   TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  revoked_at    INTEGER
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_name, created_at);
)sql";

constexpr std::string_view k_v4_authz = R"sql(
-- The authorization service (OPC UA Part 12 §9): its AuthorizationService objects (signing keys
-- live in files of the data directory, mode 0600; only their names are here), the identity
-- mapping rules of Part 18, and refresh tokens (only a SHA-256 of each secret is kept).
CREATE TABLE authz_services (
  name               TEXT PRIMARY KEY,
  service_uri        TEXT NOT NULL UNIQUE,
  algorithm          TEXT NOT NULL,
  key_file           TEXT NOT NULL,
  certificate_file   TEXT NOT NULL,
  token_lifetime_s   INTEGER NOT NULL,
  refresh_lifetime_s INTEGER NOT NULL,
  resources          TEXT NOT NULL,  -- ResourceIds, one per line
  created_at         INTEGER NOT NULL
);

CREATE TABLE authz_rules (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  role          TEXT NOT NULL,
  criteria_type INTEGER NOT NULL,  -- IdentityCriteriaType, Part 18
  criteria      TEXT NOT NULL,
  created_at    INTEGER NOT NULL
);

CREATE TABLE authz_refresh_tokens (
  id                     TEXT PRIMARY KEY,
  secret_sha256          TEXT NOT NULL,
  service                TEXT NOT NULL,
  subject                TEXT NOT NULL,
  identity_kind          TEXT NOT NULL,
  roles                  TEXT NOT NULL,
  resource               TEXT NOT NULL,
  client_thumbprint      TEXT NOT NULL,
  client_application_uri TEXT NOT NULL,
  issued_at              INTEGER NOT NULL,
  expires_at             INTEGER NOT NULL,
  used_at                INTEGER,
  revoked_at             INTEGER
);
CREATE INDEX authz_refresh_tokens_by_subject ON authz_refresh_tokens (subject, issued_at);
)sql";

// Device search by client ID among revoked devices (the unique index above holds the others) and by
// CA (and status) in registration order, each a walk along one index at a million devices.
constexpr const char* k_v5_registry_search = R"sql(
CREATE INDEX registry_devices_revoked_by_client_id ON registry_devices (effective_client_id) WHERE status = 'revoked';
CREATE INDEX registry_devices_by_ca_registered ON registry_devices (ca_id, registered_at);
DROP INDEX registry_devices_by_ca;
CREATE INDEX registry_devices_by_ca ON registry_devices (ca_id, status, registered_at);
)sql";

constexpr migration k_migrations[] = {
    {1, "trust lists, CRLs, audit log", k_v1},
    {2, "device registry: CAs, devices, associated clients", k_v2_registry},
    {3, "users, roles and API tokens", k_v3_users},
    {4, "authorization service: services, identity mapping rules, refresh tokens", k_v4_authz},
    {5, "device search indexes: revoked client IDs, CA by registration", k_v5_registry_search},
};

}  // namespace

std::span<const migration> migrations() { return k_migrations; }

}  // namespace castellan::store::sqlite
