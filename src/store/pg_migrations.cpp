#include "store/pg_migrations.h"

namespace castellan::store::pg {
namespace {

// Every notification goes to one channel; the payload says what changed:
//   "trust <revision>"            the trusted/issuer lists or the CRLs (revision from meta)
//   "device <device id> <ca id>"  a device certificate's row
//   "ca <ca id>"                  a registered CA's row
//   "users <name>" / "token <id>" a user or an API token
// NOTIFY is transactional: it is delivered when (and only when) the change commits.

constexpr std::string_view k_v1 = R"sql(
CREATE TABLE meta (
  key   TEXT COLLATE "C" PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('trust_revision', 0);

CREATE TABLE certificates (
  thumbprint      TEXT COLLATE "C" PRIMARY KEY,
  sha256          TEXT COLLATE "C" NOT NULL,
  state           TEXT COLLATE "C" NOT NULL CHECK (state IN ('trusted', 'issuer', 'rejected')),
  der             BYTEA NOT NULL,
  subject         TEXT COLLATE "C" NOT NULL,
  issuer          TEXT COLLATE "C" NOT NULL,
  serial          TEXT COLLATE "C" NOT NULL,
  application_uri TEXT COLLATE "C" NOT NULL DEFAULT '',
  not_before      BIGINT NOT NULL,
  not_after       BIGINT NOT NULL,
  added_at        BIGINT NOT NULL,
  first_attempt   BIGINT,
  last_attempt    BIGINT,
  attempts        BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX certificates_by_state ON certificates (state, last_attempt);

CREATE TABLE crls (
  id          TEXT COLLATE "C" PRIMARY KEY,
  list        TEXT COLLATE "C" NOT NULL CHECK (list IN ('trusted', 'issuer')),
  der         BYTEA NOT NULL,
  issuer      TEXT COLLATE "C" NOT NULL,
  this_update BIGINT NOT NULL,
  next_update BIGINT,
  added_at    BIGINT NOT NULL
);

CREATE TABLE audit (
  id     BIGSERIAL PRIMARY KEY,
  time   BIGINT NOT NULL,
  node   TEXT COLLATE "C" NOT NULL,
  actor  TEXT COLLATE "C" NOT NULL,
  source TEXT COLLATE "C" NOT NULL,
  action TEXT COLLATE "C" NOT NULL,
  target TEXT COLLATE "C" NOT NULL,
  result TEXT COLLATE "C" NOT NULL,
  detail TEXT COLLATE "C" NOT NULL
);
CREATE INDEX audit_by_time ON audit (time);
CREATE INDEX audit_by_action ON audit (action);
CREATE INDEX audit_by_target ON audit (target);

-- The audit log is append-only, enforced by the database itself.
CREATE FUNCTION castellan_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit records are append-only'; END $$;
CREATE TRIGGER audit_is_append_only BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION castellan_audit_append_only();

-- Any change to what is trusted bumps the revision and tells every node. Changes confined to
-- the rejected list do not: they cannot change a trust decision. The UPDATE of the one meta
-- row also orders trust changes: revisions are handed out in commit order.
CREATE FUNCTION castellan_trust_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE revision BIGINT;
BEGIN
  IF TG_TABLE_NAME = 'certificates' THEN
    IF TG_OP = 'INSERT' AND NEW.state = 'rejected' THEN RETURN NULL; END IF;
    IF TG_OP = 'DELETE' AND OLD.state = 'rejected' THEN RETURN NULL; END IF;
    IF TG_OP = 'UPDATE' AND NEW.state = 'rejected' AND OLD.state = 'rejected' THEN RETURN NULL; END IF;
  END IF;
  UPDATE meta SET value = value + 1 WHERE key = 'trust_revision' RETURNING value INTO revision;
  PERFORM pg_notify('castellan_changes', 'trust ' || revision);
  RETURN NULL;
END $$;
CREATE TRIGGER trust_revision_on_certificates AFTER INSERT OR UPDATE OR DELETE ON certificates
  FOR EACH ROW EXECUTE FUNCTION castellan_trust_changed();
CREATE TRIGGER trust_revision_on_crls AFTER INSERT OR UPDATE OR DELETE ON crls
  FOR EACH ROW EXECUTE FUNCTION castellan_trust_changed();
)sql";

constexpr std::string_view k_v2_registry = R"sql(
CREATE TABLE registry_cas (
  id                TEXT COLLATE "C" PRIMARY KEY,
  der               BYTEA NOT NULL,
  subject           TEXT COLLATE "C" NOT NULL,
  common_name       TEXT COLLATE "C" NOT NULL,
  serial            TEXT COLLATE "C" NOT NULL,
  not_before        BIGINT NOT NULL,
  not_after         BIGINT NOT NULL,
  active            BOOLEAN NOT NULL,
  auto_registration BOOLEAN NOT NULL,
  require_approval  BOOLEAN NOT NULL,
  verified          BOOLEAN NOT NULL,
  registered_at     BIGINT NOT NULL
);

CREATE TABLE registry_devices (
  id                  TEXT COLLATE "C" PRIMARY KEY,
  sha256              TEXT COLLATE "C" NOT NULL,
  ca_id               TEXT COLLATE "C" NOT NULL,  -- no foreign key: revoked devices outlive a deleted CA
  der                 BYTEA NOT NULL,
  common_name         TEXT COLLATE "C" NOT NULL,
  organizational_unit TEXT COLLATE "C" NOT NULL,
  organization        TEXT COLLATE "C" NOT NULL,
  serial              TEXT COLLATE "C" NOT NULL,
  client_id           TEXT COLLATE "C" NOT NULL,
  effective_client_id TEXT COLLATE "C" NOT NULL,
  status              TEXT COLLATE "C" NOT NULL CHECK (status IN ('activated', 'not-activated', 'registered-not-activated', 'revoked')),
  registration        TEXT COLLATE "C" NOT NULL CHECK (registration IN ('auto', 'manual')),
  not_before          BIGINT NOT NULL,
  not_after           BIGINT NOT NULL,
  registered_at       BIGINT NOT NULL,
  status_changed_at   BIGINT NOT NULL
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
CREATE FUNCTION castellan_revoked_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'revoked' AND NEW.status <> 'revoked' THEN
    RAISE EXCEPTION 'a revoked certificate cannot be reactivated';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER registry_revoked_is_final BEFORE UPDATE OF status ON registry_devices
  FOR EACH ROW EXECUTE FUNCTION castellan_revoked_is_final();

-- The registry's change feed: every node evicts exactly the device or CA named.
CREATE FUNCTION castellan_registry_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r RECORD;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  IF TG_TABLE_NAME = 'registry_devices' THEN
    PERFORM pg_notify('castellan_changes', 'device ' || r.id || ' ' || r.ca_id);
  ELSE
    PERFORM pg_notify('castellan_changes', 'ca ' || r.id);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER registry_feed_devices AFTER INSERT OR UPDATE OR DELETE ON registry_devices
  FOR EACH ROW EXECUTE FUNCTION castellan_registry_changed();
CREATE TRIGGER registry_feed_cas AFTER INSERT OR UPDATE OR DELETE ON registry_cas
  FOR EACH ROW EXECUTE FUNCTION castellan_registry_changed();

CREATE TABLE registry_device_clients (
  device_id      TEXT COLLATE "C" NOT NULL REFERENCES registry_devices (id) ON DELETE CASCADE,
  client_id      TEXT COLLATE "C" NOT NULL,
  first_seen     BIGINT NOT NULL,
  last_seen      BIGINT NOT NULL,
  remote_address TEXT COLLATE "C" NOT NULL,
  edge           TEXT COLLATE "C" NOT NULL,
  connections    BIGINT NOT NULL,
  PRIMARY KEY (device_id, client_id)
);

CREATE TABLE registry_codes (
  code       TEXT COLLATE "C" PRIMARY KEY,
  expires_at BIGINT NOT NULL
);
)sql";

constexpr std::string_view k_v3_users = R"sql(
-- Roles are Part 18 names kept as one comma-separated column, as in SQLite.
CREATE TABLE users (
  name                TEXT COLLATE "C" PRIMARY KEY,
  password_hash       TEXT COLLATE "C" NOT NULL,
  roles               TEXT COLLATE "C" NOT NULL,
  created_at          BIGINT NOT NULL,
  password_changed_at BIGINT NOT NULL,
  last_login          BIGINT
);

CREATE TABLE api_tokens (
  id            TEXT COLLATE "C" PRIMARY KEY,
  user_name     TEXT COLLATE "C" NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  secret_sha256 TEXT COLLATE "C" NOT NULL,
  roles         TEXT COLLATE "C" NOT NULL,
  description   TEXT COLLATE "C" NOT NULL,
  created_at    BIGINT NOT NULL,
  expires_at    BIGINT NOT NULL,
  revoked_at    BIGINT
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_name, created_at);

-- A user's roles or password, or a token's revocation, changes what every node lets through.
-- A login only moves last_login: nothing to tell.
CREATE FUNCTION castellan_users_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'users' THEN
    IF TG_OP = 'UPDATE' AND NEW.password_hash = OLD.password_hash AND NEW.roles = OLD.roles THEN RETURN NULL; END IF;
    PERFORM pg_notify('castellan_changes', 'users ' || CASE WHEN TG_OP = 'DELETE' THEN OLD.name ELSE NEW.name END);
  ELSE
    PERFORM pg_notify('castellan_changes', 'token ' || CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER users_feed AFTER UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION castellan_users_changed();
CREATE TRIGGER api_tokens_feed AFTER UPDATE OR DELETE ON api_tokens
  FOR EACH ROW EXECUTE FUNCTION castellan_users_changed();
)sql";

constexpr std::string_view k_v4_authz = R"sql(
-- The authorization service (OPC UA Part 12 §9), as in SQLite's version 4.
CREATE TABLE authz_services (
  name               TEXT COLLATE "C" PRIMARY KEY,
  service_uri        TEXT COLLATE "C" NOT NULL UNIQUE,
  algorithm          TEXT COLLATE "C" NOT NULL,
  key_file           TEXT COLLATE "C" NOT NULL,
  certificate_file   TEXT COLLATE "C" NOT NULL,
  token_lifetime_s   BIGINT NOT NULL,
  refresh_lifetime_s BIGINT NOT NULL,
  resources          TEXT COLLATE "C" NOT NULL,  -- ResourceIds, one per line
  created_at         BIGINT NOT NULL
);

CREATE TABLE authz_rules (
  id            BIGSERIAL PRIMARY KEY,
  role          TEXT COLLATE "C" NOT NULL,
  criteria_type BIGINT NOT NULL,  -- IdentityCriteriaType, Part 18
  criteria      TEXT COLLATE "C" NOT NULL,
  created_at    BIGINT NOT NULL
);

CREATE TABLE authz_refresh_tokens (
  id                     TEXT COLLATE "C" PRIMARY KEY,
  secret_sha256          TEXT COLLATE "C" NOT NULL,
  service                TEXT COLLATE "C" NOT NULL,
  subject                TEXT COLLATE "C" NOT NULL,
  identity_kind          TEXT COLLATE "C" NOT NULL,
  roles                  TEXT COLLATE "C" NOT NULL,
  resource               TEXT COLLATE "C" NOT NULL,
  client_thumbprint      TEXT COLLATE "C" NOT NULL,
  client_application_uri TEXT COLLATE "C" NOT NULL,
  issued_at              BIGINT NOT NULL,
  expires_at             BIGINT NOT NULL,
  used_at                BIGINT,
  revoked_at             BIGINT
);
CREATE INDEX authz_refresh_tokens_by_subject ON authz_refresh_tokens (subject, issued_at);
)sql";

// Device search by client ID among revoked devices (the unique index above holds the others) and by
// CA (and status); each sort index ends with id, the tie-break of every search, so a page is an index walk.
constexpr const char* k_v5_registry_search = R"sql(
CREATE INDEX registry_devices_revoked_by_client_id ON registry_devices (effective_client_id) WHERE status = 'revoked';
CREATE INDEX registry_devices_by_ca_registered ON registry_devices (ca_id, registered_at, id);
DROP INDEX registry_devices_by_ca;
CREATE INDEX registry_devices_by_ca ON registry_devices (ca_id, status, registered_at, id);
DROP INDEX registry_devices_by_serial;
CREATE INDEX registry_devices_by_serial ON registry_devices (serial, id);
DROP INDEX registry_devices_by_cn;
CREATE INDEX registry_devices_by_cn ON registry_devices (common_name, id);
DROP INDEX registry_devices_by_ou;
CREATE INDEX registry_devices_by_ou ON registry_devices (organizational_unit, registered_at, id);
DROP INDEX registry_devices_by_status;
CREATE INDEX registry_devices_by_status ON registry_devices (status, registered_at, id);
DROP INDEX registry_devices_by_registered;
CREATE INDEX registry_devices_by_registered ON registry_devices (registered_at, id);
DROP INDEX registry_devices_by_not_after;
CREATE INDEX registry_devices_by_not_after ON registry_devices (not_after, id);
DROP INDEX registry_devices_by_not_before;
CREATE INDEX registry_devices_by_not_before ON registry_devices (not_before, id);
)sql";

constexpr sqlite::migration k_migrations[] = {
    {1, "trust lists, CRLs, audit log", k_v1},
    {2, "device registry: CAs, devices, associated clients", k_v2_registry},
    {3, "users, roles and API tokens", k_v3_users},
    {4, "authorization service: services, identity mapping rules, refresh tokens", k_v4_authz},
    {5, "device search indexes: revoked client IDs, CA by registration, id as every sort's tie-break", k_v5_registry_search},
};

}  // namespace

std::span<const sqlite::migration> migrations() { return k_migrations; }

}  // namespace castellan::store::pg
