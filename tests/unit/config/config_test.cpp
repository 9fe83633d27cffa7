#include "liveorigin/config/config.h"

#include <gtest/gtest.h>

namespace liveorigin::config {
namespace {

TEST(EndpointTest, ToString) {
  EXPECT_EQ((Endpoint{"0.0.0.0", 8080}).ToString(), "0.0.0.0:8080");
  EXPECT_EQ((Endpoint{"::1", 9090}).ToString(), "[::1]:9090");
  EXPECT_EQ((Endpoint{"::", 0}).ToString(), "[::]:0");
}

TEST(ConfigErrorTest, ToString) {
  EXPECT_EQ((ConfigError{"a.yaml", 3, 7, "bad"}).ToString(), "a.yaml:3:7: bad");
  EXPECT_EQ((ConfigError{"dir", 0, 0, "missing"}).ToString(), "dir: missing");
}

TEST(EventConfigTest, PipelineIndexIsThePriority) {
  EventConfig e;
  e.pipelines = {{"us-east-1", std::nullopt}, {"us-west-2", std::nullopt}};
  EXPECT_EQ(e.PipelineIndex("us-east-1"), 0);
  EXPECT_EQ(e.PipelineIndex("us-west-2"), 1);
  EXPECT_EQ(e.PipelineIndex("eu-west-1"), -1);
  EXPECT_EQ(e.PipelineIndex(""), -1);
}

TEST(EventConfigTest, AnyPipelineHasToken) {
  EventConfig e;
  EXPECT_FALSE(e.AnyPipelineHasToken());
  e.pipelines = {{"a", std::nullopt}, {"b", std::nullopt}};
  EXPECT_FALSE(e.AnyPipelineHasToken());
  e.pipelines[1].token = "secret";
  EXPECT_TRUE(e.AnyPipelineHasToken());
}

TEST(ConfigDefaultsTest, MatchTheDocumentedDefaults) {
  ServerConfig s;
  EXPECT_EQ(s.listen.ToString(), "0.0.0.0:8080");
  EXPECT_EQ(s.admin_listen.ToString(), "127.0.0.1:9090");
  EXPECT_EQ(s.limits.max_object_size, 64u << 20);
  EXPECT_EQ(s.limits.max_header_size, 16u << 10);
  EXPECT_EQ(s.cache_size, 1ull << 30);
  EventConfig e;
  EXPECT_EQ(e.dvr_window, std::chrono::hours(2));
  EXPECT_EQ(e.hold_max_wait, std::chrono::seconds(3));
  EXPECT_EQ(e.preferred_grace, std::chrono::milliseconds(500));
}

}  // namespace
}  // namespace liveorigin::config
