"""Demo photos drawn in code: an exterior, a living room and a bedroom per demo property, as small
SVG files (a few kB each). Deterministic per property (seeded by its slug) and different between
properties: the kind of home (town house, canal house, villa with pool, chalet, houseboat,
penthouse, cottage) follows its name, colours and details follow the seed. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import random
from xml.sax.saxutils import escape

W, H = 800, 600

SKIES = [("#7ec8f0", "#d9f1ff"), ("#f6a96b", "#fde3c2"), ("#5b8fd6", "#cfe3fb"), ("#8fb8de", "#eef5fb")]
WALLS = ["#f3e3c3", "#e9c9a8", "#d8dfe6", "#f1d1c1", "#e6e0d0", "#cfe0d5", "#f4efe6", "#e3cfd6"]
ROOFS = ["#9c3d2e", "#5b4a42", "#3f4d5a", "#7a5134", "#a4522f"]
ACCENTS = ["#0f766e", "#1d4ed8", "#b45309", "#7c3aed", "#be123c", "#15803d", "#0e7490"]
SOFAS = ["#486581", "#9f7aea", "#c05621", "#2f855a", "#6b7280", "#b83280", "#2b6cb0"]
FLOORS = ["#c89f73", "#a77b52", "#d8b98f", "#8d6748", "#e0c9a6"]


def _rng(slug: str, view: int) -> random.Random:
    digest = hashlib.sha256(f"{slug}:{view}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def kind_of(name: str) -> str:
    n = name.lower()
    for key, kind in (
        ("houseboat", "houseboat"),
        ("boat", "houseboat"),
        ("penthouse", "penthouse"),
        ("rooftop", "penthouse"),
        ("harbour", "canal"),
        ("canal", "canal"),
        ("altbau", "canal"),
        ("chalet", "chalet"),
        ("alpine", "chalet"),
        ("villa", "villa"),
        ("azulejo", "villa"),
        ("cottage", "cottage"),
        ("dune", "cottage"),
    ):
        if key in n:
            return kind
    return "house"


def _svg(body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _sky(r: random.Random, grad: str = "sky") -> list[str]:
    top, bottom = r.choice(SKIES)
    out = [
        f'<defs><linearGradient id="{grad}" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="{top}"/>'
        f'<stop offset="1" stop-color="{bottom}"/></linearGradient></defs>',
        f'<rect width="{W}" height="{H}" fill="url(#{grad})"/>',
    ]
    sx, sy = r.randint(560, 720), r.randint(60, 130)
    out.append(f'<circle cx="{sx}" cy="{sy}" r="38" fill="#fff3b0" opacity=".9"/>')
    for _ in range(r.randint(2, 4)):
        cx, cy, s = r.randint(40, 760), r.randint(40, 170), r.uniform(0.7, 1.3)
        out.append(
            f'<g fill="#fff" opacity=".85" transform="translate({cx} {cy}) scale({s:.2f})">'
            '<ellipse cx="0" cy="0" rx="46" ry="18"/><ellipse cx="-26" cy="6" rx="30" ry="14"/>'
            '<ellipse cx="28" cy="6" rx="32" ry="15"/></g>'
        )
    return out


def _window(x: float, y: float, w: float, h: float, frame: str = "#ffffff", glass: str = "#a7d3ee") -> str:
    return (
        f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{glass}" stroke="{frame}" stroke-width="5"/>'
        f'<line x1="{x + w / 2}" y1="{y}" x2="{x + w / 2}" y2="{y + h}" stroke="{frame}" stroke-width="3"/>'
        f'<line x1="{x}" y1="{y + h / 2}" x2="{x + w}" y2="{y + h / 2}" stroke="{frame}" stroke-width="3"/>'
    )


def _tree(x: float, ground: float, r: random.Random, conifer: bool = False) -> str:
    green = r.choice(["#3f8f4f", "#2f7a45", "#5a9e4b", "#2d6a4f"])
    if conifer:
        h = r.randint(110, 170)
        return (
            f'<rect x="{x - 6}" y="{ground - 24}" width="12" height="24" fill="#6b4f3a"/>'
            f'<polygon points="{x},{ground - h} {x - 42},{ground - 20} {x + 42},{ground - 20}" fill="{green}"/>'
        )
    rad = r.randint(34, 52)
    return (
        f'<rect x="{x - 7}" y="{ground - 70}" width="14" height="70" fill="#6b4f3a"/>'
        f'<circle cx="{x}" cy="{ground - 70 - rad * 0.6}" r="{rad}" fill="{green}"/>'
        f'<circle cx="{x - rad * 0.6}" cy="{ground - 70}" r="{rad * 0.7:.0f}" fill="{green}"/>'
    )


def _house(r: random.Random) -> list[str]:
    ground = 470
    wall, roof, door = r.choice(WALLS), r.choice(ROOFS), r.choice(ACCENTS)
    out = _sky(r) + [f'<rect y="{ground}" width="{W}" height="{H - ground}" fill="#8cc56b"/>']
    x0, w, h = r.randint(200, 280), r.randint(300, 360), r.randint(170, 210)
    top = ground - h
    out.append(f'<rect x="{x0 + w - 80}" y="{top - 90}" width="30" height="70" fill="{roof}"/>')
    out.append(f'<polygon points="{x0 - 25},{top} {x0 + w / 2},{top - 120} {x0 + w + 25},{top}" fill="{roof}"/>')
    out.append(f'<rect x="{x0}" y="{top}" width="{w}" height="{h}" fill="{wall}"/>')
    out.append(_window(x0 + w / 2 - 30, top - 90, 60, 50))
    out.append(_window(x0 + 30, top + 40, 70, 60))
    out.append(_window(x0 + w - 100, top + 40, 70, 60))
    out.append(f'<rect x="{x0 + w / 2 - 28}" y="{ground - 100}" width="56" height="100" rx="4" fill="{door}"/>')
    out.append(
        f'<polygon points="{x0 + w / 2 - 28},{H} {x0 + w / 2 + 28},{H} {x0 + w / 2 + 12},{ground} '
        f'{x0 + w / 2 - 12},{ground}" fill="#d8c7a5"/>'
    )
    out.append(_tree(r.randint(60, 140), ground + 10, r))
    out.append(_tree(r.randint(660, 740), ground + 10, r))
    for i in range(16):
        out.append(f'<rect x="{i * 52 + 4}" y="{ground + 40}" width="8" height="44" fill="#fff" opacity=".9"/>')
    out.append(f'<rect y="{ground + 52}" width="{W}" height="6" fill="#fff" opacity=".9"/>')
    return out


def _canal(r: random.Random) -> list[str]:
    ground = 440
    out = _sky(r)
    x = -20
    while x < W:
        w = r.randint(110, 150)
        h = r.randint(250, 330)
        wall = r.choice(["#7b3f2b", "#3b4a5a", "#8a5a3b", "#e8dcc6", "#5d6b52", "#a0523d", "#2f3e46"])
        top = ground - h
        out.append(f'<rect x="{x}" y="{top}" width="{w}" height="{h}" fill="{wall}"/>')
        out.append(
            f'<polygon points="{x},{top} {x + w / 2},{top - 50} {x + w},{top}" fill="{wall}" '
            f'stroke="#fff" stroke-width="4"/>'
        )
        for row in range(3):
            for col in range(2):
                out.append(_window(x + 18 + col * (w - 36) / 2, top + 25 + row * 75, (w - 54) / 2, 48))
        x += w + 4
    out.append(f'<rect y="{ground}" width="{W}" height="24" fill="#9aa3a8"/>')
    out.append(f'<rect y="{ground + 24}" width="{W}" height="{H - ground - 24}" fill="#4f7f99"/>')
    for i in range(9):
        out.append(
            f'<rect x="{i * 95 + r.randint(0, 30)}" y="{ground + 60 + (i % 3) * 35}" width="60" height="3" '
            f'fill="#fff" opacity=".5"/>'
        )
    return out


def _villa(r: random.Random) -> list[str]:
    ground = 430
    out = _sky(r) + [f'<rect y="{ground}" width="{W}" height="{H - ground}" fill="#e9dcc3"/>']
    out.append(f'<path d="M0 {ground} L120 300 L260 {ground} Z" fill="#b8b48a"/>')
    x0 = 170
    out.append(f'<rect x="{x0}" y="{ground - 200}" width="420" height="200" fill="#fbfaf5"/>')
    out.append(f'<rect x="{x0 + 260}" y="{ground - 290}" width="160" height="90" fill="#fbfaf5"/>')
    out.append(f'<rect x="{x0 - 10}" y="{ground - 210}" width="440" height="14" fill="{r.choice(ROOFS)}"/>')
    blue = r.choice(["#1d4ed8", "#0e7490", "#2563eb"])
    for i in range(4):
        out.append(_window(x0 + 30 + i * 95, ground - 160, 60, 80, frame=blue))
    out.append(_window(x0 + 300, ground - 270, 80, 50, frame=blue))
    for i in range(12):
        out.append(
            f'<rect x="{x0 + 10 + i * 34}" y="{ground - 40}" width="22" height="22" fill="{blue}" opacity=".6"/>'
        )
    out.append(f'<rect x="120" y="{ground + 50}" width="560" height="90" rx="12" fill="#4cc3d9"/>')
    out.append(
        f'<rect x="120" y="{ground + 50}" width="560" height="90" rx="12" fill="none" stroke="#fff" stroke-width="8"/>'
    )
    out.append(_tree(r.randint(690, 760), ground, r))
    return out


def _chalet(r: random.Random) -> list[str]:
    ground = 480
    out = _sky(r)
    out.append(f'<polygon points="-50,{ground} 180,140 420,{ground}" fill="#8a9bb0"/>')
    out.append('<polygon points="180,140 140,210 225,210" fill="#fff"/>')
    out.append(f'<polygon points="300,{ground} 560,110 850,{ground}" fill="#6f8198"/>')
    out.append('<polygon points="560,110 510,190 615,190" fill="#fff"/>')
    out.append(f'<rect y="{ground}" width="{W}" height="{H - ground}" fill="#eef3f7"/>')
    wood = r.choice(["#8b5a2b", "#7a4a24", "#9c6b3c"])
    x0, w = 240, 320
    out.append(f'<rect x="{x0}" y="{ground - 170}" width="{w}" height="170" fill="{wood}"/>')
    for i in range(8):
        out.append(
            f'<line x1="{x0}" y1="{ground - 160 + i * 21}" x2="{x0 + w}" y2="{ground - 160 + i * 21}" '
            'stroke="#5e3b1c" stroke-width="3"/>'
        )
    out.append(
        f'<polygon points="{x0 - 40},{ground - 165} {x0 + w / 2},{ground - 300} {x0 + w + 40},{ground - 165}" '
        f'fill="#4a3222"/>'
    )
    out.append(
        f'<polygon points="{x0 - 40},{ground - 165} {x0 + w / 2},{ground - 300} {x0 + w + 40},{ground - 165}" '
        'fill="none" stroke="#fff" stroke-width="10"/>'
    )
    out.append(_window(x0 + w / 2 - 40, ground - 250, 80, 60, frame="#f5e6c8", glass="#ffd98a"))
    out.append(_window(x0 + 30, ground - 130, 70, 60, frame="#f5e6c8", glass="#ffd98a"))
    out.append(_window(x0 + w - 100, ground - 130, 70, 60, frame="#f5e6c8", glass="#ffd98a"))
    out.append(f'<rect x="{x0 + 20}" y="{ground - 80}" width="{w - 40}" height="10" fill="#5e3b1c"/>')
    for i in range(4):
        out.append(_tree(60 + i * 45, ground + 8, r, conifer=True))
        out.append(_tree(600 + i * 50, ground + 8, r, conifer=True))
    return out


def _houseboat(r: random.Random) -> list[str]:
    water = 420
    out = _sky(r) + [f'<rect y="{water}" width="{W}" height="{H - water}" fill="#3f7fa0"/>']
    out.append(f'<rect y="{water - 30}" width="{W}" height="30" fill="#6e8f5a"/>')
    for i in range(6):
        out.append(_tree(40 + i * 150, water - 25, r))
    hull = r.choice(["#1f3b57", "#7a1f1f", "#234e3a"])
    cabin = r.choice(WALLS)
    out.append(f'<path d="M150 {water - 10} L650 {water - 10} L620 {water + 50} L180 {water + 50} Z" fill="{hull}"/>')
    out.append(f'<rect x="220" y="{water - 130}" width="360" height="120" fill="{cabin}"/>')
    out.append(f'<rect x="205" y="{water - 145}" width="390" height="18" fill="{r.choice(ROOFS)}"/>')
    for i in range(4):
        out.append(_window(245 + i * 85, water - 105, 55, 55))
    for i in range(10):
        out.append(
            f'<rect x="{i * 85 + r.randint(0, 20)}" y="{water + 70 + (i % 3) * 30}" width="50" height="3" '
            'fill="#fff" opacity=".45"/>'
        )
    for i in range(8):
        out.append(f'<circle cx="{240 + i * 45}" cy="{water - 150}" r="5" fill="#ffd166"/>')
    return out


def _penthouse(r: random.Random) -> list[str]:
    out = _sky(r)
    base = 520
    for i in range(9):
        w, h = r.randint(70, 110), r.randint(150, 330)
        x = i * 92 - 10
        out.append(f'<rect x="{x}" y="{base - h}" width="{w}" height="{h}" fill="#9fb3c8" opacity=".7"/>')
    out.append(f'<rect x="0" y="{base - 140}" width="{W}" height="{H - base + 140}" fill="#d9d4cc"/>')
    out.append(f'<rect x="0" y="{base - 140}" width="{W}" height="10" fill="#b8b0a4"/>')
    glass = r.choice(["#a7d3ee", "#b9e0f5", "#9cc9e6"])
    out.append(f'<rect x="120" y="{base - 360}" width="560" height="220" fill="#f5f3ef"/>')
    for i in range(5):
        out.append(
            f'<rect x="{140 + i * 108}" y="{base - 340}" width="96" height="190" fill="{glass}" '
            'stroke="#4a5568" stroke-width="4"/>'
        )
    out.append(f'<rect x="100" y="{base - 375}" width="600" height="18" fill="#4a5568"/>')
    for i in range(20):
        out.append(f'<rect x="{i * 40 + 10}" y="{base - 190}" width="4" height="50" fill="#4a5568"/>')
    out.append(f'<rect y="{base - 192}" width="{W}" height="6" fill="#4a5568"/>')
    for x in (60, 740):
        out.append(f'<rect x="{x - 25}" y="{base - 190}" width="50" height="40" fill="#8d6748"/>')
        out.append(f'<circle cx="{x}" cy="{base - 215}" r="32" fill="#4f9d5d"/>')
    return out


def _cottage(r: random.Random) -> list[str]:
    ground = 450
    out = _sky(r)
    out.append(f'<rect y="{ground}" width="{W}" height="{H - ground}" fill="#e9d9ae"/>')
    out.append(f'<path d="M0 {ground + 10} Q200 {ground - 40} 420 {ground + 5} T{W} {ground}" fill="#c8b983"/>')
    out.append(f'<rect y="{H - 70}" width="{W}" height="70" fill="#5fa8c7"/>')
    wall = r.choice(["#ffffff", "#f4efe6", "#f3e3c3"])
    x0, w = 230, 320
    out.append(f'<rect x="{x0}" y="{ground - 150}" width="{w}" height="150" fill="{wall}"/>')
    out.append(
        f'<polygon points="{x0 - 30},{ground - 145} {x0 + w / 2},{ground - 290} {x0 + w + 30},{ground - 145}" '
        'fill="#c9a24a"/>'
    )
    for i in range(14):
        out.append(
            f'<line x1="{x0 - 20 + i * 26}" y1="{ground - 150}" x2="{x0 + w / 2}" y2="{ground - 285}" '
            'stroke="#a8862f" stroke-width="2"/>'
        )
    out.append(_window(x0 + 30, ground - 115, 70, 60, frame=r.choice(ACCENTS)))
    out.append(_window(x0 + w - 100, ground - 115, 70, 60, frame=r.choice(ACCENTS)))
    out.append(f'<rect x="{x0 + w / 2 - 25}" y="{ground - 95}" width="50" height="95" fill="{r.choice(ACCENTS)}"/>')
    for _ in range(12):
        x = r.randint(0, W)
        out.append(
            f'<path d="M{x} {ground + 20} l-6 -30 M{x} {ground + 20} l6 -28 M{x} {ground + 20} l0 -34" '
            'stroke="#8aa05a" stroke-width="3"/>'
        )
    return out


EXTERIORS = {
    "house": _house,
    "canal": _canal,
    "villa": _villa,
    "chalet": _chalet,
    "houseboat": _houseboat,
    "penthouse": _penthouse,
    "cottage": _cottage,
}


def _room(r: random.Random) -> tuple[list[str], int]:
    wall, floor = r.choice(WALLS), r.choice(FLOORS)
    horizon = 400
    out = [
        f'<rect width="{W}" height="{horizon}" fill="{wall}"/>',
        f'<rect y="{horizon}" width="{W}" height="{H - horizon}" fill="{floor}"/>',
    ]
    for i in range(11):
        out.append(
            f'<line x1="{i * 80}" y1="{horizon}" x2="{i * 80 - 60}" y2="{H}" stroke="#000" opacity=".08" '
            'stroke-width="3"/>'
        )
    out.append(f'<rect y="{horizon - 8}" width="{W}" height="8" fill="#fff" opacity=".7"/>')
    return out, horizon


def _big_window(x: float, y: float, w: float, h: float, r: random.Random) -> list[str]:
    top, bottom = r.choice(SKIES)
    out = [
        f'<defs><linearGradient id="win" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="{top}"/>'
        f'<stop offset="1" stop-color="{bottom}"/></linearGradient></defs>',
        f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="url(#win)" stroke="#fff" stroke-width="10"/>',
        f'<path d="M{x} {y + h} Q{x + w * 0.3} {y + h * 0.6} {x + w * 0.6} {y + h * 0.8} T{x + w} {y + h * 0.7} '
        f'L{x + w} {y + h} Z" fill="#7bb36a"/>',
        f'<line x1="{x + w / 2}" y1="{y}" x2="{x + w / 2}" y2="{y + h}" stroke="#fff" stroke-width="6"/>',
    ]
    return out


def living_room(r: random.Random) -> list[str]:
    out, horizon = _room(r)
    out += _big_window(470, 70, 250, 230, r)
    sofa = r.choice(SOFAS)
    out.append(f'<rect x="60" y="{horizon - 80}" width="360" height="110" rx="18" fill="{sofa}"/>')
    out.append(f'<rect x="40" y="{horizon - 40}" width="50" height="90" rx="14" fill="{sofa}"/>')
    out.append(f'<rect x="390" y="{horizon - 40}" width="50" height="90" rx="14" fill="{sofa}"/>')
    out.append(f'<rect x="80" y="{horizon}" width="320" height="45" rx="10" fill="{sofa}" opacity=".85"/>')
    for i, color in enumerate(r.sample(["#f6e05e", "#fbb6ce", "#9ae6b4", "#fff", "#fbd38d"], 3)):
        out.append(f'<rect x="{110 + i * 95}" y="{horizon - 60}" width="70" height="55" rx="12" fill="{color}"/>')
    out.append(f'<ellipse cx="330" cy="{horizon + 130}" rx="260" ry="45" fill="{r.choice(ACCENTS)}" opacity=".35"/>')
    out.append(f'<rect x="220" y="{horizon + 80}" width="220" height="18" rx="6" fill="#6b4f3a"/>')
    out.append(f'<rect x="235" y="{horizon + 98}" width="10" height="45" fill="#6b4f3a"/>')
    out.append(f'<rect x="415" y="{horizon + 98}" width="10" height="45" fill="#6b4f3a"/>')
    out.append(f'<rect x="690" y="{horizon - 30}" width="60" height="70" rx="8" fill="#b7791f"/>')
    out.append(f'<circle cx="720" cy="{horizon - 90}" r="55" fill="#38a169"/>')
    out.append('<rect x="120" y="110" width="200" height="140" fill="#fff" stroke="#4a3b2f" stroke-width="10"/>')
    out.append(f'<path d="M130 240 L190 160 L240 215 L270 185 L310 240 Z" fill="{r.choice(ACCENTS)}" opacity=".7"/>')
    out.append('<line x1="450" y1="40" x2="450" y2="120" stroke="#333" stroke-width="3"/>')
    out.append('<path d="M420 150 L480 150 L465 118 L435 118 Z" fill="#fff4c2"/>')
    return out


def bedroom(r: random.Random) -> list[str]:
    out, horizon = _room(r)
    out += _big_window(90, 80, 200, 200, r)
    curtain = r.choice(ACCENTS)
    out.append(f'<rect x="60" y="65" width="45" height="240" fill="{curtain}" opacity=".8"/>')
    out.append(f'<rect x="275" y="65" width="45" height="240" fill="{curtain}" opacity=".8"/>')
    head = r.choice(["#6b4f3a", "#8d6748", "#4a5568", "#9c6b3c"])
    out.append(f'<rect x="380" y="{horizon - 170}" width="340" height="150" rx="14" fill="{head}"/>')
    out.append(f'<rect x="360" y="{horizon - 40}" width="380" height="110" rx="10" fill="#fff"/>')
    out.append(f'<rect x="360" y="{horizon - 10}" width="380" height="140" rx="10" fill="{r.choice(SOFAS)}"/>')
    out.append(f'<rect x="400" y="{horizon - 75}" width="130" height="50" rx="16" fill="#fff"/>')
    out.append(f'<rect x="570" y="{horizon - 75}" width="130" height="50" rx="16" fill="#fff"/>')
    out.append(f'<rect x="360" y="{horizon + 30}" width="380" height="16" fill="#fff" opacity=".5"/>')
    out.append(f'<rect x="260" y="{horizon - 40}" width="80" height="90" rx="6" fill="#8d6748"/>')
    out.append(f'<rect x="292" y="{horizon - 100}" width="16" height="60" fill="#555"/>')
    out.append(
        f'<path d="M270 {horizon - 100} L330 {horizon - 100} L318 {horizon - 140} L282 {horizon - 140} Z" '
        'fill="#fff4c2"/>'
    )
    return out


def photo_svgs(*, slug: str, name: str) -> list[tuple[str, str]]:
    """(caption, svg) for the exterior, the living room and the bedroom of one home."""
    kind = kind_of(name)
    exterior = EXTERIORS[kind](_rng(slug, 0))
    living, sleeping = _rng(slug, 1), _rng(slug, 2)
    return [
        (f"{name}: outside", _svg(exterior, f"{name}: outside")),
        (f"{name}: living room", _svg(_mirrored(living_room(living), living), f"{name}: living room")),
        (f"{name}: bedroom", _svg(_mirrored(bedroom(sleeping), sleeping), f"{name}: bedroom")),
    ]


def _mirrored(body: list[str], r: random.Random) -> list[str]:
    """Rooms face either way (one coin per photo)."""
    if r.random() < 0.5:
        return body
    return [f'<g transform="translate({W} 0) scale(-1 1)">', *body, "</g>"]
