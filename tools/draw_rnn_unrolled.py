"""Draw book/images/rnn-unrolled.svg, the landing page's figure, as plain SVG.

python tools/draw_rnn_unrolled.py
"""

cols = [(160, "1"), (310, "2"), (460, "3"), (650, "T")]
W, H, bw = 740, 330, 84
out = [
    f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
    'aria-labelledby="title">',
    '  <title id="title">A recurrent network unrolled over time: inputs x1 to xT enter '
    "cells that pass the state h from step to step, and each state gives an output y"
    "</title>",
    "  <defs>",
    '    <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
    'markerHeight="7" orient="auto-start-reverse">',
    '      <path d="M0 0 L10 5 L0 10 z" fill="#444"/>',
    "    </marker>",
    '    <marker id="arrow-state" viewBox="0 0 10 10" refX="9" refY="5" '
    'markerWidth="5" markerHeight="5" orient="auto-start-reverse">',
    '      <path d="M0 0 L10 5 L0 10 z" fill="#d9731a"/>',
    "    </marker>",
    "  </defs>",
    f'  <rect width="{W}" height="{H}" rx="12" fill="#fff"/>',
    '  <g font-family="DejaVu Serif, Georgia, serif" font-style="italic" '
    'font-size="24" fill="#222" text-anchor="middle">',
]


def label(x, y, name, sub, colour="#222"):
    return (
        f'    <text x="{x}" y="{y}" fill="{colour}">{name}<tspan font-size="16" '
        f'dy="6">{sub}</tspan></text>'
    )


def state_arrow(x1, x2, head=True):
    end = ' marker-end="url(#arrow-state)"' if head else ""
    return (
        f'    <line x1="{x1}" y1="{yc}" x2="{x2}" y2="{yc}" stroke="#d9731a" '
        f'stroke-width="4"{end}/>'
    )


yo, yc, yi = 58, 168, 285  # output, cell and input rows (centres)
out.append(label(42, yc + 8, "h", "0", "#d9731a"))
prev = 66
for x, t in cols:
    out.append(
        f'    <circle cx="{x}" cy="{yi}" r="27" fill="#e8f0fa" stroke="#2b6cb0" '
        'stroke-width="2"/>'
    )
    out.append(label(x - 3, yi + 7, "x", t))
    out.append(
        f'    <circle cx="{x}" cy="{yo}" r="27" fill="#eaf6ea" stroke="#2f855a" '
        'stroke-width="2"/>'
    )
    out.append(label(x - 3, yo + 7, "y", t))
    out.append(
        f'    <rect x="{x - bw / 2}" y="{yc - 32}" width="{bw}" height="64" rx="10" '
        'fill="#2b6cb0"/>'
    )
    out.append(label(x - 3, yc + 8, "h", t, "#fff"))
    out.append(
        f'    <line x1="{x}" y1="{yi - 29}" x2="{x}" y2="{yc + 35}" stroke="#444" '
        'stroke-width="2.5" marker-end="url(#arrow)"/>'
    )
    out.append(
        f'    <line x1="{x}" y1="{yc - 34}" x2="{x}" y2="{yo + 30}" stroke="#444" '
        'stroke-width="2.5" marker-end="url(#arrow)"/>'
    )
    if t == "T":  # the steps left out: a short stub, three dots, an arrow in
        out.append(state_arrow(prev + 2, prev + 26, head=False))
        for d in (0, 14, 28):
            out.append(
                f'    <circle cx="{prev + 46 + d}" cy="{yc}" r="3.5" fill="#d9731a"/>'
            )
        out.append(state_arrow(prev + 96, x - bw / 2 - 4))
    else:
        out.append(state_arrow(prev + 2, x - bw / 2 - 4))
    prev = x + bw / 2
sub = '<tspan font-size="16" dy="6">{}</tspan>'
out.append('    <g font-size="23" fill="#444" text-anchor="start">')
x1, x2 = cols[0][0], cols[1][0]
out.append(
    f'      <text x="{(x1 + x2) / 2 - 18}" y="{yc - 24}">W{sub.format("hh")}</text>'
)
left_of_arrow = '      <text x="{}" y="{}" text-anchor="end">W{}</text>'
out.append(left_of_arrow.format(x1 - 8, (yi + yc) / 2 + 14, sub.format("xh")))
out.append(left_of_arrow.format(x1 - 8, (yo + yc) / 2 + 6, sub.format("hy")))
out.append("    </g>")
out.append("  </g>")
out.append("</svg>")
open("book/images/rnn-unrolled.svg", "w").write("\n".join(out) + "\n")
