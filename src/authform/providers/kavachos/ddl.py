"""KavachOS 0.2.1's DDL for the tables authform touches, and the neighbours it must not.

KavachOS creates its tables when it starts (``createTables`` in
``packages/core/src/db/migrations.ts``; ``kavach_email_accounts`` in the email plugin's
``initTables``, SQLite-typed on every database). authform needs them only where no KavachOS
has run: ``--emulate`` (a SQLite file in the emulator state folder) and the tests. Written from
the project's KavachOS reference (KavachOS at 00372002, "bump kavachos to v0.2.1"); columns
authform never touches are kept so the tables have KavachOS's shape (NOT NULL defaults
included), and ``kavach_sessions``/``kavach_username_accounts``/``kavach_org_invitations`` are
here so tests can prove authform leaves them alone.
"""

from __future__ import annotations

_SQLITE = """
CREATE TABLE IF NOT EXISTS kavach_users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  username TEXT UNIQUE,
  name TEXT,
  external_id TEXT,
  external_provider TEXT,
  metadata TEXT,
  banned INTEGER DEFAULT 0,
  ban_reason TEXT,
  ban_expires_at INTEGER,
  force_password_reset INTEGER DEFAULT 0,
  email_verified INTEGER DEFAULT 0,
  stripe_customer_id TEXT UNIQUE,
  polar_customer_id TEXT UNIQUE,
  stripe_subscription_id TEXT,
  stripe_subscription_status TEXT,
  stripe_price_id TEXT,
  polar_subscription_id TEXT,
  polar_subscription_status TEXT,
  polar_product_id TEXT,
  stripe_current_period_end INTEGER,
  polar_current_period_end INTEGER,
  stripe_cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
  polar_cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kavach_sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES kavach_users(id),
  expires_at INTEGER NOT NULL,
  metadata TEXT,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kavach_username_accounts (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES kavach_users(id) ON DELETE CASCADE,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kavach_oauth_accounts (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  provider_account_id TEXT NOT NULL,
  access_token TEXT NOT NULL,
  refresh_token TEXT,
  expires_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kavach_organizations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  slug TEXT NOT NULL UNIQUE,
  owner_id TEXT NOT NULL REFERENCES kavach_users(id),
  metadata TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kavach_org_members (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES kavach_organizations(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES kavach_users(id),
  role TEXT NOT NULL DEFAULT 'member',
  joined_at INTEGER NOT NULL,
  UNIQUE (org_id, user_id)
);
CREATE TABLE IF NOT EXISTS kavach_org_roles (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES kavach_organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  permissions TEXT NOT NULL,
  UNIQUE (org_id, name)
);
CREATE TABLE IF NOT EXISTS kavach_org_invitations (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES kavach_organizations(id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  role TEXT NOT NULL,
  invited_by TEXT NOT NULL REFERENCES kavach_users(id),
  status TEXT NOT NULL DEFAULT 'pending',
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
"""

# The email plugin's own table: SQLite types and millisecond timestamps on every database.
_EMAIL_ACCOUNTS = """
CREATE TABLE IF NOT EXISTS kavach_email_accounts (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES kavach_users(id) ON DELETE CASCADE,
  password_hash TEXT NOT NULL,
  email_verified INTEGER NOT NULL DEFAULT 0,
  verification_token TEXT,
  verification_expires INTEGER,
  reset_token TEXT,
  reset_expires INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS kavach_email_accounts_user_id
  ON kavach_email_accounts (user_id);
CREATE UNIQUE INDEX IF NOT EXISTS kavach_email_accounts_verification_token
  ON kavach_email_accounts (verification_token) WHERE verification_token IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS kavach_email_accounts_reset_token
  ON kavach_email_accounts (reset_token) WHERE reset_token IS NOT NULL;
"""


def _postgres_core() -> str:
    """The core DDL's PostgreSQL dialect: TIMESTAMPTZ, BOOLEAN and JSONB."""
    ddl = _SQLITE
    for column in (
        "ban_expires_at",
        "stripe_current_period_end",
        "polar_current_period_end",
        "expires_at",
        "created_at",
        "updated_at",
        "joined_at",
    ):
        ddl = ddl.replace(f"  {column} INTEGER", f"  {column} TIMESTAMPTZ")
    for column in ("banned", "force_password_reset", "email_verified"):
        ddl = ddl.replace(f"  {column} INTEGER DEFAULT 0", f"  {column} BOOLEAN DEFAULT false")
    for column in ("stripe_cancel_at_period_end", "polar_cancel_at_period_end"):
        ddl = ddl.replace(
            f"  {column} INTEGER NOT NULL DEFAULT 0", f"  {column} BOOLEAN NOT NULL DEFAULT false"
        )
    ddl = ddl.replace("  metadata TEXT", "  metadata JSONB")
    return ddl.replace("  permissions TEXT NOT NULL", "  permissions JSONB NOT NULL")


# PostgreSQL's INTEGER is 32-bit: the plugin's millisecond columns need BIGINT there.
_EMAIL_ACCOUNTS_POSTGRES = _EMAIL_ACCOUNTS.replace("_expires INTEGER", "_expires BIGINT").replace(
    "_at INTEGER NOT NULL", "_at BIGINT NOT NULL"
)

SQLITE_DDL = _SQLITE + _EMAIL_ACCOUNTS
POSTGRES_DDL = _postgres_core() + _EMAIL_ACCOUNTS_POSTGRES
# KavachOS's SQLite-flavoured DDL run on PostgreSQL (INTEGER/TEXT everywhere): the one setup
# on which KavachOS 0.2.1's runtime signs users in against PostgreSQL (reference §0).
POSTGRES_SQLITE_FLAVOURED_DDL = _SQLITE + _EMAIL_ACCOUNTS_POSTGRES


def statements(ddl: str) -> list[str]:
    """The DDL as single statements (psycopg runs one statement per execute with params)."""
    return [part.strip() for part in ddl.split(";") if part.strip()]
