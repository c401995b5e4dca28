// The client side of TLS: one ssl::context for every outgoing connection, and what each
// connection needs before its handshake. There is deliberately no way to turn
// verification off: tests trust their own CA through `ca_file`.
//
// - TLS 1.2 or newer, peer verification on, the system trust store plus an optional
//   extra PEM bundle ([cloud] ca_file).
// - Per connection: SNI (for names; RFC 6066 forbids IP literals in SNI) and RFC 6125
//   host-name verification (asio::ssl::host_name_verification, which also matches IP
//   literals against IP SANs).
// - A failed handshake is described with OpenSSL's reason, e.g.
//   "certificate verify failed: self-signed certificate in certificate chain" or
//   "certificate verify failed: hostname mismatch".
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <memory>
#include <string>
#include <string_view>

using SSL = struct ssl_st;
using X509_STORE_CTX = struct x509_store_ctx_st;

namespace labelwatch::net {

struct tls_client_options {
  std::string ca_file;  // extra PEM bundle; empty: the system trust store only
};

// Builds the client context. Errors name the CA file and OpenSSL's reason.
boost::system::result<std::shared_ptr<boost::asio::ssl::context>, std::string>
make_client_tls_context(const tls_client_options& options);

// Sets SNI for `host` (skipped for IP literals) on a connection before its handshake.
// Returns false when OpenSSL refused the name.
bool set_server_name(SSL* ssl, const std::string& host);

// The verify callback each connection installs (stream.set_verify_callback): chain
// verification by OpenSSL, then host-name verification of the leaf. A host-name
// mismatch is recorded as X509_V_ERR_HOSTNAME_MISMATCH so it can be reported by name.
class verify_host {
 public:
  explicit verify_host(std::string host) : host_(std::move(host)) {}
  bool operator()(bool preverified, boost::asio::ssl::verify_context& ctx) const;

 private:
  std::string host_;
};

// A message for a failed handshake: the certificate verification reason when the peer
// certificate was rejected, else the error's own message.
std::string describe_tls_failure(const SSL* ssl, const boost::system::error_code& ec);

}  // namespace labelwatch::net
