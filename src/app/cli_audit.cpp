// castellan audit: read the append-only audit log (every change and every decision).
#include <fmt/format.h>

#include "app/cli_context.h"

namespace castellan::app {

void add_audit_commands(CLI::App& app, command_fn& selected) {
  auto* cmd = app.add_subcommand("audit", "Read the audit log, newest first");
  struct options {
    std::string since, until, actor, action, target, result;
    std::size_t limit = 50;
    std::int64_t before = 0;
  };
  auto o = std::make_shared<options>();
  cmd->add_option("--since", o->since, "from this time (2026-11-23 or 2026-11-23T10:00:00Z)");
  cmd->add_option("--until", o->until, "up to this time");
  cmd->add_option("--actor", o->actor, "who (exact), e.g. cli:root or mqtt:SN0001");
  cmd->add_option("--action", o->action, "what, as a prefix: trust., trust.approve, registry.admit, …");
  cmd->add_option("--target", o->target, "on what (exact): a thumbprint");
  cmd->add_option("--result", o->result, "a StatusCode name, e.g. BadCertificateUntrusted");
  cmd->add_option("--limit", o->limit, "how many")->capture_default_str()->check(CLI::Range(1, 10000));
  cmd->add_option("--before", o->before, "paging: records older than this id");
  cmd->callback([&selected, o] {
    selected = [o](cli_context& ctx) {
      auto s = ctx.store();
      if (!s) return ctx.fail(s.err());
      store::audit_filter f;
      for (auto [text, target] : {std::pair{&o->since, &f.since}, std::pair{&o->until, &f.until}}) {
        if (text->empty()) continue;
        sys_time t{};
        if (!parse_time(*text, t) && !parse_time(*text + "T00:00:00Z", t)) {
          return ctx.fail(make_error(status_code::BadInvalidArgument, "'" + *text + "' is not a date or RFC 3339 time"));
        }
        *target = t;
      }
      f.actor = o->actor;
      f.action = o->action;
      f.target = o->target;
      f.result = o->result;
      f.limit = o->limit;
      f.before_id = o->before;
      auto rows = (*s)->list_audit(f);
      if (!rows) return ctx.fail(rows.err());
      if (ctx.json()) {
        nlohmann::json j = nlohmann::json::array();
        for (const auto& a : *rows) {
          j.push_back({{"id", a.id}, {"time", format_time(a.time)}, {"node", a.node}, {"actor", a.actor}, {"source", a.source},
                       {"action", a.action}, {"target", a.target}, {"result", a.result}, {"detail", a.detail}});
        }
        ctx.print(j);
        return 0;
      }
      std::string out;
      for (const auto& a : *rows) {
        out += fmt::format("{:>6} {} {:<22} {:<20} {:<32} {} {}\n       {}\n", a.id, format_time(a.time), a.action, a.actor,
                           a.result, a.target, a.source, a.detail);
      }
      ctx.print(out.empty() ? std::string("(no audit records match)") : out);
      return 0;
    };
  });
}

}  // namespace castellan::app
