"""Argument matchers: the literal rule, each matcher, compile errors, descriptions."""

from __future__ import annotations

import pytest

from evalkit.matchers import (
    Absent,
    AnyOf,
    Anything,
    Approx,
    Equals,
    Fields,
    Items,
    MatcherError,
    Regex,
    compile_arguments,
    compile_matcher,
    describe_arguments,
    values_equal,
)

# --- the literal rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "got"),
    [
        (5, 5.0),
        (5.0, 5),
        (0, -0.0),
        (True, True),
        (False, False),
        ("Paris", "Paris"),
        (None, None),
        ([1, "a", None], [1.0, "a", None]),
        ({"a": 1, "b": [True]}, {"b": [True], "a": 1.0}),
        ({"a": {"b": {"c": "d"}}}, {"a": {"b": {"c": "d"}}}),
        ([], []),
        ({}, {}),
    ],
)
def test_literal_rule_equal(expected, got):
    assert values_equal(expected, got)
    assert Equals(value=expected).mismatch(got) is None


@pytest.mark.parametrize(
    ("expected", "got"),
    [
        (True, 1),
        (1, True),
        (False, 0),
        (0, False),
        (True, 1.0),
        (5, 5.5),
        (5, "5"),
        ("5", 5),
        ("Paris", "paris"),
        ("Paris", "Paris "),
        (None, 0),
        (None, ""),
        (None, False),
        (0, None),
        ("", None),
        ([1, 2], [2, 1]),
        ([1, 2], [1, 2, 3]),
        ([1], 1),
        ({"a": 1}, {"a": 1, "b": 2}),
        ({"a": 1, "b": 2}, {"a": 1}),
        ({"a": {"b": 1}}, {"a": {"b": 2}}),
        ({"a": 1}, [("a", 1)]),
        ({}, []),
    ],
)
def test_literal_rule_not_equal(expected, got):
    assert not values_equal(expected, got)
    assert Equals(value=expected).mismatch(got) is not None


def test_ignore_case_relaxes_strings_only_and_recurses():
    assert values_equal("PARIS", "paris", ignore_case=True)
    assert values_equal("Straße", "STRASSE", ignore_case=True)  # casefold, not lower
    assert values_equal(["A", {"k": "B"}], ["a", {"k": "b"}], ignore_case=True)
    assert not values_equal({"K": 1}, {"k": 1}, ignore_case=True)  # keys stay exact
    assert not values_equal("Paris", "Pari", ignore_case=True)


def test_equals_mismatch_message():
    assert Equals(value="Paris").mismatch("Rome") == "expected 'Paris', got 'Rome'"
    assert Equals(value="Paris", ignore_case=True).mismatch("Rome") == "expected 'Paris' (any case), got 'Rome'"
    assert Equals(value=True).mismatch(1) == "expected True, got 1"


# --- compiling: literals ------------------------------------------------------------------------


def test_plain_values_compile_to_equals():
    assert compile_matcher("Paris", "p") == Equals(value="Paris")
    assert compile_matcher(3, "p") == Equals(value=3)
    assert compile_matcher(None, "p") == Equals(value=None)
    assert compile_matcher(False, "p") == Equals(value=False)


def test_a_nested_object_checks_the_keys_it_names_like_the_arguments_do():
    # Issue 12: nested objects follow the top-level rule (unnamed keys ignored; {equals: ...} is exact).
    matcher = compile_matcher({"city": {"regex": "Par.*"}, "n": 2}, "p")
    assert isinstance(matcher, Fields) and not matcher.exact
    assert matcher.mismatch({"city": "Paris", "n": 2.0}) is None
    assert matcher.mismatch({"city": "Rome", "n": 2}) == (
        "city: expected a string that fully matches /Par.*/, got 'Rome'"
    )
    assert matcher.mismatch({"city": "Paris", "n": 2, "x": 1}) is None
    exact = compile_matcher({"equals": {"city": "Paris"}}, "p")
    assert exact.mismatch({"city": "Paris", "x": 1}) is not None
    assert compile_matcher({}, "p").mismatch({"x": 1}) is not None  # {} is an empty object
    assert matcher.mismatch({"city": "Paris"}) == "n: missing (expected 2)"
    assert matcher.mismatch("Paris") == "expected an object, got 'Paris'"


