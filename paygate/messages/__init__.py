"""Codecs: ISO 20022 and SWIFT MT, translation with loss reports, hardened XML."""
