// `vendo client register|login|token|forget` and `vendo credential-process`: the device side,
// on libvendo-client. They never touch a server's store (that is `vendo device|user`).
#include "cli/client_commands.h"

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>

#include "cli/command.h"
#include "cli/password_input.h"
#include "client/wire.h"
#include "protocol/timestamp.h"
#include "vendo/client.h"

namespace vendo::cli {
namespace {

using client::Mode;
using client::Protocol;

std::string DefaultStatePath() {
  if (const char* env = std::getenv("VENDO_CLIENT_STATE"); env != nullptr && *env != '\0') {
    return env;
  }
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/vendo/client.json";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.config/vendo/client.json";
}

int Report(std::string_view command, const Error& e) {
  std::fprintf(stderr, "vendo %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               e.message.c_str());
  return 1;
}

// A value in single quotes for a POSIX shell.
std::string ShellQuote(std::string_view v) {
  std::string out = "'";
  for (char c : v) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

// An ID token from `path` ("-": standard input), without surrounding whitespace.
Result<std::string> ReadIdToken(const std::string& path) {
  std::string text;
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "r");
  if (f == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "cannot read the ID token file " + path);
  }
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0 && text.size() < 65536;) {
    text.append(buf, n);
  }
  if (f != stdin) {
    std::fclose(f);
  }
  auto begin = text.find_first_not_of(" \t\r\n");
  auto end = text.find_last_not_of(" \t\r\n");
  if (begin == std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument, "the ID token file " + path + " is empty");
  }
  return text.substr(begin, end - begin + 1);
}

// forget, register, or log in (with a password, or an ID token).
int Setup(const ClientCli& cli, client::Client& c, std::string_view name) {
  if (*cli.forget_cmd) {
    auto st = c.Forget();
    return st ? 0 : Report(name, st.error());
  }
  if (*cli.register_cmd) {
    auto st = c.Register();
    if (!st) {
      return Report(name, st.error());
    }
    std::fprintf(stderr, "registered; the device's state is in %s\n", cli.state.c_str());
    return 0;
  }
  if (*cli.login_cmd && !cli.id_token_file.empty()) {
    auto token = ReadIdToken(cli.id_token_file);
    auto st = !token            ? Status(std::unexpected(token.error()))
              : cli.bind_device ? c.BindDevice(*token)
                                : c.Federate(*token);
    if (!st) {
      return Report(name, st.error());
    }
    if (cli.bind_device) {
      std::fprintf(stderr,
                   "federated; device %s is bound to the identity and needs no ID token again; "
                   "its state is in %s\n",
                   c.DeviceId().c_str(), cli.state.c_str());
    } else {
      std::fprintf(stderr, "federated; the credentials are cached in %s\n", cli.state.c_str());
    }
    return 0;
  }
  if (*cli.login_cmd && cli.username.empty()) {
    std::fprintf(stderr, "vendo client login: give --username (or --id-token-file)\n");
    return 2;
  }
  if (*cli.login_cmd) {
    auto password = ReadPassword(cli.password_file);
    if (!password) {
      std::fprintf(stderr, "vendo client login: no password (give --password-file or stdin)\n");
      return 2;
    }
    auto st = c.Login(cli.username, *password);
    std::fill(password->begin(), password->end(), '\0');
    if (!st) {
      return Report(name, st.error());
    }
    std::fprintf(stderr, "logged in as %s; the device's state is in %s\n", cli.username.c_str(),
                 cli.state.c_str());
    return 0;
  }
  return 0;
}

// The credentials as credential_process JSON, shell exports or JSON.
int Print(const ClientCli& cli, client::Client& c, const Credentials& creds) {
  if (*cli.process_cmd) {
    std::printf("%s\n", client::CredentialProcessJson(creds).c_str());
    return 0;
  }
  std::string region = c.Region();
  std::string expiration = protocol::IsoSeconds(creds.expiration);
  if (cli.format == "env") {
    std::printf(
        "export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n"
        "export AWS_SESSION_TOKEN=%s\nexport AWS_CREDENTIAL_EXPIRATION=%s\n",
        ShellQuote(creds.access_key_id).c_str(), ShellQuote(creds.secret_access_key).c_str(),
        ShellQuote(creds.session_token).c_str(), expiration.c_str());
    if (!region.empty()) {
      std::printf("export AWS_REGION=%s\n", ShellQuote(region).c_str());
    }
    return 0;
  }
  boost::json::object out{{"AccessKeyId", creds.access_key_id},
                          {"SecretAccessKey", creds.secret_access_key},
                          {"SessionToken", creds.session_token},
                          {"Expiration", expiration},
                          {"Region", region}};
  std::printf("%s\n", boost::json::serialize(out).c_str());
  return 0;
}

}  // namespace

