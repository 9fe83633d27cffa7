#include "liveorigin/config/config_loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "liveorigin/common/units.h"

namespace liveorigin::config {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A fresh directory under the system temp dir, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    path_ =
        fs::temp_directory_path() / ("liveorigin-config-test-" + std::to_string(::getpid()) + "-" +
                                     std::to_string(counter++) + "-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path Write(const std::string& name, std::string_view text) const {
    const fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

 private:
  fs::path path_;
};

std::string Dump(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const auto& e : errors) out += "\n  " + e.ToString();
  return out;
}

// Asserts that some error sits at line:column, in `file` when given, and
// contains `fragment`.
::testing::AssertionResult HasError(const std::vector<ConfigError>& errors, int line, int column,
                                    std::string_view fragment, std::string_view file = "") {
  for (const auto& e : errors) {
    if (e.line == line && e.column == column && e.message.find(fragment) != std::string::npos &&
        (file.empty() || e.file == file)) {
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure() << "no error at " << line << ":" << column << " containing '"
                                       << fragment << "'; got:" << Dump(errors);
}

struct EventResult {
  bool ok = false;
  EventConfig event;
  std::vector<ConfigError> errors;
};

EventResult ParseEvent(std::string_view yaml) {
  EventResult r;
  r.ok = ParseEventConfig(yaml, "event.yaml", &r.event, &r.errors);
  EXPECT_EQ(r.ok, r.errors.empty()) << Dump(r.errors);
  for (const auto& e : r.errors) EXPECT_EQ(e.file, "event.yaml");
  return r;
}

struct ServerResult {
  bool ok = false;
  ServerConfig server;
  std::vector<ConfigError> errors;
  std::string file;
};

ServerResult LoadServer(std::string_view yaml) {
  TempDir dir;
  ServerResult r;
  const fs::path file = dir.Write("origin.yaml", yaml);
  r.file = file.string();
  r.ok = LoadServerConfig(file, &r.server, &r.errors);
  EXPECT_EQ(r.ok, r.errors.empty()) << Dump(r.errors);
  for (const auto& e : r.errors) EXPECT_EQ(e.file, r.file);
  return r;
}

constexpr std::string_view kMinimalEvent =
    "id: demo\n"
    "segment_duration: 2s\n"
    "media_template: \"$RepresentationID$/$Number$.m4s\"\n"
    "pipelines:\n"
    "  - {id: a}\n";

// ---------------------------------------------------------------- server file

TEST(LoadServerConfigTest, EveryKey) {
  auto r = LoadServer(
      "listen: \"[::]:8081\"\n"
      "admin_listen: 127.0.0.1:0\n"
      "data_dir: /var/lib/liveorigin\n"
      "events_dir: events\n"
      "threads: 4\n"
      "cache_size: 512MiB\n"
      "sync_writes: true\n"
      "limits:\n"
      "  max_object_size: 8MiB\n"
      "  max_header_size: 8KiB\n"
      "  idle_timeout: 1m\n"
      "  max_connections: 500\n"
      "  max_held_requests: 0\n"
      "  max_inflight_requests: 7\n"
      "log: {level: debug, format: json, access_log: true}\n");
  ASSERT_TRUE(r.ok) << Dump(r.errors);
  const ServerConfig& s = r.server;
  EXPECT_EQ(s.listen.host, "::");
  EXPECT_EQ(s.listen.port, 8081);
  EXPECT_EQ(s.admin_listen.host, "127.0.0.1");
  EXPECT_EQ(s.admin_listen.port, 0);
  EXPECT_EQ(s.data_dir, fs::path("/var/lib/liveorigin"));
  EXPECT_EQ(s.events_dir, fs::path("events"));
  EXPECT_EQ(s.threads, 4u);
  EXPECT_EQ(s.cache_size, 512ull << 20);
  EXPECT_TRUE(s.sync_writes);
  EXPECT_EQ(s.limits.max_object_size, 8ull << 20);
  EXPECT_EQ(s.limits.max_header_size, 8ull << 10);
  EXPECT_EQ(s.limits.idle_timeout, std::chrono::minutes(1));
  EXPECT_EQ(s.limits.max_connections, 500u);
  EXPECT_EQ(s.limits.max_held_requests, 0u);
  EXPECT_EQ(s.limits.max_inflight_requests, 7u);
  EXPECT_EQ(s.log.level, "debug");
  EXPECT_EQ(s.log.format, "json");
  EXPECT_TRUE(s.log.access_log);
  EXPECT_EQ(s.source_file.string(), r.file);
}

TEST(LoadServerConfigTest, OmittedKeysKeepTheirDefaults) {
  auto r = LoadServer("threads: 2\nlimits: {idle_timeout: 5s}\n");
  ASSERT_TRUE(r.ok) << Dump(r.errors);
  const ServerConfig defaults;
  EXPECT_EQ(r.server.threads, 2u);
  EXPECT_EQ(r.server.listen.ToString(), defaults.listen.ToString());
  EXPECT_EQ(r.server.admin_listen.ToString(), defaults.admin_listen.ToString());
  EXPECT_EQ(r.server.data_dir, defaults.data_dir);
  EXPECT_EQ(r.server.events_dir, defaults.events_dir);
  EXPECT_EQ(r.server.cache_size, defaults.cache_size);
  EXPECT_EQ(r.server.limits.idle_timeout, seconds(5));
  EXPECT_EQ(r.server.limits.max_object_size, defaults.limits.max_object_size);
  EXPECT_EQ(r.server.log.level, "info");
}

TEST(LoadServerConfigTest, UnknownKeySuggestsTheClosestKey) {
  auto r = LoadServer("listen: 0.0.0.0:8080\nlisten_adress: 0.0.0.0:1\nthreds: 2\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 3, 1, "unknown key 'threds' (did you mean 'threads'?)"));
  // Too far from every key: no guess, the known keys are listed instead.
  EXPECT_TRUE(HasError(r.errors, 2, 1, "unknown key 'listen_adress' (known keys: listen"));
  EXPECT_EQ(r.errors.size(), 2u) << Dump(r.errors);
}

TEST(LoadServerConfigTest, UnknownNestedKey) {
  auto r = LoadServer(
      "limits:\n"
      "  max_objet_size: 1MiB\n"
      "log: {level: info, formt: json}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 2, 3, "did you mean 'limits.max_object_size'?"));
  EXPECT_TRUE(HasError(r.errors, 3, 20, "unknown key 'log.formt' (did you mean 'log.format'?)"));
}

TEST(LoadServerConfigTest, DuplicateKey) {
  auto r = LoadServer("threads: 1\nthreads: 2\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 2, 1, "duplicate key 'threads' (first defined at line 1)"));
}

TEST(LoadServerConfigTest, WrongTypes) {
  auto r = LoadServer(
      "threads: {a: 1}\n"     // 1: map for a scalar
      "cache_size: [1, 2]\n"  // 2: list for a scalar
      "limits: 5\n"           // 3: scalar for a map
      "log: [info]\n"         // 4: list for a map
      "sync_writes: yes\n"    // 5: not true/false
      "data_dir:\n"           // 6: no value
      "events_dir: \"\"\n");  // 7: empty path
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 1, 10, "'threads' must be a single value, got a map"));
  EXPECT_TRUE(HasError(r.errors, 2, 13, "'cache_size' must be a single value, got a list"));
  EXPECT_TRUE(HasError(r.errors, 3, 9, "'limits' must be a map, got a scalar"));
  EXPECT_TRUE(HasError(r.errors, 4, 6, "'log' must be a map, got a list"));
  EXPECT_TRUE(HasError(r.errors, 5, 14, "'sync_writes' must be true or false, got 'yes'"));
  EXPECT_TRUE(HasError(r.errors, 6, 1, "'data_dir' has no value"));  // points at the key
  EXPECT_TRUE(HasError(r.errors, 7, 13, "'events_dir' must not be empty"));
  EXPECT_EQ(r.errors.size(), 7u) << Dump(r.errors);
}

TEST(LoadServerConfigTest, PathsMustNotContainNul) {
  auto r = LoadServer("data_dir: \"./da\\0ta\"\n");
  EXPECT_TRUE(HasError(r.errors, 1, 11, "'data_dir' must not contain a NUL character"));
}

TEST(LoadServerConfigTest, BadIntegers) {
  auto r = LoadServer(
      "threads: abc\n"
      "limits:\n"
      "  max_connections: -5\n"
      "  max_held_requests: 4294967296\n"
      "  max_inflight_requests: 99999999999999999999999\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 1, 10, "'threads' must be an unsigned integer, got 'abc'"));
  EXPECT_TRUE(HasError(r.errors, 3, 20, "'limits.max_connections' must not be negative"));
  EXPECT_TRUE(HasError(r.errors, 4, 22, "'limits.max_held_requests' is too large"));
  EXPECT_TRUE(HasError(r.errors, 5, 26, "'limits.max_inflight_requests' is too large"));
}

TEST(LoadServerConfigTest, BadUnits) {
  auto r = LoadServer(
      "cache_size: 1GB2\n"
      "limits:\n"
      "  max_object_size: 64 MiBs\n"
      "  max_header_size: -1KiB\n"
      "  idle_timeout: 30\n"
      "  max_connections: 10\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 1, 13, "'cache_size': invalid size '1GB2'"));
  EXPECT_TRUE(HasError(r.errors, 3, 20, "'limits.max_object_size': invalid size"));
  EXPECT_TRUE(HasError(r.errors, 4, 20, "'limits.max_header_size': invalid size"));
  EXPECT_TRUE(HasError(r.errors, 5, 17, "'limits.idle_timeout': invalid duration '30'"));
  EXPECT_EQ(r.errors.size(), 4u) << Dump(r.errors);
}

TEST(LoadServerConfigTest, ZeroLimitsAreErrors) {
  auto r = LoadServer(
      "limits: {max_object_size: 0, max_header_size: 0KiB, idle_timeout: 0s, "
      "max_connections: 0, max_inflight_requests: 0}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 1, 27, "'limits.max_object_size' must be greater than 0"));
  EXPECT_TRUE(HasError(r.errors, 1, 47, "'limits.max_header_size' must be greater than 0"));
  EXPECT_TRUE(HasError(r.errors, 1, 67, "'limits.idle_timeout' must be greater than 0"));
  EXPECT_TRUE(HasError(r.errors, 1, 88, "'limits.max_connections' must be greater than 0"));
  EXPECT_TRUE(HasError(r.errors, 1, 114, "'limits.max_inflight_requests' must be greater"));
}

TEST(LoadServerConfigTest, TooManyThreads) {
  auto r = LoadServer("threads: 100000\n");
  EXPECT_TRUE(HasError(r.errors, 1, 10, "'threads' is too large: 100000 (maximum 1024)"));
}

TEST(LoadServerConfigTest, LogLevelAndFormatMustBeKnown) {
  auto r = LoadServer("log:\n  level: verbose\n  format: xml\n  access_log: 1\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 2, 10,
                       "'log.level' must be one of trace, debug, info, warn, error, off, got "
                       "'verbose'"));
  EXPECT_TRUE(HasError(r.errors, 3, 11, "'log.format' must be one of text, json, got 'xml'"));
  EXPECT_TRUE(HasError(r.errors, 4, 15, "'log.access_log' must be true or false"));
}

TEST(LoadServerConfigTest, ValidAddresses) {
  struct Case {
    const char* text;
    const char* host;
    uint16_t port;
  };
  for (const Case& c :
       {Case{"0.0.0.0:8080", "0.0.0.0", 8080}, Case{"127.0.0.1:0", "127.0.0.1", 0},
        Case{"10.1.2.3:65535", "10.1.2.3", 65535}, Case{"\"[::1]:8080\"", "::1", 8080},
        Case{"\"[::]:1\"", "::", 1}, Case{"\"[fe80::1:2]:443\"", "fe80::1:2", 443}}) {
    auto r = LoadServer(std::string("listen: ") + c.text + "\n");
    ASSERT_TRUE(r.ok) << c.text << Dump(r.errors);
    EXPECT_EQ(r.server.listen.host, c.host) << c.text;
    EXPECT_EQ(r.server.listen.port, c.port) << c.text;
  }
}

TEST(LoadServerConfigTest, MalformedAddresses) {
  struct Case {
    const char* text;
    const char* fragment;
  };
  for (const Case& c : {
           Case{"8080", "expected host:port"},
           Case{"0.0.0.0", "expected host:port"},
           Case{"localhost:8080", "'localhost' is not an IPv4 address"},
           Case{"300.0.0.1:80", "'300.0.0.1' is not an IPv4 address"},
           Case{"0.0.0.0:65536", "port must be a number from 0 to 65535"},
           Case{"\"0.0.0.0:\"", "port must be a number"},
           Case{"0.0.0.0:-1", "port must be a number"},
           Case{"0.0.0.0:80a", "port must be a number"},
           Case{"0.0.0.0:0080000", "port must be a number"},
           Case{"\":8080\"", "missing host"},
           Case{"\"::1:8080\"", "an IPv6 address must be in brackets"},
           Case{"\"[::1]8080\"", "expected ':<port>' after ']'"},
           Case{"\"[::1]\"", "expected ':<port>' after ']'"},
           Case{"\"[::1:8080\"", "missing ']'"},
           Case{"\"[1.2.3.4]:80\"", "'1.2.3.4' is not an IPv6 address"},
           Case{"\"127.0.0.1\\0x:80\"", "contains a NUL character"},
       }) {
    auto r = LoadServer(std::string("threads: 1\nadmin_listen: ") + c.text + "\n");
    EXPECT_FALSE(r.ok) << c.text;
    EXPECT_TRUE(HasError(r.errors, 2, 15, c.fragment)) << c.text;
    EXPECT_TRUE(HasError(r.errors, 2, 15, "'admin_listen': invalid address")) << c.text;
  }
}

TEST(LoadServerConfigTest, AdminListenMustNotShareThePort) {
  auto r = LoadServer("listen: 0.0.0.0:8080\nadmin_listen: 127.0.0.1:8080\n");
  EXPECT_TRUE(HasError(r.errors, 2, 15, "must not use the same port as 'listen'"));
  // Port 0 (pick a free port) twice is fine, and so are two different hosts.
  EXPECT_TRUE(LoadServer("listen: 127.0.0.1:0\nadmin_listen: 127.0.0.1:0\n").ok);
  EXPECT_TRUE(LoadServer("listen: 127.0.0.1:80\nadmin_listen: 127.0.0.2:80\n").ok);
}

TEST(LoadServerConfigTest, CollectsEveryError) {
  auto r = LoadServer(
      "listen: nowhere\n"
      "threads: many\n"
      "cache_size: lots\n"
      "colour: blue\n"
      "log: {level: loud}\n");
  EXPECT_EQ(r.errors.size(), 5u) << Dump(r.errors);
  EXPECT_TRUE(HasError(r.errors, 1, 9, "'listen'"));
  EXPECT_TRUE(HasError(r.errors, 2, 10, "'threads'"));
  EXPECT_TRUE(HasError(r.errors, 3, 13, "'cache_size'"));
  EXPECT_TRUE(HasError(r.errors, 4, 1, "unknown key 'colour'"));
  EXPECT_TRUE(HasError(r.errors, 5, 14, "'log.level'"));
}

TEST(LoadServerConfigTest, YamlSyntaxErrorCarriesItsPosition) {
  auto r = LoadServer("threads: 1\nlimits: {max_connections: 5\n");
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.errors.size(), 1u) << Dump(r.errors);
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_EQ(r.errors[0].column, 1);
  EXPECT_NE(r.errors[0].message.find("YAML syntax error: end of map flow not found"),
            std::string::npos)
      << r.errors[0].message;

  auto r2 = LoadServer("threads: 1\nlog: level: info\n");
  EXPECT_TRUE(HasError(r2.errors, 2, 11, "YAML syntax error"));
}

// Regression: yaml-cpp 0.7's LoadAll loops forever (allocating) on a stray
// top-level ','; the loader must answer with an error instead of hanging.
TEST(LoadServerConfigTest, NodeNameDefaultsToTheHostName) {
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  auto r = LoadServer("threads: 1\n");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.server.node_name, std::string(host).substr(0, 64));
  auto named = LoadServer("node_name: origin-a.eu-1\n");
  ASSERT_TRUE(named.ok);
  EXPECT_EQ(named.server.node_name, "origin-a.eu-1");
  EXPECT_TRUE(HasError(LoadServer("node_name: \"a b\"\n").errors, 1, 12,
                       "'node_name' must be 1 to 64 characters"));
}

TEST(LoadServerConfigTest, CorsAllowOrigin) {
  auto def = LoadServer("threads: 1\n");
  EXPECT_EQ(def.server.cors.allow_origins, std::vector<std::string>{"*"});
  auto one = LoadServer("cors: {allow_origin: \"https://player.example.com\"}\n");
  ASSERT_TRUE(one.ok);
  EXPECT_EQ(one.server.cors.allow_origins, std::vector<std::string>{"https://player.example.com"});
  auto list =
      LoadServer("cors:\n  allow_origin: [\"https://a.example\", \"http://b.example:8080\"]\n");
  ASSERT_TRUE(list.ok);
  EXPECT_EQ(list.server.cors.allow_origins.size(), 2u);
  auto off = LoadServer("cors: {allow_origin: []}\n");
  ASSERT_TRUE(off.ok);
  EXPECT_TRUE(off.server.cors.allow_origins.empty());
  EXPECT_TRUE(HasError(LoadServer("cors: {allow_origin: \"https://a.example/path\"}\n").errors, 1,
                       22, "no path"));
  EXPECT_TRUE(HasError(LoadServer("cors: {allow_origin: nope}\n").errors, 1, 22, "an origin like"));
  EXPECT_TRUE(HasError(LoadServer("cors: {allow_origin: [\"*\", \"https://a.example\"]}\n").errors,
                       1, 22, "together with origins"));
  EXPECT_TRUE(HasError(LoadServer("cors: {allow_orign: \"*\"}\n").errors, 1, 8,
                       "unknown key 'cors.allow_orign'"));
}

TEST(LoadServerConfigTest, StrayTopLevelCommaDoesNotHang) {
  auto r = LoadServer(",\n");
  EXPECT_TRUE(HasError(r.errors, 1, 1, "YAML syntax error: unexpected ','"));
  auto r2 = LoadServer("# comment\n, threads: 1\n");
  EXPECT_TRUE(HasError(r2.errors, 2, 1, "YAML syntax error: unexpected ','"));
  auto r3 = LoadServer("{threads: 1}, x\n");
  EXPECT_TRUE(HasError(r3.errors, 1, 13, "YAML syntax error: unexpected ','"));
  EXPECT_EQ(r3.errors.size(), 1u) << Dump(r3.errors);
}

TEST(LoadServerConfigTest, EmptyFileIsAnError) {
  for (const char* text : {"", "\n\n", "# only a comment\n", "---\n", "~\n"}) {
    auto r = LoadServer(text);
    EXPECT_FALSE(r.ok) << text;
    EXPECT_TRUE(HasError(r.errors, 0, 0, "empty file")) << text;
  }
}

TEST(LoadServerConfigTest, TopLevelMustBeAMap) {
  auto r = LoadServer("- listen: 0.0.0.0:80\n");
  EXPECT_TRUE(HasError(r.errors, 1, 1, "the top level must be a map of settings, got a list"));
  auto r2 = LoadServer("just a string\n");
  EXPECT_TRUE(HasError(r2.errors, 1, 1, "got a scalar"));
}

TEST(LoadServerConfigTest, MoreThanOneDocumentIsAnError) {
  auto r = LoadServer("threads: 1\n---\nthreads: 2\n");
  EXPECT_TRUE(HasError(r.errors, 2, 1, "more than one YAML document"));
  // A wrongly indented key makes yaml-cpp start a second document.
  auto r2 = LoadServer("  threads: 1\n cache_size: 1GiB\n");
  EXPECT_TRUE(HasError(r2.errors, 2, 2, "more than one YAML document"));
}

TEST(LoadServerConfigTest, MissingFile) {
  TempDir dir;
  ServerConfig s;
  std::vector<ConfigError> errors;
  const fs::path file = dir.path() / "nope.yaml";
  EXPECT_FALSE(LoadServerConfig(file, &s, &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, file.string());
  EXPECT_EQ(errors[0].line, 0);
  EXPECT_NE(errors[0].message.find("cannot read file"), std::string::npos);
}

TEST(LoadServerConfigTest, FailureLeavesTheOutputUntouched) {
  TempDir dir;
  ServerConfig s;
  s.threads = 77;
  std::vector<ConfigError> errors;
  EXPECT_FALSE(LoadServerConfig(dir.Write("o.yaml", "threads: 3\nbogus: 1\n"), &s, &errors));
  EXPECT_EQ(s.threads, 77u);
}

// ---------------------------------------------------------------- event file

TEST(ParseEventConfigTest, EveryKey) {
  auto r = ParseEvent(
      "id: demo\n"
      "availability_start_time: 2024-05-01T12:00:00.250+02:00\n"
      "start_number: 100\n"
      "segment_duration: 2s\n"
      "dvr_window: 1h\n"
      "media_template: \"chunk-stream$RepresentationID$-$Number%05d$.m4s\"\n"
      "init_template: \"init-stream$RepresentationID$.m4s\"\n"
      "pipelines:\n"
      "  - {id: us-east-1, token: \"secret-a\"}\n"
      "  - id: us-west-2\n"
      "    token: secret-b\n"
      "hold: {max_wait: 4s}\n"
      "preferred_grace: 250ms\n"
      "ingest_ahead: 3\n"
      "cache_control: {manifest_max_age: 2s}\n"
      "low_latency: true\n");
  ASSERT_TRUE(r.ok) << Dump(r.errors);
  const EventConfig& e = r.event;
  EXPECT_EQ(e.id, "demo");
  EXPECT_EQ(FormatTimestamp(e.availability_start_time), "2024-05-01T10:00:00.250Z");
  EXPECT_EQ(e.start_number, 100u);
  EXPECT_EQ(e.segment_duration, seconds(2));
  EXPECT_EQ(e.dvr_window, hours(1));
  EXPECT_EQ(e.media_template.pattern(), "chunk-stream$RepresentationID$-$Number%05d$.m4s");
  EXPECT_EQ(e.init_template.pattern(), "init-stream$RepresentationID$.m4s");
  ASSERT_EQ(e.pipelines.size(), 2u);
  EXPECT_EQ(e.pipelines[0].id, "us-east-1");
  EXPECT_EQ(e.pipelines[0].token, "secret-a");
  EXPECT_EQ(e.pipelines[1].id, "us-west-2");
  EXPECT_EQ(e.pipelines[1].token, "secret-b");
  EXPECT_EQ(e.hold_max_wait, seconds(4));
  EXPECT_EQ(e.preferred_grace, milliseconds(250));
  EXPECT_EQ(e.ingest_ahead, 3u);
  EXPECT_EQ(e.manifest_max_age, seconds(2));
  EXPECT_TRUE(e.low_latency);
  EXPECT_EQ(e.source_file, fs::path("event.yaml"));
  EXPECT_TRUE(e.AnyPipelineHasToken());
}

TEST(ParseEventConfigTest, Defaults) {
  auto r = ParseEvent(kMinimalEvent);
  ASSERT_TRUE(r.ok) << Dump(r.errors);
  const EventConfig& e = r.event;
  EXPECT_EQ(e.availability_start_time.time_since_epoch().count(), 0);
  EXPECT_EQ(e.start_number, 0u);
  EXPECT_EQ(e.dvr_window, hours(2));
  EXPECT_TRUE(e.init_template.empty());
  EXPECT_EQ(e.hold_max_wait, seconds(3));
  EXPECT_EQ(e.preferred_grace, milliseconds(500));
  EXPECT_EQ(e.ingest_ahead, 2u);
  EXPECT_EQ(e.manifest_max_age, seconds(1));
  EXPECT_FALSE(e.low_latency);
  ASSERT_EQ(e.pipelines.size(), 1u);
  EXPECT_FALSE(e.pipelines[0].token.has_value());
  EXPECT_FALSE(e.AnyPipelineHasToken());
}

TEST(ParseEventConfigTest, MissingRequiredKeys) {
  auto r = ParseEvent("start_number: 5\n");
  EXPECT_FALSE(r.ok);
  for (const char* key : {"'id'", "'segment_duration'", "'media_template'", "'pipelines'"}) {
    EXPECT_TRUE(HasError(r.errors, 1, 1, std::string("missing required key ") + key));
  }
  EXPECT_EQ(r.errors.size(), 4u) << Dump(r.errors);
}

TEST(ParseEventConfigTest, UnknownKeys) {
  auto r = ParseEvent(std::string(kMinimalEvent) +
                      "segment_durations: 2s\n"              // 6
                      "hold: {max_wait: 1s, maxwait: 2s}\n"  // 7
                      "cache_control:\n"                     // 8
                      "  manifest_maxage: 1s\n"              // 9
                      "  segment_max_age: 1s\n");            // 10
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 6, 1, "(did you mean 'segment_duration'?)"));
  EXPECT_TRUE(
      HasError(r.errors, 7, 22, "unknown key 'hold.maxwait' (did you mean 'hold.max_wait'?)"));
  EXPECT_TRUE(HasError(r.errors, 9, 3, "did you mean 'cache_control.manifest_max_age'?"));
  EXPECT_TRUE(HasError(r.errors, 10, 3, "unknown key 'cache_control.segment_max_age' (known keys"));
}

TEST(ParseEventConfigTest, ZeroSegmentDuration) {
  auto r = ParseEvent(
      "id: demo\n"
      "segment_duration: 0ms\n"
      "media_template: \"$Number$.m4s\"\n"
      "pipelines: [{id: a}]\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 2, 19, "'segment_duration' must be greater than 0"));
  EXPECT_EQ(r.errors.size(), 1u) << Dump(r.errors);
}

TEST(ParseEventConfigTest, BadDurations) {
  auto r = ParseEvent(
      "id: demo\n"
      "segment_duration: 2\n"
      "media_template: \"$Number$.m4s\"\n"
      "pipelines: [{id: a}]\n"
      "hold: {max_wait: 3 seconds}\n"
      "preferred_grace: -1s\n"
      "cache_control: {manifest_max_age: {a: 1}}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 2, 19, "'segment_duration': invalid duration '2'"));
  EXPECT_TRUE(HasError(r.errors, 5, 18, "'hold.max_wait': invalid duration"));
  EXPECT_TRUE(HasError(r.errors, 6, 18, "'preferred_grace': invalid duration '-1s'"));
  EXPECT_TRUE(HasError(r.errors, 7, 35, "'cache_control.manifest_max_age' must be a single value"));
}

TEST(ParseEventConfigTest, LowLatencyMustBeABoolean) {
  auto r = ParseEvent(std::string(kMinimalEvent) + "low_latency: sometimes\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 6, 14, "'low_latency' must be true or false, got 'sometimes'"))
      << Dump(r.errors);
}

TEST(ParseEventConfigTest, DvrWindowShorterThanSegment) {
  auto r = ParseEvent(std::string(kMinimalEvent) + "dvr_window: 1500ms\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(
      HasError(r.errors, 6, 13, "'dvr_window' (1500ms) must be at least 'segment_duration' (2s)"));
  // Equal is allowed.
  EXPECT_TRUE(ParseEvent(std::string(kMinimalEvent) + "dvr_window: 2000ms\n").ok);
  // The default window (2h) against a longer segment.
  auto r2 = ParseEvent(
      "id: demo\nsegment_duration: 3h\nmedia_template: \"$Number$.m4s\"\npipelines: [{id: a}]\n");
  EXPECT_TRUE(HasError(r2.errors, 2, 19, "longer than the default 'dvr_window' (2h)"));
}

TEST(ParseEventConfigTest, BadTemplates) {
  auto r = ParseEvent(
      "id: demo\n"
      "segment_duration: 2s\n"
      "media_template: \"$RepresentationID$/$Time$.m4s\"\n"
      "init_template: \"$RepresentationID$$Number$\"\n"
      "pipelines: [{id: a}]\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(
      HasError(r.errors, 3, 17, "'media_template': unsupported identifier '$Time$' at offset 19"));
  EXPECT_TRUE(
      HasError(r.errors, 4, 16, "'init_template': '$Number$' at offset 18 directly follows"));
  auto r2 = ParseEvent(
      "id: demo\n"
      "segment_duration: 2s\n"
      "media_template: seg-$Number\n"
      "pipelines: [{id: a}]\n");
  EXPECT_TRUE(HasError(r2.errors, 3, 17, "unterminated '$' at offset 4"));
}

TEST(ParseEventConfigTest, MediaTemplateNeedsNumber) {
  auto r = ParseEvent(
      "id: demo\n"
      "segment_duration: 2s\n"
      "media_template: \"$RepresentationID$/seg.m4s\"\n"
      "pipelines: [{id: a}]\n");
  EXPECT_TRUE(HasError(r.errors, 3, 17, "'media_template' must contain $Number$"));
}

TEST(ParseEventConfigTest, InitTemplateMustNotHaveNumber) {
  auto r = ParseEvent(std::string(kMinimalEvent) +
                      "init_template: \"$RepresentationID$/$Number$.mp4\"\n");
  EXPECT_TRUE(HasError(r.errors, 6, 16, "'init_template' must not contain $Number$"));
}

TEST(ParseEventConfigTest, EventIds) {
  for (const char* id :
       {"a", "Demo_1.live-2", "0123456789012345678901234567890123456789012345678901234567890123"}) {
    auto r = ParseEvent(std::string("id: ") + id + "\n" + std::string(kMinimalEvent).substr(9));
    EXPECT_TRUE(r.ok) << id << Dump(r.errors);
    EXPECT_EQ(r.event.id, id);
  }
  for (const char* id : {"\"\"", "a/b", "\"a b\"", "caf\xc3\xa9", "..", ".", "\"x:y\"",
                         "01234567890123456789012345678901234567890123456789012345678901234"}) {
    auto r = ParseEvent(std::string("id: ") + id + "\n" + std::string(kMinimalEvent).substr(9));
    EXPECT_TRUE(HasError(r.errors, 1, 5, "'id' must be 1 to 64 characters from A-Z a-z 0-9 . _ -"))
        << id;
  }
  auto r = ParseEvent(std::string("id: admin\n") + std::string(kMinimalEvent).substr(9));
  EXPECT_TRUE(HasError(r.errors, 1, 5, "'id' must not be 'admin'"));
  // GET /.well-known/time is the origin's own (SPEC §11).
  auto wk = ParseEvent(std::string("id: .well-known\n") + std::string(kMinimalEvent).substr(9));
  EXPECT_TRUE(HasError(wk.errors, 1, 5, "'id' must not be '.well-known'"));
  auto r2 = ParseEvent(std::string("id: [a]\n") + std::string(kMinimalEvent).substr(9));
  EXPECT_TRUE(HasError(r2.errors, 1, 5, "'id' must be a single value, got a list"));
}

TEST(ParseEventConfigTest, BadStartNumberAndIngestAhead) {
  auto r = ParseEvent(std::string(kMinimalEvent) +
                      "start_number: -1\n"
                      "ingest_ahead: abc\n");
  EXPECT_TRUE(HasError(r.errors, 6, 15, "'start_number' must not be negative, got -1"));
  EXPECT_TRUE(HasError(r.errors, 7, 15, "'ingest_ahead' must be an unsigned integer, got 'abc'"));
  auto r2 = ParseEvent(std::string(kMinimalEvent) + "start_number: 9223372036854775808\n");
  EXPECT_TRUE(HasError(r2.errors, 6, 15, "'start_number' is too large"));
  auto r3 = ParseEvent(std::string(kMinimalEvent) + "start_number: 1.5\n");
  EXPECT_TRUE(HasError(r3.errors, 6, 15, "must be an unsigned integer, got '1.5'"));
}

TEST(ParseEventConfigTest, BadAvailabilityStartTime) {
  for (const char* t : {"yesterday", "2024-05-01", "2024-05-01T12:00:00", "2024-13-01T00:00:00Z",
                        "2024-05-01T12:00:00+0200"}) {
    auto r = ParseEvent(std::string(kMinimalEvent) + "availability_start_time: " + t + "\n");
    EXPECT_TRUE(HasError(r.errors, 6, 26, "'availability_start_time': invalid timestamp")) << t;
  }
}

TEST(ParseEventConfigTest, PipelinesMissingOrEmpty) {
  const std::string head = "id: demo\nsegment_duration: 2s\nmedia_template: \"$Number$.m4s\"\n";
  EXPECT_TRUE(HasError(ParseEvent(head + "pipelines: []\n").errors, 4, 12,
                       "'pipelines' must list at least one pipeline"));
  EXPECT_TRUE(HasError(ParseEvent(head + "pipelines:\n").errors, 4, 1,
                       "'pipelines' must be a list of {id, token} maps, got nothing"));
  EXPECT_TRUE(HasError(ParseEvent(head + "pipelines: us-east-1\n").errors, 4, 12,
                       "'pipelines' must be a list of {id, token} maps, got a scalar"));
  EXPECT_TRUE(HasError(ParseEvent(head + "pipelines: {id: a}\n").errors, 4, 12, "got a map"));
}

TEST(ParseEventConfigTest, PipelineEntries) {
  auto r = ParseEvent(
      "id: demo\n"
      "segment_duration: 2s\n"
      "media_template: \"$Number$.m4s\"\n"
      "pipelines:\n"
      "  - us-east-1\n"                    // 5: not a map
      "  - {token: x1}\n"                  // 6: no id
      "  - {id: \"bad id\", token: x2}\n"  // 7: bad id
      "  - {id: b, tokn: x3}\n"            // 8: unknown key
      "  - {id: c, token: x4}\n"           // 9
      "  - {id: c, token: x5}\n");         // 10: duplicate id
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(
      HasError(r.errors, 5, 5, "'pipelines[0]' must be a map {id: ..., token: ...}, got a scalar"));
  EXPECT_TRUE(HasError(r.errors, 6, 5, "'pipelines[1]' has no 'id'"));
  EXPECT_TRUE(HasError(r.errors, 7, 10, "'pipelines[2].id' must be 1 to 64 characters"));
  EXPECT_TRUE(HasError(r.errors, 8, 13,
                       "unknown key 'pipelines[3].tokn' (did you mean 'pipelines[3].token'?)"));
  EXPECT_TRUE(HasError(r.errors, 10, 10, "duplicate pipeline id 'c' (first listed at line 9)"));
}

TEST(ParseEventConfigTest, PipelineTokens) {
  const std::string head =
      "id: demo\nsegment_duration: 2s\nmedia_template: \"$Number$.m4s\"\npipelines:\n";
  EXPECT_TRUE(HasError(ParseEvent(head + "  - {id: a, token: \"\"}\n").errors, 5, 20,
                       "'pipelines[0].token' must not be empty"));
  EXPECT_TRUE(HasError(ParseEvent(head + "  - {id: a, token: }\n").errors, 5, 13,
                       "'pipelines[0].token' has no value"));
  EXPECT_TRUE(HasError(ParseEvent(head + "  - {id: a, token: \"se cret\"}\n").errors, 5, 20,
                       "must be printable ASCII without spaces"));
  EXPECT_TRUE(HasError(ParseEvent(head + "  - {id: a, token: [x]}\n").errors, 5, 20,
                       "'pipelines[0].token' must be a single value, got a list"));
  EXPECT_TRUE(
      HasError(ParseEvent(head + "  - {id: a, token: same}\n  - {id: b, token: same}\n").errors, 6,
               20, "'pipelines[1].token' repeats the token of pipeline 'a'"));
  EXPECT_TRUE(HasError(ParseEvent(head + "  - {id: a, token: t1}\n  - {id: b}\n").errors, 6, 5,
                       "this pipeline has no token but another pipeline of the event has one"));
  // No tokens at all is fine (X-Live-Pipeline), and so is every pipeline with one.
  auto ok = ParseEvent(head + "  - {id: a}\n  - {id: b}\n");
  EXPECT_TRUE(ok.ok) << Dump(ok.errors);
  EXPECT_EQ(ok.event.PipelineIndex("b"), 1);
}

TEST(ParseEventConfigTest, TokensFromFilesAndEnvironment) {
  TempDir dir;
  const std::string file_a = dir.Write("a.token", "  from-file\nsecond line ignored\n").string();
  const std::string file_empty = dir.Write("empty.token", "\n").string();
  ::setenv("LIVEORIGIN_TEST_TOKEN_B", "from-env", 1);
  ::unsetenv("LIVEORIGIN_TEST_TOKEN_UNSET");
  const std::string head =
      "id: demo\nsegment_duration: 2s\nmedia_template: \"$Number$.m4s\"\npipelines:\n";
  auto ok = ParseEvent(head + "  - {id: a, token_file: \"" + file_a +
                       "\"}\n  - {id: b, token_env: LIVEORIGIN_TEST_TOKEN_B}\n");
  ASSERT_TRUE(ok.ok) << Dump(ok.errors);
  EXPECT_EQ(ok.event.pipelines[0].token, "from-file");
  EXPECT_EQ(ok.event.pipelines[1].token, "from-env");

  EXPECT_TRUE(HasError(ParseEvent(head + "  - {id: a, token_file: /nonexistent/x}\n").errors, 5, 25,
                       "'pipelines[0].token_file': cannot read '/nonexistent/x'"));
  EXPECT_TRUE(
      HasError(ParseEvent(head + "  - {id: a, token_file: \"" + file_empty + "\"}\n").errors, 5, 25,
               "gives an empty token"));
  EXPECT_TRUE(
      HasError(ParseEvent(head + "  - {id: a, token_env: LIVEORIGIN_TEST_TOKEN_UNSET}\n").errors, 5,
               24, "environment variable 'LIVEORIGIN_TEST_TOKEN_UNSET' is not set"));
  EXPECT_TRUE(HasError(ParseEvent(head + "  - {id: a, token: x, token_env: Y}\n").errors, 5, 34,
                       "give only one of 'token', 'token_file' and 'token_env'"));
  // A secret never appears in a message, even when it is refused.
  auto dup = ParseEvent(head +
                        "  - {id: a, token: from-env}\n  - {id: b, token_env: "
                        "LIVEORIGIN_TEST_TOKEN_B}\n");
  ASSERT_FALSE(dup.ok);
  EXPECT_EQ(Dump(dup.errors).find("from-env"), std::string::npos) << Dump(dup.errors);
}

TEST(LoadServerConfigTest, AdminToken) {
  EXPECT_FALSE(LoadServer("listen: 127.0.0.1:1\n").server.admin_token.has_value());
  auto inline_token = LoadServer("admin_token: s3cret\n");
  ASSERT_TRUE(inline_token.ok) << Dump(inline_token.errors);
  EXPECT_EQ(inline_token.server.admin_token, "s3cret");
  ::setenv("LIVEORIGIN_TEST_ADMIN", "env-admin", 1);
  EXPECT_EQ(LoadServer("admin_token_env: LIVEORIGIN_TEST_ADMIN\n").server.admin_token, "env-admin");
  EXPECT_TRUE(HasError(LoadServer("admin_token: \"\"\n").errors, 1, 14, "must not be empty"));
}

TEST(ParseEventConfigTest, NestedMapsMustBeMaps) {
  auto r = ParseEvent(std::string(kMinimalEvent) + "hold: 3s\ncache_control: [1s]\n");
  EXPECT_TRUE(HasError(r.errors, 6, 7, "'hold' must be a map, got a scalar"));
  EXPECT_TRUE(HasError(r.errors, 7, 16, "'cache_control' must be a map, got a list"));
}

TEST(ParseEventConfigTest, SyntaxErrorAndEmptyDocument) {
  auto r = ParseEvent("id: demo\npipelines: [{id: a}\n");
  EXPECT_TRUE(HasError(r.errors, 3, 1, "YAML syntax error"));
  auto r2 = ParseEvent("");
  EXPECT_TRUE(HasError(r2.errors, 0, 0, "empty file"));
  auto r3 = ParseEvent("id: demo\n\tsegment_duration: 2s\n");
  EXPECT_FALSE(r3.ok);
  ASSERT_FALSE(r3.errors.empty());
  EXPECT_GT(r3.errors[0].line, 0) << Dump(r3.errors);
}

TEST(ParseEventConfigTest, NonScalarKeys) {
  auto r = ParseEvent(std::string(kMinimalEvent) + "? [a, b]\n: 1\n");
  EXPECT_TRUE(HasError(r.errors, 6, 3, "keys must be plain strings, got a list"));
}

TEST(ParseEventConfigTest, CollectsEveryError) {
  auto r = ParseEvent(
      "id: admin\n"
      "segment_duration: 0s\n"
      "media_template: \"$Time$\"\n"
      "init_template: \"$Number$\"\n"
      "pipelines: [{id: a, token: \"\"}]\n"
      "ingest_ahead: -2\n"
      "colour: red\n");
  EXPECT_EQ(r.errors.size(), 7u) << Dump(r.errors);
}

// ---------------------------------------------------------------- directories

constexpr std::string_view kEventA =
    "id: alpha\n"
    "segment_duration: 2s\n"
    "media_template: \"$RepresentationID$/$Number$.m4s\"\n"
    "pipelines: [{id: p1}]\n";
constexpr std::string_view kEventB =
    "id: beta\n"
    "segment_duration: 4s\n"
    "media_template: \"seg_$Number%05d$.m4s\"\n"
    "pipelines: [{id: p1}]\n";

TEST(LoadEventDirectoryTest, LoadsYamlAndYmlSortedById) {
  TempDir dir;
  dir.Write("z.yaml", kEventA);
  dir.Write("a.yml", kEventB);
  dir.Write(".hidden.yaml", "this: is not loaded\n");
  dir.Write("notes.txt", "not yaml\n");
  dir.Write("backup.yaml.bak", "not loaded\n");
  dir.Write("sub/nested.yaml", "not: loaded\n");    // non-recursive
  fs::create_directories(dir.path() / "dir.yaml");  // a directory with a yaml name
  LoadedEvents loaded = LoadEventDirectory(dir.path());
  EXPECT_TRUE(loaded.errors.empty()) << Dump(loaded.errors);
  ASSERT_EQ(loaded.events.size(), 2u);
  EXPECT_EQ(loaded.events[0].id, "alpha");
  EXPECT_EQ(loaded.events[0].source_file, dir.path() / "z.yaml");
  EXPECT_EQ(loaded.events[1].id, "beta");
  EXPECT_EQ(loaded.events[1].source_file, dir.path() / "a.yml");
}

TEST(LoadEventDirectoryTest, EmptyDirectoryHasNoEvents) {
  TempDir dir;
  LoadedEvents loaded = LoadEventDirectory(dir.path());
  EXPECT_TRUE(loaded.errors.empty());
  EXPECT_TRUE(loaded.events.empty());
}

TEST(LoadEventDirectoryTest, MissingDirectoryIsAnError) {
  TempDir dir;
  const fs::path missing = dir.path() / "missing";
  LoadedEvents loaded = LoadEventDirectory(missing);
  ASSERT_EQ(loaded.errors.size(), 1u);
  EXPECT_EQ(loaded.errors[0].file, missing.string());
  EXPECT_EQ(loaded.errors[0].line, 0);
  EXPECT_NE(loaded.errors[0].message.find("does not exist"), std::string::npos);

  const fs::path file = dir.Write("plain.yaml", kEventA);
  LoadedEvents loaded2 = LoadEventDirectory(file);
  ASSERT_EQ(loaded2.errors.size(), 1u);
  EXPECT_NE(loaded2.errors[0].message.find("not a directory"), std::string::npos);
}

TEST(LoadEventDirectoryTest, DuplicateIdsNameBothFiles) {
  TempDir dir;
  const fs::path first = dir.Write("1-first.yaml", kEventA);
  const fs::path second =
      dir.Write("2-second.yaml", std::string("# copy\n") + std::string(kEventA));
  LoadedEvents loaded = LoadEventDirectory(dir.path());
  ASSERT_EQ(loaded.errors.size(), 1u) << Dump(loaded.errors);
  EXPECT_TRUE(HasError(loaded.errors, 2, 5,
                       "duplicate event id 'alpha': also defined in " + first.string() + ":1:5",
                       second.string()));
  ASSERT_EQ(loaded.events.size(), 1u);  // the first file (in name order) is kept
  EXPECT_EQ(loaded.events[0].source_file, first);
}

TEST(LoadEventDirectoryTest, ErrorsOfEveryFileAreReported) {
  TempDir dir;
  const fs::path bad1 = dir.Write("bad1.yaml", "id: x\nbogus: 1\n");
  const fs::path bad2 = dir.Write("bad2.yaml", "");
  dir.Write("good.yaml", kEventA);
  LoadedEvents loaded = LoadEventDirectory(dir.path());
  EXPECT_TRUE(HasError(loaded.errors, 2, 1, "unknown key 'bogus'", bad1.string()));
  EXPECT_TRUE(HasError(loaded.errors, 0, 0, "empty file", bad2.string()));
  ASSERT_EQ(loaded.events.size(), 1u);
  EXPECT_EQ(loaded.events[0].id, "alpha");
}

TEST(LoadSnapshotTest, LoadsServerThenEvents) {
  TempDir dir;
  dir.Write("events/a.yaml", kEventA);
  dir.Write("events/b.yaml", kEventB);
  const fs::path server = dir.Write(
      "origin.yaml", "listen: 127.0.0.1:0\nevents_dir: " + (dir.path() / "events").string() + "\n");
  std::vector<ConfigError> errors;
  auto snapshot = LoadSnapshot(server, &errors);
  ASSERT_NE(snapshot, nullptr) << Dump(errors);
  EXPECT_EQ(snapshot->server.listen.port, 0);
  ASSERT_EQ(snapshot->events.size(), 2u);
  EXPECT_EQ(snapshot->events[0].id, "alpha");
  EXPECT_EQ(snapshot->events[1].id, "beta");
}

TEST(LoadSnapshotTest, AnyInvalidFileFailsTheWholeSnapshot) {
  TempDir dir;
  dir.Write("events/a.yaml", kEventA);
  const fs::path bad = dir.Write("events/b.yaml", "id: beta\n");
  const fs::path server =
      dir.Write("origin.yaml", "events_dir: " + (dir.path() / "events").string() + "\n");
  std::vector<ConfigError> errors;
  EXPECT_EQ(LoadSnapshot(server, &errors), nullptr);
  EXPECT_TRUE(HasError(errors, 1, 1, "missing required key 'segment_duration'", bad.string()));

  errors.clear();
  EXPECT_EQ(LoadSnapshot(dir.Write("bad.yaml", "listen: x\n"), &errors), nullptr);
  EXPECT_TRUE(HasError(errors, 1, 9, "'listen'"));

  errors.clear();
  const fs::path no_events =
      dir.Write("o2.yaml", "events_dir: " + (dir.path() / "nope").string() + "\n");
  EXPECT_EQ(LoadSnapshot(no_events, &errors), nullptr);
  EXPECT_TRUE(HasError(errors, 0, 0, "events_dir does not exist"));
}

// ---------------------------------------------------------------- shipped files

TEST(ShippedConfigTest, OriginYamlLoads) {
  const fs::path file = fs::path(LIVEORIGIN_SOURCE_DIR) / "config" / "origin.yaml";
  ServerConfig s;
  std::vector<ConfigError> errors;
  ASSERT_TRUE(LoadServerConfig(file, &s, &errors)) << Dump(errors);
  EXPECT_EQ(s.listen.ToString(), "0.0.0.0:8080");
  EXPECT_EQ(s.admin_listen.ToString(), "127.0.0.1:9090");
  EXPECT_EQ(s.data_dir, fs::path("./data"));
  EXPECT_EQ(s.events_dir, fs::path("./config/events"));
  EXPECT_EQ(s.threads, 0u);
  EXPECT_EQ(s.cache_size, 1ull << 30);
  EXPECT_FALSE(s.sync_writes);
  EXPECT_EQ(s.limits.max_object_size, 64ull << 20);
  EXPECT_EQ(s.limits.max_header_size, 16ull << 10);
  EXPECT_EQ(s.limits.idle_timeout, seconds(30));
  EXPECT_EQ(s.limits.max_connections, 10000u);
  EXPECT_EQ(s.log.level, "info");
  EXPECT_EQ(s.log.format, "text");
  EXPECT_FALSE(s.log.access_log);
}

TEST(ShippedConfigTest, DemoEventLoadsAndMatchesFfmpegNames) {
  LoadedEvents loaded = LoadEventDirectory(fs::path(LIVEORIGIN_SOURCE_DIR) / "config" / "events");
  ASSERT_TRUE(loaded.errors.empty()) << Dump(loaded.errors);
  ASSERT_EQ(loaded.events.size(), 1u);
  const EventConfig& e = loaded.events[0];
  EXPECT_EQ(e.id, "demo");
  EXPECT_EQ(e.availability_start_time.time_since_epoch().count(), 0);
  EXPECT_EQ(e.start_number, 0u);
  EXPECT_EQ(e.segment_duration, seconds(2));
  EXPECT_EQ(e.dvr_window, hours(2));
  ASSERT_EQ(e.pipelines.size(), 2u);
  EXPECT_EQ(e.pipelines[0].id, "us-east-1");
  EXPECT_EQ(e.pipelines[0].token, "secret-a");
  EXPECT_EQ(e.pipelines[1].id, "us-west-2");
  EXPECT_EQ(e.pipelines[1].token, "secret-b");
  EXPECT_EQ(e.hold_max_wait, seconds(3));
  EXPECT_EQ(e.preferred_grace, milliseconds(500));
  EXPECT_EQ(e.ingest_ahead, 2u);
  EXPECT_EQ(e.manifest_max_age, seconds(1));

  auto media = e.media_template.Matches("chunk-stream0-00001.m4s");
  ASSERT_TRUE(media);
  EXPECT_EQ(media->representation_id, "0");
  EXPECT_EQ(media->number, 1u);
  auto init = e.init_template.Matches("init-stream1.m4s");
  ASSERT_TRUE(init);
  EXPECT_EQ(init->representation_id, "1");
  EXPECT_FALSE(e.media_template.Matches("init-stream1.m4s"));
  EXPECT_FALSE(e.init_template.Matches("chunk-stream0-00001.m4s"));
  EXPECT_FALSE(e.media_template.Matches("manifest.mpd"));
}

TEST(ShippedConfigTest, SnapshotFromTheSourceTree) {
  // events_dir in origin.yaml is relative to the working directory.
  const fs::path saved = fs::current_path();
  fs::current_path(LIVEORIGIN_SOURCE_DIR);
  std::vector<ConfigError> errors;
  auto snapshot = LoadSnapshot("config/origin.yaml", &errors);
  fs::current_path(saved);
  ASSERT_NE(snapshot, nullptr) << Dump(errors);
  ASSERT_EQ(snapshot->events.size(), 1u);
  EXPECT_EQ(snapshot->events[0].id, "demo");
}

// SPEC §10: the storage block.
TEST(LoadServerConfigTest, StorageDefaultsToRocksDb) {
  auto r = LoadServer("threads: 1\n");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.server.storage.engine, "rocksdb");
  EXPECT_FALSE(r.server.storage.shared());
}

TEST(LoadServerConfigTest, NatsStorage) {
  auto r = LoadServer(
      "storage:\n"
      "  engine: nats\n"
      "  nats: {servers: [nats://127.0.0.1:4222, nats://127.0.0.1:4223], replicas: 3,\n"
      "         prefix: lo_test, node: origin-a, timeout: 3s, recheck: 100ms}\n");
  ASSERT_TRUE(r.ok) << r.errors.front().ToString();
  EXPECT_EQ(r.server.storage.engine, "nats");
  EXPECT_TRUE(r.server.storage.shared());
  EXPECT_EQ(r.server.storage.nats.servers,
            (std::vector<std::string>{"nats://127.0.0.1:4222", "nats://127.0.0.1:4223"}));
  EXPECT_EQ(r.server.storage.nats.replicas, 3u);
  EXPECT_EQ(r.server.storage.nats.prefix, "lo_test");
  EXPECT_EQ(r.server.storage.nats.timeout, std::chrono::milliseconds(3000));
  EXPECT_EQ(r.server.storage.nats.recheck, std::chrono::milliseconds(100));
  EXPECT_EQ(r.server.node_name, "origin-a");  // storage.nats.node names the node
}

TEST(LoadServerConfigTest, NatsStorageErrorsPointAtTheValue) {
  auto r = LoadServer(
      "storage:\n"
      "  engine: cassandra\n"
      "  nats:\n"
      "    servers: [http://x:1]\n"
      "    replicas: 7\n"
      "    prefix: \"a.b\"\n"
      "    recheck: 0s\n"
      "    sever: x\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 2, 11, "'storage.engine' must be one of rocksdb, nats"));
  EXPECT_TRUE(HasError(r.errors, 4, 15, "entries must be URLs like nats://127.0.0.1:4222"));
  EXPECT_TRUE(HasError(r.errors, 5, 15, "'storage.nats.replicas' is too large"));
  EXPECT_TRUE(HasError(r.errors, 6, 13, "'storage.nats.prefix' must be 1 to 32 characters"));
  EXPECT_TRUE(HasError(r.errors, 7, 14, "'storage.nats.recheck' must be between 10ms and 60s"));
  EXPECT_TRUE(HasError(r.errors, 8, 5, "unknown key 'storage.nats.sever'"));
}

TEST(LoadServerConfigTest, NatsEngineNeedsServers) {
  auto r = LoadServer("storage: {engine: nats}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(HasError(r.errors, 1, 19, "'storage.engine: nats' needs 'storage.nats.servers'"));
  auto named =
      LoadServer("node_name: a\nstorage: {engine: nats, nats: {servers: [nats://h:1], node: b}}\n");
  EXPECT_FALSE(named.ok);
  EXPECT_TRUE(HasError(named.errors, 2, 61, "'storage.nats.node' ('b') differs from 'node_name'"));
}

}  // namespace
}  // namespace liveorigin::config
