#include "executor/common/fingerprint.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

namespace mutcell {
namespace {

// Fetched once: EVP_sha256() would look the implementation up again on every
// call (in OpenSSL 3, about half of a short digest's time).
const EVP_MD* Sha256() {
  static const EVP_MD* md = [] {
    // libcrypto is linked statically: the host's openssl.cnf (which may load
    // providers built for another OpenSSL) has no say in a digest.
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
    return EVP_MD_fetch(nullptr, "SHA256", nullptr);
  }();
  return md;
}

}  // namespace

std::string Fingerprint(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const EVP_MD* md = Sha256();
  if (md == nullptr || EVP_Digest(data.data(), data.size(), digest, &len, md, nullptr) != 1) {
    // Only a broken libcrypto gets here; a wrong fingerprint would reuse wrong verdicts.
    std::fprintf(stderr, "mutcell: internal error: OpenSSL cannot compute SHA-256\n");
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * len, '0');
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace mutcell
