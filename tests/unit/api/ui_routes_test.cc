// The admin console's static file handler (api/ui_routes): files and their content types, the
// single-page app's fallback to index.html, refused traversal, caching and security headers.
#include "api/ui_routes.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace kalam::api {
namespace {

namespace fs = std::filesystem;

std::string Header(const net::HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (net::EqualsIgnoreCase(k, name)) return v;
  }
  return "<none>";
}

class UiRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("kalam-ui-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    root_ = base_ / "ui";
    fs::create_directories(root_ / "assets");
    Write(root_ / "index.html", "<!doctype html><title>console</title>");
    Write(root_ / "assets" / "app-1234.js", "console.log(1)");
    Write(root_ / "assets" / "app-1234.css", "body{}");
    Write(root_ / "favicon.svg", "<svg/>");
    Write(base_ / "secret.txt", "top secret");
  }
  void TearDown() override { fs::remove_all(base_); }
  static void Write(const fs::path& p, std::string_view text) {
    std::ofstream(p, std::ios::binary) << text;
  }
  fs::path base_, root_;
};

TEST_F(UiRoutesTest, ServesIndexWithHtmlTypeNoCacheAndTheCsp) {
  for (const char* path : {"/ui/", "/ui/index.html"}) {
    auto r = UiResponse(root_, path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, "<!doctype html><title>console</title>") << path;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8") << path;
    EXPECT_EQ(Header(r, "Cache-Control"), "no-cache") << path;
    const std::string csp = Header(r, "Content-Security-Policy");
    EXPECT_TRUE(csp.starts_with("default-src 'self'; script-src 'self'; style-src 'self' 'nonce-")) << csp;
    EXPECT_EQ(Header(r, "X-Content-Type-Options"), "nosniff");
  }
  EXPECT_EQ(std::string(kUiContentSecurityPolicy).find("unsafe"), std::string::npos);
  // Other files get the policy without a nonce.
  EXPECT_EQ(Header(UiResponse(root_, "/ui/assets/app-1234.js"), "Content-Security-Policy"),
            std::string(kUiContentSecurityPolicy));
}

TEST_F(UiRoutesTest, IndexGetsAFreshNonceInItsBodyAndCsp) {
  Write(root_ / "index.html", R"(<meta name="csp-nonce" content="%CSP_NONCE%"><i>%CSP_NONCE%</i>)");
  auto a = UiResponse(root_, "/ui/");
  auto b = UiResponse(root_, "/ui/sql");
  const std::string prefix = R"(<meta name="csp-nonce" content=")";
  ASSERT_TRUE(a.body.starts_with(prefix)) << a.body;
  const std::string nonce = a.body.substr(prefix.size(), 24);
  EXPECT_EQ(a.body, prefix + nonce + "\"><i>" + nonce + "</i>");
  EXPECT_EQ(Header(a, "Content-Security-Policy"), UiContentSecurityPolicy(nonce));
  EXPECT_EQ(UiContentSecurityPolicy(nonce),
            "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-" + nonce +
                "'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
                "base-uri 'self'; form-action 'self'; frame-ancestors 'none'");
  EXPECT_NE(b.body, a.body);  // a new nonce per answer
  EXPECT_EQ(b.body.find("%CSP_NONCE%"), std::string::npos);
}

