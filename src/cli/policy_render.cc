#include <cstdio>

#include "cli/commands.h"
#include "config/config.h"
#include "policy/template.h"

namespace vendo::cli {

int PolicyRender(const PolicyRenderOptions& options) {
  auto cfg = LoadConfigOrReport(options.config_file);
  if (!cfg) {
    return 2;
  }
  const server::AppConfig* app = cfg->FindApp(options.app);
  if (app == nullptr) {
    std::fprintf(stderr, "vendo: no app named \"%s\" in %s\n", options.app.c_str(),
                 options.config_file.c_str());
    return 2;
  }
  bool identity = app->mode == protocol::legacy::Mode::kIdentity;
  if (identity && options.username.empty()) {
    std::fprintf(stderr, "vendo: app %s is an identity app: give --user\n", app->name.c_str());
    return 2;
  }
  if (!identity && options.uid.empty()) {
    std::fprintf(stderr, "vendo: app %s is an anonymous app: give --uid\n", app->name.c_str());
    return 2;
  }
  auto tmpl = policy::Template::Parse(app->policy);
  if (!tmpl) {
    std::fprintf(stderr, "vendo: apps.%s policy: %s\n", app->name.c_str(),
                 tmpl.error().message.c_str());
    return 2;
  }
  auto rendered =
      tmpl->Render({app->name, options.uid, options.username, options.user_id,
                    options.region.empty() ? app->aws.region : options.region,
                    options.account_id.empty() ? app->aws.account_id : options.account_id});
  if (!rendered) {
    std::fprintf(stderr, "vendo: %s\n", rendered.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", rendered->c_str());
  std::fprintf(stderr, "%zu of %zu bytes (at most %zu with the longest allowed values)\n",
               rendered->size(), policy::kMaxPolicyBytes, tmpl->WorstCaseBytes());
  return 0;
}

}  // namespace vendo::cli
