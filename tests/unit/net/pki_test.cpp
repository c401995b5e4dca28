#include "net/pki.hpp"
#include "net/tls_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>

#include <sys/stat.h>

namespace net = labelwatch::net;
using ::testing::HasSubstr;

namespace {

struct x509_deleter {
  void operator()(X509* x) const { X509_free(x); }
};
using x509_ptr = std::unique_ptr<X509, x509_deleter>;

x509_ptr read_cert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  x509_ptr cert{PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)};
  BIO_free(bio);
  return cert;
}

// Verifies `leaf` against `ca` as a TLS server certificate; returns the OpenSSL result.
int verify(X509* leaf, X509* ca) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  const int ok = X509_verify_cert(ctx);
  const int err = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok == 1 ? X509_V_OK : err;
}

}  // namespace

TEST(pki, server_certificate_chains_to_the_ca_and_names_loopback) {
  const auto pem = net::generate_pki();
  const auto ca = read_cert(pem.ca_cert);
  const auto leaf = read_cert(pem.server_cert);
  ASSERT_TRUE(ca && leaf);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  EXPECT_EQ(verify(leaf.get(), ca.get()), X509_V_OK);
  EXPECT_EQ(X509_check_host(leaf.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "::1", 0), 1);
  EXPECT_NE(X509_check_host(leaf.get(), "example.com", 0, 0, nullptr), 1);
  // Each call makes a new CA: certificates of one do not verify under another.
  const auto other = read_cert(net::generate_pki().ca_cert);
  EXPECT_NE(verify(leaf.get(), other.get()), X509_V_OK);
  // The key works with the certificate.
  EXPECT_NO_THROW(net::make_server_tls_context_from_pem(pem.server_cert, pem.server_key));
}

TEST(pki, wrong_host_certificate_for_negative_tests) {
  net::pki_options o;
  o.dns_names = {"wrong.example"};
  o.ip_addresses = {};
  const auto pem = net::generate_pki(o);
  const auto leaf = read_cert(pem.server_cert);
  EXPECT_EQ(X509_check_host(leaf.get(), "wrong.example", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_host(leaf.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_ip_asc(leaf.get(), "127.0.0.1", 0), 1);
}

TEST(pki, bad_inputs_are_rejected_clearly) {
  net::pki_options o;
  o.ip_addresses = {"not-an-ip"};
  try {
    net::generate_pki(o);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("not-an-ip"));
  }
  o.dns_names.clear();
  o.ip_addresses.clear();
  EXPECT_THROW(net::generate_pki(o), std::invalid_argument);
}

TEST(pki, written_files_and_their_permissions) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("lw-pki-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto pem = net::generate_pki();
  const auto files = net::write_pki(dir / "nested", pem);
  EXPECT_EQ(files.ca_cert, dir / "nested" / "ca.pem");
  struct stat st {};
  ASSERT_EQ(::stat(files.server_key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the private key is not world-readable";
  std::ifstream in(files.ca_cert);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, pem.ca_cert);
  EXPECT_NO_THROW(net::make_server_tls_context(files.server_cert, files.server_key));
  // Mismatched key and certificate, and missing files, name the file.
  const auto other = net::write_pki(dir / "other", net::generate_pki());
  try {
    net::make_server_tls_context(files.server_cert, other.server_key);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("mismatch"));
    EXPECT_THAT(e.what(), HasSubstr(other.server_key.string()));
  }
  try {
    net::make_server_tls_context(dir / "missing.pem", files.server_key);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("missing.pem"));
  }
  std::filesystem::remove_all(dir);
}