def test_literal_array_compiles_to_items_in_order():
    matcher = compile_matcher([1, {"regex": "a+"}], "p")
    assert isinstance(matcher, Items)
    assert matcher.mismatch([1.0, "aaa"]) is None
    assert matcher.mismatch(["aaa", 1]) == "[0]: expected 1, got 'aaa'"
    assert matcher.mismatch([1]) == "expected a list of 2, got [1]"
    assert matcher.mismatch("1, a") == "expected a list of 2, got '1, a'"


def test_empty_object_expects_an_empty_object():
    matcher = compile_matcher({}, "p")
    assert matcher.mismatch({}) is None
    assert matcher.mismatch({"a": 1}) is not None


def test_object_with_only_a_modifier_key_like_name_is_a_literal():
    # "optional" is a matcher key, but with no primary matcher beside ordinary keys it is data.
    matcher = compile_matcher({"optional": True, "name": "x"}, "p")
    assert isinstance(matcher, Fields)
    assert matcher.mismatch({"optional": True, "name": "x"}) is None


def test_equals_wraps_an_object_whose_keys_look_like_matchers():
    matcher = compile_matcher({"equals": {"regex": "a.*"}}, "p")
    assert matcher == Equals(value={"regex": "a.*"})
    assert matcher.mismatch({"regex": "a.*"}) is None
    assert matcher.mismatch("abc") is not None


# --- each matcher -------------------------------------------------------------------------------


def test_equals_matcher_and_ignore_case():
    assert compile_matcher({"equals": 5}, "p").mismatch(5.0) is None
    assert compile_matcher({"equals": "Paris"}, "p").mismatch("paris") is not None
    relaxed = compile_matcher({"equals": "Paris", "ignore_case": True}, "p")
    assert relaxed == Equals(value="Paris", ignore_case=True)
    assert relaxed.mismatch("PARIS") is None


def test_any_of_literals():
    matcher = compile_matcher({"any_of": ["Celsius", "Fahrenheit"]}, "p")
    assert isinstance(matcher, AnyOf)
    assert matcher.mismatch("Celsius") is None
    assert matcher.mismatch("Fahrenheit") is None
    assert matcher.mismatch("celsius") == "expected one of ['Celsius', 'Fahrenheit'], got 'celsius'"


def test_any_of_with_nested_matchers():
    matcher = compile_matcher({"any_of": [{"regex": "San Francisco(, CA)?"}, {"approx": 3, "tol": 0.5}, None]}, "p")
    assert matcher.mismatch("San Francisco, CA") is None
    assert matcher.mismatch(3.4) is None
    assert matcher.mismatch(None) is None
    assert matcher.mismatch(4) == "expected one of ['/San Francisco(, CA)?/', '3.0±0.5', None], got 4"
    nested = compile_matcher({"any_of": [{"any_of": [1, 2]}, {"city": "Paris"}]}, "p")
    assert nested.mismatch(2) is None
    assert nested.mismatch({"city": "Paris"}) is None
    assert nested.mismatch({"city": "Paris", "x": 1}) is None  # other keys are ignored, as at the top level
    assert nested.mismatch({"city": "Rome"}) is not None
    assert nested.mismatch(3) is not None


def test_any_of_ignore_case_reaches_its_options():
    matcher = compile_matcher({"any_of": ["Celsius", {"regex": "fahr.*"}], "ignore_case": True}, "p")
    assert matcher.mismatch("CELSIUS") is None
    assert matcher.mismatch("Fahrenheit") is None
    assert matcher.mismatch("Kelvin") is not None


