// gzip (RFC 1952) compression of response bodies, for /metrics scrapes that send
// `Accept-Encoding: gzip`.
#pragma once

#include <string>
#include <string_view>

namespace labelwatch::observe {

// The whole input as one gzip member. `level` is zlib's 1 (fast) .. 9 (small); the
// default favours speed, which is what a scrape every few seconds wants.
// Throws std::bad_alloc or std::runtime_error (zlib failure; not expected in practice).
std::string gzip_compress(std::string_view data, int level = 1);

}  // namespace labelwatch::observe
