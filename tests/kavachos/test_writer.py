"""Group commit: concurrent changes share transactions, and a failing change fails alone."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from authform.providers.kavachos import statements as sql
from authform.providers.kavachos.codec import Codec, inspect_database
from authform.providers.kavachos.database import DatabaseError, RowError, connect
from authform.providers.kavachos.schema import EMAIL_ACCOUNTS, USERS
from authform.providers.kavachos.writer import Change, GroupCommitter

from .conftest import KavachCli
from .databases import KavachDatabase, sqlite_database


def _link(row_id: str, user: str | None) -> Change:
    change = Change()
    change.add(sql.INSERT_OAUTH, [row_id, user, "github", row_id, "", 1, 1])
    return change


def test_concurrent_changes_share_transactions_and_a_bad_one_fails_alone(
    tmp_path: Path,
) -> None:
    kavach = sqlite_database(tmp_path)
    db = connect(kavach.url)
    committer = GroupCommitter(db, sql.ORDER)

    async def run() -> list[BaseException | None]:
        changes = [_link(f"oac_{n}", None if n == 7 else f"user_{n}") for n in range(50)]
        return await asyncio.gather(
            *(committer.submit(change) for change in changes), return_exceptions=True
        )

    outcomes = asyncio.run(run())
    db.close()
    failed = [n for n, outcome in enumerate(outcomes) if outcome is not None]
    assert failed == [7]  # user_id is NOT NULL: that change, and only it, is refused
    assert isinstance(outcomes[7], DatabaseError)
    assert "NOT NULL" in str(outcomes[7])
    assert kavach.count("kavach_oauth_accounts") == 49
    # The failed batch was halved until the bad change stood alone: the good ones committed
    # in a handful of transactions (one per half that held no bad row), not one each.
    assert committer.transactions <= 12


def test_successful_changes_need_few_transactions(tmp_path: Path) -> None:
    kavach = sqlite_database(tmp_path)
    db = connect(kavach.url)
    committer = GroupCommitter(db, sql.ORDER)

    async def run() -> None:
        await asyncio.gather(*(committer.submit(_link(f"oac_{n}", "u")) for n in range(200)))

    asyncio.run(run())
    db.close()
    assert kavach.count("kavach_oauth_accounts") == 200
    assert committer.transactions <= 2


def test_an_oauth_account_linked_to_someone_else_is_refused_for_that_user_only(
    kavach_cli: KavachCli,
) -> None:
    db = kavach_cli.db
    stamp = "'2023-11-14T22:13:20Z'" if db.backend == "postgres" else "1700000000"
    db.execute(
        "INSERT INTO kavach_oauth_accounts (id, user_id, provider, provider_account_id, "
        f"access_token, created_at, updated_at) VALUES ('oac_native', 'usr_other', 'google', "
        f"'olivia-google-sub', '', {stamp}, {stamp})"
    )
    manifest = kavach_cli.write()
    result = kavach_cli.run("apply", "--auto-approve", str(manifest))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "google account olivia-google-sub is already linked to KavachOS user usr_other" in (
        result.output
    )
    assert db.count("kavach_users") == 4  # everyone else imported
    links = db.query(
        "SELECT user_id FROM kavach_oauth_accounts WHERE provider_account_id = 'olivia-google-sub'"
    )
    assert links == [("usr_other",)]  # no second link for the same account


def test_a_row_the_database_refuses_fails_alone_in_a_bulk_batch(kavach_cli: KavachCli) -> None:
    """The bulk path writes a phase's users in one transaction. A row the database refuses,
    which no plan can foresee (here a rule the application added to its KavachOS table),
    splits the batch until that user stands alone: it fails naming the database's reason,
    and every other user of the batch is imported."""
    db = kavach_cli.db
    if db.postgres:
        db.execute(
            "ALTER TABLE kavach_users ADD CONSTRAINT no_example_org "
            "CHECK (email NOT LIKE '%@example.org')"
        )
    else:
        db.execute(
            "CREATE TRIGGER no_example_org BEFORE INSERT ON kavach_users "
            "WHEN NEW.email LIKE '%@example.org' "
            "BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: no_example_org'); END"
        )
    result = kavach_cli.run("apply", "--auto-approve", str(kavach_cli.write()))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert re.search(r"user\.user_2aLinus00000000000000003.*no_example_org", result.output, re.S)
    emails = {row[0] for row in db.query("SELECT email FROM kavach_users")}
    assert emails == {
        "ada@example.com",
        "grace.hopper@example.com",
        "olivia@example.com",
        "una@example.com",
    }, emails
    # Linus owns Globex, so Globex's row (written with its owner's) fails the same way, alone
    # in its batch: Acme is written; Globex's memberships are held back, Acme's written.
    assert re.search(r"FAILED organization\.org_2aGlobx\S*: .*no_example_org", result.output)
    assert db.query("SELECT id FROM kavach_organizations") == [("org_2aAcme000000000000000001",)]
    assert db.count("kavach_org_members") == 2


def _user(codec: Codec, user_id: str, email: str | None, name: str) -> Change:
    stamp = codec.put(USERS, "created_at", 1_700_000_000)
    change = Change()
    change.add(
        sql.INSERT_USER,
        [
            user_id,
            email,
            name,
            user_id,
            "clerk",
            codec.put(USERS, "metadata", {"image_url": f"https://img.example/{user_id}"}),
            codec.put(USERS, "email_verified", True),
            codec.put(USERS, "force_password_reset", False),
            stamp,
            stamp,
        ],
    )
    return change


def test_a_large_batch_commits_in_one_transaction_and_a_bad_row_fails_alone(
    kavach_db_two: KavachDatabase,
) -> None:
    """Hundreds of rows of one insert (PostgreSQL takes them by COPY through a staging
    table, SQLite by executemany): one transaction when every row fits; a refused row is
    found by halving and fails alone; the same id twice in one batch ends as the last
    write left it, as a rerun would."""
    kavach = kavach_db_two
    db = connect(kavach.url)
    codec = inspect_database(db, [USERS])
    committer = GroupCommitter(db, sql.ORDER)
    good = [_user(codec, f"user_{n}", f"u{n}@example.com", "First") for n in range(300)]
    assert committer.commit(good) == [None] * 300
    assert committer.transactions == 1

    changes = [_user(codec, f"user_{n}", f"u{n}@example.com", "Second") for n in range(300, 600)]
    changes[77] = _user(codec, "user_377", None, "Second")  # email is NOT NULL
    changes.append(_user(codec, "user_0", "u0@example.com", "Renamed"))
    changes.append(_user(codec, "user_0", "u0@example.com", "Renamed again"))
    outcomes = committer.commit(changes)
    if kavach.postgres:  # the COPY path ran: its staging table is in this session
        staged = db.fetch(
            "SELECT count(*) FROM pg_tables WHERE starts_with(tablename, 'authform_stage')"
        )
        assert staged[0][0] >= 1
    db.close()
    assert [n for n, outcome in enumerate(outcomes) if outcome is not None] == [77]
    assert isinstance(outcomes[77], RowError)
    assert "null" in str(outcomes[77]).lower() and "email" in str(outcomes[77])
    assert kavach.count("kavach_users") == 599
    assert kavach.query("SELECT name FROM kavach_users WHERE id = 'user_0'") == [("Renamed again",)]
    assert committer.transactions <= 12  # halving to the bad row, not a transaction each


def test_rows_already_there_or_twice_in_a_batch_converge_as_upserts(
    kavach_db_two: KavachDatabase,
) -> None:
    """PostgreSQL COPYs a batch of new rows straight into the table; a row whose id is there
    already (a rerun, a concurrent apply) or twice in the batch makes the table refuse that
    COPY, and the batch then goes through the staging table with the upsert's rule: the
    result is what one upsert per row gives, in the same transaction, with nothing else of
    the batch lost (here each batch also writes a second statement's rows)."""
    kavach = kavach_db_two
    db = connect(kavach.url)
    codec = inspect_database(db, [USERS, EMAIL_ACCOUNTS])
    committer = GroupCommitter(db, sql.ORDER)

    def user_with_password(n: int, name: str, digest: str) -> Change:
        change = _user(codec, f"user_{n}", f"u{n}@example.com", name)
        stamp = codec.put(EMAIL_ACCOUNTS, "created_at", 1_700_000_000)
        verified = codec.put(EMAIL_ACCOUNTS, "email_verified", True)
        row = [f"eml_{n}", f"user_{n}", digest, verified, stamp, stamp]
        change.add(sql.INSERT_EMAIL_ACCOUNT, row)
        return change

    fresh = [user_with_password(n, "First", "digest-1") for n in range(100)]
    assert committer.commit(fresh) == [None] * 100
    # 50 rows there already, 100 new, and a new id twice: users update (the last write
    # wins), password rows are kept (the first write wins), as one upsert per row leaves them
    mixed = [user_with_password(n, "Second", "digest-2") for n in range(50, 200)]
    mixed.append(user_with_password(150, "Third", "digest-3"))
    assert committer.commit(mixed) == [None] * 151
    db.close()

    assert committer.transactions == 2
    assert kavach.count("kavach_users") == 200
    assert kavach.count("kavach_email_accounts") == 200
    names = dict(kavach.query("SELECT id, name FROM kavach_users"))
    assert {names[f"user_{n}"] for n in range(50)} == {"First"}
    assert {names[f"user_{n}"] for n in range(50, 200) if n != 150} == {"Second"}
    assert names["user_150"] == "Third"
    digests = dict(kavach.query("SELECT user_id, password_hash FROM kavach_email_accounts"))
    assert {digests[f"user_{n}"] for n in range(100)} == {"digest-1"}
    assert {digests[f"user_{n}"] for n in range(100, 200)} == {"digest-2"}
