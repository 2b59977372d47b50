#include "admin/status_page.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "web/pages.h"

namespace vendo::server {
namespace {

// The calendar time of `t` in UTC, for fmt's %H:%M:%S and %F %T (fmt 9 would format a
// system_clock time point in the local time zone).
std::tm Utc(std::chrono::system_clock::time_point t) {
  return fmt::gmtime(std::chrono::system_clock::to_time_t(t));
}

using pages::HtmlEscape;

constexpr std::string_view kStyle =
    "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f5f6f8;"
    "color:#1d2330;margin:0}main{max-width:60rem;margin:2rem auto;padding:0 1rem}"
    "h1{font-size:1.5rem;margin:0 0 .2rem}h2{font-size:1.1rem;margin:1.6rem 0 .6rem}"
    ".sub{color:#5b6373;margin:0 0 1rem}section{background:#fff;border-radius:12px;"
    "box-shadow:0 2px 12px rgba(0,0,0,.08);padding:1.2rem 1.4rem;margin-bottom:1rem}"
    "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.45rem .6rem;"
    "border-bottom:1px solid #e6e8ee}th{font-size:.85rem;color:#5b6373;font-weight:600}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#1b7f3b}"
    ".bad{color:#a4161a}.legend span{display:inline-block;margin-right:1rem}"
    ".sw{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.3rem;"
    "vertical-align:-1px}";

std::string Count(std::int64_t n) { return n < 0 ? "?" : std::to_string(n); }

}  // namespace

std::string ActivityChart(const std::vector<metrics::MinuteCounts>& minutes) {
  constexpr int kWidth = 720, kHeight = 160, kLeft = 36, kBottom = 20, kTop = 8;
  std::uint64_t peak = 1;
  std::uint64_t vends = 0, errors = 0;
  for (const auto& m : minutes) {
    peak = std::max({peak, m.vends, m.errors});
    vends += m.vends;
    errors += m.errors;
  }
  const double plot_w = kWidth - kLeft - 4, plot_h = kHeight - kBottom - kTop;
  const double step = minutes.size() > 1 ? plot_w / static_cast<double>(minutes.size() - 1) : 0;
  auto polyline = [&](auto field) {
    std::string points;
    for (std::size_t i = 0; i < minutes.size(); ++i) {
      double x = kLeft + step * static_cast<double>(i);
      double y = kTop + plot_h * (1.0 - static_cast<double>(minutes[i].*field) /
                                            static_cast<double>(peak));
      points += fmt::format("{:.1f},{:.1f} ", x, y);
    }
    return points;
  };
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {1}\" width=\"100%\" "
      "role=\"img\" aria-labelledby=\"chart-title\">\n"
      "<title id=\"chart-title\">Vends and errors per minute over the last hour: {2} vends, {3} "
      "errors</title>\n"
      "<line x1=\"{4}\" y1=\"{5}\" x2=\"{0}\" y2=\"{5}\" stroke=\"#c5cad3\"/>\n"
      "<line x1=\"{4}\" y1=\"{6}\" x2=\"{0}\" y2=\"{6}\" stroke=\"#eef0f4\"/>\n"
      "<text x=\"{7}\" y=\"{8}\" font-size=\"11\" text-anchor=\"end\" fill=\"#5b6373\">{9}</text>\n"
      "<text x=\"{7}\" y=\"{5}\" font-size=\"11\" text-anchor=\"end\" fill=\"#5b6373\">0</text>\n"
      "<text x=\"{4}\" y=\"{1}\" font-size=\"11\" fill=\"#5b6373\">60 min ago</text>\n"
      "<text x=\"{0}\" y=\"{1}\" font-size=\"11\" text-anchor=\"end\" "
      "fill=\"#5b6373\">now</text>\n",
      kWidth, kHeight, vends, errors, kLeft, kTop + plot_h, kTop, kLeft - 4, kTop + 9, peak,
      kHeight - 5);
  svg += fmt::format(
      "<polyline fill=\"none\" stroke=\"#2456d3\" stroke-width=\"2\" points=\"{}\"/>\n"
      "<polyline fill=\"none\" stroke=\"#d1495b\" stroke-width=\"2\" points=\"{}\"/>\n</svg>\n",
      polyline(&metrics::MinuteCounts::vends), polyline(&metrics::MinuteCounts::errors));
  return svg;
}

std::string StatusPage(const StatusData& d) {
  std::string apps;
  for (const auto& a : d.apps) {
    apps += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"{}\">{}</td></tr>\n",
        HtmlEscape(a.name), a.mode, HtmlEscape(a.issuer), Count(a.devices),
        a.mode == "identity" ? Count(a.users) : "-", a.issuer_problem.empty() ? "ok" : "bad",
        a.issuer_problem.empty() ? "ready" : HtmlEscape(a.issuer_problem));
  }
  std::string errors;
  for (const auto& e : d.recent_errors) {
    errors +=
        fmt::format("<tr><td>{:%H:%M:%S}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", Utc(e.when),
                    HtmlEscape(e.app), HtmlEscape(e.action), HtmlEscape(e.outcome));
  }
  if (errors.empty()) {
    errors = "<tr><td colspan=\"4\">No errors since the server started.</td></tr>\n";
  }
  auto hours = std::chrono::duration_cast<std::chrono::hours>(d.uptime).count();
  auto minutes = std::chrono::duration_cast<std::chrono::minutes>(d.uptime).count() % 60;
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta http-equiv=\"refresh\" content=\"30\">\n"
      "<title>vendo status</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n"
      "<h1>vendo status</h1>\n<p class=\"sub\">vendo {} &middot; up {} h {} min &middot; {:%F "
      "%T} UTC &middot; store <span class=\"{}\">{}</span></p>\n"
      "<section aria-labelledby=\"activity\">\n<h2 id=\"activity\">Vends and errors per "
      "minute, last hour</h2>\n<p class=\"legend\"><span><i class=\"sw\" "
      "style=\"background:#2456d3\"></i>vends</span><span><i class=\"sw\" "
      "style=\"background:#d1495b\"></i>errors</span></p>\n{}</section>\n"
      "<section aria-labelledby=\"apps\">\n<h2 id=\"apps\">Apps</h2>\n<table>\n<thead><tr>"
      "<th>App</th><th>Mode</th><th>Issuer</th><th>Devices</th><th>Users</th><th>Issuer "
      "health</th></tr></thead>\n<tbody>\n{}</tbody>\n</table>\n</section>\n"
      "<section aria-labelledby=\"errors\">\n<h2 id=\"errors\">Recent errors</h2>\n<table>\n"
      "<thead><tr><th>Time (UTC)</th><th>App</th><th>Action</th><th>Outcome</th></tr></thead>\n"
      "<tbody>\n{}</tbody>\n</table>\n</section>\n</main>\n</body>\n</html>\n",
      kStyle, HtmlEscape(d.version), hours, minutes, Utc(d.now), d.store_ok ? "ok" : "bad",
      d.store_ok ? "ok" : "unavailable", ActivityChart(d.last_hour), apps, errors);
}

}  // namespace vendo::server
