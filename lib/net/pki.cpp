#include "net/pki.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <system_error>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace labelwatch::net {
namespace {

struct evp_pkey_free_t {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct x509_free_t {
  void operator()(X509* p) const { X509_free(p); }
};
struct bio_free_t {
  void operator()(BIO* p) const { BIO_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, evp_pkey_free_t>;
using x509_ptr = std::unique_ptr<X509, x509_free_t>;
using bio_ptr = std::unique_ptr<BIO, bio_free_t>;

[[noreturn]] void fail(const std::string& step) {
  const unsigned long code = ERR_get_error();
  char buf[256] = {};
  if (code != 0) ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  throw std::runtime_error("PKI generation failed at " + step +
                           (code ? std::string(": ") + buf : ""));
}

void check(int rc, const char* step) {
  if (rc <= 0) fail(step);
}

pkey_ptr new_key() {
  pkey_ptr key{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
  if (!key) fail("EC key generation");
  return key;
}

void set_serial(X509* cert) {
  unsigned char bytes[16];
  check(RAND_bytes(bytes, sizeof bytes), "serial number");
  bytes[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(bytes, sizeof bytes, nullptr);
  if (!bn) fail("serial number");
  ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
  BN_free(bn);
  if (!serial) fail("serial number");
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) fail("extension " + std::string(OBJ_nid2sn(nid)) + "=" + value);
  const int rc = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  check(rc, "adding an extension");
}

x509_ptr new_cert(EVP_PKEY* key, const std::string& cn, std::chrono::hours validity) {
  x509_ptr cert{X509_new()};
  if (!cert) fail("X509_new");
  check(X509_set_version(cert.get(), 2), "certificate version");
  set_serial(cert.get());
  // Valid from an hour ago, so a client whose clock is slightly behind still accepts it.
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600)) fail("notBefore");
  if (!X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                       static_cast<long>(std::chrono::seconds(validity).count())))
    fail("notAfter");
  check(X509_set_pubkey(cert.get(), key), "public key");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("labelwatch"), -1, -1, 0),
        "subject O");
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0),
        "subject CN");
  return cert;
}

std::string to_pem(X509* cert) {
  bio_ptr bio{BIO_new(BIO_s_mem())};
  if (!bio) fail("BIO_new");
  check(PEM_write_bio_X509(bio.get(), cert), "PEM encoding of a certificate");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string key_to_pem(EVP_PKEY* key) {
  bio_ptr bio{BIO_new(BIO_s_mem())};
  if (!bio) fail("BIO_new");
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
        "PEM encoding of the key");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

void write_file(const std::filesystem::path& path, const std::string& text, mode_t mode) {
  const auto tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    throw std::runtime_error("cannot write " + tmp + ": " +
                             std::error_code(errno, std::generic_category()).message());
  std::size_t off = 0;
  while (off < text.size()) {
    const auto n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw std::runtime_error("cannot write " + tmp + ": " +
                               std::error_code(err, std::generic_category()).message());
    }
    off += static_cast<std::size_t>(n);
  }
  ::fchmod(fd, mode);
  ::close(fd);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    throw std::runtime_error("cannot rename " + tmp + " to " + path.string() + ": " + ec.message());
}

}  // namespace

pki_pem generate_pki(const pki_options& options) {
  std::string san;
  for (const auto& d : options.dns_names) san += (san.empty() ? "" : ",") + ("DNS:" + d);
  for (const auto& ip : options.ip_addresses) {
    // Validate here so the caller gets a clear message instead of an OpenSSL one.
    unsigned char buf[16];
    if (::inet_pton(AF_INET, ip.c_str(), buf) != 1 && ::inet_pton(AF_INET6, ip.c_str(), buf) != 1)
      throw std::invalid_argument("PKI: \"" + ip + "\" is not an IP address");
    san += (san.empty() ? "" : ",") + ("IP:" + ip);
  }
  if (san.empty())
    throw std::invalid_argument("PKI: the server certificate needs at least one name");

  auto ca_key = new_key();
  auto ca = new_cert(ca_key.get(), options.ca_common_name, options.validity);
  check(X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get())), "CA issuer");
  add_ext(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_ext(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  check(X509_sign(ca.get(), ca_key.get(), EVP_sha256()), "signing the CA certificate");

  auto key = new_key();
  const std::string cn =
      options.dns_names.empty() ? options.ip_addresses.front() : options.dns_names.front();
  auto leaf = new_cert(key.get(), cn, options.validity);
  check(X509_set_issuer_name(leaf.get(), X509_get_subject_name(ca.get())), "server issuer");
  add_ext(leaf.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(leaf.get(), ca.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
  add_ext(leaf.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  add_ext(leaf.get(), ca.get(), NID_subject_key_identifier, "hash");
  add_ext(leaf.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  add_ext(leaf.get(), ca.get(), NID_subject_alt_name, san);
  check(X509_sign(leaf.get(), ca_key.get(), EVP_sha256()), "signing the server certificate");

  return pki_pem{to_pem(ca.get()), to_pem(leaf.get()), key_to_pem(key.get())};
}

pki_files write_pki(const std::filesystem::path& dir, const pki_pem& pem) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());
  pki_files files{dir / "ca.pem", dir / "server.pem", dir / "server.key"};
  write_file(files.ca_cert, pem.ca_cert, 0644);
  write_file(files.server_cert, pem.server_cert, 0644);
  write_file(files.server_key, pem.server_key, 0600);
  return files;
}

}  // namespace labelwatch::net