def test_regex_is_a_full_match():
    matcher = compile_matcher({"regex": "Paris"}, "p")
    assert matcher == Regex(pattern="Paris")
    assert matcher.mismatch("Paris") is None
    assert (
        matcher.mismatch("Paris, France")
        == "expected a string that fully matches /Paris/ (only a part matches: add .* for the rest), got 'Paris, France'"
    )
    assert matcher.mismatch("in Paris") is not None
    assert matcher.mismatch("paris") is not None
    assert compile_matcher({"regex": "Paris", "ignore_case": True}, "p").mismatch("PARIS") is None


def test_regex_rejects_non_strings():
    matcher = compile_matcher({"regex": r"\d+"}, "p")
    assert matcher.mismatch("42") is None
    assert matcher.mismatch(42) == r"expected a string that fully matches /\d+/, got 42"


def test_approx_with_tolerance():
    matcher = compile_matcher({"approx": 20, "tol": 0.5}, "p")
    assert matcher == Approx(value=20.0, tol=0.5)
    assert matcher.mismatch(20) is None
    assert matcher.mismatch(20.5) is None
    assert matcher.mismatch(19.5) is None
    assert matcher.mismatch(20.6) == "expected 20.0 ± 0.5, got 20.6"
    assert matcher.mismatch("20") is not None
    assert matcher.mismatch(True) is not None  # booleans are not numbers


def test_approx_default_tolerance_is_tight():
    matcher = compile_matcher({"approx": 0.1}, "p")
    assert matcher.mismatch(0.1 + 1e-9) is None
    assert matcher.mismatch(0.1001) is not None
    assert compile_matcher({"approx": 1, "tol": 0}, "p").mismatch(1.0) is None


def test_anything_needs_the_argument_present():
    fields = compile_arguments({"q": {"anything": True}})
    assert isinstance(fields.fields[0][1], Anything)
    for value in ("x", 0, None, [], {"a": 1}, False):
        assert fields.mismatch({"q": value}) is None
    assert fields.mismatch({}) == "q: missing (expected anything)"


def test_absent_fails_when_present_and_passes_when_left_out():
    fields = compile_arguments({"unit": {"absent": True}})
    assert fields.fields[0][1] == Absent()
    assert fields.mismatch({}) is None
    assert fields.mismatch({"other": 1}) is None
    assert fields.mismatch({"unit": None}) == "unit: must be absent, got None"
    assert fields.mismatch({"unit": "C"}) == "unit: must be absent, got 'C'"


def test_optional_lets_the_argument_be_left_out_but_checks_it_when_present():
    fields = compile_arguments({"days": {"equals": 3, "optional": True}, "city": "Paris"})
    assert fields.mismatch({"city": "Paris"}) is None
    assert fields.mismatch({"city": "Paris", "days": 3.0}) is None
    assert fields.mismatch({"city": "Paris", "days": 4}) == "days: expected 3, got 4"
    assert fields.mismatch({"days": 3}) == "city: missing (expected 'Paris')"
    optional_any = compile_arguments({"u": {"any_of": ["C", "F"], "optional": True}})
    assert optional_any.mismatch({}) is None
    assert optional_any.mismatch({"u": "K"}) is not None


def test_fields_ignore_unnamed_arguments_unless_exact():
    loose = compile_arguments({"city": "Paris"})
    exact = compile_arguments({"city": "Paris"}, exact=True)
    assert loose.mismatch({"city": "Paris", "unit": "C"}) is None
    assert exact.mismatch({"city": "Paris", "unit": "C"}) == "unit: not expected, got 'C'"
    assert exact.mismatch({"city": "Paris"}) is None


def test_fields_list_every_reason():
    fields = compile_arguments({"a": 1, "b": {"regex": "x"}, "c": True})
    assert fields.mismatches({"a": 2, "b": "y"}) == [
        "a: expected 1, got 2",
        "b: expected a string that fully matches /x/, got 'y'",
        "c: missing (expected True)",
    ]
    assert fields.mismatch({"a": 2, "b": "x", "c": True}) == "a: expected 1, got 2"


