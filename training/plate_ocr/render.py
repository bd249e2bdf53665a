"""Synthetic plate renderer: Moroccan (single and two-row, WW, government, diplomatic, old),
European (FR, ES, DE, IT, NL, BE, generic), Brazilian (old grey, Mercosul) and US plates, with
fonts from Debian packages (fonts-dejavu-core, fonts-liberation, fonts-noto-core).

`sample(rng)` returns `(image, text_box, tokens, two_rows)`: an RGB scene with one plate, the box
of the plate's characters in scene pixels, the label tokens in reading order (top row first) and
whether the plate has two rows.
"""
import math
import os
import random

from PIL import Image, ImageDraw, ImageFont

from alphabet import ARABIC_LETTERS, MOROCCO_WORD

FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation",
             "/usr/share/fonts/truetype/noto"]
LATIN_FONTS = ["DejaVuSansCondensed-Bold.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansCondensed.ttf",
               "LiberationSansNarrow-Bold.ttf", "LiberationSansNarrow-Regular.ttf", "LiberationSans-Bold.ttf",
               "NotoSans-Bold.ttf", "NotoSans-Regular.ttf", "NotoSansDisplay-Bold.ttf", "DejaVuSansMono-Bold.ttf",
               "LiberationMono-Bold.ttf"]
ARABIC_FONTS = ["NotoSansArabic-Bold.ttf", "NotoSansArabic-Regular.ttf", "NotoKufiArabic-Bold.ttf",
                "NotoKufiArabic-Regular.ttf", "NotoNaskhArabic-Bold.ttf", "NotoNaskhArabic-Regular.ttf"]
_cache = {}


def _font_path(name):
    for d in FONT_DIRS:
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"font {name} not found; install fonts-dejavu-core fonts-liberation fonts-noto-core")


def font(name, size=96):
    key = (name, size)
    if key not in _cache:
        _cache[key] = ImageFont.truetype(_font_path(name), size)
    return _cache[key]


def glyphs(text, font_name, colour, rtl=False):
    """Text drawn tightly on a transparent image."""
    f = font(font_name)
    kw = {"direction": "rtl", "language": "ar"} if rtl else {}
    box = f.getbbox(text, **kw)
    w, h = max(1, box[2] - box[0]), max(1, box[3] - box[1])
    im = Image.new("RGBA", (w + 4, h + 4), (0, 0, 0, 0))
    ImageDraw.Draw(im).text((2 - box[0], 2 - box[1]), text, font=f, fill=colour, **kw)
    return im


def put(plate, im, box):
    """Stretches `im` into `box` (x0, y0, x1, y1) on `plate`."""
    x0, y0, x1, y1 = [int(round(v)) for v in box]
    w, h = max(1, x1 - x0), max(1, y1 - y0)
    plate.alpha_composite(im.resize((w, h), Image.BILINEAR), (x0, y0))


def digits(rng, lo, hi):
    return str(rng.randint(lo, hi))


