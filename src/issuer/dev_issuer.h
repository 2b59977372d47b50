// DevIssuer mints development credentials locally, with no AWS involved.
//
// They look like STS credentials but open nothing: the access key id starts with "VDEV" so
// that no one mistakes them for real ones, and the session token says "vendo-dev". Used by
// `vendo serve --dev` and by tests. Completes synchronously, inside Issue().
#pragma once

#include "common/clock.h"
#include "common/random.h"
#include "issuer/issuer.h"

namespace vendo::issuer {

class DevIssuer final : public Issuer {
 public:
  DevIssuer(const Clock& clock, Random& random) : clock_(clock), random_(random) {}

  void Issue(IssueRequest request, IssueCallback done) override;
  std::string_view Kind() const override { return "dev"; }
  std::size_t MaxSessionNameLength() const override { return 32; }

 private:
  const Clock& clock_;
  Random& random_;
};

}  // namespace vendo::issuer
