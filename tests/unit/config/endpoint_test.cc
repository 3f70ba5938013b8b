#include "config/endpoint.h"

#include <gtest/gtest.h>

namespace rivulet::config {
namespace {

std::string errorOf(std::string_view text) {
  std::string error;
  EXPECT_EQ(parseEndpoint(text, &error), std::nullopt) << text;
  return error;
}

TEST(ParseEndpoint, HostAndPort) {
  std::string error;
  auto endpoint = parseEndpoint("127.0.0.1:9464", &error);
  ASSERT_TRUE(endpoint);
  EXPECT_EQ(endpoint->host, "127.0.0.1");
  EXPECT_EQ(endpoint->port, 9464);

  endpoint = parseEndpoint("localhost:0", &error);
  ASSERT_TRUE(endpoint);
  EXPECT_EQ(endpoint->host, "localhost");
  EXPECT_EQ(endpoint->port, 0);

  endpoint = parseEndpoint("my-host.example.com:65535", &error);
  ASSERT_TRUE(endpoint);
  EXPECT_EQ(endpoint->host, "my-host.example.com");
  EXPECT_EQ(endpoint->port, 65535);
}

TEST(ParseEndpoint, Ipv6InBrackets) {
  std::string error;
  auto endpoint = parseEndpoint("[::1]:9464", &error);
  ASSERT_TRUE(endpoint);
  EXPECT_EQ(endpoint->host, "::1");
  EXPECT_EQ(endpoint->port, 9464);

  endpoint = parseEndpoint("[2001:db8::5]:80", &error);
  ASSERT_TRUE(endpoint);
  EXPECT_EQ(endpoint->host, "2001:db8::5");
}

TEST(ParseEndpoint, Errors) {
  EXPECT_EQ(errorOf("localhost"), "\"localhost\" is not host:port (e.g. 127.0.0.1:9464)");
  EXPECT_EQ(errorOf(""), "\"\" is not host:port (e.g. 127.0.0.1:9464)");
  EXPECT_EQ(errorOf(":9464"), "\":9464\" has no host (e.g. 127.0.0.1:9464)");
  EXPECT_EQ(errorOf("host:65536"), "\"host:65536\": port must be a number in 0..65535");
  EXPECT_EQ(errorOf("host:"), "\"host:\": port must be a number in 0..65535");
  EXPECT_EQ(errorOf("host:-1"), "\"host:-1\": port must be a number in 0..65535");
  EXPECT_EQ(errorOf("host:+1"), "\"host:+1\": port must be a number in 0..65535");
  EXPECT_EQ(errorOf("host:80x"), "\"host:80x\": port must be a number in 0..65535");
  EXPECT_EQ(errorOf("host:99999999999999999999"),
            "\"host:99999999999999999999\": port must be a number in 0..65535");
  EXPECT_EQ(errorOf("::1:9464"),
            "\"::1:9464\" is not host:port (an IPv6 address goes in brackets, e.g. [::1]:9464)");
  EXPECT_EQ(errorOf("[::1:9464"),
            "\"[::1:9464\" is not host:port (an IPv6 address goes in brackets, e.g. [::1]:9464)");
  EXPECT_EQ(errorOf("[]:1"),
            "\"[]:1\" is not host:port (an IPv6 address goes in brackets, e.g. [::1]:9464)");
  EXPECT_EQ(errorOf("[zz]:1"), "\"[zz]:1\": \"zz\" is not an IPv6 address");
  EXPECT_EQ(errorOf("a b:1"), "\"a b:1\": \"a b\" is not a host name or address");
  EXPECT_EQ(errorOf("h/x:1"), "\"h/x:1\": \"h/x\" is not a host name or address");
}

TEST(FormatEndpoint, BracketsIpv6) {
  EXPECT_EQ(formatEndpoint(Endpoint{"127.0.0.1", 9464}), "127.0.0.1:9464");
  EXPECT_EQ(formatEndpoint(Endpoint{"::1", 9464}), "[::1]:9464");
}

}  // namespace
}  // namespace rivulet::config
