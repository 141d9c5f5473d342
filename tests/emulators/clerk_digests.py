"""One well-formed password digest per hasher Clerk accepts, for the emulator's and the
importer's tests (none is a real account's; only the bcrypt one has a known password)."""

from __future__ import annotations

import bcrypt

PASSWORD = "correct horse battery staple"
DIGEST = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()

SAMPLE_DIGESTS: dict[str, str] = {
    "argon2i": "$argon2i$v=19$m=4096,t=3,p=1$4t6CL3P7YiHBtwESXawI8Hm20zJj4cs7/4/G3c187e0"
    "$m7RQFczcKr5bIR0IIxbpO2P0tyrLjf3eUW3M3QSwnLc",
    "argon2id": "$argon2id$v=19$m=64,t=4,p=8$Z2liZXJyaXNo"
    "$iGXEpMBTDYQ8G/71tF0qGjxRHEmR3gpGULcE93zUJVU",
    "awscognito": "awscognito#us-east-1_abc#client123#ada@example.com",
    "bcrypt": DIGEST,
    "bcrypt_peppered": DIGEST + "$pepper",
    "bcrypt_sha256_django": "bcrypt_sha256$" + DIGEST,
    "hmac_sha256_utf16_b64": "hmac_sha256_utf16_b64$q83vEjRWeJA=$secret-key",
    "ldap_ssha": "{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g9MqVxCgHOMg==",
    "md5": "5f4dcc3b5aa765d61d8327deb882cf99",
    "md5_phpass": "$H$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0",
    "md5_salted": "saltsalt$5f4dcc3b5aa765d61d8327deb882cf99",
    "pbkdf2_sha1": "pbkdf2_sha1$10000$73616c74$a3f2c1b0e1d2c3b4a5968778695a4b3c2d1e0f1a",
    "pbkdf2_sha256": "pbkdf2_sha256$260000$c2FsdHNhbHQ"
    "$3Wq1Yk0bqkqkq0n2m6u1m3lKq8g8b1m1Vq6Xv5j5nqA=",
    "pbkdf2_sha256_django": "pbkdf2_sha256$600000$rawsalt"
    "$3Wq1Yk0bqkqkq0n2m6u1m3lKq8g8b1m1Vq6Xv5j5nqA=",
    "pbkdf2_sha512": "pbkdf2_sha512$100000$rawsalt$" + "ab" * 64,
    "pbkdf2_sha512_hex": "pbkdf2_sha512_hex$100000$73616c74$" + "cd" * 64,
    "phpass": "$P$984478476IagS59wHZvyQMArzfx58u.",
    "scrypt_firebase": "aGFzaA==$c2FsdA==$c2lnbmVy$Bw==$8$14",
    "scrypt_werkzeug": "scrypt:32768:8:1$salt16chars$" + "ef" * 64,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "sha256_salted": "saltsalt$9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "sha512_symfony": "sha512_symfony$5000$salt$c2hhNTEyLWhhc2g=",
}
