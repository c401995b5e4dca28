// Client TLS context and per-connection verification (see tls_client.hpp).
#include "net/tls_client.hpp"

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/verify_context.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <arpa/inet.h>

#include <filesystem>
#include <fstream>

namespace labelwatch::net {
namespace {

namespace ssl = boost::asio::ssl;

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string openssl_reason(const boost::system::error_code& ec) {
  // Asio's message for SSL errors already carries the library's reason string.
  return ec.message();
}

}  // namespace

boost::system::result<std::shared_ptr<ssl::context>, std::string> make_client_tls_context(
    const tls_client_options& options) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ::SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  ctx->set_verify_mode(ssl::verify_peer);

  boost::system::error_code ec;
  ctx->set_default_verify_paths(ec);
  if (ec) return "cannot load the system trust store: " + openssl_reason(ec);

  if (!options.ca_file.empty()) {
    std::error_code fec;
    if (!std::filesystem::is_regular_file(options.ca_file, fec))
      return "[cloud] ca_file " + options.ca_file + ": not a readable file";
    if (std::ifstream probe(options.ca_file); !probe)
      return "[cloud] ca_file " + options.ca_file + ": cannot be opened";
    ctx->load_verify_file(options.ca_file, ec);
    if (ec)
      return "[cloud] ca_file " + options.ca_file + ": no usable PEM certificate (" +
             openssl_reason(ec) + ")";
  }
  return ctx;
}

bool set_server_name(SSL* ssl, const std::string& host) {
  if (is_ip_literal(host)) return true;
  return ::SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
}

bool verify_host::operator()(bool preverified, ssl::verify_context& ctx) const {
  const bool ok = ssl::host_name_verification(host_)(preverified, ctx);
  if (!ok && preverified) {
    // The chain was fine, so the leaf's name is what failed: record it as such, or
    // OpenSSL would report only "certificate verify failed".
    ::X509_STORE_CTX_set_error(ctx.native_handle(), X509_V_ERR_HOSTNAME_MISMATCH);
  }
  return ok;
}

std::string describe_tls_failure(const SSL* ssl, const boost::system::error_code& ec) {
  if (ssl) {
    const long v = ::SSL_get_verify_result(ssl);
    if (v != X509_V_OK)
      return std::string("certificate verify failed: ") + ::X509_verify_cert_error_string(v);
  }
  if (ec == ssl::error::stream_truncated) return "connection closed during the TLS handshake";
  return "TLS handshake failed: " + openssl_reason(ec);
}

}  // namespace labelwatch::net
