"""KavachOS 0.2.1 as a target: the database KavachOS reads, written directly."""

from authform.providers.kavachos.provider import CAPABILITIES, KavachOSProvider

__all__ = ["CAPABILITIES", "KavachOSProvider"]
