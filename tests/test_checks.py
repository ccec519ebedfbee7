"""Named checks that can be switched off (qa/verify/checks.py) and their setting."""
import pytest

from qa.verify.checks import CHECKS, DEFAULT_OFF, parse_off
from qa.settings import Settings


def test_a_comma_list_names_the_checks_switched_off_besides_those_off_by_default():
    assert DEFAULT_OFF == {"scope", "unit", "place", "contrast"}
    assert parse_off(" gate, unit ,,") == frozenset({"gate", "unit", "scope", "place", "contrast"})
    assert parse_off("") == parse_off(None) == DEFAULT_OFF


def test_a_plus_switches_a_check_on():
    assert parse_off("+scope,+unit,+place,+contrast") == frozenset()
    assert parse_off("+scope,frame,place") == frozenset({"place", "unit", "frame", "contrast"})
    assert parse_off("+place") == frozenset({"scope", "unit", "contrast"})


def test_an_unknown_check_is_an_error_that_lists_the_known_ones():
    with pytest.raises(ValueError) as err:
        parse_off("gate,nosuch")
    assert "nosuch" in str(err.value) and all(name in str(err.value) for name in CHECKS)


def test_settings_read_the_switched_off_checks_from_the_environment(monkeypatch):
    monkeypatch.setenv("QA_ABLATE", "frame,delete")
    assert Settings.load().checks_off == frozenset({"frame", "delete"}) | DEFAULT_OFF
    assert Settings.load(ablate="gate").checks_off == frozenset({"gate"}) | DEFAULT_OFF
    monkeypatch.setenv("QA_ABLATE", "framing")
    with pytest.raises(ValueError, match="framing"):
        Settings.load()