def letters(rng, n, alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
    return "".join(rng.choice(alphabet) for _ in range(n))


class Plate:
    """Draws groups of text across a plate, left to right, and records the character box."""

    def __init__(self, rng, w, h, bg, border=None):
        self.rng, self.w, self.h = rng, w, h
        self.im = Image.new("RGBA", (w, h), bg + (255,))
        self.d = ImageDraw.Draw(self.im)
        if border:
            t = max(2, h // 28)
            self.d.rounded_rectangle([t // 2, t // 2, w - 1 - t // 2, h - 1 - t // 2], radius=h // 10, outline=border, width=t)
        self.box = None

    def text(self, s, box, colour, font_name, rtl=False):
        # Plates print heh in its initial form with a tail (هـ), not the round isolated form.
        shown = "هـ" if s == "ه" else s
        put(self.im, glyphs(shown, font_name, colour, rtl), box)
        self._grow(box)

    def _grow(self, box):
        if self.box is None:
            self.box = list(box)
        else:
            self.box = [min(self.box[0], box[0]), min(self.box[1], box[1]), max(self.box[2], box[2]), max(self.box[3], box[3])]

    def bar(self, x, colour, y0, y1):
        """A vertical separator from y0 to y1 (plate pixels)."""
        t = max(2, self.w // 120)
        self.d.rectangle([x - t // 2, y0, x + t // 2, y1], fill=colour)

    def row(self, groups, y0, y1, x0, x1, colour, latin, arabic, gap=0.04, bars=False, bar_colour=None):
        """groups: list of (text, relative width, is_arabic). Returns the label tokens."""
        total = sum(g[1] for g in groups) + gap * (len(groups) - 1)
        x = x0
        span = x1 - x0
        tokens = []
        for i, (s, rel, arab) in enumerate(groups):
            w = span * rel / total
            if s == "*":  # a graphic between groups, no character
                emblem(self.d, (x, y0, x + w, y1), self.rng, colour)
                x += w + span * gap / total
                continue
            if s == "-":  # a dash is a short bar at mid height, not a stretched glyph
                t = (y1 - y0) * 0.08
                self.d.rectangle([x + w * 0.2, (y0 + y1) / 2 - t, x + w * 0.8, (y0 + y1) / 2 + t], fill=colour)
                x += w + span * gap / total
                continue
            jitter = self.rng.uniform(0.85, 1.0)
            gw = w * jitter
            gx = x + (w - gw) / 2
            self.text(s, (gx, y0, gx + gw, y1), colour, arabic if arab else latin, rtl=arab)
            tokens += [s] if s == MOROCCO_WORD or arab else list(s)
            x += w
            if i < len(groups) - 1:
                if bars:
                    pad = (y1 - y0) * 0.05
                    self.bar(x + span * gap / total / 2, bar_colour or colour, y0 - pad, y1 + pad)
                x += span * gap / total
        return tokens


def _morocco_serial(rng):
    n = rng.choices([1, 2, 3, 4, 5], [2, 3, 8, 25, 62])[0]
    return str(rng.randint(10 ** (n - 1) if n > 1 else 1, 10 ** n - 1))


def morocco(rng):
    latin, arabic = rng.choice(LATIN_FONTS), rng.choice(ARABIC_FONTS)
    ink = (rng.randint(0, 40),) * 3
    bg = tuple(rng.randint(215, 255) for _ in range(3))
    kind = rng.choices(["std", "two", "ww", "gov", "cd", "old"], [60, 12, 10, 6, 6, 6])[0]
    serial, letter, code = _morocco_serial(rng), rng.choice(ARABIC_LETTERS), str(rng.randint(1, 89))
    if kind == "two":
        p = Plate(rng, 300, 220, bg, border=ink)
        top = [(letter, 1.0, True), (code, 0.5 * len(code), False)]
        if rng.random() < 0.5:
            top.reverse()
        t = p.row(top, 18, 100, 70, 230, ink, latin, arabic, gap=0.3, bars=True)
        b = p.row([(serial, 0.55 * len(serial), False)], 115, 205, 25, 275, ink, latin, arabic)
        return p, t + b, True
    p = Plate(rng, 520, 112, bg, border=ink if rng.random() < 0.8 else None)
    y0, y1 = rng.uniform(12, 22), rng.uniform(90, 100)
    if kind == "std":
        groups = [(serial, 0.5 * len(serial), False), (letter, 0.9, True), (code, 0.5 * len(code), False)]
        toks = p.row(groups, y0, y1, 28, 492, ink, latin, arabic, gap=rng.uniform(0.3, 0.6), bars=rng.random() < 0.92)
    elif kind == "ww":
        num = str(rng.randint(1, 999999))
        groups = [(num, 0.5 * len(num), False), ("WW", 1.3, False)]
        if rng.random() < 0.3:
            groups.reverse()
        toks = p.row(groups, y0, y1, 28, 492, ink, latin, arabic, gap=0.5)
    elif kind == "gov":
        num = str(rng.randint(1, 999999))
        groups = [(num, 0.5 * len(num), False), (MOROCCO_WORD, 2.2, True)]
        if rng.random() < 0.5:
            groups.reverse()
        toks = p.row(groups, y0, y1, 28, 492, ink, latin, arabic, gap=0.4, bars=rng.random() < 0.5)
    elif kind == "cd":
        a, b = str(rng.randint(1, 999)), str(rng.randint(1, 99))
        groups = [(a, 0.5 * len(a), False), ("CD", 1.1, False), (b, 0.5 * len(b), False)]
        p = Plate(rng, 520, 112, (20, 110, 60), border=(240, 240, 240))
        toks = p.row(groups, y0, y1, 28, 492, (245, 245, 245), latin, arabic, gap=0.4)
    else:  # old "1234-56 | 7"
        a, b, c = str(rng.randint(1, 9999)), str(rng.randint(1, 99)), str(rng.randint(1, 9))
        groups = [(a, 0.5 * len(a), False), ("-", 0.3, False), (b, 0.5 * len(b), False), (c, 0.5, False)]
        toks = p.row(groups, y0, y1, 28, 492, ink, latin, arabic, gap=0.3)
        toks = [t for t in toks if t != "-"]
    return p, toks, False


EU = {
    "F": lambda r: [letters(r, 2), "-", digits(r, 100, 999), "-", letters(r, 2)],
    "E": lambda r: [str(r.randint(0, 9999)).zfill(4), letters(r, 3, "BCDFGHJKLMNPRSTVWXYZ")],
    "D": lambda r: [letters(r, r.randint(1, 3)), letters(r, r.randint(1, 2)), digits(r, 1, 9999)],
    "I": lambda r: [letters(r, 2), digits(r, 100, 999), letters(r, 2)],
    "NL": lambda r: r.choice([[digits(r, 10, 99), "-", letters(r, 3), "-", digits(r, 1, 9)],
                               [letters(r, 2), "-", digits(r, 100, 999), "-", letters(r, 1)]]),
    "B": lambda r: [digits(r, 1, 9), "-", letters(r, 3), "-", digits(r, 100, 999)],
    "P": lambda r: [letters(r, r.randint(1, 3)), digits(r, 1000, 99999)],
}


def europe(rng):
    country = rng.choice(list(EU))
    groups = EU[country](rng)
    yellow = country == "NL" and rng.random() < 0.6 or rng.random() < 0.05
    bg = (250, 200, 20) if yellow else tuple(rng.randint(225, 255) for _ in range(3))
    ink = (170, 20, 30) if country == "B" else (rng.randint(0, 40),) * 3
    p = Plate(rng, 520, 112, bg, border=ink if rng.random() < 0.7 else None)
    band = rng.random() < 0.9
    x0 = 60 if band else 24
    if band:
        p.d.rectangle([4, 4, 50, 108], fill=(0, 50, 150))
        put(p.im, glyphs(country, "DejaVuSans-Bold.ttf", (255, 255, 255)), (10, 70, 44, 100))
        p.d.ellipse([16, 14, 38, 36], outline=(240, 200, 0), width=3)
    x1 = 470 if country == "F" and rng.random() < 0.7 else 500
    if x1 == 470:
        p.d.rectangle([474, 4, 516, 108], fill=(0, 50, 150))
    latin = rng.choice(LATIN_FONTS)
    spec = [(g, 0.3 if g == "-" else 0.52 * len(g), False) for g in groups]
    toks = p.row(spec, rng.uniform(14, 24), rng.uniform(88, 98), x0, x1, ink, latin, None, gap=0.35)
    return p, [t for t in toks if t != "-"], False


def brazil(rng):
    latin = rng.choice(LATIN_FONTS)
    if rng.random() < 1 - MERCOSUR_SHARE:  # old grey plate, city line on top
        p = Plate(rng, 520, 160, (rng.randint(150, 200),) * 3, border=(20, 20, 20))
        put(p.im, glyphs(rng.choice(["SAO PAULO - SP", "RIO DE JANEIRO - RJ", "CURITIBA - PR", "BELO HORIZONTE - MG"]),
                         latin, (30, 30, 30)), (90, 8, 430, 38))
        groups = [(letters(rng, 3), 1.6, False), ("-", 0.3, False), (digits(rng, 1000, 9999), 2.1, False)]
        toks = p.row(groups, 48, 150, 24, 496, (15, 15, 15), latin, None, gap=0.2)
    else:  # Mercosul
        p = Plate(rng, 520, 160, (250, 250, 250), border=(20, 20, 20))
        p.d.rectangle([5, 5, 515, 38], fill=(0, 60, 160))
        put(p.im, glyphs("BRASIL", "DejaVuSans-Bold.ttf", (255, 255, 255)), (200, 10, 320, 34))
        s = letters(rng, 3) + str(rng.randint(0, 9)) + letters(rng, 1) + digits(rng, 10, 99)
        toks = p.row([(s, 3.6, False)], 50, 150, 30, 490, (15, 15, 15), latin, None)
    return p, [t for t in toks if t != "-"], False


def usa(rng):
    latin = rng.choice(LATIN_FONTS)
    bg = rng.choice([(250, 250, 250), (240, 240, 200), (210, 230, 250), (250, 220, 120), (255, 255, 255)])
    ink = rng.choice([(20, 20, 90), (20, 20, 20), (120, 20, 20), (20, 80, 30)])
    p = Plate(rng, 400, 200, bg, border=ink if rng.random() < 0.5 else None)
    put(p.im, glyphs(rng.choice(["CALIFORNIA", "TEXAS", "NEW YORK", "FLORIDA", "OHIO", "ILLINOIS"]), latin, ink), (110, 10, 290, 45))
    s = rng.choice([letters(rng, 3) + " " + digits(rng, 1000, 9999), str(rng.randint(1, 9)) + letters(rng, 3) + digits(rng, 100, 999),
                    letters(rng, 3) + "-" + digits(rng, 100, 999)])
    groups = [(g, 0.55 * len(g), False) for g in s.replace("-", " ").split()]
    if US_EMBLEMS and len(groups) == 2 and rng.random() < US_EMBLEMS:
        groups.insert(1, ("*", rng.uniform(0.9, 1.5), False))
    toks = p.row(groups, 60, 170, 30, 370, ink, latin, None, gap=0.3)
    return p, toks, False


# Plate families drawn by `plate` and their weights; gen.py may change them (and the two
# options below) for a focused set. The defaults reproduce every earlier set bit for bit.
KIND_WEIGHTS = [55, 20, 15, 10]
# Share of Brazilian plates drawn as Mercosul (the rest old grey plates).
MERCOSUR_SHARE = 0.5
# Share of US plates with a graphic between their two groups (a state outline, a seal, a flag, a
# heart: real plates print one where `raqib eval plates` finds digits read into the gap).
US_EMBLEMS = 0.0


def plate(rng):
    kind = rng.choices([morocco, europe, brazil, usa], KIND_WEIGHTS)[0]
    return kind(rng)


def emblem(d, box, rng, ink):
    """Draws a graphic that is no character into `box`: a blob like a state outline, a seal, a
    striped flag, a heart or a star, filled or outlined, in the ink or a colour of its own."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    r = min(w * 0.6, h * rng.uniform(0.3, 0.45))
    colour = rng.choice([ink, (180, 30, 30), (30, 60, 160), (30, 120, 50), (230, 170, 20), (90, 90, 90)])
    fill, outline = (colour, None) if rng.random() < 0.6 else (None, colour)
    kind = rng.choice(["blob", "seal", "flag", "heart", "star"])
    if kind == "blob":
        pts = []
        for k in range(rng.randint(6, 11)):
            a = 2 * math.pi * k / 11 + rng.uniform(-0.2, 0.2)
            q = r * rng.uniform(0.6, 1.1)
            pts.append((cx + q * math.cos(a) * w / max(w, h) * 1.3, cy + q * math.sin(a)))
        d.polygon(pts, fill=fill, outline=outline, width=2)
    elif kind == "seal":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill, outline=outline or colour, width=max(2, int(r / 6)))
        d.ellipse([cx - r * 0.5, cy - r * 0.5, cx + r * 0.5, cy + r * 0.5], outline=(250, 250, 250), width=2)
    elif kind == "flag":
        fw, fh = r * 1.6, r * 1.1
        for k in range(5):
            c = colour if k % 2 == 0 else (250, 250, 250)
            d.rectangle([cx - fw / 2, cy - fh / 2 + k * fh / 5, cx + fw / 2, cy - fh / 2 + (k + 1) * fh / 5], fill=c)
        d.rectangle([cx - fw / 2, cy - fh / 2, cx - fw / 2 + fw * 0.4, cy], fill=(30, 60, 160))
    elif kind == "heart":
        q = r * 0.55
        d.ellipse([cx - 2 * q, cy - q * 1.5, cx, cy + q * 0.5], fill=colour)
        d.ellipse([cx, cy - q * 1.5, cx + 2 * q, cy + q * 0.5], fill=colour)
        d.polygon([(cx - 2 * q + 1, cy - q * 0.3), (cx + 2 * q - 1, cy - q * 0.3), (cx, cy + r)], fill=colour)
    else:
        pts = [(cx + (r if k % 2 == 0 else r * 0.45) * math.sin(math.pi * k / 5),
                cy - (r if k % 2 == 0 else r * 0.45) * math.cos(math.pi * k / 5)) for k in range(10)]
        d.polygon(pts, fill=fill, outline=outline, width=2)


def background(rng, w, h):
    base = tuple(rng.randint(0, 255) for _ in range(3))
    im = Image.new("RGB", (w, h), base)
    d = ImageDraw.Draw(im)
    for _ in range(rng.randint(0, 12)):
        c = tuple(max(0, min(255, b + rng.randint(-80, 80))) for b in base)
        x, y = rng.randint(0, w), rng.randint(0, h)
        if rng.random() < 0.5:
            d.rectangle([x, y, x + rng.randint(5, w), y + rng.randint(2, h // 2)], fill=c)
        else:
            d.line([x, y, rng.randint(0, w), rng.randint(0, h)], fill=c, width=rng.randint(1, 8))
    return im


def perspective_coeffs(src, dst):
    """Coefficients for PIL's PERSPECTIVE transform mapping output points `dst` to input `src`."""
    import numpy as np
    a = []
    b = []
    for (x, y), (u, v) in zip(dst, src):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b += [u, v]
    return np.linalg.solve(np.array(a, dtype=float), np.array(b, dtype=float)).tolist()


def sample(rng):
    p, tokens, two_rows = plate(rng)
    pw, ph = p.w, p.h
    margin_x, margin_y = int(pw * 0.35), int(ph * 0.8)
    W, H = pw + 2 * margin_x, ph + 2 * margin_y
    scene = background(rng, W, H)
    scene.paste(p.im.convert("RGB"), (margin_x, margin_y))
    # Perspective: move each plate corner a little, rotate a little.
    ang = math.radians(rng.gauss(0, 4))
    cx, cy = W / 2, H / 2
    corners = [(margin_x, margin_y), (margin_x + pw, margin_y), (margin_x + pw, margin_y + ph), (margin_x, margin_y + ph)]
    dst = []
    for (x, y) in corners:
        x += rng.gauss(0, pw * 0.03)
        y += rng.gauss(0, ph * 0.06)
        dx, dy = x - cx, y - cy
        dst.append((cx + dx * math.cos(ang) - dy * math.sin(ang), cy + dx * math.sin(ang) + dy * math.cos(ang)))
    coeffs = perspective_coeffs(corners, dst)
    scene = scene.transform((W, H), Image.PERSPECTIVE, coeffs, Image.BILINEAR)
    # Character box after the warp: map its corners from plate to scene.
    import numpy as np
    hmat = np.linalg.inv(np.array(coeffs + [1.0]).reshape(3, 3))
    bx0, by0, bx1, by1 = p.box
    pts = []
    for (x, y) in [(bx0, by0), (bx1, by0), (bx1, by1), (bx0, by1)]:
        v = hmat @ np.array([x + margin_x, y + margin_y, 1.0])
        pts.append((v[0] / v[2], v[1] / v[2]))
    xs, ys = [q[0] for q in pts], [q[1] for q in pts]
    return scene, (min(xs), min(ys), max(xs), max(ys)), tokens, two_rows
