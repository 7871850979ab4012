"""Accounts: handles and sign-up."""
