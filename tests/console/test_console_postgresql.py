"""The console on PostgreSQL, as an office with several servers runs it: the same pages, scope, logout and
lockout as on the SQLite file, read and written through the one alerts database `serve` uses there."""

from __future__ import annotations

import pytest

from tests.console.test_console import (
    test_a_unit_sees_only_what_was_routed_to_it,
    test_duty_desk_lists_every_alert_loudest_first_with_the_script_as_text,
    test_five_wrong_passwords_lock_the_account_until_an_administrator_resets_it,
    test_logout_ends_the_session_also_for_a_copy_of_its_cookie,
)

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("console", ["postgresql"], indirect=True)]

__all__ = [
    "test_a_unit_sees_only_what_was_routed_to_it",
    "test_duty_desk_lists_every_alert_loudest_first_with_the_script_as_text",
    "test_five_wrong_passwords_lock_the_account_until_an_administrator_resets_it",
    "test_logout_ends_the_session_also_for_a_copy_of_its_cookie",
]
