-- The Clerk emulator's tables (SQLite), parents before children: the emulator wipes them
-- in the reverse order, so a wipe never trips a foreign key.
CREATE TABLE IF NOT EXISTS clerk_permissions (
    id TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '', type TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS clerk_org_roles (
    id TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, description TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS clerk_role_permissions (
    role_id TEXT NOT NULL REFERENCES clerk_org_roles(id) ON DELETE CASCADE,
    permission_id TEXT NOT NULL REFERENCES clerk_permissions(id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);
CREATE TABLE IF NOT EXISTS clerk_redirect_urls (
    id TEXT PRIMARY KEY, url TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
-- One row: the instance's settings that PATCH /v1/instance changes and GET reads back.
CREATE TABLE IF NOT EXISTS clerk_instance (
    id TEXT PRIMARY KEY, settings TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS clerk_users (
    id TEXT PRIMARY KEY, external_id TEXT UNIQUE, username TEXT,
    first_name TEXT, last_name TEXT, locale TEXT,
    primary_email_address_id TEXT, primary_phone_number_id TEXT,
    password_digest TEXT, password_hasher TEXT, password_last_updated_at INTEGER,
    totp_secret TEXT, backup_codes TEXT, mfa_enabled_at INTEGER,
    public_metadata TEXT NOT NULL DEFAULT '{}', private_metadata TEXT NOT NULL DEFAULT '{}',
    unsafe_metadata TEXT NOT NULL DEFAULT '{}', external_accounts TEXT NOT NULL DEFAULT '[]',
    banned INTEGER NOT NULL DEFAULT 0, locked INTEGER NOT NULL DEFAULT 0,
    delete_self_enabled INTEGER NOT NULL DEFAULT 1,
    create_organization_enabled INTEGER NOT NULL DEFAULT 1, create_organizations_limit INTEGER,
    bypass_client_trust INTEGER NOT NULL DEFAULT 0, legal_accepted_at INTEGER,
    last_sign_in_at INTEGER, last_active_at INTEGER,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS clerk_users_by_created ON clerk_users(created_at, id);
CREATE UNIQUE INDEX IF NOT EXISTS clerk_users_by_username
    ON clerk_users(lower(username)) WHERE username IS NOT NULL;
CREATE TABLE IF NOT EXISTS clerk_identifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES clerk_users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL, value TEXT NOT NULL, status TEXT NOT NULL,
    reserved_for_second_factor INTEGER NOT NULL DEFAULT 0,
    default_second_factor INTEGER NOT NULL DEFAULT 0,
    verification_strategy TEXT, linked_to TEXT NOT NULL DEFAULT '[]', position INTEGER NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    UNIQUE (kind, value)
);
CREATE INDEX IF NOT EXISTS clerk_identifications_by_user
    ON clerk_identifications(user_id, position);
CREATE INDEX IF NOT EXISTS clerk_identifications_by_value
    ON clerk_identifications(kind, lower(value));
CREATE TABLE IF NOT EXISTS clerk_organizations (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, slug TEXT NOT NULL UNIQUE,
    max_allowed_memberships INTEGER NOT NULL DEFAULT 0,
    admin_delete_enabled INTEGER NOT NULL DEFAULT 1,
    public_metadata TEXT NOT NULL DEFAULT '{}', private_metadata TEXT NOT NULL DEFAULT '{}',
    created_by TEXT, role_set_key TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS clerk_organizations_by_created
    ON clerk_organizations(created_at, id);
CREATE TABLE IF NOT EXISTS clerk_organization_domains (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES clerk_organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL UNIQUE, enrollment_mode TEXT NOT NULL, verified INTEGER NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS clerk_organization_domains_by_org
    ON clerk_organization_domains(organization_id, created_at);
-- user_id has no foreign key: a seed may hold a membership whose user is gone (see
-- seed.py); deleting a user through the API deletes its memberships explicitly.
CREATE TABLE IF NOT EXISTS clerk_memberships (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES clerk_organizations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL, role TEXT NOT NULL,
    public_metadata TEXT NOT NULL DEFAULT '{}', private_metadata TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    UNIQUE (organization_id, user_id)
);
CREATE INDEX IF NOT EXISTS clerk_memberships_by_user ON clerk_memberships(user_id);
CREATE INDEX IF NOT EXISTS clerk_memberships_by_created ON clerk_memberships(created_at, id);
