// A throw-away PKI for loopback TLS: a self-signed CA and a server certificate signed
// by it, generated with OpenSSL (EC P-256, SHA-256). Used by labelwatch-sim (--tls auto),
// labelwatchd --demo and the tests, so TLS is always real and verified against a CA.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace labelwatch::net {

struct pki_options {
  // subjectAltName entries of the server certificate. A client connecting to a name not
  // listed here must fail verification (use {"wrong.example"} to test that).
  std::vector<std::string> dns_names{"localhost"};
  std::vector<std::string> ip_addresses{"127.0.0.1", "::1"};
  std::string ca_common_name = "labelwatch test CA";
  std::chrono::hours validity{24 * 30};
};

struct pki_pem {
  std::string ca_cert;      // PEM
  std::string server_cert;  // PEM, the leaf only
  std::string server_key;   // PEM, PKCS#8, unencrypted
};

// Generates a fresh CA and server certificate. Throws std::runtime_error naming the
// OpenSSL step that failed, or std::invalid_argument for an unparseable IP address.
pki_pem generate_pki(const pki_options& options = {});

struct pki_files {
  std::filesystem::path ca_cert;      // dir/ca.pem
  std::filesystem::path server_cert;  // dir/server.pem
  std::filesystem::path server_key;   // dir/server.key (mode 0600)
};

// Writes `pem` into `dir` (created if missing) as ca.pem, server.pem, server.key,
// replacing existing files. Throws std::runtime_error naming the file on failure.
pki_files write_pki(const std::filesystem::path& dir, const pki_pem& pem);

}  // namespace labelwatch::net