def test_compile_arguments_of_none_is_no_arguments():
    fields = compile_arguments(None)
    assert fields == Fields()
    assert fields.mismatch({}) is None
    assert fields.mismatch({"anything": 1}) is None


# --- compile errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "path", "message"),
    [
        (
            {"a": {"regex": "("}},
            "arguments.a",
            "regex '(' does not compile: missing ) at position 1",
        ),
        ({"a": {"regex": 5}}, "arguments.a", "regex needs a string pattern, got 5"),
        ({"a": {"regex": "a", "tol": 1}}, "arguments.a", "'tol' goes with 'approx'"),
        (
            {"a": {"tol": 1}},
            "arguments.a",
            "has ['tol'] but no matcher; add one of ['equals', 'any_of', 'regex', 'approx', 'anything', 'absent', 'not', 'none_of']",
        ),
        (
            {"a": {"optional": True}},
            "arguments.a",
            "has ['optional'] but no matcher; add one of ['equals', 'any_of', 'regex', 'approx', 'anything', 'absent', 'not', 'none_of']",
        ),
        (
            {"a": {"regex": "a", "city": "x"}},
            "arguments.a",
            "mixes matcher keys ['regex'] with other keys ['city']; wrap a literal object in {equals: ...}",
        ),
        ({"a": {"any_of": "Celsius"}}, "arguments.a", "any_of needs a non-empty list, got 'Celsius'"),
        ({"a": {"any_of": []}}, "arguments.a", "any_of needs a non-empty list, got []"),
        ({"a": {"any_of": {"x": 1}}}, "arguments.a", "any_of needs a non-empty list, got {'x': 1}"),
        (
            {"a": {"equals": 1, "regex": "1"}},
            "arguments.a",
            "has several matchers ['equals', 'regex']; use one of ['equals', 'any_of', 'regex', 'approx', 'anything', 'absent', 'not', 'none_of'] per value",
        ),
        ({"a": {"approx": "20"}}, "arguments.a", "approx needs a number, got '20'"),
        ({"a": {"approx": True}}, "arguments.a", "approx needs a number, got True"),
        ({"a": {"approx": 1, "tol": "0.1"}}, "arguments.a", "tol needs a number, got '0.1'"),
        ({"a": {"approx": 1, "tol": -0.5}}, "arguments.a", "tol must be zero or more, got -0.5"),
        (
            {"a": {"approx": 1, "ignore_case": True}},
            "arguments.a",
            "'ignore_case' does not go with approx; it goes with equals, any_of, regex, not or none_of",
        ),
        ({"a": {"anything": False}}, "arguments.a", "anything takes 'true', got False"),
        ({"a": {"absent": "yes"}}, "arguments.a", "absent takes 'true', got 'yes'"),
        ({"a": {"equals": 1, "optional": "yes"}}, "arguments.a", "optional takes true or false, got 'yes'"),
        ({"a": {"regex": "x", "ignore_case": 1}}, "arguments.a", "ignore_case takes true or false, got 1"),
        (
            {"a": {"any_of": ["x", {"regex": "["}]}},
            "arguments.a.any_of[1]",
            "regex '[' does not compile: unterminated character set at position 1",
        ),
        (
            {"a": {"b": {"c": {"tol": 1}}}},
            "arguments.a.b.c",
            "has ['tol'] but no matcher; add one of ['equals', 'any_of', 'regex', 'approx', 'anything', 'absent', 'not', 'none_of']",
        ),
        ({"a": [1, {"absent": False}]}, "arguments.a[1]", "absent takes 'true', got False"),
    ],
)
def test_compile_errors_name_the_path_and_the_problem(raw, path, message):
    with pytest.raises(MatcherError) as info:
        compile_arguments(raw)
    assert str(info.value) == message
    assert info.value.path == path


def test_compile_arguments_needs_a_mapping():
    with pytest.raises(MatcherError) as info:
        compile_arguments(["Paris"], path="cases[0].arguments")
    assert str(info.value) == "expected a mapping of argument name to expected value, got ['Paris']"
    assert info.value.path == "cases[0].arguments"