TEST_F(UiRoutesTest, ServesAssetsWithTheirTypesAndLongCaching) {
  auto js = UiResponse(root_, "/ui/assets/app-1234.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Header(js, "Cache-Control"), "public, max-age=31536000, immutable");
  auto css = UiResponse(root_, "/ui/assets/app-1234.css");
  EXPECT_EQ(css.content_type, "text/css; charset=utf-8");
  EXPECT_EQ(css.body, "body{}");
  auto svg = UiResponse(root_, "/ui/favicon.svg");
  EXPECT_EQ(svg.content_type, "image/svg+xml");
  EXPECT_EQ(Header(svg, "Cache-Control"), "no-cache");
  // A %-escaped name is decoded.
  EXPECT_EQ(UiResponse(root_, "/ui/assets/app%2D1234.js").body, "console.log(1)");
}

TEST_F(UiRoutesTest, ContentTypesByExtension) {
  EXPECT_EQ(UiContentType("a.html"), "text/html; charset=utf-8");
  EXPECT_EQ(UiContentType("a.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(UiContentType("a.json"), "application/json");
  EXPECT_EQ(UiContentType("a.png"), "image/png");
  EXPECT_EQ(UiContentType("a.woff2"), "font/woff2");
  EXPECT_EQ(UiContentType("a.bin"), "application/octet-stream");
  EXPECT_EQ(UiContentType("js"), "application/octet-stream");
}

TEST_F(UiRoutesTest, ClientRoutesFallBackToIndexMissingFilesAre404) {
  for (const char* path : {"/ui/sql", "/ui/catalog/chat/messages", "/ui/live/"}) {
    auto r = UiResponse(root_, path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, "<!doctype html><title>console</title>") << path;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8") << path;
  }
  auto missing = UiResponse(root_, "/ui/assets/nope-1.js");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"j({"error":"NOT_FOUND","message":"No console file 'assets/nope-1.js'"})j");
}

TEST_F(UiRoutesTest, TraversalIsRefusedBeforeReading) {
  const std::string dots = R"j({"error":"INVALID_PATH","message":"Path segments '.' and '..' are not allowed"})j";
  for (const char* path : {"/ui/../secret.txt", "/ui/assets/../../secret.txt", "/ui/%2e%2e/secret.txt",
                           "/ui/%2E%2E%2Fsecret.txt", "/ui/./index.html"}) {
    auto r = UiResponse(root_, path);
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_EQ(r.body, dots) << path;
    EXPECT_EQ(r.body.find("top secret"), std::string::npos);
  }
  auto abs = UiResponse(root_, "/ui//etc/passwd");
  EXPECT_EQ(abs.status, 400);
  EXPECT_EQ(abs.body, R"j({"error":"INVALID_PATH","message":"Empty path segments are not allowed"})j");
  auto back = UiResponse(root_, "/ui/..%5Csecret.txt");
  EXPECT_EQ(back.status, 400);
  EXPECT_EQ(back.body, R"j({"error":"INVALID_PATH","message":"Backslashes and NUL bytes are not allowed in the path"})j");
  auto nul = UiResponse(root_, "/ui/index.html%00.js");
  EXPECT_EQ(nul.status, 400);
  auto bad = UiResponse(root_, "/ui/%zz");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, R"j({"error":"INVALID_PATH","message":"Malformed %-escape in the path"})j");
}

TEST_F(UiRoutesTest, SymlinkOutOfTheDirectoryIsRefused) {
  fs::create_symlink(base_ / "secret.txt", root_ / "leak.txt");
  auto r = UiResponse(root_, "/ui/leak.txt");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"j({"error":"INVALID_PATH","message":"The path leaves the console directory"})j");
}

TEST_F(UiRoutesTest, MissingInstallationIsNamed) {
  auto r = UiResponse(base_ / "absent", "/ui/");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "{\"error\":\"UI_NOT_INSTALLED\",\"message\":\"The admin console is not installed: "
                    "no index.html in '" + (base_ / "absent").string() +
                    "' (build ui/ with scripts/build.sh, or set server.ui_path)\"}");
  EXPECT_EQ(UiResponse(base_ / "absent", "/ui/sql").status, 404);
}

TEST_F(UiRoutesTest, DefaultRootIsBesideTheBinaryThenTheInstalledShareDirectory) {
  // <base>/bin/kalamdb-server: nothing installed yet → <base>/bin/ui (which names itself in the
  // UI_NOT_INSTALLED answer).
  const fs::path exe = base_ / "bin" / "kalamdb-server";
  fs::create_directories(exe.parent_path());
  EXPECT_EQ(DefaultUiRoot(exe), base_ / "bin" / "ui");
  // An installed layout: <base>/share/kalamdb/ui/index.html.
  const fs::path share = base_ / "share" / "kalamdb" / "ui";
  fs::create_directories(share);
  Write(share / "index.html", "<!doctype html>");
  EXPECT_EQ(DefaultUiRoot(exe), share);
  // A directory without index.html beside the binary does not hide the installed one.
  fs::create_directories(base_ / "bin" / "ui");
  EXPECT_EQ(DefaultUiRoot(exe), share);
  // A build beside the binary wins.
  Write(base_ / "bin" / "ui" / "index.html", "<!doctype html>");
  EXPECT_EQ(DefaultUiRoot(exe), base_ / "bin" / "ui");
}

}  // namespace
}  // namespace kalam::api
