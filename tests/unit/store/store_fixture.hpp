// Shared helpers for the store tests: a temporary directory per test (real files on a
// real file system) and a way to run the store's awaitables to completion.
#pragma once

#include "store/store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

namespace labelwatch::store::testing {

namespace asio = boost::asio;

class temp_dir {
 public:
  temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/labelwatch-store-XXXXXX";
    if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs one awaitable on `io` until it completes and returns its value (rethrows).
template <class T>
T run(asio::io_context& io, net::awaitable<T> a) {
  std::optional<T> out;
  std::exception_ptr error;
  asio::co_spawn(
      io, [&]() -> net::awaitable<void> { out.emplace(co_await std::move(a)); },
      [&](std::exception_ptr e) { error = e; });
  io.restart();
  io.run();
  if (error) std::rethrow_exception(error);
  if (!out) throw std::runtime_error("awaitable did not complete");
  return std::move(*out);
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::unique_ptr<state_store> open_ok(const open_options& o) {
  auto r = state_store::open(o);
  if (!r) throw std::runtime_error("open failed: " + r.error().message);
  return std::move(*r);
}

inline open_options options_for(const std::string& path) {
  open_options o;
  o.path = path;
  return o;
}

}  // namespace labelwatch::store::testing
