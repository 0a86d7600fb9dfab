// Tests for Router: exact matching, and the exact 404/405 error shapes of PROTOCOL.md §1.
#include "net/router.h"

#include <optional>

#include <gtest/gtest.h>

namespace kalam::net {
namespace {

HttpRequest Request(std::string method, std::string path, std::string query = "") {
  HttpRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.query = std::move(query);
  return request;
}

// Dispatches synchronously and returns the response (every handler here responds inline).
HttpResponse Route(const Router& router, HttpRequest request) {
  std::optional<HttpResponse> out;
  router.Dispatch(std::move(request), [&](HttpResponse r) { out = std::move(r); });
  EXPECT_TRUE(out.has_value());
  return out.value_or(HttpResponse{});
}

Handler Reply(std::string body) {
  return [body](HttpRequest&&, Responder respond) {
    HttpResponse r;
    r.body = body;
    respond(std::move(r));
  };
}

TEST(RouterTest, DispatchesByExactMethodAndPathIgnoringQuery) {
  Router router;
  router.Add("GET", "/health", Reply("get-health"));
  router.Add("POST", "/v1/api/sql", Reply("post-sql"));
  router.Add("GET", "/v1/api/sql", Reply("get-sql"));

  EXPECT_EQ(Route(router, Request("GET", "/health", "verbose=1")).body, "get-health");
  EXPECT_EQ(Route(router, Request("POST", "/v1/api/sql")).body, "post-sql");
  EXPECT_EQ(Route(router, Request("GET", "/v1/api/sql")).body, "get-sql");
  EXPECT_TRUE(router.HasPath("/health"));
  EXPECT_FALSE(router.HasPath("/health/"));
  EXPECT_EQ(router.AllowedMethods("/v1/api/sql"), "POST, GET");
  EXPECT_EQ(router.AllowedMethods("/nope"), "");
}

TEST(RouterTest, ReAddingARouteReplacesItsHandler) {
  Router router;
  router.Add("GET", "/x", Reply("old"));
  router.Add("GET", "/x", Reply("new"));
  EXPECT_EQ(Route(router, Request("GET", "/x")).body, "new");
  EXPECT_EQ(router.AllowedMethods("/x"), "GET");
}

TEST(RouterTest, UnknownPathIs404WithProtocolShape) {
  Router router;
  router.Add("GET", "/health", Reply("ok"));
  HttpResponse r = Route(router, Request("GET", "/x"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"j({"error":"NOT_FOUND","message":"No route for GET /x"})j");
  // Paths are matched exactly: no trailing-slash folding.
  EXPECT_EQ(Route(router, Request("GET", "/health/")).status, 404);
}

TEST(RouterTest, WrongMethodIs405WithAllowHeader) {
  Router router;
  router.Add("GET", "/health", Reply("ok"));
  router.Add("HEAD", "/health", Reply("ok"));
  HttpResponse r = Route(router, Request("POST", "/health"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body,
            R"j({"error":"METHOD_NOT_ALLOWED","message":"Method POST is not allowed for /health (allowed: GET, HEAD)"})j");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Allow");
  EXPECT_EQ(r.headers[0].second, "GET, HEAD");
}

TEST(RouterTest, ErrorMessagesAreJsonEscaped) {
  Router router;
  HttpResponse r = Route(router, Request("GET", "/a\"b"));
  EXPECT_EQ(r.body, R"j({"error":"NOT_FOUND","message":"No route for GET /a\"b"})j");
}

TEST(HttpRequestTest, HeaderLookupIsCaseInsensitiveAndReturnsFirst) {
  HttpRequest request;
  request.headers = {{"Content-Type", "application/json"}, {"X-Dup", "1"}, {"x-dup", "2"}};
  EXPECT_EQ(request.Header("content-type"), "application/json");
  EXPECT_EQ(request.Header("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(request.Header("X-DUP"), "1");
  EXPECT_EQ(request.Header("Authorization"), "");
}

TEST(RouterTest, PrefixRoutesMatchLongerPathsAndLoseToExactOnes) {
  Router router;
  router.AddPrefix("GET", "/v1/exports/", [](HttpRequest&& r, Responder respond) {
    HttpResponse out;
    out.body = "export " + r.path;
    respond(std::move(out));
  });
  router.AddPrefix("GET", "/v1/", Reply("v1"));
  router.Add("GET", "/v1/exports/list", Reply("exact"));
  EXPECT_EQ(Route(router, Request("GET", "/v1/exports/u1/e1")).body, "export /v1/exports/u1/e1");
  EXPECT_EQ(Route(router, Request("GET", "/v1/exports/list")).body, "exact");
  EXPECT_EQ(Route(router, Request("GET", "/v1/other")).body, "v1");
  // The prefix itself is not matched by its own route (the parameters are missing).
  EXPECT_EQ(Route(router, Request("GET", "/v1/exports/")).body, "v1");
  HttpResponse miss = Route(router, Request("GET", "/v2/x"));
  EXPECT_EQ(miss.status, 404);
  EXPECT_TRUE(router.HasPath("/v1/exports/a/b"));
  EXPECT_FALSE(router.HasPath("/v2/x"));
}

TEST(RouterTest, PrefixRouteWithOtherMethodIs405WithAllow) {
  Router router;
  router.AddPrefix("GET", "/v1/exports/", Reply("x"));
  HttpResponse r = Route(router, Request("POST", "/v1/exports/u/e"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(router.AllowedMethods("/v1/exports/u/e"), "GET");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].second, "GET");
}

TEST(PercentDecodeTest, DecodesEscapesAndRefusesMalformedOnes) {
  EXPECT_EQ(PercentDecode("a%2e%2E%2fb"), "a../b");
  EXPECT_EQ(PercentDecode("plain+text"), "plain+text");
  EXPECT_EQ(PercentDecode("%00").value().size(), 1u);
  EXPECT_EQ(PercentDecode("bad%2"), std::nullopt);
  EXPECT_EQ(PercentDecode("bad%zz"), std::nullopt);
  EXPECT_EQ(PercentDecode("%"), std::nullopt);
}

}  // namespace
}  // namespace kalam::net