std::unique_ptr<ClientCli> AddClientCommands(CLI::App& app) {
  auto cli = std::make_unique<ClientCli>();
  cli->state = DefaultStatePath();
  auto* client_cmd = app.add_subcommand(
      "client", "Device side: register or log in to a vendo server, and get credentials");
  client_cmd->require_subcommand(1);
  client_cmd->footer(
      "Examples:\n"
      "  vendo client register --endpoint https://tvm.example.com --app sensors\n"
      "  vendo client login --endpoint https://tvm.example.com --app photos --username alice\n"
      "  vendo client login --endpoint https://tvm.example.com --app social --id-token-file t\n"
      "  vendo client token --format env        (then: eval \"$(vendo client token --format "
      "env)\")\n"
      "  vendo client register --protocol 2012 --endpoint http://127.0.0.1:8080 "
      "--app anonymous-demo\n\n"
      "The device's id, secret and cached credentials are kept in --state (mode 0600).\n"
      "Protocol v2 is the default; 2012 talks to servers of the original TVM protocol.");
  cli->register_cmd =
      client_cmd->add_subcommand("register", "Register this device with an anonymous app");
  cli->login_cmd = client_cmd->add_subcommand(
      "login", "Log a user in to an identity app and bind this device to them");
  cli->token_cmd =
      client_cmd->add_subcommand("token", "Print credentials (cached until near expiry)");
  cli->forget_cmd = client_cmd->add_subcommand(
      "forget", "Forget this device's registration or login and its credentials");
  cli->process_cmd = app.add_subcommand(
      "credential-process",
      "Print credentials as an AWS credential_process must (for the AWS CLI and SDKs)");

  for (CLI::App* cmd :
       {cli->register_cmd, cli->login_cmd, cli->token_cmd, cli->forget_cmd, cli->process_cmd}) {
    cmd->add_option("--state", cli->state,
                    "State file (device id, secret, cached credentials; mode 0600)")
        ->capture_default_str();
    cmd->add_option("--ca-file", cli->ca_file, "PEM bundle to verify the server with")
        ->check(CLI::ExistingFile);
  }
  for (CLI::App* cmd : {cli->register_cmd, cli->login_cmd}) {
    cmd->add_option("--endpoint", cli->endpoint, "The vendo server, e.g. https://tvm.example.com")
        ->required();
    cmd->add_option("--app", cli->app, "The app's name on the server (2012: empty = at the root)");
    cmd->add_option("--protocol", cli->protocol, "v2 or 2012")
        ->capture_default_str()
        ->check(CLI::IsMember({"v2", "2012"}));
  }
  auto* username = cli->login_cmd->add_option("--username", cli->username, "Who logs in");
  auto* password =
      cli->login_cmd->add_option("--password-file", cli->password_file,
                                 "Read the password from this file (default: standard input)");
  auto* id_token = cli->login_cmd->add_option(
      "--id-token-file", cli->id_token_file,
      "Federated apps: exchange the OpenID ID token in this file (- for standard input) for "
      "credentials, instead of a username");
  id_token->excludes(username)->excludes(password);
  cli->login_cmd
      ->add_flag("--bind-device", cli->bind_device,
                 "With --id-token-file: also bind a device to the identity, so that later "
                 "credentials need no ID token")
      ->needs(id_token);
  cli->login_cmd->add_option("--legacy-app-name", cli->legacy_app_name,
                             "2012 only: the app name the server salts passwords with");
  cli->login_cmd->add_option("--salt-endpoint", cli->salt_endpoint,
                             "2012 only: the endpoint in the salt, when not ENDPOINT/apps/APP");
  cli->login_cmd->footer(
      "The password is never taken from the command line, never stored, and never logged;\n"
      "nor is an ID token, which is read from --id-token-file and only sent to the server.");
  cli->token_cmd->add_option("--format", cli->format, "json, or env (shell export lines)")
      ->capture_default_str()
      ->check(CLI::IsMember({"json", "env"}));
  for (CLI::App* cmd : {cli->token_cmd, cli->process_cmd}) {
    cmd->add_option("--id-token-file", cli->id_token_file,
                    "Federated apps: when credentials must be fetched, read a fresh ID token "
                    "from this file (kept up to date by whatever signs the device in)");
    cmd->add_flag("--refresh", cli->refresh,
                  "Fetch new credentials even if the cached ones are good");
    cmd->add_flag("--seal", cli->seal, "v2: ask for credentials sealed under the device secret");
    cmd->add_option("--refresh-margin", cli->margin_seconds,
                    "Fetch new credentials this many seconds before expiry")
        ->capture_default_str()
        ->check(CLI::Range(0, 43200));
  }
  cli->process_cmd->footer(
      "In ~/.aws/config:\n"
      "  [profile device]\n"
      "  credential_process = vendo credential-process --state /var/lib/myapp/vendo.json\n"
      "Register or log in first with 'vendo client register' or 'vendo client login'.\n"
      "Federated apps: 'vendo client login --id-token-file F' once, then\n"
      "  credential_process = vendo credential-process --state S --id-token-file F\n"
      "reads the token file again whenever new credentials are needed; after\n"
      "'vendo client login --id-token-file F --bind-device' no token file is needed.\n"
      "Anonymous devices the server has forgotten register again by themselves.");
  return cli;
}

