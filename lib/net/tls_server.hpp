// Server-side TLS context for net::http_server: certificate chain + private key from
// PEM, TLS 1.2 or newer only. (The client-side context is in tls_client.hpp.)
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

namespace boost::asio::ssl {
class context;
}

namespace labelwatch::net {

// Builds a server context from PEM files: `cert_chain` holds the server certificate
// (optionally followed by intermediates), `private_key` its key. TLS 1.2+, no
// compression, no renegotiation, server cipher preference.
// Throws std::runtime_error naming the file and the OpenSSL reason when a file is
// missing, unreadable, not PEM, or the key does not match the certificate.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(
    const std::filesystem::path& cert_chain, const std::filesystem::path& private_key);

// The same from PEM text held in memory (tests, generated PKI).
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context_from_pem(
    std::string_view cert_chain_pem, std::string_view private_key_pem);

}  // namespace labelwatch::net
