// TOML text -> daemon_config, collecting every problem instead of stopping at the first.
//
// Each table is read through a `table_reader` that remembers which keys the code asked
// for; whatever is left over is an unknown key. So the set of accepted keys is exactly
// what this file reads and cannot drift from a separate list.
#include "config/reader.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <span>
#include <utility>

namespace labelwatch::config {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view k_duration_hint = R"(expected a duration such as "15s", "5m", "1h")";
// Far beyond any useful interval, and small enough that no timer arithmetic downstream
// (steady_clock nanoseconds) can overflow.
constexpr milliseconds k_max_duration = std::chrono::days{3650};

// ---- message text -------------------------------------------------------------------

// Text for a one-line message: control characters escaped as \xNN, cut after
// `max_len` bytes; quotes and backslashes escaped too when `quote` is set.
std::string escaped(std::string_view s, std::size_t max_len, bool quote) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == max_len) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (quote && (c == '"' || c == '\\')) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// A value quoted for a one-line message.
std::string quoted(std::string_view s) { return '"' + escaped(s, 80, true) + '"'; }

bool is_bare_key(std::string_view k) {
  if (k.empty()) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  });
}

std::string key_text(std::string_view k) { return is_bare_key(k) ? std::string{k} : quoted(k); }

std::string number_text(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc{}) return "?";
  return std::string(buf, end);
}

std::string_view type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

// "the integer 15", "the string \"yes\"", "an array": what the file actually holds.
std::string describe(const toml::node& n) {
  if (const auto* v = n.as_integer()) return "the integer " + std::to_string(v->get());
  if (const auto* v = n.as_floating_point()) return "the float " + number_text(v->get());
  if (const auto* v = n.as_boolean()) return v->get() ? "the boolean true" : "the boolean false";
  if (const auto* v = n.as_string()) return "the string " + quoted(v->get());
  return std::string{type_name(n.type())};
}

std::size_t line_of(const toml::node& n) { return n.source().begin.line; }

std::string join(std::span<const std::string_view> names, std::string_view sep = ", ") {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += sep;
    out += n;
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// ---- value checks -------------------------------------------------------------------

// RFC 3986 unreserved characters: ids that go into URL paths verbatim.
bool is_url_safe(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
  });
}

bool has_control_chars(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lx = (x >= 'A' && x <= 'Z') ? static_cast<char>(x - 'A' + 'a') : x;
           const auto ly = (y >= 'A' && y <= 'Z') ? static_cast<char>(y - 'A' + 'a') : y;
           return lx == ly;
         });
}

bool parse_port(std::string_view s, bool allow_zero, std::uint16_t& out) {
  if (s.empty() || s.size() > 5) return false;
  unsigned v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size() || v > 65535) return false;
  if (v == 0 && !allow_zero) return false;
  out = static_cast<std::uint16_t>(v);
  return true;
}

enum class url_use { endpoint, proxy, webhook };

// Why `text` is not acceptable as a URL of this use, or an empty string when it is.
// Never echoes the URL: a webhook URL can carry a token in its path.
std::string url_problem(std::string_view text, url_use use) {
  namespace urls = boost::urls;
  const auto parsed = urls::parse_absolute_uri(text);
  if (!parsed) return "is not an absolute URL";
  const urls::url_view& u = *parsed;
  const bool https = u.scheme_id() == urls::scheme::https;
  const bool http = u.scheme_id() == urls::scheme::http;
  if (!https && !http) return "must start with https:// or http://";
  if (!u.has_authority() || u.encoded_host().empty()) return "has no host";
  if (u.host_type() == urls::host_type::ipvfuture) return "has an unsupported host form";
  if (u.has_userinfo()) return "must not contain user:password@ (credentials never go in URLs)";
  if (u.has_port()) {
    std::uint16_t port = 0;
    if (!parse_port(u.port(), false, port)) return "has an invalid port; expected 1..65535";
  }
  if (u.has_fragment()) return "must not have a #fragment";
  // Plain http only to this machine: events, tokens and data must not cross the network
  // in clear text.
  bool loopback = false;
  switch (u.host_type()) {
    case urls::host_type::ipv4: loopback = u.host_ipv4_address().is_loopback(); break;
    case urls::host_type::ipv6: loopback = u.host_ipv6_address().is_loopback(); break;
    case urls::host_type::name: {
      const auto host = u.encoded_host();
      loopback = ascii_iequals(std::string_view{host.data(), host.size()}, "localhost");
      break;
    }
    default: break;
  }
  constexpr std::string_view k_https_only =
      "must start with https://; plain http:// is allowed only for loopback hosts "
      "(127.0.0.1, ::1, localhost), for tests";
  if (use == url_use::webhook) return http && !loopback ? std::string(k_https_only) : std::string();
  if (u.has_query()) return "must not have a ?query";
  if (!u.encoded_path().empty() && u.encoded_path() != "/")
    return use == url_use::proxy ? "must not have a path; expected a proxy URL such as \"http://proxy:3128\""
                                 : "must not have a path; expected a base URL such as "
                                   "\"https://modelarts.cn-north-4.myhuaweicloud.com\"";
  if (use == url_use::proxy) {
    if (!http) return "must start with http:// (the proxy is reached with HTTP CONNECT)";
    return {};
  }
  if (http && !loopback) return std::string(k_https_only);
  return {};
}

// Schemes are case-insensitive (RFC 3986 3.1), so "HTTPS://" is accepted; everything
// after the reader compares them in lower case, the canonical form.
std::string with_lower_scheme(std::string_view url) {
  std::string out{url};
  const auto colon = out.find(':');
  for (std::size_t i = 0; i < colon && i < out.size(); ++i)
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
  return out;
}

