"""The admin console's static route (/ui, docs/console.md): redirects, content types, the CSP with
its per-response nonce, caching headers, the single-page app fallback, refused traversal, and a
missing installation."""
import http.client
import json
import re

import pytest

from kalam_harness import DEFAULT_TEST_CONFIG, Server, serve

INDEX = '<!doctype html><meta name="csp-nonce" content="%CSP_NONCE%"><script type="module" src="/ui/assets/app-abc.js"></script>'
CSP_REST = ("; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
CSP = "default-src 'self'; script-src 'self'; style-src 'self'" + CSP_REST


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory):
    ui = tmp_path_factory.mktemp("ui")
    (ui / "assets").mkdir()
    (ui / "index.html").write_text(INDEX)
    (ui / "assets" / "app-abc.js").write_text("export const x = 1;\n")
    (ui / "assets" / "app-abc.css").write_text("body{margin:0}\n")
    (ui.parent / "outside.txt").write_text("not for the browser")
    yield from serve(tmp_path_factory,
                     config_toml=DEFAULT_TEST_CONFIG + f"[server]\nui_path = {json.dumps(str(ui))}\n")


def raw_get(server, path, method="GET"):
    """A request whose path is sent byte for byte (no client-side normalisation of '..')."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(method, path)
    r = conn.getresponse()
    body = r.read().decode()
    headers = {k.lower(): v for k, v in r.getheaders()}
    conn.close()
    return r.status, headers, body


def test_root_and_bare_ui_redirect_to_the_console(ui_server):
    for path in ("/", "/ui"):
        status, headers, body = raw_get(ui_server, path)
        assert (status, headers["location"], body) == (302, "/ui/", "")


def test_index_has_html_type_no_cache_and_a_fresh_nonce_in_body_and_csp(ui_server):
    nonces = []
    for path in ("/ui/", "/ui/index.html", "/ui/sql", "/ui/catalog/app/items"):
        status, headers, body = raw_get(ui_server, path)
        assert status == 200, path
        assert headers["content-type"] == "text/html; charset=utf-8"
        assert headers["cache-control"] == "no-cache"
        assert headers["x-content-type-options"] == "nosniff"
        m = re.fullmatch(r'<!doctype html><meta name="csp-nonce" content="([A-Za-z0-9+/=]{24})">'
                         r'<script type="module" src="/ui/assets/app-abc.js"></script>', body)
        assert m, body
        nonce = m.group(1)
        assert headers["content-security-policy"] == (
            f"default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'" + CSP_REST)
        nonces.append(nonce)
    assert len(set(nonces)) == 4


def test_assets_have_their_types_and_long_caching(ui_server):
    status, headers, body = raw_get(ui_server, "/ui/assets/app-abc.js")
    assert (status, body) == (200, "export const x = 1;\n")
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["content-security-policy"] == CSP
    status, headers, body = raw_get(ui_server, "/ui/assets/app-abc.css")
    assert (status, headers["content-type"], body) == (200, "text/css; charset=utf-8", "body{margin:0}\n")


def test_missing_file_is_404_and_traversal_is_refused(ui_server):
    status, _, body = raw_get(ui_server, "/ui/assets/app-zzz.js")
    assert (status, json.loads(body)) == (404, {"error": "NOT_FOUND",
                                                "message": "No console file 'assets/app-zzz.js'"})
    dots = {"error": "INVALID_PATH", "message": "Path segments '.' and '..' are not allowed"}
    for path in ("/ui/../outside.txt", "/ui/assets/../../outside.txt", "/ui/%2e%2e/outside.txt",
                 "/ui/%2E%2E%2Foutside.txt"):
        status, _, body = raw_get(ui_server, path)
        assert (status, json.loads(body)) == (400, dots), path
    status, _, body = raw_get(ui_server, "/ui/..%5Coutside.txt")
    assert (status, json.loads(body)["error"]) == (400, "INVALID_PATH")


def test_other_methods_are_not_allowed(ui_server):
    status, headers, body = raw_get(ui_server, "/ui/", method="POST")
    assert status == 405
    assert headers["allow"] == "GET"
    assert json.loads(body)["error"] == "METHOD_NOT_ALLOWED"


def test_a_missing_installation_is_named(tmp_path):
    missing = tmp_path / "no-ui"
    s = Server(tmp_path / "data",
               config_toml=DEFAULT_TEST_CONFIG + f"[server]\nui_path = {json.dumps(str(missing))}\n").start()
    try:
        status, _, body = raw_get(s, "/ui/sql")
        assert status == 404
        assert json.loads(body) == {
            "error": "UI_NOT_INSTALLED",
            "message": f"The admin console is not installed: no index.html in '{missing}' "
                       "(build ui/ with scripts/build.sh, or set server.ui_path)"}
    finally:
        s.stop()
