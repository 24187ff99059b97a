"""The shared pieces under the hosted providers: error classification, download,
dot paths and templates."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.fake_providers import FakeServer, Reply, Request, tiny_mp4
from workbench.providers.base import PermanentError, TransientError
from workbench.providers.hosted import json_paths, templates
from workbench.providers.hosted.download import check_decodes, download_file
from workbench.providers.hosted.http_client import (
    ApiClient,
    check_http_url,
    excerpt,
    parse_retry_after,
    same_origin,
)

KEY = "sk-DISTINCTIVE-engine-31337"


# -- Retry-After ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", 120.0), ("1.5", 1.5), (" 3 ", 3.0), ("-4", 0.0), ("soon", None), ("", None), (None, None), ("inf", None)],
)
def test_retry_after_seconds(value, expected):
    assert parse_retry_after(value) == expected


def test_retry_after_http_date():
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now=now) == 0.0


# -- messages and URLs ------------------------------------------------------------------


def test_excerpt_redacts_before_shortening():
    body = "x" * 290 + KEY + "y" * 200
    short = excerpt(body, [KEY], limit=300)
    assert len(short) <= 300
    assert "sk-DIST" not in short
    assert excerpt("  a \n\n b  ") == "a b"
    assert excerpt("") == "(empty body)"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://h/x.mp4", "data:video/mp4;base64,AA", "javascript:alert(1)", "JAVASCRIPT:x"])
def test_only_http_urls_are_accepted(url):
    scheme = url.split(":", 1)[0].lower()
    with pytest.raises(PermanentError, match=f"'{scheme}:'"):
        check_http_url(url, "result")


@pytest.mark.parametrize("url", ["", None, 42, "/relative/path", "http://"])
def test_unusable_urls_are_refused(url):
    with pytest.raises(PermanentError):
        check_http_url(url, "result")


def test_http_and_https_pass():
    assert check_http_url(" https://cdn.example/v.mp4 ", "x") == "https://cdn.example/v.mp4"
    assert check_http_url("HTTP://cdn.example/v.mp4", "x") == "HTTP://cdn.example/v.mp4"


def test_same_origin():
    assert same_origin("https://a.example/x", "https://a.example:443/y")
    assert not same_origin("https://a.example/x", "https://b.example/x")
    assert not same_origin("http://a.example/x", "https://a.example/x")
    assert not same_origin("http://127.0.0.1:1/x", "http://127.0.0.1:2/x")


# -- dot paths ------------------------------------------------------------------------------


DOC = {"data": {"id": "j1", "files": [{"url": "u0"}, {"url": "u1"}], "map": {"0": "zero"}}, "flag": None}


@pytest.mark.parametrize(
    ("path", "value"),
    [("data.id", "j1"), ("data.files.1.url", "u1"), ("data.files.-1.url", "u1"), ("data.map.0", "zero"), ("flag", None)],
)
def test_resolve(path, value):
    assert json_paths.resolve(DOC, path) == value


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("data.nope", "no 'nope' in data"),
        ("data.files.5.url", "index 5 out of range"),
        ("data.files.url", "'url' is not an index"),
        ("data.id.x", "is a str"),
        ("flag.x", "is null"),
    ],
)
def test_resolve_explains_what_is_missing(path, reason):
    with pytest.raises(json_paths.PathNotFound, match=reason):
        json_paths.resolve(DOC, path)
    assert json_paths.lookup(DOC, path, "dflt") == "dflt"


@pytest.mark.parametrize("path", ["", "a..b", ".a", "a.", "  "])
def test_bad_paths_are_rejected(path):
    with pytest.raises(ValueError):
        json_paths.check_path(path)


# -- templates ------------------------------------------------------------------------------


VALUES = {"prompt": "a cat", "seed": 42, "duration": 5.0, "fps": None, "aspect_ratio": "16:9", "model": "m"}


def test_exact_placeholder_keeps_the_raw_value():
    out = templates.render(
        {"seed": "{seed}", "d": "{duration}", "fps": "{fps}", "list": ["{seed}", "s{seed}"], "n": 3, "b": True}, VALUES
    )
    assert out == {"seed": 42, "d": 5, "fps": None, "list": [42, "s42"], "n": 3, "b": True}


def test_embedded_placeholders_render_as_text():
    assert templates.render_string("{duration}s at {fps} fps: {prompt}", VALUES) == "5s at  fps: a cat"
    assert templates.render_string("{{literal}} {seed}", VALUES) == "{literal} 42"
    assert templates.render_string("no placeholders {", VALUES) == "no placeholders {"


def test_unknown_placeholders_are_named():
    with pytest.raises(ValueError, match=r"\{promt\}"):
        templates.check_placeholders({"a": ["{promt}"]}, templates.REQUEST_PLACEHOLDERS, "body")
    templates.check_placeholders({"a": "{prompt} {{x}}"}, templates.REQUEST_PLACEHOLDERS, "body")


# -- the HTTP client against a scripted server -------------------------------------------------


class Scripted(FakeServer):
    """Answers each API request with the next scripted reply."""

    auth_header = "x-test"
    auth_prefix = ""

    def __init__(self, replies: list[Reply], **kwargs):
        super().__init__(**kwargs)
        self.replies = list(replies)

    def handle(self, request: Request) -> Reply:
        return self.replies.pop(0)


@pytest.fixture
async def client():
    api = ApiClient("test", 2.0, lambda: [KEY])
    yield api
    await api.aclose()


async def test_redirect_of_an_api_call_is_permanent(client):
    with Scripted([Reply.redirect("https://elsewhere.example/")], api_key="") as fake:
        with pytest.raises(PermanentError, match="unexpected redirect"):
            await client.call_json("GET", fake.base_url + "/x", what="status check")


async def test_429_without_header_uses_retry_after_from_body(client):
    with Scripted([Reply.json({"detail": "slow down", "retry_after": 12}, 429)], api_key="") as fake:
        with pytest.raises(TransientError) as info:
            await client.call_json("GET", fake.base_url + "/x", what="status check")
    assert info.value.retry_after == 12


async def test_503_with_retry_after_and_408_are_transient(client):
    replies = [Reply.json({}, 503, {"Retry-After": "9"}), Reply.json({}, 408)]
    with Scripted(replies, api_key="") as fake:
        with pytest.raises(TransientError) as info:
            await client.call_json("GET", fake.base_url + "/x", what="poll")
        assert info.value.retry_after == 9
        with pytest.raises(TransientError):
            await client.call_json("GET", fake.base_url + "/x", what="poll")


async def test_404_quotes_status_and_redacted_body(client):
    with Scripted([Reply.json({"detail": f"no job for key {KEY}"}, 404)], api_key="") as fake:
        with pytest.raises(PermanentError) as info:
            await client.call_json("GET", fake.base_url + "/x", what="poll")
    message = str(info.value)
    assert message.startswith("test: poll: rejected, HTTP 404")
    assert "no job for key [redacted]" in message
    assert KEY not in message


async def test_connection_refused_is_transient(client):
    with Scripted([], api_key="") as fake:
        url = fake.base_url + "/x"
    with pytest.raises(TransientError, match="connection failed") as info:
        await client.call_json("GET", url, what="poll")
    assert info.value.maybe_delivered is False  # nothing left this machine: safe to submit again


async def test_no_answer_after_sending_may_have_been_delivered():
    api = ApiClient("test", 0.3, lambda: [KEY])
    try:
        late = Reply.json({"id": "late"})
        late.delay = 1.0
        with Scripted([late], api_key="") as fake:
            with pytest.raises(TransientError, match="no answer within") as info:
                await api.call_json("POST", fake.base_url + "/jobs", what="submit")
    finally:
        await api.aclose()
    assert info.value.maybe_delivered is True  # the job may exist: the engine must not resubmit


async def test_client_is_created_lazily_and_closed(client):
    assert client._client is None
    with Scripted([Reply.json({"ok": 1})], api_key="") as fake:
        assert await client.call_json("GET", fake.base_url + "/x", what="poll") == {"ok": 1}
    http = client._client
    await client.aclose()
    assert http.is_closed and client._client is None


# -- download --------------------------------------------------------------------------------


class Redirecting(FakeServer):
    """Every API path redirects to ``target`` (templated with the origin)."""

    auth_header = "x-test"
    auth_prefix = ""

    def __init__(self, target: str, **kwargs):
        super().__init__(**kwargs)
        self.target = target

    def handle(self, request: Request) -> Reply:
        return Reply.redirect(self.target.format(origin=self.origin, cdn=self.cdn_origin))


async def test_download_follows_redirects_with_headers_only_where_allowed(client, tmp_path):
    with Redirecting("{cdn}/files/a.mp4", api_key="") as fake:
        start = fake.origin + "/video"
        headers = lambda url: {"x-secret": KEY} if same_origin(url, fake.origin) else {}  # noqa: E731
        size = await download_file(client, start, tmp_path / "a.mp4", max_bytes=10**6, headers_for=headers)
    assert size == len(tiny_mp4())
    check_decodes(tmp_path / "a.mp4")
    api_hop, cdn_hop = fake.requests
    assert api_hop.headers.get("x-secret") == KEY
    assert "x-secret" not in cdn_hop.headers


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://{cdn}/a.mp4"])
async def test_download_refuses_redirect_to_other_schemes(client, tmp_path, target):
    with Redirecting(target, api_key="") as fake:
        with pytest.raises(PermanentError, match="scheme"):
            await download_file(client, fake.origin + "/video", tmp_path / "a.mp4", max_bytes=10**6)
    assert not (tmp_path / "a.mp4").exists()


async def test_download_stops_redirect_loops(client, tmp_path):
    with Redirecting("{origin}/again", api_key="") as fake:
        with pytest.raises(PermanentError, match="redirects"):
            await download_file(client, fake.origin + "/video", tmp_path / "a.mp4", max_bytes=10**6)
        assert len(fake.requests) == 6


async def test_download_404_is_permanent_and_names_status(client, tmp_path):
    with Scripted([], api_key="") as fake:
        with pytest.raises(PermanentError, match="HTTP 404"):
            await download_file(client, fake.cdn_origin + "/nothing-here", tmp_path / "a.mp4", max_bytes=10**6)
    assert not (tmp_path / "a.mp4").exists()


async def test_download_never_uses_the_providers_file_name(client, tmp_path):
    reply = Reply(200, tiny_mp4(), {"Content-Type": "video/mp4", "Content-Disposition": 'attachment; filename="../../evil.mp4"'})
    with Scripted([reply], api_key="") as fake:
        await download_file(client, fake.origin + "/v", tmp_path / "mine.mp4", max_bytes=10**6)
    assert [p.name for p in tmp_path.iterdir()] == ["mine.mp4"]
    assert not (tmp_path.parent / "evil.mp4").exists()


def test_check_decodes_rejects_non_video(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"<html>not a video</html>" * 10)
    with pytest.raises(PermanentError, match="not a usable video: not a readable video"):
        check_decodes(bad)
    good = tmp_path / "good.mp4"
    good.write_bytes(tiny_mp4())
    check_decodes(good)

