"""Bench results as a small SVG bar chart beside the numbers (bench/results/NAME.svg), so a
run can be looked at as well as read. No external assets; plain SVG 1.1."""
import html
import os

RESULTS = "bench/results"
COLORS = ["#2456d3", "#7a8599", "#d1495b", "#1b7f3b", "#e9a23b", "#6c4ab6"]


def bar_chart(name, title, bars, unit):
    """Writes bench/results/NAME.svg: one horizontal bar per (label, value); returns the path."""
    os.makedirs(RESULTS, exist_ok=True)
    width, left, right, row, top = 760, 210, 130, 34, 46
    height = top + row * len(bars) + 16
    peak = max((v for _, v in bars), default=1) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="t">',
        f'<title id="t">{html.escape(title)}</title>',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="16" y="28" font-family="system-ui,sans-serif" font-size="16" '
        f'font-weight="600" fill="#1d2330">{html.escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(bars):
        y = top + i * row
        w = max(1.0, (width - left - right) * value / peak)
        parts.append(f'<text x="{left - 10}" y="{y + 18}" text-anchor="end" '
                     f'font-family="system-ui,sans-serif" font-size="13" fill="#1d2330">'
                     f'{html.escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 4}" width="{w:.1f}" height="20" rx="3" '
                     f'fill="{COLORS[i % len(COLORS)]}"/>')
        parts.append(f'<text x="{left + w + 8:.1f}" y="{y + 18}" '
                     f'font-family="system-ui,sans-serif" font-size="13" fill="#5b6373">'
                     f'{value:,.0f} {html.escape(unit)}</text>')
    parts.append("</svg>\n")
    path = os.path.join(RESULTS, f"{name}.svg")
    with open(path, "w") as f:
        f.write("\n".join(parts))
    print(f"  chart: {path}", flush=True)
    return path