std::optional<int> RunClientCommand(const ClientCli& cli) {
  std::string_view name;
  for (auto [cmd, n] :
       {std::pair{cli.register_cmd, "client register"}, std::pair{cli.login_cmd, "client login"},
        std::pair{cli.token_cmd, "client token"}, std::pair{cli.forget_cmd, "client forget"},
        std::pair{cli.process_cmd, "credential-process"}}) {
    if (*cmd) {
      name = n;
    }
  }
  if (name.empty()) {
    return std::nullopt;
  }
  client::ClientOptions options;
  bool setup = *cli.register_cmd || *cli.login_cmd;
  if (setup) {
    options.endpoint = cli.endpoint;
    options.app = cli.app;
    options.protocol = cli.protocol == "v2" ? Protocol::kV2 : Protocol::kLegacy;
    options.mode = !*cli.login_cmd              ? Mode::kAnonymous
                   : !cli.id_token_file.empty() ? Mode::kFederated
                                                : Mode::kIdentity;
    options.legacy_app_name = cli.legacy_app_name;
    options.legacy_salt_endpoint = cli.salt_endpoint;
  }
  options.seal = cli.seal;
  options.refresh_margin = std::chrono::seconds(cli.margin_seconds);
  if (!cli.id_token_file.empty() && !*cli.login_cmd) {
    options.id_token = [path = cli.id_token_file] { return ReadIdToken(path); };
  }
  auto transport = client::DefaultTransport(cli.ca_file);
  if (!transport) {
    return Report(name, transport.error());
  }
  auto made =
      client::Client::Create(options, client::FileStateStore(cli.state), std::move(*transport));
  if (!made) {
    if (!setup && made.error().code == ErrorCode::kFailedPrecondition) {
      std::fprintf(stderr,
                   "vendo %.*s: no device in %s: run 'vendo client register' or 'vendo client "
                   "login' first\n",
                   static_cast<int>(name.size()), name.data(), cli.state.c_str());
      return 1;
    }
    return Report(name, made.error());
  }
  client::Client& c = **made;
  if (*cli.forget_cmd || *cli.register_cmd || *cli.login_cmd) {
    return Setup(cli, c, name);
  }
  auto creds = cli.refresh ? c.Refresh() : c.GetCredentials();
  if (!creds) {
    return Report(name, creds.error());
  }
  return Print(cli, c, *creds);
}

CommandRunner AddClientCommandRunner(CLI::App& app) {
  std::shared_ptr<ClientCli> cli = AddClientCommands(app);
  return [cli] { return RunClientCommand(*cli); };
}

}  // namespace vendo::cli