bool is_host_name(std::string_view h) {
  if (h.empty() || h.size() > 253 || h.front() == '.' || h.front() == '-') return false;
  return std::all_of(h.begin(), h.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.';
  });
}

// `host:port` or `[v6]:port`; an empty string when fine.
std::string listen_problem(std::string_view s) {
  constexpr std::string_view expected =
      R"(expected host:port such as "127.0.0.1:9464", "0.0.0.0:9464" or "[::1]:9464")";
  std::string_view host, port;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return std::string{expected};
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
    if (!boost::urls::parse_ipv6_address(host)) return "invalid IPv6 address; " + std::string{expected};
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return "has no port; " + std::string{expected};
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return "an IPv6 address needs brackets; " + std::string{expected};
    if (!is_host_name(host)) return "invalid host; " + std::string{expected};
  }
  std::uint16_t p = 0;
  if (!parse_port(port, true, p)) return "invalid port; expected 0..65535 (0: any free port)";
  return {};
}

// ---- reading tables -----------------------------------------------------------------

struct context {
  std::string file;
  std::vector<config_error> errors;
  std::map<std::string, std::size_t, std::less<>> lines;

  void error(std::string key, std::size_t line, std::string message) {
    errors.push_back(config_error{file, std::move(key), line, std::move(message)});
  }
};

// One TOML table under a dotted path. Reading a key marks it known; `finish` reports
// the rest. Typed getters report a wrong type and return nullopt, so callers only
// handle values of the right type.
class table_reader {
 public:
  table_reader(context& ctx, const toml::table& table, std::string path)
      : ctx_{ctx}, table_{table}, path_{std::move(path)} {
    if (!path_.empty()) ctx_.lines.emplace(path_, line());
  }
  table_reader(const table_reader&) = delete;
  table_reader& operator=(const table_reader&) = delete;

  std::size_t line() const { return line_of(table_); }
  const std::string& path() const { return path_; }
  // Prefix for every message of this table, e.g. `rule "pass-high": `.
  void set_subject(std::string subject) { subject_ = std::move(subject); }

  std::string key_path(std::string_view key) const {
    return path_.empty() ? key_text(key) : path_ + "." + key_text(key);
  }

  void error_at(std::string key, std::size_t line, std::string_view message) {
    ctx_.error(std::move(key), line, subject_ + std::string{message});
  }
  // An error about `key`: at its value's line when present, else at the table's.
  void error(std::string_view key, std::string_view message) {
    const toml::node* n = table_.get(key);
    error_at(key_path(key), n ? line_of(*n) : line(), message);
  }
  void missing(std::string_view key, std::string_view expected) {
    error_at(key_path(key), line(), "required key is missing; " + std::string{expected});
  }

  const toml::node* find(std::string_view key) {
    known_.push_back(key);
    const toml::node* n = table_.get(key);
    if (n) ctx_.lines.emplace(key_path(key), line_of(*n));
    return n;
  }
  bool has(std::string_view key) const { return table_.get(key) != nullptr; }
  // Present with a value other than "" (valid or not): for "set both or neither" checks,
  // which must not pile onto an error already reported for the value itself.
  bool given(std::string_view key) const {
    const toml::node* n = table_.get(key);
    if (!n) return false;
    const auto* s = n->as_string();
    return !s || !s->get().empty();
  }
  // The text of a string value as written, for messages; empty when not a string.
  std::string raw_string(std::string_view key) const {
    const toml::node* n = table_.get(key);
    const auto* s = n ? n->as_string() : nullptr;
    return s ? s->get() : std::string{};
  }

  std::optional<std::string> string(std::string_view key) {
    const toml::node* n = find(key);
    if (!n) return std::nullopt;
    if (const auto* s = n->as_string()) return s->get();
    error(key, "expected a string, got " + describe(*n));
    return std::nullopt;
  }

  std::optional<bool> boolean(std::string_view key) {
    const toml::node* n = find(key);
    if (!n) return std::nullopt;
    if (const auto* b = n->as_boolean()) return b->get();
    error(key, "expected true or false, got " + describe(*n));
    return std::nullopt;
  }

  std::optional<std::int64_t> integer(std::string_view key) {
    const toml::node* n = find(key);
    if (!n) return std::nullopt;
    if (const auto* i = n->as_integer()) return i->get();
    error(key, "expected an integer, got " + describe(*n));
    return std::nullopt;
  }

  // An integer within [lo, hi]; `hint` is appended to the range message.
  template <class T>
  void integer_in(std::string_view key, std::int64_t lo, std::int64_t hi, T& out,
                  std::string_view hint = {}) {
    const auto v = integer(key);
    if (!v) return;
    if (*v < lo || *v > hi) {
      std::string msg = hi == std::numeric_limits<std::int64_t>::max()
                            ? "must be " + std::to_string(lo) + " or more"
                            : "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
      msg += ", got " + std::to_string(*v);
      if (!hint.empty()) msg += std::string{"; "} + std::string{hint};
      error(key, msg);
      return;
    }
    out = static_cast<T>(*v);
  }

  // A float or an integer (TOML `1` where `1.0` is meant is fine).
  std::optional<double> number(std::string_view key) {
    const toml::node* n = find(key);
    if (!n) return std::nullopt;
    if (const auto* f = n->as_floating_point()) return f->get();
    if (const auto* i = n->as_integer()) return static_cast<double>(i->get());
    error(key, "expected a number, got " + describe(*n));
    return std::nullopt;
  }

