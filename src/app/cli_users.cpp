// castellan user add|list|show|remove|passwd|roles and castellan user token create|list|revoke:
// local users, their Part 18 roles and their API tokens from the command line.
#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "app/cli_context.h"

namespace castellan::app {
namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out.empty() ? std::string("-") : out;
}

std::string roles_help() {
  std::string out = "a role to grant (repeatable):";
  for (auto r : users::all_roles()) {
    if (users::is_assignable(r)) out += " " + std::string(users::role_name(r));
  }
  return out;
}

struct password_option {
  std::string value;
  bool given = false;
};

void add_password_option(CLI::App* cmd, const std::shared_ptr<password_option>& p) {
  cmd->add_option_function<std::string>(
      "--password",
      [p](const std::string& v) {
        p->value = v;
        p->given = true;
      },
      "the password (visible to other local users in the process list: prefer the prompt, or a line on stdin)");
}

// The password for add/passwd without --password: prompted for without echo (twice) on a
// terminal, one line read from stdin otherwise.
result<std::string> read_password(const char* prompt, bool confirm) {
  if (::isatty(STDIN_FILENO) == 0) {
    // Scripts pipe the password in: one line, the newline not included.
    std::string line;
    if (!std::getline(std::cin, line) && line.empty()) {
      return make_error(status_code::BadInvalidArgument, "no password on stdin (give --password, or a line on stdin)");
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  const auto ask = [](const char* text) -> result<std::string> {
    std::cerr << text << std::flush;
    termios saved{};
    const bool terminal = ::tcgetattr(STDIN_FILENO, &saved) == 0;
    if (terminal) {
      termios quiet = saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::string line;
    const bool read = static_cast<bool>(std::getline(std::cin, line));
    if (terminal) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << "\n";
    if (!read) return make_error(status_code::BadInvalidArgument, "no password entered");
    return line;
  };
  auto first = ask(prompt);
  if (!first || !confirm) return first;
  auto second = ask("Repeat it: ");
  if (!second) return second;
  if (*first != *second) return make_error(status_code::BadInvalidArgument, "the two passwords differ");
  return first;
}

}  // namespace

void add_user_commands(CLI::App& app, command_fn& selected) {
  auto* user = app.add_subcommand("user", "Local users (admin API, OPC UA UserName logins), their roles and API tokens");
  user->require_subcommand(1);
  {
    auto* cmd = user->add_subcommand("add", "Add a user; prompts for the password (or reads a line on stdin)");
    auto name = std::make_shared<std::string>();
    auto roles = std::make_shared<std::vector<std::string>>();
    auto password = std::make_shared<password_option>();
    cmd->add_option("NAME", *name, "user name: letters, digits, '.', '_', '@', '-'")->required();
    cmd->add_option("--role", *roles, roles_help());
    add_password_option(cmd, password);
    cmd->callback([&selected, name, roles, password] {
      selected = [name, roles, password](cli_context& ctx) {
        auto u = ctx.users();
        if (!u) return ctx.fail(u.err());
        auto pw = password->given ? result<std::string>(password->value) : read_password("Password: ", true);
        if (!pw) return ctx.fail(pw.err());
        auto r = (*u)->add_user(*name, *pw, *roles, ctx.who());
        if (!r) return ctx.fail(r.err());
        ctx.json() ? ctx.print(to_json(*r)) : ctx.print(fmt::format("added user {} (roles: {})", r->name, joined(r->roles)));
        return 0;
      };
    });
  }
  {
    auto* cmd = user->add_subcommand("list", "List users and their roles");
    cmd->callback([&selected] {
      selected = [](cli_context& ctx) {
        auto u = ctx.users();
        if (!u) return ctx.fail(u.err());
        auto rows = (*u)->list_users();
        if (!rows) return ctx.fail(rows.err());
        if (ctx.json()) {
          nlohmann::json j = nlohmann::json::array();
          for (const auto& r : *rows) j.push_back(to_json(r));
          ctx.print(j);
          return 0;
        }
        std::string out = fmt::format("{:<24} {:<20} {:<20} {}\n", "NAME", "LAST LOGIN", "PASSWORD CHANGED", "ROLES");
        for (const auto& r : *rows) {
          out += fmt::format("{:<24} {:<20} {:<20} {}\n", r.name, r.last_login ? format_time(*r.last_login) : "-",
                             format_time(r.password_changed_at), joined(r.roles));
        }
        if (rows->empty()) out += "(no users: castellan init creates the first administrator)\n";
        ctx.print(out);
        return 0;
      };
    });
  }
  {
    auto* cmd = user->add_subcommand("show", "Show one user");
    auto name = std::make_shared<std::string>();
    cmd->add_option("NAME", *name, "user name")->required();
    cmd->callback([&selected, name] {
      selected = [name](cli_context& ctx) {
        auto u = ctx.users();
        if (!u) return ctx.fail(u.err());
        auto r = (*u)->show_user(*name);
        if (!r) return ctx.fail(r.err());
        ctx.json() ? ctx.print(to_json(*r)) : ctx.print(render_human(to_json(*r)));
        return 0;
      };
    });
  }
  {
    auto* cmd = user->add_subcommand("remove", "Remove a user and every API token it owns");
    auto name = std::make_shared<std::string>();
    cmd->add_option("NAME", *name, "user name")->required();
    cmd->callback([&selected, name] {
      selected = [name](cli_context& ctx) {
        auto u = ctx.users();
        if (!u) return ctx.fail(u.err());
        if (auto r = (*u)->remove_user(*name, ctx.who()); !r) return ctx.fail(r.err());
        ctx.json() ? ctx.print(nlohmann::json{{"removed", *name}}) : ctx.print("removed user " + *name);
        return 0;
      };
    });
  }
  {
    auto* cmd = user->add_subcommand("passwd", "Set a user's password; prompts for it (or reads a line on stdin)");
    auto name = std::make_shared<std::string>();
    auto password = std::make_shared<password_option>();
    cmd->add_option("NAME", *name, "user name")->required();
    add_password_option(cmd, password);
    cmd->callback([&selected, name, password] {
      selected = [name, password](cli_context& ctx) {
        auto u = ctx.users();
        if (!u) return ctx.fail(u.err());
        auto pw = password->given ? result<std::string>(password->value) : read_password("New password: ", true);
        if (!pw) return ctx.fail(pw.err());
        if (auto r = (*u)->set_password(*name, *pw, ctx.who()); !r) return ctx.fail(r.err());
        ctx.json() ? ctx.print(nlohmann::json{{"name", *name}, {"password_changed", true}})
                   : ctx.print("password of " + *name + " changed");
        return 0;
      };
    });
  }
  {
    auto* cmd = user->add_subcommand("roles", "Replace a user's roles (none given: no roles)");
    auto name = std::make_shared<std::string>();
    auto roles = std::make_shared<std::vector<std::string>>();
    cmd->add_option("NAME", *name, "user name")->required();
    cmd->add_option("--role", *roles, roles_help());
    cmd->callback([&selected, name, roles] {
      selected = [name, roles](cli_context& ctx) {
        auto u = ctx.users();
        if (!u) return ctx.fail(u.err());
        auto r = (*u)->set_roles(*name, *roles, ctx.who());
        if (!r) return ctx.fail(r.err());
        ctx.json() ? ctx.print(to_json(*r)) : ctx.print(fmt::format("{} now holds: {}", r->name, joined(r->roles)));
        return 0;
      };
    });
  }

  auto* token = user->add_subcommand("token", "API tokens: scoped to roles the owner holds, expiring, revocable");
  token->require_subcommand(1);
  {
    auto* cmd = token->add_subcommand("create", "Create an API token for a user; the token is shown once");
    struct options {
      std::string name;
      std::vector<std::string> roles;
      std::string expires = "30d";
      std::string description;
    };
    auto o = std::make_shared<options>();
    cmd->add_option("NAME", o->name, "the user the token acts as")->required();
    cmd->add_option("--role", o->roles, "a role the token carries (repeatable; the user must hold it)")->required();
    cmd->add_option("--expires", o->expires, "lifetime: 3600s, 90m, 12h, 30d, 2w, 1y")->capture_default_str();
    cmd->add_option("--description", o->description, "what the token is for");
    cmd->callback([&selected, o] {
      selected = [o](cli_context& ctx) {
        auto u = ctx.users();
        if (!u) return ctx.fail(u.err());
        auto lifetime = users::parse_lifetime(o->expires);
        if (!lifetime) return ctx.fail(lifetime.err());
        auto t = (*u)->create_token(o->name, o->roles, *lifetime, o->description, ctx.who());
        if (!t) return ctx.fail(t.err());
        if (ctx.json()) {
          auto j = to_json(t->record, ctx.clock().now());
          j["token"] = t->token;
          ctx.print(j);
        } else {
          ctx.print(fmt::format("{}\n\ntoken {} for {} (roles: {}), expires {}.\n"
                                "This is the only time the token is shown; castellan keeps only its SHA-256.",
                                t->token, t->record.id, t->record.user, joined(t->record.roles), format_time(t->record.expires_at)));
        }
        return 0;
      };
    });
  }
  {
    auto* cmd = token->add_subcommand("list", "List API tokens (never their secrets)");
    auto name = std::make_shared<std::string>();
    cmd->add_option("--user", *name, "only this user's tokens");
    cmd->callback([&selected, name] {
      selected = [name](cli_context& ctx) {
        auto u = ctx.users();
        if (!u) return ctx.fail(u.err());
        auto rows = (*u)->list_tokens(*name);
        if (!rows) return ctx.fail(rows.err());
        const auto now = ctx.clock().now();
        if (ctx.json()) {
          nlohmann::json j = nlohmann::json::array();
          for (const auto& r : *rows) j.push_back(to_json(r, now));
          ctx.print(j);
          return 0;
        }
        std::string out = fmt::format("{:<16} {:<16} {:<8} {:<20} {:<30} {}\n", "ID", "USER", "STATE", "EXPIRES", "ROLES", "DESCRIPTION");
        for (const auto& r : *rows) {
          out += fmt::format("{:<16} {:<16} {:<8} {:<20} {:<30} {}\n", r.id, r.user, to_json(r, now)["state"].get<std::string>(),
                             format_time(r.expires_at), joined(r.roles), r.description);
        }
        if (rows->empty()) out += "(no API tokens)\n";
        ctx.print(out);
        return 0;
      };
    });
  }
  {
    auto* cmd = token->add_subcommand("revoke", "Revoke an API token at once");
    auto id = std::make_shared<std::string>();
    cmd->add_option("ID", *id, "the token's id (16 hex digits, from token list)")->required();
    cmd->callback([&selected, id] {
      selected = [id](cli_context& ctx) {
        auto u = ctx.users();
        if (!u) return ctx.fail(u.err());
        auto r = (*u)->revoke_token(*id, ctx.who());
        if (!r) return ctx.fail(r.err());
        ctx.json() ? ctx.print(to_json(*r, ctx.clock().now())) : ctx.print("revoked token " + r->id + " of " + r->user);
        return 0;
      };
    });
  }
}

}  // namespace castellan::app
