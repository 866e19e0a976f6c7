import pytest

from composer.errors import InvalidRequest, UnknownName
from composer.request import CompositionRequest, clean_text


def test_request_is_immutable(make_request):
    request = make_request()
    with pytest.raises(Exception):
        request.tempo = 99  # type: ignore[misc]


@pytest.mark.parametrize("options,message", [
    ({"tempo": 0}, "tempo must be between 30 and 300"),
    ({"tempo": 5000}, "tempo must be between 30 and 300"),
    ({"tempo": "fast"}, "tempo must be a whole number"),
    ({"length": 2}, "length must be between 5 and 300"),
    ({"length": 301}, "length must be between 5 and 300"),
    ({"pitch": 13}, "pitch must be between -12 and 12"),
    ({"variations": 5}, "variations must be between 1 and 4"),
    ({"seed": -1}, "seed must be between 0"),
    ({"key": "H major"}, "key must be a note name and mode"),
    ({"meter": "4/5"}, "meter must be one of"),
    ({"format": "flac"}, "format must be one of mp3, ogg, wav"),
    ({"colour": "blue"}, "unknown option 'colour'"),
])
def test_out_of_range_options_name_the_field_and_the_range(make_request, options, message):
    with pytest.raises(InvalidRequest, match=message):
        make_request("happy birthday", **options)


def test_unknown_voice_and_theme_list_what_exists(make_request):
    with pytest.raises(UnknownName, match="unknown voice 'tuba'; voices: drums, ethnic, female, male, metal, piano, synth"):
        make_request(voice="tuba")
    with pytest.raises(UnknownName, match="unknown theme 'polka'; themes: .*birthday.*happy.*sad"):
        make_request(theme="polka")


@pytest.mark.parametrize("prompt", ["", "   ", "\u200b\u200b", "\x00\x01"])
def test_empty_prompts_are_rejected(make_request, prompt):
    with pytest.raises(InvalidRequest, match="prompt is empty"):
        make_request(prompt)


def test_long_prompt_is_rejected_with_the_limit(make_request):
    with pytest.raises(InvalidRequest, match="at most 4000"):
        make_request("la " * 1500)


def test_clean_text_strips_invisible_and_bidi_characters():
    assert clean_text("prompt", "happy\u202e birth\u200bday\n\tsong", 100, required=True) == "happy birthday song"


def test_manifest_round_trip(make_request):
    request = make_request("a sad song in D minor", tempo=70, meter="3/4", length=40, pitch=-2)
    again = CompositionRequest.from_manifest(request.to_manifest())
    assert again.to_manifest() == request.to_manifest()