  // A ratio in [0, 1].
  std::optional<double> ratio(std::string_view key) {
    const auto v = number(key);
    if (!v) return std::nullopt;
    if (!(*v >= 0.0 && *v <= 1.0)) {
      std::string msg = "must be between 0 and 1, got " + number_text(*v);
      if (*v > 1.0 && *v <= 100.0) msg += " (a ratio such as 0.98, not a percentage)";
      error(key, msg);
      return std::nullopt;
    }
    return v;
  }

  std::optional<milliseconds> duration(std::string_view key) {
    const toml::node* n = find(key);
    if (!n) return std::nullopt;
    const auto* s = n->as_string();
    if (!s) {
      error(key, std::string{k_duration_hint} + ", got " + describe(*n));
      return std::nullopt;
    }
    const auto d = parse_duration(s->get());
    if (!d) {
      error(key, "invalid duration " + quoted(s->get()) + "; " + std::string{k_duration_hint});
      return std::nullopt;
    }
    if (*d > k_max_duration) {
      error(key, "must be at most " + format_duration(k_max_duration) + ", got " + quoted(s->get()));
      return std::nullopt;
    }
    return d;
  }

  // A duration of at least `min` (exclusive of zero when min is 0 and !allow_zero).
  void duration_in(std::string_view key, milliseconds min, bool allow_zero, milliseconds& out,
                   std::string_view hint = {}) {
    const auto d = duration(key);
    if (!d) return;
    const bool ok = allow_zero ? *d >= min : (*d > 0ms && *d >= min);
    if (!ok) {
      std::string msg = min > 0ms ? "must be at least " + format_duration(min)
                                  : std::string{"must be longer than 0s"};
      msg += ", got " + quoted(raw_string(key));
      if (!hint.empty()) msg += std::string{"; "} + std::string{hint};
      error(key, msg);
      return;
    }
    out = *d;
  }

  struct list_item {
    std::string value;
    std::string key;  // "watch[0].auto_tasks[2]"
    std::size_t line = 0;
  };

