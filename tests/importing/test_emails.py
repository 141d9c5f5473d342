import pytest

from authform.importing.emails import choose_email, email_problem

from .factories import user


@pytest.mark.parametrize(
    "email",
    [
        "a@b.co",
        "first.last+tag@sub.example.com",
        "o'brien@example.ie",
        "josé@exämple.es",
        "a_b-c@x-y.io",
    ],
)
def test_valid_addresses(email):
    assert email_problem(email) is None


@pytest.mark.parametrize(
    ("email", "problem"),
    [
        ("", "it is empty"),
        ("no-at-sign.example.com", "it must contain exactly one @"),
        ("two@@example.com", "it must contain exactly one @"),
        ("a@b@example.com", "it must contain exactly one @"),
        ("@example.com", "the part before @ is empty"),
        ("a b@example.com", "it contains spaces or control characters"),
        ("ab@exam\x00ple.com", "it contains spaces or control characters"),
        ("ab\u200b@example.com", "it contains spaces or control characters"),
        ("user@localhost", "the domain must have at least one dot and no empty labels"),
        ("user@example.", "the domain must have at least one dot and no empty labels"),
        ("user@.example.com", "the domain must have at least one dot and no empty labels"),
        ("user@exa..mple.com", "the domain must have at least one dot and no empty labels"),
        ("user@-example.com", "a domain label starts or ends with a hyphen"),
        (".user@example.com", "the part before @ has a misplaced dot"),
        ("us..er@example.com", "the part before @ has a misplaced dot"),
        ('"quoted"@example.com', "it contains a character not allowed in an unquoted address"),
        ("a,b@example.com", "it contains a character not allowed in an unquoted address"),
        ("x" * 65 + "@example.com", "the part before @ is longer than 64 characters"),
        ("a@" + "b" * 250 + ".com", "it is longer than 254 characters"),
    ],
)
def test_invalid_addresses(email, problem):
    assert email_problem(email) == problem


def test_addresses_are_normalized_and_deduplicated_keeping_verification():
    u = user("u", " A@X.io ", "a@x.io", "b@x.io", verified=False, primary="a@x.io")
    choice = choose_email(u, "primary")
    assert [(a.email, a.verified) for a in choice.addresses] == [
        ("a@x.io", False),
        ("b@x.io", False),
    ]
    assert choice.chosen is not None and choice.chosen.email == "a@x.io" and not choice.guessed


def test_primary_policy_prefers_the_marked_primary_over_list_order():
    choice = choose_email(user("u", "a@x.io", "b@x.io", primary="B@x.io"), "primary")
    assert choice.chosen is not None and choice.chosen.email == "b@x.io" and not choice.guessed


def test_primary_policy_without_a_primary_flag_guesses_the_first():
    choice = choose_email(user("u", "a@x.io", "b@x.io"), "primary")
    assert choice.chosen is not None and choice.chosen.email == "a@x.io" and choice.guessed
    single = choose_email(user("u", "a@x.io"), "primary")
    assert not single.guessed


def test_first_policy_ignores_the_primary_and_never_guesses():
    choice = choose_email(user("u", "a@x.io", "b@x.io", primary="b@x.io"), "first")
    assert choice.chosen is not None and choice.chosen.email == "a@x.io" and not choice.guessed


def test_skip_multi_refuses_several_addresses_only():
    assert choose_email(user("u", "a@x.io", "b@x.io"), "skip-multi").chosen is None
    one = choose_email(user("u", "a@x.io", "A@X.IO"), "skip-multi").chosen
    assert one is not None and one.email == "a@x.io"


def test_a_primary_missing_from_the_lists_is_used_but_not_verified():
    choice = choose_email(user("u", "a@x.io", primary="p@x.io"), "primary")
    assert choice.chosen is not None
    assert (choice.chosen.email, choice.chosen.verified) == ("p@x.io", False)