# --- describe_arguments -------------------------------------------------------------------------


def test_describe_arguments_shows_every_kind():
    fields = compile_arguments(
        {
            "city": "Paris",
            "unit": {"any_of": ["C", "F"]},
            "days": {"equals": 3, "optional": True},
            "temp": {"approx": 20, "tol": 0.5},
            "name": {"regex": "P.*"},
            "q": {"anything": True},
            "secret": {"absent": True},
            "n": None,
            "flag": True,
        }
    )
    assert describe_arguments(fields) == (
        "city='Paris', unit=one of ['C', 'F'], days?=3, temp=20.0±0.5, name=/P.*/, q=anything, secret=<absent>, n=None, flag=True"
    )


def test_describe_arguments_shows_literal_objects_and_arrays():
    fields = compile_arguments({"where": {"city": "Paris", "zip": {"regex": r"\d+"}}, "ids": [1, 2]})
    assert describe_arguments(fields) == r"where={'city': 'Paris', 'zip': '/\\d+/'}, ids=[1, 2]"


def test_describe_no_arguments_is_empty():
    assert describe_arguments(compile_arguments({})) == ""


# --- negation (issue 13) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "good", "bad"),
    [
        ({"not": "C-100"}, ["C-200", 5, None], ["C-100"]),
        ({"not": 5}, [6, "5"], [5, 5.0]),
        ({"none_of": ["a", {"regex": "b.*"}]}, ["c", "A"], ["a", "bee"]),
        ({"none_of": ["a"], "ignore_case": True}, ["b"], ["a", "A"]),
        ({"not": {"any_of": [1, 2]}}, [3], [1, 2.0]),
    ],
)
def test_not_and_none_of(raw, good, bad):
    matcher = compile_matcher(raw, "arguments.x")
    for value in good:
        assert matcher.mismatch(value) is None, value
    for value in bad:
        assert matcher.mismatch(value).startswith("expected anything but"), value


def test_a_negated_argument_must_still_be_there_unless_optional():
    assert compile_arguments({"x": {"not": 1}}).mismatch({}) == "x: missing (expected not 1)"
    assert compile_arguments({"x": {"not": 1, "optional": True}}).mismatch({}) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"none_of": []}, "none_of needs a non-empty list, got []"),
        (
            {"not": {"absent": True}},
            "'not' takes a value or a matcher that needs the argument (not optional or absent)",
        ),
        ({"not": 1, "regex": "x"}, "has several matchers ['regex', 'not']; use one of"),
    ],
)
def test_bad_negations_are_errors(raw, message):
    with pytest.raises(MatcherError) as info:
        compile_matcher(raw, "arguments.x")
    assert str(info.value).startswith(message)


def test_a_pattern_that_runs_out_of_time_is_undecided_and_a_not_does_not_pass_it():
    slow = "a" * 40 + "!"  # (a|a)*$ backtracks exponentially on it
    regex = compile_matcher({"regex": "(a|a)*$"}, "arguments.x")
    assert regex.mismatch(slow) is not None and regex.undecided(slow)
    negated = compile_matcher({"not": {"regex": "(a|a)*$"}}, "arguments.x")
    assert negated.undecided(slow)
    assert "could not tell whether" in negated.mismatch(slow)
    assert not compile_matcher({"regex": "b+"}, "arguments.x").undecided("a")


@pytest.mark.parametrize(
    ("raw", "typo", "meant"), [({"regx": "Paris.*"}, "regx", "regex"), ({"any_off": [1]}, "any_off", "any_of")]
)
def test_a_misspelt_matcher_key_is_an_error_listing_the_valid_keys(raw, typo, meant):
    with pytest.raises(MatcherError) as info:
        compile_matcher(raw, "arguments.city")
    assert str(info.value) == (
        f"unknown matcher key {typo!r} (did you mean {meant!r}?). Valid matcher keys: absent, any_of, anything, "
        "approx, equals, ignore_case, none_of, not, optional, regex, tol; write {equals: {...}} for a literal "
        "object with such a key"
    )
