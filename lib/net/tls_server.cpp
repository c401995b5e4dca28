#include "net/tls_server.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/context.hpp>

#include <stdexcept>
#include <string>

namespace labelwatch::net {
namespace ssl = boost::asio::ssl;

namespace {

std::string openssl_reason(const boost::system::error_code& ec) {
  // Asio maps OpenSSL errors to ec.message(); keep it, it names the failing check.
  return ec.message();
}

std::shared_ptr<ssl::context> base_context() {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::no_compression | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx->native_handle(),
                      SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  return ctx;
}

void check_key(ssl::context& ctx, const std::string& what) {
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    ERR_clear_error();
    throw std::runtime_error(what + ": the private key does not match the certificate");
  }
}

}  // namespace

std::shared_ptr<ssl::context> make_server_tls_context(const std::filesystem::path& cert_chain,
                                                      const std::filesystem::path& private_key) {
  auto ctx = base_context();
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert_chain.string(), ec);
  if (ec)
    throw std::runtime_error("TLS certificate " + cert_chain.string() + ": " + openssl_reason(ec));
  ctx->use_private_key_file(private_key.string(), ssl::context::pem, ec);
  if (ec)
    throw std::runtime_error("TLS private key " + private_key.string() + ": " + openssl_reason(ec));
  check_key(*ctx, "TLS key " + private_key.string());
  return ctx;
}

std::shared_ptr<ssl::context> make_server_tls_context_from_pem(std::string_view cert_chain_pem,
                                                               std::string_view private_key_pem) {
  auto ctx = base_context();
  boost::system::error_code ec;
  ctx->use_certificate_chain(boost::asio::buffer(cert_chain_pem.data(), cert_chain_pem.size()), ec);
  if (ec) throw std::runtime_error("TLS certificate (PEM in memory): " + openssl_reason(ec));
  ctx->use_private_key(boost::asio::buffer(private_key_pem.data(), private_key_pem.size()),
                       ssl::context::pem, ec);
  if (ec) throw std::runtime_error("TLS private key (PEM in memory): " + openssl_reason(ec));
  check_key(*ctx, "TLS key (PEM in memory)");
  return ctx;
}

}  // namespace labelwatch::net
