"""Accounts, sign-in, roles × scope × mode (Art. 49-11), and the audit log."""