  // An array of strings. Elements of the wrong type are reported one by one.
  std::optional<std::vector<list_item>> string_list(std::string_view key,
                                                    std::string_view example) {
    const toml::node* n = find(key);
    if (!n) return std::nullopt;
    const auto* arr = n->as_array();
    if (!arr) {
      error(key, "expected an array of strings such as " + std::string{example} + ", got " +
                     describe(*n));
      return std::nullopt;
    }
    std::vector<list_item> out;
    bool ok = true;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::node& e = *arr->get(i);
      std::string ekey = key_path(key) + "[" + std::to_string(i) + "]";
      if (const auto* s = e.as_string()) {
        out.push_back({s->get(), std::move(ekey), line_of(e)});
      } else {
        error_at(std::move(ekey), line_of(e), "expected a string, got " + describe(e));
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

  const toml::table* table(std::string_view key) {
    const toml::node* n = find(key);
    if (!n) return nullptr;
    if (const auto* t = n->as_table()) return t;
    error(key, "expected a table ([" + key_path(key) + "]), got " + describe(*n));
    return nullptr;
  }

  // `[[key]]`: an array whose elements are all tables.
  const toml::array* table_array(std::string_view key) {
    const toml::node* n = find(key);
    if (!n) return nullptr;
    const std::string header = "[[" + key_path(key) + "]]";
    if (n->is_table()) {
      error(key, "expected an array of tables: write " + header + " (one per entry), not [" +
                     key_path(key) + "]");
      return nullptr;
    }
    const auto* arr = n->as_array();
    if (!arr) {
      error(key, "expected an array of tables (" + header + "), got " + describe(*n));
      return nullptr;
    }
    // Elements that are not tables are reported here; callers skip them and still read
    // the others, so their errors are reported too.
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::node& e = *arr->get(i);
      if (!e.is_table())
        error_at(key_path(key) + "[" + std::to_string(i) + "]", line_of(e),
                 "expected a table (" + header + "), got " + describe(e));
    }
    return arr;
  }

  // Reports every key that nobody asked for.
  void finish() {
    for (auto&& [k, v] : table_) {
      const std::string_view name = k.str();
      if (std::find(known_.begin(), known_.end(), name) != known_.end()) continue;
      std::string msg = path_.empty() ? "unknown table or key" : "unknown key";
      std::string_view best;
      std::size_t best_d = std::numeric_limits<std::size_t>::max();
      for (const auto& cand : known_) {
        // Close typos, or a key cut short / run on ("dataset" for "dataset_id").
        const std::size_t d = edit_distance(name, cand);
        const bool prefix = std::min(name.size(), cand.size()) >= 4 &&
                            (cand.starts_with(name) || name.starts_with(cand));
        if ((d <= 2 || prefix) && d < best_d) {
          best_d = d;
          best = cand;
        }
      }
      if (!best.empty()) msg += " (did you mean " + quoted(best) + "?)";
      msg += "; expected one of: " + join(known_);
      ctx_.error(key_path(name), k.source().begin.line, subject_ + msg);
    }
  }

 private:
  context& ctx_;
  const toml::table& table_;
  std::string path_;
  std::string subject_;
  std::vector<std::string_view> known_;
};

// ---- sections -----------------------------------------------------------------------

// Paths the daemon opens: absolute, because under systemd the working directory is `/`.
bool valid_path(table_reader& t, std::string_view key, const std::string& v) {
  if (v.front() != '/') {
    t.error(key, "expected an absolute path (labelwatchd runs with / as its working directory), got " +
                     quoted(v));
    return false;
  }
  if (has_control_chars(v)) {
    t.error(key, "the path contains control characters");
    return false;
  }
  return true;
}

// An optional path: "" means not set.
void read_path(table_reader& t, std::string_view key, std::string& out) {
  const auto v = t.string(key);
  if (!v) return;
  if (v->empty()) {
    out.clear();
    return;
  }
  if (valid_path(t, key, *v)) out = *v;
}

void read_cloud(context& ctx, const toml::table* table, cloud_config& c) {
  constexpr std::string_view endpoint_hint =
      R"(expected the ModelArts endpoint of your region, such as "https://modelarts.cn-north-4.myhuaweicloud.com")";
  constexpr std::string_view project_hint =
      R"(expected the project id of your region, such as "0123456789abcdef0123456789abcdef")";
  if (!table) return;
  table_reader t{ctx, *table, "cloud"};
  if (const auto v = t.string("endpoint")) {
    if (const auto problem = url_problem(*v, url_use::endpoint); !problem.empty()) {
      t.error("endpoint", problem);
    } else {
      c.endpoint = with_lower_scheme(*v);
      if (c.endpoint.ends_with('/')) c.endpoint.pop_back();
    }
  } else if (!t.has("endpoint")) {
    t.missing("endpoint", endpoint_hint);
  }
  if (const auto v = t.string("project_id")) {
    if (!is_url_safe(*v))
      t.error("project_id", v->empty() ? "must not be empty; " + std::string{project_hint}
                                       : "invalid project id " + quoted(*v) +
                                             "; expected letters, digits, '-', '_', '.' or '~'");
    else
      c.project_id = *v;
  } else if (!t.has("project_id")) {
    t.missing("project_id", project_hint);
  }
  if (const auto v = t.string("locale")) {
    if (*v == "en-us" || *v == "zh-cn")
      c.locale = *v;
    else
      t.error("locale", "unknown locale " + quoted(*v) + R"(; expected "en-us" or "zh-cn")");
  }
  read_path(t, "ca_file", c.ca_file);
  if (const auto v = t.string("proxy"); v && !v->empty()) {
    if (const auto problem = url_problem(*v, url_use::proxy); !problem.empty())
      t.error("proxy", problem);
    else
      c.proxy = with_lower_scheme(*v);
  }
  t.finish();
}

void read_auth(context& ctx, const toml::table* table, auth_config& a) {
  if (!table) return;  // defaults: aksk from the environment
  table_reader t{ctx, *table, "auth"};
  bool method_ok = true;
  if (const auto v = t.string("method")) {
    if (*v == "aksk") a.method = auth_method::aksk;
    else if (*v == "token") a.method = auth_method::token;
    else if (*v == "none") a.method = auth_method::none;
    else {
      t.error("method", "unknown method " + quoted(*v) + R"(; expected "aksk", "token" or "none")");
      method_ok = false;
    }
  } else if (t.has("method")) {
    method_ok = false;
  }
  read_path(t, "access_key_file", a.access_key_file);
  read_path(t, "secret_key_file", a.secret_key_file);
  if (const auto v = t.string("iam_endpoint"); v && !v->empty()) {
    if (const auto problem = url_problem(*v, url_use::endpoint); !problem.empty()) {
      t.error("iam_endpoint", problem);
    } else {
      a.iam_endpoint = with_lower_scheme(*v);
      if (a.iam_endpoint.ends_with('/')) a.iam_endpoint.pop_back();
    }
  }
  for (auto [key, out] : {std::pair{"domain_name", &a.domain_name},
                          std::pair{"user_name", &a.user_name},
                          std::pair{"project_name", &a.project_name}}) {
    if (const auto v = t.string(key)) {
      if (has_control_chars(*v))
        t.error(key, "must not contain control characters");
      else
        *out = *v;
    }
  }
  read_path(t, "password_file", a.password_file);
  t.duration_in("token_refresh_before", 0ms, false, a.token_refresh_before);
  if (a.token_refresh_before >= 24h)
    t.error("token_refresh_before",
            "must be shorter than 24h (IAM tokens are valid for 24 hours), got " +
                quoted(t.raw_string("token_refresh_before")));

  if (!method_ok) {
    t.finish();
    return;
  }
  if (a.method == auth_method::aksk) {
    // One from a file and the other from the environment is almost certainly a mistake.
    const bool ak = t.given("access_key_file");
    const bool sk = t.given("secret_key_file");
    if (ak != sk)
      t.error(ak ? "access_key_file" : "secret_key_file",
              std::string{ak ? "access_key_file is set but secret_key_file is not"
                             : "secret_key_file is set but access_key_file is not"} +
                  "; set both, or neither to read HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK "
                  "from the environment");
  } else if (a.method == auth_method::token) {
    // A present but invalid value was reported when it was read; only report absence
    // and emptiness here.
    const auto need = [&](std::string_view key, const std::string& value, std::string_view what) {
      if (!value.empty()) return;
      const toml::node* n = table->get(key);
      if (!n)
        t.error_at(t.key_path(key), t.line(),
                   R"(required with method = "token"; expected )" + std::string{what});
      else if (const auto* str = n->as_string(); str && str->get().empty())
        t.error(key, R"(must not be empty with method = "token"; expected )" + std::string{what});
    };
    need("iam_endpoint", a.iam_endpoint,
         R"(the IAM endpoint of your region, such as "https://iam.cn-north-4.myhuaweicloud.com")");
    need("domain_name", a.domain_name, "the account (domain) name that owns the IAM user");
    need("user_name", a.user_name, "the IAM user name");
  }
  t.finish();
}

void read_poll(context& ctx, const toml::table* table, poll_config& p) {
  if (!table) return;
  table_reader t{ctx, *table, "poll"};
  t.duration_in("active_interval", 0ms, false, p.active_interval);
  t.duration_in("idle_interval", 0ms, false, p.idle_interval);
  t.duration_in("terminal_interval", 0ms, true, p.terminal_interval);
  t.duration_in("request_timeout", 100ms, false, p.request_timeout);
  t.integer_in("max_in_flight", 1, 1024, p.max_in_flight);
  if (const auto v = t.number("max_rate")) {
    if (!std::isfinite(*v) || *v <= 0.0 || *v > 10000.0)
      t.error("max_rate", "must be a number greater than 0 and at most 10000 (requests per second), got " +
                              number_text(*v));
    else
      p.max_rate = *v;
  }
  t.duration_in("stall_after", 0ms, false, p.stall_after);
  t.finish();
}

// Task ids of one kind: non-empty, URL-safe, unique within the list.
// Returns false when something was wrong (and reported).
bool read_task_ids(table_reader& t, std::string_view key, std::vector<std::string>& out) {
  const bool present = t.has(key);
  const auto items = t.string_list(key, R"(["XGrRZuCV1qmMxnsmD5u"])");
  if (!items) return !present;
  std::vector<std::string> ids;
  std::vector<std::size_t> index_of;  // ids[k] is items[index_of[k]]
  bool ok = true;
  for (std::size_t i = 0; i < items->size(); ++i) {
    const auto& item = (*items)[i];
    if (!is_url_safe(item.value)) {
      t.error_at(item.key, item.line,
                 item.value.empty() ? std::string{"task id must not be empty"}
                                    : "invalid task id " + quoted(item.value) +
                                          "; expected letters, digits, '-', '_', '.' or '~'");
      ok = false;
      continue;
    }
    const auto dup = std::find(ids.begin(), ids.end(), item.value);
    if (dup != ids.end()) {
      const auto first = index_of[static_cast<std::size_t>(dup - ids.begin())];
      t.error_at(item.key, item.line,
                 "duplicate task id " + quoted(item.value) + " (also at " + std::string{key} + "[" +
                     std::to_string(first) + "])");
      ok = false;
    }
    ids.push_back(item.value);
    index_of.push_back(i);
  }
  if (ok) out = std::move(ids);
  return ok;
}

void read_watch(context& ctx, const toml::table& table, std::size_t index, watch_config& w) {
  table_reader t{ctx, table, "watch[" + std::to_string(index) + "]"};
  w.line = t.line();
  if (const auto v = t.string("dataset_id")) {
    if (!is_url_safe(*v))
      t.error("dataset_id", v->empty() ? std::string{"must not be empty; expected the dataset id"}
                                       : "invalid dataset id " + quoted(*v) +
                                             "; expected letters, digits, '-', '_', '.' or '~'");
    else
      w.dataset_id = *v;
  } else if (!t.has("dataset_id")) {
    t.missing("dataset_id", R"(expected the dataset id, such as "WxCREuCkBSAlQr9xrde")");
  }
  if (!w.dataset_id.empty()) t.set_subject("dataset " + quoted(w.dataset_id) + ": ");
  const bool auto_ok = read_task_ids(t, "auto_tasks", w.auto_tasks);
  const bool workforce_ok = read_task_ids(t, "workforce_tasks", w.workforce_tasks);
  const bool ids_ok = auto_ok && workforce_ok;
  if (const auto v = t.boolean("discover")) w.discover = *v;
  t.duration_in("discover_interval", 0ms, false, w.discover_interval);
  if (const auto v = t.boolean("worker_metrics")) w.worker_metrics = *v;
  if (const auto v = t.boolean("sample_quality")) w.sample_quality = *v;
  t.duration_in("sample_quality_interval", 0ms, false, w.sample_quality_interval);
  t.integer_in("max_samples_per_round", 1, 100000, w.max_samples_per_round);
  if (const auto items = t.string_list("sample_label_names", R"(["cat", "dog"])")) {
    std::vector<std::string> names;
    bool ok = true;
    for (const auto& item : *items) {
      if (item.value.empty() || has_control_chars(item.value)) {
        t.error_at(item.key, item.line,
                   std::string{item.value.empty() ? "label name must not be empty"
                                                  : "label name must not contain control characters"});
        ok = false;
      } else if (std::find(names.begin(), names.end(), item.value) != names.end()) {
        t.error_at(item.key, item.line, "duplicate label name " + quoted(item.value));
        ok = false;
      }
      names.push_back(item.value);
    }
    if (ok) w.sample_label_names = std::move(names);
  }
  if (const auto v = t.ratio("low_confidence_median")) w.low_confidence_median = *v;

  bool discover_ok = true;
  if (const auto* n = table.get("discover"); n && !n->is_boolean()) discover_ok = false;
  if (const auto* n = table.get("sample_quality"); n && !n->is_boolean()) discover_ok = false;
  // A watch of the dataset's samples alone (sample_quality) is a watch too.
  if (ids_ok && discover_ok && !w.discover && !w.sample_quality && w.auto_tasks.empty() &&
      w.workforce_tasks.empty())
    t.error_at(t.path(), t.line(),
               "watches nothing: list auto_tasks or workforce_tasks, or set discover = true or "
               "sample_quality = true");
  t.finish();
}

void read_server(context& ctx, const toml::table* table, server_config& s) {
  if (!table) return;
  table_reader t{ctx, *table, "server"};
  if (const auto v = t.string("listen")) {
    if (const auto problem = listen_problem(*v); !problem.empty())
      t.error("listen", problem);
    else
      s.listen = *v;
  }
  read_path(t, "tls_cert_file", s.tls_cert_file);
  read_path(t, "tls_key_file", s.tls_key_file);
  if (const auto v = t.string("basic_auth_user")) {
    if (v->find(':') != std::string::npos || has_control_chars(*v))
      t.error("basic_auth_user", "must not contain ':' or control characters");
    else
      s.basic_auth_user = *v;
  }
  read_path(t, "basic_auth_password_file", s.basic_auth_password_file);
  t.integer_in("max_connections", 1, 10000, s.max_connections);
  t.duration_in("idle_timeout", 0ms, false, s.idle_timeout);

  if (t.given("tls_cert_file") != t.given("tls_key_file")) {
    const bool cert = t.given("tls_cert_file");
    t.error(cert ? "tls_cert_file" : "tls_key_file",
            std::string{cert ? "tls_cert_file is set but tls_key_file is not"
                             : "tls_key_file is set but tls_cert_file is not"} +
                "; set both to serve HTTPS, or neither for plain HTTP");
  }
  if (t.given("basic_auth_user") && !t.given("basic_auth_password_file"))
    t.error("basic_auth_user", "basic_auth_user needs basic_auth_password_file (a file holding the password)");
  if (!t.given("basic_auth_user") && t.given("basic_auth_password_file"))
    t.error("basic_auth_password_file", "basic_auth_password_file needs basic_auth_user");
  t.finish();
}

void read_state(context& ctx, const toml::table* table, state_config& s) {
  if (!table) return;
  table_reader t{ctx, *table, "state"};
  if (const auto v = t.string("path")) {
    if (v->empty())
      t.error("path", R"(must not be empty; expected the SQLite file, such as "/var/lib/labelwatch/state.db")");
    else if (valid_path(t, "path", *v))
      s.path = *v;
  }
  t.duration_in("transition_retention", 0ms, false, s.transition_retention);
  t.finish();
}

void read_events(context& ctx, const toml::table* table, events_config& e) {
  if (!table) return;
  table_reader t{ctx, *table, "events"};
  if (const auto v = t.string("log")) {
    if (*v == "stdout" || *v == "journal")
      e.log = *v;
    else if (v->empty() || v->front() != '/' || v->back() == '/' || has_control_chars(*v))
      t.error("log", R"(expected "stdout", "journal" or an absolute file path, got )" + quoted(*v));
    else
      e.log = *v;
  }
  if (const auto v = t.string("webhook_url"); v && !v->empty()) {
    if (const auto problem = url_problem(*v, url_use::webhook); !problem.empty())
      t.error("webhook_url", problem);
    else
      e.webhook_url = with_lower_scheme(*v);
  }
  read_path(t, "webhook_secret_file", e.webhook_secret_file);
  read_path(t, "webhook_ca_file", e.webhook_ca_file);
  t.integer_in("webhook_queue_size", 1, 1'000'000, e.webhook_queue_size);
  t.integer_in("recent_events", 1, 100'000, e.recent_events);
  if (t.given("webhook_secret_file") && !t.given("webhook_url"))
    t.error("webhook_secret_file", "webhook_secret_file is set but webhook_url is not; set webhook_url "
                                   "or remove the secret");
  if (t.given("webhook_ca_file") && !t.given("webhook_url"))
    t.error("webhook_ca_file", "webhook_ca_file is set but webhook_url is not; set webhook_url or "
                               "remove webhook_ca_file");
  t.finish();
}

constexpr std::string_view k_actions_text =
    "pass_all (0), reject_all (1), cancel (2), pass_single_and_unprocessed (4), pass_single (5)";

std::string workforce_status_names() {
  std::string out;
  for (const auto st : all_workforce_statuses()) {
    if (st == workforce_status::unknown) continue;
    if (!out.empty()) out += ", ";
    out += to_string(st);
  }
  return out;
}

// A rule as read, with whether it is complete enough to compare with the others.
struct read_rule {
  acceptance_rule rule;
  std::string key;  // "acceptance.rule[2]"
  std::size_t name_line = 0;
  bool valid = true;
};

read_rule read_acceptance_rule(context& ctx, const toml::table& table, std::size_t index,
                               const std::set<std::string, std::less<>>& watched) {
  read_rule out;
  out.key = "acceptance.rule[" + std::to_string(index) + "]";
  acceptance_rule& r = out.rule;
  table_reader t{ctx, table, out.key};
  r.line = t.line();
  const auto errors_before = ctx.errors.size();

  if (const auto* n = table.get("name")) out.name_line = line_of(*n);
  if (const auto v = t.string("name")) {
    if (v->empty() || has_control_chars(*v))
      t.error("name", "must be a non-empty name without control characters; it labels metrics and "
                      "the ledger");
    else
      r.name = *v;
  } else if (!t.has("name")) {
    t.missing("name", R"(every rule needs a unique name, such as "pass-high-quality")");
  }
  if (!r.name.empty()) t.set_subject("rule " + quoted(r.name) + ": ");

  if (const auto v = t.string("mode")) {
    if (*v == "dry-run")
      r.mode = acceptance_mode::dry_run;
    else if (*v == "enforce")
      r.mode = acceptance_mode::enforce;
    else
      t.error("mode", "unknown mode " + quoted(*v) + R"(; expected "dry-run" or "enforce")");
  }

  if (const auto items = t.string_list("datasets", R"(["*"] or ["WxCREuCkBSAlQr9xrde"])")) {
    std::vector<std::string> ids;
    bool ok = true;
    if (items->empty()) {
      t.error("datasets", R"(must list at least one dataset id, or "*" for every watched dataset)");
      ok = false;
    }
    for (const auto& item : *items) {
      if (item.value == "*") {
      } else if (!is_url_safe(item.value)) {
        t.error_at(item.key, item.line,
                   "invalid dataset id " + quoted(item.value) + R"(; expected a dataset id or "*")");
        ok = false;
      } else if (!watched.contains(item.value)) {
        // A typo here would silently disable the rule.
        t.error_at(item.key, item.line,
                   "dataset " + quoted(item.value) +
                       " is not watched by any [[watch]]; the rule could never act on it");
        ok = false;
      }
      ids.push_back(item.value);
    }
    if (ok) r.datasets = std::move(ids);
  }

  if (const auto items = t.string_list("when_status", R"(["accepting"])")) {
    std::vector<workforce_status> statuses;
    bool ok = true;
    if (items->empty()) {
      t.error("when_status", "must list at least one workforce task status; expected some of: " +
                                 workforce_status_names());
      ok = false;
    }
    for (const auto& item : *items) {
      const auto st = parse_workforce_status(item.value);
      if (!st || *st == workforce_status::unknown) {
        t.error_at(item.key, item.line,
                   "unknown workforce task status " + quoted(item.value) +
                       "; expected one of: " + workforce_status_names());
        ok = false;
      } else if (std::find(statuses.begin(), statuses.end(), *st) == statuses.end()) {
        statuses.push_back(*st);
      }
    }
    if (ok) r.when_status = std::move(statuses);
  }

  r.min_pass_rate = t.ratio("min_pass_rate");
  r.max_pass_rate = t.ratio("max_pass_rate");
  if (r.min_pass_rate && r.max_pass_rate && *r.min_pass_rate > *r.max_pass_rate)
    t.error("min_pass_rate", "min_pass_rate " + number_text(*r.min_pass_rate) +
                                 " is greater than max_pass_rate " +
                                 number_text(*r.max_pass_rate) + "; the rule could never act");
  {
    std::int64_t v = -1;
    t.integer_in("min_checked_samples", 0, std::numeric_limits<std::int64_t>::max(), v);
    if (v >= 0) r.min_checked_samples = v;
    v = -1;
    t.integer_in("max_conflicts", 0, std::numeric_limits<std::int64_t>::max(), v);
    if (v >= 0) r.max_conflicts = v;
  }
  if (const auto v = t.boolean("require_sampling_complete")) r.require_sampling_complete = *v;

  if (const toml::node* n = t.find("action")) {
    if (const auto* s = n->as_string()) {
      if (const auto a = parse_acceptance_action(s->get()))
        r.action = *a;
      else
        t.error("action", "unknown action " + quoted(s->get()) + "; expected one of: " +
                              std::string{k_actions_text});
    } else if (const auto* i = n->as_integer()) {
      std::string msg = "expected an action name, got the integer " + std::to_string(i->get());
      if (i->get() == 3)
        msg += " (action 3 lists conflicts: it is not a rule action; see max_conflicts)";
      t.error("action", msg + "; use one of: " + std::string{k_actions_text});
    } else {
      t.error("action", "expected an action name, got " + describe(*n) + "; use one of: " +
                            std::string{k_actions_text});
    }
  } else {
    t.missing("action", "expected one of: " + std::string{k_actions_text});
  }
  if (const auto v = t.boolean("overwrite_last_result")) r.overwrite_last_result = *v;
  t.finish();
  out.valid = ctx.errors.size() == errors_before;
  return out;
}

// What two rules share, when they could both match one task.
std::optional<std::string> overlap(const acceptance_rule& a, const acceptance_rule& b) {
  const auto all = [](const acceptance_rule& r) {
    return std::find(r.datasets.begin(), r.datasets.end(), "*") != r.datasets.end();
  };
  std::string datasets;
  if (all(a) && all(b)) {
    datasets = "every dataset";
  } else {
    const auto& from = all(a) ? b : a;
    const auto& other = all(a) ? a : b;
    for (const auto& id : from.datasets) {
      if (id == "*") continue;
      if (all(other) || std::find(other.datasets.begin(), other.datasets.end(), id) !=
                            other.datasets.end()) {
        if (!datasets.empty()) datasets += ", ";
        datasets += quoted(id);
      }
    }
    if (datasets.empty()) return std::nullopt;
    datasets = "dataset " + datasets;
  }
  std::string statuses;
  for (const auto st : a.when_status) {
    if (std::find(b.when_status.begin(), b.when_status.end(), st) == b.when_status.end()) continue;
    if (!statuses.empty()) statuses += ", ";
    statuses += to_string(st);
  }
  if (statuses.empty()) return std::nullopt;
  constexpr double inf = std::numeric_limits<double>::infinity();
  const double lo = std::max(a.min_pass_rate.value_or(-inf), b.min_pass_rate.value_or(-inf));
  const double hi = std::min(a.max_pass_rate.value_or(inf), b.max_pass_rate.value_or(inf));
  if (lo > hi) return std::nullopt;
  std::string rate;
  if (lo == -inf && hi == inf)
    rate = "any pass_rate";
  else if (hi == inf)
    rate = "pass_rate >= " + number_text(lo);
  else if (lo == -inf)
    rate = "pass_rate <= " + number_text(hi);
  else if (lo == hi)
    rate = "pass_rate = " + number_text(lo);
  else
    rate = "pass_rate " + number_text(lo) + ".." + number_text(hi);
  return datasets + ", status " + statuses + ", " + rate;
}

void check_overlaps(context& ctx, const std::vector<read_rule>& rules) {
  for (std::size_t j = 0; j < rules.size(); ++j) {
    for (std::size_t i = 0; i < j; ++i) {
      const auto& a = rules[i];
      const auto& b = rules[j];
      if (!a.valid || !b.valid) continue;
      const bool same_action = a.rule.action == b.rule.action;
      if (same_action && a.rule.overwrite_last_result == b.rule.overwrite_last_result) continue;
      const auto shared = overlap(a.rule, b.rule);
      if (!shared) continue;
      std::string difference =
          !same_action
              ? "different actions (" + std::string{to_string(b.rule.action)} + " here, " +
                    std::string{to_string(a.rule.action)} + " there)"
              : std::string{"different overwrite_last_result ("} +
                    (b.rule.overwrite_last_result ? "true" : "false") + " here, " +
                    (a.rule.overwrite_last_result ? "true" : "false") + " there)";
      ctx.error(b.key, b.rule.line,
                "rule " + quoted(b.rule.name) + " overlaps rule " + quoted(a.rule.name) +
                    " (line " + std::to_string(a.rule.line) + "): both could act on one task (" +
                    *shared + ") with " + difference +
                    "; make their datasets, when_status or pass-rate bounds disjoint, or give "
                    "them the same action");
    }
  }
}

void read_acceptance(context& ctx, const toml::table* table, acceptance_config& a,
                     const std::vector<watch_config>& watches) {
  if (!table) return;
  table_reader t{ctx, *table, "acceptance"};
  if (const auto v = t.boolean("enabled")) a.enabled = *v;
  t.integer_in("max_actions_per_hour", 1, 10'000, a.max_actions_per_hour,
               "set enabled = false to stop all actions");
  t.duration_in("task_cooldown", 0ms, true, a.task_cooldown);
  std::set<std::string, std::less<>> watched;
  for (const auto& w : watches) watched.insert(w.dataset_id);
  std::vector<read_rule> rules;
  if (const auto* arr = t.table_array("rule")) {
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const auto* rule = arr->get(i)->as_table();
      if (rule) rules.push_back(read_acceptance_rule(ctx, *rule, i, watched));
    }
  }
  for (std::size_t j = 0; j < rules.size(); ++j) {
    if (rules[j].rule.name.empty()) continue;
    for (std::size_t i = 0; i < j; ++i) {
      if (rules[i].rule.name != rules[j].rule.name) continue;
      ctx.error(rules[j].key + ".name", rules[j].name_line,
                "duplicate rule name " + quoted(rules[j].rule.name) + " (also " + rules[i].key +
                    ", line " + std::to_string(rules[i].rule.line) +
                    "); rule names must be unique: they label metrics and the ledger");
      rules[j].valid = false;
      break;
    }
  }
  check_overlaps(ctx, rules);
  for (auto& r : rules) a.rules.push_back(std::move(r.rule));
  t.finish();
}

void read_document(context& ctx, const toml::table& root, daemon_config& cfg) {
  table_reader t{ctx, root, ""};
  read_cloud(ctx, t.table("cloud"), cfg.cloud);
  if (!root.get("cloud"))
    ctx.error("cloud", 0, "required table [cloud] is missing; it needs endpoint and project_id");
  read_auth(ctx, t.table("auth"), cfg.auth);
  read_poll(ctx, t.table("poll"), cfg.poll);
  if (const auto* arr = t.table_array("watch")) {
    cfg.watches.resize(arr->size());
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const auto* watch = arr->get(i)->as_table();
      if (!watch) continue;
      read_watch(ctx, *watch, i, cfg.watches[i]);
      if (cfg.watches[i].dataset_id.empty()) continue;
      for (std::size_t j = 0; j < i; ++j) {
        if (cfg.watches[j].dataset_id != cfg.watches[i].dataset_id) continue;
        const auto* n = watch->get("dataset_id");
        ctx.error("watch[" + std::to_string(i) + "].dataset_id", n ? line_of(*n) : cfg.watches[i].line,
                  "duplicate dataset_id " + quoted(cfg.watches[i].dataset_id) + " (also watch[" +
                      std::to_string(j) + "], line " + std::to_string(cfg.watches[j].line) +
                      "); use one [[watch]] per dataset");
        break;
      }
    }
  }
  read_server(ctx, t.table("server"), cfg.server);
  read_state(ctx, t.table("state"), cfg.state);
  read_events(ctx, t.table("events"), cfg.events);
  read_acceptance(ctx, t.table("acceptance"), cfg.acceptance, cfg.watches);
  t.finish();
}

}  // namespace

std::string config_error::to_string() const {
  std::string out;
  if (!file.empty()) out += file;
  if (line != 0) {
    if (!out.empty()) out += ':';
    out += std::to_string(line);
  }
  if (!key.empty()) {
    if (!out.empty()) out += ": ";
    out += key;
  }
  if (!out.empty()) out += ": ";
  out += message;
  return out;
}

config_result parse_config(std::string_view toml_text, std::string_view source_name) {
  context ctx;
  ctx.file = std::string{source_name};
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    // toml++ may quote the offending input; keep the message on one line.
    std::string message = escaped(e.description(), 300, false);
    if (message.empty()) message = "syntax error";
    return std::vector<config_error>{
        config_error{ctx.file, {}, e.source().begin.line, "invalid TOML: " + message}};
  }
  daemon_config cfg;
  cfg.source = ctx.file;
  read_document(ctx, root, cfg);
  if (!ctx.errors.empty()) {
    std::stable_sort(ctx.errors.begin(), ctx.errors.end(),
                     [](const config_error& a, const config_error& b) { return a.line < b.line; });
    return std::move(ctx.errors);
  }
  cfg.key_lines = std::move(ctx.lines);
  return cfg;
}

}  // namespace labelwatch::config
