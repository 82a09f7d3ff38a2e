// How another C++ OPC UA server accepts castellan's AccessTokens (OPC UA Part 12 §9.7): load the
// AuthorizationService's ServiceCertificate once, then check each token an ActivateSession
// brings before giving the session the roles the token carries.
//
//   token_verifier_example SERVICE_CERT.pem SERVICE_URI MY_APPLICATION_URI < token.jwt
//
// Link with the CMake target castellan::token_verifier.
#include <iostream>
#include <string>

#include "authz/token_verifier.h"
#include "core/files.h"
#include "pki/encoding.h"

int main(int argc, char** argv) {
  using namespace castellan;
  if (argc != 4) {
    std::cerr << "usage: " << argv[0] << " SERVICE_CERT.pem SERVICE_URI MY_APPLICATION_URI < token\n";
    return 2;
  }
  auto pem = read_file(argv[1]);
  if (!pem) {
    std::cerr << pem.err().message << "\n";
    return 1;
  }
  auto certificates = pki::parse_certificates(*pem, argv[1]);
  if (!certificates || certificates->empty()) {
    std::cerr << "no certificate in " << argv[1] << "\n";
    return 1;
  }
  // Once, at start-up: who may issue tokens, and who we are (the audience).
  auto verifier = authz::token_verifier::create({{argv[2], certificates->front()}}, {argv[3]});
  if (!verifier) {
    std::cerr << verifier.err().message << "\n";
    return 1;
  }
  // Per ActivateSession: the IssuedIdentityToken's TokenData.
  std::string token;
  std::getline(std::cin, token);
  auto claims = verifier->verify(token, system_clock().now());
  if (!claims) {
    // Answer ActivateSession with this StatusCode (BadIdentityTokenRejected / …Invalid).
    std::cerr << status_name(claims.code()) << ": " << claims.err().message << "\n";
    return 1;
  }
  std::cout << "subject " << claims->subject << ", roles:";
  for (const auto& role : claims->roles) std::cout << " " << role;
  std::cout << "\n";
  return 0;
}
