#include "observe/gzip.hpp"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace labelwatch::observe {

std::string gzip_compress(std::string_view data, int level) {
  z_stream zs{};
  // windowBits 15 + 16 selects the gzip wrapper instead of zlib's; memLevel 8 is the default.
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("gzip: deflateInit2 failed");

  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())));
  // zlib counts in uInt; feed large inputs in slices so nothing is truncated.
  constexpr std::size_t k_slice = std::numeric_limits<uInt>::max();
  std::size_t in_off = 0;
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(std::min(out.size(), k_slice));
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (zs.avail_in == 0 && in_off < data.size()) {
      const std::size_t n = std::min(data.size() - in_off, k_slice);
      // zlib's API is not const-correct; deflate never writes through next_in.
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + in_off));
      zs.avail_in = static_cast<uInt>(n);
      in_off += n;
    }
    if (zs.avail_out == 0) {
      const std::size_t written = zs.total_out;
      if (written == out.size()) out.resize(written * 2 + 64);
      zs.next_out = reinterpret_cast<Bytef*>(out.data() + written);
      zs.avail_out = static_cast<uInt>(std::min(out.size() - written, k_slice));
    }
    rc = deflate(&zs, in_off == data.size() ? Z_FINISH : Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      deflateEnd(&zs);
      throw std::runtime_error("gzip: deflate failed");
    }
  }
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace labelwatch::observe
